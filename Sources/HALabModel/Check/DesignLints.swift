/// Lints that read the configs against the lab: each node's interfaces, their networks and
/// addresses, as lab.yaml gives them to the model. A node the model does not know (a config
/// checked alone) is not linted here.
extension ConfigCheck {
    static func designFindings(_ configs: [KeepalivedNodeConfig], model: VRRPModel) -> [Finding] {
        let instances = configs.flatMap(\.instances)
        return configs.flatMap(untrackedScripts) + configs.flatMap(syncGroupPreemption)
            + instances.flatMap { instance -> [Finding] in
                guard let node = model.nodes[instance.node], !node.segments.isEmpty else { return [] }
                return interfaceFindings(instance, node: node)
                    + unicastFindings(instance, peers: instances, model: model)
            }
    }

    /// A vrrp_script no instance tracks runs, and changes nothing.
    static func untrackedScripts(_ config: KeepalivedNodeConfig) -> [Finding] {
        let tracked = Set(config.instances.flatMap { $0.trackedScripts.map(\.name) })
        return config.scripts.filter { !tracked.contains($0.name) }.map { script in
            Finding(
                severity: .warning, location: script.location?.description,
                message:
                    "vrrp_script \(script.name) on \(config.node) is tracked by no vrrp_instance (track_script): its "
                        + "check changes nothing, so the VIP stays on a node whose service is down")
        }
    }

    /// The members of a sync group move together; whether the group takes the VIPs back
    /// should not depend on which member hears the higher advert first.
    static func syncGroupPreemption(_ config: KeepalivedNodeConfig) -> [Finding] {
        config.syncGroups.compactMap { group in
            let members = config.instances.filter { group.instances.contains($0.name) }
            guard Set(members.map(\.preempt)).count > 1 else { return nil }
            return Finding(
                severity: .warning, location: group.location.description,
                message: "the members of sync group \(group.name) on \(config.node) disagree on preemption: "
                    + members.map { "\($0.name) \($0.preempt ? "preempts" : "nopreempt")" }.joined(separator: ", "))
        }
    }

    /// A VIP outside its interface's network is added, but no client of that network asks for
    /// it. (An interface the node lacks, the lab loader reports, with lab.yaml's line.)
    static func interfaceFindings(_ instance: VRRPInstance, node: VRRPModel.Node) -> [Finding] {
        guard let network = node.networks[instance.interface] else { return [] }
        return instance.virtualAddresses.filter { AddressFamily.of($0) == .ipv4 && !IPv4Network(network).contains($0) }
            .map { address in
                Finding(
                    severity: .warning,
                    location: instance.settings["virtual_ipaddress"]?.description ?? instance.location.description,
                    message:
                        "\(instance.name)'s VIP \(address) is outside \(node.name)'s network on \(instance.interface) "
                            + "(\(network)): clients of that network do not ask for it")
            }
    }

    /// A unicast peer must be an address of a node that runs a peer of the instance.
    static func unicastFindings(_ instance: VRRPInstance, peers: [VRRPInstance], model: VRRPModel) -> [Finding] {
        let peerNodes = peers.filter {
            $0.node != instance.node && $0.virtualRouterID == instance.virtualRouterID && $0.family == instance.family
        }
        .map(\.node).uniqueInOrder()
        let known = Set(peerNodes.flatMap { model.nodes[$0]?.addresses ?? [] })
        return instance.unicastPeers.filter { !known.contains($0) }.map { peer in
            Finding(
                severity: .error,
                location: instance.settings["unicast_peer"]?.description ?? instance.location.description,
                message: "unicast_peer \(peer) of \(instance.name) on \(instance.node) is no address of a peer ("
                    + (peerNodes.isEmpty
                        ? "it has none"
                        : peerNodes.map { "\($0) \((model.nodes[$0]?.addresses ?? []).joined(separator: " "))" }
                            .joined(separator: ", "))
                    + "): its adverts reach nobody there, and that peer becomes MASTER too")
        }
    }
}

extension ConfigCheck {
    /// VIPs whose holder depends on which node's keepalived starts first: an equal advert
    /// never preempts a master (RFC 3768 §6.4.2), so with equal priorities, or nopreempt,
    /// the first to become master keeps the VIP.
    static func startOrderFindings(_ model: VRRPModel) -> [Finding] {
        let worlds = model.possibleStarts()
        return model.virtualAddresses.compactMap { address in
            let holders = worlds.possibleHolders(of: address)
            guard holders.count > 1 else { return nil }
            let instance = model.instances.first { $0.virtualAddresses.contains(address) }
            return Finding(
                severity: .warning,
                location: instance?.settings["priority"]?.description ?? instance?.location.description,
                message: "which node holds \(address) depends on which keepalived starts first: "
                    + holders.map { $0.isEmpty ? "nobody" : $0.joined(separator: " and ") }.joined(separator: " or ")
                    + " (an equal priority, or nopreempt, keeps the first master); up and verify accept either")
        }
    }
}

extension ConfigCheck {
    /// A gateway VIP (the next hop of some node's route) floated by gateways whose firewalls
    /// keep each connection's state: on failover the new gateway has none, so the connections
    /// through the old one break, unless conntrackd copies the table (and never where they are
    /// masqueraded behind the old gateway's own address).
    static func statefulGatewayFindings(_ model: VRRPModel) -> [Finding] {
        return model.virtualAddresses.filter(model.gatewayAddresses.contains).flatMap { address -> [Finding] in
            let instances = model.instances.filter { $0.virtualAddresses.contains(address) }
            let holders = instances.map(\.node).uniqueInOrder()
            guard holders.count > 1 else { return [] }
            let synced = holders.allSatisfy(model.syncsConnections)
            return instances.compactMap { instance -> Finding? in
                let node = instance.node
                let others = holders.filter { $0 != node }.joined(separator: " and ")
                let why: String
                switch model.nodes[node]?.statefulForwarding {
                case .masquerade:
                    why =
                        "it masquerades them behind its own address, which \(others) lacks (SNAT them to an "
                        + "address the gateways float, and copy the table with conntrackd)"
                case .newOnlyWithSYN where !synced:
                    why =
                        "\(others) forwards only connections it saw open, and no conntrackd sync copies \(node)'s "
                        + "connection table to it (conntrack-tools, with a notify_master that commits it)"
                default: return nil
                }
                return Finding(
                    severity: .warning,
                    location: instance.settings["virtual_ipaddress"]?.description ?? instance.location.description,
                    message: "connections through \(node)"
                        + "\(model.nodes[node]?.translatesAddresses == true ? "'s NAT" : "") break on failover to "
                        + "\(others): \(why)")
            }
        }
    }
}
