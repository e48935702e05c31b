/// Which interfaces are up and which nodes a frame gets between: NICs on switches (segments),
/// bonds over NICs, bridges joining two segments.
extension VRRPModel {
    /// Whether an interface of a node is up: a NIC with its own link and its switch; a bond
    /// while any of its NICs is.
    public func interfaceUp(_ node: String, _ interface: String) -> Bool {
        guard let state = states[node] else { return false }
        if let nics = nodes[node]?.bonds[interface] { return nics.contains { interfaceUp(node, $0) } }
        let segment = nodes[node]?.segments[interface]
        return state.linkUp && !state.downInterfaces.contains(interface) && !(segment.map(downSegments.contains) ?? false)
    }

    /// The NICs an interface depends on: a bond's, else itself.
    public func cables(_ node: String, _ interface: String) -> [String] { nodes[node]?.bonds[interface] ?? [interface] }

    /// The segment an interface sends on now: a bond's first NIC that is up (active-backup
    /// with a primary: the first while it is up); nil for a bond without one. An interface
    /// the lab does not place is its own segment.
    func activeSegment(_ node: String, _ interface: String) -> String? {
        guard let spec = nodes[node] else { return nil }
        if let nics = spec.bonds[interface] { return nics.first { interfaceUp(node, $0) }.flatMap { spec.segments[$0] } }
        return spec.segments[interface] ?? interface
    }

    /// Whether frames get from one segment to another now: the same one, or a bridge of a
    /// node that runs and is not frozen has an up port on each.
    func joined(_ one: String, _ other: String) -> Bool {
        one == other || nodes.values.contains { node in
            guard let state = states[node.name], state.alive, !state.paused else { return false }
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
        return spec.segments.keys.filter { !bonded.contains($0) && interfaceUp(node, $0) }.compactMap { spec.segments[$0] }
            + spec.bonds.keys.compactMap { activeSegment(node, $0) }
    }

    /// Whether `target` answers `node` at all: it runs, is not frozen, and a segment each
    /// sends on gets frames to the other's.
    func reachable(_ target: String, from node: String) -> Bool {
        guard let state = states[target], state.alive, !state.paused else { return false }
        let theirs = activeSegments(target)
        return activeSegments(node).contains { mine in theirs.contains { joined(mine, $0) } }
    }
}
