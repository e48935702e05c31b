import ArgumentParser
import Foundation
import HALab
import HALabModel
import HALabSystem

struct ExploreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract:
            "Run random fault schedules against fresh instances of a lab; shrink each failing one to a scenario that "
                + "reproduces it.",
        discussion: """
            Every step is judged by the VRRP model and by verify's invariants. A nemesis aims half the faults at the \
            node holding the VIP. For each failing run it writes, in --output: the shrunk schedule as a scenario \
            (halab verify LAB --scenario FILE runs it again), the run's history as JSON lines and its timeline. The \
            same seed gives the same schedules. Exit 1 if any run failed.
            """)

    @Argument(help: "A lab name or path.")
    var lab: String

    @Option(help: "How many runs.")
    var runs = 10

    @Option(help: "The seed of the first run's schedule (run N uses seed + N - 1).")
    var seed: UInt64 = 1

    @Option(help: "Actions per schedule.")
    var steps = 6

    @Option(
        help:
            "The faults to draw from, comma-separated: \(Fault.Kind.explored.map(\.rawValue).joined(separator: ", ")).")
    var faults = Fault.Kind.explored.map(\.rawValue).joined(separator: ",")

    @Option(help: "How many instances at once.")
    var parallel = 2

    @Option(help: "Where failing runs' files go (default: ./explore-LAB).")
    var output: String?

    @Option(
        help:
            ArgumentHelp("Run part K of N of the runs (by run index, round robin; each run's seed stays the seed + its "
                + "index), for N CI runners; 'halab report merge' joins their JSON reports. Default: from "
                + "CI_NODE_INDEX/CI_NODE_TOTAL (GitLab) or JOB_COMPLETION_INDEX with HALAB_SHARDS (Kubernetes), else "
                + "every run.")
    )
    var shard: String?

    @Option(help: "Write the runs and their outcomes as JSON here.")
    var json: String?

    @OptionGroup var backendOptions: BackendOptions
    @OptionGroup var waiting: LabCommand.WaitOption

    func run() async throws {
        guard let chosen = Fault.Kind.parse(faults), chosen.isSubset(of: Fault.Kind.explored) else {
            throw HALabError.usage(
                "--faults '\(faults)': name faults from \(Fault.Kind.explored.map(\.rawValue).joined(separator: ", "))")
        }
        let kinds = Fault.Kind.explored.filter(chosen.contains)
        guard runs > 0, steps > 0 else { throw HALabError.usage("--runs and --steps must be at least 1") }
        let lab = try Environment.loadLab(lab)
        let explore = Explore(
            lab: lab, backend: backendOptions.make(), runs: runs, seed: seed, steps: steps, faults: kinds,
            parallel: parallel, output: URL(fileURLWithPath: output ?? "explore-\(lab.name)").path,
            shard: try Shard.chosen(shard))
        let names = explore.shardRuns.map(explore.instanceName)
        let undo: @Sendable () async -> Void = { for name in names { _ = try? await Environment.teardown(name) } }
        progress(
            "→ exploring \(lab.name): \(names.count) runs of \(steps) steps"
                + (explore.shard == .whole ? "" : " (shard \(explore.shard) of \(runs))")
                + " (seed \(seed); faults \(kinds.map(\.rawValue).joined(separator: ",")); \(explore.parallel) at a "
                + "time)"
        )
        let clock = ContinuousClock()
        let start = clock.now
        let results = try await LabCommand(labs: names, command: "explore", wait: !waiting.noWait).run(undo: undo) {
            try await explore.run(progress: progress)
        }
        let report = explore.report(results, seconds: Double((clock.now - start).components.seconds))
        print(report.text())
        if let json { try Check.encode(report).write(toFile: json, atomically: true, encoding: .utf8) }
        if !report.passed { throw ExitCode.failure }
    }
}
