/// The failures halab can make, in one vocabulary for the CLI (`halab chaos …`) and for
/// scenario steps (`chaos: kill nginx-1`).
public enum ChaosAction: Sendable, Equatable, CustomStringConvertible {
    /// `rc-service SERVICE stop` inside the node, as the document does.
    case stopService(String, node: String)
    case startService(String, node: String)
    /// A crash: every process of the node killed at once, its links dead.
    case kill(node: String)
    /// The crashed node booted again.
    case revive(node: String)

    public static let usage = "chaos actions: stop SERVICE NODE | start SERVICE NODE | kill NODE | revive NODE"

    public static func parse(_ words: [String]) throws -> ChaosAction {
        switch (words.first, words.count) {
        case ("stop", 3): return .stopService(words[1], node: words[2])
        case ("start", 3): return .startService(words[1], node: words[2])
        case ("kill", 2): return .kill(node: words[1])
        case ("revive", 2): return .revive(node: words[1])
        default: throw HALabError.usage("'\(words.joined(separator: " "))' is not a chaos action; \(usage)")
        }
    }

    /// The same failure as the VRRP model knows it.
    public var modelEvent: VRRPModel.Event {
        switch self {
        case .stopService(let service, let node): return .stopService(service, node: node)
        case .startService(let service, let node): return .startService(service, node: node)
        case .kill(let node): return .crash(node: node)
        case .revive(let node): return .revive(node: node)
        }
    }

    public var node: String {
        switch self {
        case .stopService(_, let node), .startService(_, let node), .kill(let node), .revive(let node): return node
        }
    }

    public var description: String {
        switch self {
        case .stopService(let service, let node): return "stop \(service) \(node)"
        case .startService(let service, let node): return "start \(service) \(node)"
        case .kill(let node): return "kill \(node)"
        case .revive(let node): return "revive \(node)"
        }
    }
}
