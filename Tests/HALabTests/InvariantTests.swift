import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// The invariants verify holds at every look, on made-up looks and probe records.
@Suite struct InvariantTests {
    static let vip = "10.33.1.100"
    static let macs = ["52:54:00:00:00:01": "n1", "52:54:00:00:00:02": "n2"]

    /// A step whose fault was in place at 100 s, with a 3 s bound (settled at 104 s with the
    /// client's grace), until 110 s; the model's holders before and after, and who can serve.
    static func step(
        before: [String] = ["n1"], after: [String] = ["n1"], servers: [String] = ["n1", "n2"],
        exempt: [String: Set<Invariant>] = [:]
    ) -> StepModel {
        StepModel(
            start: 100, end: 110, bound: 3, holdersBefore: [vip: before], holders: [vip: after],
            servers: [vip: servers], exempt: exempt)
    }

    /// A look every 0.25 s from 100 to 110 s: the holders and the client's entry by time.
    static func looks(_ holders: (Double) -> [String], entry: (Double) -> String? = { _ in nil }) -> [LabLook] {
        stride(from: 100.0, to: 110, by: 0.25).map { time in
            LabLook(time: time, holders: [vip: holders(time)], clientEntries: entry(time).map { [vip: $0] } ?? [:])
        }
    }

    /// The probe's record every 10 ms from 100 to 110 s; `failing` says when requests fail.
    static func samples(failing: (Double) -> Bool = { _ in false }, answer: String = "n1") -> [ProbeSample] {
        stride(from: 100.0, to: 110, by: 0.01).map { time in
            let failed = failing(time)
            return ProbeSample(
                start: time, end: time + 0.002, address: vip, status: failed ? 0 : 200,
                answer: failed ? "timeout" : answer)
        }
    }

    static func judge(_ step: StepModel, _ looks: [LabLook], _ samples: [ProbeSample] = samples()) -> [Violation] {
        Invariants.judge(step, looks: looks, samples: samples, macs: macs)
    }

