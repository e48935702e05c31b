/// Predicts what VRRP does: given every node's keepalived instances and a sequence of events,
/// each instance's role on each node, and so who holds each VIP. A state machine, not a
/// function of the failures, because VRRP remembers: an incumbent master whose priority fell
/// to equal a backup's keeps the VIP (RFC 3768 §6.4.2). Rules, from vrrp-facts.md:
/// - effective priority: base plus script weights, clamped to 1…254 (255 never changes);
///   a failing script of weight 0, or a down interface, puts the instance in FAULT;
/// - a backup stays backup while it hears a master of equal or higher priority, or any master
///   if it is `nopreempt`; otherwise its Master_Down_Timer expires and it becomes master (the
///   highest priority first: its skew is the shortest);
/// - two masters that hear each other: the higher priority, then the higher address, stays;
/// - adverts that cannot arrive (node down, link down, multicast blocked, a mismatched
///   password, interval or version) are not heard: every side then has its own master.
/// Every instance starts as BACKUP, as keepalived 2.2.7 does, `state MASTER` included.
public struct VRRPModel: Sendable {
    public struct Node: Sendable {
        public var name: String
        /// The services it runs (nginx, keepalived …).
        public var services: [String]
        /// Its first address, which breaks ties between masters.
        public var primaryAddress: UInt32
        /// Its addresses without prefix, to match unicast peers.
        public var addresses: [String]
        /// Which segment each NIC is on; empty where the node's interfaces are not known.
        public var segments: [String: String]
        /// Its bonds (active-backup), each with its NICs, the primary first.
        public var bonds: [String: [String]]
        /// Its bridges, each with its NICs: a bridge joins the segments of its ports.
        public var bridges: [String: [String]]
        /// Each interface's address with its prefix, `10.33.1.11/24`.
        public var networks: [String: String]
        /// The service serving each TCP port, so a check that probes a port names it.
        public var ports: [Int: String]
        /// The service a vrrp_script checks, by the script's name, where the lab says so.
        public var checks: [String: String]
        /// The service each program name runs as, where it differs (`pidof haproxy` …).
        public var programs: [String: String]
        /// Script files the node has, by path, so a check that runs one is read too.
        public var files: [String: String]
        /// Its static routes (`default via 100.64.1.1`, `203.0.113.0/24 via 10.0.0.1`), and
        /// whether it forwards packets between its links.
        public var routes: [String]
        public var forwarding: Bool

        public init(name: String, services: [String], primaryAddress: UInt32, ports: [Int: String] = [:], checks: [String: String] = [:],
                    addresses: [String], segments: [String: String], networks: [String: String] = [:],
                    bonds: [String: [String]] = [:], bridges: [String: [String]] = [:], programs: [String: String] = [:],
                    files: [String: String] = [:], routes: [String] = [], forwarding: Bool = false) {
            self.programs = programs
            self.files = files
            self.routes = routes
            self.forwarding = forwarding
            self.bonds = bonds
            self.bridges = bridges
            self.name = name
            self.services = services
            self.ports = ports
            self.checks = checks
            self.primaryAddress = primaryAddress
            self.addresses = addresses
            self.segments = segments
            self.networks = networks
        }
    }

    public enum Role: String, Sendable, Codable {
        case master = "MASTER", backup = "BACKUP", fault = "FAULT", down = "DOWN"
    }

    struct NodeState: Sendable {
        var alive = true
        var stopped: Set<String> = []
        /// Services whose processes are frozen, and services refusing new connections.
        var hung: Set<String> = []
        var refusing: Set<String> = []
        /// The value of each track file, by path.
        var fileValues: [String: Int] = [:]
        /// False while every link of the node is down.
        var linkUp = true
        var downInterfaces: Set<String> = []
        var multicastBlocked = false
        var paused = false

        /// keepalived neither sends nor hears: the node is paused, or keepalived hangs.
        var vrrpFrozen: Bool { paused || hung.contains("keepalived") }
    }

