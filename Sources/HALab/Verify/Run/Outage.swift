import HALabBackends
import HALabModel
import HALabSystem

/// What clients saw around one fault, from the probe's record, next to what the timers allow.
public struct OutageMeasurement: Sendable, Codable, Equatable {
    public var address: String
    /// The client it was seen from, where it is not the lab's first (a vantage point).
    public var vantage: String?
    /// When halab began to make the fault (seconds since the epoch), and how long it took
    /// until the fault was in place (a crashed node once it is dark: its processes reaped, or a
    /// VM's cables pulled; a revived VM once it has booted).
    public var faultAt: Double
    public var faultTook: Double
    /// Start of the last good answer before the first failure and of the last failure, and
    /// when the first good answer after it came back; nil when nothing failed. The answer's end,
    /// not its start: a request sent during the outage may be answered after it, once its SYN,
    /// retransmitted, reaches the new holder.
    public var lastGoodBefore: Double?
    public var lastFailure: Double?
    public var firstGoodAfter: Double?
    /// The node answering before the fault and the one answering at the end.
    public var from: String?
    public var to: String?
    public var failed: Int
    /// Good answers, once the outage was over, from a node other than the expected one.
    public var unexpected: Int
    /// Changes of the answering node after the fault beyond the one failover itself.
    public var flaps: Int
    /// What the VRRP timers allow for this fault, seconds.
    public var bound: Double
    /// The probe's mean gap between requests to this address, seconds.
    public var interval: Double

    /// The address, and the client it was seen from where that is not the lab's first.
    public var label: String { ProbeSample.label(address, from: vantage) }

    /// The outage clients saw: last good answer before to first good answer after.
    public var window: Double { (firstGoodAfter ?? 0) - (lastGoodBefore ?? 0) }
    /// From the fault being in place until clients were answered again.
    public var recovery: Double { firstGoodAfter.map { max(0, $0 - faultAt - faultTook) } ?? 0 }
    /// How precisely the probe saw the end of the outage: the gap between the last failed
    /// request and the first good one.
    public var resolution: Double { (firstGoodAfter ?? 0) - (lastFailure ?? 0) }
    /// Whether the outage ended within the timers' bound, as far as the probe can tell.
    public var withinBound: Bool { failed == 0 || (firstGoodAfter != nil && recovery <= bound + resolution) }

    /// Said when clients saw a longer outage than `budget` seconds; nil within it.
    public func overBudget(_ budget: Double) -> String? {
        guard failed > 0 else { return nil }
        guard firstGoodAfter != nil else {
            return
                "\(label): clients got no good answer after the action, over the budget of \(format(budget)) (VRRP "
                    + "bound \(format(bound)))"
        }
        guard window > budget else { return nil }
        return
            "\(label): clients saw \(format(window)) of outage, over the budget of \(format(budget)) (VRRP bound "
                + "\(format(bound)))"
    }

    public var summary: String {
        let route = "\(from ?? "nobody") → \(to ?? "nobody")"
        guard firstGoodAfter != nil || failed == 0 else {
            return "\(label): no good answer after the fault (\(failed) failed); bound \(format(bound))"
        }
        var parts = [
            "\(label): \(route)",
            failed == 0
                ? "no request failed"
                : "outage \(format(window)) (recovered \(format(recovery)) after the fault was in place, bound "
                    + "\(format(bound)))",
            "\(failed) failed"
        ]
        if unexpected > 0 { parts.append("\(unexpected) answers from the wrong node") }
        if flaps > 0 { parts.append("\(flaps) flaps") }
        return parts.joined(separator: ", ")
    }

    /// The summary, marked where the outage outlasted the timers' bound.
    public var judged: String { summary + (withinBound ? "" : "  ← OVER THE TIMER BOUND") }

    func format(_ seconds: Double) -> String { String(format: "%.3f s", seconds) }

