import Foundation
import HALabSystem

/// `halab report merge`: the JSON reports of the shards of one `verify --all-pairs` or one
/// `explore`, joined into the report of the whole run, once it is clear they are all of it: one
/// kind of run, one lab folder (its content hash), the same table or draw, every shard once.
public enum ReportMerge {
    public enum Merged: Sendable {
        case allPairs(AllPairsRun.Report)
        case explore(ExploreReport)

        public var passed: Bool {
            switch self {
            case .allPairs(let report): report.passed
            case .explore(let report): report.passed
            }
        }

        public func text() -> String {
            switch self {
            case .allPairs(let report): report.text()
            case .explore(let report): report.text()
            }
        }

        public func json() throws -> String {
            switch self {
            case .allPairs(let report): try JSONReport.text(report)
            case .explore(let report): try JSONReport.text(report)
            }
        }

        public func junit() -> String {
            switch self {
            case .allPairs(let report): return JUnitReport.xml(report.verifyReport)
            case .explore(let report):
                var verify = VerifyReport(lab: report.lab, backend: "explore", seconds: report.seconds, steps: [])
                verify.steps = report.results.map { run in
                    var step = VerifyReport.StepResult(
                        name: "run \(run.run + 1) (seed \(run.seed))", action: run.schedule.joined(separator: "; "))
                    step.actionError =
                        run.passed
                        ? nil
                        : [run.failure, run.shrunk.map { "shrunk to: " + $0.joined(separator: "; ") }]
                            .compactMap { $0 }.joined(separator: "\n")
                    step.seconds = run.seconds
                    return step
                }
                return JUnitReport.xml(verify)
            }
        }

        /// One page, readable offline: what was run, and each row or run with its verdict.
        public func html() -> String {
            let (title, header, rows): (String, [String], [(cells: [String], good: Bool)]) =
                switch self {
                case .allPairs(let report):
                    (
                        "\(report.lab): check's failure table, live", ["row", "failures", "model", "live", "verdict"],
                        report.rows.map { row in
                            let holders = { (map: [String: [String]]) in
                                map.sorted { $0.key < $1.key }
                                    .map { "\($0.key) → \($0.value.joined(separator: "+"))" }
                                    .joined(separator: "; ")
                            }
                            return (
                                [
                                    String(row.index + 1), row.failures.joined(separator: ", then "),
                                    holders(row.predicted), holders(row.live),
                                    row.agrees ? "agrees" : "DISAGREES" + (row.error.map { ": \($0)" } ?? "")
                                ], row.agrees
                            )
                        }
                    )
                case .explore(let report):
                    (
                        "\(report.lab): explore, seed \(report.seed)", ["run", "seed", "schedule", "verdict"],
                        report.results.map { run in
                            (
                                [
                                    String(run.run + 1), String(run.seed), run.schedule.joined(separator: "; "),
                                    run.passed
                                        ? "passed"
                                        : "FAILED: \(run.failure ?? "")"
                                            + (run.shrunk.map { " — shrunk to: " + $0.joined(separator: "; ") } ?? "")
                                ], run.passed
                            )
                        }
                    )
                }
            let escape = Markup.escape
            let body = rows.map { row in
                "<tr class=\"\(row.good ? "good" : "bad")\">" + row.cells.map { "<td>\(escape($0))</td>" }.joined()
                    + "</tr>"
            }.joined(separator: "\n")
            let failed = rows.filter { !$0.good }.count
            return """
                <!doctype html>
                <html><head><meta charset="utf-8"><title>\(escape(title))</title>
                <style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid \
                #ccc;padding:4px 8px;text-align:left}
                tr.bad td{background:#fde2e2}tr.good td:last-child{color:#176f2c}</style></head>
                <body><h1>\(escape(title))</h1><p>\(rows.count - failed) of \(rows.count) hold, \(failed) do not.</p>
                <table><tr>\(header.map { "<th>\($0)</th>" }.joined())</tr>
                \(body)
                </table></body></html>

                """
        }
    }

