import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabSystem

extension EndToEndTests {
    /// Every row of master-backup's failure table live, six instances at a time, beside an
    /// instance of the same folder that stays up through it: each row agrees with the model,
    /// the JUnit report has a case per row, and nothing of any instance is left.
    @Test(.labs(E2E.pairsAtOnce + 1)) func allPairsRunsCheckTableLiveInInstances() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-pairs")
        defer { E2E.removeCopy(folder) }
        try await E2E.withHost { host in
            let before = try await host.snapshot()
            let kept = try await host.halab(["up", folder, "--name", "e2e-pairs-kept"])
            #expect(kept.exitCode == 0, "\(kept.errorOutput)")
            let junit = (folder as NSString).deletingLastPathComponent + "/pairs.junit.xml"
            let result = try await host.halab(["verify", folder, "--all-pairs", "--parallel", "\(E2E.pairsAtOnce)", "--junit", junit])
            #expect(result.exitCode == 0, "\(result.output)\n\(result.errorOutput)")
            #expect(result.output.contains("24 of 24 rows agree with the model; memory per instance: median "), "\(result.output)")
            #expect(result.output.contains("  kill nginx-1, then kill nginx-2 ") && result.errorOutput.contains("[24/24] "))
            let report = try String(contentsOfFile: junit, encoding: .utf8)
            #expect(report.contains("tests=\"24\"") && report.contains("failures=\"0\""))
            // The kept instance ran untouched beside them, under its own name.
            #expect(try await host.run("sh", ["-c", "ls -d /run/halab/*/journal"]).output == "/run/halab/e2e-pairs-kept/journal\n")
            let holder = try await host.halab(["curl", "--lab", "e2e-pairs-kept", "http://10.33.1.100"])
            #expect(holder.output == "nginx-1\n", "\(holder.errorOutput)")
            let down = try await host.halab(["down", "e2e-pairs-kept"])
            #expect(down.exitCode == 0, "\(down.errorOutput)")
            E2E.expectUnchanged(before, try await host.snapshot())
        }
    }
}
