/// How a change of masters looks to clients: how long it may take (from the timers), whether
/// the VIP moves without a gap, and whether two backups' timers race.
extension VRRPModel {
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
                let detection =
                    peers[index].flatMap { peer -> [Double] in
                        let now = failingScripts(peer)
                        let before = peer < failingBefore.count ? failingBefore[peer] : now
                        return instances[peer].trackedScripts.filter {
                            now.contains($0.name) != before.contains($0.name)
                        }.map { script in
                            now.contains(script.name)
                                ? script.interval * Double(script.fall) + (cause.isHang ? script.timeout : 0)
                                : script.interval * Double(script.rise)
                        }
                    }.max() ?? 0
                // A master that left cleanly (keepalived stopped, FAULT by a check) sent priority 0:
                // skew only. One whose link went down could not send it: the full interval.
                let cleanLeave: Bool = {
                    if case .stopService("keepalived", _) = cause { return true }
                    return (mastersBefore[group] ?? []).contains {
                        roles[$0] == .fault && network.interfaceUp(instances[$0].node, instances[$0].interface)
                    }
                }()
                // A VRRPv3 backup times its wait by the interval of the master it heard (measured:
                // "advertisement interval updated from 500ms to 100ms by master").
                var timing = instance
                if instance.version == 3, let heard = (mastersBefore[group] ?? []).first {
                    timing.advertInterval = instances[heard].advertInterval
                }
                let preempting = (mastersBefore[group] ?? []).contains { roles[$0] == .backup }
                bound = max(
                    bound,
                    timing.takeoverTime(
                        detection: detection, priority: newPriority, masterLeftCleanly: cleanLeave,
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
            return !was.isEmpty
                && was.subtracting(holders(of: address)).allSatisfy { node in
                    canServe(node, address: address)
                        && instances.indices.contains {
                            instances[$0].node == node && instances[$0].virtualAddresses.contains(address)
                                && roles[$0] == .backup
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
                    let rival = self.priority(peer)
                else { return false }
                let heldBack = mastersBefore.contains { old in
                    old != index && peers[index].contains(old) && [.backup, .master].contains(roles[old])
                        && hears(peer, old) && (self.priority(old) ?? 0) >= rival
                }
                return !heldBack
                    && abs(instance.skewTime(priority: rival) - instance.skewTime(priority: priority))
                        < Self.takeoverRaceMargin
            }
            if !rivals.isEmpty {
                races.formUnion(instance.virtualAddresses.map { $0.split(separator: "/").first.map(String.init) ?? $0 })
            }
        }
        return races
    }
}
