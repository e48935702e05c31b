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
    /// Each keepalived node's config, the one source of VIPs, VRIDs, priorities and timers.
    public var keepalived: [KeepalivedNodeConfig]
    public var scenario: Scenario

    public var instances: [VRRPInstance] { keepalived.flatMap(\.instances) }

    public var virtualAddresses: [VirtualAddress] { VirtualAddress.group(instances) }

    static let nodeRoles = ["server", "client", "router"]

    /// A lab named (a folder under a `labs/` folder) or given as a path.
    public static func locate(_ nameOrPath: String, searchFolders: [String]) throws -> String {
        let candidates = nameOrPath.contains("/") || FileSystem.exists("\(nameOrPath)/lab.yaml")
            ? [nameOrPath] : searchFolders.map { "\($0)/\(nameOrPath)" }
        guard let found = candidates.first(where: { FileSystem.exists("\($0)/lab.yaml") }) else {
            throw HALabError.labNotFound(nameOrPath)
        }
        return URL(fileURLWithPath: found).standardizedFileURL.path
    }

    public static func load(folder: String) throws -> Lab {
        let name = URL(fileURLWithPath: folder).lastPathComponent
        let labFile = "\(folder)/lab.yaml"
        guard name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), !name.isEmpty else {
            throw HALabError.badLabFile(file: labFile, line: nil,
                                        message: "the lab folder's name '\(name)' must be lower-case letters, digits and '-'")
        }
        // The folder's path goes into overlayfs options, where these characters are separators.
        if let bad = folder.first(where: { ",: ".contains($0) }) {
            throw HALabError.badLabFile(file: labFile, line: nil, message: "the lab folder's path must not contain '\(bad)'")
        }
        let root = try YAMLValue.load(labFile)
            .mapping(allowed: ["description", "segments", "nodes"], required: ["segments", "nodes"], what: "lab.yaml")
        let segments = try root["segments"]!.strings(what: "segments")
        var nodes: [NodeSpec] = []
        var clientNode: String?
        var keepalived: [KeepalivedNodeConfig] = []
        var addresses: [UInt32: String] = [:]
        for (nodeName, line, value) in try root["nodes"]!.namedEntries(what: "nodes") {
            let fail = { (message: String) in HALabError.badLabFile(file: labFile, line: line, message: message) }
            guard nodeName.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), !nodeName.isEmpty else {
                throw fail("node name '\(nodeName)' must be lower-case letters, digits and '-'")
            }
            guard !segments.contains(nodeName), nodeName != "shared" else {
                throw fail("node name '\(nodeName)' is taken by a segment or the shared folder")
            }
            let entries = try value.mapping(allowed: ["role", "services", "interfaces", "routes", "forwarding"],
                                            required: ["interfaces"], what: "node \(nodeName)")
            let role = try entries["role"]?.string(what: "role") ?? "server"
            guard nodeRoles.contains(role) else {
                throw entries["role"]!.fail("role must be one of \(nodeRoles.joined(separator: ", ")), not '\(role)'")
            }
            if role == "client" && clientNode == nil { clientNode = nodeName }
            let services = try entries["services"]?.strings(what: "services") ?? []
            for service in services where Service.named(service) == nil {
                throw entries["services"]!.fail(
                    "unknown service '\(service)' (known: \(Service.names.sorted().joined(separator: ", ")))")
            }
            var interfaces: [InterfaceSpec] = []
            for (interfaceName, interfaceLine, settings) in try entries["interfaces"]!.namedEntries(what: "interfaces") {
                guard interfaceName.utf8.count <= 15, !interfaceName.isEmpty,
                      interfaceName.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) }) else {
                    throw HALabError.badLabFile(file: labFile, line: interfaceLine,
                                                message: "interface name '\(interfaceName)' must be 1 to 15 letters, digits, '_', '.' or '-'")
                }
                let fields = try settings.mapping(allowed: ["segment", "address"], required: ["segment", "address"],
                                                  what: "interface \(interfaceName) of \(nodeName)")
                let segment = try fields["segment"]!.string(what: "segment")
                guard segments.contains(segment) else {
                    throw fields["segment"]!.fail("unknown segment '\(segment)' (segments: \(segments.joined(separator: ", ")))")
                }
                let address = try fields["address"]!.string(what: "address")
                guard let parsed = IPv4.parse(cidr: address) else {
                    throw fields["address"]!.fail("'\(address)' is not an IPv4 address with a prefix length, such as 10.33.1.11/24")
                }
                if let other = addresses[parsed.address] {
                    throw fields["address"]!.fail("address \(address) is already \(other)'s")
                }
                addresses[parsed.address] = nodeName
                interfaces.append(InterfaceSpec(name: interfaceName, segment: segment, address: address))
            }
            let routes = try entries["routes"]?.strings(what: "routes") ?? []
            for route in routes where !Self.isRoute(route) {
                throw entries["routes"]!.fail("route '\(route)' must read 'DESTINATION/PREFIX via GATEWAY' or 'default via GATEWAY'")
            }
            let forwarding = try entries["forwarding"].map { try $0.bool(what: "forwarding") } ?? false
            let layers = ["\(folder)/\(nodeName)", "\(folder)/shared"].filter(FileSystem.isDirectory)
            try checkFileLayers(layers)
            nodes.append(NodeSpec(name: nodeName, interfaces: interfaces, services: services, fileLayers: layers,
                                  routes: routes, forwarding: forwarding))
            if services.contains("keepalived") {
                let configFile = "/etc/keepalived/keepalived.conf"
                guard let layer = layers.first(where: { FileSystem.exists($0 + configFile) }) else {
                    throw fail("node \(nodeName) runs keepalived, but its config \(folder)/\(nodeName)\(configFile) is missing")
                }
                // Messages name the lab's file; included files are named as the node sees them.
                let source = KeepalivedConfig.Source.layers(layers)
                let labFile = layer + configFile
                let named = KeepalivedConfig.Source(
                    read: { try source.read($0 == labFile ? configFile : $0) },
                    expand: { source.expand($0, $1 == labFile ? configFile : $1) })
                do {
                    keepalived.append(try KeepalivedNodeConfig.read(node: nodeName, file: layer + configFile, source: named))
                } catch let error as ConfigError {
                    throw HALabError.badLabFile(file: error.file, line: error.line, message: error.message)
                }
            }
        }
        let topology = LabTopology(name: name, segments: segments, nodes: nodes)
        var lab = Lab(name: name, folder: folder, summary: try root["description"]?.string(what: "description") ?? "",
                      topology: topology, clientNode: clientNode, keepalived: keepalived, scenario: Scenario(steps: []))
        let scenarioFile = "\(folder)/scenario.yaml"
        if FileSystem.exists(scenarioFile) { lab.scenario = try lab.loadScenario(scenarioFile) }
        return lab
    }

    /// A scenario for this lab: its `scenario.yaml`, or another file (`verify --scenario`).
    public func loadScenario(_ file: String) throws -> Scenario {
        guard FileSystem.exists(file) else { throw HALabError.badLabFile(file: file, line: nil, message: "no such scenario file") }
        return try ScenarioLoader(topology: topology, defaultClient: clientNode, window: settleBound).load(file)
    }

    static func isRoute(_ route: String) -> Bool {
        let words = route.split(separator: " ").map(String.init)
        return words.count == 3 && words[1] == "via" && IPv4.parse(words[2]) != nil
            && (words[0] == "default" || IPv4.parse(cidr: words[0]) != nil)
    }

    /// A node's files are mirrored onto its root: only folders the host has, and not the
    /// kernel's or the node's own (/proc, /sys, /dev, /run, /tmp).
    static func checkFileLayers(_ layers: [String]) throws {
        for layer in layers {
            for entry in FileSystem.list(layer) {
                let path = "\(layer)/\(entry)"
                guard FileSystem.isDirectory(path), !["proc", "sys", "dev", "run", "tmp"].contains(entry),
                      FileSystem.isDirectory("/\(entry)") else {
                    throw HALabError.badLabFile(file: path, line: nil,
                        message: "a node's files go in folders the host also has, such as etc/ or var/ (not proc, sys, dev, run or tmp)")
                }
            }
        }
    }

    /// The first address of a node, as a number: VRRP breaks priority ties by it.
    public func primaryAddress(of node: String) -> UInt32 {
        (try? topology.node(node)).flatMap { $0.interfaces.first }.flatMap { IPv4.parse(cidr: $0.address)?.address } ?? 0
    }

    /// The VRRP model of this lab, healthy and freshly started.
    public func vrrpModel() -> VRRPModel {
        let nodes = topology.nodes.map { node in
            VRRPModel.Node(name: node.name, services: node.services, primaryAddress: primaryAddress(of: node.name),
                           addresses: node.interfaces.map { String($0.address.split(separator: "/")[0]) },
                           segments: Dictionary(uniqueKeysWithValues: node.interfaces.map { ($0.name, $0.segment) }))
        }
        return VRRPModel(nodes: nodes, instances: instances)
    }

    /// Each VIP with the node that holds it once the lab is healthy, as the model predicts.
    public var healthyHolders: [(address: String, node: String)] {
        let model = vrrpModel()
        return model.virtualAddresses.compactMap { address in model.holders(of: address).first.map { (address, $0) } }
    }

    /// How long any failure or recovery may take to settle, from the configs' VRRP timers.
    public var settleBound: Double { virtualAddresses.map(\.settleBound).max() ?? 0 }
}

enum IPv4 {
    static func parse(cidr: String) -> (address: UInt32, prefix: Int)? {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), (0...32).contains(prefix),
              let address = parse(String(parts[0])) else { return nil }
        return (address, prefix)
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
