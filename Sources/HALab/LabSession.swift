import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// A lab that is up: the loaded lab folder plus the backend that built it. Everything the
/// CLI does to a running lab goes through here.
public struct LabSession: Sendable {
    public let lab: Lab
    public let backend: any LabBackend

    public init(lab: Lab, backend: any LabBackend) {
        self.lab = lab
        self.backend = backend
    }

    /// The session of a lab that is up: the one named, or the only one.
    public static func attach(_ name: String?, backend: any LabBackend) throws -> LabSession {
        let up = backend.labsUp()
        let chosen: String
        if let name {
            let labName = name.contains("/") ? URL(fileURLWithPath: name).lastPathComponent : name
            guard up.contains(labName) else { throw HALabError.labNotUp(labName) }
            chosen = labName
        } else {
            guard up.count == 1 else { throw HALabError.whichLab(up: up) }
            chosen = up[0]
        }
        return LabSession(lab: try Lab.load(folder: try backend.source(of: chosen)), backend: backend)
    }

    // MARK: Up and down

    public struct Convergence: Sendable {
        /// Seconds from the start of `up` until halab had started every node.
        public var started: Double
        /// Seconds from the start of `up` until every VIP answered from its expected holder.
        public var answered: Double
    }

    /// Builds the lab and waits until each VIP answers from the node that should hold it.
    /// A failure leaves nothing behind.
    public static func up(_ lab: Lab, backend: any LabBackend, progress: @escaping @Sendable (String) -> Void)
        async throws -> (LabSession, Convergence)
    {
        let clock = ContinuousClock()
        let start = clock.now
        let session = LabSession(lab: lab, backend: backend)
        do {
            try await backend.up(lab.topology, source: lab.folder, progress: progress)
            let started = (clock.now - start).seconds
            let deadline = lab.startBound + backend.startAllowance
            for (address, node) in lab.healthyHolders {
                progress("waiting for \(address) to answer from \(node) (VRRP's election; at most \(String(format: "%.1f", deadline)) s)")
                let expectation = Scenario.Expectation(url: "http://\(address)/", from: try session.client(), status: 200, body: node)
                let outcome = try await session.await(expectation, deadline: deadline)
                guard outcome.passed else {
                    let logs = session.keepalivedLogTails().map { "\n  \($0.node): " + $0.lines.joined(separator: "\n    ") }.joined()
                    throw HALabError.notConverged("\(address) did not answer from \(node) within \(String(format: "%.1f", deadline)) s; "
                                                  + "last seen: \(outcome.seen)\nlast keepalived log lines:\(logs)")
                }
            }
            return (session, Convergence(started: started, answered: (clock.now - start).seconds))
        } catch {
            // Nothing half-built: a lab we failed to bring up is taken down again. A lab that
            // was already up was not ours to touch.
            if !((error as? HALabError).map({ if case .labAlreadyUp = $0 { true } else { false } }) ?? false) {
                _ = try? await backend.down(lab.name)
            }
            throw error
        }
    }

    // MARK: Clients

    public func client() throws -> String {
        guard let node = lab.clientNode else {
            throw HALabError.usage("lab '\(lab.name)' has no node with role client: name one with --from")
        }
        return node
    }

    /// What one curl saw.
    public struct CurlResponse: Sendable, Equatable {
        public var exitCode: Int32
        public var status: Int?
        public var server: String?
        public var body: String
        /// Everything curl printed, as it printed it.
        public var transcript: String
        public var error: String

        public var summary: String {
            exitCode != 0 ? "curl failed (exit \(exitCode)): \(error.trimmingSpaces())"
                : "status \(status.map(String.init) ?? "?"), Server: \(server ?? "-"), body '\(body.trimmingSpaces())'"
        }
    }

    /// Runs curl inside `node`: lab traffic never leaves the lab's namespaces.
    public func curl(_ url: String, from node: String, timeout: Double = 1) async throws -> CurlResponse {
        let result = try await backend.exec(lab.name, node: node,
                                            ["curl", "-s", "-S", "-i", "--max-time", String(timeout), url])
        return Self.parseCurl(result)
    }

