import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel

/// explore's schedules, their shrinking and their files, without a lab running.
@Suite struct ExploreTests {
    static let lab = try! Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup")

    @Test func theSameSeedGivesTheSameSchedule() {
        let first = FaultSchedule(lab: Self.lab, seed: 7, steps: 6, faults: Fault.Kind.allCases)
        #expect(first == FaultSchedule(lab: Self.lab, seed: 7, steps: 6, faults: Fault.Kind.allCases))
        #expect(first.actions.count == 6)
        let others = (8..<18).map { FaultSchedule(lab: Self.lab, seed: $0, steps: 6, faults: Fault.Kind.allCases) }
        #expect(Set(others.map { $0.actions.map(\.description) }).count > 5)
    }

    /// Every schedule is one a lab can run: a fault only on a node without one, a mend only
    /// of a fault in force, only the faults asked for, on the servers.
    @Test(arguments: 1...40 as ClosedRange<UInt64>)
    func schedulesAreRunnable(seed: UInt64) throws {
        let kinds: [Fault.Kind] = seed % 2 == 0 ? Fault.Kind.allCases : [.stop, .kill]
        let schedule = FaultSchedule(lab: Self.lab, seed: seed, steps: 8, faults: kinds)
        var injured: [String: Fault] = [:]
        for action in schedule.actions {
            let healed = injured.filter { action.heals($0.value) }.map(\.key)
            if !healed.isEmpty {
                healed.forEach { injured[$0] = nil }
                continue
            }
            if case .link(let node, _, true, _) = action {
                Issue.record("link up \(node) with no link down before it"); continue
            }
            let node = try #require(action.nodes.first)
            #expect(["nginx-1", "nginx-2"].contains(node), "\(action)")
            #expect(injured[node] == nil, "\(action) on a node already failed: \(schedule.actions)")
            if case .partition = action {
                #expect(injured.isEmpty, "a partition among other faults: \(schedule.actions)")
            }
            #expect(
                !injured.values.contains { if case .partition = $0 { true } else { false } },
                "a fault during a partition: \(schedule.actions)")
            if case .restartService = action {  // over when done: no fault in force after it
                #expect(kinds.contains(.restart), "\(action)")
                continue
            }
            let kind: Fault.Kind =
                switch action {
                case .stopService: .stop
                case .kill: .kill
                case .link: .link
                case .blockMulticast: .block
                case .partition: .partition
                case .pause: .pause
                default: .loss
                }
            #expect(kinds.contains(kind) || (kind == .link && kinds.contains(.flap)), "\(action)")
            injured[node] = action
        }
    }

    @Test func theNemesisAimsAtTheMaster() {
        let firsts = (1...200 as ClosedRange<UInt64>).compactMap {
            FaultSchedule(lab: Self.lab, seed: $0, steps: 1, faults: [.kill]).actions.first
        }
        let atMaster = firsts.filter { $0 == .kill(node: "nginx-1") }.count
        // ½ aimed + ¼ by chance
        #expect(atMaster > 120 && atMaster < 190, "\(atMaster) of 200 first faults at the master")
    }

    @Test func droppingAFaultDropsItsMend() {
        let schedule = FaultSchedule(actions: [
            .kill(node: "nginx-1"), .stopService("nginx", node: "nginx-2"), .revive(node: "nginx-1"),
            .startService("nginx", node: "nginx-2")
        ])
        #expect(
            schedule.dropping(0).actions == [
                .stopService("nginx", node: "nginx-2"), .startService("nginx", node: "nginx-2")
            ])
        #expect(
            schedule.dropping(2).actions == [
                .kill(node: "nginx-1"), .stopService("nginx", node: "nginx-2"), .startService("nginx", node: "nginx-2")
            ])
    }

    @Test func aShrunkScheduleIsAScenarioVerifyRuns() throws {
        let schedule = FaultSchedule(actions: [
            .partition([["nginx-1"], ["nginx-2", "client"]]), .loss(node: "nginx-2", percent: 30),
            .heal(node: "nginx-2"), .heal(node: "nginx-1")
        ])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-explore-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try schedule.yaml(comment: "run 1\nhalab verify master-backup --scenario x").write(
            toFile: "\(folder)/s.yaml", atomically: true, encoding: .utf8)
        let scenario = try Self.lab.loadScenario("\(folder)/s.yaml")
        #expect(scenario.steps.map(\.action) == schedule.actions.map { .chaos($0) })
        // While loss is in force the model cannot follow: those steps expect nothing of it.
        #expect(scenario.steps.map { $0.expected == .model } == [true, false, true, true])
        #expect(scenario.steps[0].name == "1: partition nginx-1 / nginx-2,client")
    }

    @Test func theHistoryIsOneJSONObjectPerLineInTimeOrder() throws {
        var step = VerifyReport.StepResult(name: "1: kill nginx-1", action: "chaos kill nginx-1")
        step.at = 100
        step.checks = [
            .init(
                expected: .holders(vip: "10.33.1.100", nodes: ["nginx-2"]), seen: "nginx-2", passed: true,
                heldAfter: 3.6, deadline: 8)
        ]
        var report = VerifyReport(lab: "mb", backend: "namespaces", seconds: 5, steps: [step])
        report.samples = [
            ProbeSample(start: 99.5, end: 99.51, address: "10.33.1.100", status: 200, answer: "nginx-1"),
            ProbeSample(start: 101, end: 102, address: "10.33.1.100", status: 0, answer: "timeout")
        ]
        let lines = try History.lines(report).split(separator: "\n")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(objects.map { $0["kind"] as? String } == ["probe", "step", "probe", "check"])
        #expect(objects.map { $0["time"] as? Double } == [99.5, 100, 101, 103.6])
        #expect(objects[3]["detail"] as? String == "10.33.1.100 held by nginx-2; seen nginx-2")
    }
}

