import Foundation
import HALabBackends
import HALabSystem

/// A scenario run in a fresh instance of a lab, as `--all-pairs` and `explore` run theirs: up,
/// every step judged by its expectations and the invariants, a last look, down (however it ends).
struct InstanceRun: Sendable {
    let lab: Lab
    let backend: any LabBackend

    struct Outcome: Sendable {
        var report: VerifyReport
        /// Each VIP's holders at the end.
        var holders: [String: [String]]
        /// The proportional set size of the instance's processes at the end, MiB.
        var memoryMiB: Double
        var timeline: Timeline
    }

    func run(_ scenario: Scenario, as name: String) async throws -> Outcome {
        var instance = try lab.instance(named: name)
        instance.scenario = scenario
        do {
            let (session, _) = try await LabSession.up(instance, backend: backend) { _ in }
            let report = try await Verifier.run(session, progress: { _ in })
            let holders = Dictionary(
                uniqueKeysWithValues: try await session.vipHolders().map { ($0.address, $0.nodes) })
            let kib = instance.topology.nodes.flatMap { backend.processes(name, node: $0.name) }.map(\.proportionalKiB)
                .reduce(0, +)
            let timeline = Verifier.timeline(report, session: session)
            try await backend.down(name)
            return Outcome(report: report, holders: holders, memoryMiB: Double(kib) / 1024, timeline: timeline)
        } catch {
            _ = try? await backend.down(name)
            throw error
        }
    }
}
