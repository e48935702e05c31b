/// What `halab verify` prints last: the lab, how many steps passed and failed, how long it took,
/// and under load how many requests were sent and failed.
public struct TextReport: ReportWriter {
    public var print: @Sendable (String) -> Void

    public init(print: @escaping @Sendable (String) -> Void) { self.print = print }

    public func write(_ evidence: RunEvidence, progress: @Sendable (String) -> Void) async throws {
        let report = evidence.report
        let loads = report.steps.compactMap(\.load)
        let load =
            loads.isEmpty
            ? "" : "; under load \(loads.map(\.sent).reduce(0, +)) requests sent, "
                + "\(loads.map(\.failedCount).reduce(0, +)) failed"
        print(
            "\(report.lab): \(report.steps.count - report.failedSteps) passed, \(report.failedSteps) failed in "
                + "\(String(format: "%.2f s", report.seconds))\(load)"
        )
    }
}
