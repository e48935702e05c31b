import ArgumentParser
import Foundation
import HALab
import HALabBackends
import HALabModel
import HALabSystem

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Nodes, their processes, and who holds each VIP.")

    @OptionGroup var options: LabOption

    @Flag(help: "Print JSON.")
    var json = false

    struct NodeStatus: Codable {
        var name: String
        var running: Bool
        var addresses: [String]
        var processes: [String]
        var memoryKiB: Int
    }

    struct VIPStatus: Codable {
        var address: String
        var holders: [String]
        var splitBrain: Bool
    }

    struct LabStatus: Codable {
        var lab: String
        var nodes: [NodeStatus]
        var instances: [LabSession.InstanceState]
        var vips: [VIPStatus]
        var faults: [String]
    }

    func run() async throws {
        let session = try options.session()
        let lab = session.lab.name
        var nodes: [NodeStatus] = []
        for node in session.lab.topology.nodes {
            let processes = session.backend.processes(lab, node: node.name)
            nodes.append(NodeStatus(
                name: node.name, running: session.backend.isRunning(lab, node: node.name),
                addresses: try await session.backend.addresses(lab, node: node.name),
                processes: processes.map { "\($0.command)[\($0.pidInNamespace)]" },
                memoryKiB: processes.map(\.proportionalKiB).reduce(0, +)))
        }
        let vips = try await session.vipHolders().map { VIPStatus(address: $0.address, holders: $0.nodes, splitBrain: $0.nodes.count > 1) }
        let instances = try await session.instanceStates()
        let faults = session.backend.faults(lab).map(\.description)
        let status = LabStatus(lab: lab, nodes: nodes, instances: instances, vips: vips, faults: faults)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(status), as: UTF8.self))
            return
        }
        print("lab \(lab)")
        for node in nodes {
            print("  \(node.name)  \(node.running ? "running" : "DOWN")  \(node.addresses.joined(separator: " "))")
            if node.running && !node.processes.isEmpty {  // a VM's processes are not this machine's
                print("    processes: \(node.processes.joined(separator: " "))  (\(String(format: "%.1f", Double(node.memoryKiB) / 1024)) MiB, proportional set size)")
            }
        }
        for name in instances.map(\.instance).uniqueInOrder() {
            let views = instances.filter { $0.instance == name }
                .map { "\($0.node) \($0.state)" + ($0.effectivePriority.map { " (priority \($0))" } ?? "") }
            print("  \(name): \(views.joined(separator: ", "))")
        }
        print("  faults in force: " + (faults.isEmpty ? "none" : faults.joined(separator: "; ")))
        for vip in vips {
            let holders = vip.holders.isEmpty ? "nobody" : vip.holders.joined(separator: " and ")
            print("  VIP \(vip.address) → \(holders)\(vip.splitBrain ? "  ← SPLIT BRAIN" : "")")
        }
    }
}

