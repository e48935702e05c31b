/// `halab check`: what a lab's keepalived configs get wrong, found before anything runs, and
/// where the VIP ends up after every single failure and every ordered pair of failures.
public enum ConfigCheck {
    public struct Row: Sendable, Codable, Equatable {
        public var failures: [String]
        /// Each VIP's predicted holders.
        public var holders: [String: [String]]
        /// Why this row is an outage: a VIP held by a node that cannot serve (or by none, or
        /// by two) while another node could. Empty when the row is fine.
        public var outages: [String]
        /// A VIP nobody can serve (every node that could has failed): not the design's fault.
        public var unservable: [String]
        /// A VIP whose holder the model cannot tell, and what it depends on: never an outage.
        public var depends: [String] = []
        /// Seconds VRRP may take to settle after the last failure, from the timers.
        public var bound: Double
        /// The longest outage clients may see through the row's failures.
        public var worstOutage: WorstOutage = .seconds(0)
        /// With a budget (`check --max-outage`): whether the worst case exceeds it.
        public var overBudget = false
        /// What becomes of a client's connection open to each VIP's holder across the failures;
        /// a VIP not in it, the model cannot tell.
        public var connections: [String: ConnectionFate] = [:]
    }

    /// The longest outage clients may see through a row: the bound of each failure that moves
    /// a VIP (the checks' detection, Master_Down_Interval, preempt_delay), the longest counting;
    /// none while no VIP moves; until a mend where no node serves a VIP.
    public enum WorstOutage: Sendable, Codable, Equatable {
        case seconds(Double)
        case untilMended
        /// A VIP's holder depends on what the model cannot know.
        case unknown

        public func exceeds(_ budget: Double) -> Bool {
            switch self {
            case .seconds(let seconds): seconds > budget
            case .untilMended: true
            case .unknown: false
            }
        }
    }

    public struct Report: Sendable, Codable {
        /// The halab that wrote it.
        public var halab: String? = HALabVersion.current
        public var lab: String
        public var findings: [Finding]
        public var rows: [Row]
        /// `check --max-outage`: the longest outage clients may see, in seconds.
        public var budget: Double?
        public var failed: Bool {
            findings.contains { $0.severity == .error } || rows.contains { !$0.outages.isEmpty || $0.overBudget }
        }

        /// Marks every row whose worst-case outage exceeds `budget` seconds.
        public func judged(budget: Double) -> Report {
            var report = self
            report.budget = budget
            for index in report.rows.indices {
                report.rows[index].overBudget = report.rows[index].worstOutage.exceeds(budget)
            }
            return report
        }
    }

    /// What reading found in each config, the lints, and the failure table.
    public static func run(
        lab: String, configs: [KeepalivedNodeConfig], model: VRRPModel, kinds: Set<Fault.Kind> = Fault.Kind.checkTable,
        rowLimit: Int? = nil
    ) -> Report {
        var findings =
            configs.flatMap(\.findings) + lint(configs, segment: model.segment(of:))
            + designFindings(configs, model: model)
            + modelFindings(model)
            + startOrderFindings(model)
            + statefulGatewayFindings(model)
        let limit = rowLimit ?? Self.rowLimit(instances: model.instances.count)
        let sequences = failureSequences(model, kinds: kinds)
        if sequences.count > limit {
            findings.append(
                Finding(
                    severity: .warning, location: nil,
                    message:
                        "the failure table stops at \(limit) of its \(sequences.count) rows (every single failure, "
                        + "then the pairs up to "
                        + "'\(sequences[limit - 1].map(\.description).joined(separator: ", then "))'): check "
                        + "bounds its work by the lab's \(model.instances.count) instances; fewer kinds (--faults) "
                        + "make a table it finishes"))
        }
        return Report(
            lab: lab, findings: findings.sorted { $0.severity > $1.severity },
            rows: failureTable(model, sequences: Array(sequences.prefix(limit))))
    }

