/// A fault's words: `kill nginx-1`, `link down nginx-1:eth2 at-node`, `partition a / b,c`. Each
/// fault has a verb (its first word); the vocabulary and the parser switch over the verbs, and
/// `Fault.verb` over the faults, so a new fault is known to both, or the compiler says where not.
extension Fault {
    public enum Verb: String, Sendable, CaseIterable {
        case stop, start, restart, reload, hang, resume, refuse, accept, kill, revive, link
        case `switch`, flap, blockMulticast = "block-multicast", unblockMulticast = "unblock-multicast"
        case partition, loss, delay, pause, heal

        /// The verb's forms, each with what it does: `halab chaos --help`, and the usage message.
        public var forms: [(words: String, meaning: String)] {
            switch self {
            case .stop: [("stop SERVICE NODE", "rc-service SERVICE stop inside NODE (the document's failure)")]
            case .start: [("start SERVICE NODE", "rc-service SERVICE start inside NODE")]
            case .restart: [("restart SERVICE NODE", "rc-service SERVICE restart inside NODE: stopped, then started")]
            case .reload: [("reload NODE", "keepalived re-reads its config on NODE (SIGHUP)")]
            case .hang:
                [("hang SERVICE NODE", "freeze SERVICE's processes (SIGSTOP): pidof finds them, nothing answers")]
            case .resume: [("resume SERVICE NODE", "thaw them"), ("resume NODE", "thaw a paused NODE")]
            case .refuse:
                [("refuse SERVICE NODE", "SERVICE's port refuses new connections (nftables), its processes run")]
            case .accept: [("accept SERVICE NODE", "let connections in again")]
            case .kill: [("kill NODE", "crash NODE: every process killed at once, its links dead")]
            case .revive: [("revive NODE", "boot a crashed NODE again")]
            case .link:
                [
                    (
                        "link down|up NODE[:IFACE] [at-node]",
                        "pull (or plug back) NODE's cables, or set its interfaces down (up)"
                    )
                ]
            case .switch:
                [("switch down|up SEGMENT", "every port of SEGMENT's switch down (a lost switch), or up again")]
            case .flap:
                [("flap NODE[:IFACE] [COUNT] [SECONDS]", "the link down and up COUNT times (5), SECONDS each way (1)")]
            case .blockMulticast:
                [("block-multicast NODE|all", "drop VRRP adverts (224.0.0.18, protocol 112) at NODE, or every switch")]
            case .unblockMulticast: [("unblock-multicast NODE|all", "let them through again")]
            case .partition: [("partition A,B / C", "no frame crosses between the groups of nodes")]
            case .loss: [("loss NODE PERCENT", "drop PERCENT % of NODE's packets, in and out")]
            case .delay: [("delay NODE MS", "hold back every packet NODE sends by MS milliseconds (needs netem)")]
            case .pause: [("pause NODE", "freeze every process of NODE (SIGSTOP, a VM suspended): a gray failure")]
            case .heal: [("heal [NODE]", "take off every fault in force (on NODE, or everywhere)")]
            }
        }

