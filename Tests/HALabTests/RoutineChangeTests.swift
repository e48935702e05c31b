import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// Routine change: a restart and a reload, as chaos words and as the model follows them.
@Suite struct RoutineChangeTests {
    @Test func restartAndReloadAreChaosWords() throws {
        let restart = try Fault.parse(["restart", "keepalived", "nginx-1"])
        #expect(
            restart == .restartService("keepalived", node: "nginx-1")
                && restart.description == "restart keepalived nginx-1")
        #expect(
            restart.events(nodes: []) == [
                .stopService("keepalived", node: "nginx-1"), .startService("keepalived", node: "nginx-1")
            ])
        let reload = try Fault.parse(["reload", "nginx-1"])
        #expect(
            reload == .reload(node: "nginx-1") && reload.description == "reload nginx-1"
                && reload.events(nodes: []) == [])
        #expect(restart.lifetime == .overWhenDone && reload.lifetime == .overWhenDone)
        #expect(throws: Fault.WordsError.self) { try Fault.parse(["reload"]) }
    }

    /// A restart of the master's keepalived ends where it began: the VIP back on nginx-1 (its
    /// priority-0 advert on leaving makes nginx-2 take over after Skew_Time only).
    @Test func aRestartOfTheMastersKeepalivedEndsWhereItBegan() throws {
        var model = try VRRPModelTests.lab("master-backup").vrrpModel()
        for event in try Fault.parse(["restart", "keepalived", "nginx-1"]).events(nodes: []) { model.apply(event) }
        #expect(model.holders(of: "10.33.1.100") == ["nginx-1"])
    }

    /// A restart of keepalived is a row of check's table (`--faults restart`): the document's
    /// design ends where it began, a nopreempt one leaves the VIP on the backup (both measured
    /// with all-pairs). Its worst case is the backup's Skew_Time (measured 0.67 s): taking the
    /// VIP back preempts a backup that serves, which hands over at once. Where nobody held the
    /// VIP meanwhile, the whole Master_Down_Interval counts.
    @Test func aRestartIsARowOfTheTableAndCostsTheHandOver() throws {
        let model = try VRRPModelTests.lab("master-backup").vrrpModel()
        let failures = ConfigCheck.failures(model, kinds: [.restart])
        #expect(
            failures.map(\.description) == ["restart keepalived nginx-1", "restart keepalived nginx-2"]
                && failures.allSatisfy { $0.mend == nil })
        let rows = ConfigCheck.failureTable(model, kinds: [.restart, .kill])
        let restart = try #require(rows.first { $0.failures == ["restart keepalived nginx-1"] })
        #expect(restart.holders["10.33.1.100"] == ["nginx-1"])
        #expect(restart.worstOutage == .seconds(166.0 / 256))
        let alone = try #require(rows.first { $0.failures == ["kill nginx-2", "restart keepalived nginx-1"] })
        #expect(alone.worstOutage == .seconds(3 + 156.0 / 256))

        let nopreempt = VRRPModelTests.model([100, 90], preempt: [false, false])
        let moved = try #require(
            ConfigCheck.failureTable(nopreempt, kinds: [.restart]).first { $0.failures == ["restart keepalived n1"] })
        #expect(moved.holders["10.33.1.100"] == ["n2"])
    }

    /// explore draws restarts too, over when done: never a mend, never a link put back up.
    @Test func exploreDrawsRestarts() throws {
        let lab = try VRRPModelTests.lab("master-backup")
        let schedule = FaultSchedule(lab: lab, seed: 3, steps: 6, faults: [.restart])
        #expect(schedule.actions.count == 6 && schedule.isValid)
        #expect(schedule.actions.allSatisfy { if case .restartService("keepalived", _) = $0 { true } else { false } })
    }

    @Test func theNodesRCServiceReloads() {
        #expect(
            NodeFiles.rcServiceActions.contains("reload)") && NodeFiles.rcServiceActions.contains("kill -HUP $(pids)"))
    }
}