    /// Merges the reports in `files` (paths, as the user gave them, for the messages).
    public static func merge(_ files: [String]) throws -> Merged {
        guard !files.isEmpty else { throw HALabError.usage("give the JSON reports of every shard") }
        let decoder = JSONDecoder()
        var allPairs: [(file: String, report: AllPairsRun.Report)] = []
        var explores: [(file: String, report: ExploreReport)] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw HALabError.badLabFile(file: file, line: nil, message: "no such report")
            }
            if let report = try? decoder.decode(AllPairsRun.Report.self, from: data) {
                allPairs.append((file, report))
            } else if let report = try? decoder.decode(ExploreReport.self, from: data) {
                explores.append((file, report))
            } else {
                throw HALabError.badLabFile(
                    file: file, line: nil, message: "not the JSON report of verify --all-pairs or explore (--json)")
            }
        }
        guard allPairs.isEmpty || explores.isEmpty else {
            throw HALabError.usage(
                "\(allPairs[0].file) is of verify --all-pairs and \(explores[0].file) of explore: merge the shards of "
                    + "one run"
            )
        }
        if !allPairs.isEmpty {
            try same(
                allPairs.map {
                    ($0.file, "\($0.report.lab) \($0.report.labHash) \($0.report.tableRows) \($0.report.faults)")
                },
                what: "lab, lab folder, table or kinds of failure")
            try complete(allPairs.map { ($0.file, $0.report.shard) })
            var merged = allPairs[0].report
            merged.rows = allPairs.flatMap(\.report.rows).sorted { $0.index < $1.index }
            merged.seconds = allPairs.map(\.report.seconds).max() ?? 0
            merged.shard = .whole
            guard merged.rows.map(\.index) == Array(0..<merged.tableRows) else {
                throw HALabError.usage(
                    "the shards hold rows \(merged.rows.count) of the table's \(merged.tableRows), not each once")
            }
            return .allPairs(merged)
        }
        try same(
            explores.map {
                (
                    $0.file,
                    "\($0.report.lab) \($0.report.labHash) \($0.report.runs) \($0.report.seed) \($0.report.steps) "
                        + "\($0.report.faults)"
                )
            },
            what: "lab, lab folder, runs, seed, steps or faults")
        try complete(explores.map { ($0.file, $0.report.shard) })
        var merged = explores[0].report
        merged.results = explores.flatMap(\.report.results).sorted { $0.run < $1.run }
        merged.seconds = explores.map(\.report.seconds).max() ?? 0
        merged.shard = .whole
        guard merged.results.map(\.run) == Array(0..<merged.runs) else {
            throw HALabError.usage("the shards hold runs \(merged.results.count) of \(merged.runs), not each once")
        }
        return .explore(merged)
    }

    /// Every report of one run: the same value of what must not differ.
    static func same(_ values: [(file: String, value: String)], what: String) throws {
        guard let odd = values.first(where: { $0.value != values[0].value }) else { return }
        throw HALabError.usage(
            "\(values[0].file) and \(odd.file) are of different runs (\(what) differ): merge the shards of one run")
    }

    /// Shards 1 … N, each once.
    static func complete(_ shards: [(file: String, shard: Shard)]) throws {
        let count = shards[0].shard.count
        if let other = shards.first(where: { $0.shard.count != count }) {
            throw HALabError.usage("\(shards[0].file) is a shard of \(count) and \(other.file) of \(other.shard.count)")
        }
        for index in 1...count {
            let found = shards.filter { $0.shard.index == index }
            if found.isEmpty { throw HALabError.usage("shard \(index)/\(count) is missing") }
            if found.count > 1 {
                throw HALabError.usage(
                    "shard \(index)/\(count) is there twice: \(found.map(\.file).joined(separator: ", "))")
            }
        }
    }
}
