import Foundation

extension ConfigCheck.WorstOutage {
    var text: String {
        switch self {
        case .seconds(let seconds): String(format: "up to %.2f s", seconds)
        case .untilMended: "until a failure is mended"
        case .unknown: "unknown"
        }
    }
}

extension ConfigCheck.Report {
    /// For a terminal: the findings with their file:line, then a row per failure sequence.
    public func text() -> String {
        var lines = ["lab \(lab): \(findings.count) findings"]
        for finding in findings {
            let by = finding.source == .keepalived ? "keepalived: " : ""
            lines.append("  \(finding.severity.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(finding.location.map { "\($0): " } ?? "")\(by)\(finding.message)")
        }
        lines.append("failures (\(rows.count) rows), predicted holders:")
        for row in rows {
            let holders = row.holders.sorted { $0.key < $1.key }
                .map { "\($0.key) → \($0.value.isEmpty ? "nobody" : $0.value.joined(separator: "+"))" }.joined(separator: ", ")
            let verdict = !row.outages.isEmpty ? "OUTAGE: " + row.outages.joined(separator: "; ")
                : !row.depends.isEmpty ? row.depends.joined(separator: "; ")
                : !row.unservable.isEmpty ? "nothing can serve \(row.unservable.joined(separator: ", "))" : "ok"
            lines.append("  \(row.failures.joined(separator: ", then ").padding(toLength: 48, withPad: " ", startingAt: 0)) \(holders)  \(verdict)"
                         + (row.overBudget ? "  OVER BUDGET: \(row.worstOutage.text)" : ""))
        }
        if let budget {
            lines.append("\(rows.filter(\.overBudget).count) rows may cut clients off longer than the budget of \(String(format: "%.2f", budget)) s")
        }
        let depending = rows.filter { $0.outages.isEmpty && !$0.depends.isEmpty }.count
        lines.append("\(findings.filter { $0.severity == .error }.count) errors, \(rows.filter { !$0.outages.isEmpty }.count) outage rows"
                     + (depending > 0 ? ", \(depending) rows depend on what the model cannot know" : ""))
        return lines.joined(separator: "\n")
    }
}
