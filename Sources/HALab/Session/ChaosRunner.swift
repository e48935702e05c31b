import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// Breaking a running lab, and measuring what clients saw while it broke.
extension LabSession {
    /// Makes `action`; returns when its fault was in place (seconds since the epoch): once the
    /// call is done, except a crash, in place when the node went dark, and a revive, once the
    /// node's keepalived has entered its first state (its timers start there).
    @discardableResult public func perform(_ action: Fault) async throws -> Double {
        for node in action.nodes { _ = try lab.topology.node(node) }
        switch action {
        case .stopService(let service, let node): try await rcService(service, "stop", on: node)
        case .startService(let service, let node): try await rcService(service, "start", on: node)
        case .restartService(let service, let node): try await rcService(service, "restart", on: node)
        case .reload(let node): try await rcService("keepalived", "reload", on: node)
        case .kill(let node): return try await backend.crash(lab.name, node: node)
        case .revive(let node):
            let logged = keepalivedLog(of: node)?.utf8.count ?? 0
            try await backend.revive(lab.name, node: node)
            if keepalivedNodes.contains(node) { await awaitKeepalivedStart(on: node, logAfter: logged) }
        case .heal(let node):
            for fault in backend.faults(lab.name) where node == nil || fault.nodes.contains(node!) {
                try await backend.heal(lab.name, fault)
            }
        case .flap(let node, let interface, let count, let interval):
            for _ in 0..<count {
                for up in [false, true] {
                    try await perform(.link(node: node, interface: interface, up: up, atNode: false))
                    try await Task.sleep(for: .seconds(interval))
                }
            }
        case .switchPower(let segment, _):
            guard lab.topology.segments.contains(segment) else {
                throw HALabError.usage(
                    "no segment '\(segment)' in \(lab.name): it has \(lab.topology.segments.joined(separator: ", "))")
            }
            try await applyFaults(of: action)
        case .hangService, .resumeService, .refuseService, .acceptService, .link, .blockMulticast, .unblockMulticast,
            .partition, .loss,
            .delay, .pause, .resume:
            try await applyFaults(of: action)
        }
        return Date().timeIntervalSince1970
    }

    func rcService(_ service: String, _ verb: String, on node: String) async throws {
        let result = try await backend.exec(lab.name, node: node, ["rc-service", service, verb])
        guard result.succeeded else {
            throw HALabError.commandFailed(
                command: "rc-service \(service) \(verb) on \(node)",
                status: "exit \(result.exitCode)", output: result.output + result.errorOutput)
        }
    }

