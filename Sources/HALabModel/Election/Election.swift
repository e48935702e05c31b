/// The rules of an election, from vrrp-facts.md: each instance's priority and forced role,
/// who hears whom, which master stays, which backups take over, and the notify commands run
/// on each change of role; `settle` applies them until nothing changes.
extension VRRPModel {
    func priority(_ index: Int) -> Int? {
        let node = instances[index].node
        let down = Set(instances[index].trackedInterfaces.lazy.map(\.name).filter { !network.interfaceUp(node, $0) })
        return instances[index].effectivePriority(
            failing: failingScripts(index), down: down, files: states[node]?.fileValues ?? [:])
    }

    /// The role an instance is forced into, or nil while it takes part in elections: down
    /// with its keepalived; FAULT while its interface is down, or a check or tracked
    /// interface without weight fails — and while any member of its sync group is in FAULT
    /// (keepalived's vrrp_sync_fault).
    func forcedRole(_ index: Int) -> Role? {
        let node = instances[index].node
        guard let state = states[node], network.machines[node]?.alive == true, !state.stopped.contains("keepalived"),
            !refusingNodes.contains(node)
        else { return .down }
        return syncMembers(index).contains(where: ownFault) ? .fault : nil
    }

    func ownFault(_ index: Int) -> Bool {
        !network.interfaceUp(instances[index].node, instances[index].interface) || priority(index) == nil
    }

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
        guard lNode != sNode, let ls = network.machines[lNode], let ss = network.machines[sNode],
            network.interfaceUp(lNode, lInterface), network.interfaceUp(sNode, sInterface), !vrrpFrozen(lNode),
            !vrrpFrozen(sNode),
            let lSegment = network.activeSegment(lNode, lInterface),
            let sSegment = network.activeSegment(sNode, sInterface),
            network.joined(lSegment, sSegment), !network.partitioned(lNode, sNode)
        else { return false }
        if !instances[sender].unicastPeers.isEmpty {
            guard instances[sender].unicastPeers.contains(where: { (nodes[lNode]?.addresses ?? []).contains($0) })
            else { return false }
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
            guard l.authType == s.authType,
                l.authPass.map({ String($0.prefix(8)) }) == s.authPass.map({ String($0.prefix(8)) })
            else { return false }
        }
        return true
    }

    /// Whether master `a` beats master `b`: the higher priority, then the higher address.
    func beats(_ a: Int, _ b: Int, _ priorities: [Int?]) -> Bool {
        let (pa, pb) = (priorities[a] ?? 0, priorities[b] ?? 0)
        return pa != pb
            ? pa > pb
            : (nodes[instances[a].node]?.primaryAddress ?? 0) > (nodes[instances[b].node]?.primaryAddress ?? 0)
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
            guard network.machines[node]?.alive == true else { continue }
            for action in scripts.notifications[index][roles[index]] ?? [] {
                let stopped = states[node]?.stopped.contains(action.service) ?? false
                guard stopped == action.start else { continue }
                if action.start {
                    states[node]?.stopped.remove(action.service)
                } else {
                    states[node]?.stopped.insert(action.service)
                }
                changed = true
            }
        }
        return changed
    }

    /// Whether keepalived on the node neither sends nor hears: the node is paused, or keepalived hangs.
    func vrrpFrozen(_ node: String) -> Bool {
        network.machines[node]?.paused == true || states[node]?.hung.contains("keepalived") == true
    }

    /// The instances frozen: a paused node's, or a hung keepalived's. No role of theirs changes.
    var frozenInstances: Set<Int> { Set(instances.indices.filter { vrrpFrozen(instances[$0].node) }) }

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
                peers[m].contains { x in
                    x != m && roles[x] == .master && !frozen.contains(x) && hears(m, x) && beats(x, m, priorities)
                }
            }
            // A member leaving MASTER takes its sync group with it (vrrp_sync_backup).
            for loser in losers.flatMap(syncMembers) where roles[loser] == .master {
                roles[loser] = .backup; changed = true
            }
            if changed { priorities = instances.indices.map(priority) }
            // Backups whose Master_Down_Timer expires: no master they hear holds them back.
            let eligible = instances.indices.filter { b in
                roles[b] == .backup && !frozen.contains(b)
                    && !peers[b].contains { m in
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
            let wanting = Set(
                eligible.filter { index in
                    !held.contains(index)
                        && peers[index].filter { eligibleSet.contains($0) && !held.contains($0) && hears(index, $0) }
                            .allSatisfy { (priorities[$0] ?? 0) <= (priorities[index] ?? 0) }
                })
            let holdBack = wanting.filter {
                !syncMembers($0).allSatisfy { wanting.contains($0) || roles[$0] == .master }
            }
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
}
