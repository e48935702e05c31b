/// Times `up` and `down` of a lab, and splits `up` into halab's share and keepalived's.
public enum UpDownBenchmark {
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

    public static func run(_ lab: Lab, backend: NamespaceBackend) async throws -> Run {
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
        let vipAssigned = (try await assigned - start).seconds
        var memory: [String: Int] = [:]
        for node in lab.topology.nodes {
            memory[node.name] = backend.processes(lab.name, node: node.name).map(\.proportionalKiB).reduce(0, +)
        }
        let downStart = clock.now
        try await backend.down(lab.name)
        return Run(nodesStarted: convergence.started, vipAssigned: vipAssigned, answered: convergence.answered,
                   down: (clock.now - downStart).seconds, memoryKiB: memory)
    }

    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
