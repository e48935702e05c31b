/// The worlds the model cannot tell apart. Where a check's outcome is unknown (a script it
/// cannot read, a TCP check of a hung service), one world takes it as failing and one as
/// passing, and each is followed on: VRRP remembers, so they may stay apart after the check is
/// known again. Where the worlds agree on a VIP the model predicts it; where they do not, it
/// says what its prediction depends on, and predicts nothing: a false alarm is worse than a
/// missed prediction.
///
/// The cost is bounded by construction. The lab's instances fall into independent parts
/// (`VRRPModel.independentParts`), and each part has worlds of its own, holding its instances
/// only: n unknown checks in n parts make 2n worlds, not 2^n. A part is never split past
/// `limit` worlds: its VIPs are then unknown for the rest of the run.
public struct VRRPWorlds: Sendable {
    /// Instances whose roles depend on no other instance's, and the worlds the model cannot
    /// tell apart for them.
    struct Part: Sendable {
        /// Indices into `whole.instances`, ascending.
        var indices: [Int]
        var worlds: [VRRPModel]
        var addresses: Set<String>
    }

    /// The lab with every instance: the parts' worlds are slices of it.
    private var whole: VRRPModel
    private var parts: [Part] = []
    /// The part floating each VIP.
    private var partOf: [String: Int] = [:]
    /// Each unknown check met, by key, and why the model cannot judge it.
    private var reasons: [String: String] = [:]
    /// VIPs whose worlds were not all followed, with why: the model predicts nothing of them.
    private var unfollowed: [String: String] = [:]
    /// Worlds per part, at most (5 unknown checks at once in one part).
    static let limit = 32

    public init(_ model: VRRPModel) {
        whole = model
        split([model])
    }

    /// The worlds a lab may come up in (`VRRPModel.possibleStarts`): in each part, all at
    /// once first, then every order in which its keepalived nodes can start.
    init(startsOf model: VRRPModel) {
        self.init(model)
        for index in parts.indices {
            var seen = Set(parts[index].worlds.map(\.signature))
            for world in parts[index].worlds[0].startOrders() where seen.insert(world.signature).inserted {
                guard parts[index].worlds.count < Self.limit else {
                    for address in parts[index].addresses {
                        unfollowed[address] = "more ways to come up than the model follows"
                    }
                    break
                }
                parts[index].worlds.append(world)
            }
        }
    }

    /// Applies `event` in every world, splitting each at a check the event makes unknown;
    /// returns the longest time VRRP may take to settle in any of them.
    @discardableResult
    public mutating func apply(_ event: VRRPModel.Event) -> Double {
        if case .reconfigure = event { return reconfigure(event) }
        return parts.indices.map { apply(event, toPart: $0) }.max() ?? 0
    }

    private mutating func apply(_ event: VRRPModel.Event, toPart index: Int) -> Double {
        let part = parts[index]
        guard !part.addresses.contains(where: { unfollowed[$0] != nil }) else {
            return applyUnsplit(event, toPart: index)
        }
        var next: [VRRPModel] = []
        var bound = 0.0
        for world in part.worlds {
            var probe = world
            let probeBound = probe.apply(event)
            let fresh = probe.unknownChecks().filter { !world.decided.contains($0.key) }
            for (key, why) in fresh { reasons[key] = why }
            guard !fresh.isEmpty else {
                probe.forgetKnownChecks()
                next.append(probe)
                bound = max(bound, probeBound)
                continue
            }
            guard fresh.count < 6, next.count + 1 << fresh.count <= Self.limit else {
                let why =
                    "\(fresh.count) checks the model cannot judge at once (it follows at most \(Self.limit) "
                        + "combinations in one group "
                    + "of instances), among them " + fresh.prefix(2).map(\.why).joined(separator: "; ")
                for address in part.addresses { unfollowed[address] = why }
                return applyUnsplit(event, toPart: index)
            }
            var variants = [world]
            for (key, _) in fresh {
                variants = variants.flatMap { [$0.deciding(key, failing: false), $0.deciding(key, failing: true)] }
            }
            for var variant in variants {
                bound = max(bound, variant.apply(event))
                variant.forgetKnownChecks()
                next.append(variant)
            }
        }
        var seen: Set<String> = []
        parts[index].worlds = next.filter { seen.insert($0.signature).inserted }
        return bound
    }

