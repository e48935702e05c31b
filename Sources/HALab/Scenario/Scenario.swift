/// A lab's `scenario.yaml`: steps, each an optional action and the outcomes a client must
/// then see, eventually, within a deadline taken from the lab's VRRP timers.
public struct Scenario: Sendable {
    public var steps: [Step]

    public struct Step: Sendable {
        public var name: String
        public var line: Int?
        public var action: Action?
        public var expectations: [Expectation]
        /// `expect: model`: the VRRP model's predicted holders, checked live.
        public var expectsModel = false
    }

    public enum Action: Sendable, Equatable, CustomStringConvertible {
        /// A shell command typed inside a node, such as the document's `rc-service nginx stop`.
        case run(node: String, command: String)
        case chaos(ChaosAction)

        /// The event as the VRRP model knows it; nil for a command it cannot follow.
        public var modelEvent: VRRPModel.Event? {
            switch self {
            case .chaos(let action): return action.modelEvent
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

        public var description: String {
            switch self {
            case .run(let node, let command): return "on \(node): \(command)"
            case .chaos(let action): return "chaos \(action)"
            }
        }
    }

    /// What `curl` from a node must see: one answer (`status`, `server`, `body`), or, over
    /// `samples` curls each on a new connection, every body the same (`every`) or a proper
    /// share of each name (`mix`, judged by `ShareTest`).
    public struct Expectation: Sendable, Equatable, CustomStringConvertible {
        public var url: String
        public var from: String
        public var status: Int?
        public var server: String?
        public var body: String?
        public var every: String?
        public var mix: [String]?
        public var samples: Int?
        /// curl must fail: no node serves the VIP.
        public var fails = false
        /// The nodes that must carry the URL's host (a VIP) on an interface.
        public var holders: [String]?
        /// Seconds from the action during which the expectation, once it holds, must keep
        /// holding: how "nothing changes" is checked.
        public var holdFor: Double?

        public init(url: String, from: String, status: Int? = nil, server: String? = nil, body: String? = nil,
                    every: String? = nil, mix: [String]? = nil, samples: Int? = nil, fails: Bool = false, holders: [String]? = nil,
                    holdFor: Double? = nil) {
            self.fails = fails
            self.holders = holders
            self.holdFor = holdFor
            self.url = url
            self.from = from
            self.status = status
            self.server = server
            self.body = body
            self.every = every
            self.mix = mix
            self.samples = samples
        }

        public static let defaultEverySamples = 20
        public static let defaultMixSamples = 200

        /// The host of the URL: `10.33.1.100`.
        public var host: String {
            let rest = url.split(separator: "://", maxSplits: 1).last.map(String.init) ?? url
            return String(rest.split(separator: "/").first?.split(separator: ":").first ?? "")
        }

        public var description: String {
            if let holders {
                return "\(host) held by \(holders.isEmpty ? "nobody" : holders.joined(separator: " and "))"
                    + (holdFor.map { " throughout \(String(format: "%.1f", $0)) s" } ?? "")
            }
            var parts = ["curl \(url) from \(from) →"]
            if fails { parts.append("fails") }
            if let status { parts.append("status \(status)") }
            if let server { parts.append("Server: \(server)") }
            if let body { parts.append("body '\(body)'") }
            if let every { parts.append("every one of \(samples ?? Self.defaultEverySamples) answers '\(every)'") }
            if let mix { parts.append("a share of \(mix.map { "'\($0)'" }.joined(separator: " and ")) over \(samples ?? Self.defaultMixSamples) answers") }
            return parts.joined(separator: " ")
        }
    }

    static func load(_ file: String, topology: LabTopology, defaultClient: String?) throws -> Scenario {
        let root = try YAMLValue.load(file).mapping(allowed: ["steps"], required: ["steps"], what: "scenario.yaml")
        let nodes = topology.nodes.map(\.name)
        func checkNode(_ node: String, _ value: YAMLValue) throws {
            guard nodes.contains(node) else {
                throw value.fail("unknown node '\(node)' (nodes: \(nodes.joined(separator: ", ")))")
            }
        }
        var steps: [Step] = []
        for value in try root["steps"]!.sequence(what: "steps") {
            let entries = try value.mapping(allowed: ["name", "on", "run", "chaos", "expect"], required: ["name"], what: "a step")
            var step = Step(name: try entries["name"]!.string(what: "name"), line: value.line, action: nil, expectations: [])
            switch (entries["run"], entries["on"], entries["chaos"]) {
            case (nil, nil, nil): break
            case (let run?, let on?, nil):
                let node = try on.string(what: "on")
                try checkNode(node, on)
                step.action = .run(node: node, command: try run.string(what: "run"))
            case (nil, nil, let chaos?):
                let words = try chaos.string(what: "chaos").split(separator: " ").map(String.init)
                let action: ChaosAction
                do { action = try ChaosAction.parse(words) } catch let error as HALabError { throw chaos.fail(error.description) }
                try checkNode(action.node, chaos)
                step.action = .chaos(action)
            default:
                throw value.fail("a step does one thing: 'run' with 'on' (a command in a node), or 'chaos'")
            }
            if let expect = entries["expect"], case .scalar = expect.node {
                guard try expect.string(what: "expect") == "model" else {
                    throw expect.fail("expect is a list of expectations, or 'model'")
                }
                if let blind = steps.first(where: { $0.action != nil && $0.action?.modelEvent == nil }) ?? (step.action != nil && step.action?.modelEvent == nil ? step : nil) {
                    throw expect.fail("the VRRP model cannot follow step '\(blind.name)' (a command other than rc-service start|stop): "
                        + "write its expectations out")
                }
                step.expectsModel = true
                steps.append(step)
                continue
            }
            for expected in try entries["expect"]?.sequence(what: "expect") ?? [] {
                let fields = try expected.mapping(
                    allowed: ["curl", "from", "status", "server", "body", "fails", "every", "mix", "samples"], required: ["curl"],
                    what: "an expectation")
                let from = try fields["from"]?.string(what: "from") ?? defaultClient
                guard let from else { throw expected.fail("no 'from' given and the lab has no node with role client") }
                try checkNode(from, fields["from"] ?? expected)
                let single = ["status", "server", "body", "fails"].filter { fields[$0] != nil }
                let sampled = ["every", "mix"].filter { fields[$0] != nil }
                guard single.isEmpty || sampled.isEmpty, sampled.count <= 1, !(single.isEmpty && sampled.isEmpty) else {
                    throw expected.fail("an expectation checks one answer (status, server, body, fails) or many (every, or mix)")
                }
                let samples = try fields["samples"]?.int(what: "samples")
                if let samples, sampled.isEmpty || samples < (fields["mix"] == nil ? 1 : 40) {
                    throw fields["samples"]!.fail("samples goes with every (at least 1) or mix (at least 40)")
                }
                let mix = try fields["mix"]?.strings(what: "mix")
                if let mix, mix.count < 2 { throw fields["mix"]!.fail("mix names at least two answers") }
                step.expectations.append(Expectation(
                    url: try fields["curl"]!.string(what: "curl"), from: from,
                    status: try fields["status"]?.int(what: "status"),
                    server: try fields["server"]?.string(what: "server"),
                    body: try fields["body"]?.string(what: "body"),
                    every: try fields["every"]?.string(what: "every"), mix: mix, samples: samples,
                    fails: try fields["fails"]?.bool(what: "fails") ?? false))
            }
            steps.append(step)
        }
        return Scenario(steps: steps)
    }
}
