import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// `halab verify LAB --all-pairs`: every row of check's failure table (each single failure,
/// each ordered pair on two nodes) run live, each in a fresh instance of the lab, `parallel` at
/// a time. A row is a scenario of its failures, each step `expect: model`, so it agrees when
/// the live holders and the client's curl are what the model predicts.
public struct AllPairsRun: Sendable {
    public var lab: Lab
    public var backend: any LabBackend
    public var parallel: Int
    /// The kinds of failure the table is made of (`--faults`).
    public var kinds: Set<Fault.Kind>
    /// The part of the table this run takes (`--shard K/N`).
    public var shard: Shard

    public init(
        lab: Lab, backend: any LabBackend, parallel: Int, kinds: Set<Fault.Kind> = Fault.Kind.allPairsDefault,
        shard: Shard = .whole
    ) {
        self.lab = lab
        self.backend = backend
        self.parallel = max(1, parallel)
        self.kinds = kinds
        self.shard = shard
    }

    public struct Row: Sendable, Codable {
        /// Its place in check's failure table, from 0: the same in every shard.
        public var index = 0
        public var failures: [String]
        /// Each VIP's holders: as the model predicts, and as seen live once the row had settled.
        public var predicted: [String: [String]]
        public var live: [String: [String]] = [:]
        public var steps: [VerifyReport.StepResult] = []
        public var seconds: Double = 0
        /// The proportional set size of the instance's processes, MiB.
        public var memoryMiB: Double = 0
        /// Why the row could not be run (its instance did not come up, say).
        public var error: String?
        /// The checks held, and every broken invariant is an outage the model predicts too.
        public var agrees: Bool {
            error == nil
                && steps.allSatisfy {
                    $0.actionError == nil && $0.checks.allSatisfy(\.passed)
                        && $0.violations.allSatisfy(\.isDesignOutage)
                }
        }
    }

    public struct Report: Sendable, Codable {
        /// The halab that wrote it.
        public var halab: String? = HALabVersion.current
        public var lab: String
        public var backend: String
        public var parallel: Int
        public var seconds: Double
        public var rows: [Row]
        /// Which part of the table this is, of how many rows in all, of which lab folder (its
        /// content hash) and kinds of failure: what `halab report merge` checks.
        public var shard = Shard.whole
        public var tableRows = 0
        public var labHash = ""
        public var faults: [Fault.Kind] = []
        public var passed: Bool { rows.allSatisfy(\.agrees) }

        /// As a verify report, one step per row, for the JUnit and JSON writers.
        public var verifyReport: VerifyReport {
            VerifyReport(
                lab: lab, backend: backend, seconds: seconds,
                steps: rows.map { row in
                    var step = VerifyReport.StepResult(name: row.failures.joined(separator: ", then "), action: nil)
                    step.checks = row.steps.flatMap(\.checks)
                    step.actionError = row.error ?? row.steps.compactMap(\.actionError).first
                    // A row agrees through an outage the model predicts too; any other breaks it.
                    step.violations = row.steps.flatMap(\.violations).filter { !$0.isDesignOutage }
                    step.seconds = row.seconds
                    return step
                })
        }