    @Test func aSplitBrainOnceTheTimersAllowIsOne() throws {
        let split = Self.looks { $0 >= 105 && $0 < 108 ? ["n1", "n2"] : ["n1"] }
        let violation = try #require(Self.judge(Self.step(), split).first)
        #expect(violation.invariant == .singleHolder && violation.nodes == ["n1", "n2"])
        #expect(violation.from == 105 && violation.to == 107.75)
        #expect(
            violation.summary == "10.33.1.100 held by n1 and n2 at once for 2.75 s: split brain while adverts can flow")
        // Within the bound (a takeover's overlap), predicted by the model, or expected by the step: none.
        #expect(Self.judge(Self.step(), Self.looks { $0 < 103.9 ? ["n1", "n2"] : ["n1"] }).isEmpty)
        #expect(Self.judge(Self.step(after: ["n1", "n2"]), split).allSatisfy { $0.invariant != .singleHolder })
        #expect(Self.judge(Self.step(exempt: [Self.vip: [.singleHolder]]), split).isEmpty)
        #expect(Self.judge(Self.step(exempt: ["": [.singleHolder]]), split).isEmpty)
        // A slower backend's allowance widens the grace: a split ending by 106 s is then within it.
        var slower = Self.step()
        slower.grace = 4
        #expect(Self.judge(slower, Self.looks { $0 < 105.9 ? ["n1", "n2"] : ["n1"] }).isEmpty)
        #expect(!Self.judge(Self.step(), Self.looks { $0 < 105.9 ? ["n1", "n2"] : ["n1"] }).isEmpty)
    }

    @Test func anOutageIsTheDesignsOrTheModels() throws {
        let outage = Self.samples { $0 >= 106 && $0 < 107 }
        // The model has the VIP on n1, which cannot serve, while n2 could: the design strands it.
        let stranded = try #require(Self.judge(Self.step(servers: ["n2"]), Self.looks { _ in ["n1"] }, outage).first)
        #expect(
            stranded.invariant == .answered && stranded.kind == .designOutage && stranded.nodes == ["n2"]
                && stranded.isDesignOutage)
        #expect(abs(stranded.to - stranded.from - 0.992) < 1e-6)
        #expect(
            stranded.summary.hasPrefix(
                "10.33.1.100 not answered for 0.99 s while n2 could serve (design outage): 100 requests failed "
                    + "(timeout); held by n1"
            ))
        // The model has n1 answering: live disagrees.
        let mismatch = try #require(Self.judge(Self.step(), Self.looks { _ in ["n1"] }, outage).first)
        #expect(mismatch.kind == .modelMismatch && !mismatch.isDesignOutage)
        // Before the timers allow a move, nobody serving, or a step expecting failures: none.
        #expect(Self.judge(Self.step(), Self.looks { _ in ["n1"] }, Self.samples { $0 < 103.9 }).isEmpty)
        #expect(Self.judge(Self.step(servers: []), Self.looks { _ in ["n1"] }, outage).isEmpty)
        #expect(Self.judge(Self.step(exempt: [Self.vip: [.answered]]), Self.looks { _ in ["n1"] }, outage).isEmpty)
        // An HTTP error is an answer: the VIP reached a server (a balancer with no backend left says 503).
        let unavailable = outage.map { sample in
            var sample = sample
            if !sample.ok { (sample.status, sample.answer) = (503, "<html><body><h1>503") }
            return sample
        }
        #expect(Self.judge(Self.step(), Self.looks { _ in ["n1"] }, unavailable).isEmpty)
    }

    @Test func aClientEntryNamingAFormerHolderIsAStaleARPBlackhole() throws {
        let outage = Self.samples { $0 >= 104 && $0 < 109 }
        let looks = Self.looks({ _ in ["n1"] }, entry: { $0 < 109 ? "52:54:00:00:00:02" : "52:54:00:00:00:01" })
        let blackhole = try #require(Self.judge(Self.step(), looks, outage).first)
        #expect(blackhole.invariant == .staleARP && blackhole.nodes == ["n2", "n1"])
        #expect(
            blackhole.summary.hasPrefix(
                "10.33.1.100 blackholed for 4.99 s: the client's ARP entry names n2's MAC (52:54:00:00:00:02), which "
                    + "does not hold it; n1 does"
            ))
        #expect(blackhole.summary.contains("'vrrp_higher_prio_send_advert true'"))
        // The entry naming the holder: an outage of another cause.
        let right = Self.looks({ _ in ["n1"] }, entry: { _ in "52:54:00:00:00:01" })
        #expect(Self.judge(Self.step(), right, outage).map(\.invariant) == [.answered])
        // Nobody holding the VIP: no entry would help, so it is an outage, not a stale entry.
        let unheld = Self.looks({ _ in [] }, entry: { _ in "52:54:00:00:00:02" })
        #expect(Self.judge(Self.step(), unheld, outage).map(\.invariant) == [.answered])
    }

    /// A client behind a router: its failed requests are its own outage, and its router's entry
    /// (not the first client's) says whether a stale entry blackholes it.
    @Test func eachVantageIsJudgedByItsOwnRequestsAndItsFirstHopsEntry() throws {
        let vantage = "client-routed"
        var samples = Self.samples().map { sample in
            var sample = sample
            sample.vantage = vantage
            return sample
        }
        samples += Self.samples()
        for index in samples.indices where samples[index].vantage != nil && samples[index].start >= 104 {
            samples[index].status = 0
            samples[index].answer = "timeout"
        }
        let stale = Self.looks({ _ in ["n1"] }).map { look in
            var look = look
            look.vantageEntries[vantage] = [Self.vip: "52:54:00:00:00:02"]
            return look
        }
        let step = Self.step()
        let found = Invariants.judge(step, looks: stale, samples: samples, macs: Self.macs, vantages: [nil, vantage])
        #expect(found.map(\.invariant) == [.staleARP] && found.first?.vantage == vantage, "\(found)")
        #expect(
            found.first?.summary.hasPrefix(
                "10.33.1.100 from client-routed blackholed for 5.99 s: the ARP entry client-routed's requests go by "
                    + "names n2's MAC") == true, "\(found)")
        // Without its router's entry it is an outage of another cause, still its own.
        let plain = Invariants.judge(
            step, looks: Self.looks { _ in ["n1"] }, samples: samples, macs: Self.macs, vantages: [nil, vantage])
        #expect(plain.map(\.invariant) == [.answered] && plain.first?.vantage == vantage, "\(plain)")
        #expect(plain.first?.summary.hasPrefix("10.33.1.100 from client-routed not answered") == true)
        // Judged from the first client alone, the other's failures are not seen.
        #expect(Invariants.judge(step, looks: stale, samples: samples, macs: Self.macs).isEmpty)
    }

    @Test func holderChangesBeyondTheFaultAreFlaps() throws {
        let flapping = Self.looks { Int(($0 - 100) / 2) % 2 == 0 ? ["n1"] : ["n2"] }  // n1, n2, n1, n2, n1
        let flaps = try #require(Self.judge(Self.step(), flapping).first { $0.invariant == .holderChanges })
        #expect(flaps.evidence == "4 changes (n1 → n2 → n1 → n2 → n1), the fault explains 0")
        // One move the fault explains; empty and double looks between are no holder.
        let failover = Self.looks { $0 < 101 ? ["n1"] : $0 < 103 ? [] : $0 < 103.5 ? ["n1", "n2"] : ["n2"] }
        #expect(Self.judge(Self.step(after: ["n2"]), failover).allSatisfy { $0.invariant != .holderChanges })
        #expect(Self.judge(Self.step(after: ["n1"]), failover).contains { $0.invariant == .holderChanges })
        #expect(
            Self.judge(Self.step(exempt: [Self.vip: [.holderChanges]]), flapping).allSatisfy {
                $0.invariant != .holderChanges
            })
    }

    @Test func aStepExemptsWhatItExpectsAndAcceptsWhatItNames() throws {
        let lab = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-accept-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try """
        steps:
          - name: split
            chaos: block-multicast all
            expect:
              - { vip: 10.33.1.100, holders: [nginx-1, nginx-2] }
              - { curl: http://10.33.1.100, fails: true }
          - { name: healed, chaos: heal, expect: model, accept: [stale-arp, holder-changes] }
        """.write(toFile: "\(folder)/s.yaml", atomically: true, encoding: .utf8)
        let scenario = try lab.loadScenario("\(folder)/s.yaml")
        #expect(scenario.steps[1].accept == [.staleARP, .holderChanges])
        let model = lab.vrrpModel()
        let split = StepModel(scenario.steps[0], model: model, before: model, bound: 1, start: 0, blind: false)
        #expect(
            split.exempts(.singleHolder, Self.vip) && split.exempts(.holderChanges, Self.vip)
                && split.exempts(.answered, Self.vip))
        #expect(!split.exempts(.singleHolder, "10.33.1.200"))
        #expect(
            StepModel(scenario.steps[1], model: model, before: model, bound: 1, start: 0, blind: true).exempts(
                .staleARP, Self.vip))
        try "steps:\n  - { name: x, accept: [split] }\n".write(
            toFile: "\(folder)/bad.yaml", atomically: true, encoding: .utf8)
        let error = #expect(throws: HALabError.self) { try lab.loadScenario("\(folder)/bad.yaml") }
        #expect(
            error?.description.contains("bad.yaml:2") == true
                && error?.description.contains("single-holder, answered, stale-arp, holder-changes") == true,
            "\(error?.description ?? "")")
    }

    @Test func aBrokenInvariantFailsItsStepInEveryReport() throws {
        let broken = Violation(
            invariant: .singleHolder, address: Self.vip, from: 1, to: 3, nodes: ["n1", "n2"],
            evidence: "seen in 9 looks")
        var step = VerifyReport.StepResult(name: "healed", action: "chaos heal")
        step.checks = [
            .init(
                expected: .holders(vip: "10.33.1.100", nodes: ["n1"]), seen: "held by n1", passed: true, heldAfter: 0.5,
                deadline: 8)
        ]
        #expect(step.passed)
        var accepted = step
        accepted.accepted = [broken]
        #expect(accepted.passed)
        step.violations = [broken]
        #expect(!step.passed)
        let report = VerifyReport(lab: "mb", backend: "namespaces", seconds: 9, steps: [step, accepted])
        let junit = JUnitReport.xml(report)
        #expect(junit.contains("failures=\"1\""))
        #expect(
            junit.contains(
                "message=\"invariant single-holder: 10.33.1.100 held by n1 and n2 at once for 2.00 s: split brain "
                    + "while adverts can flow\""
            ))
        #expect(junit.contains("accepted single-holder: 10.33.1.100 held by n1 and n2"))
        let decoded = try JSONDecoder().decode(VerifyReport.self, from: Data(try JSONReport.text(report).utf8))
        #expect(decoded.steps[0].violations == [broken] && decoded.steps[1].accepted == [broken] && !decoded.passed)
    }

    @Test func theInvariantsRestWhileTheModelCannotFollow() {
        var following = ModelFollowing()
        let nodes = ["nginx-1", "nginx-2", "client"]
        let blind = { (action: Scenario.Action?) in following.blind(after: action, nodes: nodes) }
        #expect(!blind(.chaos(.kill(node: "nginx-1"))))
        #expect(blind(.chaos(.loss(node: "nginx-1", percent: 30))))
        #expect(blind(.chaos(.delay(node: "nginx-2", milliseconds: 50))))
        #expect(blind(.chaos(.heal(node: "nginx-1"))))  // nginx-2's delay still in force
        #expect(!blind(.chaos(.heal(node: "nginx-2"))))
        #expect(blind(.chaos(.loss(node: "nginx-2", percent: 10))))
        #expect(!blind(.chaos(.heal(node: nil))))
        #expect(!blind(.run(node: "nginx-1", command: "rc-service nginx stop")))  // the model follows rc-service
        #expect(blind(.run(node: "nginx-1", command: "ip link set eth1 down")))
        #expect(blind(.chaos(.heal(node: nil))))  // what that command did, the model never learns
    }
}
