import Foundation
import HALabSystem

/// `verify --report DIR`: one self-contained page per run, readable offline from a CI artifact:
/// the lab's picture, each step with its outcome and evidence (expected and seen, the model's
/// prediction, the invariants, the budget), the timeline with node lanes, the outages, links to
/// the pcaps, and the keepalived logs of each failed step.
public struct HTMLReport: ReportWriter {
    public var folder: String

    public init(folder: String) { self.folder = folder }

    public var evidenceFolder: String? { folder }

    public func write(_ evidence: RunEvidence, progress: @Sendable (String) -> Void) async throws {
        let report = evidence.report
        let timeline =
            evidence.timeline
            ?? Timeline(title: report.lab, addresses: [], samples: [], steps: [], bands: [], marks: [])
        let page = Self.page(
            report: report, graph: try? await LabGraph(lab: evidence.lab).svg(), timeline: timeline,
            measurements: report.measurements, captures: evidence.captures.map { Self.relative($0, to: folder) })
        try FileSystem.makeDirectory(folder)
        try FileSystem.write(page, to: "\(folder)/\(evidence.lab.name).report.html")
        progress("report: \(folder)/\(evidence.lab.name).report.html")
    }

    /// `path` as a link from a page in `folder`.
    static func relative(_ path: String, to folder: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: folder).standardizedFileURL.pathComponents
        let common = zip(target, base).prefix { $0 == $1 }.count
        return (Array(repeating: "..", count: base.count - common) + target[common...]).joined(separator: "/")
    }

    /// The page; `captures` relative to it.
    static func page(
        report: VerifyReport, graph: String?, timeline: Timeline,
        measurements: [(step: String, measurement: OutageMeasurement)],
        captures: [String]
    ) -> String {
        let e = Markup.escape
        var steps = ""
        for (index, step) in report.steps.enumerated() {
            var evidence = step.checks.map { check in
                "<li class=\(check.passed ? "ok" : "bad")>\(check.passed ? "✓" : "✗") \(e(check.expected.description)) "
                    + "— seen \(e(check.seen))"
                    + String(format: " after %.2f s (deadline %.1f s)", check.heldAfter, check.deadline) + "</li>"
            }
            if let predicted = step.predicted {
                let holders = predicted.holders.map { $0 ?? "no single server" }.joined(separator: ", ")
                evidence.append("<li>model: \(e(holders)), within \(String(format: "%.2f", predicted.bound)) s</li>")
            }
            evidence += step.unpredicted.map { "<li>model: \(e($0)) (not judged)</li>" }
            evidence += step.violations.map {
                "<li class=bad>✗ invariant \($0.invariant.rawValue): \(e($0.summary))</li>"
            }
            evidence += step.accepted.map { "<li>accepted \($0.invariant.rawValue): \(e($0.summary))</li>" }
            evidence += step.overBudget.map { "<li class=bad>✗ over budget: \(e($0))</li>" }
            evidence += (step.outages ?? []).map { "<li>outage: \(e($0.summary))</li>" }
            evidence += step.load.map { ["<li>under load: \(e($0.summary))</li>"] } ?? []
            evidence += step.connections.map {
                "<li\($0.passed ? "" : " class=bad")>\($0.passed ? "✓" : "✗") \(e($0.summary))</li>"
            }
            if let error = step.actionError { evidence.append("<li class=bad>✗ the action failed: \(e(error))</li>") }
            var logs = ""
            if !step.passed {
                for (node, lines) in (step.logs ?? [:]).sorted(by: { $0.key < $1.key }) {
                    logs +=
                        "<details open><summary>keepalived log of \(e(node))</summary><pre>"
                        + "\(e(lines.joined(separator: "\n")))</pre></details>"
                }
            }
            steps += """
                <section class=\(step.passed ? "passed" : "failed")><h3>\(index + 1). \(e(step.name)) — \
                \(step.passed ? "passed" : "FAILED")</h3>
                <p>\(e(step.action ?? "no action"))</p><ul>\(evidence.joined())</ul>\(logs)</section>

                """
        }
        let outages = measurements.map { step, m in
            "<tr><td>\(e(step))</td><td>\(e(m.summary))</td></tr>"
        }.joined()
        let pcaps = captures.map { "<li><a href=\"\(e($0))\">\(e($0))</a></li>" }.joined()
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>halab verify \(e(report.lab))</title>
            <style>
            body { font-family: sans-serif; margin: 24px; max-width: 1200px; }
            .passed { border-left: 6px solid #2a7a2a; padding-left: 10px; } .failed { border-left: 6px solid #d62728; \
            padding-left: 10px; }
            li.bad { color: #b00; } li.ok { color: #245; } pre { background: #f4f4f4; padding: 8px; overflow-x: auto; }
            svg { max-width: 100%; height: auto; } td { padding: 2px 8px; vertical-align: top; }
            </style></head><body>
            <h1>\(e(report.lab)): \(report.steps.count - report.failedSteps) passed, \(report.failedSteps) failed</h1>
            <p>backend \(e(report.backend)), \(String(format: "%.1f", report.seconds)) s</p>
            <h2>The lab</h2>\(graph ?? "<p>(no picture: Graphviz's dot is not installed)</p>")
            <h2>Steps</h2>
            \(steps)
            <h2>Timeline</h2>\(timeline.svg())
            <h2>Outages clients saw</h2><table>\(outages)</table>
            <h2>Captures</h2><ul>\(pcaps.isEmpty ? "<li>none</li>" : pcaps)</ul>
            </body></html>

            """
    }
}
