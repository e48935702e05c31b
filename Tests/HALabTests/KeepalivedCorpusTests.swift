import Foundation
import PropertyBased
import Testing
@testable import HALab
@testable import HALabModel

/// Real third-party configs, read from `../shared/corpus/keepalived` at test time, next to what
/// keepalived 2.2.7 itself said of each (`verdicts.jsonl`).
enum Corpus {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../../shared/corpus/keepalived"
    )
    .standardizedFileURL.path

    struct Verdict: Decodable {
        var file: String
        var keepalived_2_2_7_exit: Int
        var keepalived_messages: [String]

        /// The lines keepalived named in its messages (`line N: …`).
        var lines: Set<Int> {
            Set(
                keepalived_messages.compactMap { message in
                    message.hasPrefix("line ") ? Int(message.dropFirst(5).prefix { $0.isNumber }) : nil
                })
        }
    }

    static let verdicts: [Verdict] = {
        guard let text = try? String(contentsOfFile: "\(folder)/verdicts.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Verdict.self, from: Data($0.utf8)) }
    }()

    static var missing: Comment? {
        verdicts.isEmpty ? "skipped: no corpus at \(folder) (the workplace's shared/ folder)" : nil
    }

    /// The config as halab reads it.
    static func read(_ verdict: Verdict) -> KeepalivedNodeConfig {
        // A config id none of the files names, as on the machine the verdicts were taken on.
        KeepalivedNodeConfig.read(
            node: "corpus", file: "\(folder)/\(verdict.file)", source: .machine, configID: "corpus")
    }
}

@Suite(.enabled(if: Corpus.missing == nil, Corpus.missing ?? ""))
struct KeepalivedCorpusTests {
    @Test func everyFileIsReadAsKeepalivedReadsIt() throws {
        #expect(Corpus.verdicts.count == 105)
        var flagged = 0, reported = 0
        for verdict in Corpus.verdicts {
            let config = Corpus.read(verdict)
            let halabLines = Set(
                config.findings.filter { $0.severity != .info }.compactMap {
                    $0.location?.split(separator: ":").last.flatMap { Int($0) }
                })
            reported += verdict.lines.count
            flagged += verdict.lines.intersection(halabLines).count
            // What keepalived accepts (exit 0), with or without a word, halab reports no error in:
            // what keepalived goes on after is at most a warning. (With net_namespace set, keepalived
            // 2.2.7's test looks at no vrrp block at all, so its exit 0 accepts none: see CheckRun.
            // Where it does look, a vrrp_script without a script is an error to it too, exit 5.)
            if verdict.keepalived_2_2_7_exit == 0
                && !config.notModelled.contains(where: { $0.keyword == "net_namespace" })
            {
                #expect(
                    !config.findings.contains { $0.severity == .error },
                    "\(verdict.file): \(config.findings.filter { $0.severity == .error }.map(\.message))")
            }
        }
        // Most of what halab does not flag is about the machine keepalived ran on (interfaces,
        // the keepalived_script user) or inside blocks it does not model (virtual_server).
        print("corpus: of \(reported) lines keepalived 2.2.7 spoke of, halab flags \(flagged)")
        #expect(flagged * 5 >= reported)
    }

    @Test func itsSamplesHoldTheInstancesKeepalivedRuns() throws {
        let verdict = try #require(Corpus.verdicts.first { $0.file == "configs/doc-samples-keepalived.conf.vrrp" })
        let config = Corpus.read(verdict)
        #expect(config.instances.map(\.name) == ["VI_1", "VI_2", "VI_3", "VI_4"])
        #expect(config.instances.map(\.virtualRouterID) == [51, 50, 52, 53])
        #expect(config.instances.map(\.priority) == [100, 50, 100, 50])
    }
}

/// Nothing a file holds may trap: mutated configs and random bytes give a config and findings.
@Suite struct KeepalivedFuzzTests {
    /// How many inputs per property; CI runs a longer bounded fuzz with HALAB_FUZZ_COUNT.
    static let count = ProcessInfo.processInfo.environment["HALAB_FUZZ_COUNT"].flatMap { Int($0) } ?? 300

    static let seeds: [String] = {
        var seeds = ["master-backup/nginx-1", "dual-master/nginx-2", "three-node/nginx-3"].compactMap {
            try? String(
                contentsOfFile: "\(KeepalivedConfigTests.labs)/\($0)/etc/keepalived/keepalived.conf", encoding: .utf8)
        }
        seeds.append(
            """
            $P=100
            @node $Q=7
            ~SEQ(N, 1, 3) vrrp_instance V${N} { virtual_router_id ${N} priority $P virtual_ipaddress { 10.0.0.${N}/24 \
            } }
            vrrp_script s { script "/bin/true" weight -20 }
            """)
        return seeds
    }()

    /// Pieces that keepalived's grammar and its values react to.
    static let tokens = [
        "{", "}", "\"", "$", "${", "@", "@^", "\\", "\n", "#", "!", "~SEQ(X, 1, 2)", "~LST({X, Y}, {1, 2}, {3})",
        "~LST(X, ", "$P=", "include /nope/*",
        "99999999999999999999", "1e400", "nan", "-", "/", "0", "256", "weight 5000000000000000000", " ", "priority",
        "virtual_router_id", "track_script {", "advert_int 0.4", "::", "\u{0}", "\u{FFFD}"
    ]