    /// The rows check computes at most: its work grows with rows × instances, and stays under
    /// a few seconds (`halab bench check`).
    static func rowLimit(instances: Int) -> Int { min(10_000, max(200, 200_000 / max(1, instances))) }

    // MARK: Lints

    /// The lints. Peers are grouped as the model groups them: the same VRID, address family
    /// and segment (`segment`: the lab's segment of an instance's interface).
    public static func lint(_ configs: [KeepalivedNodeConfig], segment: (VRRPInstance) -> String = \.interface)
        -> [Finding]
    {
        (peerFindings(configs.flatMap(\.instances), segment: segment) + nodeFindings(configs)).sorted {
            $0.severity > $1.severity
        }
    }

    /// The peers of one VRRP group: the same VRID, address family and segment.
    struct PeerGroup: Hashable, Comparable {
        var vrid: Int
        var family: AddressFamily
        var segment: String

        static func < (a: PeerGroup, b: PeerGroup) -> Bool {
            (a.vrid, a.family.rawValue, a.segment) < (b.vrid, b.family.rawValue, b.segment)
        }

        var description: String {
            "VRID \(vrid)" + (family == .ipv6 ? " (IPv6)" : "") + (segment.isEmpty ? "" : " on \(segment)")
        }
    }

    /// What the peers of one instance or VRRP group get wrong together.
    static func peerFindings(_ instances: [VRRPInstance], segment: (VRRPInstance) -> String) -> [Finding] {
        var findings: [Finding] = []
        // Peers of one instance (by name) must agree on its VRID; peers of one VRID on the rest.
        for (name, peers) in Dictionary(grouping: instances, by: \.name).sorted(by: { $0.key < $1.key }) {
            let vrids = Set(peers.map(\.virtualRouterID))
            if vrids.count > 1 {
                findings.append(
                    Finding(
                        severity: .error, location: peers[0].settings["virtual_router_id"]?.description,
                        message: "\(name) has different virtual_router_id on its nodes: "
                            + peers.map { "\($0.node) \($0.virtualRouterID)" }.joined(separator: ", ")))
            }
        }
        let groups = Dictionary(grouping: instances) {
            PeerGroup(vrid: $0.virtualRouterID, family: $0.family, segment: segment($0))
        }
        for (group, peers) in groups.sorted(by: { $0.key < $1.key }) where Set(peers.map(\.node)).count > 1 {
            func disagree(_ what: String, _ value: (VRRPInstance) -> String, keyword: String) {
                guard Set(peers.map(value)).count > 1 else { return }
                findings.append(
                    Finding(
                        severity: .error,
                        location: peers[0].settings[keyword]?.description ?? peers[0].location.description,
                        message: "the peers of \(group.description) disagree on \(what): "
                            + peers.map { "\($0.node) \(value($0))" }.joined(separator: ", ")
                            + " (their adverts are discarded: each side becomes MASTER)"))
            }
            disagree(
                "the virtual addresses", { $0.virtualAddresses.sorted().joined(separator: " ") },
                keyword: "virtual_ipaddress")
            disagree("vrrp_version", { "\($0.version)" }, keyword: "vrrp_version")
            if peers.allSatisfy({ $0.version == 2 }) {
                disagree("advert_int", { "\($0.advertInterval)" }, keyword: "advert_int")
            } else if peers.allSatisfy({ $0.version == 3 }), Set(peers.map(\.advertInterval)).count > 1 {
                findings.append(
                    Finding(
                        severity: .info,
                        location: peers[0].settings["advert_int"]?.description ?? peers[0].location.description,
                        message: "the peers of \(group.description) advertise at different intervals: "
                            + peers.map { "\($0.node) \(Values.format($0.advertInterval)) s" }.joined(separator: ", ")
                            + "; under VRRPv3 each backup takes the master's interval, so the master's decides how "
                            + "fast a failure is noticed"
                    ))
            }
            if peers.allSatisfy({ $0.version == 2 }) {
                disagree(
                    "the password", { "\($0.authType ?? "none")/\($0.authPass.map { String($0.prefix(8)) } ?? "")" },
                    keyword: "authentication")
            }
            let masters = peers.filter { $0.initialState == .master }
            if masters.count > 1 {
                findings.append(
                    Finding(
                        severity: .info, location: masters[1].settings["state"]?.description,
                        message:
                            "\(group.description): \(masters.map(\.node).joined(separator: ", ")) all say state "
                            + "MASTER; keepalived starts them all as BACKUP and the priorities decide"))
            }
            findings += weightFindings(peers)
        }
        return findings
    }

