import Foundation
import HALabModel
import HALabSystem

/// How fast `halab check` reads configs: the corpus of real ones next to keepalived's own
/// `--config-test` of the same files, and one config of many instances.
extension Benchmarks {
    /// Each file checked `runs` times: halab in this process, halab as a command (its start
    /// included), and `keepalived --config-test`; totals over the files and the median per file.
    public static func checkCorpus(_ files: [String], halab: String, runs: Int) async throws -> BenchTable {
        var table = BenchTable(
            title: "check over \(files.count) keepalived configs, median of \(runs) runs (milliseconds)",
            columns: ["total", "per-file"],
            note:
                "(halab in-process: reading, lints and failure table; as a command: `halab check FILE "
                    + "--no-keepalived`, process start included; keepalived: `keepalived --config-test -f FILE`, "
                    + "process start included)")
        let contestants: [(String, (String) async throws -> Void)] = [
            ("halab (in-process)", { _ = await CheckRun.file($0, configID: "bench", askKeepalived: false) }),
            (
                "halab check (command)",
                {
                    _ = try await Command.run(
                        halab, ["check", $0, "--no-keepalived", "--config-id", "bench"], check: false)
                }
            ),
            (
                "keepalived --config-test",
                {
                    _ = try await Command.run(
                        "keepalived", ["--config-test", "--use-file", $0, "--config-id", "bench"], check: false)
                }
            )
        ]
        for (name, check) in contestants {
            var totals: [Double] = [], perFile: [Double] = []
            for _ in 0..<runs {
                var times: [Double] = []
                for file in files {
                    let start = ContinuousClock.now
                    try await check(file)
                    times.append((ContinuousClock.now - start).seconds)
                }
                totals.append(times.reduce(0, +))
                perFile.append(median(times))
            }
            table.rows.append((name, [milliseconds(median(totals)), milliseconds(median(perFile))]))
        }
        return table
    }

    /// `halab check` of each generated worst case (`LabGenerator.CheckLoad`) at each size, as a
    /// command: wall time and peak memory, next to keepalived's own `--config-test` of the
    /// first node's config.
    public static func checkLoads(halab: String, sizes: [Int], runs: Int, scratch: String) async throws -> BenchTable {
        var table = BenchTable(
            title: "check of generated worst cases, median of \(runs) runs",
            columns: ["halab s", "slowest s", "peak MiB", "keepalived s"],
            note:
                "(halab: `halab check LAB --no-keepalived --json`, process start included, peak resident memory from "
                    + "wait4; keepalived: `keepalived --config-test` of the first node's config; target at 255 "
                    + "instances: halab ≤ 5 s and ≤ 1024 MiB)")
        let keepalived = Command.locate("keepalived")
        for load in LabGenerator.CheckLoad.allCases {
            for size in sizes {
                let lab = try LabGenerator.checkLoad(load, instances: size, in: scratch)
                let config = "\(lab)/\(load == .oneServer ? "server" : "node-1")/etc/keepalived/keepalived.conf"
                var costs: [ProgramCost] = []
                var theirs: [Double] = []
                for _ in 0..<runs {
                    costs.append(try await ProgramCost.measure(halab, ["check", lab, "--no-keepalived", "--json"]))
                    if let keepalived {
                        theirs.append(
                            try await ProgramCost.measure(keepalived, ["--config-test", "--use-file", config]).seconds)
                    }
                }
                table.rows.append(
                    (
                        "\(load.rawValue) × \(size)",
                        [
                            String(format: "%.2f", median(costs.map(\.seconds))),
                            String(format: "%.2f", costs.map(\.seconds).max() ?? 0),
                            String(format: "%.0f", median(costs.map { Double($0.peakKiB) / 1024 })),
                            theirs.isEmpty ? "-" : String(format: "%.2f", median(theirs))
                        ]
                    ))
            }
        }
        return table
    }

    static func milliseconds(_ seconds: Double) -> String { String(format: "%.1f", seconds * 1000) }
}
