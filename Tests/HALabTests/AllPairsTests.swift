import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// check's failure table as runs of live instances: the rows, the chaos they make, the report.
@Suite struct AllPairsTests {
    @Test(arguments: [
        VRRPModel.Event.stopService("nginx", node: "nginx-1"), .startService("nginx", node: "nginx-1"),
        .crash(node: "nginx-2"),
        .revive(node: "nginx-2"), .linkDown(node: "client"), .linkUp(node: "client"), .blockMulticast(node: "nginx-1"),
        .unblockMulticast(node: "nginx-1"), .partition([["nginx-1"], ["nginx-2", "client"]]), .pause(node: "nginx-1"),
        .resume(node: "nginx-1"), .heal(node: nil), .heal(node: "nginx-2"), .hangService("nginx", node: "nginx-1"),
        .resumeService("nginx", node: "nginx-1"), .refuseService("nginx", node: "nginx-2"),
        .acceptService("nginx", node: "nginx-2"),
        .switchDown(segment: "lan"), .switchUp(segment: "lan")
    ])
    func eachFailureIsMadeByTheChaosActionTheModelReadsBack(event: VRRPModel.Event) throws {
        let action = try Fault.parse(event.description.split(separator: " ").map(String.init))
        #expect(action.events(nodes: ["nginx-1", "nginx-2", "client"]) == [event])
    }

    @Test func rowsAreCheckTablesAndRunInInstancesOfTheirOwn() throws {
        let lab = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup")
        let run = AllPairsRun(lab: lab, backend: NamespaceBackend(initProgram: "/nonexistent"), parallel: 0)
        #expect(run.parallel == 1)
        #expect(
            run.sequences.map { $0.map(\.description) }
                == ConfigCheck.failureTable(lab.vrrpModel(), kinds: Fault.Kind.allPairsDefault).map(\.failures))
        #expect(run.sequences.count == 24)
        // Every kind, as --faults names them: each single failure's chaos reads back as its events.
        let every = AllPairsRun(
            lab: lab, backend: NamespaceBackend(initProgram: "/nonexistent"), parallel: 1,
            kinds: Set(Fault.Kind.allCases))
        for failure in every.sequences.filter({ $0.count == 1 }).map(\.[0]) {
            let action = try Fault.parse(failure.description.split(separator: " ").map(String.init))
            #expect(action == failure, "\(failure.description)")
        }
        #expect(run.instanceName(0) == "master-backup-r1")
        let instance = try lab.instance(named: run.instanceName(23))
        #expect(instance.name == "master-backup-r24" && instance.topology.name == "master-backup-r24")
        #expect(throws: HALabError.self) { try lab.instance(named: "Not_A_Name") }
    }

    @Test func theReportSaysWhichRowsDisagreeAndWhatWasSeen() {
        var agreeing = AllPairsRun.Row(failures: ["kill nginx-1"], predicted: ["10.33.1.100": ["nginx-2"]])
        agreeing.live = ["10.33.1.100": ["nginx-2"]]
        var step = VerifyReport.StepResult(name: "kill nginx-1", action: "chaos kill nginx-1")
        step.checks = [
            .init(
                expected: .holders(vip: "10.33.1.100", nodes: ["nginx-2"]), seen: "nginx-2", passed: true,
                heldAfter: 3.6, deadline: 8.7)
        ]
        agreeing.steps = [step]
        agreeing.memoryMiB = 8
        var disagreeing = AllPairsRun.Row(
            failures: ["stop nginx nginx-1", "stop nginx nginx-2"], predicted: ["10.33.1.100": ["nginx-1"]])
        disagreeing.live = ["10.33.1.100": ["nginx-1", "nginx-2"]]
        step.checks = [
            .init(
                expected: .holders(vip: "10.33.1.100", nodes: ["nginx-1"]), seen: "nginx-1, nginx-2", passed: false,
                heldAfter: 8.7, deadline: 8.7)
        ]
        disagreeing.steps = [step]
        disagreeing.memoryMiB = 10
        // An outage the model predicts too agrees; one it does not predict does not.
        var stranded = agreeing
        let outage = Violation(
            invariant: .answered, address: "10.33.1.100", from: 1, to: 2, nodes: ["nginx-2"], kind: .designOutage,
            evidence: "")
        stranded.steps[0].violations = [outage]
        #expect(stranded.agrees)
        stranded.steps[0].violations[0].kind = .modelMismatch
        #expect(!stranded.agrees)
        var broken = AllPairsRun.Row(failures: ["link down nginx-2"], predicted: ["10.33.1.100": []])
        broken.error = "master-backup-r6 did not come up"
        let report = AllPairsRun.Report(
            lab: "master-backup", backend: "namespaces", parallel: 2, seconds: 12,
            rows: [agreeing, disagreeing, broken, stranded])
        #expect(!report.passed)
        let text = report.text().split(separator: "\n").map(String.init)
        #expect(text[1].hasSuffix("model 10.33.1.100 → nginx-2       live 10.33.1.100 → nginx-2       agrees"))
        #expect(
            text[2].contains("stop nginx nginx-1, then stop nginx nginx-2")
                && text[2].contains("live 10.33.1.100 → nginx-1+nginx-2")
                && text[2].hasSuffix("DISAGREES"))
        #expect(text[3] == "      10.33.1.100 held by nginx-1: seen nginx-1, nginx-2")
        #expect(
            text[4].contains("model 10.33.1.100 → nobody") && text[4].contains("live -")
                && text[4].hasSuffix("DISAGREES"))
        #expect(text[5] == "      master-backup-r6 did not come up")
        // A row whose checks held disagrees by what broke: the invariant is named.
        #expect(text[6].hasSuffix("DISAGREES"))
        #expect(text[7] == "      kill nginx-1: invariant answered broken: \(stranded.steps[0].violations[0].summary)")
        #expect(
            text.last == "1 of 4 rows agree with the model; memory per instance: median 8.0 MiB (proportional set size)"
        )
        let junit = JUnitReport.xml(report.verifyReport)
        #expect(junit.contains("tests=\"4\"") && junit.contains("failures=\"3\""))
        #expect(
            report.verifyReport.steps.map(\.name) == [
                "kill nginx-1", "stop nginx nginx-1, then stop nginx nginx-2", "link down nginx-2", "kill nginx-1"
            ])
    }
}
