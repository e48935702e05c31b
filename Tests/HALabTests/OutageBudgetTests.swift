import Foundation
import Testing
@testable import HALab
@testable import HALabModel
@testable import HALabSystem

/// Outage budgets: a step's `max-outage` judged on the probe's record, `verify --max-outage`,
/// and check's worst case per row of its failure table (`check --max-outage`).
@Suite struct OutageBudgetTests {
    static func measured(_ pattern: @escaping (Double) -> String) -> OutageMeasurement {
        OutageMeasurement.measure(
            OutageTests.history(seconds: 10, pattern), address: "10.33.1.100", faultAt: 1002, until: 1010,
            expected: "nginx-2", bound: 3.648)
    }

    @Test func anOutageLongerThanTheBudgetIsSaidWithTheBudgetAndTheBound() {
        let crash = Self.measured { $0 < 2 ? "nginx-1" : $0 < 5.6 ? "timeout" : "nginx-2" }  // 3.611 s
        #expect(
            crash.overBudget(0.5)
                == "10.33.1.100: clients saw 3.611 s of outage, over the budget of 0.500 s (VRRP bound 3.648 s)")
        #expect(crash.overBudget(3.7) == nil)
        #expect(crash.overBudget(3.611) == nil)  // at the budget is within it
        let clean = Self.measured { $0 < 5 ? "nginx-1" : "nginx-2" }
        #expect(clean.overBudget(0.01) == nil)
        let never = Self.measured { $0 < 2 ? "nginx-1" : "refused" }
        #expect(never.overBudget(100)?.contains("no good answer after the action") == true)
    }

    @Test func aStepOverItsBudgetFailsAndSaysWhy() throws {
        var step = VerifyReport.StepResult(name: "kill nginx-1", action: "chaos kill nginx-1")
        step.outages = [Self.measured { $0 < 2 ? "nginx-1" : $0 < 5.6 ? "timeout" : "nginx-2" }]
        var report = VerifyReport(lab: "mb", backend: "namespaces", seconds: 5, steps: [step, step])
        let scenario = Scenario(steps: [
            Scenario.Step(
                name: "kill nginx-1", action: .chaos(.kill(node: "nginx-1")), expected: .model, maxOutage: 0.5),
            Scenario.Step(name: "kill nginx-1", action: .chaos(.kill(node: "nginx-1")), expected: .model)
        ])
        Verifier.judgeBudgets(&report, scenario: scenario) { _ in }
        #expect(!report.steps[0].passed && report.steps[0].overBudget.count == 1)
        #expect(report.steps[1].passed)  // no budget, no judgement
        #expect(JUnitReport.xml(report).contains("OVER BUDGET: 10.33.1.100: clients saw 3.611 s of outage"))
    }

    @Test func maxOutageIsReadFromAStep() throws {
        let folder = try E2E.copy("master-backup", as: "budget")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        func load(_ text: String) throws -> Scenario { try E2E.scenario(text, of: lab, in: folder) }
        #expect(
            try load("steps:\n  - { name: crash, chaos: kill nginx-1, expect: model, max-outage: 0.5 }\n").steps[0]
                .maxOutage == 0.5)
        for bad in ["max-outage: -1", "max-outage: soon", "max-outage: .inf"] {
            #expect(throws: HALabError.self) {
                try load("steps:\n  - { name: crash, chaos: kill nginx-1, expect: model, \(bad) }\n")
            }
        }
        let noAction = #expect(throws: HALabError.self) {
            try load("steps:\n  - { name: healthy, expect: model, max-outage: 0.5 }\n")
        }
        #expect(noAction?.description.contains("s.yaml:2: max-outage judges the outage after a step's action") == true)
    }

    static func row(_ table: [ConfigCheck.Row], _ failures: String...) -> ConfigCheck.Row? {
        table.first { $0.failures == failures }
    }

    /// The worst case per row: a move costs its bound, no move nothing, no holder that serves
    /// until a mend; a budget marks the rows over it.
    @Test func checksWorstCasePerRowAndTheBudgetsMarks() throws {
        let document = ConfigCheck.failureTable(try VRRPModelTests.lab("master-backup").vrrpModel())
        let crash = try #require(Self.row(document, "kill nginx-1"))
        #expect(crash.worstOutage == .seconds(crash.bound) && crash.bound > 3 && crash.bound < 4)
        #expect(Self.row(document, "kill nginx-2")?.worstOutage == .seconds(0))  // the backup: nothing moves
        #expect(Self.row(document, "hang nginx nginx-1")?.worstOutage == .untilMended)  // pidof sees no hang
        #expect(Self.row(document, "kill nginx-1", "kill nginx-2")?.worstOutage == .untilMended)
        // A pair whose first failure moves the VIP and whose second moves nothing: the move counts.
        let three = ConfigCheck.failureTable(try VRRPModelTests.lab("three-node").vrrpModel())
        let move = try #require(Self.row(three, "stop nginx nginx-1")?.worstOutage)
        #expect(move != .seconds(0) && Self.row(three, "stop nginx nginx-1", "kill nginx-3")?.worstOutage == move)

        let fast = ConfigCheck.failureTable(try VRRPModelTests.lab("fast-failover").vrrpModel())
        let fastCrash = try #require(Self.row(fast, "kill nginx-1"))
        guard case .seconds(let seconds) = fastCrash.worstOutage else {
            Issue.record("\(fastCrash.worstOutage)"); return
        }
        #expect(seconds > 0.3 && seconds < 0.5)  // 3 × 0.1 s + skew, one advert
        let report = ConfigCheck.Report(lab: "fast-failover", findings: [], rows: fast).judged(budget: 0.5)
        #expect(report.failed)  // a row over the budget fails check
        #expect(Self.row(report.rows, "kill nginx-1")?.overBudget == false)
        #expect(Self.row(report.rows, "stop nginx nginx-1")?.overBudget == true)  // the check runs once a second
        #expect(Self.row(report.rows, "kill nginx-2")?.overBudget == false)
        #expect(
            report.text().contains("OVER BUDGET: up to 1.")
                && report.text().contains("rows may cut clients off longer than the budget of 0.50 s"))
        // without a budget: no outage row
        #expect(!ConfigCheck.Report(lab: "fast-failover", findings: [], rows: fast).failed)
        #expect(ConfigCheck.WorstOutage.unknown.exceeds(0) == false)
    }
}

