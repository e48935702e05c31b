import ArgumentParser
import HALab
import HALabBackends
import HALabModel
import HALabSystem

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a lab, start its services, and return once each VIP answers from the node that should hold it.")

    @Argument(help: "A lab name (a folder under labs/) or a path to a lab folder.")
    var lab: String

    @OptionGroup var backend: BackendOptions

    func run() async throws {
        let lab = try Environment.loadLab(lab)
        progress("→ bringing up \(lab.name) (\(lab.topology.nodes.count) nodes, \(backend.name))")
        let (session, convergence) = try await LabSession.up(lab, backend: backend.make()) { progress("  \($0)") }
        try await printOverview(session)
        print("up in \(formatSeconds(convergence.answered)) (nodes started after \(formatSeconds(convergence.started)); the rest is VRRP's election)")
    }
}

func printOverview(_ session: LabSession) async throws {
    print("lab \(session.lab.name)")
    for node in session.lab.topology.nodes {
        let addresses = node.interfaces.map { "\($0.name) \($0.address)" }.joined(separator: ", ")
        let running = session.backend.isRunning(session.lab.name, node: node.name) ? "running" : "DOWN"
        print("  \(node.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(running.padding(toLength: 8, withPad: " ", startingAt: 0)) \(addresses)")
    }
    for (address, nodes) in try await session.vipHolders() {
        let holder = nodes.isEmpty ? "nobody" : nodes.joined(separator: " and ") + (nodes.count > 1 ? "  ← SPLIT BRAIN" : "")
        print("  VIP \(address) → \(holder)")
    }
}
