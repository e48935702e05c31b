import Foundation
import HALabBackends
import HALabModel

/// One look at a running lab for `halab watch`: each instance's state and effective priority,
/// each VIP's holders and the client's recent answers on it, and the faults in force.
public struct LabSnapshot: Sendable, Equatable {
    public var time: Double
    public var instances: [InstanceState]
    public var holders: [Holding]
    public var faults: [String]

    public struct Holding: Sendable, Equatable {
        public var address: String
        public var nodes: [String]
        /// The client's last answers on it, newest last: the answering node, or nil for a failure.
        public var answers: [String?]

        public var answered: Int { answers.count { $0 != nil } }
    }

    /// What a terminal shows, redrawn in place: one block per part, a split brain in red.
    public func screen(lab: String, color: Bool) -> [String] {
        let red = { (text: String) in color ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
        let time = Date(timeIntervalSince1970: self.time).formatted(.iso8601.time(includingFractionalSeconds: false))
        var lines = [
            "halab watch \(lab)  \(time)  (q or Ctrl-C quits)", "",
            "NODE        INSTANCE     STATE              PRIORITY"
        ]
        for instance in instances {
            lines.append(
                instance.node.padded(12) + instance.instance.padded(13) + instance.state.description.padded(19)
                    + (instance.effectivePriority.map(String.init) ?? "-"))
        }
        lines += [
            "", "VIP               HOLDERS                 CLIENT (last \(holders.first?.answers.count ?? 0) requests)"
        ]
        for holding in holders {
            let nodes = holding.nodes.isEmpty ? "nobody" : holding.nodes.joined(separator: ", ")
            let held = holding.nodes.count > 1 ? red("split brain: \(nodes)".padded(24)) : nodes.padded(24)
            let answers =
                holding.answers.isEmpty
                ? "-"
                : "\(holding.answered)/\(holding.answers.count) answered"
                    + (holding.answers.last.map { $0.map { ", last by \($0)" } ?? ", last failed" } ?? "")
            lines.append(
                holding.address.padded(18) + held + (holding.answered < holding.answers.count ? red(answers) : answers))
        }
        lines += ["", "FAULTS IN FORCE"] + (faults.isEmpty ? ["none"] : faults)
        return lines
    }

    /// What changed since `earlier`, one line each, for a log or a pipe.
    public func changes(since earlier: LabSnapshot?) -> [String] {
        let stamp = Date(timeIntervalSince1970: time).formatted(.iso8601.time(includingFractionalSeconds: true))
        var lines: [String] = []
        for instance in instances
        where earlier?.instances.first(where: { $0.node == instance.node && $0.instance == instance.instance })
            != instance
        {
            lines.append(
                "\(instance.node) \(instance.instance) \(instance.state) priority "
                    + "\(instance.effectivePriority.map(String.init) ?? "-")"
            )
        }
        for holding in holders {
            let before = earlier?.holders.first { $0.address == holding.address }
            if before?.nodes != holding.nodes {
                lines.append(
                    "\(holding.address) held by "
                        + (holding.nodes.isEmpty ? "nobody" : holding.nodes.joined(separator: ", "))
                        + (holding.nodes.count > 1 ? " (split brain)" : ""))
            }
            let (now, then) = (holding.answers.last ?? nil, before?.answers.last ?? nil)
            if before == nil || now != then {
                lines.append("\(holding.address) answered by " + (now ?? "nobody (the request failed)"))
            }
        }
        for fault in faults where !(earlier?.faults.contains(fault) ?? false) { lines.append("fault on: \(fault)") }
        for fault in earlier?.faults ?? [] where !faults.contains(fault) { lines.append("fault off: \(fault)") }
        return lines.map { "\(stamp) \($0)" }
    }
}

extension LabSession {
    /// Looks at the lab once; `earlier` gives the answers to keep (the last `keep` of them).
    public func snapshot(after earlier: LabSnapshot?, keep: Int = 20) async throws -> LabSnapshot {
        let client = try self.client()
        async let instances = instanceStates()
        async let holders = vipHolders()
        var answers: [String: String?] = [:]
        for address in lab.virtualAddresses.map(\.address) {
            let response = try await curl(Request(address: address, from: client).url, from: client, timeout: 0.2)
            answers[address] =
                response.exitCode == 0 && response.status == 200
                ? response.body.trimmingSpaces().split(separator: " ").first.map(String.init) : nil
        }
        let holdings = try await holders.map { address, nodes in
            let kept = (earlier?.holders.first { $0.address == address }?.answers ?? []) + [answers[address] ?? nil]
            return LabSnapshot.Holding(address: address, nodes: nodes, answers: Array(kept.suffix(keep)))
        }
        return LabSnapshot(
            time: Date().timeIntervalSince1970, instances: try await instances, holders: holdings,
            faults: backend.faults(lab.name).map(\.description))
    }
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self + " " : padding(toLength: width, withPad: " ", startingAt: 0)
    }
}
