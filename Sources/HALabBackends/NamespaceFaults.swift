import Foundation
import HALabSystem

/// Fault primitives of the namespace backend: a cable is the node's switch port (a bridge port
/// in the segment's namespace), commands run in a node's or switch's network namespace, a
/// freeze is SIGSTOP to every process of the node (or of one program in it).
extension NamespaceBackend {
    var hasSwitches: Bool { true }

    func pullCable(_ lab: String, topology: LabTopology, node: String, interface: String, plugged: Bool) async throws {
        let (nodeIndex, index) = try topology.locate(node, interface: interface)
        let port = Self.portName(node: node, interface: interface, nodeIndex: nodeIndex, interfaceIndex: index)
        try await ip(
            Self.netns(lab, topology.nodes[nodeIndex].interfaces[index].segment),
            batch: ["link set \(port) \(plugged ? "up" : "down")"])
    }

    func runInNetwork(_ lab: String, _ place: FaultPlan.Place, _ command: [String], input: String?) async throws
        -> CommandResult
    {
        let ns =
            switch place {
            case .node(let node): Self.netns(lab, node)
            case .segmentSwitch(let segment): Self.netns(lab, segment)
            }
        return try await Command.run(
            "nsenter", ["--net=\(Self.netnsFolder)/\(ns)", "--"] + command, input: input, check: false)
    }

    func freeze(_ lab: String, node: String, frozen: Bool) async throws {
        guard isRunning(lab, node: node) else { throw HALabError.nodeNotRunning(node) }
        for process in processes(lab, node: node) { kill(process.pid, frozen ? SIGSTOP : SIGCONT) }
    }

    /// By host pid, each found in the node's own namespaces: nothing outside the node is touched.
    func freeze(_ lab: String, node: String, program: String, frozen: Bool) async throws {
        guard isRunning(lab, node: node) else { throw HALabError.nodeNotRunning(node) }
        for process in processes(lab, node: node) where process.command == program {
            kill(process.pid, frozen ? SIGSTOP : SIGCONT)
        }
    }
}
