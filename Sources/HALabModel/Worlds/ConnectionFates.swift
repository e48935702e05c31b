/// What becomes of a client's connection held open to a VIP across a step (`connections:`).
public enum ConnectionFate: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case survive
    case `break`

    public var description: String { rawValue }
}

extension VRRPWorlds {
    /// The fate of a connection held to `address` across a step that went from `before` to these
    /// worlds, moving the VIP on the way where `moved`; nil where the model cannot tell.
    ///
    /// The service behind a VIP terminates TCP on its holder, so a connection lives in the
    /// holder's kernel alone: when the VIP moves, the new holder has no such connection and
    /// resets it, and a holder that lost the VIP no longer gets its packets. A VIP that moves
    /// and comes back may or may not have had a request sent its way meanwhile. A connection
    /// survives where the VIP stays on a holder that served and the step does nothing,
    /// or touches no node of the path but to reload keepalived (SIGHUP: nothing of nginx, nothing on the wire).
    /// A fault on the holder that leaves it the VIP (a frozen or stopped service, loss) closes,
    /// resets or stalls the connection as the service and the kernel decide: the model does not say.
    public func heldConnectionFate(
        of address: String, before: VRRPWorlds, moved: Bool, action: Fault?, client: String?
    ) -> ConnectionFate? {
        guard let was = before.holders(of: address), was.count == 1, let now = holders(of: address) else { return nil }
        // Whether the connection was there to break: its holder served it (asked last, it is the dear question).
        let served = { before.model(for: address).canServe(was[0], address: address) }
        // On one other node, or on none: the connection's packets reach no socket of it. On two
        // (a split brain), or back where it was after a move, a client's ARP cache decides.
        if now.count <= 1 && now != was { return served() ? .break : nil }
        if moved || now != was { return nil }
        if let action, action != .reload(node: was[0]) {
            let touched = Set(action.nodes)
            if touched.isEmpty || touched.contains(was[0]) || client.map(touched.contains) == true { return nil }
        }
        return served() ? .survive : nil
    }
}

extension VRRPWorlds {
    /// The fate of a connection `client` holds to `target`, a server beyond a gateway VIP (the
    /// next hop of the client's route to it), across a step that went from `before` to these
    /// worlds; nil where the model cannot tell, or where no VIP is the way.
    ///
    /// The gateway forwards the connection and keeps its state (the firewall's "seen open", the
    /// NAT's mapping) in its connection table. When the VIP moves to another gateway, the
    /// connection survives where both copied their tables to each other (conntrackd running on
    /// both before the step, and on the new one after). Where the old one did not copy, or the
    /// new one cannot commit the copy, it breaks if the new gateway drops a connection it saw no
    /// SYN of or masquerades it behind its own address, so the server sees a stranger (its boot
    /// scripts' rules say). Where the VIP stays and the step touches
    /// neither the gateway, the client nor the server, it survives; on no gateway, it breaks.
    public func forwardedConnectionFate(
        to target: String, from client: String, before: VRRPWorlds, moved: Set<String>, action: Fault?
    ) -> ConnectionFate? {
        guard let gateway = before.model.hop(from: client, to: target)?.gateway,
            before.virtualAddresses.contains(gateway)
        else { return nil }
        return forwardedConnectionFate(
            through: gateway, before: before, moved: moved.contains(gateway), action: action,
            ends: [client] + (before.model.owner(of: target).map { [$0] } ?? []))
    }

    /// The same through the gateway VIP `gateway`; `ends`: the client and the server, where known.
    public func forwardedConnectionFate(
        through gateway: String, before: VRRPWorlds, moved: Bool, action: Fault?, ends: [String]
    ) -> ConnectionFate? {
        guard let was = before.holders(of: gateway), was.count == 1, let now = holders(of: gateway) else { return nil }
        if now.isEmpty { return .break }
        if now.count == 1 && now != was {
            let (old, new) = (was[0], now[0])
            let (earlier, after) = (before.model(for: gateway), model(for: gateway))
            let firewall = after.nodes[new]?.statefulForwarding
            // Behind its own address, even a copied mapping names an address the new gateway lacks.
            if firewall == .masquerade { return .break }
            if !earlier.syncsConnections(old) || !after.syncsConnections(new) { return firewall == nil ? nil : .break }
            // A gateway that starts syncing during the step (booted) may or may not ask for the table in time.
            return earlier.syncsConnections(new) ? .survive : nil
        }
        if moved || now != was { return nil }
        if let action, action != .reload(node: was[0]) {
            let touched = Set(action.nodes)
            if touched.isEmpty || !touched.isDisjoint(with: [was[0]] + ends) { return nil }
        }
        return .survive
    }
}

extension VRRPModel {
    /// The addresses some node's route goes through: a VIP among them is a gateway.
    var gatewayAddresses: Set<String> { Set(nodes.values.flatMap { $0.routes.map(\.gateway) }) }

    /// Whether `node` copies its connection table to its peer now: conntrackd runs on it.
    func syncsConnections(_ node: String) -> Bool {
        nodes[node]?.services.contains("conntrackd") == true && network.runs(node)
            && serviceState("conntrackd", on: node) == .running
    }
}

extension VRRPModel.Node {
    /// What a node's firewall (its boot scripts, /etc/local.d) does with what it forwards.
    public struct Firewall: Sendable, Equatable {
        /// What it does with a forwarded connection it holds no state for; nil where the rules say neither.
        public var statefulForwarding: StatefulForwarding?
        /// Whether it rewrites the addresses of what it forwards (SNAT, masquerade).
        public var translatesAddresses: Bool

        init(_ files: [String: String]) {
            let rules = files.filter { $0.key.hasPrefix("/etc/local.d/") }.values.flatMap { $0.split(separator: "\n") }
                .filter { !$0.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("#") }
            let masquerades = rules.contains { $0.contains("MASQUERADE") || $0.contains(" masquerade") }
            let synOnly = rules.contains { $0.contains("--syn") }
            statefulForwarding = masquerades ? .masquerade : synOnly ? .newOnlyWithSYN : nil
            translatesAddresses = rules.contains { line in
                ["SNAT", "MASQUERADE", " snat ", " masquerade"].contains(where: line.contains)
            }
        }
    }

    public enum StatefulForwarding: Sendable, Equatable {
        /// It masquerades connections behind its own address: the server would see a stranger.
        case masquerade
        /// It forwards a new connection only with a SYN (`--syn`): a mid-stream packet is dropped.
        case newOnlyWithSYN
    }

    public var statefulForwarding: StatefulForwarding? { firewall.statefulForwarding }
    public var translatesAddresses: Bool { firewall.translatesAddresses }
}
