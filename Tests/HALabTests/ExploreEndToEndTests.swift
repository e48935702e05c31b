import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabSystem

extension EndToEndTests {
    /// explore finds what the document's design does after adverts are blocked and let through
    /// again (the client blackholed by its stale ARP entry), keeps the two steps that make it,
    /// and writes a scenario that verify fails on again, with the history and the timeline;
    /// crashes and stopped services pass; nothing of any instance is left.
    @Test func exploreFindsTheStaleARPBlackholeAndWritesAScenarioThatReproducesIt() async throws {
        let before = try await E2E.hostSnapshot()
        let folder = try E2E.copy("master-backup", as: "e2e-explore")
        defer { E2E.removeCopy(folder) }
        let output = (folder as NSString).deletingLastPathComponent + "/explore"
        let lab = try Lab.load(folder: folder)
        // A seed whose two steps block adverts and let them through again.
        let seed = try #require((1...200 as ClosedRange<UInt64>).first { seed in
            let actions = FaultSchedule(lab: lab, seed: seed, steps: 2, faults: [.block]).actions
            return actions.count == 2 && actions[1].heals(actions[0])
        })
        let failing = try await E2E.runHalab(["explore", folder, "--runs", "1", "--steps", "2", "--faults", "block", "--seed", "\(seed)", "--output", output])
        #expect(failing.exitCode == 1, "\(failing.output)\n\(failing.errorOutput)")
        #expect(failing.output.contains("invariant stale-arp"), "\(failing.output)")
        #expect(failing.output.contains("0 of 1 runs passed, 1 failed"))
        let scenario = "\(output)/e2e-explore-run1.scenario.yaml"
        let steps = try lab.loadScenario(scenario).steps
        #expect(steps.count == 2 && steps[0].action?.description.hasPrefix("chaos block-multicast nginx-") == true, "\(steps.map(\.name))")
        let history = try String(contentsOfFile: "\(output)/e2e-explore-run1.history.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(history.contains { $0.contains("\"kind\":\"invariant\"") } && history.contains { $0.contains("\"kind\":\"probe\"") })
        #expect(FileManager.default.fileExists(atPath: "\(output)/e2e-explore-run1.html"))
        let again = try await E2E.runHalab(["verify", folder, "--scenario", scenario])
        #expect(again.exitCode == 1 && again.errorOutput.contains("✗ invariant stale-arp broken"), "\(again.errorOutput)")
        let passing = try await E2E.runHalab(["explore", folder, "--runs", "2", "--steps", "3", "--faults", "stop,kill", "--output", output])
        #expect(passing.exitCode == 0, "\(passing.output)\n\(passing.errorOutput)")
        #expect(passing.output.contains("2 of 2 runs passed, 0 failed"))
        #expect(try await E2E.hostSnapshot() == before)
    }
}
