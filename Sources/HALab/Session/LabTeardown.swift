import Foundation
import HALabBackends
import HALabSystem

/// `halab down`: what the lab's journal names, then whatever halab's naming convention says
/// is the lab's on every backend (its journal lost, a command killed half-way), then a look that
/// nothing of it remains. It never says a lab is down while something of it is left.
public enum LabTeardown {
    public struct Result: Sendable {
        /// Whether the lab had a journal (it was up, as far as halab knew).
        public var wasUp: Bool
        /// What its journal did not name and the convention found.
        public var swept: [String]
    }

    /// `lab` nil: every lab. `journal`: the backend the lab's journal says it ran on;
    /// `others`: every backend whose objects are swept too.
    public static func down(
        _ lab: String?, names: [String]?, journal: (String) -> any LabBackend, others: [any LabBackend]
    ) async throws -> Result {
        var wasUp = false
        let labs = lab.map { [$0] } ?? others.first.map { $0.labsUp() } ?? []
        for name in labs {
            wasUp = try await journal(name).down(name) || wasUp
        }
        var swept: [String] = []
        for backend in others { swept += try await backend.sweep(lab, names: names) }
        var remaining: [String] = []
        for backend in others { remaining += await backend.leftovers(lab, names: names) }
        guard remaining.isEmpty else {
            throw HALabError.commandFailed(
                command: "down \(lab ?? "--all")", status: "not down",
                output: "still there: " + remaining.joined(separator: ", "))
        }
        return Result(wasUp: wasUp, swept: swept)
    }
}
