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
