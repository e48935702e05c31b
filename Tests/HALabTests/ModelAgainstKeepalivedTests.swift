import Foundation
import Testing
@testable import HALab
@testable import HALabSystem

extension EndToEndTests {
    /// keepalived 2.2.7 refuses to start with an instance on an interface its node lacks (the
    /// model once predicted a split brain there): the lab does not come up, with keepalived's
    /// own words, and nothing is left; check names the line, and the model never gives that
    /// node the VIP.
    @Test func anInstanceOnAnInterfaceTheNodeLacksKeepsKeepalivedFromStarting() async throws {
        let folder = try E2E.copy(
            "master-backup", as: "e2e-no-eth0",
            scenario: """
                steps:
                  - { name: healthy, expect: model }
                  - { name: nginx-1 crashes, chaos: kill nginx-1, expect: model }
                """)
        defer { E2E.removeCopy(folder) }
        let config = "\(folder)/nginx-2/etc/keepalived/keepalived.conf"
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try text.replacingOccurrences(of: "interface eth1", with: "interface eth0").write(
            toFile: config, atomically: true, encoding: .utf8)
        try await E2E.withHost { host in
            let before = try await host.snapshot()
            let verify = try await host.halab(["verify", folder])
            #expect(verify.exitCode == 1)
            #expect(
                verify.errorOutput.contains("'rc-service keepalived start on nginx-2' failed"), "\(verify.errorOutput)")
            #expect(verify.errorOutput.contains("Non-existent interface specified in configuration"))
            E2E.expectUnchanged(before, try await host.snapshot())
        }
        let check = try await E2E.runHalab(["check", folder, "--no-keepalived"])
        #expect(
            check.output.contains("keepalived.conf:13: vrrp_instance VI_1 runs on eth0, but ")
                && check.output.contains("keepalived 2.2.7 refuses to start"),
            "\(check.output)")
        // The table's columns are as wide as its widest row: compare a row's words, not its spacing.
        let rows = check.output.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(rows.contains { $0.hasPrefix("kill nginx-1 10.33.1.100 → nobody ") }, "\(check.output)")
    }
}