    /// Measures the outage on `address` around a fault begun at `faultAt` and in place `took`
    /// seconds later, looking at the requests started from one second before it until `until`.
    public static func measure(
        _ samples: [ProbeSample], address: String, faultAt: Double, took: Double = 0,
        until: Double, expected: String?, bound: Double
    ) -> OutageMeasurement {
        // A request still in flight when the next action came is that action's to judge (a slow
        // server, such as a software-emulated VM, may die with it half answered).
        let own = samples.filter { $0.address == address && $0.start >= faultAt - 1 && $0.end < until }
        let before = own.filter { $0.start < faultAt }
        let after = own.filter { $0.start >= faultAt }
        let gaps = zip(own.dropFirst(), own).map { $0.start - $1.start }
        var measurement = OutageMeasurement(
            address: address, faultAt: faultAt, faultTook: took, lastGoodBefore: nil, lastFailure: nil,
            firstGoodAfter: nil,
            from: before.last(where: \.ok)?.answer, to: after.last(where: \.ok)?.answer,
            failed: after.filter { !$0.ok }.count, unexpected: 0, flaps: 0, bound: bound,
            interval: gaps.isEmpty ? 0 : gaps.reduce(0, +) / Double(gaps.count))
        var settled = after
        if let firstFailure = after.first(where: { !$0.ok }), let lastFailure = after.last(where: { !$0.ok }) {
            measurement.lastGoodBefore = own.last { $0.ok && $0.start < firstFailure.start }?.start
            measurement.lastFailure = lastFailure.start
            measurement.firstGoodAfter = after.first { $0.ok && $0.start > lastFailure.start }?.end
            settled = after.filter { $0.start > lastFailure.start }
        }
        // Once the expected node has answered, an answer from any other is wrong (a flap back).
        if let expected {
            if let first = settled.first(where: { $0.ok && $0.answer == expected }) {
                settled = settled.filter { $0.start > first.start }
            }
            measurement.unexpected = settled.filter { $0.ok && $0.answer != expected }.count
        }
        let answers = after.filter(\.ok).map(\.answer)
        let changes = zip(answers.dropFirst(), answers).filter { $0 != $1 }.count
        let failover = (measurement.from != nil && answers.first != measurement.from) ? 1 : 0
        measurement.flaps = max(0, changes + failover - (measurement.from != measurement.to ? 1 : 0))
        return measurement
    }
}

extension Verifier {
    /// Each action's outage per VIP and client, from the probe's record: until the next action.
    static func measureOutages(_ report: inout VerifyReport, session: LabSession) {
        let addresses = session.lab.virtualAddresses.map(\.address)
        let end = report.samples.last?.start ?? 0
        for index in report.steps.indices where report.steps[index].action != nil {
            let step = report.steps[index]
            let until = report.steps.dropFirst(index + 1).first { $0.action != nil }?.at ?? end
            let (bound, expected) = step.predicted ?? (session.lab.settleBound, [])
            report.steps[index].outages = session.lab.vantages.flatMap { vantage in
                let seen = report.samples.filter { $0.vantage == vantage }
                let reached = session.lab.addresses(seenFrom: vantage)
                return addresses.enumerated().filter { reached.contains($0.element) }.map { offset, address in
                    var outage = OutageMeasurement.measure(
                        seen, address: address, faultAt: step.at, took: step.took, until: until,
                        expected: offset < expected.count ? expected[offset] : nil, bound: bound)
                    outage.vantage = vantage
                    return outage
                }
            }
        }
        let gaps = report.steps.compactMap(\.outages).flatMap { $0 }.map(\.interval).filter { $0 > 0 }
        report.probeInterval = gaps.isEmpty ? nil : gaps.reduce(0, +) / Double(gaps.count)
    }

    /// Each action's outage from each client, side by side (`--timeline` prints them for one).
    static func printOutages(_ report: VerifyReport, progress: @Sendable (String) -> Void) {
        progress("outages from each client (probe every 10 ms):")
        for step in report.steps {
            guard let outages = step.outages else { continue }
            progress("  \(step.name):")
            for outage in outages { progress("    \(outage.judged)") }
        }
    }
}