    public let nodes: [String: Node]
    /// Every node's instances; a reload with a new config (`reconfigure`) replaces one node's.
    public private(set) var instances: [VRRPInstance] = []
    /// Every tracked script, read (`HealthCheck`), by node and script.
    private(set) var checks: [String: HealthCheck] = [:]
    /// What each instance's notify commands do to its node's services, by the role they follow
    /// (by index into `instances`); and those the model cannot follow, with the command.
    private(set) var notifications: [[Role: [ServiceAction]]] = []
    public private(set) var unfollowedNotify: [(instance: VRRPInstance, role: Role, command: String)] = []
    /// The checks the model cannot judge that this world has decided (`VRRPWorlds`), and of
    /// those, the ones it takes as failing.
    public internal(set) var decided: Set<String> = []
    public internal(set) var assumedFailing: Set<String> = []
    var states: [String: NodeState]
    var roles: [Role] = []  // by index into `instances`
    var partition: [[String]] = []
    var downSegments: Set<String> = []
    /// Each instance's peers (itself included): the same VRID, address family and segment.
    /// Only peers hear each other, so elections look only among them.
    private(set) var peers: [[Int]] = []
    /// Each instance's sync group on its node (itself included; itself alone when in none).
    private(set) var syncGroups: [[Int]] = []
    /// The nodes whose keepalived 2.2.7 does not start: an instance is on an interface the node
    /// lacks (known only where the lab gives the node's interfaces).
    private(set) var refusingNodes: Set<String> = []