    /// What one node's config gets wrong, or says that halab does not model.
    static func nodeFindings(_ configs: [KeepalivedNodeConfig]) -> [Finding] {
        var findings: [Finding] = []
        // router_id names a node in logs and notifications; the same one twice confuses both.
        let byRouterID = Dictionary(grouping: configs.filter { $0.routerID != nil }, by: { $0.routerID! })
        for (routerID, nodes) in byRouterID.sorted(by: { $0.key < $1.key }) where nodes.count > 1 {
            findings.append(
                Finding(
                    severity: .warning, location: nodes[1].routerIDLocation?.description,
                    message:
                        "router_id \(routerID) is set on \(nodes.map(\.node).joined(separator: ", ")); each node "
                        + "should have its own"
                ))
        }
        for instance in configs.flatMap(\.instances) {
            if instance.version == 3 && instance.authType != nil {
                findings.append(
                    Finding(
                        severity: .warning, location: instance.settings["authentication"]?.description,
                        message: "\(instance.name) on \(instance.node) uses VRRPv3, which ignores authentication"))
            }
        }
        for config in configs {
            for script in config.scripts {
                let program = script.command.split(separator: " ").first.map(String.init) ?? ""
                if !program.hasPrefix("/") {
                    let pidof =
                        program == "pidof"
                        ? " (and Debian's 2.2.7 runs a linked pidof as killall5, which halab's nodes work around)" : ""
                    findings.append(
                        Finding(
                            severity: .warning, location: script.location?.description,
                            message:
                                "vrrp_script \(script.name) on \(config.node) runs '\(program)', not an absolute path: "
                                + "keepalived searches PATH\(pidof)"
                        ))
                }
            }
            for (keyword, location) in config.notModelled {
                // A notify command can start or stop services; the model follows only the ones it reads.
                let notify = keyword.hasPrefix("notify")
                findings.append(
                    Finding(
                        severity: notify ? .warning : .info, location: location.description,
                        message: notify
                            ? "\(keyword) runs a command the model cannot follow: it predicts as if it did nothing"
                            : "\(keyword) is kept but not modelled by halab's checks"))
            }
        }
        return findings
    }

    /// What the model cannot follow, said once each: a notify command it cannot read, a check
    /// whose outcome it cannot judge (what it then assumes).
    static func modelFindings(_ model: VRRPModel) -> [Finding] {
        let roleWords: [VRRPModel.Role: String] = [
            .master: "notify_master", .backup: "notify_backup", .fault: "notify_fault", .down: "notify_stop"
        ]
        let notify = model.unfollowedNotify.map { instance, role, command in
            Finding(
                severity: .warning, location: instance.settings[roleWords[role] ?? ""]?.description,
                message:
                    "\(roleWords[role] ?? "notify") of \(instance.name) on \(instance.node) runs \(command), which the "
                    + "model cannot follow: it predicts as if it changed nothing")
        }
        var seen: Set<String> = []
        let checks = model.instances.flatMap { instance in
            instance.trackedScripts.compactMap { script -> Finding? in
                guard let why = model.healthCheck(script, on: instance.node).unknown,
                    seen.insert("\(instance.node)/\(script.name)").inserted
                else { return nil }
                return Finding(
                    severity: .warning, location: script.location?.description,
                    message:
                        "the model cannot tell what \(script.name) on \(instance.node) sees: \(why). It takes it to "
                        + "pass while nothing is wrong with \(instance.node), and predicts nothing it would decide "
                        + "otherwise ('depends on' in the table)"
                )
            }
        }
        return notify + checks
    }

