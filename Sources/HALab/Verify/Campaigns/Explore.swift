import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// `halab explore`: random fault schedules run against fresh instances of a lab, every step
/// judged by the model and the invariants. A failing schedule is shrunk (steps dropped, a
/// fault with its mend) to a shortest one that still fails, written as a scenario that
/// `halab verify LAB --scenario FILE` runs again, with its history and timeline.
public struct Explore: Sendable {
    public var lab: Lab
    public var backend: any LabBackend
    public var runs: Int
    public var seed: UInt64
    public var steps: Int
    public var faults: [Fault.Kind]
    public var parallel: Int
    /// Where a failing run's files go.
    public var output: String
    /// The runs this one takes (`--shard K/N`): run N's seed is the seed plus N − 1 in every shard.
    public var shard: Shard

    public init(
        lab: Lab, backend: any LabBackend, runs: Int, seed: UInt64, steps: Int, faults: [Fault.Kind], parallel: Int,
        output: String,
        shard: Shard = .whole
    ) {
        (self.lab, self.backend, self.runs, self.seed, self.steps) = (lab, backend, runs, seed, steps)
        (self.faults, self.parallel, self.output, self.shard) = (faults, max(1, parallel), output, shard)
    }

    /// The runs this shard takes, by index.
    public var shardRuns: [Int] { (0..<runs).filter(shard.contains) }

    public struct RunResult: Sendable {
        public var run: Int
        public var seed: UInt64
        public var schedule: FaultSchedule
        public var passed: Bool
        /// What failed first: a check, an action or an invariant.
        public var failure: String?
        public var shrunk: FaultSchedule?
        public var files: [String] = []
        public var seconds: Double
    }

    public func instanceName(_ run: Int) -> String { "\(lab.name)-x\(run + 1)" }

    public func run(progress: @escaping @Sendable (String) -> Void) async throws -> [RunResult] {
        let mine = shardRuns
        var results: [Int: RunResult] = [:]
        try await withThrowingTaskGroup(of: RunResult.self) { group in
            var next = 0
            func startNext() {
                guard next < mine.count else { return }
                let index = mine[next]
                next += 1
                group.addTask { try await explore(index) }
            }
            for _ in 0..<parallel { startNext() }
            var done = 0
            while let result = try await group.next() {
                results[result.run] = result
                done += 1
                progress(
                    "[\(done)/\(mine.count)] run \(result.run + 1) (seed \(result.seed)): "
                        + (result.passed ? "passed" : "FAILED: \(result.failure ?? "")")
                        + String(format: " (%.1f s)", result.seconds))
                startNext()
            }
        }
        return results.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The run's JSON report: what `halab report merge` joins across shards.
    public func report(_ results: [RunResult], seconds: Double) -> ExploreReport {
        ExploreReport(
            lab: lab.name, labHash: lab.contentHash, shard: shard, runs: runs, seed: seed, steps: steps,
            faults: faults.map(\.rawValue),
            seconds: seconds,
            results: results.map { result in
                ExploreReport.Run(
                    run: result.run, seed: result.seed, schedule: result.schedule.actions.map(\.description),
                    passed: result.passed,
                    failure: result.failure, shrunk: result.shrunk?.actions.map(\.description), files: result.files,
                    seconds: result.seconds)
            })
    }

    /// One run: its schedule, and if it fails, the shrinking and the files.
    func explore(_ index: Int) async throws -> RunResult {
        let clock = ContinuousClock()
        let start = clock.now
        let runSeed = seed &+ UInt64(index)
        let schedule = FaultSchedule(lab: lab, seed: runSeed, steps: steps, faults: faults)
        let name = instanceName(index)
        var (failure, outcome) = try await attempt(schedule, as: name)
        var result = RunResult(
            run: index, seed: runSeed, schedule: schedule, passed: failure == nil, failure: failure?.description,
            seconds: 0)
        if let original = failure {
            var smallest = schedule
            // Drop one step at a time, last first; keep each drop that leaves a valid schedule
            // failing the same way (the same invariant or expectation, on the same kind of step).
            var position = smallest.actions.count - 1
            while position >= 0, smallest.actions.count > 1 {
                let candidate = smallest.dropping(position)
                if candidate.isValid {
                    let (candidateFailure, candidateOutcome) = try await attempt(candidate, as: name)
                    if let candidateFailure, candidateFailure.sameKind(as: original) {
                        (smallest, failure, outcome) = (candidate, candidateFailure, candidateOutcome ?? outcome)
                    }
                }
                position = min(position - 1, smallest.actions.count - 1)
            }
            result.shrunk = smallest
            result.failure = failure?.description
            if let outcome {
                result.files = try write(index, schedule: smallest, original: schedule, seed: runSeed, outcome: outcome)
            }
        }
        result.seconds = (clock.now - start).seconds
        return result
    }

    /// What failed first in a run: the kind of step (its action's first word), what failed in
    /// it (the action, an expectation, or an invariant by name), and in words.
    struct Failure: Equatable {
        var stepKind: String
        var what: String
        var description: String

        func sameKind(as other: Failure) -> Bool { stepKind == other.stepKind && what == other.what }
    }

    /// The schedule run once: what failed first (nil: it passed), and the run.
    func attempt(_ schedule: FaultSchedule, as name: String) async throws -> (Failure?, InstanceRun.Outcome?) {
        do {
            let outcome = try await InstanceRun(lab: lab, backend: backend).run(schedule.scenario, as: name)
            guard let index = outcome.report.steps.firstIndex(where: { !$0.passed }) else { return (nil, outcome) }
            let step = outcome.report.steps[index]
            let kind = schedule.actions[index].description.split(separator: " ").first.map(String.init) ?? ""
            if let error = step.actionError {
                return (Failure(stepKind: kind, what: "action", description: "step '\(step.name)': \(error)"), outcome)
            }
            if let check = step.checks.first(where: { !$0.passed }) {
                return (
                    Failure(
                        stepKind: kind, what: "expectation",
                        description: "step '\(step.name)': expected \(check.expected), seen \(check.seen)"), outcome
                )
            }
            let violation = step.violations.first
            return (
                Failure(
                    stepKind: kind, what: "invariant \(violation?.invariant.rawValue ?? "")",
                    description:
                        "step '\(step.name)': invariant \(violation?.invariant.rawValue ?? ""): "
                            + "\(violation?.summary ?? "")"
                ), outcome
            )
        } catch let error as HALabError {
            return (Failure(stepKind: "", what: "run", description: "the run: \(error.description)"), nil)
        }
    }

    /// The shrunk schedule as a scenario, the run's history as JSON lines, its timeline.
    func write(
        _ index: Int, schedule: FaultSchedule, original: FaultSchedule, seed: UInt64, outcome: InstanceRun.Outcome
    ) throws -> [String] {
        try FileSystem.makeDirectory(output)
        let base = "\(output)/\(lab.name)-run\(index + 1)"
        try FileSystem.write(
            schedule.yaml(
                comment: """
                    halab explore \(lab.name), run \(index + 1) (seed \(seed)), shrunk from \(original.actions.count) \
                    steps to \(schedule.actions.count):
                    halab verify \(lab.name) --scenario \(base).scenario.yaml
                    """), to: "\(base).scenario.yaml")
        try FileSystem.write(History.lines(outcome.report), to: "\(base).history.jsonl")
        try FileSystem.write(outcome.timeline.html(measurements: []), to: "\(base).html")
        return ["\(base).scenario.yaml", "\(base).history.jsonl", "\(base).html"]
    }
}

/// A run as JSON lines: every step and its outcome, every probe request, with times.
enum History {
    struct Line: Encodable {
        var time: Double
        var kind: String
        var step: String?
        var action: String?
        var detail: String?
        var address: String?
        var status: Int?
        var answer: String?
        var end: Double?
        var passed: Bool?
        /// A probe's client, where it is not the lab's first.
        var vantage: String?
    }

