import Foundation
import HALabBackends
import HALabSystem

/// `halab bench soak`: cycles of up, chaos and down through the `halab` command, with SIGKILLs
/// and SIGINTs at random moments, two commands on one lab at once, two labs side by side, and a
/// forced down under a running verify. After each cycle (and once dead processes are reaped)
/// nothing of the labs may be left; no command may print a raw tool error or a wrong diagnosis.
public struct Soak: Sendable {
    public var halab: String
    /// Two copies of a lab folder (master-backup), so two labs can run side by side.
    public var labs: (String, String)
    public var seed: UInt64

    public init(halab: String, labs: (String, String), seed: UInt64) {
        self.halab = halab
        self.labs = labs
        self.seed = seed
    }

    public struct Tally: Sendable {
        public var cycles = 0
        public var leaks: [String] = []
        public var rawErrors: [String] = []
        public var wrongDiagnoses: [String] = []
        /// From a SIGINT or SIGTERM to a clean machine, seconds.
        public var interruptCleanups: [Double] = []
    }

    enum Kind: CaseIterable { case plain, killedUp, interruptedUp, terminatedVerify, twoUps, sideBySide, forcedDown }

    public func run(cycles: Int, progress: @Sendable (String) -> Void) async throws -> Tally {
        var random = SeededGenerator(seed: seed)
        var tally = Tally()
        for cycle in 1...max(1, cycles) {
            let kind = Kind.allCases.randomElement(using: &random)!
            let delay = Double.random(in: 0.05...3, using: &random)
            let delayed =
                kind == .plain || kind == .twoUps || kind == .sideBySide ? "" : String(format: " after %.2f s", delay)
            progress("soak \(cycle)/\(cycles): \(kind)\(delayed)")
            let outputs = try await self.cycle(kind, delay: delay, tally: &tally)
            judge(outputs, into: &tally, cycle: cycle)
            for lab in [labs.0, labs.1] { _ = try await halabCommand(["down", lab]) }
            let left = await leftovers()
            if !left.isEmpty { tally.leaks.append("cycle \(cycle) (\(kind)): \(left.joined(separator: ", "))") }
            tally.cycles = cycle
        }
        return tally
    }

    func cycle(_ kind: Kind, delay: Double, tally: inout Tally) async throws -> [CommandResult] {
        let (a, b) = labs
        switch kind {
        case .plain:
            return [
                try await halabCommand(["up", a]),
                try await halabCommand(["chaos", "kill", "nginx-1", "--lab", name(a)]),
                try await halabCommand(["down", a])
            ]
        case .killedUp:
            return [
                try await halabCommand(["up", a], signal: SIGKILL, after: delay), try await halabCommand(["down", a])
            ]
        case .interruptedUp, .terminatedVerify:
            let (signal, words) = kind == .interruptedUp ? (SIGINT, ["up", a]) : (SIGTERM, ["verify", a])
            let start = Date()
            let result = try await halabCommand(words, signal: signal, after: delay)
            if result.exitCode == 128 + signal {
                // Undone by the command itself: clean without a down.
                let left = await leftovers()
                if !left.isEmpty {
                    tally.leaks.append("after \(words[0]) was interrupted: \(left.joined(separator: ", "))")
                }
                tally.interruptCleanups.append(Date().timeIntervalSince(start) - delay)
            }
            return [result]
        case .twoUps:
            async let first = halabCommand(["up", a])
            async let second = halabCommand(["up", a])
            return [try await first, try await second]
        case .sideBySide:
            async let first = halabCommand(["up", a])
            async let second = halabCommand(["up", b])
            let results = [try await first, try await second]
            return results + [
                try await halabCommand(["chaos", "kill", "nginx-2", "--lab", name(b)]),
                try await halabCommand(["down", a]),
                try await halabCommand(["down", b])
            ]
        case .forcedDown:
            async let verify = halabCommand(["verify", a])
            try await Task.sleep(for: .seconds(delay + 1))
            let down = try await halabCommand(["down", name(a), "--force"])
            return [try await verify, down]
        }
    }

    /// What the commands printed: a raw tool error, or the wrong cause, is a failure.
    func judge(_ results: [CommandResult], into tally: inout Tally, cycle: Int) {
        for result in results {
            let text = result.errorOutput + result.output
            if text.contains("' failed (") || text.contains("Error: could not") {
                tally.rawErrors.append(
                    "cycle \(cycle): "
                        + text.split(separator: "\n").filter { $0.contains("failed (") }.joined(separator: " | "))
            }
            if text.contains("is not running (crashed or killed)") {
                tally.wrongDiagnoses.append(
                    "cycle \(cycle): "
                        + text.split(separator: "\n").filter { $0.contains("crashed or killed") }.joined())
            }
        }
    }

    /// Everything of the soak's labs still on the machine: namespaces, processes, state.
    func leftovers() async -> [String] {
        let backend = NamespaceBackend(initProgram: "")
        var left: [String] = []
        for lab in [name(labs.0), name(labs.1)] {
            left += await backend.leftovers(lab, names: nil)
            if FileSystem.exists("/run/halab/\(lab)") { left.append("/run/halab/\(lab)") }
        }
        return left
    }

    func name(_ folder: String) -> String { URL(fileURLWithPath: folder).lastPathComponent }

    func halabCommand(_ words: [String], signal: Int32? = nil, after delay: Double = 0) async throws -> CommandResult {
        guard let signal else { return try await Command.run(halab, words, check: false) }
        return try await Command.run(halab, words, signal: signal) { try? await Task.sleep(for: .seconds(delay)) }
    }
}
