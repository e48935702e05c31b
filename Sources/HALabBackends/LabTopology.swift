import HALabSystem

/// What a backend builds: segments (switches) and nodes with their interfaces, files and
/// services. It knows nothing of VRRP; the scenario layer derives it from a lab folder.
public struct LabTopology: Sendable, Codable, Equatable {
    public var name: String
    public var segments: [String]
    public var nodes: [NodeSpec]

    public init(name: String, segments: [String], nodes: [NodeSpec]) {
        self.name = name
        self.segments = segments
        self.nodes = nodes
    }

    /// The services a node can run.
    public static var knownServices: Set<String> { Set(NodeFiles.knownServices.keys) }

    public func node(_ name: String) throws -> NodeSpec {
        guard let node = nodes.first(where: { $0.name == name }) else {
            throw HALabError.unknownNode(name, lab: self.name)
        }
        return node
    }
}

public struct NodeSpec: Sendable, Codable, Equatable {
    public var name: String
    public var interfaces: [InterfaceSpec]
    /// Started at boot in this order, stopped in the reverse one.
    public var services: [String]
    /// Folders mirrored onto the node's file system at their absolute paths; the first wins.
    public var fileLayers: [String]
    /// Static routes, as `ip route add` takes them: `11.22.33.0/24 via 10.33.1.1`.
    public var routes: [String]
    /// Whether the node forwards packets between its interfaces (a router).
    public var forwarding: Bool

    public init(name: String, interfaces: [InterfaceSpec], services: [String], fileLayers: [String],
                routes: [String] = [], forwarding: Bool = false) {
        self.name = name
        self.interfaces = interfaces
        self.services = services
        self.fileLayers = fileLayers
        self.routes = routes
        self.forwarding = forwarding
    }
}

extension NodeSpec {
    /// The IPv4 addresses (with prefix) on the node's lab interfaces, from `ip -4 -o addr show`.
    func labAddresses(in ipOutput: String) -> [String] {
        let names = Set(interfaces.map(\.name))
        return ipOutput.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 3, names.contains(String(fields[1])), fields[2] == "inet" else { return nil }
            return String(fields[3])
        }
    }
}

public struct InterfaceSpec: Sendable, Codable, Equatable {
    /// The name inside the node, as its configs name it (`eth1`).
    public var name: String
    public var segment: String
    /// IPv4 address with prefix length, `10.33.1.11/24`.
    public var address: String

    public init(name: String, segment: String, address: String) {
        self.name = name
        self.segment = segment
        self.address = address
    }
}
