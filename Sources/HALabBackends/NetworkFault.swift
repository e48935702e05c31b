import HALabSystem

/// A failure a backend can put on a running lab's network or nodes, and take off again. Plain
/// network terms: the scenario layer says which packets VRRP sends.
public enum NetworkFault: Sendable, Codable, Equatable, CustomStringConvertible {
    /// A link down: at the switch port (a pulled cable) or at the node's own interface.
    case linkDown(node: String, interface: String, atSwitch: Bool)
    /// Every port of a segment's switch down: each cable on it pulled at once.
    case switchDown(segment: String)
    /// Packets to a multicast group with an IP protocol dropped at one node (in and out), or
    /// at every switch when `node` is nil (a switch that forwards no multicast).
    case dropMulticast(node: String?, group: String, ipProtocol: Int)
    /// No frame crosses between the groups of nodes: each node drops the other groups' frames.
    case partition([[String]])
    /// A share of the node's packets dropped, in and out.
    case loss(node: String, percent: Int)
    /// Every packet the node sends held back (needs the kernel's netem).
    case delay(node: String, milliseconds: Int)
    /// Every process of the node frozen: it neither answers nor dies.
    case pause(node: String)
    /// The node's processes of one program frozen: a hung service that still has a PID and listens.
    case frozenProcesses(node: String, program: String)
    /// New TCP connections to the node's ports refused (a reset), its processes running.
    case refusedPorts(node: String, ports: [Int])

    /// The nodes the fault touches; empty for one on every switch.
    public var nodes: [String] {
        switch self {
        case .linkDown(let node, _, _), .loss(let node, _), .delay(let node, _), .pause(let node),
            .frozenProcesses(let node, _),
            .refusedPorts(let node, _):
            return [node]
        case .dropMulticast(let node, _, _): return node.map { [$0] } ?? []
        case .switchDown: return []
        case .partition(let groups): return groups.flatMap { $0 }
        }
    }

    public var description: String {
        switch self {
        case .linkDown(let node, let interface, let atSwitch):
            return "link \(node):\(interface) down" + (atSwitch ? " (switch port)" : " (at the node)")
        case .switchDown(let segment): return "switch of \(segment) down"
        case .dropMulticast(let node, let group, let ipProtocol):
            return "multicast \(group) (IP protocol \(ipProtocol)) dropped "
                + (node.map { "at \($0)" } ?? "at every switch")
        case .partition(let groups):
            return "partition " + groups.map { $0.joined(separator: ",") }.joined(separator: " / ")
        case .loss(let node, let percent): return "\(percent) % loss at \(node)"
        case .delay(let node, let milliseconds): return "\(milliseconds) ms delay at \(node)"
        case .pause(let node): return "\(node) paused"
        case .frozenProcesses(let node, let program): return "\(program) hung at \(node)"
        case .refusedPorts(let node, let ports):
            return "TCP \(ports.map(String.init).joined(separator: ", ")) refused at \(node)"
        }
    }
}
