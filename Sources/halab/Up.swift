import ArgumentParser
import Foundation
import HALab

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a lab, start its services, and return once each VIP answers from the node that should hold it.")

    @Argument(help: "A lab name (a folder under labs/) or a path to a lab folder.")
    var lab: String

    @OptionGroup var backend: BackendOptions

    func run() async throws {
        let lab = try Environment.loadLab(lab)
        progress("→ bringing up \(lab.name) (\(lab.topology.nodes.count) nodes, \(backend.backend.rawValue))")
        let (session, convergence) = try await LabSession.up(lab, backend: backend.make()) { progress("  \($0)") }
        print(try await LabStatus.gather(session).text())
        print(String(format: "up in %.2f s (nodes started after %.2f s; the rest is VRRP's election)", convergence.answered, convergence.started))
    }
}
