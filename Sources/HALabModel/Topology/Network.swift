/// The lab's machines and wires as they are now — which nodes run or are frozen, which cables,
/// switches and multicast work, how the nodes are partitioned — and what follows: which
/// interfaces are up and which node a frame gets to. NICs sit on switches (segments), bonds
/// over NICs, bridges join two segments. The VRRP model owns one; routing is in Routes.swift.
struct Network: Sendable {
    /// What can be wrong with one machine and its cables.
    struct Machine: Sendable {
        var alive = true
        var paused = false
        /// False while every link of the node is down.
        var linkUp = true
        var downInterfaces: Set<String> = []
        var multicastBlocked = false
    }

    let nodes: [String: VRRPModel.Node]
    var machines: [String: Machine]
    var downSegments: Set<String> = []
    var partition: [[String]] = []

    init(nodes: [String: VRRPModel.Node]) {
        self.nodes = nodes
        machines = nodes.mapValues { _ in Machine() }
    }

    /// Whether the node runs and is not frozen.
    func runs(_ node: String) -> Bool { machines[node].map { $0.alive && !$0.paused } ?? false }

    /// Whether nothing is wrong with the node's machine or cables.
    func isUntouched(_ node: String) -> Bool {
        guard let machine = machines[node], machine.alive, !machine.paused, machine.linkUp,
            machine.downInterfaces.isEmpty
        else { return false }
        return (nodes[node]?.segments.values).map { !$0.contains(where: downSegments.contains) } ?? true
    }

    // MARK: Changes

    /// Every cable of the node (nil), or one interface, pulled or plugged back.
    mutating func setLink(_ node: String, _ interface: String?, up: Bool) {
        switch (interface, up) {
        case (nil, false): machines[node]?.linkUp = false
        case (nil, true):
            machines[node]?.linkUp = true
            machines[node]?.downInterfaces = []
        case (let interface?, false): machines[node]?.downInterfaces.insert(interface)
        case (let interface?, true): machines[node]?.downInterfaces.remove(interface)
        }
    }

    mutating func setSwitch(_ segment: String, on: Bool) {
        if on { downSegments.remove(segment) } else { downSegments.insert(segment) }
    }

    /// Every fault of the network taken off, on `node` or everywhere (nil).
    mutating func heal(_ node: String?) {
        for name in machines.keys where node == nil || name == node {
            machines[name]?.linkUp = true
            machines[name]?.downInterfaces = []
            machines[name]?.multicastBlocked = false
            machines[name]?.paused = false
        }
        if node.map({ node in partition.contains { $0.contains(node) } }) ?? true { partition = [] }
        if node == nil { downSegments = [] }
    }

    // MARK: Questions

    /// Whether an interface of a node is up: a NIC with its own link and its switch; a bond
    /// while any of its NICs is.
    func interfaceUp(_ node: String, _ interface: String) -> Bool {
        guard let machine = machines[node] else { return false }
        if let nics = nodes[node]?.bonds[interface] { return nics.contains { interfaceUp(node, $0) } }
        let segment = nodes[node]?.segments[interface]
        return machine.linkUp && !machine.downInterfaces.contains(interface)
            && !(segment.map(downSegments.contains) ?? false)
    }

    /// The NICs an interface depends on: a bond's, else itself.
    func cables(_ node: String, _ interface: String) -> [String] { nodes[node]?.bonds[interface] ?? [interface] }

    /// The segment an interface sends on now: a bond's first NIC that is up (active-backup
    /// with a primary: the first while it is up); nil for a bond without one. An interface
    /// the lab does not place is its own segment.
    func activeSegment(_ node: String, _ interface: String) -> String? {
        guard let spec = nodes[node] else { return nil }
        if let nics = spec.bonds[interface] {
            return nics.first { interfaceUp(node, $0) }.flatMap { spec.segments[$0] }
        }
        return spec.segments[interface] ?? interface
    }

    /// Whether frames get from one segment to another now: the same one, or a bridge of a
    /// node that runs and is not frozen has an up port on each.
    func joined(_ one: String, _ other: String) -> Bool {
        one == other
            || nodes.values.contains { node in
                guard runs(node.name) else { return false }
                return node.bridges.values.contains { ports in
                    let up = Set(ports.filter { interfaceUp(node.name, $0) }.compactMap { node.segments[$0] })
                    return up.contains(one) && up.contains(other)
                }
            }
    }

    /// The segments a node sends on now: each up NIC outside a bond, each bond's active one.
    func activeSegments(_ node: String) -> [String] {
        guard let spec = nodes[node] else { return [] }
        let bonded = Set(spec.bonds.values.joined())
        return spec.segments.keys.filter { !bonded.contains($0) && interfaceUp(node, $0) }.compactMap {
            spec.segments[$0]
        }
            + spec.bonds.keys.compactMap { activeSegment(node, $0) }
    }

    /// Whether `target` answers `node` at all: it runs, is not frozen, and a segment each
    /// sends on gets frames to the other's.
    func reachable(_ target: String, from node: String) -> Bool {
        guard runs(target) else { return false }
        let theirs = activeSegments(target)
        return activeSegments(node).contains { mine in theirs.contains { joined(mine, $0) } }
    }

    func partitioned(_ one: String, _ other: String) -> Bool {
        let sides = partition.map { $0.contains(one) ? 1 : $0.contains(other) ? 2 : 0 }
        return sides.contains(1) && sides.contains(2)
    }
}
