/// What a node offers to fail: its services, the cables VRRP uses, the other nodes. check's
/// table and explore make their faults of each kind from it.
extension Fault {
    public struct Target: Sendable {
        public var node: String
        /// The services that can stop; those of them serving a port, which can also hang or refuse.
        public var services: [String]
        public var servedServices: [String]
        /// The cables each link fault takes, one at a time (nil: every link of the node).
        public var cables: [String?]
        /// The rest of the lab, for a partition.
        public var others: [String]

        public init(node: String, services: [String], servedServices: [String], cables: [String?], others: [String]) {
            (self.node, self.services, self.servedServices, self.cables, self.others) = (
                node, services, servedServices, cables, others
            )
        }

        /// The node's faults of `kinds`, in the table's order: its services', a crash, a restart,
        /// each cable down then flapping, then the rest.
        public func faults(of kinds: Set<Kind>) -> [Fault] {
            let kinds = { (list: [Kind]) in list.filter(kinds.contains) }
            return kinds([.stop, .hang, .refuse, .kill, .restart]).flatMap { faults($0) }
                + cables.flatMap { cable in kinds([.link, .flap]).flatMap { faults($0, cables: [cable]) } }
                + kinds([.block, .partition, .pause, .loss]).flatMap { faults($0) }
        }

        /// The node's faults of `kind` (on `cables`, for a link or a flap).
        public func faults(_ kind: Kind, cables: [String?]? = nil) -> [Fault] {
            switch kind {
            case .stop: services.map { .stopService($0, node: node) }
            case .hang: servedServices.map { .hangService($0, node: node) }
            case .refuse: servedServices.map { .refuseService($0, node: node) }
            case .kill: [.kill(node: node)]
            case .restart: [.restartService("keepalived", node: node)]
            case .link: (cables ?? self.cables).map { .link(node: node, interface: $0, up: false, atNode: false) }
            case .flap: (cables ?? self.cables).map { .flap(node: node, interface: $0, count: 1, interval: 1) }
            case .block: [.blockMulticast(node: node)]
            case .partition: others.isEmpty ? [] : [.partition([[node], others])]
            case .pause: [.pause(node: node)]
            case .loss: [.loss(node: node, percent: 30)]
            // A switch is no node's: the table adds each segment's.
            case .switch: []
            }
        }
    }
}
