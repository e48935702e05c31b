import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// A picture of a lab: its switches, nodes with their interfaces, addresses, bonds and bridges,
/// and each VRRP instance's VIPs on the nodes that may hold them. With the lab up, also who holds
/// each VIP, the nodes that are down or frozen, and the faults in force (a pulled cable cut).
public struct LabGraph: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case svg, dot, mermaid
    }

    /// What a running lab adds to the picture.
    public struct Live: Sendable {
        public var holders: [String: [String]] = [:]
        public var down: Set<String> = []
        public var frozen: Set<String> = []
        /// "node:interface" of each cable pulled (or interface set down).
        public var cut: Set<String> = []
        public var switchesDown: Set<String> = []
        public var faults: [String] = []
    }

    let lab: Lab
    var live: Live?

    public init(lab: Lab, live: Live? = nil) {
        self.lab = lab
        self.live = live
    }

    /// What a running lab looks like now.
    public static func live(_ session: LabSession) async throws -> Live {
        var live = Live()
        for (address, nodes) in try await session.vipHolders() { live.holders[address] = nodes }
        for node in session.lab.topology.nodes.map(\.name)
        where !session.backend.isRunning(session.lab.name, node: node) { live.down.insert(node) }
        for fault in session.backend.faults(session.lab.name) {
            live.faults.append(fault.description)
            switch fault {
            case .linkDown(let node, let interface, _): live.cut.insert("\(node):\(interface)")
            case .switchDown(let segment): live.switchesDown.insert(segment)
            case .pause(let node): live.frozen.insert(node)
            default: break
            }
        }
        return live
    }

    /// Each VIP with its instance names and the nodes that may hold it.
    var vips: [(address: String, instances: [String], nodes: [String])] {
        lab.virtualAddresses.map { vip in
            let instances = lab.instances.filter {
                $0.virtualAddresses.contains { $0.split(separator: "/").first.map(String.init) == vip.address }
            }
            return (vip.address, instances.map(\.name).uniqueInOrder(), instances.map(\.node).uniqueInOrder())
        }
    }

    /// A node's links: the interface on a segment, and the bond or bridge that carries the address.
    func links(of node: NodeSpec) -> [(interface: String, segment: String, label: String)] {
        node.interfaces.map { nic in
            let aggregate = node.aggregates.first { $0.members.contains(nic.name) }
            let address = aggregate.map { "\($0.name) \($0.address ?? "")" } ?? nic.address ?? ""
            return (
                nic.name, nic.segment,
                [nic.name, address, nic.address6 ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
            )
        }
    }

    func nodeLabel(_ node: NodeSpec) -> [String] {
        var lines = [node.name, node.services.joined(separator: ", ")]
        if live?.down.contains(node.name) == true { lines.append("DOWN") }
        if live?.frozen.contains(node.name) == true { lines.append("FROZEN") }
        return lines.filter { !$0.isEmpty }
    }

    // MARK: Graphviz

    public func dot() -> String {
        func quoted(_ text: String) -> String {
            "\""
                + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        var lines = [
            "graph \(quoted(lab.name)) {",
            "  graph [label=\(quoted(title)), labelloc=t, fontname=Helvetica, rankdir=TB];",
            "  node [fontname=Helvetica, fontsize=11]; edge [fontname=Helvetica, fontsize=9];"
        ]
        for segment in lab.topology.segments {
            let down = live?.switchesDown.contains(segment) == true
            lines.append(
                "  \(quoted("switch:" + segment)) [shape=box, style=\"rounded,filled\", "
                    + "fillcolor=\(down ? "\"#f4c7c3\"" : "\"#dde7f5\""), "
                    + "label=\(quoted("switch \(segment)" + (down ? "\nDOWN" : "")))];")
        }
        for node in lab.topology.nodes {
            let dark = live?.down.contains(node.name) == true || live?.frozen.contains(node.name) == true
            lines.append(
                "  \(quoted("node:" + node.name)) [shape=box, style=filled, "
                    + "fillcolor=\(dark ? "\"#e0e0e0\"" : "white"), "
                    + "label=\(quoted(nodeLabel(node).joined(separator: "\n")))];")
            for link in links(of: node) {
                let cut = live?.cut.contains("\(node.name):\(link.interface)") == true
                lines.append(
                    "  \(quoted("node:" + node.name)) -- \(quoted("switch:" + link.segment)) "
                        + "[label=\(quoted(link.label + (cut ? " (cut)" : "")))"
                        + (cut ? ", style=dashed, color=red" : "") + "];")
            }
        }
        for vip in vips {
            lines.append(
                "  \(quoted("vip:" + vip.address)) [shape=note, style=filled, fillcolor=\"#fff4c2\", "
                    + "label=\(quoted("VIP \(vip.address)\n\(vip.instances.joined(separator: ", "))"))];")
            let holders = live?.holders[vip.address] ?? []
            for node in vip.nodes {
                lines.append(
                    "  \(quoted("vip:" + vip.address)) -- \(quoted("node:" + node))"
                        + (holders.contains(node)
                            ? " [label=\"holds\", penwidth=2.5, color=\"#2a7a2a\"];" : " [style=dotted];"))
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    var title: String {
        guard let live else { return lab.name }
        return lab.name + (live.faults.isEmpty ? " (up)" : " (up; in force: \(live.faults.joined(separator: "; ")))")
    }

    /// SVG, drawn by Graphviz's `dot`.
    public func svg() async throws -> String {
        guard Command.exists("dot") else {
            throw HALabError.missingProgram("dot", fix: "install it with 'apt-get install -y graphviz'")
        }
        return try await Command.run("dot", ["-Tsvg"], input: dot()).output
    }

    // MARK: Mermaid

    public func mermaid() -> String {
        func id(_ kind: String, _ name: String) -> String {
            kind + "_" + name.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        }
        func text(_ lines: [String]) -> String {
            "\"" + lines.joined(separator: "<br/>").replacingOccurrences(of: "\"", with: "#quot;") + "\""
        }
        var lines = ["---", "title: \(title)", "---", "flowchart TB"]
        var linkIndex = 0
        var cutLinks: [Int] = []
        for segment in lab.topology.segments {
            let down = live?.switchesDown.contains(segment) == true ? ["DOWN"] : []
            lines.append("  \(id("switch", segment))[[\(text(["switch \(segment)"] + down))]]")
        }
        for node in lab.topology.nodes {
            lines.append("  \(id("node", node.name))[\(text(nodeLabel(node)))]")
            for link in links(of: node) {
                let cut = live?.cut.contains("\(node.name):\(link.interface)") == true
                lines.append(
                    "  \(id("node", node.name)) ---|\(text([link.label + (cut ? " (cut)" : "")]))| "
                        + "\(id("switch", link.segment))"
                )
                if cut { cutLinks.append(linkIndex) }
                linkIndex += 1
            }
        }
        for vip in vips {
            lines.append(
                "  \(id("vip", vip.address))>\(text(["VIP \(vip.address)", vip.instances.joined(separator: ", ")]))]")
            let holders = live?.holders[vip.address] ?? []
            for node in vip.nodes {
                lines.append(
                    holders.contains(node)
                        ? "  \(id("vip", vip.address)) ==>|holds| \(id("node", node))"
                        : "  \(id("vip", vip.address)) -.- \(id("node", node))")
                linkIndex += 1
            }
        }
        for index in cutLinks { lines.append("  linkStyle \(index) stroke:red,stroke-dasharray:4") }
        return lines.joined(separator: "\n") + "\n"
    }
}
