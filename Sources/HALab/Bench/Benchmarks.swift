import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// What `halab bench` measures: `up` and `down` (halab's share split from keepalived's), the
/// outage each fault costs, and the probe against keepalived itself.
public enum Benchmarks {
    public struct Run: Sendable {
        /// From the start of `up` until every node's services were started (keepalived running).
        public var nodesStarted: Double
        /// Until the first VIP was set on its holder's interface by keepalived.
        public var vipAssigned: Double
        /// Until every VIP answered a curl from the client: when `up` returns.
        public var answered: Double
        public var down: Double
        /// Per node, proportional set size of all its processes, KiB.
        public var memoryKiB: [String: Int]

        /// What halab itself costs: everything before keepalived runs, plus noticing the answer.
        public var harnessShare: Double { nodesStarted + (answered - vipAssigned) }
        /// keepalived's own election, from its start (at the latest) to setting the VIP.
        public var electionShare: Double { vipAssigned - nodesStarted }
    }

    public static func run(_ lab: Lab, backend: any LabBackend) async throws -> Run {
        guard let (address, holder) = lab.healthyHolders.first else {
            throw HALabError.usage("lab '\(lab.name)' has no VIP to time")
        }
        let clock = ContinuousClock()
        let start = clock.now
        async let assigned = backend.whenAddressAppears(lab.name, node: holder, address: address)
        let convergence: LabSession.Convergence
        do {
            (_, convergence) = try await LabSession.up(lab, backend: backend) { _ in }
        } catch {
            _ = try? await assigned  // the watcher ends with the namespace
            throw error
        }
        let vipAssigned: Double
        do {
            vipAssigned = (try await assigned - start).seconds
        } catch {
            try await backend.down(lab.name)
            throw error
        }
        var memory: [String: Int] = [:]
        for node in lab.topology.nodes {
            memory[node.name] = backend.processes(lab.name, node: node.name).map(\.proportionalKiB).reduce(0, +)
        }
        let downStart = clock.now
        try await backend.down(lab.name)
        return Run(
            nodesStarted: convergence.started, vipAssigned: vipAssigned, answered: convergence.answered,
            down: (clock.now - downStart).seconds, memoryKiB: memory)
    }

    /// Each fault made `runs` times on a running lab and mended again, the outage measured each
    /// time by the probe. The lab must be up and healthy; it is left so.
    public static func outages(_ session: LabSession, faults: [(make: Fault, mend: Fault)], runs: Int)
        async throws -> [(fault: Fault, runs: [OutageMeasurement])]
    {
        var results: [(Fault, [OutageMeasurement])] = []
        let healthy = session.lab.healthyHolders
        for (make, mend) in faults {
            var measured: [OutageMeasurement] = []
            for _ in 0..<runs {
                if let first = try await session.measure(make).first { measured.append(first) }
                try await session.perform(mend)
                for (address, node) in healthy {
                    let back = Expectation.answer(Request(address: address, from: try session.client()), body: node)
                    guard
                        try await ExpectationEngine(session: session).await(
                            back, deadline: session.lab.settleBound + Verifier.slack + 5
                        ).passed
                    else {
                        throw HALabError.notConverged("\(address) did not come back to \(node) after '\(mend)'")
                    }
                }
                try await Task.sleep(for: .seconds(1))
            }
            results.append((make, measured))
        }
        return results
    }

    /// The probe against keepalived itself: the time the VIP appeared on the backup's
    /// interface (keepalived setting it, seen by `ip monitor`) and the probe's first good answer.
    /// Returns that lag and the crash's outage window.
    public static func probeLag(_ session: LabSession, crash node: String, backup: String)
        async throws -> (lag: Double, window: Double)
    {
        guard let address = session.lab.virtualAddresses.first?.address else { throw HALabError.usage("no VIP") }
        async let appeared = session.backend.whenAddressAppears(session.lab.name, node: backup, address: address)
        try await Task.sleep(for: .milliseconds(200))  // the watcher is running
        let measurement = try await session.measure(.kill(node: node))
        let vipSet = try await appeared
        try await session.perform(.revive(node: node))
        let back = Expectation.answer(Request(address: address, from: try session.client()), body: node)
        _ = try await ExpectationEngine(session: session).await(
            back, deadline: session.lab.settleBound + Verifier.slack)
        guard let firstGood = measurement.first?.firstGoodAfter else {
            throw HALabError.notConverged("no good answer after the crash")
        }
        // Both clocks are this machine's: the probe's CLOCK_REALTIME, and ours when ip monitor printed.
        let vipSetAt = Date.now.timeIntervalSince1970 - (ContinuousClock.now - vipSet).seconds
        return (firstGood - vipSetAt, measurement[0].window)
    }

    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
