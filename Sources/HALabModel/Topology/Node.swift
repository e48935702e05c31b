extension VRRPModel {
    /// A node as the model knows it: its services, addresses, interfaces, files and routes.
    public struct Node: Sendable {
        public var name: String
        /// The services it runs (nginx, keepalived …).
        public var services: [String]
        /// Its first address, which breaks ties between masters.
        public var primaryAddress: UInt32
        /// Its addresses without prefix, to match unicast peers.
        public var addresses: [String]
        /// Which segment each NIC is on; empty where the node's interfaces are not known.
        public var segments: [String: String]
        /// Its bonds (active-backup), each with its NICs, the primary first.
        public var bonds: [String: [String]]
        /// Its bridges, each with its NICs: a bridge joins the segments of its ports.
        public var bridges: [String: [String]]
        /// Each interface's address with its prefix, `10.33.1.11/24`.
        public var networks: [String: String]
        /// The service serving each TCP port, so a check that probes a port names it.
        public var ports: [Int: String]
        /// The service a vrrp_script checks, by the script's name, where the lab says so.
        public var checks: [String: String]
        /// The service each program name runs as, where it differs (`pidof haproxy` …).
        public var programs: [String: String]
        /// Script files the node has, by path, so a check that runs one is read too, and its boot
        /// scripts (/etc/local.d), whose firewall rules say what it does with a connection.
        public var files: [String: String] { didSet { firewall = Firewall(files) } }
        /// What its boot scripts' rules do with what it forwards, read once from `files`.
        public private(set) var firewall: Firewall
        /// Its static routes (`default via 100.64.1.1`, `203.0.113.0/24 via 10.0.0.1`), and
        /// whether it forwards packets between its links.
        public var routes: [Route]
        public var forwarding: Bool

        public init(
            name: String, services: [String], primaryAddress: UInt32, ports: [Int: String] = [:],
            checks: [String: String] = [:],
            addresses: [String], segments: [String: String], networks: [String: String] = [:],
            bonds: [String: [String]] = [:], bridges: [String: [String]] = [:], programs: [String: String] = [:],
            files: [String: String] = [:], routes: [String] = [], forwarding: Bool = false
        ) {
            self.programs = programs
            self.files = files
            self.firewall = Firewall(files)
            self.routes = routes.compactMap(Route.init)
            self.forwarding = forwarding
            self.bonds = bonds
            self.bridges = bridges
            self.name = name
            self.services = services
            self.ports = ports
            self.checks = checks
            self.primaryAddress = primaryAddress
            self.addresses = addresses
            self.segments = segments
            self.networks = networks
        }
    }
}