extension ExploreTests {
    /// Shrinking keeps only schedules a run could have drawn: no fault made twice, no mend of a
    /// fault not in force, nothing done to a node that is down but its revive.
    @Test func onlyValidSchedulesAreKept() {
        let valid: [[Fault]] = [
            [.kill(node: "n1"), .revive(node: "n1"), .kill(node: "n1")],
            [
                .stopService("nginx", node: "n1"), .loss(node: "n2", percent: 30), .startService("nginx", node: "n1"),
                .heal(node: "n2")
            ],
            [
                .link(node: "n1", interface: nil, up: false, atNode: false),
                .link(node: "n1", interface: nil, up: true, atNode: false)
            ],
            [.hangService("nginx", node: "n1"), .kill(node: "n1"), .revive(node: "n1")]
        ]
        let invalid: [[Fault]] = [
            // what a shrink once kept: kill; revive; kill with the revive dropped
            [.kill(node: "n1"), .kill(node: "n1")],
            [.revive(node: "n1")],
            [.startService("nginx", node: "n1")],
            [.kill(node: "n1"), .stopService("nginx", node: "n1")],
            [.pause(node: "n1"), .pause(node: "n1")],
            [.heal(node: "n2")]
        ]
        for actions in valid { #expect(FaultSchedule(actions: actions).isValid, "\(actions)") }
        for actions in invalid { #expect(!FaultSchedule(actions: actions).isValid, "\(actions)") }
        #expect(FaultSchedule(actions: valid[0]).dropping(1).isValid == false)
    }

    /// A smaller schedule is kept only if it fails the same way: the same kind of step, and the
    /// same invariant or expectation.
    @Test func aShrinkKeepsTheSameFailure() {
        let original = Explore.Failure(stepKind: "kill", what: "invariant holder-changes", description: "a")
        #expect(
            Explore.Failure(stepKind: "kill", what: "invariant holder-changes", description: "b").sameKind(as: original)
        )
        #expect(
            !Explore.Failure(stepKind: "kill", what: "action", description: "node is not running").sameKind(
                as: original))
        #expect(
            !Explore.Failure(stepKind: "stop", what: "invariant holder-changes", description: "a").sameKind(
                as: original))
    }
}