    /// A health check must push a failed node below every healthy peer it outranks, or the
    /// VIP can stay on it (ties keep the incumbent).
    static func weightFindings(_ peers: [VRRPInstance]) -> [Finding] {
        var findings: [Finding] = []
        for node in peers where !node.trackedScripts.isEmpty {
            // nil: every check failing puts it in FAULT.
            guard let lowered = node.effectivePriority(failing: Set(node.trackedScripts.map(\.name))) else { continue }
            for other in peers
            where other.node != node.node && other.priority < node.priority && lowered >= other.priority {
                findings.append(
                    Finding(
                        severity: .error, location: node.trackedScripts[0].location?.description,
                        message:
                            "with its check failing, \(node.node) falls from \(node.priority) to \(lowered), not below "
                            + "\(other.node)'s \(other.priority): the VIP can stay on \(node.node) while its "
                            + "service is down (a larger weight fixes it)"
                    ))
            }
        }
        return findings
    }

    // MARK: Failure table

    /// The failures a node can suffer, of `kinds`: each of its services (but keepalived) stopped,
    /// and hung or refusing connections where it serves a port, whether a check watches it or
    /// not; a crash; its keepalived restarted; its links (each link VRRP uses on its own, where
    /// it uses more than one) down, or flapping; its adverts blocked; cut off from the rest;
    /// paused; losing packets; and each switch VRRP runs over lost, where it runs over more than one.
    public static func failures(_ model: VRRPModel, kinds: Set<Fault.Kind> = Fault.Kind.checkTable) -> [Fault] {
        let nodes = model.instances.map(\.node).uniqueInOrder()
        // The cables the instances use: a bond's NICs; the switches those are on.
        let cables = { (node: String) in
            model.instances.filter { $0.node == node }.flatMap { [$0.interface] + $0.trackedInterfaces.map(\.name) }
                .flatMap { model.network.cables(node, $0) }.uniqueInOrder().filter {
                    model.nodes[node]?.segments[$0] != nil
                }
        }
        let segments = nodes.flatMap { node in cables(node).compactMap { model.nodes[node]?.segments[$0] } }
            .uniqueInOrder()
        let byNode = nodes.flatMap { node in
            // The services that serve clients: keepalived's own failures are a crash's or a pause's.
            let services = (model.nodes[node]?.services ?? []).filter { $0 != "keepalived" }
            let ports = Set(model.nodes[node]?.ports.values.map { $0 } ?? [])
            let used = cables(node)
            let target = Fault.Target(
                node: node, services: services, servedServices: services.filter(ports.contains),
                cables: used.count > 1 ? used.map(Optional.some) : [nil],
                others: model.nodes.keys.filter { $0 != node }.sorted())
            return target.faults(of: kinds)
        }
        let switches =
            kinds.contains(.switch) && segments.count > 1
            ? segments.map { Fault.switchPower(segment: $0, on: false) } : []
        return byNode + switches
    }

    /// Every single failure, and every ordered pair of failures on two different nodes (or a
    /// node and a switch).
    public static func failureSequences(_ model: VRRPModel, kinds: Set<Fault.Kind> = Fault.Kind.checkTable) -> [[Fault]]
    {
        let failures = failures(model, kinds: kinds)
        var sequences = failures.map { [$0] }
        for first in failures {
            for second in failures where second.nodes.isEmpty || second.nodes.first != first.nodes.first {
                sequences.append([first, second])
            }
        }
        return sequences
    }
}
