import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// Reads a lab folder onto `Lab`: `lab.yaml`, each node's files and keepalived config, and
/// `scenario.yaml`. Every mistake is one message with the file and line.
struct LabLoader {
    let folder: String
    /// The config id keepalived's `@` lines are matched against; nil: each node's name.
    var configID: String? = nil
    var name: String { URL(fileURLWithPath: folder).lastPathComponent }
    var labFile: String { "\(folder)/lab.yaml" }

    static let nodeRoles = ["server", "client", "router"]
    static let keepalivedConfig = "/etc/keepalived/keepalived.conf"

    /// What the nodes read so far add up to.
    struct Nodes {
        var specs: [NodeSpec] = []
        var client: String?
        var keepalived: [KeepalivedNodeConfig] = []
        /// Every address given so far, and whose it is.
        var addresses: [UInt32: String] = [:]
    }

    func load() throws -> Lab {
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
        var nodes = Nodes()
        for (nodeName, line, value) in try root["nodes"]!.namedEntries(what: "nodes") {
            try node(nodeName, line: line, value, segments: segments, into: &nodes)
        }
        var lab = Lab(name: name, folder: folder, summary: try root["description"]?.string(what: "description") ?? "",
                      topology: LabTopology(name: name, segments: segments, nodes: nodes.specs), clientNode: nodes.client,
                      keepalived: nodes.keepalived, scenario: Scenario(steps: []), configID: configID)
        let scenarioFile = "\(folder)/scenario.yaml"
        if FileSystem.exists(scenarioFile) { lab.scenario = try lab.loadScenario(scenarioFile) }
        return lab
    }

    func node(_ nodeName: String, line: Int?, _ value: YAMLValue, segments: [String], into nodes: inout Nodes) throws {
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
        guard Self.nodeRoles.contains(role) else {
            throw entries["role"]!.fail("role must be one of \(Self.nodeRoles.joined(separator: ", ")), not '\(role)'")
        }
        if role == "client" && nodes.client == nil { nodes.client = nodeName }
        let services = try entries["services"]?.strings(what: "services") ?? []
        for service in services where Service.named(service) == nil {
            throw entries["services"]!.fail("unknown service '\(service)' (known: \(Service.names.sorted().joined(separator: ", ")))")
        }
        let interfaces = try self.interfaces(of: nodeName, entries["interfaces"]!, segments: segments, addresses: &nodes.addresses)
        let routes = try entries["routes"]?.strings(what: "routes") ?? []
        for route in routes where !Self.isRoute(route) {
            throw entries["routes"]!.fail("route '\(route)' must read 'DESTINATION/PREFIX via GATEWAY' or 'default via GATEWAY'")
        }
        let forwarding = try entries["forwarding"].map { try $0.bool(what: "forwarding") } ?? false
        let layers = ["\(folder)/\(nodeName)", "\(folder)/shared"].filter(FileSystem.isDirectory)
        try Self.checkFileLayers(layers)
        nodes.specs.append(NodeSpec(name: nodeName, interfaces: interfaces, services: services, fileLayers: layers,
                                    routes: routes, forwarding: forwarding))
        if services.contains(Service.keepalived.name) {
            guard let layer = layers.first(where: { FileSystem.exists($0 + Self.keepalivedConfig) }) else {
                throw fail("node \(nodeName) runs keepalived, but its config \(folder)/\(nodeName)\(Self.keepalivedConfig) is missing")
            }
            nodes.keepalived.append(keepalived(of: nodeName, layers: layers, file: layer + Self.keepalivedConfig))
        }
    }

    func interfaces(of nodeName: String, _ value: YAMLValue, segments: [String], addresses: inout [UInt32: String]) throws -> [InterfaceSpec] {
        var interfaces: [InterfaceSpec] = []
        for (interfaceName, interfaceLine, settings) in try value.namedEntries(what: "interfaces") {
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
            if let other = addresses[parsed.address] { throw fields["address"]!.fail("address \(address) is already \(other)'s") }
            addresses[parsed.address] = nodeName
            interfaces.append(InterfaceSpec(name: interfaceName, segment: segment, address: address))
        }
        return interfaces
    }

    /// The node's keepalived config as the node sees it; messages name the lab's file, and
    /// included files as the node sees them.
    func keepalived(of nodeName: String, layers: [String], file: String) -> KeepalivedNodeConfig {
        let source = KeepalivedConfig.Source.layers(layers, node: nodeName)
        let node = Self.keepalivedConfig
        let named = KeepalivedConfig.Source(read: { try source.read($0 == file ? node : $0) },
                                            expand: { source.expand($0, $1 == file ? node : $1) },
                                            origin: { source.origin($0 == file ? node : $0) })
        // keepalived in the node takes its config id from the hostname: the node's name.
        return KeepalivedNodeConfig.read(node: nodeName, file: file, source: named, configID: configID ?? nodeName)
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

}
