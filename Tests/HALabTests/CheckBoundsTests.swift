import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// check never hangs and never cries wolf: every program it runs is bounded, and what keepalived
/// goes on after is no error.
@Suite struct CheckBoundsTests {
    @Test func aProgramPastItsLimitIsKilledWithWhatItStarted() async throws {
        let quick = try #require(
            try await Command.run("sh", ["-c", "echo out; echo err >&2; exit 3"], limit: .seconds(5)))
        #expect(quick.exitCode == 3 && quick.output == "out\n" && quick.errorOutput == "err\n")
        // A shell that started a child of its own: both end at the limit.
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("halab-limit-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let late = try await Command.run(
            "sh", ["-c", "sleep 30 & echo $! > \(marker); wait"], limit: .milliseconds(500))
        #expect(late == nil)
        let child = try #require(
            Int32((try String(contentsOfFile: marker, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines))
        )
        try await Task.sleep(for: .milliseconds(100))
        let state = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8))?.split(separator: ")").last?
            .split(separator: " ").first
        #expect(state == nil || state == "Z", "the child \(child) still runs: \(state ?? "")")
    }

    @Test func keepalivedPastTheLimitIsOneFindingAndTheRestStays() {
        let findings = CheckRun.findings(
            nil, node: "nginx-1", file: "lab/nginx-1/etc/keepalived/keepalived.conf", labPath: { $0 })
        #expect(
            findings.map { "\($0.severity) \($0.location ?? "") \($0.message)" } == [
                "error lab/nginx-1/etc/keepalived/keepalived.conf nginx-1: keepalived -t did not finish in 10 s (halab "
                    + "stopped it): keepalived would hang reading this config"
            ])
    }

    /// keepalived logs a stray brace once per parsing pass: check shows each line once.
    @Test func keepalivedsRepeatedLinesAreShownOnce() {
        let lines = ["(Line 4) Extra '}' found", "(Line 4) Unknown keyword '}'"]
        let result = KeepalivedConfigTest.Result(exitCode: 5, messages: lines + lines + lines + lines)
        let findings = CheckRun.findings(result, node: "n", file: "k.conf", labPath: { $0 })
        #expect(
            findings.map { "\($0.severity) \($0.location ?? "") \($0.message)" } == [
                "error k.conf:4 Extra '}' found", "error k.conf:4 Unknown keyword '}'"
            ])
    }

    /// keepalived 2.2.7 says "Unknown keyword '}'" of a stray brace and goes on: a warning.
    @Test func aBraceThatClosesNoBlockIsAWarning() {
        let config = KeepalivedConfig.parse(
            "global_defs {\n router_id a\n}\n}\nvrrp_instance V {\n virtual_router_id 5\n}\n", file: "k.conf")
        #expect(config.findings.map { "\($0.severity) \($0.location ?? "")" } == ["warning k.conf:4"])
        #expect(config.items.map { $0.words.first ?? "" } == ["global_defs", "vrrp_instance"])
    }

    /// `halab check` on a config keepalived loops on: halab's own reading names the chain, and
    /// keepalived's test is stopped at its limit; the JSON is written all the same.
    @Test(
        .enabled(
            if: KeepalivedConfigTest.unavailable == nil && FileManager.default.isExecutableFile(atPath: E2E.halab),
            "needs root, keepalived and halab built (CI has them)"))
    func checkOfAConfigKeepalivedLoopsOnReturnsWithBoth() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-selfref-\(UUID().uuidString).conf"
        ).path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try
            ("$IF=$IF\nvrrp_instance VI_1 {\n interface $IF\n virtual_router_id 51\n virtual_ipaddress {\n 10.0.0.1\n "
                + "}\n}\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await E2E.runHalab(["check", file, "--json"])
        #expect(result.exitCode == 1)
        let report = try JSONDecoder().decode(ConfigCheck.Report.self, from: Data(result.output.utf8))
        #expect(
            report.findings.contains {
                $0.source == .halab && $0.location == "\(file):3"
                    && $0.message.hasPrefix("parameter $IF → $IF refers to itself")
            })
        #expect(
            report.findings.contains {
                $0.source == .keepalived && $0.message.contains("keepalived -t did not finish in 10 s")
            }, "\(report.findings)")
    }
}
