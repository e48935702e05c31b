/// A lab's `scenario.yaml`: steps, each an optional action and the outcomes a client must
/// then see, eventually, within a deadline taken from the lab's VRRP timers.
public struct Scenario: Sendable {
    public var steps: [Step]

    public struct Step: Sendable {
        public var name: String
        public var line: Int?
        public var action: Action?
        public var expectations: [Expectation]
    }

    public enum Action: Sendable, Equatable, CustomStringConvertible {
        /// A shell command typed inside a node, such as the document's `rc-service nginx stop`.
        case run(node: String, command: String)
        case chaos(ChaosAction)

        public var description: String {
            switch self {
            case .run(let node, let command): return "on \(node): \(command)"
            case .chaos(let action): return "chaos \(action)"
            }
        }
    }

    /// What `curl` from a node must see.
    public struct Expectation: Sendable, Equatable, CustomStringConvertible {
        public var url: String
        public var from: String
        public var status: Int?
        public var server: String?
        public var body: String?

        public var description: String {
            var parts = ["curl \(url) from \(from) →"]
            if let status { parts.append("status \(status)") }
            if let server { parts.append("Server: \(server)") }
            if let body { parts.append("body '\(body)'") }
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
            for expected in try entries["expect"]?.sequence(what: "expect") ?? [] {
                let fields = try expected.mapping(allowed: ["curl", "from", "status", "server", "body"], required: ["curl"],
                                                  what: "an expectation")
                let from = try fields["from"]?.string(what: "from") ?? defaultClient
                guard let from else { throw expected.fail("no 'from' given and the lab has no node with role client") }
                try checkNode(from, fields["from"] ?? expected)
                step.expectations.append(Expectation(
                    url: try fields["curl"]!.string(what: "curl"), from: from,
                    status: try fields["status"]?.int(what: "status"),
                    server: try fields["server"]?.string(what: "server"),
                    body: try fields["body"]?.string(what: "body")))
            }
            steps.append(step)
        }
        return Scenario(steps: steps)
    }
}