    /// `startOrder`: the nodes' keepalived started one after another, each settled before the
    /// next (where start order decides, as with equal priorities or nopreempt); all at once
    /// when nil.
    public init(nodes: [Node], instances: [VRRPInstance], startOrder: [String]? = nil) {
        self.nodes = Dictionary(nodes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.states = self.nodes.mapValues { _ in NodeState() }
        adopt(instances)
        // Not started: keepalived's start enters BACKUP (and runs notify_backup).
        self.roles = Array(repeating: .down, count: instances.count)
        guard let startOrder else {
            _ = settle(cause: nil, failingBefore: [])
            return
        }
        stopAll()
        for name in startOrder + states.keys.filter({ !startOrder.contains($0) }).sorted() { start(name) }
    }

    /// Back to before anything started: every node down, its services as configured.
    mutating func stopAll() {
        states = states.mapValues { state in
            var fresh = NodeState()
            fresh.fileValues = state.fileValues
            fresh.alive = false
            return fresh
        }
        roles = Array(repeating: .down, count: instances.count)
    }

    /// Starts a node that was down, and settles.
    mutating func start(_ node: String) {
        states[node]?.alive = true
        _ = settle(cause: nil, failingBefore: [])
    }

    /// Takes `instances` as the nodes' configs: what follows from them (checks, notify commands,
    /// peers), and the values of track files not read before.
    mutating func adopt(_ instances: [VRRPInstance]) {
        self.instances = instances
        checks = Self.readChecks(nodes: nodes, instances: instances)
        (notifications, unfollowedNotify) = Self.readNotifications(nodes: nodes, instances: instances)
        let nodes = self.nodes
        let key = { (instance: VRRPInstance) in
            "\(instance.virtualRouterID)/\(instance.family)@\(Self.segment(of: instance, on: nodes[instance.node]))"
        }
        let groups = Dictionary(grouping: instances.indices, by: { key(instances[$0]) })
        peers = instances.map { groups[key($0)] ?? [] }
        let synced = Dictionary(grouping: instances.indices.filter { instances[$0].syncGroup != nil }) {
            "\(instances[$0].node)/\(instances[$0].syncGroup ?? "")"
        }
        syncGroups = instances.indices.map { index in
            instances[index].syncGroup.flatMap { synced["\(instances[index].node)/\($0)"] } ?? [index]
        }
        refusingNodes = Set(instances.filter { instance in
            guard let spec = nodes[instance.node], !spec.segments.isEmpty else { return false }
            return !spec.segments.keys.contains(instance.interface) && spec.bonds[instance.interface] == nil
                && spec.bridges[instance.interface] == nil
        }.map(\.node))
        for (name, node) in nodes {
            // What keepalived reads at start: init_file's value where it writes one, else the file's.
            for file in instances.filter({ $0.node == name }).flatMap(\.trackedFiles) where states[name]?.fileValues[file.path] == nil {
                let existing = node.files[file.path].map(TrackedFile.number)
                states[name]?.fileValues[file.path] = file.overwrite || existing == nil ? file.initValue ?? existing ?? 0 : existing
            }
        }
    }

    /// keepalived on `node` re-reads a new config (a reload, SIGHUP), as 2.2.7 does: an
    /// instance of the same VRID, family and interface as before keeps its role (a FAULT one is
    /// judged anew, as after every event); a new one starts as BACKUP; one no longer there is
    /// gone, with its VIPs. The new instances take the old ones' place, so the VIPs keep their
    /// order. Returns, for each instance, the index of the one it continues, if any.
    mutating func reconfigure(node: String, with new: [VRRPInstance]) -> [Int?] {
        let old = (instances: instances, roles: roles)
        let kept = instances.indices.filter { instances[$0].node != node }
        let first = instances.firstIndex { $0.node == node } ?? instances.count
        let at = kept.filter { $0 < first }.count
        var continued: [Int?] = kept
        continued.insert(contentsOf: new.map { instance in
            old.instances.indices.first { o in
                let was = old.instances[o]
                return was.node == node && was.virtualRouterID == instance.virtualRouterID && was.family == instance.family
                    && was.interface == instance.interface
            }
        }, at: at)
        var replaced = kept.map { instances[$0] }
        replaced.insert(contentsOf: new, at: at)
        adopt(replaced)
        roles = continued.map { index in index.map { old.roles[$0] } ?? .down }
        return continued
    }

    public var holdersByAddress: [String: [String]] {
        Dictionary(uniqueKeysWithValues: virtualAddresses.map { ($0, holders(of: $0)) })
    }

    // MARK: Questions

    public func role(node: String, instance: String) -> Role? {
        instances.indices.first { instances[$0].node == node && instances[$0].name == instance }.map { roles[$0] }
    }

    /// Nil while the instance is down or in FAULT.
    public func effectivePriority(node: String, instance: String) -> Int? {
        guard let index = instances.indices.first(where: { instances[$0].node == node && instances[$0].name == instance }),
              [.master, .backup].contains(roles[index]) else { return nil }
        return priority(index)
    }

    /// The nodes holding `address`: more than one is a split brain, none an outage.
    public func holders(of address: String) -> [String] {
        instances.indices.filter { roles[$0] == .master && instances[$0].virtualAddresses.contains(address) }
            .map { instances[$0].node }.uniqueInOrder()
    }

    public var virtualAddresses: [String] { instances.flatMap(\.virtualAddresses).uniqueInOrder() }

    /// A node can answer clients: it runs, its link is up, and the services that answer them
    /// (those serving a port; not keepalived, not a one-shot like `local`) run, unfrozen,
    /// taking connections.
    public func canServe(_ node: String) -> Bool {
        guard let state = states[node], let spec = nodes[node] else { return false }
        return state.alive && state.linkUp && !state.paused
            && spec.services.filter(spec.ports.values.contains).allSatisfy { serviceState($0, on: node) == .running }
    }

    /// The nodes that could serve `address`: its holders that can, and the others that could
    /// once MASTER. An outage is a VIP on none of them while one exists.
    public func servers(of address: String) -> [String] {
        let holders = holders(of: address)
        return instances.filter { $0.virtualAddresses.contains(address) }.map(\.node).uniqueInOrder().filter {
            canServe($0, address: address) || (!holders.contains($0) && canServeAsMaster($0, address: address))
        }
    }

    /// A node could answer clients on `address` once MASTER: the services its notify_master
    /// starts count as running (the design runs them only on the master).
    public func canServeAsMaster(_ node: String, address: String) -> Bool {
        var world = self
        let started = instances.indices.filter { instances[$0].node == node && instances[$0].virtualAddresses.contains(address) }
            .flatMap { notifications[$0][.master] ?? [] }.filter(\.start).map(\.service)
        for service in started { world.states[node]?.stopped.remove(service) }
        return world.canServe(node, address: address)
    }

    /// A node can answer clients on `address`: it can serve, and the interfaces of its instance
    /// for the address are up: the one it is on, and those it tracks (tracked because the
    /// service needs them, as a gateway its uplink).
    public func canServe(_ node: String, address: String) -> Bool {
        canServe(node) && instances.filter { $0.node == node && $0.virtualAddresses.contains(address) }
            .allSatisfy { instance in ([instance.interface] + instance.trackedInterfaces.map(\.name)).allSatisfy { interfaceUp(node, $0) } }
    }

    /// Why a node cannot serve, in words: "its nginx is stopped", "it is down" …
    public func whyNotServing(_ node: String) -> String {
        guard let state = states[node] else { return "unknown" }
        if !state.alive { return "it is down" }
        if !state.linkUp { return "its link is down" }
        if state.paused { return "it is paused" }
        let failing = (nodes[node]?.services ?? []).filter { nodes[node]?.ports.values.contains($0) ?? false }.compactMap { service -> String? in
            switch serviceState(service, on: node) {
            case .running: nil
            case .stopped: "its \(service) is stopped"
            case .hung: "its \(service) hangs"
            case .refusing: "its \(service) refuses connections"
            }
        }
        return failing.joined(separator: " and ")
    }

    // MARK: Events

    /// Applies an event and returns how long VRRP may take to settle after it, from the
    /// timers: the health check noticing it (interval × fall or rise), then the new master's
    /// Master_Down_Interval (only its Skew_Time when the old master left cleanly with a
    /// priority-0 advert), plus its preempt_delay when it preempts.
    @discardableResult
    public mutating func apply(_ event: Event) -> Double {
        var failingBefore = instances.indices.map(failingScripts)
        switch event {
        case .stopService(let service, let node):
            states[node]?.stopped.insert(service)
            states[node]?.hung.remove(service)
        case .startService(let service, let node): states[node]?.stopped.remove(service)
        case .hangService(let service, let node): if serviceState(service, on: node) != .stopped { states[node]?.hung.insert(service) }
        case .resumeService(let service, let node): states[node]?.hung.remove(service)
        case .refuseService(let service, let node): states[node]?.refusing.insert(service)
        case .acceptService(let service, let node): states[node]?.refusing.remove(service)
        case .crash(let node):
            // Nothing of it runs: nothing frozen either (a paused node killed is down, not paused).
            states[node]?.alive = false
            states[node]?.paused = false
            states[node]?.hung = []
        case .revive(let node):
            states[node]?.alive = true
            states[node]?.stopped = []
            states[node]?.hung = []
        case .linkDown(let node, nil): states[node]?.linkUp = false
        case .linkUp(let node, nil):
            states[node]?.linkUp = true
            states[node]?.downInterfaces = []
        case .linkDown(let node, let interface?): states[node]?.downInterfaces.insert(interface)
        case .linkUp(let node, let interface?): states[node]?.downInterfaces.remove(interface)
        case .switchDown(let segment): downSegments.insert(segment)
        case .switchUp(let segment): downSegments.remove(segment)
        case .blockMulticast(let node): states[node]?.multicastBlocked = true
        case .unblockMulticast(let node): states[node]?.multicastBlocked = false
        case .partition(let groups): partition = groups
        case .pause(let node): states[node]?.paused = true
        case .resume(let node): states[node]?.paused = false
        case .heal(let node):
            for name in states.keys where node == nil || name == node {
                states[name]?.linkUp = true
                states[name]?.downInterfaces = []
                states[name]?.multicastBlocked = false
                states[name]?.paused = false
                states[name]?.hung = []
                states[name]?.refusing = []
            }
            if node == nil || partition.contains(where: { $0.contains(node!) }) { partition = [] }
            if node == nil { downSegments = [] }
        case .writeFile(let node, let path, let content):
            if states[node]?.fileValues[path] != nil { states[node]?.fileValues[path] = TrackedFile.number(in: content) }
        case .reconfigure(let node, let new):
            // A new instance's checks count as newly failing: keepalived learns them from scratch.
            failingBefore = reconfigure(node: node, with: new).map { $0.map { failingBefore[$0] } ?? [] }
        }
        return settle(cause: event, failingBefore: failingBefore)
    }

    // MARK: Rules

    func priority(_ index: Int) -> Int? {
        let node = instances[index].node
        let down = Set(instances[index].trackedInterfaces.lazy.map(\.name).filter { !self.interfaceUp(node, $0) })
        return instances[index].effectivePriority(failing: failingScripts(index), down: down, files: states[node]?.fileValues ?? [:])
    }

    /// The role an instance is forced into, or nil while it takes part in elections: down
    /// with its keepalived; FAULT while its interface is down, or a check or tracked
    /// interface without weight fails — and while any member of its sync group is in FAULT
    /// (keepalived's vrrp_sync_fault).
    func forcedRole(_ index: Int) -> Role? {
        let node = instances[index].node
        guard let state = states[node], state.alive, !state.stopped.contains("keepalived"), !refusingNodes.contains(node) else { return .down }
        return syncMembers(index).contains(where: ownFault) ? .fault : nil
    }

    func ownFault(_ index: Int) -> Bool { !interfaceUp(instances[index].node, instances[index].interface) || priority(index) == nil }

    func syncMembers(_ index: Int) -> [Int] { syncGroups[index] }

    func segment(_ index: Int) -> String { segment(of: instances[index]) }

    /// The segment an instance's interface is on: a bond's, its NICs' segments joined by "+";
    /// its interface's name where the lab does not say.
    public func segment(of instance: VRRPInstance) -> String { Self.segment(of: instance, on: nodes[instance.node]) }

    static func segment(of instance: VRRPInstance, on node: Node?) -> String {
        if let nics = node?.bonds[instance.interface] {
            return nics.compactMap { node?.segments[$0] }.uniqueInOrder().sorted().joined(separator: "+")
        }
        return node?.segments[instance.interface] ?? instance.interface
    }

    /// Whether `listener` receives and accepts `sender`'s adverts.
    func hears(_ listener: Int, _ sender: Int) -> Bool {
        let (lNode, sNode) = (instances[listener].node, instances[sender].node)
        let (lInterface, sInterface) = (instances[listener].interface, instances[sender].interface)
        guard lNode != sNode, let ls = states[lNode], let ss = states[sNode], interfaceUp(lNode, lInterface),
              interfaceUp(sNode, sInterface), !ls.vrrpFrozen, !ss.vrrpFrozen,
              let lSegment = activeSegment(lNode, lInterface), let sSegment = activeSegment(sNode, sInterface),
              joined(lSegment, sSegment), !partitioned(lNode, sNode) else { return false }
        if !instances[sender].unicastPeers.isEmpty {
            guard instances[sender].unicastPeers.contains(where: { (nodes[lNode]?.addresses ?? []).contains($0) }) else { return false }
        } else if ls.multicastBlocked || ss.multicastBlocked {
            return false
        }
        let (l, s) = (instances[listener], instances[sender])
        // A mismatch makes the listener discard the advert (keepalived 2.2.7's vrrp_check_packet,
        // measured): another version; under VRRPv2, another interval (a VRRPv3 backup takes the
        // master's); other VIPs (their count, and each of its own in the advert). A backup with
        // skip_check_adv_addr skips the VIPs of the master it knows; whether it knows it is
        // history, so the model takes the advert as heard: a missed split brain, not a false one.
        let skips = l.skipsAddressCheck && roles[listener] == .backup
        guard l.version == s.version, l.version == 3 || l.advertInterval == s.advertInterval,
              skips || Set(l.virtualAddresses) == Set(s.virtualAddresses)
        else { return false }
        if l.version == 2, l.authType != nil || s.authType != nil {
            guard l.authType == s.authType, l.authPass.map({ String($0.prefix(8)) }) == s.authPass.map({ String($0.prefix(8)) })
            else { return false }
        }
        return true
    }

    /// Whether master `a` beats master `b`: the higher priority, then the higher address.
    func beats(_ a: Int, _ b: Int, _ priorities: [Int?]) -> Bool {
        let (pa, pb) = (priorities[a] ?? 0, priorities[b] ?? 0)
        return pa != pb ? pa > pb : (nodes[instances[a].node]?.primaryAddress ?? 0) > (nodes[instances[b].node]?.primaryAddress ?? 0)
    }

    /// Settles the roles after `cause`; `failingBefore`: each instance's failing checks before it.
    mutating func settle(cause: Event?, failingBefore: [Set<String>]) -> Double {
        let mastersBefore = Dictionary(grouping: instances.indices.filter { roles[$0] == .master }, by: groupKey)
        // Notify commands that start or stop services change the checks, and so the roles again.
        // keepalived (re)started enters BACKUP and runs notify_backup at once, before any election.
        for _ in 0..<10 {
            let before = roles
            forceRoles()
            let entered = notify(since: before)
            let forced = roles
            elect()
            guard notify(since: forced) || entered else { break }
        }
        return bound(cause: cause, mastersBefore: mastersBefore, failingBefore: failingBefore)
    }

    /// Runs the notify commands of the instances whose role changed since `before`, as keepalived
    /// does on entering a state; whether any service changed.
    mutating func notify(since before: [Role]) -> Bool {
        var changed = false
        for index in instances.indices where roles[index] != before[index] {
            let node = instances[index].node
            guard states[node]?.alive == true else { continue }
            for action in notifications[index][roles[index]] ?? [] {
                let stopped = states[node]?.stopped.contains(action.service) ?? false
                guard stopped == action.start else { continue }
                if action.start { states[node]?.stopped.remove(action.service) } else { states[node]?.stopped.insert(action.service) }
                changed = true
            }
        }
        return changed
    }

    /// The instances frozen: a paused node's, or a hung keepalived's. No role of theirs changes.
    var frozenInstances: Set<Int> { Set(instances.indices.filter { states[instances[$0].node]?.vrrpFrozen == true }) }

    /// The roles the nodes' states force: down, FAULT, and BACKUP for one (re)started.
    mutating func forceRoles() {
        let frozen = frozenInstances
        for index in instances.indices where !frozen.contains(index) {
            if let forced = forcedRole(index) {
                roles[index] = forced
            } else if [.down, .fault].contains(roles[index]) {
                roles[index] = .backup  // (re)started: keepalived enters BACKUP first
            }
        }
    }

    /// The elections among the instances that take part.
    mutating func elect() {
        let frozen = frozenInstances
        for _ in 0..<100 {
            var changed = false
            // Roles can change a priority (a check routed through a VIP): read again after each change.
            var priorities = instances.indices.map(priority)
            let masters = instances.indices.filter { roles[$0] == .master && !frozen.contains($0) }
            // Two masters meeting: the one that loses steps down.
            let losers = masters.filter { m in
                peers[m].contains { x in x != m && roles[x] == .master && !frozen.contains(x) && hears(m, x) && beats(x, m, priorities) }
            }
            // A member leaving MASTER takes its sync group with it (vrrp_sync_backup).
            for loser in losers.flatMap(syncMembers) where roles[loser] == .master { roles[loser] = .backup; changed = true }
            if changed { priorities = instances.indices.map(priority) }
            // Backups whose Master_Down_Timer expires: no master they hear holds them back.
            let eligible = instances.indices.filter { b in
                roles[b] == .backup && !frozen.contains(b) && !peers[b].contains { m in
                    roles[m] == .master && hears(b, m)
                        && (!instances[b].preempt || (priorities[m] ?? 0) >= (priorities[b] ?? 0))
                }
            }
            for index in takingOver(eligible, priorities) {
                roles[index] = .master
                changed = true
            }
            if !changed { break }
        }
    }

    /// The eligible backups that become MASTER now. The highest priority's timer expires first
    /// (shortest skew), per VRRP group; a sync group goes MASTER only once every member wants to
    /// (vrrp_sync_can_goto_master), and a member its group holds back sends no advert, so it
    /// holds back no rival.
    func takingOver(_ eligible: [Int], _ priorities: [Int?]) -> [Int] {
        let eligibleSet = Set(eligible)
        var held: Set<Int> = []
        while true {
            let wanting = Set(eligible.filter { index in
                !held.contains(index) && peers[index].filter { eligibleSet.contains($0) && !held.contains($0) && hears(index, $0) }
                    .allSatisfy { (priorities[$0] ?? 0) <= (priorities[index] ?? 0) }
            })
            let holdBack = wanting.filter { !syncMembers($0).allSatisfy { wanting.contains($0) || roles[$0] == .master } }
            if holdBack.isEmpty && (!wanting.isEmpty || held.isEmpty) { return eligible.filter(wanting.contains) }
            if holdBack.isEmpty {
                // Every group held back by another: none sends adverts, so every timer runs out,
                // and the group whose last member's runs out first (its lowest priority is the
                // highest) goes MASTER. Measured live, start timing can crown the other group too:
                // `possibleStarts` has both.
                let lowest = { (group: [Int]) in group.map { priorities[$0] ?? 0 }.min() ?? 0 }
                return held.map(syncMembers).filter { $0.allSatisfy(eligibleSet.contains) }
                    .max { lowest($0) != lowest($1) ? lowest($0) < lowest($1) : $0.min()! > $1.min()! } ?? []
            }
            held.formUnion(holdBack)
        }
    }

    /// The VRRP group of an instance, named by its first peer.
    func groupKey(_ index: Int) -> Int { peers[index].first ?? index }

    func bound(cause: Event?, mastersBefore: [Int: [Int]], failingBefore: [Set<String>]) -> Double {
        guard let cause else { return 0 }
        let mastersAfter = Dictionary(grouping: instances.indices.filter { roles[$0] == .master }, by: groupKey)
        var bound = 0.0
        for (group, after) in mastersAfter where Set(after) != Set(mastersBefore[group] ?? []) {
            for index in after where !(mastersBefore[group] ?? []).contains(index) {
                let instance = instances[index]
                let newPriority = priority(index) ?? instance.priority
                // The health checks noticing what changed: each check of the group's peers that
                // began or ceased to fail, after `fall` (`rise`) runs; a hang, after its timeout too.
                let detection = peers[index].flatMap { peer -> [Double] in
                    let now = failingScripts(peer)
                    let before = peer < failingBefore.count ? failingBefore[peer] : now
                    return instances[peer].trackedScripts.filter { now.contains($0.name) != before.contains($0.name) }.map { script in
                        now.contains(script.name)
                            ? script.interval * Double(script.fall) + (cause.isHang ? script.timeout : 0)
                            : script.interval * Double(script.rise)
                    }
                }.max() ?? 0
                // A master that left cleanly (keepalived stopped, FAULT by a check) sent priority 0:
                // skew only. One whose link went down could not send it: the full interval.
                let cleanLeave: Bool = {
                    if case .stopService("keepalived", _) = cause { return true }
                    return (mastersBefore[group] ?? []).contains { roles[$0] == .fault && interfaceUp(instances[$0].node, instances[$0].interface) }
                }()
                // A VRRPv3 backup times its wait by the interval of the master it heard (measured:
                // "advertisement interval updated from 500ms to 100ms by master").
                var timing = instance
                if instance.version == 3, let heard = (mastersBefore[group] ?? []).first { timing.advertInterval = instances[heard].advertInterval }
                let preempting = (mastersBefore[group] ?? []).contains { roles[$0] == .backup }
                bound = max(bound, timing.takeoverTime(detection: detection, priority: newPriority, masterLeftCleanly: cleanLeave,
                                                       preempts: preempting, started: cause.startsKeepalived(on: instance.node)))
            }
        }
        return bound
    }
}

extension VRRPModel {
    /// Whether every VIP that moved since `before` was held, and left only masters that stepped
    /// down to BACKUP and can still serve it: preempted, a master drops the VIP as the new one
    /// sends its first advert, so clients lose nothing (measured: a restarted master taking its
    /// VIP back; a priority raised on the backup by a rollout). A VIP nobody held is an outage.
    public func handsOverAtOnce(from before: VRRPModel) -> Bool {
        virtualAddresses.allSatisfy { address in
            let was = Set(before.holders(of: address))
            return !was.isEmpty && was.subtracting(holders(of: address)).allSatisfy { node in
                canServe(node, address: address) && instances.indices.contains {
                    instances[$0].node == node && instances[$0].virtualAddresses.contains(address) && roles[$0] == .backup
                }
            }
        }
    }

