import Foundation
import HALabModel

/// A random fault schedule: `steps` actions, each a new fault on a node without one or the mend
/// of one in force. A nemesis aims half the new faults at the node the model says holds the
/// first VIP, as Jepsen's aims at primaries.
public struct FaultSchedule: Sendable, Equatable {
    public var actions: [Fault]

    public init(actions: [Fault]) { self.actions = actions }

    public init(lab: Lab, seed: UInt64, steps: Int, faults: [Fault.Kind]) {
        var random = SeededGenerator(seed: seed)
        var model = lab.vrrpModel()
        let servers = lab.topology.nodes.filter { !$0.services.isEmpty }.map(\.name)
        let everyone = lab.topology.nodes.map(\.name)
        var inForce: [String: Fault] = [:]  // node → its mend
        var partitioned = false  // a partition involves every node: nothing else meanwhile
        var actions: [Fault] = []
        while actions.count < steps {
            let free = servers.filter { inForce[$0] == nil }
            let kinds = inForce.isEmpty ? faults : faults.filter { $0 != .partition }
            var action: Fault
            if !inForce.isEmpty
                && (free.isEmpty || partitioned || kinds.isEmpty || Double.random(in: 0..<1, using: &random) < 0.4)
            {
                let node = inForce.keys.sorted().randomElement(using: &random)!
                action = inForce.removeValue(forKey: node)!
                partitioned = false
            } else {
                guard !free.isEmpty, let kind = kinds.randomElement(using: &random) else { break }
                partitioned = kind == .partition
                let master = model.virtualAddresses.first.flatMap { model.holders(of: $0).first }
                let aimed = Bool.random(using: &random) ? master.flatMap { free.contains($0) ? $0 : nil } : nil
                let node = aimed ?? free.randomElement(using: &random)!
                let service =
                    lab.instances.filter { $0.node == node }.flatMap(\.trackedScripts)
                    .flatMap { model.servicesChecked(by: $0, on: node) }.first ?? "nginx"
                let target = Fault.Target(
                    node: node, services: [service], servedServices: [service], cables: [nil],
                    others: everyone.filter { $0 != node })
                // A flap (or a switch, no node's) is drawn as two steps, each judged: the link down, then up at once.
                let twoSteps = kind == .flap || kind == .switch
                action = twoSteps ? .link(node: node, interface: nil, up: false, atNode: false) : target.faults(kind)[0]
                if let mend = action.mend, !twoSteps {
                    inForce[node] = mend
                } else if twoSteps, actions.count + 1 < steps {
                    actions.append(action)
                    action = .link(node: node, interface: nil, up: true, atNode: false)
                }
            }
            for event in action.events(nodes: everyone) { model.apply(event) }
            actions.append(action)
        }
        self.actions = actions
    }

    /// As a scenario: each action a step the model judges, but while packet loss is in force
    /// (the model cannot follow it), when only the invariants' rest applies.
    public var scenario: Scenario {
        var lossy = Set<String>()
        return Scenario(
            steps: actions.enumerated().map { index, action in
                switch action.sight {
                case .blinds(let node): lossy.insert(node)
                case .restores(let node): if let node { lossy.remove(node) } else { lossy = [] }
                case .keeps: break
                }
                return Scenario.Step(
                    name: "\(index + 1): \(action)", line: nil, action: .chaos(action),
                    expected: lossy.isEmpty ? .model : .listed([]))
            })
    }

    /// The scenario file `halab verify LAB --scenario FILE` runs again.
    public func yaml(comment: String) -> String {
        let steps = scenario.steps.map { step in
            "  - name: \"\(step.name)\"\n    chaos: \"\(step.action!.chaosEquivalent!)\"\n"
                + (step.expected == .model ? "    expect: model\n" : "")
        }
        return comment.split(separator: "\n").map { "# \($0)\n" }.joined() + "steps:\n" + steps.joined()
    }

    /// Whether each action can be made where it stands: no fault made twice, no mend of a
    /// fault not in force, nothing done to a node that is down but its revive. What shrinking
    /// keeps must be a schedule a run could have drawn.
    public var isValid: Bool {
        var inForce: [Fault] = []
        var down: Set<String> = []
        for action in actions {
            if case .revive(let node) = action {
                guard down.remove(node) != nil else { return false }
            } else if action.nodes.contains(where: down.contains) {
                return false
            }
            if action.lifetime == .inForce {
                guard !inForce.contains(action) else { return false }
                inForce.append(action)
                if case .kill(let node) = action { down.insert(node) }
            } else if action.lifetime == .overWhenDone {
                continue
            } else {
                guard inForce.contains(where: action.heals) else { return false }
                inForce.removeAll(where: action.heals)
            }
        }
        return true
    }

    /// The schedule without the action at `index`, and without its mend when it made a fault.
    func dropping(_ index: Int) -> FaultSchedule {
        var actions = self.actions
        let dropped = actions.remove(at: index)
        if let mend = actions.indices.dropFirst(index).first(where: { actions[$0].heals(dropped) }) {
            actions.remove(at: mend)
        }
        return FaultSchedule(actions: actions)
    }
}

/// A small seeded generator (SplitMix64): the same seed, the same schedule (or soak).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
