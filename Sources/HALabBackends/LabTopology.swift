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

    /// The node whose neighbour table decides where `node`'s packets to a VIP go: the router
    /// its default route names, if a node of the lab is that router; otherwise the node itself.
    public func firstHop(of node: String) -> String {
        let route = nodes.first { $0.name == node }?.routes.first { $0.hasPrefix("default ") }
        guard let gateway = route?.split(separator: " ").drop(while: { $0 != "via" }).dropFirst().first else {
            return node
        }
        return nodes.first { $0.addresses.contains(String(gateway)) }?.name ?? node
    }

    /// The names halab gives the lab's objects after: its segments and nodes (and the domain
    /// that tries KVM once).
    public var objectNames: [String] { segments + nodes.map(\.name) + ["kvm-check"] }

    /// The indices of a node and of one of its interfaces.
    func locate(_ node: String, interface: String) throws -> (node: Int, interface: Int) {
        guard let nodeIndex = nodes.firstIndex(where: { $0.name == node }) else {
            throw HALabError.unknownNode(node, lab: name)
        }
        guard let index = nodes[nodeIndex].interfaces.firstIndex(where: { $0.name == interface }) else {
            if let aggregate = nodes[nodeIndex].aggregates.first(where: { $0.name == interface }) {
                throw HALabError.usage(
                    "'\(interface)' of node '\(node)' is a \(aggregate.kind) of "
                        + "\(aggregate.members.joined(separator: ", ")), not a NIC: name one of its NICs "
                        + "(\(node):\(aggregate.members[0]))")
            }
            throw HALabError.usage(
                "node '\(node)' has no interface '\(interface)'; it has "
                    + "\(nodes[nodeIndex].interfaces.map(\.name).joined(separator: ", "))"
            )
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
        guard let index = nodes.firstIndex(where: { $0.name == node }) else {
            throw HALabError.unknownNode(node, lab: name)
        }
        return nodes[index].interfaces.indices.map { macAddress(node: index, interface: $0) }
    }
}

public struct NodeSpec: Sendable, Codable, Equatable {
    public var name: String
    /// Its NICs, each cabled to a segment.
    public var interfaces: [InterfaceSpec]
    /// Bonds and bridges it makes of its NICs at boot.
    public var aggregates: [AggregateSpec]
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

    /// The definition of a service it runs.
    public func service(_ name: String) throws -> Service {
        guard let found = serviceDefinitions.first(where: { $0.name == name }) else {
            throw HALabError.usage(
                "node '\(self.name)' runs no service '\(name)': it runs \(services.joined(separator: ", "))")
        }
        return found
    }

    public init(
        name: String, interfaces: [InterfaceSpec], aggregates: [AggregateSpec] = [], services: [String],
        fileLayers: [String],
        routes: [String] = [], forwarding: Bool = false, definedServices: [Service] = []
    ) {
        self.definedServices = definedServices
        self.name = name
        self.interfaces = interfaces
        self.aggregates = aggregates
        self.services = services
        self.fileLayers = fileLayers
        self.routes = routes
        self.forwarding = forwarding
    }
}

extension NodeSpec {
    /// Its interfaces with an IPv4 address (with prefix): NICs, then bonds and bridges.
    public var addressedInterfaces: [(name: String, address: String)] {
        interfaces.compactMap { nic in nic.address.map { (nic.name, $0) } }
            + aggregates.compactMap { aggregate in aggregate.address.map { (aggregate.name, $0) } }
    }

    /// Its IPv4 addresses without prefix.
    public var addresses: [String] { addressedInterfaces.map { String($0.address.split(separator: "/")[0]) } }

    /// The command whose output `labAddresses(inJSON:)` reads.
    static let addressCommand = ["ip", "-j", "addr", "show"]

    /// The IPv4 and global IPv6 addresses (with prefix) on the node's lab interfaces, from
    /// `ip -j addr show`.
    func labAddresses(inJSON output: String) -> [String] {
        // A link without addresses may be listed as `{}`: every field may be missing.
        struct Link: Decodable {
            struct Address: Decodable {
                var family: String?; var local: String?; var prefixlen: Int?; var scope: String?
            }
            var ifname: String?
            var addr_info: [Address]?
        }
        let links = (try? JSONDecoder().decode([Link].self, from: Data(output.utf8))) ?? []
        return labAddresses(
            links.flatMap { link in
                (link.addr_info ?? []).compactMap { address in
                    guard let family = address.family, let local = address.local, let prefix = address.prefixlen else {
                        return nil
                    }
                    return InterfaceAddress(
                        interface: link.ifname ?? "", family: family, address: local, prefix: prefix,
                        scope: address.scope == "global" ? 0 : 253)
                }
            })
    }

    /// The IPv4 and global IPv6 addresses (with prefix) among `addresses` on the node's lab interfaces.
    func labAddresses(_ addresses: [InterfaceAddress]) -> [String] {
        let names = Set(interfaces.map(\.name) + aggregates.map(\.name))
        return addresses.filter {
            names.contains($0.interface) && ($0.family == "inet" || $0.family == "inet6" && $0.scope == 0)
        }
        .map { "\($0.address)/\($0.prefix)" }
    }
}

public struct InterfaceSpec: Sendable, Codable, Equatable {
    /// The name inside the node, as its configs name it (`eth1`).
    public var name: String
    public var segment: String
    /// IPv4 address with prefix length, `10.33.1.11/24`; none on a NIC in a bond or bridge.
    public var address: String?
    /// An IPv6 address with prefix length besides, `fd00:33:1::11/64`.
    public var address6: String?

    public init(name: String, segment: String, address: String?, address6: String? = nil) {
        self.name = name
        self.segment = segment
        self.address = address
        self.address6 = address6
    }
}

/// A bond or a bridge a node makes of its NICs (`members`) at boot. Only VMs have them: the
/// guest kernels have the bonding driver, this host's has not.
public struct AggregateSpec: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case bond, bridge }
    public var name: String
    public var kind: Kind
    /// For a bond (active-backup), the first is its primary: active whenever its link is up.
    public var members: [String]
    /// IPv4 address with prefix length; a bridge joining two switches needs none.
    public var address: String?

    public init(name: String, kind: Kind, members: [String], address: String?) {
        self.name = name
        self.kind = kind
        self.members = members
        self.address = address
    }
}
