import Foundation
import Testing
@testable import HALab
@testable import HALabSystem

/// What `halab check` costs on generated worst cases (255 instances, each with a check of its
/// own): its peak memory, held to a ceiling. Its time is a benchmark's (`halab bench check`), so
/// it runs at the lowest CPU priority (nice 19): four of them at once would otherwise starve the
/// end-to-end tests' labs, whose outages are judged against budgets.
@Suite struct CheckCostTests {
    static let ceilingKiB = 1024 * 1024

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: E2E.halab), "needs halab built ('swift build')"),
        arguments: LabGenerator.CheckLoad.allCases)
    func checkStaysUnderItsMemoryCeiling(_ load: LabGenerator.CheckLoad) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("halab-cost-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let lab = try LabGenerator.checkLoad(load, instances: 255, in: scratch)
        // Ended at the ceiling (or after 15 minutes: it gets only the CPU no one else wants), a
        // check that grows without end fails here without taking the machine.
        let cost = try await ProgramCost.measure(
            "/usr/bin/nice", ["-n", "19", E2E.halab, "check", lab, "--no-keepalived", "--json"], seconds: 900,
            kibibytes: Self.ceilingKiB)
        #expect(cost.stopped == nil, "\(load.rawValue): \(cost.stopped ?? "")")
        // 0: nothing found; 1: findings or outage rows. Anything else (a crash, the OOM killer) fails.
        #expect([0, 1].contains(cost.exitCode), "exit \(cost.exitCode)")
        #expect(
            cost.peakKiB > 0 && cost.peakKiB <= Self.ceilingKiB,
            "\(load.rawValue): peak \(cost.peakKiB / 1024) MiB in \(cost.seconds) s")
        print(
            "check of \(load.rawValue) × 255: \(String(format: "%.1f", cost.seconds)) s, peak \(cost.peakKiB / 1024) "
                + "MiB"
        )
    }
}
