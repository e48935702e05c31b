import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// The scenario layer on the in-memory backend: expectations, verify's report, outage
/// accounting and status, without root.
@Suite struct ScenarioEngineTests {
    static func masterBackup(scenario: String? = nil) throws -> Lab {
        var lab = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup")
        if let scenario {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                "halab-scenario-\(UUID().uuidString).yaml"
            ).path
            defer { try? FileManager.default.removeItem(atPath: file) }
            try scenario.write(toFile: file, atomically: true, encoding: .utf8)
            lab.scenario = try lab.loadScenario(file)
        }
        return lab
    }

    static let vip = "10.33.1.100"
    static let request = Request(url: "http://10.33.1.100", from: "client")

    static func world(_ holders: [String]) -> FakeBackend.World {
        var world = FakeBackend.World()
        world.holders[vip] = holders
        return world
    }

    @Test func anAnswerIsAwaitedUntilItHoldsOrItsDeadline() async throws {
        let lab = try Self.masterBackup()
        // The VIP moves to nginx-2 0.3 s after nginx-1's nginx is stopped.
        let fake = FakeBackend(topology: lab.topology, world: Self.world(["nginx-1"])) { event, _ in
            guard event == .exec(node: "nginx-1", ["rc-service", "nginx", "stop"]) else { return nil }
            return .init(after: .milliseconds(300)) { $0.holders[Self.vip] = ["nginx-2"] }
        }
        let session = LabSession(lab: lab, backend: fake)
        let engine = ExpectationEngine(session: session)
        let first = try await engine.await(
            .answer(Self.request, status: 200, server: "nginx", body: "nginx-1"), deadline: 1)
        #expect(first.passed && first.elapsed < 0.2 && first.seen == "status 200, Server: nginx, body 'nginx-1'")

        try await session.perform(.stopService("nginx", node: "nginx-1"))
        let moved = try await engine.await(.answer(Self.request, body: "nginx-2"), deadline: 3)
        #expect(moved.passed && moved.elapsed > 0.2, "\(moved)")
        let never = try await engine.await(.answer(Self.request, body: "nginx-1"), deadline: 0.3)
        #expect(!never.passed && never.elapsed >= 0.3 && never.seen.contains("body 'nginx-2'"))
    }

    /// A network fault on the fake goes through its FaultPlan, as on the real backends: a paused
    /// node stops answering until it is resumed, and a fault the plan refuses is not recorded.
    @Test func aFaultOnTheFakeGoesThroughItsPlan() async throws {
        let lab = try Self.masterBackup()
        let fake = FakeBackend(topology: lab.topology, world: Self.world(["nginx-1"]))
        let session = LabSession(lab: lab, backend: fake)
        let engine = ExpectationEngine(session: session)
        try await session.perform(.pause(node: "nginx-1"))
        try await fake.inject(lab.name, .pause(node: "nginx-1"))  // in force already: left as it is
        #expect(fake.withWorld { $0.planSteps } == [.freeze(node: "nginx-1", frozen: true)])
        let paused = try await engine.await(.answer(Self.request, body: "nginx-1"), deadline: 0.2)
        #expect(!paused.passed && paused.seen.hasPrefix("curl failed (exit 7)"), "\(paused.seen)")
        try await session.perform(.resume(node: "nginx-1"))
        #expect(try await engine.await(.answer(Self.request, body: "nginx-1"), deadline: 1).passed)
        await #expect(throws: HALabError.self) {
            try await fake.inject(lab.name, .linkDown(node: "nginx-1", interface: "eth9", atSwitch: true))
        }
        #expect(fake.faults(lab.name).isEmpty)
    }

    /// rc-service as OpenRC answers it: a reload of a stopped service fails and starts nothing,
    /// a restart starts it; the fake's model follows each as the fault it is.
    @Test func aReloadOfAStoppedServiceStartsNothingARestartDoes() async throws {
        let lab = try Self.masterBackup()
        let fake = FakeBackend.following(lab, after: .milliseconds(100))
        let session = LabSession(lab: lab, backend: fake)
        let engine = ExpectationEngine(session: session)
        try await session.perform(.stopService("nginx", node: "nginx-1"))
        #expect(try await engine.await(.answer(Self.request, body: "nginx-2"), deadline: 2).passed)
        let reload = try await fake.exec(lab.name, node: "nginx-1", ["rc-service", "nginx", "reload"])
        #expect(reload.exitCode == 3)
        try await Task.sleep(for: .milliseconds(300))
        #expect(fake.withWorld { ($0.stopped["nginx-1"], $0.holders[Self.vip]) } == (["nginx"], ["nginx-2"]))
        let restart = try await fake.exec(lab.name, node: "nginx-1", ["rc-service", "nginx", "restart"])
        #expect(restart.exitCode == 0)
        #expect(try await engine.await(.answer(Self.request, body: "nginx-1"), deadline: 2).passed)
    }

    /// A takeover under way as the watch under loss ends is let run out (seen on VMs: both held
    /// the VIP at the last look); the check passes once the preferred node holds it alone.
    @Test func aTakeoverUnderWayAtTheEndOfTheWatchIsLetRunOut() async throws {
        let lab = try Self.masterBackup()
        let fake = FakeBackend(topology: lab.topology, world: Self.world(["nginx-1", "nginx-2"]))
        let arranged = ContinuousClock.now
        fake.state.withLock {
            $0.pending.append((arranged + .milliseconds(1500), { $0.holders[Self.vip] = ["nginx-1"] }))
        }
        let check = TakeoverCheck(vip: Self.vip, preferred: "nginx-1", percent: 30, seconds: 1)
        let outcome = try await check.judge(LabSession(lab: lab, backend: fake))
        // It ended once the takeover had run out (1.5 s after it was arranged), at its first
        // look with nginx-1 alone, not at the end of its grace: judged by what it saw, so a busy
        // machine waking the check late changes nothing.
        #expect(outcome.passed && ContinuousClock.now - arranged >= .milliseconds(1500), "\(outcome)")
        #expect(outcome.seen.contains("nginx-1 alone in 1 of"), "\(outcome)")
    }

    @Test func failsHoldsOnlyWhenNobodyAnswers() async throws {
        let lab = try Self.masterBackup()
        var world = Self.world(["nginx-1"])
        world.stopped["nginx-1"] = ["nginx"]
        let engine = ExpectationEngine(
            session: LabSession(lab: lab, backend: FakeBackend(topology: lab.topology, world: world)))
        #expect(try await engine.await(.fails(Self.request), deadline: 1).passed)
        #expect(try await !engine.await(.answer(Self.request), deadline: 0.2).passed)
        let served = ExpectationEngine(
            session: LabSession(lab: lab, backend: FakeBackend(topology: lab.topology, world: Self.world(["nginx-2"]))))
        #expect(try await !served.await(.fails(Self.request), deadline: 0.2).passed)
    }

    @Test func holdersThroughoutMustKeepHolding() async throws {
        let lab = try Self.masterBackup()
        // The VIP leaves nginx-1 for both nodes 0.3 s after any look: a split brain mid-window.
        let fake = FakeBackend(topology: lab.topology, world: Self.world(["nginx-1"])) { _, world in
            world.holders[Self.vip] == ["nginx-1"]
                ? .init(after: .milliseconds(300)) { $0.holders[Self.vip] = ["nginx-1", "nginx-2"] } : nil
        }
        let engine = ExpectationEngine(session: LabSession(lab: lab, backend: fake))
        _ = try await fake.exec(lab.name, node: "client", ["curl", "http://10.33.1.100"])
        let kept = try await engine.await(.holders(vip: Self.vip, nodes: ["nginx-1"], throughout: 1), deadline: 2)
        #expect(!kept.passed)
        #expect(kept.seen.hasPrefix("held by nginx-1 and nginx-2 (split brain) after holding from"), "\(kept.seen)")
        // Eventually is enough without `throughout`; exactly one holder fails at the first look that has two.
        #expect(try await engine.await(.holders(vip: Self.vip, nodes: ["nginx-2", "nginx-1"]), deadline: 1).passed)
        let single = try await engine.await(.singleHolder(vip: Self.vip, window: 5), deadline: 5)
        #expect(!single.passed && single.elapsed < 1)
    }

    @Test func everyAndMixAreJudgedOnTheirSamples() async throws {
        let lab = try Self.masterBackup()
        let engine = ExpectationEngine(
            session: LabSession(lab: lab, backend: FakeBackend(topology: lab.topology, world: Self.world(["nginx-2"]))))
        let every = try await engine.await(.every(Self.request, name: "nginx-2", samples: 20), deadline: 1)
        #expect(every.passed && every.seen == "nginx-2 ×20 of 20")
        // One node answering every time is no mix, however long one waits.
        let mix = try await engine.await(.mix(Self.request, names: ["nginx-1", "nginx-2"], samples: 200), deadline: 60)
        #expect(!mix.passed && mix.seen.hasPrefix("nginx-2 ×200 of 200 (each name 65…135 passes)"))
    }

    @Test func verifyFollowsTheModelAndReportsEachStep() async throws {
        let lab = try Self.masterBackup(
            scenario: """
                steps:
                  - { name: healthy, expect: model }
                  - { name: nginx stopped on nginx-1, on: nginx-1, run: rc-service nginx stop, expect: model }
                  - { name: nginx-1 crashed, chaos: kill nginx-1, expect: model }
                  - { name: revived, chaos: revive nginx-1, expect: model }
                """)
        let session = LabSession(lab: lab, backend: FakeBackend.following(lab))
        let report = try await Verifier.run(session) { _ in }
        #expect(report.passed, "\(report.steps.map { "\($0.name): \($0.checks.filter { !$0.passed }.map(\.seen))" })")
        #expect(report.backend == "fake")
        #expect(report.steps.map(\.checks.count) == [2, 2, 2, 2])
        #expect(
            report.steps[1].checks.map(\.expected.description) == [
                "10.33.1.100 held by nginx-2", "curl http://10.33.1.100 from client → status 200 body 'nginx-2'"
            ])
        // Nothing moves when nginx-1 crashes with its nginx stopped: held throughout the window.
        #expect(
            report.steps[2].checks[0].expected.description.hasSuffix(
                "throughout \(String(format: "%.1f", lab.settleBound)) s"))
    }

    @Test func aFailedStepKeepsWhatWasSeenAndTheLogsAndCountsInJUnit() async throws {
        let lab = try Self.masterBackup(
            scenario: """
                steps:
                  - name: wrongly expects nginx-2
                    expect:
                      - { curl: http://10.33.1.100, body: nginx-2 }
                  - { name: an action that fails, on: nginx-2, run: no-such-command }
                """)
        var world = Self.world(["nginx-1"])
        world.files = ["nginx-1": ["/var/log/keepalived.log": "(VI_1) Entering MASTER STATE\n"], "nginx-2": [:]]
        let report = try await Verifier.run(
            LabSession(lab: lab, backend: FakeBackend(topology: lab.topology, world: world))
        ) { _ in }
        #expect(!report.passed && report.failedSteps == 2)
        let check = try #require(report.steps.first?.checks.first)
        #expect(check.seen == "status 200, Server: nginx, body 'nginx-1'" && check.heldAfter >= check.deadline)
        #expect(report.steps[0].logs == ["nginx-1": ["(VI_1) Entering MASTER STATE"], "nginx-2": []])
        #expect(report.steps[1].actionError?.contains("exit 127") == true)
        #expect(report.steps[1].checks.isEmpty)
        let junit = JUnitReport.xml(report)
        #expect(junit.contains(#"tests="2" failures="2""#))
        #expect(junit.contains("expected curl http://10.33.1.100 from client → body &apos;nginx-2&apos;"))
    }

    @Test func outagesAreMeasuredFromTheProbesRecord() async throws {
        // One action: its outage is measured until the probe stops, 1 s after the last step.
        let lab = try Self.masterBackup(scenario: "steps:\n  - { name: crash, chaos: kill nginx-1, expect: model }\n")
        // nginx-2 takes over 0.5 s after the crash: the probe sees 0.5 s without an answer.
        let session = LabSession(lab: lab, backend: FakeBackend.following(lab, after: .milliseconds(500)))
        let report = try await Verifier.run(session, probe: true) { _ in }
        #expect(report.passed)
        let crash = try #require(report.steps[0].outages?.first)
        #expect(crash.from == "nginx-1" && crash.to == "nginx-2")
        #expect(abs(crash.recovery - 0.5) < 0.1, "\(crash.recovery)")
        #expect(crash.failed >= 30 && crash.failed <= 60, "\(crash.failed)")
        #expect(crash.unexpected == 0 && crash.flaps == 0)
        // The model's bound for a crash: nginx-2's Master_Down_Interval at priority 90.
        #expect(crash.withinBound && abs(crash.bound - (3 + (256 - 90) / 256.0)) < 1e-9)
        #expect(report.probeInterval.map { $0 > 0.009 && $0 < 0.03 } == true)
    }

    @Test func aMeasuredChaosActionReportsTheOutageAgainstItsBound() async throws {
        let lab = try Self.masterBackup()
        // A takeover slower than the timers allow is flagged.
        let session = LabSession(lab: lab, backend: FakeBackend.following(lab, after: .milliseconds(800)))
        let measured = try await session.measure(.kill(node: "nginx-1"), seconds: 1.5)
        #expect(measured.count == 1 && measured[0].to == "nginx-2" && abs(measured[0].recovery - 0.8) < 0.1)
        #expect(measured[0].summary.hasPrefix("10.33.1.100: nginx-1 → nginx-2, outage 0.8"), "\(measured[0].summary)")
    }

    @Test func statusShowsNodesInstancesFaultsAndASplitBrain() async throws {
        let lab = try Self.masterBackup()
        var world = Self.world(["nginx-1", "nginx-2"])
        world.down = ["client"]
        world.faults = [.dropMulticast(node: nil, group: "224.0.0.18", ipProtocol: 112)]
        world.dumps["nginx-1"] =
            "------< VRRP Topology >------\n VRRP Instance = VI_1\n   State = MASTER\n   Effective priority = 100\n"
        let status = try await LabStatus.gather(
            LabSession(lab: lab, backend: FakeBackend(topology: lab.topology, world: world)))
        #expect(
            status.text() == """
                lab master-backup
                  nginx-1  running  10.33.1.11/24 10.33.1.100/24
                  nginx-2  running  10.33.1.12/24 10.33.1.100/24
                  client  DOWN  
                  VI_1: nginx-1 MASTER (priority 100), nginx-2 keepalived stopped
                  faults in force: multicast 224.0.0.18 (IP protocol 112) dropped at every switch
                  VIP 10.33.1.100 → nginx-1 and nginx-2  ← SPLIT BRAIN
                """)
        let json = try JSONDecoder().decode(LabStatus.self, from: Data(try status.json().utf8))
        #expect(
            json.vips.first?.splitBrain == true
                && json.instances.map(\.state) == [.reported("MASTER"), .keepalivedStopped])
    }
}