    /// Checks what reading gave: keepalived's ranges hold for every instance, and the model and
    /// the failure table can be made from it.
    static func holds(_ config: KeepalivedNodeConfig) {
        for instance in config.instances {
            #expect((1...255).contains(instance.virtualRouterID) && (1...255).contains(instance.priority))
            #expect(instance.advertInterval > 0 && instance.advertInterval.isFinite)
            #expect(instance.trackedScripts.allSatisfy { (-253...253).contains($0.weight) && $0.interval > 0 })
        }
        let model = VRRPModel(
            nodes: [
                VRRPModel.Node(
                    name: config.node, services: ["nginx", "keepalived"], primaryAddress: 1, addresses: [],
                    segments: [:])
            ], instances: Array(config.instances.prefix(8)))
        _ = ConfigCheck.run(lab: "fuzz", configs: [config], model: model)
    }

    @Test func mutatedConfigsGiveAConfigOrFindingsNeverATrap() async {
        let edits = Gen.int(in: 0...Int.max).array(of: 3).array(of: 1...12)
        await propertyCheck(count: Self.count, input: Gen.int(in: 0...(Self.seeds.count - 1)), edits) { seed, edits in
            var text = Array(Self.seeds[seed])
            for edit in edits where !text.isEmpty {
                let (position, token) = (edit[1] % (text.count + 1), Array(Self.tokens[edit[2] % Self.tokens.count]))
                switch edit[0] % 3 {
                case 0: text.insert(contentsOf: token, at: position)
                case 1: text.removeSubrange(position..<min(text.count, position + token.count))
                default: text.replaceSubrange(position..<min(text.count, position + 1), with: token)
                }
            }
            Self.holds(KeepalivedNodeConfig.read(node: "node", file: "k.conf", source: .text(String(text))))
        }
    }

    @Test func randomBytesGiveAConfigOrFindingsNeverATrap() async {
        await propertyCheck(count: Self.count, input: Gen.int(in: 0...255).array(of: 0...600)) { bytes in
            let source = KeepalivedConfig.Source(read: { _ in bytes.map(UInt8.init) }, expand: { _, _ in [] })
            Self.holds(KeepalivedNodeConfig.read(node: "node", file: "k.conf", source: source))
        }
    }

    /// Nested sequences that would make more lines than any real config are read up to a bound, and said so.
    @Test(.timeLimit(.minutes(1))) func expansionIsBounded() {
        var reader = LineReader(source: .text("~SEQ(A,1,9)~SEQ(B,1,9)~SEQ(C,1,9) x\n"), configID: nil)
        reader.outputLimit = 500
        reader.read(file: "k.conf", depth: 0)
        #expect(reader.output.count == 500)
        #expect(reader.findings.map(\.message) == ["more than 500 lines once expanded: halab reads no further"])
        // Nested sequences of lines that make nothing (here dropped by `@`) are bounded by their
        // repetitions: a fuzz input of this shape once ran for minutes.
        var silent = LineReader(source: .text("~SEQ(A,1,9999)~SEQ(B,1,9999)~SEQ(C,1,9999) @nobody x\n"), configID: nil)
        silent.repetitionLimit = 5000
        silent.read(file: "k.conf", depth: 0)
        #expect(silent.output.isEmpty && silent.repetitions == 5000)
        #expect(
            silent.findings.map(\.message) == [
                "~SEQ repeats more than 5000 times in all once nested: halab reads no further"
            ])
        // Once exhausted, a sequence stops at once, even over the widest range (a CI fuzz run spun on one).
        var wide = LineReader(source: .text("~SEQ(A,0,1,9223372036854775806)~SEQ(B,1,10) @nobody x\n"), configID: nil)
        wide.repetitionLimit = 5000
        wide.read(file: "k.conf", depth: 0)
        #expect(wide.repetitions == 5000)
    }

    /// The values the issue found crashing halab, each now a finding.
    @Test func valuesThatOnceTrappedAreFindings() {
        let config = KeepalivedNodeConfig.read(
            node: "n", file: "k.conf",
            source: .text(
                """
                vrrp_script a {
                    script "/bin/true"
                    weight 5000000000000000000
                }
                vrrp_script b {
                    script "/bin/true"
                    weight 5000000000000000000
                }
                vrrp_instance V {
                    priority 99999999999999999999
                    priority 1e400
                    virtual_router_id nan
                    virtual_router_id 9
                    track_script {
                        a
                        b
                    }
                    virtual_ipaddress {
                        /
                    }
                }
                """))
        Self.holds(config)
        #expect(
            config.findings.filter { $0.severity == .error }.compactMap(\.location) == [
                "k.conf:3", "k.conf:7", "k.conf:10", "k.conf:11", "k.conf:12", "k.conf:19"
            ])
        #expect(config.instances.first?.trackedScripts.map(\.weight) == [0, 0])
    }
}
