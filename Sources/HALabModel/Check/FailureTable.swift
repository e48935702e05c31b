import Foundation

extension ConfigCheck {
    /// What the model predicts after each of `failureSequences`, in every world it cannot tell apart.
    public static func failureTable(_ model: VRRPModel, kinds: Set<Fault.Kind> = Fault.Kind.checkTable) -> [Row] {
        failureTable(model, sequences: failureSequences(model, kinds: kinds))
    }

    static func failureTable(_ model: VRRPModel, sequences: [[Fault]]) -> [Row] {
        let start = VRRPWorlds(model)
        let nodes = model.nodes.keys.sorted()
        // A gateway VIP's connections go through it, to servers beyond.
        let gateways = model.gatewayAddresses
        return sequences.map { failures in
            var worlds = start
            var bound = 0.0
            var worst = 0.0
            var connections = Dictionary(
                uniqueKeysWithValues: start.virtualAddresses.map { ($0, ConnectionFate.survive) })
            for failure in failures {
                let beforeFailure = worlds
                // Only a connection still alive has a fate to follow.
                let alive = connections.keys.filter { connections[$0] == .survive }
                var moved: Set<String> = []
                // An event's bound is zero unless it changes a master: the longest move counts, but
                // for a master preempted while it still serves (measured: it hands over at once).
                for event in failure.events(nodes: nodes) {
                    let before = worlds
                    bound = worlds.apply(event)
                    if !worlds.handsOverAtOnce(from: before) { worst = max(worst, bound) }
                    moved.formUnion(alive.filter { worlds.holders(of: $0) != before.holders(of: $0) })
                }
                // A connection broken stays broken; one the model lost sight of stays unknown.
                for address in alive {
                    connections[address] =
                        gateways.contains(address)
                        ? worlds.forwardedConnectionFate(
                            through: address, before: beforeFailure, moved: moved.contains(address), action: failure,
                            ends: [])
                        : worlds.heldConnectionFate(
                            of: address, before: beforeFailure, moved: moved.contains(address), action: failure,
                            client: nil)
                }
            }
            var row = row(worlds, failures: failures.map(\.description), bound: bound)
            row.connections = connections
            row.worstOutage =
                !row.outages.isEmpty || !row.unservable.isEmpty
                ? .untilMended : !row.depends.isEmpty ? .unknown : .seconds(worst)
            return row
        }
    }

    static func row(_ worlds: VRRPWorlds, failures: [String], bound: Double) -> Row {
        var row = Row(failures: failures, holders: [:], outages: [], unservable: [], bound: bound)
        for address in worlds.virtualAddresses {
            guard let holders = worlds.holders(of: address) else {
                row.depends.append("\(address) depends on \(worlds.dependence(of: address) ?? "")")
                continue
            }
            row.holders[address] = holders
            let model = worlds.model(for: address)
            let servers = model.servers(of: address)
            if servers.isEmpty {
                row.unservable.append(address)
            } else if holders.count > 1 {
                row.outages.append("\(address) on \(holders.joined(separator: " and ")) at once: split brain")
            } else if let holder = holders.first, !model.canServe(holder, address: address) {
                row.outages.append(
                    "\(address) stays on \(holder), where \(model.whyNotServing(holder)), while "
                        + "\(servers.joined(separator: ", ")) could serve"
                )
            } else if holders.isEmpty {
                row.outages.append("nobody holds \(address) while \(servers.joined(separator: ", ")) could serve")
            }
        }
        return row
    }
}
