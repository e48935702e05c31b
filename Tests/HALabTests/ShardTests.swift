import Foundation
import Testing
import Yams
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// Runs split over CI runners: shards, their reports merged, and the ready-made CI files.
@Suite struct ShardTests {
    @Test func theShardsTogetherAreTheWholeRunEachRowOnce() throws {
        let lab = try VRRPModelTests.lab("three-node")
        let whole = AllPairsRun(lab: lab, backend: NamespaceBackend(initProgram: "/nonexistent"), parallel: 1)
        for count in [1, 3, 6] {
            let parts = (1...count).map { index in
                AllPairsRun(
                    lab: lab, backend: NamespaceBackend(initProgram: "/nonexistent"), parallel: 1,
                    shard: Shard(index: index, count: count)
                ).shardRows
            }
            #expect(parts.flatMap { $0 }.sorted() == Array(whole.sequences.indices))
            #expect(parts.map(\.count).max()! - parts.map(\.count).min()! <= 1)  // round robin: even
        }
        // explore: by run index, each run keeping the seed the whole run gives it.
        let explores = (1...2).map {
            Explore(
                lab: lab, backend: NamespaceBackend(initProgram: "/nonexistent"), runs: 6, seed: 7, steps: 3,
                faults: [.stop], parallel: 1, output: "/tmp", shard: Shard(index: $0, count: 2))
        }
        #expect(explores.map(\.shardRuns) == [[0, 2, 4], [1, 3, 5]])
    }

    @Test func theShardIsTheFlagsElseTheCISystems() throws {
        #expect(try Shard.parse("2/3") == Shard(index: 2, count: 3))
        for bad in ["0/3", "4/3", "2", "a/b", "1/0"] { #expect(throws: HALabError.self) { try Shard.parse(bad) } }
        #expect(try Shard.fromEnvironment(["CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "4"]) == Shard(index: 2, count: 4))
        #expect(
            try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "0", "HALAB_SHARDS": "6"]) == Shard(index: 1, count: 6))
        #expect(throws: HALabError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "0"]) }
        #expect(try Shard.fromEnvironment([:]) == nil)
    }

    static func report(_ shard: Shard, rows: [Int], agrees: Bool = true, hash: String = "abc") -> AllPairsRun.Report {
        AllPairsRun.Report(
            lab: "mb", backend: "namespaces", parallel: 2, seconds: 10,
            rows: rows.map { index in
                var row = AllPairsRun.Row(
                    index: index, failures: ["kill n\(index)"], predicted: ["10.33.1.100": ["n2"]])
                row.error = agrees ? nil : "it did not come up"
                return row
            }, shard: shard, tableRows: 6, labHash: hash, faults: [.kill])
    }

    /// Where the merge test writes its reports; removed after it.
    static let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "halab-merge-\(UUID().uuidString)"
    ).path

    static func write(_ reports: [AllPairsRun.Report]) throws -> [String] {
        let folder = "\(Self.folder)/\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try reports.enumerated().map { index, report in
            let file = "\(folder)/shard-\(index).json"
            try JSONEncoder().encode(report).write(to: URL(fileURLWithPath: file))
            return file
        }
    }

    @Test func shardsMergeIntoTheWholeTableAndOnlyThen() throws {
        defer { try? FileManager.default.removeItem(atPath: Self.folder) }
        let a = Self.report(Shard(index: 1, count: 2), rows: [0, 2, 4]),
            b = Self.report(Shard(index: 2, count: 2), rows: [1, 3, 5])
        guard case .allPairs(let merged) = try ReportMerge.merge(try Self.write([b, a])) else {
            Issue.record("not all-pairs"); return
        }
        #expect(merged.rows.map(\.index) == [0, 1, 2, 3, 4, 5] && merged.shard == .whole && merged.passed)
        let failing = try ReportMerge.merge(
            try Self.write([a, Self.report(Shard(index: 2, count: 2), rows: [1, 3, 5], agrees: false)]))
        #expect(
            !failing.passed && failing.html().contains("DISAGREES: it did not come up")
                && failing.junit().contains("failures=\"3\""))
        // A shard missing, or twice; another lab folder; rows missing.
        let missing = #expect(throws: HALabError.self) { try ReportMerge.merge(try Self.write([a])) }
        #expect(missing?.description == "shard 2/2 is missing")
        let twice = #expect(throws: HALabError.self) { try ReportMerge.merge(try Self.write([a, a, b])) }
        #expect(twice?.description.hasPrefix("shard 1/2 is there twice") == true)
        let other = #expect(throws: HALabError.self) {
            try ReportMerge.merge(
                try Self.write([a, Self.report(Shard(index: 2, count: 2), rows: [1, 3, 5], hash: "def")]))
        }
        #expect(other?.description.contains("are of different runs") == true)
        let short = #expect(throws: HALabError.self) {
            try ReportMerge.merge(try Self.write([a, Self.report(Shard(index: 2, count: 2), rows: [1, 3])]))
        }
        #expect(short?.description.contains("not each once") == true)
    }

    /// The lab folder's content hash: the same for a copy, another after any change.
    @Test func aLabFoldersHashFollowsItsContent() throws {
        let folder = try E2E.copy("master-backup", as: "hash")
        defer { E2E.removeCopy(folder) }
        let original = try VRRPModelTests.lab("master-backup").contentHash
        #expect(try Lab.load(folder: folder).contentHash == original)
        try "steps: []\n".write(toFile: "\(folder)/scenario.yaml", atomically: true, encoding: .utf8)
        #expect(try Lab.load(folder: folder).contentHash != original)
    }
}

/// The CI files in examples/ci: they parse, and every halab command they run parses with halab's
/// own parser (scripts/test-package runs them, as written, in a clean Debian root).
struct ExampleCITests {
    static let folder = URL(fileURLWithPath: KeepalivedConfigTests.labs).deletingLastPathComponent()
        .appendingPathComponent("examples/ci").path
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
        $0.hasSuffix(".yml")
    }.sorted()

    @Test(arguments: files) func aCIFileParsesAndRunsRealCommands(file: String) throws {
        let text = try String(contentsOfFile: "\(Self.folder)/\(file)", encoding: .utf8)
            .replacingOccurrences(of: "${{ matrix.shard }}", with: "1")
        let documents = try Yams.load_all(yaml: text).compactMap { $0 }
        let lines = CommandLines.halab(in: documents.flatMap { Self.commands($0) }).map {
            $0.replacingOccurrences(of: "sudo ", with: "")
        }
        #expect(!lines.isEmpty)
        for line in lines {
            let problems = CommandLines.problems(line)
            #expect(problems.isEmpty, "\(file): \(line): \(problems)")
        }
    }

    @Test func thereAreFourExamples() { #expect(Self.files.count == 4) }

    /// The shell a CI file runs: GitHub's `run`, GitLab's `script` and `before_script`, a container's `args`.
    static func commands(_ value: Any, shell: Bool = false) -> [String] {
        switch value {
        case let text as String: shell ? [text] : []
        case let list as [Any]: list.flatMap { commands($0, shell: shell) }
        case let map as [String: Any]:
            map.flatMap {
                commands($0.value, shell: shell || ["run", "script", "before_script", "args"].contains($0.key))
            }
        default: []
        }
    }
}