    static func lines(_ report: VerifyReport) throws -> String {
        var lines: [Line] = []
        for step in report.steps {
            lines.append(
                Line(
                    time: step.at, kind: "step", step: step.name, action: step.action, detail: step.actionError,
                    passed: step.passed))
            for check in step.checks {
                lines.append(
                    Line(
                        time: step.at + check.heldAfter, kind: "check", step: step.name,
                        detail: "\(check.expected); seen \(check.seen)", passed: check.passed))
            }
            for violation in step.violations + step.accepted {
                lines.append(
                    Line(
                        time: violation.from, kind: "invariant", step: step.name, detail: violation.summary,
                        address: violation.address,
                        end: violation.to, passed: step.accepted.contains(violation)))
            }
        }
        lines += report.samples.map {
            Line(
                time: $0.start, kind: "probe", address: $0.address, status: $0.status, answer: $0.answer, end: $0.end,
                vantage: $0.vantage)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try lines.sorted { $0.time < $1.time }.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
            .joined(separator: "\n") + "\n"
    }
}

/// What an explore (or one shard of it) found, as JSON: each run with its seed, its schedule
/// and, where it failed, the shrunk schedule and its files.
public struct ExploreReport: Sendable, Codable {
    public struct Run: Sendable, Codable, Equatable {
        public var run: Int
        public var seed: UInt64
        public var schedule: [String]
        public var passed: Bool
        public var failure: String?
        public var shrunk: [String]?
        public var files: [String]
        public var seconds: Double
    }

    /// The halab that wrote it.
    public var halab: String? = HALabVersion.current
    public var lab: String
    public var labHash: String
    public var shard: Shard
    /// Runs in all, over every shard, and how they were drawn.
    public var runs: Int
    public var seed: UInt64
    public var steps: Int
    public var faults: [String]
    public var seconds: Double
    public var results: [Run]
    public var passed: Bool { results.allSatisfy(\.passed) }

    /// The table explore ends with.
    public func text() -> String {
        var lines = ["run  seed                  steps  result   shrunk  first failure"]
        for result in results {
            lines.append(
                String(result.run + 1).padded(5) + String(result.seed).padded(22)
                    + String(result.schedule.count).padded(7)
                    + (result.passed
                        ? "passed   -       -"
                        : "FAILED   \(String(result.shrunk?.count ?? 0).padded(8))\(result.failure ?? "")"))
            for file in result.files { lines.append("       \(file)") }
        }
        let failed = results.filter { !$0.passed }.count
        lines.append("\(results.count - failed) of \(results.count) runs passed, \(failed) failed")
        return lines.joined(separator: "\n")
    }
}
