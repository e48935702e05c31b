import HALabModel

/// A lab's `scenario.yaml`: steps, each an optional action and the outcomes that must then
/// hold, eventually, within a deadline taken from the lab's VRRP timers.
public struct Scenario: Sendable {
    public var steps: [Step]
    /// Requests at a steady rate through the whole run (`load:`, `verify --load`).
    public var load: Load?
    /// A connection to each VIP held open across every step (`stream: true`, `verify --stream`),
    /// judged by the model where it can tell and by the step's `connections:`.
    public var stream = false
    /// Where the held connections go instead of the VIPs (`stream: [203.0.113.80]`): servers
    /// beyond a gateway VIP, so that each connection is forwarded by the gateway.
    public var streamTargets: [String] = []

    public struct Step: Sendable {
        public var name: String
        public var line: Int?
        public var action: Action?
        public var expected: Expected
        /// Invariants the step may break without failing (`accept:`); still reported.
        public var accept: Set<Invariant> = []
        /// The longest outage clients may see after the step's action, in seconds (`max-outage:`),
        /// judged on the probe's record.
        public var maxOutage: Double?
        /// How many of the step's requests under load may fail (`max-failed:`).
        public var maxFailed: FailureBudget?
        /// The slowest the 99th percentile of the step's good answers under load may be, in
        /// seconds (`max-p99:`).
        public var maxP99: Double?
        /// What becomes of a connection to each VIP held open across the step (`connections:`),
        /// opened before its action.
        public var connections: ConnectionFate?
    }

    /// What a step expects: outcomes written out, or the VRRP model's prediction (`expect: model`).
    public enum Expected: Sendable, Equatable {
        case listed([Expectation])
        case model

        public var listed: [Expectation] {
            if case .listed(let expectations) = self { return expectations }
            return []
        }
    }

    public enum Action: Sendable, Equatable, CustomStringConvertible {
        /// A shell command typed inside a node, such as the document's `rc-service nginx stop`.
        case run(node: String, command: String)
        case chaos(Fault)
        /// A file written in a node: a track file's value (a drain), as an operator writes it.
        case write(node: String, path: String, content: String)
        /// A changed file installed in a node, then keepalived reloaded or a service restarted.
        case rollout(Rollout)

        /// What the action amounts to in halab's vocabulary: `rc-service NAME stop|start` typed
        /// in a node is the service failure (or mend) of `chaos stop|start`; nil for any other command.
        public var chaosEquivalent: Fault? {
            switch self {
            case .chaos(let action): return action
            case .write, .rollout: return nil
            case .run(let node, let command):
                let words = command.split(separator: " ").map(String.init)
                guard words.count == 3, words[0] == "rc-service" else { return nil }
                switch words[2] {
                case "stop": return .stopService(words[1], node: node)
                case "start": return .startService(words[1], node: node)
                default: return nil
                }
            }
        }

        /// Whether the action puts a fault in force (rather than taking one off).
        public var injures: Bool { chaosEquivalent?.lifetime == .inForce }

        /// Whether this action takes off the fault `earlier` put in force.
        public func heals(_ earlier: Action) -> Bool {
            guard let injury = earlier.chaosEquivalent, let cure = chaosEquivalent else { return false }
            return cure.heals(injury)
        }

        /// The events as the VRRP model knows them; nil for an action it cannot follow.
        public func modelEvents(nodes: [String]) -> [VRRPModel.Event]? {
            if case .write(let node, let path, let content) = self {
                return [.writeFile(node: node, path: path, content: content)]
            }
            if case .rollout(let rollout) = self { return rollout.modelEvents }
            return chaosEquivalent?.events(nodes: nodes)
        }

        public var description: String {
            switch self {
            case .run(let node, let command): return "on \(node): \(command)"
            case .chaos(let action): return "chaos \(action)"
            case .write(let node, let path, let content):
                return "on \(node): write \(content.debugDescription) to \(path)"
            case .rollout(let rollout):
                return "on \(rollout.node): install \(rollout.from) as \(rollout.path), then \(rollout.then)"
            }
        }
    }

    /// `rollout: {on: NODE, file: PATH, from: LOCAL-FILE, then: reload | restart SERVICE}`.
    public struct Rollout: Sendable, Equatable {
        public var node: String
        /// The path in the node; the file it comes from, as the scenario names it; what it holds.
        public var path: String
        public var from: String
        public var content: String
        /// What follows the install: `reload NODE` or `restart SERVICE NODE`.
        public var then: Fault
        /// The node's keepalived instances in the new file, where it is the keepalived.conf the model reads.
        public var instances: [VRRPInstance]?

        /// keepalived re-reads a new config on reload and on restart. Another file of keepalived's
        /// (an included file, a check's script), or its config installed and not re-read, the
        /// model cannot follow; a file of another service changes nothing it knows.
        var modelEvents: [VRRPModel.Event]? {
            switch (then, instances) {
            case (.reload, let instances?): return [.reconfigure(node: node, instances: instances)]
            case (.restartService("keepalived", _), let instances?):
                return [
                    .stopService("keepalived", node: node), .reconfigure(node: node, instances: instances),
                    .startService("keepalived", node: node)
                ]
            case (_, nil) where !path.hasPrefix("/etc/keepalived/"): return then.events(nodes: [])
            default: return nil
            }
        }
    }
}