    /// A part whose VIPs the model no longer predicts: its worlds follow the event, unknown checks undecided.
    private mutating func applyUnsplit(_ event: VRRPModel.Event, toPart index: Int) -> Double {
        parts[index].worlds.indices.map { parts[index].worlds[$0].apply(event) }.max() ?? 0
    }

    /// A reload with a new config changes which instances there are, and so the parts: the
    /// parts' worlds are joined into whole labs (at most `limit`), the reload applied in each,
    /// and the lab split anew.
    private mutating func reconfigure(_ event: VRRPModel.Event) -> Double {
        var choices: [[Int]] = [[]]
        for part in parts {
            choices = Array(choices.flatMap { choice in part.worlds.indices.map { choice + [$0] } }.prefix(Self.limit))
        }
        if parts.map(\.worlds.count).reduce(1, { $0 > Self.limit ? $0 : $0 * $1 }) > Self.limit {
            for part in parts where part.worlds.count > 1 {
                for address in part.addresses {
                    unfollowed[address] =
                        "more combinations of checks the model cannot judge than it follows through a reload"
                }
            }
        }
        var wholes = choices.map(composed(choosing:))
        let bound = wholes.indices.map { wholes[$0].apply(event) }.max() ?? 0
        whole = wholes[0]
        split(wholes)
        return bound
    }

    /// Makes the parts of the whole lab's worlds, each part's world once.
    private mutating func split(_ wholes: [VRRPModel]) {
        parts = whole.independentParts().map { indices in
            var seen: Set<String> = []
            return Part(
                indices: indices,
                worlds: wholes.map { $0.restricted(to: indices) }.filter { seen.insert($0.signature).inserted },
                addresses: Set(indices.flatMap { whole.instances[$0].virtualAddresses }))
        }
        partOf = [:]
        for (index, part) in parts.enumerated() {
            for address in part.addresses { partOf[address] = index }
        }
    }

    /// The whole lab in the world `choice` names for each part.
    private func composed(choosing choice: [Int]) -> VRRPModel {
        var model = whole
        model.decided = []
        model.assumedFailing = []
        for (number, (part, pick)) in zip(parts, choice).enumerated() {
            model.take(part.worlds[pick], for: part.indices, withCommonState: number == 0)
        }
        return model
    }

    /// The whole lab in the first world of every part: for questions about the whole lab.
    public var model: VRRPModel { composed(choosing: Array(repeating: 0, count: parts.count)) }

    /// The first world of the part floating `address`, which holds that part's instances only:
    /// for questions about that VIP (who could serve it, whether its holder can).
    public func model(for address: String) -> VRRPModel {
        partOf[address].map { parts[$0].worlds[0] } ?? model
    }

    public var virtualAddresses: [String] { whole.virtualAddresses }

    /// Whether every VIP that moved since `before` was handed over at once (`VRRPModel.handsOverAtOnce`),
    /// in the first world of each part.
    public func handsOverAtOnce(from before: VRRPWorlds) -> Bool {
        guard before.parts.map(\.indices) == parts.map(\.indices) else {
            return model.handsOverAtOnce(from: before.model)
        }
        return zip(parts, before.parts).allSatisfy { $0.worlds[0].handsOverAtOnce(from: $1.worlds[0]) }
    }

    /// How many worlds are followed, in all parts.
    var worldCount: Int { parts.reduce(0) { $0 + $1.worlds.count } }

    /// Whether some VIP's worlds differ (a run then learns which it is in: `keep`).
    public var isUncertain: Bool { parts.contains { $0.worlds.count > 1 } }

    /// The holders of a VIP every world agrees on; nil where they differ.
    public func holders(of address: String) -> [String]? {
        guard unfollowed[address] == nil else { return nil }
        guard let worlds = partOf[address].map({ parts[$0].worlds }) else { return [] }
        let first = worlds[0].holders(of: address)
        return worlds.dropFirst().allSatisfy { Set($0.holders(of: address)) == Set(first) } ? first : nil
    }