        /// check's failure table with the live holders and whether the row agreed.
        public func text() -> String {
            let part = shard == .whole ? "" : " (shard \(shard) of its \(tableRows))"
            var lines = [
                "\(lab): \(rows.count) rows of check's failure table\(part) run live, \(parallel) at a time, in "
                    + String(format: "%.1f s", seconds)
            ]
            for row in rows {
                let addresses = row.predicted.keys.sorted()
                let holders = { (map: [String: [String]]) in
                    addresses.map { address in
                        let holders = map[address] ?? []
                        return "\(address) → \(holders.isEmpty ? "nobody" : holders.joined(separator: "+"))"
                    }.joined(separator: "; ")
                }
                lines.append(
                    "  " + row.failures.joined(separator: ", then ").padded(46) + "model "
                        + holders(row.predicted).padded(28)
                        + "live " + (row.error == nil ? holders(row.live) : "-").padded(28)
                        + (row.agrees ? "agrees" : "DISAGREES"))
                // Why a row disagrees: each failed check, failed action and broken invariant.
                for step in row.steps {
                    for check in step.checks where !check.passed {
                        lines.append("      \(check.expected): seen \(check.seen)")
                    }
                    if let error = step.actionError { lines.append("      \(step.name): the action failed: \(error)") }
                    for violation in step.violations where !violation.isDesignOutage {
                        let invariant = violation.invariant.rawValue
                        lines.append("      \(step.name): invariant \(invariant) broken: \(violation.summary)")
                    }
                }
                if let error = row.error { lines.append("      \(error)") }
            }
            let memory = rows.map(\.memoryMiB).filter { $0 > 0 }
            lines.append(
                "\(rows.filter(\.agrees).count) of \(rows.count) rows agree with the model"
                    + (memory.isEmpty
                        ? ""
                        : String(
                            format: "; memory per instance: median %.1f MiB (proportional set size)",
                            Benchmarks.median(memory))))
            return lines.joined(separator: "\n")
        }
    }

    /// The instance a row runs in.
    public func instanceName(_ row: Int) -> String { "\(lab.name)-r\(row + 1)" }

    /// The failure table's rows.
    public var sequences: [[Fault]] { ConfigCheck.failureSequences(lab.vrrpModel(), kinds: kinds) }

    /// The rows this shard runs, by their index in the table.
    public var shardRows: [Int] { sequences.indices.filter(shard.contains) }

    public func run(progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        let clock = ContinuousClock()
        let start = clock.now
        let sequences = self.sequences
        let mine = sequences.indices.filter(shard.contains)
        var rows = [Int: Row]()
        try await withThrowingTaskGroup(of: (Int, Row).self) { group in
            var next = 0
            func startNext() {
                guard next < mine.count else { return }
                let index = mine[next]
                next += 1
                group.addTask { (index, try await run(sequences[index], as: instanceName(index))) }
            }
            for _ in 0..<parallel { startNext() }
            var done = 0
            while let (index, row) = try await group.next() {
                rows[index] = row
                rows[index]?.index = index
                done += 1
                progress(
                    "[\(done)/\(mine.count)] \(row.failures.joined(separator: ", then ")): "
                        + (row.agrees ? "agrees" : "DISAGREES") + String(format: " (%.1f s)", row.seconds))
                startNext()
            }
        }
        return Report(
            lab: lab.name, backend: backend.kind, parallel: parallel, seconds: (clock.now - start).seconds,
            rows: rows.sorted { $0.key < $1.key }.map(\.value), shard: shard, tableRows: sequences.count,
            labHash: lab.contentHash,
            faults: Fault.Kind.allCases.filter(kinds.contains))
    }

    /// One row in its own instance. Cancelled (an interrupt), it still takes its instance down.
    func run(_ failures: [Fault], as name: String) async throws -> Row {
        let clock = ContinuousClock()
        let start = clock.now
        var worlds = VRRPWorlds(lab.vrrpModel())
        for event in failures.flatMap({ $0.events(nodes: lab.topology.nodes.map(\.name)) }) { worlds.apply(event) }
        var row = Row(
            failures: failures.map(\.description),
            predicted: Dictionary(
                uniqueKeysWithValues: worlds.virtualAddresses.compactMap { address in
                    worlds.holders(of: address).map { (address, $0) }
                }))
        do {
            let scenario = FaultSchedule(actions: failures).scenario
            let outcome = try await InstanceRun(lab: lab, backend: backend).run(scenario, as: name)
            (row.steps, row.live, row.memoryMiB) = (outcome.report.steps, outcome.holders, outcome.memoryMiB)
        } catch {
            if error is CancellationError { throw error }
            row.error = (error as? HALabError)?.description ?? "\(error)"
        }
        row.seconds = (clock.now - start).seconds
        return row
    }
}
