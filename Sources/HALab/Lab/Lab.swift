import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// A lab folder, loaded and checked: `lab.yaml` (segments, nodes), per-node file trees,
/// the keepalived configs in them (the one source of VIPs and priorities), and `scenario.yaml`.
public struct Lab: Sendable {
    public var name: String
    public var folder: String
    public var summary: String
    public var topology: LabTopology
    /// Where `halab curl` runs by default.
    public var clientNode: String?
    /// The lab's other clients that reach a VIP (vantage points): the probe runs from each of
    /// them too, to the VIPs it reaches, and each step's outages are measured from each.
    public var otherClients: [Vantage] = []
    /// Where the probe runs from: nil for the first client, then each other one.
    public var vantages: [String?] { [nil] + otherClients.map(\.node) }

    public struct Vantage: Sendable, Equatable {
        public var node: String
        /// The VIPs it reaches in the healthy lab, over lab.yaml's routes.
        public var addresses: [String]
    }

    /// The VIPs probed from `vantage` (nil: the first client, every VIP).
    public func addresses(seenFrom vantage: String?) -> [String] {
        vantage.map { node in otherClients.first { $0.node == node }?.addresses ?? [] }
            ?? virtualAddresses.map(\.address)
    }
    /// Each keepalived node's config, the one source of VIPs, VRIDs, priorities and timers.
    public var keepalived: [KeepalivedNodeConfig]
    public var scenario: Scenario
    /// What keepalived's `@ID` lines were matched against; nil: each node's name.
    public var configID: String?
    /// Per node, the service each vrrp_script checks, where lab.yaml says (`checks:`).
    public var checks: [String: [String: String]] = [:]

    public var instances: [VRRPInstance] { keepalived.flatMap(\.instances) }

    public var virtualAddresses: [VirtualAddress] { VirtualAddress.group(instances) }

