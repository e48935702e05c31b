import ArgumentParser
import Foundation
import HALab
import HALabModel
import HALabSystem
import Synchronization

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a lab's scenario with real processes and assert every outcome; exit 0 only if all hold.",
        discussion: "Brings the lab up first (and down after) unless it is up already.")

    @Argument(help: "A lab name or path.")
    var lab: String

    @Option(help: "Write a JUnit XML report here.")
    var junit: String?

    @Option(help: "Write a JSON report here.")
    var json: String?

    @Option(help: "Run this scenario file instead of the lab's scenario.yaml (a path, or a file in the lab's folder).")
    var scenario: String?

    @Option(
        help:
            ArgumentHelp("Probe every VIP from the client every 10 ms through the run; measure each action's outage; "
                + "write LAB.svg, LAB.html and LAB.probe.txt here.")
    )
    var timeline: String?

    @Option(help: "Capture every segment through the run: write LAB-SEGMENT.pcap here (Wireshark opens them).")
    var capture: String?

    @Option(
        help:
            ArgumentHelp("Write one self-contained page of the run here (LAB.report.html: the lab's picture, every "
                + "step's evidence, the timeline, the outages, the captures, the logs of a failed step), with the "
                + "timeline's files and a pcap per segment.")
    )
    var report: String?

    @Flag(help: "Leave the lab up afterwards.")
    var keep = false

    @Option(
        help:
            ArgumentHelp("Fail every step with an action whose client-seen outage (probed every 10 ms) is longer than "
                + "this many seconds; a step's own max-outage wins.")
    )
    var maxOutage: Double?

    @Option(
        help:
            ArgumentHelp("Send RATE requests a second to each VIP from the client through the run, each on a new "
                + "connection, whatever the answers; print each step's requests sent, failed by kind, and latency. "
                + "A scenario's own load: loses to it.", valueName: "rate")
    )
    var load: Double?

    @Option(
        help:
            ArgumentHelp("Under load: fail every step where more requests failed than this, a count (0) or a share "
                + "(1%); a step's own max-failed wins.", valueName: "budget")
    )
    var maxFailed: String?

    @Option(
        help:
            ArgumentHelp("Under load: fail every step whose good answers' 99th percentile is slower than this many "
                + "seconds (or that got none); a step's own max-p99 wins.", valueName: "seconds")
    )
    var maxP99: Double?

    @Flag(
        help:
            ArgumentHelp("Hold a keep-alive connection to each VIP open across every step (a request on it ten times "
                + "a second) and say whether it survived, judged by the model where it can tell.")
    )
    var stream = false

    @Flag(
        help:
            ArgumentHelp("Run every row of check's failure table live instead (each single failure, each ordered "
                + "pair), each in a fresh instance LAB-rN, and compare it with the model.")
    )
    var allPairs = false

    @Option(help: "With --all-pairs: how many instances at once.")
    var parallel = 4

    @Option(
        help:
            ArgumentHelp("With --all-pairs: the kinds of failure its table is made of, comma-separated, from "
                + "\(Fault.Kind.allCases.map(\.rawValue).joined(separator: ", ")) (default: "
                + Fault.Kind.allCases.filter(Fault.Kind.allPairsDefault.contains).map(\.rawValue).joined(separator: ",")
                + ").")
    )
    var faults: String?

    @Option(
        help:
            ArgumentHelp("With --all-pairs: run part K of N of the table (rows by index, round robin), for N CI "
                + "runners; 'halab report merge' joins their JSON reports. Default: from CI_NODE_INDEX/CI_NODE_TOTAL "
                + "(GitLab) or JOB_COMPLETION_INDEX with HALAB_SHARDS (Kubernetes), else the whole table.")
    )
    var shard: String?

    @OptionGroup var backendOptions: BackendOptions
    @OptionGroup var instance: InstanceOption
    @OptionGroup var waiting: LabCommand.WaitOption

    func run() async throws {
        if allPairs { return try await runAllPairs() }
        guard shard == nil && faults == nil else { throw HALabError.usage("--shard and --faults go with --all-pairs") }
        var lab = try Environment.loadLab(lab, instance: instance.name)
        if let scenario {
            lab.scenario = try lab.loadScenario(
                scenario.contains("/") || FileManager.default.fileExists(atPath: scenario)
                    ? scenario : "\(lab.folder)/\(scenario)")
        }
        if let maxOutage {
            guard maxOutage > 0, maxOutage.isFinite else {
                throw HALabError.usage("--max-outage is a number of seconds above 0, such as 0.5")
            }
            for index in lab.scenario.steps.indices where lab.scenario.steps[index].action != nil {
                lab.scenario.steps[index].maxOutage = lab.scenario.steps[index].maxOutage ?? maxOutage
            }
        }
        if let load { lab.scenario.load = try Load(rate: load) }
        if stream { lab.scenario.stream = true }
        if let maxFailed {
            let budget = try FailureBudget(maxFailed)
            for index in lab.scenario.steps.indices {
                lab.scenario.steps[index].maxFailed = lab.scenario.steps[index].maxFailed ?? budget
            }
        }
        if let maxP99 {
            guard maxP99 > 0, maxP99.isFinite else { throw HALabError.usage(Load.latencyUsage) }
            for index in lab.scenario.steps.indices {
                lab.scenario.steps[index].maxP99 = lab.scenario.steps[index].maxP99 ?? maxP99
            }
        }
        if lab.scenario.load == nil,
            let step = lab.scenario.steps.first(where: { $0.maxFailed != nil || $0.maxP99 != nil })
        {
            throw HALabError.usage(
                "step '\(step.name)' has a budget on requests under load (max-failed or max-p99): give the "
                    + "scenario a load: {rate: 200} or run verify with --load 200")
        }
        // The page first: where both want the run's evidence, the pcaps go to the page's folder.
        var writers: [any ReportWriter] = report.map { [HTMLReport(folder: $0)] } ?? []
        writers += (timeline ?? report).map { [TimelineReport(folder: $0)] } ?? []
        writers += (junit.map { [JUnitReport(path: $0)] } ?? []) + (json.map { [JSONReport(path: $0)] } ?? [])
        writers.append(TextReport { print($0) })
        let verify = VerifyRun(lab: lab, backend: backendOptions.make(), writers: writers, capture: capture, keep: keep)
        // Whether this verify brings the lab up (and so takes it down on an interrupt, unless --keep).
        let builds = Mutex(false)
        let name = lab.name, names = lab.topology.objectNames
        let undo: @Sendable () async -> Void = {
            if builds.withLock({ $0 }) { _ = try? await Environment.teardown(name, names: names) }
        }
        let result = try await LabCommand(lab: lab.name, command: "verify", wait: !waiting.noWait).run(undo: undo) {
            let running = Environment.namespaces.labsUp().contains(name) ? Environment.backend(ofLab: name) : nil
            builds.withLock { $0 = running == nil && !verify.keep }
            return try await verify.run(running: running, progress: progress)
        }
        if !result.passed { throw ExitCode.failure }
    }
}

