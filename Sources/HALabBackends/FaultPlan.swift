import HALabSystem

/// What putting a fault on (or taking it off) does, step by step, in plain network terms.
/// Every backend executes the same plan with its own few primitives (a cable, a command in a
/// node's network, an nftables script, a freeze), so no rule text is written twice.
public struct FaultPlan: Sendable, Equatable {
    public enum Place: Sendable, Equatable {
        case node(String)
        /// The switch of a segment (only a backend with switches of its own can filter there).
        case segmentSwitch(String)
    }

    public enum Step: Sendable, Equatable {
        /// A node's cable to its switch pulled (`plugged: false`) or plugged back.
        case cable(node: String, interface: String, plugged: Bool)
        /// A program run in a node's network (ip, tc), as an operator on that machine would.
        case command(node: String, [String])
        /// An nftables script run at a node or a switch.
        case nftables(Place, script: String)
        /// Every process of the node frozen (SIGSTOP, a suspended VM) or thawed.
        case freeze(node: String, frozen: Bool)
        /// The node's processes of one program frozen (SIGSTOP) or thawed.
        case freezeProgram(node: String, program: String, frozen: Bool)

        /// Whether the step acts inside a node, where a crash and a revive since may have taken
        /// its effect away already: taking such a fault off then finds nothing to undo.
        var isInsideNode: Bool {
            switch self {
            case .cable, .nftables(.segmentSwitch, _): false
            case .command, .nftables(.node, _), .freeze, .freezeProgram: true
            }
        }
    }

    public var steps: [Step]
    /// Taking the fault off rather than putting it on.
    public var healing: Bool

    /// The plan for `fault` on `topology`. `switches`: whether the backend has switches it can
    /// filter in (namespaces: a bridge per segment); without them, "at every switch" becomes
    /// "at every node".
    public init(_ fault: NetworkFault, topology: LabTopology, on: Bool, switches: Bool) throws {
        healing = !on
        for node in fault.nodes { _ = try topology.node(node) }
        switch fault {
        case .linkDown(let node, let interface, let atSwitch):
            _ = try topology.locate(node, interface: interface)
            steps = [
                atSwitch
                    ? .cable(node: node, interface: interface, plugged: !on)
                    : .command(node: node, ["ip", "link", "set", interface, on ? "down" : "up"])
            ]
        case .switchDown(let segment):
            guard topology.segments.contains(segment) else {
                throw HALabError.usage("no segment '\(segment)' in \(topology.name)")
            }
            steps = topology.nodes.flatMap { node in
                node.interfaces.filter { $0.segment == segment }.map {
                    Step.cable(node: node.name, interface: $0.name, plugged: !on)
                }
            }
        case .dropMulticast(let node, let group, let ipProtocol):
            let match = "ip daddr \(group) ip protocol \(ipProtocol) drop"
            let atNode = { (node: String) in
                Step.nftables(
                    .node(node),
                    script: Self.table("inet halab-multicast", on: on, chains: ["input": [match], "output": [match]]))
            }
            if let node {
                steps = [atNode(node)]
            } else if switches {
                steps = topology.segments.map {
                    .nftables(
                        .segmentSwitch($0),
                        script: Self.table("bridge halab-multicast", on: on, chains: ["forward": [match]]))
                }
            } else {
                steps = topology.nodes.map { atNode($0.name) }
            }
        case .partition(let groups):
            // Each node drops every frame from a node of another group as it arrives.
            steps = []
            for (index, group) in groups.enumerated() {
                let others = try groups.enumerated().filter { $0.offset != index }.flatMap(\.element).flatMap {
                    try topology.macAddresses(of: $0)
                }
                guard !others.isEmpty else { continue }
                for node in group {
                    steps.append(
                        .nftables(
                            .node(node),
                            script: Self.table(
                                "inet halab-partition", on: on,
                                chains: ["input": ["ether saddr { \(others.joined(separator: ", ")) } drop"]])))
                }
            }
        case .loss(let node, let percent):
            // The node's links lose packets; its loopback does not (a local health check is no network traffic).
            let rule = { (direction: String) in "\(direction) != \"lo\" numgen random mod 100 < \(percent) drop" }
            steps = [
                .nftables(
                    .node(node),
                    script: Self.table(
                        "inet halab-loss", on: on, chains: ["input": [rule("iifname")], "output": [rule("oifname")]]))
            ]
        case .delay(let node, let milliseconds):
            steps = try topology.node(node).interfaces.map { interface in
                .command(
                    node: node,
                    on
                        ? ["tc", "qdisc", "add", "dev", interface.name, "root", "netem", "delay", "\(milliseconds)ms"]
                        : ["tc", "qdisc", "del", "dev", interface.name, "root"])
            }
        case .pause(let node):
            _ = try topology.node(node)
            steps = [.freeze(node: node, frozen: on)]
        case .frozenProcesses(let node, let program):
            steps = [.freezeProgram(node: node, program: program, frozen: on)]
        case .refusedPorts(let node, let ports):
            // The first packet of each new connection, answered with a reset; those open go on.
            let rule =
                "tcp dport { \(ports.map(String.init).joined(separator: ", ")) } tcp flags & (syn | ack) == syn reject "
                    + "with tcp reset"
            steps = [.nftables(.node(node), script: Self.table("inet halab-refuse", on: on, chains: ["input": [rule]]))]
        }
    }

