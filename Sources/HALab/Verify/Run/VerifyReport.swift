import Foundation
import HALabBackends
import HALabModel

/// What `halab verify` found: per step, the action and each expectation's outcome.
public struct VerifyReport: Sendable, Codable {
    /// The halab that wrote it.
    public var halab: String? = HALabVersion.current
    public var lab: String
    public var backend: String
    public var seconds: Double
    public var steps: [StepResult]
    /// The probe's mean gap between requests to one VIP, when a probe ran (`--timeline`).
    public var probeInterval: Double?
    /// The probe's record and the load's; kept out of the JSON report (they have their own files).
    public var samples: [ProbeSample] = []
    public var loadSamples: [ProbeSample] = []
    public var passed: Bool { steps.allSatisfy(\.passed) }
    public var failedSteps: Int { steps.filter { !$0.passed }.count }

    enum CodingKeys: String, CodingKey { case halab, lab, backend, seconds, steps, probeInterval }

    public struct StepResult: Sendable, Codable {
        public var name: String
        public var action: String?
        /// When the action was begun (seconds since the epoch), and how long it took.
        public var at: Double = 0
        public var took: Double = 0
        /// What the probe saw around the action, per VIP, with the timers' bound.
        public var outages: [OutageMeasurement]?
        /// Set when the action itself failed.
        public var actionError: String?
        /// The model's bound for the action and its expected holder per VIP (nil: no single one).
        var predicted: (bound: Double, holders: [String?])?
        /// The longest outage the model expects clients to see after the action (no move, none).
        var predictedOutage = 0.0
        /// The VIPs the model cannot predict after the step, each with what it depends on: no
        /// check and no invariant judges them.
        public var unpredicted: [String] = []

        /// What the model says of the step, for its invariants.
        var model: StepModel?

        enum CodingKeys: String, CodingKey {
            case name, action, at, took, outages, actionError, seconds, checks, logs, violations, accepted, unpredicted,
                overBudget, cpuWait, load, connections
        }
        public var seconds: Double = 0
        public var checks: [CheckResult] = []
        /// The last keepalived log lines of the lab's nodes, kept when the step failed.
        public var logs: [String: [String]]?
        /// Invariants the step broke; those its scenario accepts, apart.
        public var violations: [Violation] = []
        public var accepted: [Violation] = []
        /// What clients felt under load in the step (`--load`, a scenario's `load:`).
        public var load: LoadFigures?
        /// The connections held open across the step (`connections:`), each judged.
        public var connections: [HeldConnectionResult] = []
        /// Each VIP whose outage after the action was longer than the step's budget, and the
        /// requests under load beyond the step's failure budget, each said with both.
        public var overBudget: [String] = []
        /// The share of the step during which some task of the machine waited for a CPU (the
        /// kernel's pressure stall information): how busy the machine was while it was timed.
        public var cpuWait: Double?
        public var passed: Bool {
            actionError == nil && checks.allSatisfy(\.passed) && violations.isEmpty && overBudget.isEmpty
                && connections.allSatisfy(\.passed)
        }
    }

    public struct CheckResult: Sendable, Codable {
        /// What the step expected (its JSON: the expectation's kind and fields; its text: its words).
        public var expected: Expectation
        public var seen: String
        public var passed: Bool
        /// Seconds from the step's action until the expectation held.
        public var heldAfter: Double
        public var deadline: Double
    }
}

extension VerifyReport {
    /// Each step's outages, as the probe measured them.
    public var measurements: [(step: String, measurement: OutageMeasurement)] {
        steps.flatMap { step in (step.outages ?? []).map { (step.name, $0) } }
    }
}