    static func parseCurl(_ result: CommandResult) -> CurlResponse {
        var response = CurlResponse(exitCode: result.exitCode, status: nil, server: nil, body: "",
                                    transcript: result.output, error: result.errorOutput)
        guard result.succeeded else { return response }
        let text = result.output.replacingOccurrences(of: "\r\n", with: "\n")
        let (head, body) = text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) }
            ?? (text, "")
        let lines = head.split(separator: "\n")
        response.status = lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) }
        response.server = lines.dropFirst().first { $0.lowercased().hasPrefix("server:") }
            .map { String($0.dropFirst("server:".count)).trimmingSpaces() }
        response.body = body
        return response
    }

    /// Whether a response is what an expectation asks for.
    public static func matches(_ response: CurlResponse, _ expected: Scenario.Expectation) -> Bool {
        if expected.fails { return response.exitCode != 0 }
        guard response.exitCode == 0 else { return false }
        if let status = expected.status, response.status != status { return false }
        if let server = expected.server, response.server != server { return false }
        if let body = expected.body, response.body.trimmingSpaces() != body { return false }
        return true
    }

    public struct Outcome: Sendable {
        public var passed: Bool
        /// Seconds until the expectation held (or until the deadline passed).
        public var elapsed: Double
        /// The last response, summarised.
        public var seen: String
    }

    /// Polls until `expected` holds or `deadline` seconds have passed. A `mix` is judged once,
    /// on its samples: polling it until it passes would wear its false-failure bound away.
    public func await(_ expected: Scenario.Expectation, deadline: Double) async throws -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        var heldSince: Double?
        while true {
            let passed: Bool
            let seen: String
            if expected.timeline != nil {
                return try await watchUnderLoss(expected)
            } else if let address = expected.ping, let loss = expected.loss {
                return try await pingLoss(address, from: expected.from, count: expected.samples ?? 200, loss: loss)
            } else if let names = expected.mix {
                let answers = try await sample(expected.url, from: expected.from, count: expected.samples ?? Scenario.Expectation.defaultMixSamples)
                let range = ShareTest.acceptedRange(samples: answers.count, names: names.count)
                return Outcome(passed: ShareTest.judge(answers, names: names), elapsed: (clock.now - start).seconds,
                               seen: Self.tally(answers) + " (each name \(range.lowerBound)…\(range.upperBound) passes)")
            } else if let name = expected.every {
                let answers = try await sample(expected.url, from: expected.from, count: expected.samples ?? Scenario.Expectation.defaultEverySamples)
                (passed, seen) = (answers.allSatisfy { $0 == name }, Self.tally(answers))
            } else if expected.holders != nil || expected.singleHolder {
                let held = try await holders(of: expected.host)
                passed = expected.holders.map { Set(held) == Set($0) } ?? (held.count == 1)
                seen = "held by " + (held.isEmpty ? "nobody" : held.joined(separator: " and ")) + (held.count > 1 ? " (split brain)" : "")
                if expected.singleHolder && !passed {
                    return Outcome(passed: false, elapsed: (clock.now - start).seconds, seen: seen)
                }
            } else {
                let response = try await curl(expected.url, from: expected.from, timeout: 0.5)
                (passed, seen) = (Self.matches(response, expected), response.summary)
            }
            let elapsed = (clock.now - start).seconds
            if let holdFor = expected.holdFor {
                // Once it holds, it must keep holding until `holdFor` after the action.
                if let since = heldSince, !passed {
                    return Outcome(passed: false, elapsed: elapsed, seen: "\(seen) after holding from \(String(format: "%.2f", since)) s")
                }
                if passed && heldSince == nil { heldSince = elapsed }
                if let since = heldSince, elapsed >= holdFor { return Outcome(passed: true, elapsed: since, seen: seen) }
                if heldSince == nil && elapsed >= deadline { return Outcome(passed: false, elapsed: elapsed, seen: seen) }
            } else if passed || elapsed >= deadline {
                return Outcome(passed: passed, elapsed: elapsed, seen: seen)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Watches a VIP's holders under packet loss at the preferred node and counts takeovers
    /// (another node holding it); passes if they are no more than VRRP's prediction allows
    /// (a Poisson bound, false failure below 1e-6) and the preferred node holds it at the end.
    func watchUnderLoss(_ expected: Scenario.Expectation) async throws -> Outcome {
        let (window, preferred, loss) = (expected.timeline!, expected.preferred!, Double(expected.loss!) / 100)
        let peers = lab.instances.filter { $0.virtualAddresses.contains(expected.host) }
        let backups = peers.filter { $0.node != preferred }
        let advert = peers.first?.advertInterval ?? 1
        // The fastest backup's timer bounds the takeovers from above.
        let masterDown = backups.map { $0.masterDownInterval(priority: $0.priority) }.min() ?? 3 * advert
        let rate = LossPrediction.takeoverRate(loss: loss, advertInterval: advert, masterDownInterval: masterDown)
        let bound = LossPrediction.poissonUpperBound(mean: rate * window)
        let clock = ContinuousClock()
        let start = clock.now
        var takeovers = 0
        var samples = 0
        var preferredAlone = 0
        var last: [String] = []
        var wasTaken = false
        while (clock.now - start).seconds < window {
            last = try await holders(of: expected.host)
            samples += 1
            let taken = last.contains { $0 != preferred }
            if taken && !wasTaken { takeovers += 1 }
            if last == [preferred] { preferredAlone += 1 }
            wasTaken = taken
            try await Task.sleep(for: .milliseconds(100))
        }
        let passed = takeovers <= bound && last == [preferred]
        let seen = "\(takeovers) takeovers in \(String(format: "%.0f", window)) s (VRRP predicts \(String(format: "%.2f", rate * window)) on average, "
            + "at most \(bound)); \(preferred) alone in \(preferredAlone) of \(samples) looks; at the end held by \(last.joined(separator: " and "))"
        return Outcome(passed: passed, elapsed: (clock.now - start).seconds, seen: seen)
    }

    /// Pings `address` from `node` and checks the share lost against `loss` percent (a
    /// binomial bound, false failure below 1e-6): proof that a loss fault is really in force.
    func pingLoss(_ address: String, from node: String, count: Int, loss: Int) async throws -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await backend.exec(lab.name, node: node, ["ping", "-q", "-n", "-c", "\(count)", "-i", "0.01", "-W", "1", address])
        let summary = result.output.split(separator: "\n").first { $0.contains("packets transmitted") }.map(String.init) ?? ""
        let numbers = summary.split(separator: ",").compactMap { $0.split(separator: " ").first.flatMap { Int($0) } }
        guard numbers.count >= 2 else {
            return Outcome(passed: false, elapsed: (clock.now - start).seconds, seen: "ping said: \(result.output)\(result.errorOutput)")
        }
        let lost = numbers[0] - numbers[1]
        let range = ShareTest.acceptedRange(samples: numbers[0], probability: Double(loss) / 100)
        return Outcome(passed: range.contains(lost), elapsed: (clock.now - start).seconds,
                       seen: "\(lost) of \(numbers[0]) lost (\(range.lowerBound)…\(range.upperBound) fit \(loss) %)")
    }

    /// `count` curls from `node`, each on a new connection, in one process inside the node:
    /// each answer's body (one line), or `curl failed`.
    public func sample(_ url: String, from node: String, count: Int) async throws -> [String] {
        let script = #"i=0; while [ $i -lt "$2" ]; do printf '%s\n' "$(curl -s --max-time 1 "$1" || echo 'curl failed')"; i=$((i + 1)); done"#
        let result = try await backend.exec(lab.name, node: node, ["/bin/sh", "-c", script, "sample", url, String(count)])
        return result.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// `nginx-1 ×104, nginx-2 ×96 of 200`
    static func tally(_ answers: [String]) -> String {
        let counts = Dictionary(grouping: answers, by: { $0 }).mapValues(\.count)
        return counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ") + " of \(answers.count)"
    }

    // MARK: Chaos

    /// Makes `action`; returns when its fault was in place (seconds since the epoch): once the
    /// call is done, except a crash, in place when the node went dark, and a revive, once the
    /// node's keepalived has entered its first state (its timers start there).
    @discardableResult public func perform(_ action: ChaosAction) async throws -> Double {
        for node in action.nodes { _ = try lab.topology.node(node) }
        let vrrp = { (node: String?) in NetworkFault.dropMulticast(node: node, group: ChaosAction.vrrpGroup, ipProtocol: ChaosAction.vrrpProtocol) }
        switch action {
        case .stopService(let service, let node), .startService(let service, let node):
            let verb = if case .stopService = action { "stop" } else { "start" }
            let result = try await backend.exec(lab.name, node: node, ["rc-service", service, verb])
            guard result.succeeded else {
                throw HALabError.commandFailed(command: "rc-service \(service) \(verb) on \(node)",
                                               status: "exit \(result.exitCode)", output: result.output + result.errorOutput)
            }
        case .kill(let node): return try await backend.crash(lab.name, node: node)
        case .revive(let node):
            let logged = keepalivedLog(of: node)?.utf8.count ?? 0
            try await backend.revive(lab.name, node: node)
            if try lab.topology.node(node).services.contains("keepalived") { await awaitKeepalivedStart(on: node, logAfter: logged) }
        case .link(let node, let interface, let up, let atNode):
            guard let interface = interface ?? lab.topology.nodes.first(where: { $0.name == node })?.interfaces.first?.name else {
                throw HALabError.usage("node '\(node)' has no interface")
            }
            let fault = NetworkFault.linkDown(node: node, interface: interface, atSwitch: !atNode)
            if up { try await backend.heal(lab.name, fault) } else { try await backend.inject(lab.name, fault) }
        case .blockMulticast(let node): try await backend.inject(lab.name, vrrp(node))
        case .unblockMulticast(let node): try await backend.heal(lab.name, vrrp(node))
        case .partition(let groups): try await backend.inject(lab.name, .partition(groups))
        case .loss(let node, let percent): try await backend.inject(lab.name, .loss(node: node, percent: percent))
        case .delay(let node, let milliseconds): try await backend.inject(lab.name, .delay(node: node, milliseconds: milliseconds))
        case .pause(let node): try await backend.inject(lab.name, .pause(node: node))
        case .resume(let node): try await backend.heal(lab.name, .pause(node: node))
        case .heal(let node):
            for fault in backend.faults(lab.name) where node == nil || fault.nodes.contains(node!) {
                try await backend.heal(lab.name, fault)
            }
        }
        return Date().timeIntervalSince1970
    }

    /// Makes `action` while halab-probe runs from the client, and measures what the client
    /// saw on each VIP: `seconds` of watching after the action (default: the settle bound + 2 s).
    public func measure(_ action: ChaosAction, seconds: Double? = nil) async throws -> [OutageMeasurement] {
        let stop = StopSignal()
        let addresses = lab.virtualAddresses.map(\.address)
        async let record = backend.probe(lab.name, node: try client(), addresses: addresses, interval: 10, seconds: 600,
                                         until: { await stop.wait() })
        var faultAt = 0.0, took = 0.0
        do {
            try await Task.sleep(for: .seconds(1))
            faultAt = Date().timeIntervalSince1970
            took = try await perform(action) - faultAt
            try await Task.sleep(for: .seconds(seconds ?? lab.settleBound + 2))
        } catch {
            await stop.fire()
            _ = try? await record
            throw error
        }
        await stop.fire()
        let samples = ProbeSample.parse(try await record)
        // The timers' bound for this action as the model sees it from a healthy lab; the
        // worst case when the model predicts no move from there.
        var model = lab.vrrpModel()
        let bound = (action.modelEvents(nodes: lab.topology.nodes.map(\.name)) ?? []).map { model.apply($0) }.max() ?? 0
        return addresses.map {
            OutageMeasurement.measure(samples, address: $0, faultAt: faultAt, took: took, until: .infinity, expected: nil,
                                      bound: bound > 0 ? bound : lab.settleBound)
        }
    }

    // MARK: Observation

    /// The nodes that carry `address` on an interface right now (more than one: split brain).
    public func holders(of address: String) async throws -> [String] {
        try await carriers(of: [address])[address] ?? []
    }

    /// The nodes that carry each VIP on an interface right now (more than one: split brain).
    public func vipHolders() async throws -> [(address: String, nodes: [String])] {
        let addresses = lab.virtualAddresses.map(\.address)
        let carried = try await carriers(of: Set(addresses))
        return addresses.map { ($0, carried[$0] ?? []) }
    }

    /// Which nodes have each of `addresses` on their interfaces: one look at every node.
    func carriers(of addresses: Set<String>) async throws -> [String: [String]] {
        var carried: [String: [String]] = [:]
        for node in lab.topology.nodes {
            for address in try await backend.addresses(lab.name, node: node.name) {
                let bare = String(address.split(separator: "/")[0])
                if addresses.contains(bare) { carried[bare, default: []].append(node.name) }
            }
        }
        return carried
    }

    /// One node's view of one VRRP instance, as keepalived itself reports it.
    public struct InstanceState: Sendable, Codable, Equatable {
        public var instance: String
        public var node: String
        /// MASTER, BACKUP, FAULT …; `node down` or `keepalived stopped` when nobody can say.
        public var state: String
        public var effectivePriority: Int?
    }

    /// Asks each node's keepalived for its state (SIGUSR1 makes it write /tmp/keepalived.data).
    public func instanceStates() async throws -> [InstanceState] {
        let dump = #"rm -f /tmp/keepalived.data; kill -USR1 "$(cat /run/keepalived.pid 2>/dev/null)" 2>/dev/null || exit 3; "#
            + #"i=0; while [ $i -lt 100 ]; do grep -qs '< VRRP Sockpool >' /tmp/keepalived.data && break; sleep 0.02; i=$((i + 1)); done; "#
            + #"cat /tmp/keepalived.data"#
        var states: [InstanceState] = []
        for node in lab.topology.nodes where node.services.contains("keepalived") {
            let configured = lab.instances.filter { $0.node == node.name }
            guard backend.isRunning(lab.name, node: node.name) else {
                states += configured.map { InstanceState(instance: $0.name, node: node.name, state: "node down") }
                continue
            }
            let result = try await backend.exec(lab.name, node: node.name, ["/bin/sh", "-c", dump])
            guard result.succeeded else {
                states += configured.map { InstanceState(instance: $0.name, node: node.name, state: "keepalived stopped") }
                continue
            }
            states += Self.parseInstanceStates(result.output, node: node.name)
        }
        return states
    }

    static func parseInstanceStates(_ dump: String, node: String) -> [InstanceState] {
        var states: [InstanceState] = []
        var inTopology = false
        for line in dump.split(separator: "\n") {
            if line.hasPrefix("------<") { inTopology = line.contains("VRRP Topology") }
            guard inTopology else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "VRRP Instance": states.append(InstanceState(instance: parts[1], node: node, state: "?"))
            case "State" where !states.isEmpty: states[states.count - 1].state = parts[1]
            case "Effective priority" where !states.isEmpty: states[states.count - 1].effectivePriority = Int(parts[1])
            default: break
            }
        }
        return states
    }

    /// The last lines of each keepalived node's log, for a failure report.
    public func keepalivedLogTails(lines: Int = 8) -> [(node: String, lines: [String])] {
        lab.topology.nodes.filter { $0.services.contains("keepalived") }.map { node in
            (node.name, (keepalivedLog(of: node.name) ?? "").split(separator: "\n").suffix(lines).map(String.init))
        }
    }

    func keepalivedLog(of node: String) -> String? {
        backend.readFile(lab.name, node: node, path: "/var/log/keepalived.log")
    }

    /// Waits (10 s at most) until keepalived, started again on `node`, logs its instances' first
    /// state past the `logAfter` bytes the log had before; a VM's emulated CPU takes a while.
    func awaitKeepalivedStart(on node: String, logAfter logged: Int) async {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let log = keepalivedLog(of: node) {
                // A VM boots with a fresh log; a namespace node keeps its old one.
                let new = log.utf8.count < logged ? Substring(log) : Substring(log.utf8.dropFirst(logged))
                if new.contains("STATE (init)") { return }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension Lab {
    /// How long a fresh lab may take to elect: keepalived starts every instance as BACKUP and
    /// the highest takes over after Master_Down_Interval; plus the settle bound for the checks.
    var startBound: Double { settleBound + 2 }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
