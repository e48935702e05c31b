/// A fault halab makes, or the action that mends one: one value for `halab chaos`, a scenario's
/// `chaos:`, the model, check's table, all-pairs, explore and the reports. It owns what a fault
/// means — its words, the nodes it touches, its kind, what mends it, how long it lasts, the
/// model's events for it — and HALab only carries it out. Every switch over it is exhaustive:
/// a new fault is a new case, and the compiler names every place it must be known.
public enum Fault: Sendable, Hashable, CustomStringConvertible {
    /// `rc-service SERVICE stop` inside the node, as the document does.
    case stopService(String, node: String)
    case startService(String, node: String)
    /// `rc-service SERVICE restart`: stopped, then started again.
    case restartService(String, node: String)
    /// keepalived re-reads its config (SIGHUP, as `rc-service keepalived reload`).
    case reload(node: String)
    /// The service's processes frozen (SIGSTOP): they live and listen, and answer nothing.
    case hangService(String, node: String)
    case resumeService(String, node: String)
    /// The service's ports refuse new connections (nftables in the node), its processes running.
    case refuseService(String, node: String)
    case acceptService(String, node: String)
    /// A crash: every process of the node killed at once, its links dead.
    case kill(node: String)
    /// The crashed node booted again.
    case revive(node: String)
    /// A link down or up: at the switch port (a pulled cable), or at the node's interface.
    case link(node: String, interface: String?, up: Bool, atNode: Bool)
    /// Every port of a segment's switch down (a switch lost), or up again.
    case switchPower(segment: String, on: Bool)
    /// The link down and up `count` times, `interval` seconds each way.
    case flap(node: String, interface: String?, count: Int, interval: Double)
    /// VRRP adverts dropped at a node, or at every switch when `node` is nil (`all`).
    case blockMulticast(node: String?)
    case unblockMulticast(node: String?)
    case partition([[String]])
    case loss(node: String, percent: Int)
    case delay(node: String, milliseconds: Int)
    case pause(node: String)
    case resume(node: String)
    /// Every fault in force (on one node, or everywhere) taken off.
    case heal(node: String?)

    /// The kinds of failure, by the names `--faults` takes: what check's table, all-pairs and
    /// explore are made of.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case stop, hang, refuse, kill, link, flap, block, partition, pause, loss
        /// keepalived restarted (routine, over when done): with nopreempt or equal priorities the
        /// VIP can end elsewhere.
        case restart
        case `switch`

        /// check's table: each service stopped, hung and refusing, a crash, each link down, each switch lost.
        public static let checkTable: Set<Kind> = [.stop, .hang, .refuse, .kill, .link, .switch]
        /// all-pairs unless told: each row runs live, so the kinds it always ran.
        public static let allPairsDefault: Set<Kind> = [.stop, .kill, .link, .switch]
        /// explore's draws: every kind but a lost switch, which is no node's.
        public static let explored = allCases.filter { $0 != .switch }