    /// Why the worlds differ on a VIP: the unknown checks they decided apart. Nil where they agree.
    public func dependence(of address: String) -> String? {
        if let why = unfollowed[address] { return why }
        guard holders(of: address) == nil, let worlds = partOf[address].map({ parts[$0].worlds }) else { return nil }
        let keys = Set(worlds.flatMap(\.decided)).filter { key in
            Set(worlds.map { $0.assumedFailing.contains(key) }).count > 1
        }
        let why = keys.sorted().compactMap { reasons[$0] }
        return why.isEmpty ? "checks the model cannot judge" : why.joined(separator: "; ")
    }

    /// Each holders of `address` some world has, each once, in the order of the worlds.
    public func possibleHolders(of address: String) -> [[String]] {
        partOf[address].map { parts[$0].worlds.map { $0.holders(of: address) }.uniqueInOrder() } ?? [[]]
    }

    /// The whole lab in the world of each part whose holders are those seen (its first where none is).
    public func first(matching seen: [String: [String]]) -> VRRPModel {
        composed(
            choosing: parts.map { part in
                part.worlds.firstIndex { world in
                    seen.filter { part.addresses.contains($0.key) }.allSatisfy {
                        Set(world.holders(of: $0.key)) == Set($0.value)
                    }
                } ?? 0
            })
    }

    /// The worlds whose holders are those seen: a run follows the world it is in.
    public mutating func keep(matching seen: [String: [String]]) {
        for index in parts.indices {
            let mine = seen.filter { parts[index].addresses.contains($0.key) }
            let matching = parts[index].worlds.filter { world in
                mine.allSatisfy { Set(world.holders(of: $0.key)) == Set($0.value) }
            }
            if !matching.isEmpty { parts[index].worlds = matching }
        }
    }
}

extension VRRPModel {
    /// The lab as it may come up: all at once, or its keepalived nodes started one after another
    /// in any order (where start order decides, as with equal priorities or nopreempt).
    public func possibleStarts() -> VRRPWorlds { VRRPWorlds(startsOf: self) }

    /// Up to 6 keepalived nodes in a part, every order of their start is followed; beyond,
    /// all at once only.
    static let orderedStartLimit = 6

    /// This lab come up with its keepalived nodes started one after another, each settled
    /// before the next, in every order (then the other nodes, by name): each outcome once. A
    /// start's outcome depends on what has started and the state so far, not on the order that
    /// led there, so orders that meet share the rest of their way (2^n states, not n!).
    func startOrders() -> [VRRPModel] {
        let starting = instances.map(\.node).uniqueInOrder()
        guard starting.count > 1, starting.count <= Self.orderedStartLimit else { return [] }
        var down = self
        down.stopAll()
        var frontier: [(started: Set<String>, world: VRRPModel)] = [([], down)]
        for _ in starting {
            var next: [String: (started: Set<String>, world: VRRPModel)] = [:]
            for (started, world) in frontier {
                for node in starting where !started.contains(node) {
                    var later = world
                    later.start(node)
                    let now = started.union([node])
                    let stoppedServices = later.states.keys.sorted().map {
                        "\($0):\(later.states[$0]?.stopped.sorted() ?? [])"
                    }
                    next[now.sorted().description + later.signature + stoppedServices.joined()] = (now, later)
                }
            }
            frontier = next.keys.sorted().compactMap { next[$0] }
        }
        let others = states.keys.filter { !starting.contains($0) }.sorted()
        return frontier.map { started in
            var world = started.world
            for node in others { world.start(node) }
            return world
        }
    }

