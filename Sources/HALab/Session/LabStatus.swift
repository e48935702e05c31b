import Foundation
import HALabBackends
import HALabSystem

/// `halab status`: a lab's nodes, each instance's state as keepalived reports it, the faults
/// in force, and who holds each VIP (a split brain flagged).
public struct LabStatus: Sendable, Codable {
    public struct Node: Sendable, Codable {
        public var name: String
        public var running: Bool
        public var addresses: [String]
        public var processes: [String]
        public var memoryKiB: Int
    }

    public struct VIP: Sendable, Codable {
        public var address: String
        public var holders: [String]
        public var splitBrain: Bool
    }

    public var lab: String
    public var nodes: [Node]
    public var instances: [InstanceState]
    public var vips: [VIP]
    public var faults: [String]

    /// One look at every node of the lab.
    public static func gather(_ session: LabSession) async throws -> LabStatus {
        let (lab, backend) = (session.lab.name, session.backend)
        var nodes: [Node] = []
        for node in session.lab.topology.nodes {
            let processes = backend.processes(lab, node: node.name)
            nodes.append(
                Node(
                    name: node.name, running: backend.isRunning(lab, node: node.name),
                    addresses: try await backend.addresses(lab, node: node.name),
                    processes: processes.map { "\($0.command)[\($0.pidInNamespace)]" },
                    memoryKiB: processes.map(\.proportionalKiB).reduce(0, +)))
        }
        return LabStatus(
            lab: lab, nodes: nodes, instances: try await session.instanceStates(),
            vips: try await session.vipHolders().map {
                VIP(address: $0.address, holders: $0.nodes, splitBrain: $0.nodes.count > 1)
            },
            faults: backend.faults(lab).map(\.description))
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// For a terminal: a line per node, instance and VIP.
    public func text() -> String {
        var lines = ["lab \(lab)"]
        for node in nodes {
            lines.append(
                "  \(node.name)  \(node.running ? "running" : "DOWN")  \(node.addresses.joined(separator: " "))")
            if node.running && !node.processes.isEmpty {  // a VM's processes are not this machine's
                lines.append(
                    "    processes: \(node.processes.joined(separator: " "))  "
                        + "(\(String(format: "%.1f", Double(node.memoryKiB) / 1024)) MiB, proportional set size)"
                )
            }
        }
        for name in instances.map(\.instance).uniqueInOrder() {
            let views = instances.filter { $0.instance == name }
                .map { "\($0.node) \($0.state)" + ($0.effectivePriority.map { " (priority \($0))" } ?? "") }
            lines.append("  \(name): \(views.joined(separator: ", "))")
        }
        lines.append("  faults in force: " + (faults.isEmpty ? "none" : faults.joined(separator: "; ")))
        for vip in vips {
            lines.append(
                "  VIP \(vip.address) → \(vip.holders.isEmpty ? "nobody" : vip.holders.joined(separator: " and "))"
                    + (vip.splitBrain ? "  ← SPLIT BRAIN" : "")
            )
        }
        return lines.joined(separator: "\n")
    }
}