    /// How close two backups' takeovers may come and still race: under load, a new master's
    /// first advert can reach the next backup tens of milliseconds late (seen here: three-node,
    /// 39 ms apart on two busy cores, both went MASTER).
    public static let takeoverRaceMargin = 0.1

    /// The VIPs a new master took by its timer while another backup's timer ran out within
    /// `takeoverRaceMargin` of it: both may be master for a moment, and the client may keep the
    /// MAC of the one that steps down (a master that stays sends no gratuitous ARP). Whether
    /// that happens is timing the model cannot know.
    public func takeoverRaces(from before: VRRPModel) -> Set<String> {
        var races = Set<String>()
        let mastersBefore = Set(before.instances.indices.filter { before.roles[$0] == .master })
        for index in instances.indices where roles[index] == .master && !mastersBefore.contains(index) {
            let instance = instances[index]
            guard let priority = priority(index) else { continue }
            // An old master the rival still hears, advertising at or above its priority, holds it back.
            let rivals = peers[index].filter { peer in
                guard peer != index, !mastersBefore.contains(peer), roles[peer] == .backup, instances[peer].preempt,
                      let rival = self.priority(peer) else { return false }
                let heldBack = mastersBefore.contains { old in
                    old != index && peers[index].contains(old) && [.backup, .master].contains(roles[old]) && hears(peer, old) && (self.priority(old) ?? 0) >= rival
                }
                return !heldBack && abs(instance.skewTime(priority: rival) - instance.skewTime(priority: priority)) < Self.takeoverRaceMargin
            }
            if !rivals.isEmpty { races.formUnion(instance.virtualAddresses.map { $0.split(separator: "/").first.map(String.init) ?? $0 }) }
        }
        return races
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    public func uniqueInOrder() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
