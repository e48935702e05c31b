extension VRRPModel {
    /// What happens to a lab, as the model follows it.
    public enum Event: Sendable, Equatable, Codable, CustomStringConvertible {
        case stopService(String, node: String)
        case startService(String, node: String)
        /// A service's processes frozen (they live, listen, and answer nothing), and thawed.
        case hangService(String, node: String)
        case resumeService(String, node: String)
        /// A service's ports refusing new connections while its processes run, and taking them again.
        case refuseService(String, node: String)
        case acceptService(String, node: String)
        case crash(node: String)
        case revive(node: String)
        /// One interface of the node down (up), or all of them when `interface` is nil.
        case linkDown(node: String, interface: String? = nil)
        case linkUp(node: String, interface: String? = nil)
        /// Every port of a segment's switch down (up): each interface on it loses its carrier.
        case switchDown(segment: String)
        case switchUp(segment: String)
        case blockMulticast(node: String)
        case unblockMulticast(node: String)
        /// Adverts cross no boundary between the groups.
        case partition([[String]])
        /// Every process of the node frozen: its instances neither send nor hear, and keep
        /// their role and addresses until `resume`.
        case pause(node: String)
        case resume(node: String)
        /// Every network fault and pause of the node (of every node when nil) taken off.
        case heal(node: String?)
        /// A file of the node written: a track file's new value (a drain), or a file the model does not track.
        case writeFile(node: String, path: String, content: String)
        /// keepalived on the node reloaded with a new config: these are its instances now.
        case reconfigure(node: String, instances: [VRRPInstance])

        /// The node the event happens to; nil for one that spans nodes.
        public var node: String? {
            switch self {
            case .stopService(_, let node), .startService(_, let node), .hangService(_, let node),
                .resumeService(_, let node),
                .refuseService(_, let node), .acceptService(_, let node), .crash(let node), .revive(let node),
                .linkDown(let node, _), .linkUp(let node, _), .blockMulticast(let node), .unblockMulticast(let node),
                .pause(let node), .resume(let node), .writeFile(let node, _, _), .reconfigure(let node, _):
                return node
            case .partition, .heal, .switchDown, .switchUp: return nil
            }
        }

        /// A service hung: the checks that see it fail only once their own timeout passes.
        var isHang: Bool { if case .hangService = self { true } else { false } }

        /// Whether keepalived starts on `node` with it (a boot, or keepalived started).
        func startsKeepalived(on node: String) -> Bool {
            if case .revive(node) = self { return true }
            if case .startService("keepalived", node) = self { return true }
            return false
        }

        public var description: String {
            switch self {
            case .stopService(let service, let node): return "stop \(service) \(node)"
            case .startService(let service, let node): return "start \(service) \(node)"
            case .hangService(let service, let node): return "hang \(service) \(node)"
            case .resumeService(let service, let node): return "resume \(service) \(node)"
            case .refuseService(let service, let node): return "refuse \(service) \(node)"
            case .acceptService(let service, let node): return "accept \(service) \(node)"
            case .crash(let node): return "kill \(node)"
            case .revive(let node): return "revive \(node)"
            case .linkDown(let node, let interface): return "link down \(node)\(interface.map { ":\($0)" } ?? "")"
            case .linkUp(let node, let interface): return "link up \(node)\(interface.map { ":\($0)" } ?? "")"
            case .switchDown(let segment): return "switch down \(segment)"
            case .switchUp(let segment): return "switch up \(segment)"
            case .blockMulticast(let node): return "block-multicast \(node)"
            case .unblockMulticast(let node): return "unblock-multicast \(node)"
            case .partition(let groups):
                return "partition " + groups.map { $0.joined(separator: ",") }.joined(separator: " / ")
            case .pause(let node): return "pause \(node)"
            case .resume(let node): return "resume \(node)"
            case .heal(let node): return "heal" + (node.map { " \($0)" } ?? "")
            case .writeFile(let node, let path, let content):
                return "write \(content.debugDescription) to \(path) on \(node)"
            case .reconfigure(let node, _): return "reload \(node) with a new config"
            }
        }
    }
}

extension VRRPModel {
    /// Applies an event and returns how long VRRP may take to settle after it, from the
    /// timers: the health check noticing it (interval × fall or rise), then the new master's
    /// Master_Down_Interval (only its Skew_Time when the old master left cleanly with a
    /// priority-0 advert), plus its preempt_delay when it preempts.
    @discardableResult
    public mutating func apply(_ event: Event) -> Double {
        var failingBefore = instances.indices.map(failingScripts)
        switch event {
        case .stopService(let service, let node):
            states[node]?.stopped.insert(service)
            states[node]?.hung.remove(service)
        case .startService(let service, let node): states[node]?.stopped.remove(service)
        case .hangService(let service, let node):
            if serviceState(service, on: node) != .stopped { states[node]?.hung.insert(service) }
        case .resumeService(let service, let node): states[node]?.hung.remove(service)
        case .refuseService(let service, let node): states[node]?.refusing.insert(service)
        case .acceptService(let service, let node): states[node]?.refusing.remove(service)
        case .crash(let node):
            // Nothing of it runs: nothing frozen either (a paused node killed is down, not paused).
            network.machines[node]?.alive = false
            network.machines[node]?.paused = false
            states[node]?.hung = []
        case .revive(let node):
            network.machines[node]?.alive = true
            states[node]?.stopped = []
            states[node]?.hung = []
        case .linkDown(let node, let interface): network.setLink(node, interface, up: false)
        case .linkUp(let node, let interface): network.setLink(node, interface, up: true)
        case .switchDown(let segment): network.setSwitch(segment, on: false)
        case .switchUp(let segment): network.setSwitch(segment, on: true)
        case .blockMulticast(let node): network.machines[node]?.multicastBlocked = true
        case .unblockMulticast(let node): network.machines[node]?.multicastBlocked = false
        case .partition(let groups): network.partition = groups
        case .pause(let node): network.machines[node]?.paused = true
        case .resume(let node): network.machines[node]?.paused = false
        case .heal(let node):
            network.heal(node)
            for name in states.keys where node == nil || name == node {
                states[name]?.hung = []
                states[name]?.refusing = []
            }
        case .writeFile(let node, let path, let content):
            if states[node]?.fileValues[path] != nil {
                states[node]?.fileValues[path] = TrackedFile.number(in: content)
            }
        case .reconfigure(let node, let new):
            // A new instance's checks count as newly failing: keepalived learns them from scratch.
            failingBefore = reconfigure(node: node, with: new).map { $0.map { failingBefore[$0] } ?? [] }
        }
        return settle(cause: event, failingBefore: failingBefore)
    }
}
