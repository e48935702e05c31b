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
            print(report.text())
        }
        if report.failed { throw ExitCode.failure }
    }
}
