import Foundation
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

    public func node(_ name: String) throws -> NodeSpec {
        guard let node = nodes.first(where: { $0.name == name }) else {
            throw HALabError.unknownNode(name, lab: self.name)
        }
        return node
    }

    /// The names halab gives the lab's objects after: its segments and nodes (and the domain
    /// that tries KVM once).
    public var objectNames: [String] { segments + nodes.map(\.name) + ["kvm-check"] }

    /// The indices of a node and of one of its interfaces.
    func locate(_ node: String, interface: String) throws -> (node: Int, interface: Int) {
        guard let nodeIndex = nodes.firstIndex(where: { $0.name == node }) else { throw HALabError.unknownNode(node, lab: name) }
        guard let index = nodes[nodeIndex].interfaces.firstIndex(where: { $0.name == interface }) else {
            throw HALabError.usage("node '\(node)' has no interface '\(interface)'")
        }
        return (nodeIndex, index)
    }

    /// The MAC address of each lab interface, the same on every backend: libvirt's prefix,
    /// then lab, node and interface.
    func macAddress(node nodeIndex: Int, interface interfaceIndex: Int) -> String {
        let labByte = name.utf8.reduce(UInt8(0)) { $0 &* 31 &+ $1 }
        return String(format: "52:54:00:%02x:%02x:%02x", labByte, nodeIndex & 0xff, interfaceIndex & 0xff)
    }

    public func macAddresses(of node: String) throws -> [String] {
        guard let index = nodes.firstIndex(where: { $0.name == node }) else { throw HALabError.unknownNode(node, lab: name) }
        return nodes[index].interfaces.indices.map { macAddress(node: index, interface: $0) }
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
    /// The services the lab defines itself (the built-ins need no definition).
    public var definedServices: [Service] = []

    /// Each of its services' definition, in start order.
    public var serviceDefinitions: [Service] {
        services.compactMap { name in definedServices.first { $0.name == name } ?? Service.named(name) }
    }

    public init(name: String, interfaces: [InterfaceSpec], services: [String], fileLayers: [String],
                routes: [String] = [], forwarding: Bool = false, definedServices: [Service] = []) {
        self.definedServices = definedServices
        self.name = name
        self.interfaces = interfaces
        self.services = services
        self.fileLayers = fileLayers
        self.routes = routes
        self.forwarding = forwarding
    }
}

extension NodeSpec {
    /// The command whose output `labAddresses(inJSON:)` reads.
    static let addressCommand = ["ip", "-j", "addr", "show"]

    /// The IPv4 and global IPv6 addresses (with prefix) on the node's lab interfaces, from
    /// `ip -j addr show`.
    func labAddresses(inJSON output: String) -> [String] {
        // A link without addresses may be listed as `{}`: every field may be missing.
        struct Link: Decodable {
            struct Address: Decodable { var family: String?; var local: String?; var prefixlen: Int?; var scope: String? }
            var ifname: String?
            var addr_info: [Address]?
        }
        let names = Set(interfaces.map(\.name))
        let links = (try? JSONDecoder().decode([Link].self, from: Data(output.utf8))) ?? []
        return links.filter { names.contains($0.ifname ?? "") }.flatMap { link in
            (link.addr_info ?? []).compactMap { address in
                guard address.family == "inet" || address.family == "inet6" && address.scope == "global",
                      let local = address.local, let prefix = address.prefixlen else { return nil }
                return "\(local)/\(prefix)"
            }
        }
    }
}

public struct InterfaceSpec: Sendable, Codable, Equatable {
    /// The name inside the node, as its configs name it (`eth1`).
    public var name: String
    public var segment: String
    /// IPv4 address with prefix length, `10.33.1.11/24`.
    public var address: String
    /// An IPv6 address with prefix length besides, `fd00:33:1::11/64` (namespace backend).
    public var address6: String?

    public init(name: String, segment: String, address: String, address6: String? = nil) {
        self.name = name
        self.segment = segment
        self.address = address
        self.address6 = address6
    }
}
