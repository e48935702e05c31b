import ArgumentParser
import Foundation
import HALab
import HALabSystem

struct Graph: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a lab: switches, nodes, interfaces and addresses, bonds, and each VRRP instance's VIPs.",
        discussion:
            "With the lab up (by its name), also who holds each VIP, the nodes that are down or frozen, and the faults "
                + "in force."
    )

    @Argument(help: "A lab that is up (its name), or a lab name or path.")
    var lab: String

    @Option(help: "svg (drawn by Graphviz), dot, or mermaid (for Markdown).")
    var format: String = "svg"

    @Option(name: .shortAndLong, help: "Write it here instead of standard output.")
    var output: String?

    func run() async throws {
        guard let format = LabGraph.Format(rawValue: format) else {
            throw HALabError.usage(
                "--format is one of \(LabGraph.Format.allCases.map(\.rawValue).joined(separator: ", ")), not "
                    + "'\(format)'"
            )
        }
        let graph: LabGraph
        if Environment.namespaces.labsUp().contains(lab) {
            let session = try LabSession.attach(
                lab, lookup: Environment.namespaces, backendOf: Environment.backend(ofLab:))
            graph = LabGraph(lab: session.lab, live: try await LabGraph.live(session))
        } else {
            graph = LabGraph(lab: try Environment.loadLab(lab))
        }
        let text =
            switch format {
            case .svg: try await graph.svg()
            case .dot: graph.dot()
            case .mermaid: graph.mermaid()
            }
        if let output { try FileSystem.write(text, to: output) } else { print(text, terminator: "") }
    }
}
