import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// Reads `scenario.yaml` onto `Scenario`: every mistake is one message with the file and line.
struct ScenarioLoader {
    let topology: LabTopology
    let defaultClient: String?
    /// The lab's settle bound: how long `single` and `throughout` hold.
    let window: Double
    /// A node's keepalived config were this machine's file installed as its keepalived.conf.
    let installedConfig: (_ node: String, _ file: String) -> KeepalivedNodeConfig

    var nodes: [String] { topology.nodes.map(\.name) }

    /// The keys each mapping of scenario.yaml takes: `halab schema scenario` is made of them.
    static let rootKeys = ["steps", "load", "stream"]
    static let stepKeys = [
        "name", "on", "run", "chaos", "write", "rollout", "expect", "accept", "max-outage", "max-failed",
        "max-p99", "connections"
    ]
    static let loadKeys = ["rate"]
    static let writeKeys = ["on", "file", "content"]
    static let rolloutKeys = ["on", "file", "from", "then"]
    static let expectationKeys = [
        "curl", "from", "status", "server", "body", "fails", "every", "mix", "samples",
        "vip", "holders", "single", "throughout", "timeline", "preferred", "loss", "ping"
    ]

    func load(_ file: String) throws -> Scenario {
        let root = try YAMLValue.load(file).mapping(allowed: Self.rootKeys, required: ["steps"], what: "scenario.yaml")
        var steps: [Scenario.Step] = []
        for value in try root["steps"]!.sequence(what: "steps") {
            let entries = try value.mapping(allowed: Self.stepKeys, required: ["name"], what: "a step")
            var step = Scenario.Step(
                name: try entries["name"]!.string(what: "name"), line: value.line,
                action: try action(entries, value, folder: (file as NSString).deletingLastPathComponent),
                expected: .listed([]))
            if let expect = entries["expect"], case .scalar = expect.node {
                guard try expect.string(what: "expect") == "model" else {
                    throw expect.fail("expect is a list of expectations, or 'model'")
                }
                if let blind = (steps + [step]).first(where: {
                    $0.action != nil && $0.action?.modelEvents(nodes: nodes) == nil
                }) {
                    throw expect.fail(
                        "the VRRP model cannot follow step '\(blind.name)' (a command other than rc-service SERVICE "
                            + "start|stop, or a rollout of a keepalived file other than keepalived.conf re-read): "
                            + "write its expectations out"
                    )
                }
                step.expected = .model
            } else {
                step.expected = .listed(try (entries["expect"]?.sequence(what: "expect") ?? []).map(expectation))
            }
            for name in try entries["accept"]?.sequence(what: "accept") ?? [] {
                guard let invariant = Invariant(rawValue: try name.string(what: "accept")) else {
                    throw name.fail(
                        "accept names invariants: " + Invariant.allCases.map(\.rawValue).joined(separator: ", "))
                }
                step.accept.insert(invariant)
            }
            if let budget = entries["max-outage"] {
                guard let seconds = Double(try budget.string(what: "max-outage")), seconds > 0, seconds.isFinite else {
                    throw budget.fail("max-outage is the longest outage clients may see, in seconds, such as 0.5")
                }
                guard step.action != nil else {
                    throw budget.fail("max-outage judges the outage after a step's action: this step has none")
                }
                step.maxOutage = seconds
            }
            if let budget = entries["max-failed"] {
                do { step.maxFailed = try FailureBudget(try budget.string(what: "max-failed")) } catch {
                    throw budget.fail(FailureBudget.usage)
                }
            }
            if let budget = entries["max-p99"] {
                guard let seconds = Double(try budget.string(what: "max-p99")), seconds > 0, seconds.isFinite else {
                    throw budget.fail(Load.latencyUsage)
                }
                step.maxP99 = seconds
            }
            if let fate = entries["connections"] {
                guard let chosen = ConnectionFate(rawValue: try fate.string(what: "connections")) else {
                    throw fate.fail(
                        "connections is what becomes of a connection held open across the step: survive or break")
                }
                step.connections = chosen
            }
            steps.append(step)
        }
        var scenario = Scenario(steps: steps)
        if let stream = root["stream"] {
            if case .sequence = stream.node {
                scenario.streamTargets = try stream.strings(what: "stream")
                scenario.stream = true
            } else {
                scenario.stream = try stream.bool(what: "stream")
            }
        }
        let addresses = topology.nodes.flatMap(\.addresses)
        for target in scenario.streamTargets where !addresses.contains(target) {
            throw root["stream"]!.fail(
                "stream lists servers' addresses to hold a connection to; '\(target)' is no node's address (true "
                    + "holds one to each VIP)")
        }
        if let load = root["load"] {
            let fields = try load.mapping(allowed: Self.loadKeys, required: Self.loadKeys, what: "load")
            guard let rate = Double(try fields["rate"]!.string(what: "rate")), let chosen = try? Load(rate: rate) else {
                throw fields["rate"]!.fail(Load.usage)
            }
            scenario.load = chosen
        }
        return scenario
    }

