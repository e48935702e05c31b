import HALabBackends
import HALabModel
import HALabSystem

/// The failures halab can make, in one vocabulary for the CLI (`halab chaos …`) and for
/// scenario steps (`chaos: kill nginx-1`). The one owner of what a fault means: its words, the
/// nodes it touches, whether it injures or mends, the model's events for it, what it makes the
/// model blind to, and the backends' faults. Every switch over it is exhaustive, so the compiler
/// names each place a new fault must touch.
public enum ChaosAction: Sendable, Equatable, CustomStringConvertible {
    /// `rc-service SERVICE stop` inside the node, as the document does.
    case stopService(String, node: String)
    /// `rc-service SERVICE restart`: stopped, then started again.
    case restartService(String, node: String)
    /// keepalived re-reads its config (SIGHUP, as `rc-service keepalived reload`).
    case reload(node: String)
    case startService(String, node: String)
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

    /// Every action's words and what it does: `halab chaos --help`, and the usage message.
    public static let vocabulary: [(words: String, meaning: String)] = [
        ("stop SERVICE NODE", "rc-service SERVICE stop inside NODE (the document's failure)"),
        ("start SERVICE NODE", "rc-service SERVICE start inside NODE"),
        ("restart SERVICE NODE", "rc-service SERVICE restart inside NODE: stopped, then started"),
        ("reload NODE", "keepalived re-reads its config on NODE (SIGHUP)"),
        ("hang SERVICE NODE", "freeze SERVICE's processes (SIGSTOP): pidof finds them, nothing answers"),
        ("resume SERVICE NODE", "thaw them"),
        ("refuse SERVICE NODE", "SERVICE's port refuses new connections (nftables), its processes run"),
        ("accept SERVICE NODE", "let connections in again"),
        ("kill NODE", "crash NODE: every process killed at once, its links dead"),
        ("revive NODE", "boot a crashed NODE again"),
        ("link down|up NODE[:IFACE] [at-node]", "pull (or plug back) NODE's cables, or set its interfaces down (up)"),
        ("switch down|up SEGMENT", "every port of SEGMENT's switch down (a lost switch), or up again"),
        ("flap NODE[:IFACE] [COUNT] [SECONDS]", "the link down and up COUNT times (5), SECONDS each way (1)"),
        ("block-multicast NODE|all", "drop VRRP adverts (224.0.0.18, protocol 112) at NODE, or every switch"),
        ("unblock-multicast NODE|all", "let them through again"),
        ("partition A,B / C", "no frame crosses between the groups of nodes"),
        ("loss NODE PERCENT", "drop PERCENT % of NODE's packets, in and out"),
        ("delay NODE MS", "hold back every packet NODE sends by MS milliseconds (needs netem)"),
        ("pause NODE", "freeze every process of NODE (SIGSTOP, a VM suspended): a gray failure"),
        ("resume NODE", "thaw it"),
        ("heal [NODE]", "take off every fault in force (on NODE, or everywhere)"),
    ]

    public static var usage: String { "chaos actions: " + vocabulary.map(\.words).joined(separator: " | ") }

    /// VRRP's adverts: to 224.0.0.18, IP protocol 112 (RFC 3768 §5.2.2, §5.3).
    static let vrrpGroup = "224.0.0.18"
    static let vrrpProtocol = 112

