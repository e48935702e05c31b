/// Whether a packet gets from a node to an address beyond the next hop and its answer back:
/// over lab.yaml's routes, through nodes that forward, on up links. A health check that pings
/// (or asks) a server two hops away, behind its ISP, passes while such a path exists.
extension VRRPModel {
    /// A static route of lab.yaml: `203.0.113.0/24 via 10.0.0.1`, `default via 100.64.1.1`.
    public struct Route: Sendable, Equatable {
        /// The network it leads to: `0.0.0.0/0` for default, a host as /32.
        public var destination: String
        public var gateway: String

        /// Reads `DESTINATION via GATEWAY [...]`; nil without a gateway.
        public init?(_ text: String) {
            let words = text.split(separator: " ").map(String.init)
            guard let via = words.firstIndex(of: "via"), via + 1 < words.count else { return nil }
            gateway = words[via + 1]
            destination = words[0] == "default" ? "0.0.0.0/0" : words[0].contains("/") ? words[0] : words[0] + "/32"
        }
    }

    /// A node's way to an address: the interface it leaves by, and the next hop (nil: on the link).
    struct Hop {
        var interface: String
        var gateway: String?
    }

    /// Whether `node` reaches `address` and the answer comes back; IPv4 over routes. An address
    /// no node has (nor holds as a VIP) is unreachable.
    public func routes(from node: String, to address: String) -> Bool {
        guard let target = owner(of: address), let source = forward(from: node, to: address) else { return false }
        return forward(from: target, to: source) != nil
    }

    /// Follows the packet from `start` to `address`, hop by hop; returns the address it left
    /// `start` with (the answer's destination) when it arrives, nil when it does not.
    func forward(from start: String, to address: String) -> String? {
        var current = start
        var source: String?
        var visited: Set<String> = []
        while visited.insert(current).inserted {
            guard network.runs(current), let hop = hop(from: current, to: address),
                network.interfaceUp(current, hop.interface)
            else { return nil }
            if source == nil {
                source = nodes[current]?.networks[hop.interface].map { String($0.prefix { $0 != "/" }) }
            }
            let next = hop.gateway ?? address
            guard let owner = owner(of: next), network.runs(owner),
                let (ownerInterface, _) = interface(of: owner, holding: next),
                network.interfaceUp(owner, ownerInterface),
                let mine = network.activeSegment(current, hop.interface),
                let theirs = network.activeSegment(owner, ownerInterface),
                network.joined(mine, theirs), !network.partitioned(current, owner)
            else { return nil }
            if next == address { return source }
            guard nodes[owner]?.forwarding == true else { return nil }
            current = owner
        }
        return nil
    }

    /// The route a node takes to an address: the longest prefix of its links' networks and its routes.
    func hop(from node: String, to address: String) -> Hop? {
        guard let spec = nodes[node], let target = IPv4Network.number(address) else { return nil }
        var best: (length: Int, hop: Hop)?
        func consider(_ network: IPv4Network, _ length: Int, _ hop: Hop) {
            if network.contains(target), length > (best?.length ?? -1) { best = (length, hop) }
        }
        for (interface, cidr) in spec.networks {
            consider(IPv4Network(cidr), Self.prefixLength(cidr), Hop(interface: interface, gateway: nil))
        }
        for route in spec.routes {
            // The link the gateway is on.
            guard let number = IPv4Network.number(route.gateway),
                let link = spec.networks.first(where: { IPv4Network($0.value).contains(number) })?.key
            else { continue }
            consider(
                IPv4Network(route.destination), Self.prefixLength(route.destination),
                Hop(interface: link, gateway: route.gateway))
        }
        return best?.hop
    }

    static func prefixLength(_ cidr: String) -> Int {
        cidr.split(separator: "/").dropFirst().first.flatMap { Int($0) } ?? 32
    }

    /// The node with an address: its own, or a VIP it holds now.
    func owner(of address: String) -> String? {
        nodes.values.first { $0.addresses.contains(address) }?.name
            ?? {
                let holders = holders(of: address)
                return holders.count == 1 ? holders[0] : nil
            }()
    }

    /// The interface of a node that has an address (its own, or a VIP on its instance's interface).
    func interface(of node: String, holding address: String) -> (String, String)? {
        if let own = nodes[node]?.networks.first(where: { $0.value.hasPrefix(address + "/") }) {
            return (own.key, own.value)
        }
        return instances.first { $0.node == node && $0.virtualAddresses.contains(address) }.map {
            ($0.interface, address)
        }
    }
}