    /// Puts on (or takes off) the backend's faults the action amounts to.
    func applyFaults(of action: Fault) async throws {
        guard let (faults, on) = try action.networkFaults(topology: lab.topology) else { return }
        for fault in faults {
            if on { try await backend.inject(lab.name, fault) } else { try await backend.heal(lab.name, fault) }
        }
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

    /// Makes `action` while halab-probe runs from the client, and measures what the client
    /// saw on each VIP: `seconds` of watching after the action (default: the settle bound + 2 s).
    public func measure(_ action: Fault, seconds: Double? = nil) async throws -> [OutageMeasurement] {
        let addresses = lab.virtualAddresses.map(\.address)
        var faultAt = 0.0, took = 0.0
        let samples = try await probing(addresses) {
            try await Task.sleep(for: .seconds(1))
            faultAt = Date().timeIntervalSince1970
            took = try await perform(action) - faultAt
            try await Task.sleep(for: .seconds(seconds ?? lab.settleBound(after: action) + 2))
        }
        // The timers' bound for this action as the model sees it from a healthy lab; the
        // worst case when the model predicts no move from there.
        var model = lab.vrrpModel()
        let bound = action.events(nodes: lab.topology.nodes.map(\.name)).map { model.apply($0) }.max() ?? 0
        return addresses.map {
            OutageMeasurement.measure(
                samples, address: $0, faultAt: faultAt, took: took, until: .infinity, expected: nil,
                bound: bound > 0 ? bound : lab.settleBound(after: action))
        }
    }

    /// Runs `body` while halab-probe, in the client node (or `vantage`), requests each address
    /// every `interval` ms; returns the probe's record. The probe is stopped however `body` ends.
    func probing(
        _ addresses: [String], every interval: Double = 10, connections: ProbeConnections = .new, seconds: Int = 600,
        from vantage: String? = nil, during body: () async throws -> Void
    ) async throws -> [ProbeSample] {
        let stop = StopSignal()
        async let record = backend.probe(
            lab.name, node: try vantage ?? client(), addresses: addresses, interval: interval, connections: connections,
            seconds: seconds,
            until: { await stop.wait() })
        do {
            try await body()
        } catch {
            await stop.fire()
            _ = try? await record
            throw error
        }
        await stop.fire()
        return try await record.map { sample in
            var sample = sample
            sample.vantage = vantage
            return sample
        }
    }

    /// `probing` from the client and, at once, from each of `vantages` to the VIPs it reaches;
    /// the records merged.
    func probing(
        _ addresses: [String], every interval: Double = 10, seconds: Int = 600,
        alsoFrom vantages: ArraySlice<Lab.Vantage>, during body: () async throws -> Void
    ) async throws -> [ProbeSample] {
        guard let vantage = vantages.first else {
            return try await probing(addresses, every: interval, seconds: seconds, during: body)
        }
        var others: [ProbeSample] = []
        let own = try await probing(vantage.addresses, every: interval, seconds: seconds, from: vantage.node) {
            others = try await probing(
                addresses, every: interval, seconds: seconds, alsoFrom: vantages.dropFirst(), during: body)
        }
        return (own + others).sorted { $0.start < $1.start }
    }
}

/// How a fault is carried out, where it is a backend's network fault.
extension Fault {
    /// VRRP's adverts: to 224.0.0.18, IP protocol 112 (RFC 3768 §5.2.2, §5.3).
    static let vrrpGroup = "224.0.0.18"
    static let vrrpProtocol = 112

    /// The network faults the action puts on (`on`) or takes off, in the backends' terms; nil
    /// for an action that is not one (services, crashes, heal, a flap). The scenario layer says
    /// which packets VRRP sends. A link without an interface is every link of the node.
    func networkFaults(topology: LabTopology) throws -> ([NetworkFault], on: Bool)? {
        let adverts = { (node: String?) in
            NetworkFault.dropMulticast(node: node, group: Self.vrrpGroup, ipProtocol: Self.vrrpProtocol)
        }
        switch self {
        case .link(let node, let interface, let up, let atNode):
            let interfaces = try interface.map { [$0] } ?? topology.node(node).interfaces.map(\.name)
            guard !interfaces.isEmpty else { throw HALabError.usage("node '\(node)' has no interface") }
            return (interfaces.map { .linkDown(node: node, interface: $0, atSwitch: !atNode) }, !up)
        case .switchPower(let segment, let on): return ([.switchDown(segment: segment)], !on)
        case .blockMulticast(let node): return ([adverts(node)], true)
        case .unblockMulticast(let node): return ([adverts(node)], false)
        case .partition(let groups): return ([.partition(groups)], true)
        case .loss(let node, let percent): return ([.loss(node: node, percent: percent)], true)
        case .delay(let node, let milliseconds): return ([.delay(node: node, milliseconds: milliseconds)], true)
        case .pause(let node): return ([.pause(node: node)], true)
        case .resume(let node): return ([.pause(node: node)], false)
        case .hangService(let service, let node), .resumeService(let service, let node):
            let definition = try topology.node(node).service(service)
            let frozen = if case .hangService = self { true } else { false }
            return (
                [.frozenProcesses(node: node, program: definition.process ?? definition.program ?? service)], frozen
            )
        case .refuseService(let service, let node), .acceptService(let service, let node):
            let definition = try topology.node(node).service(service)
            guard let port = definition.port else {
                throw HALabError.usage(
                    "\(service) on \(node) serves no port halab knows: give it one in lab.yaml (services: \(service): "
                        + "{ port: N })"
                )
            }
            let refusing = if case .refuseService = self { true } else { false }
            return ([.refusedPorts(node: node, ports: [port])], refusing)
        case .stopService, .startService, .restartService, .reload, .kill, .revive, .heal, .flap: return nil
        }
    }
}
