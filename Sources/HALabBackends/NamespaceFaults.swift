import Foundation
import HALabSystem

/// Faults in the namespace backend: links by `ip`, packet drops by nftables tables of halab's
/// own (one per fault kind, inside the lab's namespaces, so healing removes exactly them),
/// delay by netem, pauses by SIGSTOP. Recorded in `/run/halab/LAB/faults.json`.
extension NamespaceBackend {
    func record(_ lab: String, _ faults: [NetworkFault]) throws { try state.faultFile(lab).write(faults) }

    func apply(_ fault: NetworkFault, topology: LabTopology, on: Bool) async throws {
        let lab = topology.name
        switch fault {
        case .linkDown(let node, let interface, let atSwitch):
            let (index, spec) = try locate(node, in: topology)
            guard let interfaceIndex = spec.interfaces.firstIndex(where: { $0.name == interface }) else {
                throw HALabError.usage("node '\(node)' has no interface '\(interface)'")
            }
            let state = on ? "down" : "up"
            if atSwitch {
                let port = Self.portName(node: node, interface: interface, nodeIndex: index, interfaceIndex: interfaceIndex)
                try await ip(Self.netns(lab, spec.interfaces[interfaceIndex].segment), batch: ["link set \(port) \(state)"])
            } else {
                try await ip(Self.netns(lab, node), batch: ["link set \(interface) \(state)"])
            }
        case .dropMulticast(let node, let group, let ipProtocol):
            let match = "ip daddr \(group) ip protocol \(ipProtocol) drop"
            if let node {
                try await nftables(Self.netns(lab, node), table: "inet halab-multicast", on: on,
                                   chains: ["input": [match], "output": [match]])
            } else {
                for segment in topology.segments {
                    try await nftables(Self.netns(lab, segment), table: "bridge halab-multicast", on: on, chains: ["forward": [match]])
                }
            }
        case .partition(let groups):
            for segment in topology.segments {
                let ports = try groups.map { group in
                    try group.flatMap { node -> [String] in
                        let (index, spec) = try locate(node, in: topology)
                        return spec.interfaces.enumerated().filter { $0.element.segment == segment }.map {
                            Self.portName(node: node, interface: $0.element.name, nodeIndex: index, interfaceIndex: $0.offset)
                        }
                    }
                }
                var rules: [String] = []
                for (a, from) in ports.enumerated() where !from.isEmpty {
                    for (b, to) in ports.enumerated() where a != b && !to.isEmpty {
                        rules.append("iifname { \(from.map { "\"\($0)\"" }.joined(separator: ", ")) } "
                            + "oifname { \(to.map { "\"\($0)\"" }.joined(separator: ", ")) } drop")
                    }
                }
                if !rules.isEmpty {
                    try await nftables(Self.netns(lab, segment), table: "bridge halab-partition", on: on, chains: ["forward": rules])
                }
            }
        case .loss(let node, let percent):
            let rule = "numgen random mod 100 < \(percent) drop"
            try await nftables(Self.netns(lab, node), table: "inet halab-loss", on: on, chains: ["input": [rule], "output": [rule]])
        case .delay(let node, let milliseconds):
            let (_, spec) = try locate(node, in: topology)
            for interface in spec.interfaces {
                let arguments = on ? ["qdisc", "add", "dev", interface.name, "root", "netem", "delay", "\(milliseconds)ms"]
                    : ["qdisc", "del", "dev", interface.name, "root"]
                let result = try await Command.run("tc", ["-n", Self.netns(lab, node)] + arguments, check: false)
                if on && result.errorOutput.contains("qdisc kind is unknown") {
                    throw HALabError.unsupported(
                        "delay needs the kernel's netem queueing discipline (sch_netem), which this kernel does not have: "
                        + "use loss, or a kernel with CONFIG_NET_SCH_NETEM")
                }
                guard result.succeeded || !on else {
                    throw HALabError.commandFailed(command: "tc " + arguments.joined(separator: " "), status: "exit \(result.exitCode)",
                                                   output: result.errorOutput)
                }
            }
        case .pause(let node):
            guard on || isRunning(lab, node: node) else { return }  // a node that crashed meanwhile has nothing to resume
            guard isRunning(lab, node: node) else { throw HALabError.nodeNotRunning(node) }
            for process in processes(lab, node: node) { kill(process.pid, on ? SIGSTOP : SIGCONT) }
        }
    }

    func locate(_ node: String, in topology: LabTopology) throws -> (Int, NodeSpec) {
        guard let index = topology.nodes.firstIndex(where: { $0.name == node }) else {
            throw HALabError.unknownNode(node, lab: topology.name)
        }
        return (index, topology.nodes[index])
    }

    /// Adds (or deletes) an nftables table of halab's own in a lab namespace.
    func nftables(_ ns: String, table: String, on: Bool, chains: [String: [String]]) async throws {
        let script = NftablesScript.table(table, on: on, chains: chains)
        let result = try await Command.run("nsenter", ["--net=\(Self.netnsFolder)/\(ns)", "nft", "-f", "-"], input: script, check: false)
        // Healing a table that is gone already (its node crashed and was revived) is fine.
        if !result.succeeded && (on || !result.errorOutput.contains("No such file")) {
            throw HALabError.commandFailed(command: "nft -f - in \(ns)", status: "exit \(result.exitCode)", output: result.errorOutput)
        }
    }
}
