import ArgumentParser
import Foundation
import HALab
import HALabBackends
import HALabModel
import HALabSystem

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find where a lab's design fails before anything runs: config lints, and the VIP's holder after every failure.",
        discussion: """
            Lints the lab's keepalived configs (each finding with its file:line), then predicts with halab's VRRP model who
            holds each VIP after every single failure (a health-checked service stopped, a crash, a link down) and every
            ordered pair of failures on two nodes. A row where a VIP sits on a node that cannot serve while another could
            is an outage. Exit status 1 when there is an error-level finding or an outage. Needs no root.
            """)

    @Argument(help: "A lab name or path.")
    var lab: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let lab = try Environment.loadLab(lab)
        let report = ConfigCheck.run(lab: lab.name, configs: lab.keepalived, model: lab.vrrpModel())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            printReport(report)
        }
        if report.failed { throw ExitCode.failure }
    }

    func printReport(_ report: ConfigCheck.Report) {
        print("lab \(report.lab): \(report.findings.count) findings")
        for finding in report.findings {
            print("  \(finding.severity.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(finding.location.map { "\($0): " } ?? "")\(finding.message)")
        }
        print("failures (\(report.rows.count) rows), predicted holders:")
        for row in report.rows {
            let holders = row.holders.sorted { $0.key < $1.key }
                .map { "\($0.key) → \($0.value.isEmpty ? "nobody" : $0.value.joined(separator: "+"))" }.joined(separator: ", ")
            let verdict = !row.outages.isEmpty ? "OUTAGE: " + row.outages.joined(separator: "; ")
                : !row.unservable.isEmpty ? "nothing can serve \(row.unservable.joined(separator: ", "))" : "ok"
            print("  \(row.failures.joined(separator: ", then ").padding(toLength: 48, withPad: " ", startingAt: 0)) \(holders)  \(verdict)")
        }
        let outages = report.rows.filter { !$0.outages.isEmpty }.count
        let errors = report.findings.filter { $0.severity == .error }.count
        print("\(errors) errors, \(outages) outage rows")
    }
}
