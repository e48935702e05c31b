import HALabBackends
import HALabModel
import HALabSystem

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

        /// Whether the action puts a fault in force (rather than taking one off).
        public var injures: Bool {
            switch self {
            case .run(_, let command): return command.hasSuffix(" stop")
            case .chaos(let action):
                switch action {
                case .stopService, .kill, .blockMulticast, .partition, .loss, .delay, .pause: return true
                case .link(_, _, let up, _): return !up
                case .startService, .revive, .unblockMulticast, .resume, .heal: return false
                }
            }
        }

        /// Whether this action takes off the fault `earlier` put in force.
        public func heals(_ earlier: Action) -> Bool {
            switch (earlier, self) {
            case (.run(let node, let stop), .run(let other, let start)):
                return node == other && stop.hasSuffix(" stop") && start == stop.dropLast(4) + "start"
            case (.run(let node, _), .chaos(.revive(let other))): return node == other
            case (.chaos(let injury), .chaos(let cure)):
                switch (injury, cure) {
                case (_, .heal(let node)): return node == nil || injury.nodes.contains(node!)
                case (.stopService(let service, let node), .startService(let other, let otherNode)): return service == other && node == otherNode
                case (.stopService(_, let node), .revive(let other)), (.kill(let node), .revive(let other)),
                     (.pause(let node), .resume(let other)): return node == other
                case (.link(let node, let interface, false, let side), .link(let other, let otherInterface, true, let otherSide)):
                    return node == other && interface == otherInterface && side == otherSide
                case (.blockMulticast(let node), .unblockMulticast(let other)): return node == other
                default: return false
                }
            default: return false
            }
        }

        /// The events as the VRRP model knows them; nil for an action it cannot follow.
        public func modelEvents(nodes: [String]) -> [VRRPModel.Event]? {
            switch self {
            case .chaos(let action): return action.modelEvents(nodes: nodes)
            case .run(let node, let command):
                let words = command.split(separator: " ").map(String.init)
                guard words.count == 3, words[0] == "rc-service" else { return nil }
                switch words[2] {
                case "stop": return [.stopService(words[1], node: node)]
                case "start": return [.startService(words[1], node: node)]
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
        /// Exactly one node carries the VIP at every look, from the action on, for `holdFor`:
        /// no split brain, not even for a moment.
        public var singleHolder = false
        /// Seconds from the action during which the expectation, once it holds, must keep
        /// holding: how "nothing changes" is checked.
        public var holdFor: Double?
        /// Watch the VIP's holders this long under `loss` percent packet loss at `preferred`,
        /// and hold the takeovers seen to what VRRP predicts.
        public var timeline: Double?
        public var preferred: String?
        public var loss: Int?
        /// `ping` this address `samples` times: the share lost must fit `loss` percent.
        public var ping: String?
        /// Seconds to wait for it, when not the step's usual deadline.
        public var deadline: Double?

        public init(url: String, from: String, status: Int? = nil, server: String? = nil, body: String? = nil,
                    every: String? = nil, mix: [String]? = nil, samples: Int? = nil, fails: Bool = false, holders: [String]? = nil,
                    singleHolder: Bool = false, holdFor: Double? = nil) {
            self.fails = fails
            self.holders = holders
            self.singleHolder = singleHolder
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
            let window = holdFor.map { " throughout \(String(format: "%.1f", $0)) s" } ?? ""
            if let holders {
                return "\(host) held by \(holders.isEmpty ? "nobody" : holders.joined(separator: " and "))" + window
            }
            if singleHolder { return "\(host) held by exactly one node" + window }
            if let timeline, let preferred, let loss {
                return "\(host) watched for \(String(format: "%.0f", timeline)) s under \(loss) % loss at \(preferred): takeovers within VRRP's prediction"
            }
            if let ping, let loss { return "\(samples ?? 200) pings from \(from) to \(ping) → \(loss) % lost" }
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

    static func load(_ file: String, topology: LabTopology, defaultClient: String?, window: Double) throws -> Scenario {
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
                for node in action.nodes { try checkNode(node, chaos) }
                step.action = .chaos(action)
            default:
                throw value.fail("a step does one thing: 'run' with 'on' (a command in a node), or 'chaos'")
            }
            if let expect = entries["expect"], case .scalar = expect.node {
                guard try expect.string(what: "expect") == "model" else {
                    throw expect.fail("expect is a list of expectations, or 'model'")
                }
                let blind = (steps + [step]).first { $0.action != nil && $0.action?.modelEvents(nodes: nodes) == nil }
                if let blind {
                    throw expect.fail("the VRRP model cannot follow step '\(blind.name)' (a command other than rc-service start|stop): "
                        + "write its expectations out")
                }
                step.expectsModel = true
                steps.append(step)
                continue
            }
            for expected in try entries["expect"]?.sequence(what: "expect") ?? [] {
                let fields = try expected.mapping(
                    allowed: ["curl", "from", "status", "server", "body", "fails", "every", "mix", "samples",
                              "vip", "holders", "single", "throughout", "timeline", "preferred", "loss", "ping"],
                    what: "an expectation")
                if let ping = fields["ping"] {
                    let from = try fields["from"]?.string(what: "from") ?? defaultClient
                    guard let from, let loss = fields["loss"] else { throw ping.fail("ping needs 'loss' (percent) and a client or 'from'") }
                    try checkNode(from, fields["from"] ?? expected)
                    var expectation = Expectation(url: "", from: from, samples: try fields["samples"]?.int(what: "samples"))
                    expectation.ping = try ping.string(what: "ping")
                    expectation.loss = try loss.int(what: "loss")
                    step.expectations.append(expectation)
                    continue
                }
                if let vip = fields["vip"], let timeline = fields["timeline"] {
                    guard let preferred = fields["preferred"], let loss = fields["loss"] else {
                        throw timeline.fail("a timeline needs 'preferred' (the node VRRP keeps electing) and 'loss' (percent)")
                    }
                    var expectation = Expectation(url: "http://\(try vip.string(what: "vip"))", from: "")
                    expectation.timeline = Double(try timeline.int(what: "timeline"))
                    expectation.preferred = try preferred.string(what: "preferred")
                    try checkNode(expectation.preferred!, preferred)
                    expectation.loss = try loss.int(what: "loss")
                    step.expectations.append(expectation)
                    continue
                }
                if let vip = fields["vip"] {
                    step.expectations.append(try vipExpectation(vip, fields, expected, window: window))
                    continue
                }
                guard fields["curl"] != nil else { throw expected.fail("an expectation needs 'curl' (an answer) or 'vip' (its holders)") }
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

    /// `vip: ADDRESS` with `holders: [NODES]` (eventually; with `throughout: true`, then kept
    /// for the settle window) or `single: true` (exactly one holder all through the window).
    static func vipExpectation(_ vip: YAMLValue, _ fields: [String: YAMLValue], _ expected: YAMLValue, window: Double) throws -> Expectation {
        let address = try vip.string(what: "vip")
        guard IPv4.parse(address) != nil else { throw vip.fail("vip must be an IPv4 address, not '\(address)'") }
        let extra = fields.keys.filter { !["vip", "holders", "single", "throughout"].contains($0) }
        guard extra.isEmpty else { throw expected.fail("a vip expectation takes holders, single and throughout, not \(extra.sorted().joined(separator: ", "))") }
        let single = try fields["single"]?.bool(what: "single") ?? false
        let holders = try fields["holders"]?.strings(what: "holders")
        guard single != (holders != nil) else { throw expected.fail("a vip expectation needs either holders or single: true") }
        let throughout = try fields["throughout"]?.bool(what: "throughout") ?? false
        return Expectation(url: "http://\(address)", from: "", holders: holders, singleHolder: single,
                           holdFor: single || throughout ? window : nil)
    }
}
