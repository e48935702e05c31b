import Foundation
import HALabModel
import HALabSystem

/// How fast `halab check` reads configs: the corpus of real ones next to keepalived's own
/// `--config-test` of the same files, and one config of many instances.
extension Benchmarks {
    /// Each file checked `runs` times: halab in this process, halab as a command (its start
    /// included), and `keepalived --config-test`; totals over the files and the median per file.
    public static func checkCorpus(_ files: [String], halab: String, runs: Int) async throws -> BenchTable {
        var table = BenchTable(title: "check over \(files.count) keepalived configs, median of \(runs) runs (milliseconds)",
                               columns: ["total", "per-file"],
                               note: "(halab in-process: reading, lints and failure table; as a command: `halab check FILE --no-keepalived`, "
                                   + "process start included; keepalived: `keepalived --config-test -f FILE`, process start included)")
        let contestants: [(String, (String) async throws -> Void)] = [
            ("halab (in-process)", { _ = await CheckRun.file($0, configID: "bench", askKeepalived: false) }),
            ("halab check (command)", { _ = try await Command.run(halab, ["check", $0, "--no-keepalived", "--config-id", "bench"], check: false) }),
            ("keepalived --config-test", { _ = try await Command.run("keepalived", ["--config-test", "--use-file", $0, "--config-id", "bench"], check: false) }),
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

    /// One config with `instances` vrrp_instances (each tracking a script), read and checked.
    public static func checkLarge(instances: Int, runs: Int) -> BenchTable {
        var text = "vrrp_script chk {\n    script \"/bin/true\"\n    weight -20\n}\n"
        for index in 0..<instances {
            text += """
                vrrp_instance VI_\(index) {
                    state \(index % 2 == 0 ? "MASTER" : "BACKUP")
                    interface eth\(index / 255)
                    virtual_router_id \(index % 255 + 1)
                    priority \(100 + index % 50)
                    advert_int 1
                    track_script {
                        chk
                    }
                    virtual_ipaddress {
                        10.\(index / 250).\(index % 250).100/24
                    }
                }

                """
        }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            let config = KeepalivedNodeConfig.read(node: "node", file: "large.conf", source: .text(text))
            let model = VRRPModel(nodes: [VRRPModel.Node(name: "node", services: ["nginx", "keepalived"], primaryAddress: 1, addresses: [],
                                                         segments: [:])], instances: config.instances)
            _ = ConfigCheck.run(lab: "large", configs: [config], model: model)
            times.append((ContinuousClock.now - start).seconds)
        }
        var table = BenchTable(title: "check of one config with \(instances) instances, median of \(runs) runs (milliseconds)",
                               columns: ["median", "slowest"], note: "(reading, lints and failure table, in-process; target: under 100 ms)")
        table.rows.append(("\(instances) instances", [milliseconds(median(times)), milliseconds(times.max() ?? 0)]))
        return table
    }

    static func milliseconds(_ seconds: Double) -> String { String(format: "%.1f", seconds * 1000) }
}
