import Foundation

/// Whether an expectation held, how long it took, and what was last seen.
public struct Outcome: Sendable {
    public var passed: Bool
    /// Seconds until the expectation held (or until the deadline passed).
    public var elapsed: Double
    /// The last look, summarised.
    public var seen: String
}

/// One look at the lab for a polled expectation: whether it holds now, and what was seen.
struct Look: Sendable {
    var holds: Bool
    var seen: String
}

/// Judges expectations against a running lab: each kind by its own check (`Checks.swift`),
/// looked at again and again until it holds or its deadline passes, or judged once on its
/// samples where polling would wear a statistical bound away.
public struct ExpectationEngine: Sendable {
    public let session: LabSession

    public init(session: LabSession) { self.session = session }

    public func await(_ expectation: Expectation, deadline: Double) async throws -> Outcome {
        switch expectation {
        case .answer(let request, let status, let server, let body):
            return try await poll(deadline: deadline) {
                try await AnswerCheck(request: request, status: status, server: server, body: body).look(session)
            }
        case .fails(let request):
            return try await poll(deadline: deadline) {
                try await AnswerCheck(request: request, fails: true).look(session)
            }
        case .every(let request, let name, let samples):
            return try await poll(deadline: deadline) {
                try await EveryCheck(request: request, name: name, samples: samples).look(session)
            }
        case .mix(let request, let names, let samples):
            return try await MixCheck(request: request, names: names, samples: samples).judge(session)
        case .holders(let vip, let nodes, let throughout):
            return try await poll(deadline: deadline, holdFor: throughout) {
                try await HolderCheck(vip: vip, nodes: nodes).look(session)
            }
        case .singleHolder(let vip, let window):
            return try await poll(deadline: deadline, holdFor: window, failFast: true) {
                try await HolderCheck(vip: vip, nodes: nil).look(session)
            }
        case .pingLoss(let from, let address, let percent, let samples):
            return try await PingLossCheck(from: from, address: address, percent: percent, samples: samples).judge(
                session)
        case .takeovers(let vip, let preferred, let percent, let seconds):
            return try await TakeoverCheck(vip: vip, preferred: preferred, percent: percent, seconds: seconds).judge(
                session)
        }
    }

    /// Looks until the expectation holds or `deadline` seconds pass. With `holdFor`, once it
    /// holds it must keep holding until `holdFor` seconds after the start; with `failFast`, one
    /// look where it does not hold fails it.
    func poll(deadline: Double, holdFor: Double? = nil, failFast: Bool = false, look: () async throws -> Look)
        async throws -> Outcome
    {
        let clock = ContinuousClock()
        let start = clock.now
        var heldSince: Double?
        while true {
            let seen = try await look()
            let elapsed = (clock.now - start).seconds
            if failFast && !seen.holds { return Outcome(passed: false, elapsed: elapsed, seen: seen.seen) }
            if let holdFor {
                if let since = heldSince, !seen.holds {
                    return Outcome(
                        passed: false, elapsed: elapsed,
                        seen: "\(seen.seen) after holding from \(String(format: "%.2f", since)) s")
                }
                if seen.holds && heldSince == nil { heldSince = elapsed }
                if let since = heldSince, elapsed >= holdFor {
                    return Outcome(passed: true, elapsed: since, seen: seen.seen)
                }
                if heldSince == nil && elapsed >= deadline {
                    return Outcome(passed: false, elapsed: elapsed, seen: seen.seen)
                }
            } else if seen.holds || elapsed >= deadline {
                return Outcome(passed: seen.holds, elapsed: elapsed, seen: seen.seen)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