    func checkNode(_ node: String, _ value: YAMLValue) throws {
        guard nodes.contains(node) else {
            throw value.fail("unknown node '\(node)' (nodes: \(nodes.joined(separator: ", ")))")
        }
    }

    func action(_ entries: [String: YAMLValue], _ step: YAMLValue, folder: String) throws -> Scenario.Action? {
        if let rollout = entries["rollout"] {
            guard entries["run"] == nil, entries["on"] == nil, entries["chaos"] == nil, entries["write"] == nil else {
                throw step.fail(
                    "a step does one thing: 'rollout' takes its node in it (rollout: {on: NODE, file: PATH, from: "
                        + "LOCAL-FILE, then: reload})"
                )
            }
            return .rollout(try self.rollout(rollout, folder: folder))
        }
        if let write = entries["write"] {
            guard entries["run"] == nil, entries["on"] == nil, entries["chaos"] == nil else {
                throw step.fail(
                    "a step does one thing: 'write' takes its node in it (write: {on: NODE, file: PATH, content: TEXT})"
                )
            }
            let fields = try write.mapping(allowed: Self.writeKeys, required: Self.writeKeys, what: "write")
            let node = try fields["on"]!.string(what: "on")
            try checkNode(node, fields["on"]!)
            let path = try fields["file"]!.string(what: "file")
            guard path.hasPrefix("/") else {
                throw fields["file"]!.fail("file is a path in the node, from / ('\(path)' is not)")
            }
            return .write(node: node, path: path, content: try fields["content"]!.string(what: "content"))
        }
        switch (entries["run"], entries["on"], entries["chaos"]) {
        case (nil, nil, nil): return nil
        case (let run?, let on?, nil):
            let node = try on.string(what: "on")
            try checkNode(node, on)
            return .run(node: node, command: try run.string(what: "run"))
        case (nil, nil, let chaos?):
            let words = try chaos.string(what: "chaos").split(separator: " ").map(String.init)
            let action: Fault
            do { action = try Fault.parse(words) } catch { throw chaos.fail("\(error)") }
            for node in action.nodes { try checkNode(node, chaos) }
            return .chaos(action)
        default:
            throw step.fail("a step does one thing: 'run' with 'on' (a command in a node), 'chaos', or 'write'")
        }
    }

    /// `rollout: {on: NODE, file: PATH, from: LOCAL-FILE, then: reload | restart SERVICE}`; the
    /// local file is read now, relative to the scenario's folder.
    func rollout(_ value: YAMLValue, folder: String) throws -> Scenario.Rollout {
        let fields = try value.mapping(allowed: Self.rolloutKeys, required: Self.rolloutKeys, what: "rollout")
        let node = try fields["on"]!.string(what: "on")
        try checkNode(node, fields["on"]!)
        let path = try fields["file"]!.string(what: "file")
        guard path.hasPrefix("/") else {
            throw fields["file"]!.fail("file is a path in the node, from / ('\(path)' is not)")
        }
        let from = try fields["from"]!.string(what: "from")
        let local = from.hasPrefix("/") ? from : "\(folder)/\(from)"
        guard FileSystem.isFile(local), let content = try? FileSystem.read(local) else {
            throw fields["from"]!.fail(
                "cannot read '\(local)': from is a file of this machine, relative to the scenario's folder")
        }
        let services = (try? topology.node(node).services) ?? []
        let words = try fields["then"]!.string(what: "then").split(separator: " ").map(String.init)
        let then: Fault
        switch words.count {
        case 1 where words[0] == "reload" && services.contains("keepalived"): then = .reload(node: node)
        case 2 where words[0] == "restart" && services.contains(words[1]): then = .restartService(words[1], node: node)
        default:
            throw fields["then"]!.fail(
                "then is 'reload' (keepalived re-reads its config) or 'restart SERVICE', a service of \(node): "
                    + services.joined(separator: ", "))
        }
        let instances = path == LabLoader.keepalivedConfig ? installedConfig(node, local).instances : nil
        return Scenario.Rollout(node: node, path: path, from: from, content: content, then: then, instances: instances)
    }

