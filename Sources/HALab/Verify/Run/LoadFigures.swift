import Foundation
import HALabBackends

/// What clients felt under load in one step: every request begun from the step's start until
/// the next step's.
public struct LoadFigures: Sendable, Codable, Equatable {
    public var sent: Int
    /// The failed requests by kind.
    public var failed: [RequestFailure: Int]
    /// The good answers' latency, seconds: the median, the 99th percentile and the longest; nil
    /// when none came.
    public var p50: Double?
    public var p99: Double?
    public var max: Double?
    /// Seconds from the step's start to the first and the last failed request's start.
    public var firstFailure: Double?
    public var lastFailure: Double?
    /// The requests the model expects to fail where the step moves a VIP: the rate times its
    /// bound on the outage.
    public var expected: Int?

    public var failedCount: Int { failed.values.reduce(0, +) }

    /// The figures of the requests in `samples` begun in [`from`, `until`).
    public static func measure(_ samples: [ProbeSample], from: Double, until: Double) -> LoadFigures {
        let own = samples.filter { $0.start >= from && $0.start < until }
        let failures = own.filter { $0.failure != nil }
        let latencies = own.filter(\.ok).map { $0.end - $0.start }.sorted()
        return LoadFigures(
            sent: own.count,
            failed: Dictionary(failures.map { ($0.failure!, 1) }, uniquingKeysWith: +),
            p50: percentile(0.5, of: latencies), p99: percentile(0.99, of: latencies), max: latencies.last,
            firstFailure: failures.first.map { $0.start - from }, lastFailure: failures.last.map { $0.start - from })
    }

    /// The nearest-rank percentile of sorted values: the smallest one with at least `share` of
    /// them at or below it.
    static func percentile(_ share: Double, of sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted[Swift.max(0, Int((share * Double(sorted.count)).rounded(.up)) - 1)]
    }

    /// "1130 sent, 57 failed (54 refused, 3 reset); latency p50 1.2 ms, p99 3.4 ms, max 9.9 ms"
    public var summary: String {
        var text = "\(sent) sent, \(failedCount) failed"
        if failedCount > 0 { text += " (\(kinds))" }
        if let p50, let p99, let max {
            let latency = [("p50", p50), ("p99", p99), ("max", max)].map { "\($0) \(Self.milliseconds($1))" }
            text += "; latency " + latency.joined(separator: ", ")
        }
        if let expected { text += "; the model's bound on the outage: about \(expected) failed" }
        return text
    }

    /// "54 refused, 3 reset"
    var kinds: String {
        failed.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
    }

    static func milliseconds(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

    /// Said when more requests failed than `budget` allows; nil within it.
    public func overBudget(_ budget: FailureBudget) -> String? {
        guard !budget.allows(failed: failedCount, of: sent) else { return nil }
        return "requests: \(failedCount) of \(sent) failed (\(kinds)), over the budget of \(budget); failures began "
            + String(format: "%.2f s and ended %.2f s", firstFailure ?? 0, lastFailure ?? 0) + " after the step began"
    }

    /// Said when the 99th percentile of the good answers is slower than `seconds`, or none came;
    /// nil within it.
    public func overLatencyBudget(_ seconds: Double) -> String? {
        guard let p99 else {
            return "latency: no request was answered, against a p99 budget of \(Self.milliseconds(seconds))"
        }
        guard p99 > seconds else { return nil }
        return "latency: p99 \(Self.milliseconds(p99)) over \(sent - failedCount) answers, over the budget of "
            + "\(Self.milliseconds(seconds)); the slowest \(Self.milliseconds(max ?? p99))"
    }
}

extension LoadFigures {
    /// The requests the model expects to fail in a step under `rate` a second to each VIP: the
    /// rate times its bound on the outage, for each VIP the step's action moves to a holder that
    /// serves it; nil where it moves none, hands each over at once, or leaves one where nothing
    /// serves it (an outage until mended).
    static func expected(in step: VerifyReport.StepResult, rate: Double?) -> Int? {
        guard let rate, step.predictedOutage > 0, let predicted = step.predicted, !predicted.holders.contains(nil),
            let moved = step.model?.moves?.values.filter({ $0 > 0 }).count, moved > 0
        else { return nil }
        return Int((rate * step.predictedOutage).rounded(.up)) * moved
    }
}

extension Verifier {
    /// Each step's requests under load, and its budgets on them (`max-failed`, `max-p99`) judged.
    static func measureLoad(
        _ report: inout VerifyReport, samples: [ProbeSample], scenario: Scenario, progress: @Sendable (String) -> Void
    ) {
        for index in report.steps.indices {
            let until = index + 1 < report.steps.count ? report.steps[index + 1].at : .infinity
            var figures = LoadFigures.measure(samples, from: report.steps[index].at, until: until)
            figures.expected = LoadFigures.expected(in: report.steps[index], rate: scenario.load?.rate)
            report.steps[index].load = figures
            progress("  load in '\(report.steps[index].name)': \(figures.summary)")
            guard index < scenario.steps.count else { continue }
            let step = scenario.steps[index]
            let judged = [
                ("failure", step.maxFailed.flatMap(figures.overBudget)),
                ("latency", step.maxP99.flatMap(figures.overLatencyBudget))
            ]
            for (budget, over) in judged {
                guard let over else { continue }
                report.steps[index].overBudget.append(over)
                progress("  ✗ over the \(budget) budget in '\(report.steps[index].name)': \(over)")
            }
        }
    }
}

extension RequestFailure: CodingKeyRepresentable {}
