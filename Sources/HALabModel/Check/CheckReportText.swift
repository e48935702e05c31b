import Foundation

extension ConfigCheck.WorstOutage {
    var text: String {
        switch self {
        case .seconds(let seconds): String(format: "up to %.2f s", seconds)
        case .untilMended: "until a failure is mended"
        case .unknown: "depends on what the model cannot know"
        }
    }
}

extension ConfigCheck.Row {
    /// Each VIP and its holders, `10.33.1.100 → nginx-2`.
    var holdersText: String {
        holders.sorted { $0.key < $1.key }.map {
            "\($0.key) → \($0.value.isEmpty ? "nobody" : $0.value.joined(separator: "+"))"
        }
        .joined(separator: ", ")
    }

    /// Each VIP's held connection: `break`, `survive` or `unknown`, in the order of the VIPs.
    var connectionsText: String {
        holders.keys.sorted().map { connections[$0]?.rawValue ?? "unknown" }.joined(separator: ", ")
    }

    /// What the row means for clients, in one word or phrase (the legend's).
    var verdict: String {
        !outages.isEmpty
            ? "OUTAGE: " + outages.joined(separator: "; ")
            : !depends.isEmpty
                ? depends.joined(separator: "; ")
                : !unservable.isEmpty ? "nothing can serve \(unservable.joined(separator: ", "))" : "ok"
    }

    /// A pair of failures after which nothing can serve: every node that could has failed,
    /// which no design survives. Shown only when asked (`--all`).
    var isBothFailed: Bool {
        failures.count > 1 && outages.isEmpty && depends.isEmpty && !unservable.isEmpty && !overBudget
    }
}

extension ConfigCheck.Report {
    /// For a terminal: the findings with their file:line, then the table under a header and a
    /// legend: every single failure, then the pairs, but those after which nothing can serve
    /// unless `all`.
    public func text(all: Bool = false) -> String {
        var lines = ["lab \(lab): \(findings.count) findings"]
        for finding in findings {
            let by = finding.source == .keepalived ? "keepalived: " : ""
            lines.append(
                "  \(finding.severity.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) "
                    + "\(finding.location.map { "\($0): " } ?? "")\(by)\(finding.message)"
            )
        }
        let shown = rows.filter { all || !$0.isBothFailed }
        let names = shown.map { $0.failures.joined(separator: ", then ") }
        let holders = shown.map(\.holdersText)
        let connections = shown.map(\.connectionsText)
        let (nameWidth, holderWidth, connectionsWidth) = (
            (names + ["failure"]).map(\.count).max() ?? 0, (holders + ["VIP → holder"]).map(\.count).max() ?? 0,
            (connections + ["connections"]).map(\.count).max() ?? 0
        )
        let line = { (name: String, holders: String, connections: String, verdict: String) in
            "  " + name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                + holders.padding(toLength: holderWidth, withPad: " ", startingAt: 0) + "  "
                + connections.padding(toLength: connectionsWidth, withPad: " ", startingAt: 0) + "  " + verdict
        }
        lines.append(
            "failures (\(rows.count) rows): each failure, then each pair on two nodes; who holds each VIP after, and "
                + "what clients get"
        )
        lines.append(
            "  → the VIP's holder after the failures (nobody: none); ok: a node that can serve holds it; nothing can "
                + "serve: every node"
        )
        lines.append(
            "  that could has failed; OUTAGE: it sits where it cannot serve, or on two nodes, while another could; "
                + "depends on: unknown to the model"
        )
        lines.append(
            "  connections: what becomes of a client's connection open to the VIP's holder (through it, where the "
                + "VIP is a route's gateway) across the failures (break: the new holder resets or drops it)"
        )
        lines.append(line("failure", "VIP → holder", "connections", "clients"))
        for (index, row) in shown.enumerated() {
            lines.append(
                line(names[index], holders[index], connections[index], row.verdict)
                    + (row.overBudget ? "  OVER BUDGET: \(row.worstOutage.text)" : ""))
        }
        let hidden = rows.count - shown.count
        if hidden > 0 {
            lines.append(
                "  (\(hidden) pairs after which nothing can serve, as no design can, not shown: --all shows them)")
        }
        if let budget {
            lines.append(
                "\(rows.filter(\.overBudget).count) rows may cut clients off longer than the budget of "
                    + "\(String(format: "%.2f", budget)) s"
            )
        }
        let depending = rows.filter { $0.outages.isEmpty && !$0.depends.isEmpty }.count
        lines.append(
            "\(findings.filter { $0.severity == .error }.count) errors, \(rows.filter { !$0.outages.isEmpty }.count) "
                + "outage rows"
                + (depending > 0 ? ", \(depending) rows that depend on what the model cannot know" : ""))
        return lines.joined(separator: "\n")
    }
}