    /// An nftables table of halab's own per fault kind, so taking the fault off deletes exactly it.
    static func table(_ table: String, on: Bool, chains: [String: [String]]) -> String {
        guard on else { return "delete table \(table)\n" }
        var script = "add table \(table)\n"
        for (hook, rules) in chains.sorted(by: { $0.key < $1.key }) {
            script += "add chain \(table) \(hook) { type filter hook \(hook) priority 0; }\n"
            script += rules.map { "add rule \(table) \(hook) \($0)\n" }.joined()
        }
        return script
    }

    /// What one step's command said, judged alike for every backend: taking a fault off may
    /// find a node's part of it gone already; netem missing is the kernel's, said plainly.
    func judge(_ step: Step, _ result: CommandResult, what: String) throws {
        guard !result.succeeded, !(healing && step.isInsideNode) else { return }
        if result.errorOutput.contains("qdisc kind is unknown") {
            throw HALabError.unsupported(
                "delay needs the kernel's netem queueing discipline (sch_netem), which this kernel does not have: use "
                    + "loss, or a kernel with CONFIG_NET_SCH_NETEM")
        }
        throw HALabError.commandFailed(
            command: what, status: "exit \(result.exitCode)", output: result.errorOutput + result.output)
    }
}

/// The primitives a backend gives for fault plans; the plan says what to do with them.
protocol FaultExecuting: Sendable {
    /// Whether the backend has switches of its own to filter in.
    var hasSwitches: Bool { get }
    func pullCable(_ lab: String, topology: LabTopology, node: String, interface: String, plugged: Bool) async throws
    /// Runs a program in the node's network, with `input` on its standard input.
    func runInNetwork(_ lab: String, _ place: FaultPlan.Place, _ command: [String], input: String?) async throws
        -> CommandResult
    func freeze(_ lab: String, node: String, frozen: Bool) async throws
    func freeze(_ lab: String, node: String, program: String, frozen: Bool) async throws
}

extension FaultExecuting {
    func execute(_ plan: FaultPlan, lab: String, topology: LabTopology) async throws {
        for step in plan.steps {
            switch step {
            case .cable(let node, let interface, let plugged):
                try await pullCable(lab, topology: topology, node: node, interface: interface, plugged: plugged)
            case .command(let node, let command):
                try plan.judge(
                    step, try await runInNetwork(lab, .node(node), command, input: nil),
                    what: "\(command.joined(separator: " ")) on \(node)")
            case .nftables(let place, let script):
                try plan.judge(
                    step, try await runInNetwork(lab, place, ["nft", "-f", "-"], input: script),
                    what: "nft -f - at \(place)")
            case .freeze(let node, let frozen):
                do { try await freeze(lab, node: node, frozen: frozen) } catch HALabError.nodeNotRunning(_)
                    where plan.healing
                {
                    // A node that crashed meanwhile has nothing to thaw.
                }
            case .freezeProgram(let node, let program, let frozen):
                do {
                    try await freeze(lab, node: node, program: program, frozen: frozen)
                } catch HALabError.nodeNotRunning(_) where plan.healing {}
            }
        }
    }
}
