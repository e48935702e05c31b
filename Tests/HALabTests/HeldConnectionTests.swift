import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
import HALabSystem

/// Connections held open across a step (`connections:`): what the probe's record says became of
/// them, what the model says will, and the scenario's word for it.
@Suite struct HeldConnectionTests {
    static let vip = "10.33.1.100"

    /// A held connection's record: answers every 0.1 s from 0 to `until`, then `last` if given.
    static func record(until: Double, last: (at: Double, answer: String)? = nil) -> [ProbeSample] {
        stride(from: 0.0, to: until, by: 0.1).map {
            ProbeSample(start: $0, end: $0 + 0.001, address: vip, status: 200, answer: "nginx-1")
        }
            + (last.map { [ProbeSample(start: $0.at, end: $0.at + 0.01, address: vip, status: 0, answer: $0.answer)] }
                ?? [])
    }

    static func judge(_ samples: [ProbeSample], expected: ConnectionFate? = nil, predicted: ConnectionFate? = nil)
        -> HeldConnectionResult
    {
        HeldConnectionResult.judge(
            samples, address: vip, actionAt: 0.5, expected: expected, predicted: predicted, judgedByModel: true)
    }

    @Test func aConnectionsFateIsItsLastRequests() {
        let survived = Self.judge(Self.record(until: 3), expected: .survive, predicted: .survive)
        #expect(survived.seen == .survived && survived.answers == 30 && survived.endedAfter == nil && survived.passed)
        let reset = Self.judge(Self.record(until: 1, last: (4.2, "reset")), expected: .break)
        #expect(reset.seen == .reset && reset.passed)
        #expect(abs((reset.endedAfter ?? 0) - 3.71) < 1e-9)
        #expect(
            reset.summary.hasPrefix(
                "connection to 10.33.1.100 reset 3.71 s after the action (10 answers, the slowest after the action in "
                    + "0.00 s)"))
        // One that lives on through a stall: its slowest answer after the action says how long.
        var stalledThrough = Self.record(until: 0.6)
        stalledThrough.append(ProbeSample(start: 0.6, end: 3.8, address: Self.vip, status: 200, answer: "web"))
        let lived = Self.judge(stalledThrough, expected: .survive)
        #expect(lived.seen == .survived && abs((lived.slowest ?? 0) - 3.2) < 1e-9, "\(lived)")
        #expect(lived.summary.contains("(7 answers, the slowest after the action in 3.20 s)"), "\(lived.summary)")
        #expect(Self.judge(Self.record(until: 0.4)).slowest == nil)
        #expect(Self.judge(Self.record(until: 1, last: (0.6, "closed"))).seen == .closed)
        // A request neither answered nor reset by the end: stalled, from when it was sent.
        let stalled = Self.judge(Self.record(until: 1, last: (1.5, "pending")))
        #expect(stalled.seen == .stalled && stalled.endedAfter == 1.0 && stalled.seen.fate == .break)
        #expect(Self.judge(Self.record(until: 1, last: (1.5, "error"))).seen == .failed)
        // No answer before the action: nothing was held, and nothing passes.
        let late = Self.record(until: 2).filter { $0.start > 0.6 }
        #expect(Self.judge(late).seen == .notOpened && !Self.judge(late, expected: .survive).passed)
        #expect(!Self.judge(late, predicted: .break).passed && Self.judge(late).passed)
        #expect(Self.judge([]).seen == .notOpened)
        // An answer with another status is an answer: the connection lives.
        var odd = Self.record(until: 1)
        odd.append(ProbeSample(start: 1, end: 1.01, address: Self.vip, status: 503, answer: "-"))
        #expect(Self.judge(odd).seen == .survived)
    }

    @Test func aStepPassesWhereTheFateIsTheExpectedOneAndTheModelsWord() {
        let broke = Self.record(until: 1, last: (2, "reset"))
        #expect(!Self.judge(broke, expected: .survive).passed)
        #expect(Self.judge(broke, expected: .break, predicted: .break).passed)
        // The model's word is judged where the step expects the model, and an unknown passes.
        #expect(!Self.judge(broke, predicted: .survive).passed)
        #expect(Self.judge(broke, predicted: nil).passed)
        let unjudged = HeldConnectionResult.judge(
            broke, address: Self.vip, actionAt: 0.5, expected: nil, predicted: .survive, judgedByModel: false)
        #expect(unjudged.passed)
    }

    /// The document's pair: what the model says of a connection held to the VIP on nginx-1.
    @Test(arguments: [
        (Fault.reload(node: "nginx-1"), ConnectionFate?.some(.survive)),
        (.reload(node: "nginx-2"), .survive), (.kill(node: "nginx-2"), .survive),
        (.link(node: "nginx-2", interface: nil, up: false, atNode: false), .survive),
        (.stopService("nginx", node: "nginx-2"), .survive),
        (.kill(node: "nginx-1"), .break), (.link(node: "nginx-1", interface: nil, up: false, atNode: false), .break),
        (.stopService("nginx", node: "nginx-1"), .break),
        // The VIP stays on a holder its check cannot see frozen: a stall or a reset, the model cannot say.
        (.hangService("nginx", node: "nginx-1"), nil),
        // Over to nginx-2 and back: whether a request went to nginx-2 meanwhile is the client's.
        (.restartService("keepalived", node: "nginx-1"), nil),
        (.loss(node: "nginx-1", percent: 10), nil),
        // The switch lost: both nodes' links are down, keepalived takes the VIP off, nothing reaches it.
        (.switchPower(segment: "lan", on: false), .break),
        (.kill(node: "client"), nil)
    ])
    func theModelSaysWhatBecomesOfAHeldConnection(fault: Fault, fate: ConnectionFate?) throws {
        let lab = try VRRPModelTests.lab("master-backup")
        let before = VRRPWorlds(lab.vrrpModel())
        #expect(before.holders(of: Self.vip) == ["nginx-1"])
        var after = before
        var moved = false
        for event in fault.events(nodes: lab.topology.nodes.map(\.name)) {
            let previous = after
            _ = after.apply(event)
            moved = moved || after.holders(of: Self.vip) != previous.holders(of: Self.vip)
        }
        #expect(
            after.heldConnectionFate(of: Self.vip, before: before, moved: moved, action: fault, client: "client")
                == fate, "\(fault)")
    }

    @Test func aStepWithoutActionKeepsItsConnections() throws {
        let worlds = VRRPWorlds(try VRRPModelTests.lab("master-backup").vrrpModel())
        // A VIP that moved on the way and is back: whether the connection lived is the client's ARP cache's.
        #expect(worlds.heldConnectionFate(of: Self.vip, before: worlds, moved: true, action: nil, client: nil) == nil)
        // A heal of every node touches no node in particular: the model does not say.
        #expect(
            worlds.heldConnectionFate(of: Self.vip, before: worlds, moved: false, action: .heal(node: nil), client: nil)
                == nil)
        #expect(
            worlds.heldConnectionFate(of: Self.vip, before: worlds, moved: false, action: nil, client: nil) == .survive)
    }

    /// A connection to a holder that did not serve it (nginx frozen where pidof cannot see) had
    /// nothing to break when the VIP then moves.
    @Test func aConnectionToAHolderThatCannotServeHasNoFate() throws {
        let lab = try VRRPModelTests.lab("master-backup")
        var before = VRRPWorlds(lab.vrrpModel())
        for event in Fault.hangService("nginx", node: "nginx-1").events(nodes: ["nginx-1", "nginx-2"]) {
            _ = before.apply(event)
        }
        #expect(before.holders(of: Self.vip) == ["nginx-1"])
        var after = before
        for event in Fault.kill(node: "nginx-1").events(nodes: ["nginx-1", "nginx-2"]) { _ = after.apply(event) }
        #expect(after.holders(of: Self.vip) == ["nginx-2"])
        #expect(
            after.heldConnectionFate(
                of: Self.vip, before: before, moved: true, action: .kill(node: "nginx-1"), client: nil) == nil)
        // Nor when the backup crashes and the VIP stays on the frozen nginx.
        var backupDown = before
        for event in Fault.kill(node: "nginx-2").events(nodes: ["nginx-1", "nginx-2"]) { _ = backupDown.apply(event) }
        #expect(backupDown.holders(of: Self.vip) == ["nginx-1"])
        #expect(
            backupDown.heldConnectionFate(
                of: Self.vip, before: before, moved: false, action: .kill(node: "nginx-2"), client: nil) == nil)
    }

    /// check's table: each row's connection, and one broken by the first failure stays broken.
    @Test func checksTableSaysWhatBecomesOfTheConnections() throws {
        let rows = ConfigCheck.failureTable(try VRRPModelTests.lab("master-backup").vrrpModel())
        let fate = { (failures: [String]) in rows.first { $0.failures == failures }.map { $0.connections[Self.vip] } }
        #expect(fate(["kill nginx-1"]) == .some(.break))
        #expect(fate(["kill nginx-2"]) == .some(.survive))
        #expect(fate(["hang nginx nginx-1"]) == .some(nil))
        #expect(fate(["kill nginx-1", "refuse nginx nginx-2"]) == .some(.break))
        #expect(fate(["kill nginx-2", "kill nginx-1"]) == .some(.break))
        let text = ConfigCheck.Report(lab: "master-backup", findings: [], rows: rows).text()
        #expect(text.contains("  kill nginx-1          10.33.1.100 → nginx-2  break        ok"), "\(text)")
        #expect(text.contains("  hang nginx nginx-1    10.33.1.100 → nginx-1  unknown      OUTAGE"))
    }

    @Test func aScenarioReadsWhatBecomesOfItsConnections() throws {
        let folder = try E2E.copy("master-backup", as: "connections")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        func load(_ text: String) throws -> Scenario { try E2E.scenario(text, of: lab, in: folder) }
        let scenario = try load(
            "steps:\n  - { name: crash, chaos: kill nginx-1, connections: break }\n  - { name: calm, expect: model }\n")
        #expect(scenario.steps.map(\.connections) == [.break, nil] && !scenario.stream)
        #expect(try load("stream: true\nsteps:\n  - { name: calm, expect: model }\n").stream)
        let bad = #expect(throws: HALabError.self) {
            try load("steps:\n  - { name: crash, chaos: kill nginx-1, connections: maybe }\n")
        }
        #expect(bad?.description.contains("s.yaml:2: connections is what becomes of a connection") == true)
    }

    /// On the fake, a connection lives in its first answerer: the verifier holds one across each
    /// step that asks, and judges it by the scenario and by the model.
    @Test func verifyHoldsConnectionsAcrossTheStepsThatAsk() async throws {
        let lab = try ScenarioEngineTests.masterBackup(
            scenario: """
                steps:
                  - { name: the backup crashes, chaos: kill nginx-2, expect: model, connections: survive }
                  - { name: the backup boots, chaos: revive nginx-2, expect: model }
                  - { name: the master crashes, chaos: kill nginx-1, expect: model, connections: survive }
                """)
        let report = try await Verifier.run(LabSession(lab: lab, backend: FakeBackend.following(lab))) { _ in }
        #expect(report.steps.map(\.connections.count) == [1, 0, 1])
        #expect(report.steps[0].connections.first?.seen == .survived && report.steps[0].passed)
        let crash = try #require(report.steps[2].connections.first)
        #expect(crash.seen == .reset && crash.predicted == .break && !crash.passed && !report.steps[2].passed)
        #expect(JUnitReport.xml(report).contains("connection to 10.33.1.100 reset"))
    }
}
