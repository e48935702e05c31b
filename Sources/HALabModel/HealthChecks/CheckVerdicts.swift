/// What a node's health checks see: each `vrrp_script` read once (`HealthCheck`), then judged
/// against the services' and nodes' states. A check the model cannot judge is unknown; each
/// world of `VRRPWorlds` assumes it failing or passing (`assumedFailing`).
extension VRRPModel {
    /// The key of a check: its node and its script.
    static func key(_ node: String, _ script: String) -> String { "\(node)/\(script)" }

    /// A check as read: tracked ones once, as the model takes the configs; any other when asked.
    public func healthCheck(_ script: VRRPScript, on node: String) -> HealthCheck {
        if let check = scripts.checks[Self.key(node, script.name)] { return check }
        guard let spec = nodes[node] else { return HealthCheck(unknown: "\(node) is no node of the lab") }
        if let named = spec.checks[script.name] { return HealthCheck(probes: [.named(service: named)]) }
        return CheckReader(
            node: node, services: spec.services, programs: spec.programs, ports: nodes.mapValues(\.ports),
            addresses: nodes.mapValues(\.addresses), virtualAddresses: Set(virtualAddresses), files: spec.files
        ).read(script.command)
    }

    /// The state of a node's service.
    public func serviceState(_ service: String, on node: String) -> ServiceState {
        guard let state = states[node] else { return .stopped }
        if state.stopped.contains(service) { return .stopped }
        if state.hung.contains(service) { return .hung }
        if state.refusing.contains(service) { return .refusing }
        return .running
    }

    /// What a check of `node` says now, before any world's assumption.
    public func verdict(_ script: VRRPScript, on node: String) -> CheckVerdict {
        let check = healthCheck(script, on: node)
        let verdicts = check.probes.map { probe -> CheckVerdict in
            switch probe {
            case .process(let service), .named(let service):
                probe.verdict(serviceState(service, on: node), answers: true)
            case .http(let service, let target), .tcp(let service, let target):
                probe.verdict(
                    serviceState(service, on: target), answers: target == node || answers(target, at: nil, from: node))
            case .ping(let target, let address):
                probe.verdict(.running, answers: answers(target, at: address, from: node))
            }
        }
        if verdicts.contains(.fails) { return .fails }
        if let why = check.unknown, !isUntouched(node) { return .unknown("\(node)'s \(script.name): \(why)") }
        if case .unknown(let why)? = verdicts.first(where: { if case .unknown = $0 { true } else { false } }) {
            return .unknown("\(node)'s \(script.name): \(why)")
        }
        return .passes
    }

    /// Whether nothing is wrong with the node: every service running and every link up. A check
    /// the model cannot read is taken to pass then (the lab's own `up` shows whether it does).
    func isUntouched(_ node: String) -> Bool {
        guard let state = states[node], state.stopped.isEmpty, state.hung.isEmpty, state.refusing.isEmpty else {
            return false
        }
        return network.isUntouched(node)
    }

    /// Whether another node answers `node`: at `address` over the lab's routes, where the node
    /// routes there (an IPv4 address, and routes or a link toward it); else where a segment joins them.
    func answers(_ target: String, at address: String?, from node: String) -> Bool {
        if let address, IPv4Network.number(address) != nil, hop(from: node, to: address) != nil {
            return routes(from: node, to: address)
        }
        return network.reachable(target, from: node)
    }

    /// The checks of the instance that fail in this world: those that fail, and those this
    /// world assumes failing of the ones the model cannot judge.
    func failingScripts(_ index: Int) -> Set<String> {
        let node = instances[index].node
        return Set(
            instances[index].trackedScripts.lazy.filter { script in
                switch self.verdict(script, on: node) {
                case .fails: true
                case .passes: false
                case .unknown: self.assumedFailing.contains(Self.key(node, script.name))
                }
            }.map(\.name))
    }

    /// The checks the model cannot judge now, by key, with why.
    public func unknownChecks() -> [(key: String, why: String)] {
        var found: [String: String] = [:]
        for index in instances.indices where network.machines[instances[index].node]?.alive == true {
            let node = instances[index].node
            for script in instances[index].trackedScripts {
                if case .unknown(let why) = verdict(script, on: node) { found[Self.key(node, script.name)] = why }
            }
        }
        return found.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The services of `node` a health check looks at.
    public func servicesChecked(by script: VRRPScript, on node: String) -> [String] {
        healthCheck(script, on: node).services(on: node)
    }

    /// The other nodes a check pings, or asks a service of: it fails while they cannot answer.
    func nodesProbed(by script: VRRPScript, from node: String) -> [String] {
        healthCheck(script, on: node).probes.compactMap { probe in
            switch probe {
            case .ping(let target, _): target
            case .http(_, let target), .tcp(_, let target): target == node ? nil : target
            case .process, .named: nil
            }
        }
    }
}
