import HALabSystem

/// `verify --junit FILE`: JUnit XML, as CI systems read it.
public struct JUnitReport: ReportWriter {
    public var path: String

    public init(path: String) { self.path = path }

    public func write(_ evidence: RunEvidence, progress: @Sendable (String) -> Void) async throws {
        try FileSystem.write(Self.xml(evidence.report), to: path)
    }

    /// JUnit XML as CI systems read it: one test suite per lab, one test case per step.
    public static func xml(_ report: VerifyReport) -> String {
        let failures = report.steps.filter { !$0.passed }.count
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="halab verify" tests="\(report.steps.count)" failures="\(failures)" \
            time="\(seconds(report.seconds))">
              <testsuite name="\(Markup.escape(report.lab))" tests="\(report.steps.count)" failures="\(failures)"   \
            errors="0" skipped="0" time="\(seconds(report.seconds))">

            """
        for step in report.steps {
            xml +=
                "    <testcase classname=\"halab.\(Markup.escape(report.lab))\" name=\"\(Markup.escape(step.name))\" "
                + "time=\"\(seconds(step.seconds))\">\n"
            if !step.passed {
                let problems: [String?] = [
                    step.actionError,
                    step.checks.first { !$0.passed }.map { "expected \($0.expected); seen \($0.seen)" },
                    step.violations.first.map { "invariant \($0.invariant.rawValue): \($0.summary)" },
                    step.overBudget.first, step.connections.first { !$0.passed }?.summary
                ]
                let message = problems.compactMap { $0 }.first ?? ""
                var detail = step.checks.map {
                    "\($0.passed ? "ok" : "FAILED"): \($0.expected) — seen \($0.seen) after \(seconds($0.heldAfter)) s "
                        + "(deadline \(seconds($0.deadline)) s)"
                }
                detail += step.violations.map { "BROKEN invariant \($0.invariant.rawValue): \($0.summary)" }
                detail += step.overBudget.map { "OVER BUDGET: \($0)" }
                detail += step.load.map { ["under load: \($0.summary)"] } ?? []
                detail += step.connections.map { "\($0.passed ? "ok" : "FAILED"): \($0.summary)" }
                for (node, lines) in (step.logs ?? [:]).sorted(by: { $0.key < $1.key }) {
                    detail.append("keepalived log of \(node):")
                    detail += lines.map { "  \($0)" }
                }
                xml +=
                    "      <failure message=\"\(Markup.escape(message))\" type=\"AssertionFailure\">"
                    + "\(Markup.escape(detail.joined(separator: "\n")))</failure>\n"
            } else {
                let held =
                    step.checks.map { "\($0.expected): held after \(seconds($0.heldAfter)) s" }
                    + (step.outages ?? []).map { "outage: \($0.summary)" }
                    + (step.load.map { ["under load: \($0.summary)"] } ?? [])
                    + step.connections.map(\.summary)
                    + step.accepted.map { "accepted \($0.invariant.rawValue): \($0.summary)" }
                xml += "      <system-out>\(Markup.escape(held.joined(separator: "\n")))</system-out>\n"
            }
            xml += "    </testcase>\n"
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
}
