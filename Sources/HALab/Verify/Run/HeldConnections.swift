import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// A client's connection to a VIP held open across a step (`connections:`): what became of it,
/// what the step expected and what the model said.
public struct HeldConnectionResult: Sendable, Codable, Equatable {
    public var address: String
    public var seen: Outcome
    /// The answers it got, and when it ended (seconds after the step's action), if it did.
    public var answers: Int
    public var endedAfter: Double?
    /// The longest an answer took after the action, seconds: a connection that lives on may
    /// stall while the VIP moves (its packets dropped until the new holder can take them).
    public var slowest: Double?
    public var expected: ConnectionFate?
    /// The model's word; nil where it cannot tell.
    public var predicted: ConnectionFate?
    /// Whether the model's word is held against what was seen (the step expects the model).
    public var judgedByModel: Bool

    public enum Outcome: String, Sendable, Codable {
        /// Still answering when the step was over.
        case survived
        /// Reset by the server side: the VIP's new holder has no such connection.
        case reset
        /// Closed by the server side.
        case closed
        /// Its last request got neither an answer nor a reset, up to the end of the step and a
        /// drain after it.
        case stalled
        case failed
        /// No answer came on it before the step's action: there was nothing to hold.
        case notOpened = "not opened"

        public var fate: ConnectionFate? {
            switch self {
            case .survived: .survive
            case .reset, .closed, .stalled, .failed: .break
            case .notOpened: nil
            }
        }
    }

    /// A connection that never got an answer fails only where something was expected of it.
    public var passed: Bool {
        guard let fate = seen.fate else { return expected == nil && (!judgedByModel || predicted == nil) }
        return (expected.map { $0 == fate } ?? true) && (!judgedByModel || (predicted.map { $0 == fate } ?? true))
    }

    /// What became of the connection to `address`, from halab-probe's record of it (`hold`).
    static func judge(
        _ samples: [ProbeSample], address: String, actionAt: Double, expected: ConnectionFate?,
        predicted: ConnectionFate?, judgedByModel: Bool
    ) -> HeldConnectionResult {
        let mine = samples.filter { $0.address == address }
        var result = HeldConnectionResult(
            address: address, seen: .notOpened, answers: mine.filter { $0.status != 0 }.count, expected: expected,
            predicted: predicted, judgedByModel: judgedByModel)
        guard mine.contains(where: { $0.status != 0 && $0.end <= actionAt }), let last = mine.last else {
            return result
        }
        result.slowest = mine.filter { $0.status != 0 && $0.end > actionAt }.map { $0.end - $0.start }.max()
        guard last.status == 0 else {
            result.seen = .survived
            return result
        }
        result.seen =
            switch last.answer {
            case "reset": .reset
            case "closed": .closed
            case "pending": .stalled
            default: .failed
            }
        result.endedAfter = (last.answer == "pending" ? last.start : last.end) - actionAt
        return result
    }

    public var summary: String {
        let end = endedAfter.map { String(format: " %.2f s after the action", $0) } ?? ""
        let seenWords =
            switch seen {
            case .stalled: "stalled from\(end): its last request got no answer and no reset"
            case .notOpened: "not opened: no answer on it before the action"
            default: "\(seen.rawValue)\(end)"
            }
        let expectedWords = expected.map { "; expected to \($0)" } ?? ""
        let slowestWords = slowest.map { String(format: ", the slowest after the action in %.2f s", $0) } ?? ""
        return "connection to \(address) \(seenWords) (\(answers) answers\(slowestWords))\(expectedWords); model: "
            + (predicted.map { "it will \($0)" } ?? "unknown")
    }
}

extension Verifier {
    /// Runs a step's action and checks (`body`, given when the action began) with a connection
    /// to each VIP held open across them when the step asks (`connections:`) or the scenario
    /// streams, and judges each.
    /// The action waits until each connection got its first answer (at most
    /// `heldConnectionWait` seconds) and a fifth of a second more; their requests go ten a second.
    static func holdingConnections(
        for step: Scenario.Step, session: LabSession, worlds: VRRPWorlds, before: VRRPWorlds, moved: Set<String>,
        actionAt: () -> Double, progress: @Sendable (String) -> Void, body: () async throws -> Void
    ) async throws -> [HeldConnectionResult] {
        guard step.connections != nil || session.lab.scenario.stream else {
            try await body()
            return []
        }
        let targets = session.lab.scenario.streamTargets
        let addresses = targets.isEmpty ? session.lab.virtualAddresses.map(\.address) : targets
        // An action the model cannot follow (a command, a file written) leaves a connection's fate unknown.
        let followed = step.action.map { $0.chaosEquivalent != nil } ?? true
        let action = step.action?.chaosEquivalent
        let client = try? session.client()
        let predicted = [String: ConnectionFate](
            uniqueKeysWithValues: addresses.compactMap { address -> (String, ConnectionFate)? in
                guard followed else { return nil }
                let fate =
                    targets.isEmpty
                    ? worlds.heldConnectionFate(
                        of: address, before: before, moved: moved.contains(address), action: action, client: client)
                    : client.flatMap { client in
                        worlds.forwardedConnectionFate(
                            to: address, from: client, before: before, moved: moved, action: action)
                    }
                return fate.map { (address, $0) }
            })
        let ready = StopSignal()
        // However slow the machine is to start the probe, but not for ever: where nothing answers, the
        // connection is not opened, and said so.
        Task {
            try? await Task.sleep(for: .seconds(Self.heldConnectionWait))
            await ready.fire()
        }
        let samples = try await session.probing(addresses, every: 100, connections: .held(ready: ready), seconds: 3600)
        {
            await ready.wait()
            try await Task.sleep(for: .milliseconds(200))  // a few answers before the action
            try await body()
        }
        return addresses.map { address in
            let result = HeldConnectionResult.judge(
                samples, address: address, actionAt: actionAt(), expected: step.connections,
                predicted: predicted[address], judgedByModel: step.expected == .model)
            progress("  \(result.passed ? "✓" : "✗") \(result.summary)")
            return result
        }
    }

    static let heldConnectionWait = 10.0
}