    /// The instances in parts that cannot change each other's roles, each part's indices
    /// ascending; one empty part where there are no instances (it still follows the nodes).
    /// Instances are in one part when they are peers or in one sync group, float the same VIP
    /// or track the same check (one run, one outcome); with every instance of a node whose
    /// notify commands start or stop services (its roles change what checks of its services
    /// see) or whose keepalived does not start; and with the holders of a VIP a ping of theirs
    /// may be routed through.
    func independentParts() -> [[Int]] {
        guard !instances.isEmpty else { return [[]] }
        var root = Array(instances.indices)
        func find(_ index: Int) -> Int {
            var index = index
            while root[index] != index { (root[index], index) = (root[root[index]], root[index]) }
            return index
        }
        func join(_ members: [Int]) {
            for member in members.dropFirst() { root[find(member)] = find(members[0]) }
        }
        func joinSharing(_ keys: (Int) -> [String]) {
            let pairs = instances.indices.flatMap { index in keys(index).map { ($0, index) } }
            for members in Dictionary(grouping: pairs, by: \.0).values { join(members.map(\.1)) }
        }
        for index in instances.indices {
            join(peers[index])
            join(syncGroups[index])
        }
        joinSharing { self.instances[$0].virtualAddresses }
        joinSharing { index in
            self.instances[index].trackedScripts.map { Self.key(self.instances[index].node, $0.name) }
        }
        let byNode = Dictionary(grouping: instances.indices) { instances[$0].node }
        let notifying = Set(
            instances.indices.filter { scripts.notifications[$0].values.contains { !$0.isEmpty } }.map {
                instances[$0].node
            })
        for (node, members) in byNode where notifying.contains(node) || refusingNodes.contains(node) { join(members) }
        let gateways = Set(nodes.values.flatMap(\.routes).map(\.gateway)).intersection(virtualAddresses)
        let routedThrough = instances.indices.filter { !gateways.isDisjoint(with: instances[$0].virtualAddresses) }
        for index in instances.indices {
            let node = instances[index].node
            for probe in instances[index].trackedScripts.flatMap({ healthCheck($0, on: node).probes }) {
                switch probe {
                case .http(_, let target), .tcp(_, let target):
                    if notifying.contains(target) { join([index] + (byNode[target] ?? [])) }
                case .ping: join([index] + routedThrough)
                case .process, .named: break
                }
            }
        }
        return Dictionary(grouping: instances.indices, by: find).values.sorted { $0[0] < $1[0] }
    }

    /// This world with only the instances at `indices` (a part of `independentParts`).
    func restricted(to indices: [Int]) -> VRRPModel {
        var part = self
        part.adopt(indices.map { instances[$0] })
        part.roles = indices.map { roles[$0] }
        let keys = Set(part.scripts.checks.keys)
        part.decided.formIntersection(keys)
        part.assumedFailing.formIntersection(keys)
        return part
    }

    /// Takes the roles and decisions of the instances at `indices` from `part` (a world of
    /// their part), and their nodes' states: a node's services follow the notify commands of
    /// its part. `withCommonState`: the rest (other nodes, partitions, switches) too.
    mutating func take(_ part: VRRPModel, for indices: [Int], withCommonState: Bool) {
        if withCommonState {
            states = part.states
            network = part.network
        }
        for (local, global) in indices.enumerated() {
            roles[global] = part.roles[local]
            let node = instances[global].node
            states[node] = part.states[node]
            network.machines[node] = part.network.machines[node]
        }
        decided.formUnion(part.decided)
        assumedFailing.formUnion(part.assumedFailing)
    }

    /// This world with an unknown check decided.
    func deciding(_ key: String, failing: Bool) -> VRRPModel {
        var world = self
        world.decided.insert(key)
        if failing { world.assumedFailing.insert(key) }
        return world
    }

    /// Forgets the decisions about checks that are known again: the next time one is unknown,
    /// the worlds split anew.
    mutating func forgetKnownChecks() {
        let unknown = Set(unknownChecks().map(\.key))
        decided.formIntersection(unknown)
        assumedFailing.formIntersection(unknown)
    }

    /// What tells this world from another: its roles and its decisions.
    var signature: String {
        roles.map(\.rawValue).joined(separator: ",") + "|" + decided.sorted().joined(separator: ",") + "|"
            + assumedFailing.sorted().joined(separator: ",")
    }
}
