import Foundation
import Testing
@testable import HALab
@testable import HALabBackends

extension EndToEndTests {
    /// The document's scenario under 200 requests a second: every step's requests counted, the
    /// expectations all still held; the crash step's failed requests are the rate times the
    /// outage the probe measured (within 25 %), and a failure budget of 0 fails it, saying how
    /// many failed of how many. Alone: under a starved CPU the load itself falls behind its rate.
    @Test(.alone(EndToEndTests.budgeted)) func loadThroughTheDocumentsScenario() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-load")
        defer { E2E.removeCopy(folder) }
        let json = (folder as NSString).deletingLastPathComponent + "/load.json"
        let result = try await E2E.runHalab(["verify", folder, "--load", "200", "--max-failed", "0", "--json", json])
        let report = try JSONDecoder().decode(VerifyReport.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(result.exitCode == 1, "\(result.output)\n\(result.errorOutput)")
        for step in report.steps {
            let load = try #require(step.load, "\(step.name)")
            // About 200 a second from its start to the next step's (the last: to the run's end).
            #expect(load.sent >= Int(step.seconds * 200 * 0.8), "\(step.name): \(load.summary) in \(step.seconds) s")
            #expect(step.checks.allSatisfy(\.passed) && step.violations.isEmpty, E2E.whyFailed(step))
            #expect(step.passed == (load.failedCount == 0), "\(step.name): \(load.summary)")
            #expect(result.errorOutput.contains("  load in '\(step.name)': \(load.summary)"))
        }
        #expect(report.steps[0].load?.failedCount == 0 && report.steps[0].passed)
        let crash = try #require(report.steps.first { $0.name.hasPrefix("nginx-1 crashes") })
        let outage = try #require(crash.outages?.first).window
        let failed = Double(crash.load?.failedCount ?? 0)
        #expect(
            outage > 3 && abs(failed - 200 * outage) <= 0.25 * 200 * outage,
            "\(failed) failed in an outage of \(outage) s")
        #expect(
            result.errorOutput.contains(
                "✗ over the failure budget in '\(crash.name)': requests: \(Int(failed)) of \(crash.load!.sent) failed"),
            "\(result.errorOutput)")
    }
}

extension EndToEndTests {
    /// A keep-alive connection held across each step of labs/master-backup/connections.yaml, live:
    /// it lives through a reload of the master's keepalived and a crash of the backup, and breaks
    /// when the master crashes and when it takes the VIP back, as the model says each time.
    @Test func heldConnectionsLiveAndBreakAsTheModelSays() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-connections")
        defer { E2E.removeCopy(folder) }
        let json = (folder as NSString).deletingLastPathComponent + "/connections.json"
        let result = try await E2E.runHalab(["verify", folder, "--scenario", "connections.yaml", "--json", json])
        #expect(result.exitCode == 0, "\(result.output)\n\(result.errorOutput)")
        let report = try JSONDecoder().decode(VerifyReport.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        let held = report.steps.compactMap { step in step.connections.first.map { (step.name, $0) } }
        #expect(held.map(\.1.seen.fate) == [.survive, .survive, .break, .break], "\(held)")
        #expect(held.map(\.1.predicted) == [.survive, .survive, .break, .break], "\(held)")
        // The crash broke it after the action, not before: it was open when the action came.
        #expect(held.count == 4 && (held[2].1.endedAfter ?? -1) >= 0, "\(held)")
        for (_, connection) in held {
            #expect(result.errorOutput.contains("✓ \(connection.summary)"), "\(result.errorOutput)")
        }
    }
}
