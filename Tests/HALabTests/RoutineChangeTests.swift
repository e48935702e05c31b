import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// Routine change: a restart and a reload, as chaos words and as the model follows them.
@Suite struct RoutineChangeTests {
    @Test func restartAndReloadAreChaosWords() throws {
        let restart = try ChaosAction.parse(["restart", "keepalived", "nginx-1"])
        #expect(restart == .restartService("keepalived", node: "nginx-1") && restart.description == "restart keepalived nginx-1")
        #expect(restart.modelEvents(nodes: []) == [.stopService("keepalived", node: "nginx-1"), .startService("keepalived", node: "nginx-1")])
        let reload = try ChaosAction.parse(["reload", "nginx-1"])
        #expect(reload == .reload(node: "nginx-1") && reload.description == "reload nginx-1" && reload.modelEvents(nodes: []) == [])
        #expect(!restart.injures && !reload.injures)
        #expect(throws: HALabError.self) { try ChaosAction.parse(["reload"]) }
    }

    /// A restart of the master's keepalived ends where it began: the VIP back on nginx-1 (its
    /// priority-0 advert on leaving makes nginx-2 take over after Skew_Time only).
    @Test func aRestartOfTheMastersKeepalivedEndsWhereItBegan() throws {
        var model = try VRRPModelTests.lab("master-backup").vrrpModel()
        for event in try ChaosAction.parse(["restart", "keepalived", "nginx-1"]).modelEvents(nodes: [])! { model.apply(event) }
        #expect(model.holders(of: "10.33.1.100") == ["nginx-1"])
    }

    @Test func theNodesRCServiceReloads() {
        #expect(NodeFiles.rcServiceActions.contains("reload)") && NodeFiles.rcServiceActions.contains("kill -HUP $(pids)"))
    }
}
