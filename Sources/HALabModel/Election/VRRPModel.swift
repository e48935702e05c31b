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
    public enum Role: String, Sendable, Codable {
        case master = "MASTER", backup = "BACKUP", fault = "FAULT", down = "DOWN"
    }

    /// What runs on a node and what its tracked files say (its machine and cables are the network's).
    struct NodeState: Sendable {
        var stopped: Set<String> = []
        /// Services whose processes are frozen, and services refusing new connections.
        var hung: Set<String> = []
        var refusing: Set<String> = []
        /// The value of each track file, by path.
        var fileValues: [String: Int] = [:]
    }

    public var nodes: [String: Node] { network.nodes }
    /// The machines and wires: which run, which links and switches are up, the partition.
    var network: Network
    /// Every node's instances; a reload with a new config (`reconfigure`) replaces one node's.
    public private(set) var instances: [VRRPInstance] = []
    /// Every tracked check read, and what each instance's notify commands do.
    private(set) var scripts = Scripts()
    /// A notify command the model cannot follow: its instance, the role it follows, the command.
    public typealias UnfollowedNotify = (instance: VRRPInstance, role: Role, command: String)
    public var unfollowedNotify: [UnfollowedNotify] { scripts.unfollowedNotify }
    /// The checks the model cannot judge that this world has decided (`VRRPWorlds`), and of
    /// those, the ones it takes as failing.
    public internal(set) var decided: Set<String> = []
    public internal(set) var assumedFailing: Set<String> = []
    var states: [String: NodeState]
    var roles: [Role] = []  // by index into `instances`
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
        network = Network(nodes: Dictionary(nodes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
        states = network.nodes.mapValues { _ in NodeState() }
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
        states = states.mapValues { state in NodeState(fileValues: state.fileValues) }
        network.machines = network.machines.mapValues { _ in Network.Machine(alive: false) }
        roles = Array(repeating: .down, count: instances.count)
    }

    /// Starts a node that was down, and settles.
    mutating func start(_ node: String) {
        network.machines[node]?.alive = true
        _ = settle(cause: nil, failingBefore: [])
    }

    /// Takes `instances` as the nodes' configs: what follows from them (checks, notify commands,
    /// peers), and the values of track files not read before.
    mutating func adopt(_ instances: [VRRPInstance]) {
        self.instances = instances
        scripts = Scripts(nodes: nodes, instances: instances)
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
        refusingNodes = Set(
            instances.filter { instance in
                guard let spec = nodes[instance.node], !spec.segments.isEmpty else { return false }
                return !spec.segments.keys.contains(instance.interface) && spec.bonds[instance.interface] == nil
                    && spec.bridges[instance.interface] == nil
            }.map(\.node))
        for (name, node) in nodes {
            // What keepalived reads at start: init_file's value where it writes one, else the file's.
            for file in instances.filter({ $0.node == name }).flatMap(\.trackedFiles)
            where states[name]?.fileValues[file.path] == nil {
                let existing = node.files[file.path].map(TrackedFile.number)
                states[name]?.fileValues[file.path] =
                    file.overwrite || existing == nil ? file.initValue ?? existing ?? 0 : existing
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
        continued.insert(
            contentsOf: new.map { instance in
                old.instances.indices.first { o in
                    let was = old.instances[o]
                    return was.node == node && was.virtualRouterID == instance.virtualRouterID
                        && was.family == instance.family
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
        guard
            let index = instances.indices.first(where: { instances[$0].node == node && instances[$0].name == instance }
            ),
            [.master, .backup].contains(roles[index])
        else { return nil }
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
        guard let machine = network.machines[node], let spec = nodes[node] else { return false }
        return machine.alive && machine.linkUp && !machine.paused
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
        let started = instances.indices.filter {
            instances[$0].node == node && instances[$0].virtualAddresses.contains(address)
        }
        .flatMap { scripts.notifications[$0][.master] ?? [] }.filter(\.start).map(\.service)
        for service in started { world.states[node]?.stopped.remove(service) }
        return world.canServe(node, address: address)
    }

    /// A node can answer clients on `address`: it can serve, and the interfaces of its instance
    /// for the address are up: the one it is on, and those it tracks (tracked because the
    /// service needs them, as a gateway its uplink).
    public func canServe(_ node: String, address: String) -> Bool {
        canServe(node)
            && instances.filter { $0.node == node && $0.virtualAddresses.contains(address) }
                .allSatisfy { instance in
                    ([instance.interface] + instance.trackedInterfaces.map(\.name)).allSatisfy {
                        network.interfaceUp(node, $0)
                    }
                }
    }

    /// Why a node cannot serve, in words: "its nginx is stopped", "it is down" …
    public func whyNotServing(_ node: String) -> String {
        guard let machine = network.machines[node] else { return "unknown" }
        if !machine.alive { return "it is down" }
        if !machine.linkUp { return "its link is down" }
        if machine.paused { return "it is paused" }
        let failing = (nodes[node]?.services ?? []).filter { nodes[node]?.ports.values.contains($0) ?? false }
            .compactMap { service -> String? in
                switch serviceState(service, on: node) {
                case .running: nil
                case .stopped: "its \(service) is stopped"
                case .hung: "its \(service) hangs"
                case .refusing: "its \(service) refuses connections"
                }
            }
        return failing.joined(separator: " and ")
    }
}