/// Two backups whose timers run out close together may both take over for a moment (seen live:
/// three-node, 39 ms apart, a stale ARP entry after): the model says where that may happen.
@Suite struct TakeoverRaceTests {
    static func races(_ model: VRRPModel, after event: VRRPModel.Event) -> Set<String> {
        var after = model
        after.apply(event)
        return after.takeoverRaces(from: model)
    }

    @Test func backupsCloseInPriorityRace() throws {
        let three = try VRRPModelTests.lab("three-node").vrrpModel()
        // 90 and 80 over nginx-1's 70
        #expect(Self.races(three, after: .stopService("nginx", node: "nginx-1")) == ["10.33.1.100"])
        let document = try VRRPModelTests.lab("master-backup").vrrpModel()
        // one backup: nobody to race
        #expect(Self.races(document, after: .stopService("nginx", node: "nginx-1")).isEmpty)
        #expect(Self.races(document, after: .crash(node: "nginx-2")).isEmpty)  // no new master
    }

    @Test func aRivalHeldBackOrFarBehindDoesNotRace() {
        // n1 falls to 70: n3 at 40 still hears n1's adverts above its own.
        #expect(Self.races(VRRPModelTests.model([100, 90, 40]), after: .stopService("nginx", node: "n1")).isEmpty)
        // n1 falls to 85 and n2 (90) preempts it; n3 at 84 is 23 ms behind n2, but n1's adverts (85) hold it back.
        #expect(
            Self.races(VRRPModelTests.model([100, 90, 84], weight: -15), after: .stopService("nginx", node: "n1"))
                .isEmpty)
        // n1 falls to 40: n3 at 50 runs out 156 ms after n2 (90): its advert is there first.
        #expect(
            Self.races(VRRPModelTests.model([100, 90, 50], weight: -60), after: .stopService("nginx", node: "n1"))
                .isEmpty)
        // n3 at 70, 78 ms behind n2: a race.
        #expect(
            Self.races(VRRPModelTests.model([100, 90, 70], weight: -60), after: .stopService("nginx", node: "n1")) == [
                "10.33.1.100"
            ])
        // A crashed master sends nothing: both backups' timers run.
        #expect(Self.races(VRRPModelTests.model([100, 90, 80]), after: .crash(node: "n1")) == ["10.33.1.100"])
    }
}

@Suite struct ReportPageTests {
    @Test func aCaptureIsLinkedFromThePage() {
        #expect(HTMLReport.relative("/ci/captures/mb-lan.pcap", to: "/ci/reports") == "../captures/mb-lan.pcap")
        #expect(HTMLReport.relative("/ci/reports/mb-lan.pcap", to: "/ci/reports") == "mb-lan.pcap")
        #expect(
            HTMLReport.relative("/ci/captures/vm/mb-lan.pcap", to: "/ci/reports/vm") == "../../captures/vm/mb-lan.pcap")
    }

    /// `verify --report reports` in a fresh checkout: the folder is made (a CI run once failed there).
    @Test func thePageIsWrittenIntoAFolderNotYetMade() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("halab-page-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let folder = scratch.appendingPathComponent("reports").path
        let report = VerifyReport(lab: "master-backup", backend: "namespaces", seconds: 1, steps: [])
        let evidence = RunEvidence(lab: try VRRPModelTests.lab("master-backup"), report: report, timeline: nil)
        try await HTMLReport(folder: folder).write(evidence) { _ in }
        let page = try String(contentsOfFile: "\(folder)/master-backup.report.html", encoding: .utf8)
        #expect(page.contains("<h1>master-backup: 0 passed, 0 failed</h1>"))
    }
}
