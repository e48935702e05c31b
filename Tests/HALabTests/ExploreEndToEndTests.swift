import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabSystem
import HALabModel

extension EndToEndTests {
    /// explore finds the outage of three-node with a check weight of -20 (nginx stopped on
    /// nginx-2, then on nginx-1: nginx-1 falls to 80, ties nginx-3, and keeps the VIP it cannot
    /// serve), keeps the two steps that make it, and writes a scenario that verify fails on
    /// again, with the history and the timeline; crashes and stopped services of the document's
    /// master-backup pass; nothing of any instance is left.
    @Test(.labs(2)) func exploreFindsADesignOutageAndWritesAScenarioThatReproducesIt() async throws {
        let folder = try E2E.copy("three-node", as: "e2e-explore")
        defer { E2E.removeCopy(folder) }
        for node in ["nginx-1", "nginx-2", "nginx-3"] {
            let config = "\(folder)/\(node)/etc/keepalived/keepalived.conf"
            let text = try String(contentsOfFile: config, encoding: .utf8)
            try text.replacingOccurrences(of: "weight -30", with: "weight -20").write(
                toFile: config, atomically: true, encoding: .utf8)
        }
        let output = (folder as NSString).deletingLastPathComponent + "/explore"
        let lab = try Lab.load(folder: folder)
        let stranding: [Fault] = [.stopService("nginx", node: "nginx-2"), .stopService("nginx", node: "nginx-1")]
        let seed = try #require(
            (1...400 as ClosedRange<UInt64>).first {
                FaultSchedule(lab: lab, seed: $0, steps: 2, faults: [.stop]).actions == stranding
            })
        try await E2E.withHost { host in
            let before = try await host.snapshot()
            let failing = try await host.halab([
                "explore", folder, "--runs", "1", "--steps", "2", "--faults", "stop", "--seed", "\(seed)", "--output",
                output
            ])
            #expect(failing.exitCode == 1, "\(failing.output)\n\(failing.errorOutput)")
            #expect(
                failing.output.contains("invariant answered") && failing.output.contains("(design outage)"),
                "\(failing.output)")
            #expect(failing.output.contains("0 of 1 runs passed, 1 failed"))
            let scenario = "\(output)/e2e-explore-run1.scenario.yaml"
            #expect(try lab.loadScenario(scenario).steps.compactMap(\.action) == stranding.map { .chaos($0) })
            let history = try String(contentsOfFile: "\(output)/e2e-explore-run1.history.jsonl", encoding: .utf8).split(
                separator: "\n")
            #expect(
                history.contains { $0.contains("\"kind\":\"invariant\"") }
                    && history.contains { $0.contains("\"kind\":\"probe\"") })
            #expect(FileManager.default.fileExists(atPath: "\(output)/e2e-explore-run1.html"))
            let again = try await host.halab(["verify", folder, "--scenario", scenario])
            let broken = again.errorOutput.contains("✗ invariant answered broken")
            #expect(again.exitCode == 1 && broken, "\(again.errorOutput)")
            let document = try E2E.copy("master-backup", as: "e2e-explore-mb")
            defer { E2E.removeCopy(document) }
            let passing = try await host.halab([
                "explore", document, "--runs", "2", "--steps", "3", "--faults", "stop,kill", "--output", output
            ])
            #expect(passing.exitCode == 0, "\(passing.output)\n\(passing.errorOutput)")
            #expect(passing.output.contains("2 of 2 runs passed, 0 failed"))
            E2E.expectUnchanged(before, try await host.snapshot())
        }
    }
}