        /// `stop,kill,…` as `--faults` takes it (`block-multicast` for block too).
        public static func parse(_ list: String) -> Set<Kind>? {
            let kinds = list.split(separator: ",").map {
                Kind(rawValue: String($0).replacingOccurrences(of: "block-multicast", with: "block"))
            }
            return kinds.contains(nil) || kinds.isEmpty ? nil : Set(kinds.compactMap { $0 })
        }
    }

    /// How long a fault lasts: in force until something mends it, over once it is done (a
    /// flap, a restart, a reload), or it is itself a mend.
    public enum Lifetime: Sendable, Equatable {
        case inForce, overWhenDone, mends
    }

    /// The kind of failure it is; nil for a mend, a reload and a delay (no table has them).
    public var kind: Kind? {
        switch self {
        case .stopService: .stop
        case .hangService: .hang
        case .refuseService: .refuse
        case .kill: .kill
        case .link(_, _, let up, _): up ? nil : .link
        case .switchPower(_, let on): on ? nil : .switch
        case .flap: .flap
        case .blockMulticast: .block
        case .partition: .partition
        case .pause: .pause
        case .loss: .loss
        case .restartService: .restart
        case .startService, .reload, .resumeService, .acceptService, .revive, .unblockMulticast, .delay, .resume, .heal:
            nil
        }
    }

    public var lifetime: Lifetime {
        switch self {
        case .stopService, .hangService, .refuseService, .kill, .blockMulticast, .partition, .loss, .delay, .pause:
            .inForce
        case .link(_, _, let up, _): up ? .mends : .inForce
        case .switchPower(_, let on): on ? .mends : .inForce
        case .flap, .restartService, .reload: .overWhenDone
        case .startService, .resumeService, .acceptService, .revive, .unblockMulticast, .resume, .heal: .mends
        }
    }

    /// What takes the fault off again; nil for one not in force.
    public var mend: Fault? {
        switch self {
        case .stopService(let service, let node): .startService(service, node: node)
        case .hangService(let service, let node): .resumeService(service, node: node)
        case .refuseService(let service, let node): .acceptService(service, node: node)
        case .kill(let node): .revive(node: node)
        case .link(let node, let interface, let up, let atNode):
            up ? nil : .link(node: node, interface: interface, up: true, atNode: atNode)
        case .switchPower(let segment, let on): on ? nil : .switchPower(segment: segment, on: true)
        case .blockMulticast(let node): .unblockMulticast(node: node)
        case .pause(let node): .resume(node: node)
        case .partition(let groups): .heal(node: groups.first?.first)
        case .loss(let node, _), .delay(let node, _): .heal(node: node)
        case .startService, .restartService, .reload, .resumeService, .acceptService, .revive, .flap, .unblockMulticast,
            .resume, .heal:
            nil
        }
    }

    /// Whether this action takes off the fault `injury` put in force: its own mend, a heal of
    /// its node (or of every node), or a boot of the node it crashed or whose service it
    /// stopped or froze.
    public func heals(_ injury: Fault) -> Bool {
        switch self {
        case .heal(let node): return node.map(injury.nodes.contains) ?? true
        case .revive(let node):
            if case .kill(node) = injury { return true }
            if case .stopService(_, node) = injury { return true }
            if case .hangService(_, node) = injury { return true }
            return injury.mend == self
        case .startService, .resumeService, .acceptService, .link, .switchPower, .unblockMulticast, .resume:
            return injury.mend == self
        case .stopService, .restartService, .reload, .hangService, .refuseService, .kill, .flap, .blockMulticast,
            .partition, .loss,
            .delay, .pause:
            return false
        }
    }

    /// The nodes the fault names.
    public var nodes: [String] {
        switch self {
        case .stopService(_, let node), .startService(_, let node), .hangService(_, let node),
            .resumeService(_, let node),
            .refuseService(_, let node), .acceptService(_, let node), .kill(let node), .revive(let node),
            .restartService(_, let node), .reload(let node),
            .link(let node, _, _, _), .loss(let node, _), .delay(let node, _), .pause(let node), .resume(let node),
            .flap(let node, _, _, _):
            return [node]
        case .switchPower: return []
        case .blockMulticast(let node), .unblockMulticast(let node), .heal(let node): return node.map { [$0] } ?? []
        case .partition(let groups): return groups.flatMap { $0 }
        }
    }

    /// What the fault does to what the model can follow: loss and delay at a node change odds
    /// and times, which the model cannot follow, until that node (or every node) is healed.
    public enum Sight: Sendable, Equatable {
        case keeps
        case blinds(node: String)
        case restores(node: String?)
    }

    public var sight: Sight {
        switch self {
        case .loss(let node, _), .delay(let node, _): .blinds(node: node)
        case .heal(let node): .restores(node: node)
        case .stopService, .startService, .hangService, .resumeService, .refuseService, .acceptService, .kill, .revive,
            .link,
            .restartService, .reload, .switchPower, .flap, .blockMulticast, .unblockMulticast, .partition, .pause,
            .resume:
            .keeps
        }
    }

    /// The fault as the VRRP model follows it, `all` being the lab's nodes (for a fault at
    /// every switch). Loss and delay change odds and times, not states: the model follows none
    /// (see `sight`).
    public func events(nodes all: [String]) -> [VRRPModel.Event] {
        switch self {
        case .stopService(let service, let node): [.stopService(service, node: node)]
        case .startService(let service, let node): [.startService(service, node: node)]
        // Its end state: stopped and started again (while it was stopped, the VIP may have moved and back).
        case .restartService(let service, let node):
            [.stopService(service, node: node), .startService(service, node: node)]
        // Measured live (README, "Routine change"): the same config re-read changes no state.
        case .reload: []
        case .hangService(let service, let node): [.hangService(service, node: node)]
        case .resumeService(let service, let node): [.resumeService(service, node: node)]
        case .refuseService(let service, let node): [.refuseService(service, node: node)]
        case .acceptService(let service, let node): [.acceptService(service, node: node)]
        case .kill(let node): [.crash(node: node)]
        case .revive(let node): [.revive(node: node)]
        case .link(let node, let interface, let up, _):
            [up ? .linkUp(node: node, interface: interface) : .linkDown(node: node, interface: interface)]
        case .switchPower(let segment, let on): [on ? .switchUp(segment: segment) : .switchDown(segment: segment)]
        // Its end state: a flap long enough for VRRP to react each time ends where one down and up does.
        case .flap(let node, let interface, _, _):
            [.linkDown(node: node, interface: interface), .linkUp(node: node, interface: interface)]
        case .blockMulticast(let node): (node.map { [$0] } ?? all).map { .blockMulticast(node: $0) }
        case .unblockMulticast(let node): (node.map { [$0] } ?? all).map { .unblockMulticast(node: $0) }
        case .partition(let groups): [.partition(groups)]
        case .pause(let node): [.pause(node: node)]
        case .resume(let node): [.resume(node: node)]
        case .heal(let node): [.heal(node: node)]
        case .loss, .delay: []
        }
    }

    /// Its words, as `Fault.parse` takes them back; a flap's defaults (5 times, 1 s) unsaid.
    public var description: String {
        let target = { (node: String, interface: String?) in node + (interface.map { ":\($0)" } ?? "") }
        return switch self {
        case .stopService(let service, let node): "stop \(service) \(node)"
        case .startService(let service, let node): "start \(service) \(node)"
        case .restartService(let service, let node): "restart \(service) \(node)"
        case .reload(let node): "reload \(node)"
        case .hangService(let service, let node): "hang \(service) \(node)"
        case .resumeService(let service, let node): "resume \(service) \(node)"
        case .refuseService(let service, let node): "refuse \(service) \(node)"
        case .acceptService(let service, let node): "accept \(service) \(node)"
        case .kill(let node): "kill \(node)"
        case .revive(let node): "revive \(node)"
        case .link(let node, let interface, let up, let atNode):
            "link \(up ? "up" : "down") \(target(node, interface))\(atNode ? " at-node" : "")"
        case .switchPower(let segment, let on): "switch \(on ? "up" : "down") \(segment)"
        case .flap(let node, let interface, let count, let interval):
            "flap \(target(node, interface)) \(count)" + (interval == 1 ? "" : " " + Values.format(interval))
        case .blockMulticast(let node): "block-multicast \(node ?? "all")"
        case .unblockMulticast(let node): "unblock-multicast \(node ?? "all")"
        case .partition(let groups): "partition " + groups.map { $0.joined(separator: ",") }.joined(separator: " / ")
        case .loss(let node, let percent): "loss \(node) \(percent)"
        case .delay(let node, let milliseconds): "delay \(node) \(milliseconds)"
        case .pause(let node): "pause \(node)"
        case .resume(let node): "resume \(node)"
        case .heal(let node): "heal" + (node.map { " \($0)" } ?? "")
        }
    }
}
