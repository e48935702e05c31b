import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabSystem

extension EndToEndTests {
    /// Every row of master-backup's failure table live, six instances at a time, beside an
    /// instance of the same folder that stays up through it: each row agrees with the model,
    /// the JUnit report has a case per row, and nothing of any instance is left.
    @Test(.labs(E2E.pairsAtOnce + 1)) func allPairsRunsCheckTableLiveInInstances() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-pairs")
        defer { E2E.removeCopy(folder) }
        try await E2E.withHost { host in
            let before = try await host.snapshot()
            let kept = try await host.halab(["up", folder, "--name", "e2e-pairs-kept"])
            #expect(kept.exitCode == 0, "\(kept.errorOutput)")
            let junit = (folder as NSString).deletingLastPathComponent + "/pairs.junit.xml"
            let result = try await host.halab([
                "verify", folder, "--all-pairs", "--parallel", "\(E2E.pairsAtOnce)", "--junit", junit
            ])
            #expect(result.exitCode == 0, "\(result.output)\n\(result.errorOutput)")
            #expect(
                result.output.contains("24 of 24 rows agree with the model; memory per instance: median "),
                "\(result.output)")
            #expect(
                result.output.contains("  kill nginx-1, then kill nginx-2 ") && result.errorOutput.contains("[24/24] "))
            let report = try String(contentsOfFile: junit, encoding: .utf8)
            #expect(report.contains("tests=\"24\"") && report.contains("failures=\"0\""))
            // The kept instance ran untouched beside them, under its own name.
            #expect(
                try await host.run("sh", ["-c", "ls -d /run/halab/*/journal"]).output
                    == "/run/halab/e2e-pairs-kept/journal\n")
            let holder = try await host.halab(["curl", "--lab", "e2e-pairs-kept", "http://10.33.1.100"])
            #expect(holder.output == "nginx-1\n", "\(holder.errorOutput)")
            let down = try await host.halab(["down", "e2e-pairs-kept"])
            #expect(down.exitCode == 0, "\(down.errorOutput)")
            E2E.expectUnchanged(before, try await host.snapshot())
        }
    }
}

extension EndToEndTests {
    /// Three shards of three-node's table (its stop rows), run one after another and merged, are
    /// the unsharded run: the same rows, predictions and live verdicts. Likewise two shards of an
    /// explore of 6 runs (master-backup): the same runs, seeds, schedules and verdicts.
    @Test(.labs(3, long: true)) func shardsMergedAreTheWholeRun() async throws {
        let folder = try E2E.copy("three-node", as: "e2e-shards")
        defer { E2E.removeCopy(folder) }
        let out = (folder as NSString).deletingLastPathComponent
        func halab(_ arguments: [String]) async throws {
            let result = try await E2E.runHalab(arguments)
            #expect(
                result.exitCode == 0, "\(arguments.joined(separator: " ")): \(result.output)\n\(result.errorOutput)")
        }
        func pairs(_ extra: [String], json: String) async throws {
            try await halab(
                ["verify", folder, "--all-pairs", "--faults", "stop", "--parallel", "3", "--json", "\(out)/\(json)"]
                    + extra)
        }
        try await pairs([], json: "whole.json")
        for k in 1...3 { try await pairs(["--shard", "\(k)/3"], json: "pairs-\(k).json") }
        try await halab(
            ["report", "merge"] + (1...3).map { "\(out)/pairs-\($0).json" } + ["--json", "\(out)/merged.json"])
        func rows(_ file: String) throws -> [String] {
            let report = try JSONDecoder().decode(
                AllPairsRun.Report.self, from: Data(contentsOf: URL(fileURLWithPath: "\(out)/\(file)")))
            return report.rows.map { "\($0.index) \($0.failures) \($0.predicted) \($0.live) \($0.agrees)" }
        }
        #expect(try rows("merged.json") == rows("whole.json"))
        #expect(try rows("whole.json").count == 9)

        // One stop per run on master-backup: no design outage, so no run is shrunk.
        let document = try E2E.copy("master-backup", as: "e2e-shards-mb")
        defer { E2E.removeCopy(document) }
        func explore(_ extra: [String], json: String) async throws {
            try await halab(
                [
                    "explore", document, "--runs", "6", "--seed", "7", "--steps", "1", "--faults", "stop", "--parallel",
                    "3",
                    "--output", "\(out)/explore", "--json", "\(out)/\(json)"
                ] + extra)
        }
        try await explore([], json: "explore-whole.json")
        for k in 1...2 { try await explore(["--shard", "\(k)/2"], json: "explore-\(k).json") }
        try await halab([
            "report", "merge", "\(out)/explore-1.json", "\(out)/explore-2.json", "--json", "\(out)/explore-merged.json"
        ])
        func runs(_ file: String) throws -> [String] {
            let report = try JSONDecoder().decode(
                ExploreReport.self, from: Data(contentsOf: URL(fileURLWithPath: "\(out)/\(file)")))
            return report.results.map { "\($0.run) \($0.seed) \($0.schedule) \($0.passed)" }
        }
        #expect(try runs("explore-merged.json") == runs("explore-whole.json"))
        #expect(try runs("explore-whole.json").count == 6)
    }
}
