import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// Looking at a running lab's nodes: who carries each VIP, what keepalived says of itself,
/// what the services logged.
extension LabSession {
    /// The nodes that carry `address` on an interface right now (more than one: split brain).
    public func holders(of address: String) async throws -> [String] {
        try await carriers(of: [address])[address] ?? []
    }

    /// The nodes that carry each VIP on an interface right now (more than one: split brain).
    public func vipHolders() async throws -> [(address: String, nodes: [String])] {
        let addresses = lab.virtualAddresses.map(\.address)
        let carried = try await carriers(of: Set(addresses))
        return addresses.map { ($0, carried[$0] ?? []) }
    }

    /// The one node of `possible` that comes to hold `address` alone, and keeps it for `hold`
    /// seconds (a holder of the first moments may yet be preempted), within `seconds`; nil if none does.
    func electedHolder(of address: String, among possible: [String], hold: Double, within seconds: Double) async throws
        -> String?
    {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(seconds)
        var held: (node: String, since: ContinuousClock.Instant)?
        while clock.now < deadline {
            let holders = try await holders(of: address)
            if holders.count == 1, possible.contains(holders[0]) {
                if held?.node != holders[0] { held = (holders[0], clock.now) }
                if let held, clock.now - held.since >= .seconds(hold) { return held.node }
            } else {
                held = nil
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return held?.node
    }

    /// The model of the lab as it came up: of the worlds its start order allows, the one whose
    /// holders are those seen now.
    public func startedModel() async throws -> VRRPModel {
        let worlds = lab.vrrpModel().possibleStarts()
        guard worlds.isUncertain else { return worlds.model }
        return worlds.first(
            matching: Dictionary(uniqueKeysWithValues: try await vipHolders().map { ($0.address, $0.nodes) }))
    }

    /// Which nodes have each of `addresses` on their interfaces: one look at every VRRP node.
    func carriers(of addresses: Set<String>) async throws -> [String: [String]] {
        var carried: [String: [String]] = [:]
        // Only keepalived puts a VIP on a node: the nodes with an instance.
        let vrrpNodes = Set(lab.instances.map(\.node))
        for node in lab.topology.nodes where vrrpNodes.contains(node.name) {
            for address in try await backend.addresses(lab.name, node: node.name) {
                let bare = String(address.split(separator: "/")[0])
                if addresses.contains(bare) { carried[bare, default: []].append(node.name) }
            }
        }
        return carried
    }

    /// Asks each node's keepalived for its state (SIGUSR1 makes it write /tmp/keepalived.data).
    public func instanceStates() async throws -> [InstanceState] {
        let dump =
            #"rm -f /tmp/keepalived.data; "#
            + #"kill -USR1 "$(cat \#(Service.keepalived.pidFile!) 2>/dev/null)" 2>/dev/null || exit 3; "#
            + #"i=0; while [ $i -lt 100 ]; do grep -qs '< VRRP Sockpool >' /tmp/keepalived.data && break; "#
            + #"sleep 0.02; i=$((i + 1)); done; "#
            + #"cat /tmp/keepalived.data"#
        var states: [InstanceState] = []
        for node in lab.topology.nodes where node.services.contains(Service.keepalived.name) {
            let configured = lab.instances.filter { $0.node == node.name }
            guard backend.isRunning(lab.name, node: node.name) else {
                states += configured.map { InstanceState(instance: $0.name, node: node.name, state: .nodeDown) }
                continue
            }
            let result = try await backend.exec(lab.name, node: node.name, ["/bin/sh", "-c", dump])
            guard result.succeeded else {
                states += configured.map {
                    InstanceState(instance: $0.name, node: node.name, state: .keepalivedStopped)
                }
                continue
            }
            states += InstanceState.parse(result.output, node: node.name)
        }
        return states
    }

    /// The text of a node's log file, readable after a crash too; nil if it has none.
    public func log(of node: String, path: String) -> String? {
        backend.readFile(lab.name, node: node, path: path)
    }

    func keepalivedLog(of node: String) -> String? { log(of: node, path: Service.keepalived.logs[0]) }

    /// The nodes that run keepalived.
    var keepalivedNodes: [String] {
        lab.topology.nodes.filter { $0.services.contains(Service.keepalived.name) }.map(\.name)
    }

    /// The last lines of each keepalived node's log, for a failure report.
    public func keepalivedLogTails(lines: Int = 8) -> [(node: String, lines: [String])] {
        keepalivedNodes.map { node in
            (node, (keepalivedLog(of: node) ?? "").split(separator: "\n").suffix(lines).map(String.init))
        }
    }
}

/// One node's view of one VRRP instance, as keepalived itself reports it.
public struct InstanceState: Sendable, Codable, Equatable {
    public enum State: Sendable, Codable, Equatable, CustomStringConvertible {
        /// As keepalived names it: MASTER, BACKUP, FAULT (or any other word it uses).
        case reported(String)
        /// Nobody can say: the node is down, or its keepalived is not running.
        case nodeDown, keepalivedStopped

        public var description: String {
            switch self {
            case .reported(let state): state
            case .nodeDown: "node down"
            case .keepalivedStopped: "keepalived stopped"
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            self = text == "node down" ? .nodeDown : text == "keepalived stopped" ? .keepalivedStopped : .reported(text)
        }
    }

    public var instance: String
    public var node: String
    public var state: State
    public var effectivePriority: Int?

    /// Reads keepalived's SIGUSR1 dump (its "VRRP Topology" part), which has no machine form.
    static func parse(_ dump: String, node: String) -> [InstanceState] {
        var states: [InstanceState] = []
        var inTopology = false
        for line in dump.split(separator: "\n") {
            if line.hasPrefix("------<") { inTopology = line.contains("VRRP Topology") }
            guard inTopology else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "VRRP Instance": states.append(InstanceState(instance: parts[1], node: node, state: .reported("?")))
            case "State" where !states.isEmpty: states[states.count - 1].state = .reported(parts[1])
            case "Effective priority" where !states.isEmpty: states[states.count - 1].effectivePriority = Int(parts[1])
            default: break
            }
        }
        return states
    }
}