    /// The same lab as an instance of its own, up beside others of the folder: its namespaces,
    /// state, lock and status go by `name`.
    public func instance(named name: String) throws -> Lab {
        guard !name.isEmpty, name.count <= 40,
            name.allSatisfy({ ($0.isLetter && $0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "-" })
        else {
            throw HALabError.usage("an instance name is 1 to 40 lower-case letters, digits and '-': not '\(name)'")
        }
        var copy = self
        copy.name = name
        copy.topology.name = name
        return copy
    }

    /// A lab named (a folder under a `labs/` folder) or given as a path.
    public static func locate(_ nameOrPath: String, searchFolders: [String]) throws -> String {
        let candidates =
            nameOrPath.contains("/") || FileSystem.exists("\(nameOrPath)/lab.yaml")
            ? [nameOrPath] : searchFolders.map { "\($0)/\(nameOrPath)" }
        guard let found = candidates.first(where: { FileSystem.exists("\($0)/lab.yaml") }) else {
            throw HALabError.labNotFound(nameOrPath)
        }
        return URL(fileURLWithPath: found).standardizedFileURL.path
    }

    /// `configID`: what keepalived's `@ID` lines are matched against (default: each node's name).
    public static func load(folder: String, configID: String? = nil) throws -> Lab {
        try LabLoader(folder: folder, configID: configID).load()
    }

    /// A scenario for this lab: its `scenario.yaml`, or another file (`verify --scenario`).
    public func loadScenario(_ file: String) throws -> Scenario {
        guard FileSystem.exists(file) else {
            throw HALabError.badLabFile(file: file, line: nil, message: "no such scenario file")
        }
        let layers = Dictionary(uniqueKeysWithValues: topology.nodes.map { ($0.name, $0.fileLayers) })
        return try ScenarioLoader(topology: topology, defaultClient: clientNode, window: settleBound) {
            [configID] node, file in
            LabLoader.keepalived(of: node, layers: layers[node] ?? [], file: file, configID: configID ?? node)
        }.load(file)
    }

    /// Takes `file`, of this machine, as `node`'s keepalived.conf: the lab as it is mid-rollout.
    public mutating func install(_ file: String, on node: String) throws {
        guard let index = keepalived.firstIndex(where: { $0.node == node }), let spec = try? topology.node(node) else {
            throw HALabError.usage(
                "\(node) runs no keepalived in \(name) (those that do: "
                    + "\(keepalived.map(\.node).joined(separator: ", ")))"
            )
        }
        guard FileSystem.isFile(file) else {
            throw HALabError.badLabFile(file: file, line: nil, message: "no such file, or it cannot be read")
        }
        keepalived[index] = LabLoader.keepalived(
            of: node, layers: spec.fileLayers, file: file, configID: configID ?? node)
    }

    /// The first address of a node, as a number: VRRP breaks priority ties by it.
    public func primaryAddress(of node: String) -> UInt32 {
        (try? topology.node(node)).flatMap { $0.addressedInterfaces.first }.flatMap {
            IPv4.parse(cidr: $0.address)?.address
        } ?? 0
    }

    /// The VRRP model of this lab, healthy and freshly started.
    public func vrrpModel() -> VRRPModel {
        let nodes = topology.nodes.map { node in
            VRRPModel.Node(
                name: node.name, services: node.services, primaryAddress: primaryAddress(of: node.name),
                ports: Dictionary(
                    node.serviceDefinitions.compactMap { service in service.port.map { ($0, service.name) } },
                    uniquingKeysWith: { first, _ in first }),
                checks: checks[node.name] ?? [:],
                addresses: node.addresses,
                segments: Dictionary(uniqueKeysWithValues: node.interfaces.map { ($0.name, $0.segment) }),
                networks: Dictionary(uniqueKeysWithValues: node.addressedInterfaces.map { ($0.name, $0.address) }),
                bonds: aggregates(of: node, .bond), bridges: aggregates(of: node, .bridge),
                programs: Dictionary(
                    node.serviceDefinitions.compactMap { service in
                        (service.process ?? service.program).map { ($0, service.name) }
                    },
                    uniquingKeysWith: { first, _ in first }),
                files: scriptFiles(of: node), routes: node.routes, forwarding: node.forwarding)
        }
        return VRRPModel(nodes: nodes, instances: instances)
    }

    /// The files a node's checks name (`script "/etc/keepalived/chk_nginx.sh"`), its track
    /// files and, where it runs `local`, its boot scripts (its firewall), as the node has them:
    /// from its file layers, the first that has one.
    func scriptFiles(of node: NodeSpec) -> [String: String] {
        let configs = keepalived.filter { $0.node == node.name }
        let instances = configs.flatMap(\.instances)
        let commands: [String] = configs.flatMap(\.scripts).map(\.command) + instances.flatMap { $0.notify.values }
        let named: [String] = commands.flatMap { $0.split(whereSeparator: { " '\"".contains($0) }).map(String.init) }
            .filter { $0.hasPrefix("/") }
        let boot =
            node.services.contains(Service.local.name)
            ? node.fileLayers.flatMap { FileSystem.list("\($0)/etc/local.d") }.filter { $0.hasSuffix(".start") }
                .map { "/etc/local.d/\($0)" } : []
        let paths = named + instances.flatMap(\.trackedFiles).map(\.path) + boot.sorted()
        var files: [String: String] = [:]
        for path in paths.uniqueInOrder() {
            guard let file = node.fileLayers.map({ $0 + path }).first(where: FileSystem.isFile),
                FileSystem.size(file) < 65_536
            else { continue }
            files[path] = try? FileSystem.read(file)
        }
        return files
    }

    func aggregates(of node: NodeSpec, _ kind: AggregateSpec.Kind) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: node.aggregates.filter { $0.kind == kind }.map { ($0.name, $0.members) })
    }

    /// Each VIP with the node that holds it once the lab is healthy, as the model predicts.
    public var healthyHolders: [(address: String, node: String)] {
        let model = vrrpModel()
        return model.virtualAddresses.compactMap { address in model.holders(of: address).first.map { (address, $0) } }
    }

    /// How long any failure or recovery may take to settle, from the configs' VRRP timers.
    public var settleBound: Double { settleBound(after: nil) }

    /// The settle bound after `action`: a hang's counts the checks' timeouts.
    public func settleBound(after action: Fault?) -> Double {
        let hang = if case .hangService = action { true } else { false }
        return virtualAddresses.map { $0.settleBound(afterHang: hang) }.max() ?? 0
    }
}

enum IPv4 {
    static func parse(cidr: String) -> (address: UInt32, prefix: Int)? {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), (0...32).contains(prefix),
            let address = parse(String(parts[0]))
        else { return nil }
        return (address, prefix)
    }

    static func format(_ address: UInt32) -> String {
        [24, 16, 8, 0].map { String(address >> UInt32($0) & 0xff) }.joined(separator: ".")
    }

    static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let byte = UInt8(octet), String(byte) == octet else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}
