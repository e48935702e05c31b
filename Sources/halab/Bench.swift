import ArgumentParser
import Foundation
import HALab

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time `up` (halab's share vs keepalived's election) and `down` of a lab; print medians.")

    @Argument(help: "A lab name or path.")
    var lab: String = "master-backup"

    @Option(help: "How many runs (the median is printed).")
    var runs = 5

    func run() async throws {
        let lab = try Environment.loadLab(lab)
        var results: [UpDownBenchmark.Run] = []
        print("run     nodes-started  vip-assigned  answered(up)  harness-share  election  down")
        for index in 1...max(1, runs) {
            let run = try await UpDownBenchmark.run(lab, backend: Environment.backend)
            results.append(run)
            print(row("\(index)", [run.nodesStarted, run.vipAssigned, run.answered, run.harnessShare, run.electionShare, run.down]))
        }
        let median = { (value: (UpDownBenchmark.Run) -> Double) in UpDownBenchmark.median(results.map(value)) }
        print(row("median", [median(\.nodesStarted), median(\.vipAssigned), median(\.answered), median(\.harnessShare),
                             median(\.electionShare), median(\.down)]))
        print("memory per node (proportional set size, median):")
        for node in lab.topology.nodes {
            let kib = UpDownBenchmark.median(results.map { Double($0.memoryKiB[node.name] ?? 0) })
            print("  \(node.name): \(String(format: "%.1f", kib / 1024)) MiB (\(node.services.isEmpty ? "supervisor only" : "supervisor + " + node.services.joined(separator: " + ")))")
        }
    }

    func row(_ label: String, _ seconds: [Double]) -> String {
        label.padding(toLength: 8, withPad: " ", startingAt: 0)
            + seconds.map { String(format: "%.3f s", $0).padding(toLength: 14, withPad: " ", startingAt: 0) }.joined()
    }
}