        /// The fault these words (after the verb) make; nil when they do not fit.
        func fault(_ words: [String]) -> Fault? {
            let number = { (word: String, range: ClosedRange<Int>) in
                Int(word).flatMap { range.contains($0) ? $0 : nil }
            }
            let target = { (word: String) in
                let parts = word.split(separator: ":", maxSplits: 1).map(String.init)
                return (node: parts.first ?? word, interface: parts.count > 1 ? parts[1] : nil)
            }
            let direction = words.first.flatMap { ["down": false, "up": true][$0] }
            switch (self, words.count) {
            case (.stop, 2): return .stopService(words[0], node: words[1])
            case (.start, 2): return .startService(words[0], node: words[1])
            case (.restart, 2): return .restartService(words[0], node: words[1])
            case (.reload, 1): return .reload(node: words[0])
            case (.hang, 2): return .hangService(words[0], node: words[1])
            case (.resume, 2): return .resumeService(words[0], node: words[1])
            case (.resume, 1): return .resume(node: words[0])
            case (.refuse, 2): return .refuseService(words[0], node: words[1])
            case (.accept, 2): return .acceptService(words[0], node: words[1])
            case (.kill, 1): return .kill(node: words[0])
            case (.revive, 1): return .revive(node: words[0])
            case (.link, 2), (.link, 3):
                guard let up = direction, words.count == 2 || words[2] == "at-node" else { return nil }
                let (node, interface) = target(words[1])
                return .link(node: node, interface: interface, up: up, atNode: words.count == 3)
            case (.switch, 2): return direction.map { .switchPower(segment: words[1], on: $0) }
            case (.flap, 1...3):
                let (node, interface) = target(words[0])
                guard let count = words.count > 1 ? number(words[1], 1...1000) : 5,
                    let interval = words.count > 2 ? Double(words[2]) : 1, (0.1...600).contains(interval)
                else { return nil }
                return .flap(node: node, interface: interface, count: count, interval: interval)
            case (.blockMulticast, 1): return .blockMulticast(node: words[0] == "all" ? nil : words[0])
            case (.unblockMulticast, 1): return .unblockMulticast(node: words[0] == "all" ? nil : words[0])
            case (.partition, _):
                let groups = words.joined(separator: " ").split(separator: "/").map {
                    $0.split(separator: ",").map { String($0.trimmingBlanks()) }.filter { !$0.isEmpty }
                }
                return groups.count >= 2 && groups.allSatisfy({ !$0.isEmpty }) ? .partition(groups) : nil
            case (.loss, 2): return number(words[1], 0...100).map { .loss(node: words[0], percent: $0) }
            case (.delay, 2): return number(words[1], 1...60_000).map { .delay(node: words[0], milliseconds: $0) }
            case (.pause, 1): return .pause(node: words[0])
            case (.heal, 0): return .heal(node: nil)
            case (.heal, 1): return .heal(node: words[0])
            case (.stop, _), (.start, _), (.restart, _), (.reload, _), (.hang, _), (.resume, _), (.refuse, _),
                (.accept, _), (.kill, _),
                (.revive, _), (.link, _), (.switch, _), (.flap, _), (.blockMulticast, _), (.unblockMulticast, _),
                (.loss, _), (.delay, _),
                (.pause, _), (.heal, _):
                return nil
            }
        }
    }

    /// Its verb: the first of its words.
    public var verb: Verb {
        switch self {
        case .stopService: .stop
        case .startService: .start
        case .restartService: .restart
        case .reload: .reload
        case .hangService: .hang
        case .resumeService, .resume: .resume
        case .refuseService: .refuse
        case .acceptService: .accept
        case .kill: .kill
        case .revive: .revive
        case .link: .link
        case .switchPower: .switch
        case .flap: .flap
        case .blockMulticast: .blockMulticast
        case .unblockMulticast: .unblockMulticast
        case .partition: .partition
        case .loss: .loss
        case .delay: .delay
        case .pause: .pause
        case .heal: .heal
        }
    }

    /// Every fault's words and what it does.
    public static var vocabulary: [(words: String, meaning: String)] { Verb.allCases.flatMap(\.forms) }

    public static var usage: String { "chaos actions: " + vocabulary.map(\.words).joined(separator: " | ") }

    public enum WordsError: Error, CustomStringConvertible {
        case notAFault(String)
        public var description: String {
            switch self {
            case .notAFault(let words): "'\(words)' is not a chaos action; \(Fault.usage)"
            }
        }
    }

    /// The fault `words` name, as `halab chaos` and a scenario's `chaos:` take them.
    public static func parse(_ words: [String]) throws -> Fault {
        guard let verb = words.first.flatMap(Verb.init(rawValue:)), let fault = verb.fault(Array(words.dropFirst()))
        else {
            throw WordsError.notAFault(words.joined(separator: " "))
        }
        return fault
    }

    /// The fault these words name, split at blanks.
    public static func parse(_ text: String) throws -> Fault { try parse(text.split(separator: " ").map(String.init)) }
}