    public static func parse(_ words: [String]) throws -> ChaosAction {
        let bad = HALabError.usage("'\(words.joined(separator: " "))' is not a chaos action; \(usage)")
        func number(_ word: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let value = Int(word), range.contains(value) else { throw bad }
            return value
        }
        switch (words.first, words.count) {
        case ("stop", 3): return .stopService(words[1], node: words[2])
        case ("start", 3): return .startService(words[1], node: words[2])
        case ("restart", 3): return .restartService(words[1], node: words[2])
        case ("reload", 2): return .reload(node: words[1])
        case ("hang", 3): return .hangService(words[1], node: words[2])
        case ("resume", 3): return .resumeService(words[1], node: words[2])
        case ("refuse", 3): return .refuseService(words[1], node: words[2])
        case ("accept", 3): return .acceptService(words[1], node: words[2])
        case ("kill", 2): return .kill(node: words[1])
        case ("revive", 2): return .revive(node: words[1])
        case ("link", 3), ("link", 4):
            guard ["down", "up"].contains(words[1]), words.count == 3 || words[3] == "at-node" else { throw bad }
            let target = words[2].split(separator: ":", maxSplits: 1).map(String.init)
            return .link(node: target[0], interface: target.count > 1 ? target[1] : nil, up: words[1] == "up", atNode: words.count == 4)
        case ("switch", 3):
            guard ["down", "up"].contains(words[1]) else { throw bad }
            return .switchPower(segment: words[2], on: words[1] == "up")
        case ("flap", 2...4):
            let target = words[1].split(separator: ":", maxSplits: 1).map(String.init)
            let count = words.count > 2 ? try number(words[2], 1...1000) : 5
            guard let interval = words.count > 3 ? Double(words[3]) : 1, (0.1...600).contains(interval) else { throw bad }
            return .flap(node: target[0], interface: target.count > 1 ? target[1] : nil, count: count, interval: interval)
        case ("block-multicast", 2): return .blockMulticast(node: words[1] == "all" ? nil : words[1])
        case ("unblock-multicast", 2): return .unblockMulticast(node: words[1] == "all" ? nil : words[1])
        case ("partition", _) where words.count > 1:
            let groups = words.dropFirst().joined(separator: " ").split(separator: "/").map {
                $0.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
            }
            guard groups.count >= 2, groups.allSatisfy({ !$0.isEmpty }) else { throw bad }
            return .partition(groups)
        case ("loss", 3): return .loss(node: words[1], percent: try number(words[2], 0...100))
        case ("delay", 3): return .delay(node: words[1], milliseconds: try number(words[2], 1...60_000))
        case ("pause", 2): return .pause(node: words[1])
        case ("resume", 2): return .resume(node: words[1])
        case ("heal", 1): return .heal(node: nil)
        case ("heal", 2): return .heal(node: words[1])
        default: throw bad
        }
    }

    /// The nodes the action names.
    public var nodes: [String] {
        switch self {
        case .stopService(_, let node), .startService(_, let node), .hangService(_, let node), .resumeService(_, let node),
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

    /// Whether the action puts a fault in force (rather than taking one off).
    public var injures: Bool {
        switch self {
        case .stopService, .hangService, .refuseService, .kill, .blockMulticast, .partition, .loss, .delay, .pause: true
        case .link(_, _, let up, _): !up
        case .switchPower(_, let on): !on
        case .startService, .resumeService, .acceptService, .revive, .unblockMulticast, .resume, .heal, .flap, .restartService, .reload: false
        }
    }

    /// Whether the action neither puts a fault in force nor takes one off: a flap, a restart, a reload.
    public var isOverWhenDone: Bool {
        switch self {
        case .flap, .restartService, .reload: true
        default: false
        }
    }

    /// Whether this action takes off the fault `injury` put in force.
    public func heals(_ injury: ChaosAction) -> Bool {
        switch (injury, self) {
        case (_, .heal(let node)): return node == nil || injury.nodes.contains(node!)
        case (.stopService(let service, let node), .startService(let other, let otherNode)),
             (.hangService(let service, let node), .resumeService(let other, let otherNode)),
             (.refuseService(let service, let node), .acceptService(let other, let otherNode)):
            return service == other && node == otherNode
        case (.hangService(_, let node), .revive(let other)): return node == other
        case (.stopService(_, let node), .revive(let other)), (.kill(let node), .revive(let other)),
             (.pause(let node), .resume(let other)): return node == other
        case (.link(let node, let interface, false, let side), .link(let other, let otherInterface, true, let otherSide)):
            return node == other && interface == otherInterface && side == otherSide
        case (.blockMulticast(let node), .unblockMulticast(let other)): return node == other
        case (.switchPower(let segment, false), .switchPower(let other, true)): return segment == other
        default: return false
        }
    }

    /// What the action does to what the model can follow: loss and delay at a node change odds
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
        case .stopService, .startService, .hangService, .resumeService, .refuseService, .acceptService, .kill, .revive, .link,
             .restartService, .reload, .switchPower, .flap, .blockMulticast, .unblockMulticast, .partition, .pause, .resume: .keeps
        }
    }

