/// The scripts of the nodes' configs, read once as the model takes the configs: each tracked
/// check (a `HealthCheck`, by node and script), and what each instance's notify commands do
/// to its node's services, by the role they follow (by index into the model's instances),
/// with those the model cannot follow.
struct Scripts: Sendable {
    var checks: [String: HealthCheck] = [:]
    var notifications: [[VRRPModel.Role: [ServiceAction]]] = []
    var unfollowedNotify: [VRRPModel.UnfollowedNotify] = []

    init() {}

    init(nodes: [String: VRRPModel.Node], instances: [VRRPInstance]) {
        checks = Self.readChecks(nodes: nodes, instances: instances)
        (notifications, unfollowedNotify) = Self.readNotifications(nodes: nodes, instances: instances)
    }

    /// The checks of every node, read from their commands.
    static func readChecks(nodes: [String: VRRPModel.Node], instances: [VRRPInstance]) -> [String: HealthCheck] {
        let addresses = nodes.mapValues(\.addresses)
        let ports = nodes.mapValues(\.ports)
        let virtualAddresses = Set(instances.flatMap(\.virtualAddresses))
        var checks: [String: HealthCheck] = [:]
        for instance in instances {
            guard let spec = nodes[instance.node] else { continue }
            let reader = CheckReader(
                node: spec.name, services: spec.services, programs: spec.programs, ports: ports, addresses: addresses,
                virtualAddresses: virtualAddresses, files: spec.files)
            for script in instance.trackedScripts where checks[VRRPModel.key(spec.name, script.name)] == nil {
                var check = reader.read(script.command)
                if let named = spec.checks[script.name] { check = HealthCheck(probes: [.named(service: named)]) }
                checks[VRRPModel.key(spec.name, script.name)] = check
            }
        }
        return checks
    }

    /// What each instance's notify commands do, read as the checks are.
    static func readNotifications(nodes: [String: VRRPModel.Node], instances: [VRRPInstance])
        -> ([[VRRPModel.Role: [ServiceAction]]], [VRRPModel.UnfollowedNotify])
    {
        var unfollowed: [VRRPModel.UnfollowedNotify] = []
        let actions = instances.map { instance -> [VRRPModel.Role: [ServiceAction]] in
            guard let spec = nodes[instance.node] else { return [:] }
            let reader = CheckReader(
                node: spec.name, services: spec.services, programs: spec.programs, ports: [:], addresses: [:],
                virtualAddresses: [], files: spec.files)
            var byRole: [VRRPModel.Role: [ServiceAction]] = [:]
            for (role, command) in instance.notify {
                let (found, unknown) = reader.serviceActions(command)
                byRole[role] = found
                if let unknown { unfollowed.append((instance, role, unknown)) }
            }
            return byRole
        }
        return (
            actions,
            unfollowed.sorted {
                ($0.instance.node, $0.instance.name, $0.role.rawValue) < (
                    $1.instance.node, $1.instance.name, $1.role.rawValue
                )
            }
        )
    }
}