    func expectation(_ expected: YAMLValue) throws -> Expectation {
        let fields = try expected.mapping(allowed: Self.expectationKeys, what: "an expectation")
        if let ping = fields["ping"] { return try pingLoss(ping, fields, expected) }
        if let vip = fields["vip"], let timeline = fields["timeline"] {
            guard let preferred = fields["preferred"], let loss = fields["loss"] else {
                throw timeline.fail("a timeline needs 'preferred' (the node VRRP keeps electing) and 'loss' (percent)")
            }
            let node = try preferred.string(what: "preferred")
            try checkNode(node, preferred)
            return .takeovers(
                vip: try vip.string(what: "vip"), preferred: node, percent: try loss.int(what: "loss"),
                seconds: Double(try timeline.int(what: "timeline")))
        }
        if let vip = fields["vip"] { return try vipExpectation(vip, fields, expected) }
        guard let curl = fields["curl"] else {
            throw expected.fail("an expectation needs 'curl' (an answer) or 'vip' (its holders)")
        }
        let from = try fields["from"]?.string(what: "from") ?? defaultClient
        guard let from else { throw expected.fail("no 'from' given and the lab has no node with role client") }
        try checkNode(from, fields["from"] ?? expected)
        let request = Request(url: try curl.string(what: "curl"), from: from)
        let single = ["status", "server", "body", "fails"].filter { fields[$0] != nil }
        let sampled = ["every", "mix"].filter { fields[$0] != nil }
        guard single.isEmpty || sampled.isEmpty, sampled.count <= 1, !(single.isEmpty && sampled.isEmpty) else {
            throw expected.fail(
                "an expectation checks one answer (status, server, body, fails) or many (every, or mix)")
        }
        let samples = try fields["samples"]?.int(what: "samples")
        if let samples, sampled.isEmpty || samples < (fields["mix"] == nil ? 1 : 40) {
            throw fields["samples"]!.fail("samples goes with every (at least 1) or mix (at least 40)")
        }
        if let mix = fields["mix"] {
            let names = try mix.strings(what: "mix")
            guard names.count >= 2 else { throw mix.fail("mix names at least two answers") }
            return .mix(request, names: names, samples: samples ?? Expectation.defaultMixSamples)
        }
        if let every = fields["every"] {
            return .every(
                request, name: try every.string(what: "every"), samples: samples ?? Expectation.defaultEverySamples)
        }
        if try fields["fails"]?.bool(what: "fails") == true {
            guard single == ["fails"] else {
                throw expected.fail("'fails: true' checks that curl fails: it takes no status, server or body")
            }
            return .fails(request)
        }
        return .answer(
            request, status: try fields["status"]?.int(what: "status"),
            server: try fields["server"]?.string(what: "server"),
            body: try fields["body"]?.string(what: "body"))
    }

    func pingLoss(_ ping: YAMLValue, _ fields: [String: YAMLValue], _ expected: YAMLValue) throws -> Expectation {
        let from = try fields["from"]?.string(what: "from") ?? defaultClient
        guard let from, let loss = fields["loss"] else {
            throw ping.fail("ping needs 'loss' (percent) and a client or 'from'")
        }
        try checkNode(from, fields["from"] ?? expected)
        return .pingLoss(
            from: from, address: try ping.string(what: "ping"), percent: try loss.int(what: "loss"),
            samples: try fields["samples"]?.int(what: "samples") ?? 200)
    }

    /// `vip: ADDRESS` with `holders: [NODES]` (eventually; with `throughout: true`, then kept
    /// for the settle window) or `single: true` (exactly one holder all through the window).
    func vipExpectation(_ vip: YAMLValue, _ fields: [String: YAMLValue], _ expected: YAMLValue) throws -> Expectation {
        let address = try vip.string(what: "vip")
        guard AddressFamily.parse(address) != nil else {
            throw vip.fail("vip must be an IPv4 or IPv6 address, not '\(address)'")
        }
        let extra = fields.keys.filter { !["vip", "holders", "single", "throughout"].contains($0) }
        guard extra.isEmpty else {
            throw expected.fail(
                "a vip expectation takes holders, single and throughout, not \(extra.sorted().joined(separator: ", "))")
        }
        let single = try fields["single"]?.bool(what: "single") ?? false
        let holders = try fields["holders"]?.strings(what: "holders")
        guard single != (holders != nil) else {
            throw expected.fail("a vip expectation needs either holders or single: true")
        }
        if single { return .singleHolder(vip: address, window: window) }
        let throughout = try fields["throughout"]?.bool(what: "throughout") ?? false
        return .holders(vip: address, nodes: holders!, throughout: throughout ? window : nil)
    }
}