    /// The same failure as the VRRP model knows it. Loss and delay change odds and times,
    /// not states: the model follows none (see `sight`).
    public func modelEvents(nodes all: [String]) -> [VRRPModel.Event]? {
        switch self {
        case .stopService(let service, let node): return [.stopService(service, node: node)]
        case .startService(let service, let node): return [.startService(service, node: node)]
        // Its end state: stopped and started again (while it was stopped, the VIP may have moved and back).
        case .restartService(let service, let node): return [.stopService(service, node: node), .startService(service, node: node)]
        // Measured live (README, "Routine change"): the same config re-read changes no state.
        case .reload: return []
        case .hangService(let service, let node): return [.hangService(service, node: node)]
        case .resumeService(let service, let node): return [.resumeService(service, node: node)]
        case .refuseService(let service, let node): return [.refuseService(service, node: node)]
        case .acceptService(let service, let node): return [.acceptService(service, node: node)]
        case .kill(let node): return [.crash(node: node)]
        case .revive(let node): return [.revive(node: node)]
        case .link(let node, let interface, let up, _):
            return [up ? .linkUp(node: node, interface: interface) : .linkDown(node: node, interface: interface)]
        case .switchPower(let segment, let on): return [on ? .switchUp(segment: segment) : .switchDown(segment: segment)]
        // Its end state: a flap long enough for VRRP to react each time ends where one down and up does.
        case .flap(let node, let interface, _, _): return [.linkDown(node: node, interface: interface), .linkUp(node: node, interface: interface)]
        case .blockMulticast(let node): return (node.map { [$0] } ?? all).map { .blockMulticast(node: $0) }
        case .unblockMulticast(let node): return (node.map { [$0] } ?? all).map { .unblockMulticast(node: $0) }
        case .partition(let groups): return [.partition(groups)]
        case .pause(let node): return [.pause(node: node)]
        case .resume(let node): return [.resume(node: node)]
        case .heal(let node): return [.heal(node: node)]
        case .loss, .delay: return []
        }
    }

    public var description: String {
        switch self {
        case .stopService(let service, let node): return "stop \(service) \(node)"
        case .startService(let service, let node): return "start \(service) \(node)"
        case .restartService(let service, let node): return "restart \(service) \(node)"
        case .reload(let node): return "reload \(node)"
        case .hangService(let service, let node): return "hang \(service) \(node)"
        case .resumeService(let service, let node): return "resume \(service) \(node)"
        case .refuseService(let service, let node): return "refuse \(service) \(node)"
        case .acceptService(let service, let node): return "accept \(service) \(node)"
        case .kill(let node): return "kill \(node)"
        case .revive(let node): return "revive \(node)"
        case .link(let node, let interface, let up, let atNode):
            return "link \(up ? "up" : "down") \(node)\(interface.map { ":\($0)" } ?? "")\(atNode ? " at-node" : "")"
        case .switchPower(let segment, let on): return "switch \(on ? "up" : "down") \(segment)"
        case .flap(let node, let interface, let count, let interval):
            return "flap \(node)\(interface.map { ":\($0)" } ?? "") \(count) \(interval == interval.rounded() ? String(Int(interval)) : String(interval))"
        case .blockMulticast(let node): return "block-multicast \(node ?? "all")"
        case .unblockMulticast(let node): return "unblock-multicast \(node ?? "all")"
        case .partition(let groups): return "partition " + groups.map { $0.joined(separator: ",") }.joined(separator: " / ")
        case .loss(let node, let percent): return "loss \(node) \(percent)"
        case .delay(let node, let milliseconds): return "delay \(node) \(milliseconds)"
        case .pause(let node): return "pause \(node)"
        case .resume(let node): return "resume \(node)"
        case .heal(let node): return "heal" + (node.map { " \($0)" } ?? "")
        }
    }
}