extension Verify {
    func runAllPairs() async throws {
        guard scenario == nil, timeline == nil, capture == nil, report == nil, !keep, instance.name == nil,
            maxOutage == nil, load == nil, maxFailed == nil, maxP99 == nil, !stream
        else {
            throw HALabError.usage(
                "--all-pairs runs check's failure table in instances of its own: drop --scenario, --timeline, "
                    + "--capture, --report, --keep, --max-outage, --load, --max-failed, --max-p99, --stream and --name"
            )
        }
        guard let kinds = faults.map(Fault.Kind.parse) ?? Fault.Kind.allPairsDefault else {
            throw HALabError.usage(
                "--faults '\(faults ?? "")': name kinds from "
                    + "\(Fault.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let run = AllPairsRun(
            lab: try Environment.loadLab(lab), backend: backendOptions.make(), parallel: parallel, kinds: kinds,
            shard: try Shard.chosen(shard))
        let names = run.shardRows.map(run.instanceName)
        let undo: @Sendable () async -> Void = { for name in names { _ = try? await Environment.teardown(name) } }
        progress(
            "→ \(names.count) rows of \(run.lab.name)'s failure table"
                + (run.shard == .whole ? "" : " (shard \(run.shard))")
                + ", \(run.parallel) instances at a time")
        let report = try await LabCommand(labs: names, command: "verify --all-pairs", wait: !waiting.noWait).run(
            undo: undo
        ) {
            try await run.run(progress: progress)
        }
        print(report.text())
        if let junit { try FileSystem.write(JUnitReport.xml(report.verifyReport), to: junit) }
        if let json { try FileSystem.write(try JSONReport.text(report), to: json) }
        if !report.passed { throw ExitCode.failure }
    }
}
