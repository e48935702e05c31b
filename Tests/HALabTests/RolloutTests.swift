import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// A config rolled onto one node at a time: the advert checks that decide whether the mixed
/// state splits the brain (each measured live on keepalived 2.2.7), the model's reload with a
/// new config, and the scenario's `rollout:` step.
@Suite struct RolloutTests {
    static let masterBackup = "\(KeepalivedConfigTests.labs)/master-backup"

    /// n1 (priority 100) and n2 (90); `change` edits each node's instance.
    static func pair(_ change: (inout VRRPInstance) -> Void = { _ in }) -> VRRPModel {
        let model = VRRPModelTests.model([100, 90])
        let instances = model.instances.map { instance in
            var instance = instance
            change(&instance)
            return instance
        }
        return VRRPModel(nodes: Array(model.nodes.values), instances: instances)
    }

    /// Measured: a backup with one more VIP than the master's adverts carry discards them
    /// ("received an unexpected ip number count 1, expected 2") and both are MASTER.
    @Test func peersWithOtherVIPsDiscardEachOthersAdverts() {
        let added = Self.pair { if $0.node == "n2" { $0.virtualAddresses.append("10.33.1.101") } }
        #expect(added.holders(of: "10.33.1.100") == ["n1", "n2"])
        // The same count, another address: discarded too.
        let other = Self.pair { if $0.node == "n2" { $0.virtualAddresses = ["10.33.1.101"] } }
        #expect(other.holders(of: "10.33.1.100") == ["n1"] && other.holders(of: "10.33.1.101") == ["n2"])
        #expect(Self.pair { $0.virtualAddresses.append("10.33.1.101") }.holders(of: "10.33.1.100") == ["n1"])
    }

    /// skip_check_adv_addr: a backup that knows its master does not look at the VIPs; the model
    /// takes it as hearing (a missed split brain rather than a false one). A master always looks.
    @Test func aBackupThatSkipsTheAddressCheckHearsItsMaster() {
        let skipping = Self.pair { instance in
            if instance.node == "n2" {
                instance.virtualAddresses.append("10.33.1.101"); instance.skipsAddressCheck = true
            }
        }
        #expect(skipping.holders(of: "10.33.1.100") == ["n1"])
        var masterSkips = Self.pair { instance in
            if instance.node == "n1" { instance.virtualAddresses.append("10.33.1.101") }
            if instance.node == "n2" { instance.skipsAddressCheck = true }
        }
        #expect(masterSkips.holders(of: "10.33.1.100") == ["n1"])
        masterSkips.apply(.crash(node: "n1"))
        masterSkips.apply(.revive(node: "n1"))
        // n1 back does not hear n2 and takes over; n2, a master now, checks n1's VIPs and discards its adverts.
        #expect(masterSkips.holders(of: "10.33.1.100") == ["n1", "n2"])
    }

    @Test func skipCheckAdvAddrIsRead() {
        let text =
            "global_defs {\n vrrp_skip_check_adv_addr\n}\nvrrp_instance A {\n virtual_router_id 1\n}\nvrrp_instance B "
                + "{\n virtual_router_id 2\n}\n"
        let global = KeepalivedNodeConfig.read(node: "a", file: "a.conf", source: .text(text))
        #expect(global.instances.map(\.skipsAddressCheck) == [true, true])
        let own = KeepalivedNodeConfig.read(
            node: "a", file: "a.conf",
            source: .text("vrrp_instance A {\n virtual_router_id 1\n skip_check_adv_addr\n}\n"))
        #expect(
            own.instances.map(\.skipsAddressCheck) == [true]
                && !own.notModelled.contains { $0.keyword == "skip_check_adv_addr" })
    }

    /// Measured: under VRRPv3 a backup advertising at 0.5 s hears a master at 0.1 s ("advertisement
    /// interval updated from 500ms to 100ms by master"); under VRRPv2 it discards the advert.
    @Test func onlyVRRPv2DiscardsAnotherInterval() {
        let v2 = Self.pair { if $0.node == "n2" { $0.advertInterval = 2 } }
        #expect(v2.holders(of: "10.33.1.100") == ["n1", "n2"])
        var v3 = Self.pair { instance in
            instance.version = 3
            instance.advertInterval = instance.node == "n1" ? 0.1 : 1
        }
        #expect(v3.holders(of: "10.33.1.100") == ["n1"])
        // n2 times n1's adverts by n1's interval: 3 x 0.1 s plus its skew, not 3 x 1 s (measured: 0.351 s).
        let bound = v3.apply(.crash(node: "n1"))
        #expect(v3.holders(of: "10.33.1.100") == ["n2"])
        #expect(abs(bound - (0.3 + 166 * 0.1 / 256)) < 1e-9)
    }

    @Test func checkTellsTheIntervalsOfVRRPv3PeersApartFromAnError() throws {
        func config(_ node: String, _ interval: String) -> KeepalivedNodeConfig {
            KeepalivedNodeConfig.read(
                node: node, file: "\(node).conf",
                source: .text("vrrp_instance VI_1 {\n version 3\n virtual_router_id 51\n advert_int \(interval)\n}\n"))
        }
        let findings = ConfigCheck.lint([config("a", "0.1"), config("b", "1")])
        let interval = try #require(findings.first { $0.message.contains("advertise at different intervals") })
        #expect(interval.severity == .info && interval.message.contains("a 0.1 s, b 1 s"))
        #expect(!findings.contains { $0.severity == .error })
    }

    /// A reload keeps each instance's role: a nopreempt master that a higher priority would
    /// not take back stays master after its own reload.
    @Test func aReloadKeepsTheRoles() {
        var model = VRRPModelTests.model([100, 90], preempt: [false, false])
        model.apply(.crash(node: "n1"))
        model.apply(.revive(node: "n1"))
        #expect(model.holders(of: "10.33.1.100") == ["n2"])
        let same = model.instances.filter { $0.node == "n2" }
        #expect(model.apply(.reconfigure(node: "n2", instances: same)) == 0)
        #expect(model.holders(of: "10.33.1.100") == ["n2"])
        #expect(model.role(node: "n1", instance: "VI_1") == .backup)
    }

    /// A raised priority on the backup: it discards the master's lower adverts and preempts
    /// once its Master_Down_Interval runs out (measured on fast-failover: 0 requests failed).
    @Test func aPriorityRolledOntoTheBackupPreempts() {
        var model = VRRPModelTests.model([100, 90])
        var raised = model.instances.filter { $0.node == "n2" }
        raised[0].priority = 110
        let bound = model.apply(.reconfigure(node: "n2", instances: raised))
        #expect(model.holders(of: "10.33.1.100") == ["n2"])
        #expect(abs(bound - (3 + 146.0 / 256)) < 1e-9)
        #expect(model.effectivePriority(node: "n2", instance: "VI_1") == 110)
    }

    /// A check failing before the reload and after it is no news: the takeover it allows costs
    /// no detection time; a new instance's failing check is news.
    @Test func aReloadCountsOnlyNewCheckResults() {
        var model = VRRPModelTests.model([100, 90])
        model.apply(.stopService("nginx", node: "n1"))
        #expect(model.holders(of: "10.33.1.100") == ["n2"])  // n1 at 100 - 30
        var raised = model.instances.filter { $0.node == "n1" }
        raised[0].priority = 130
        #expect(abs(model.apply(.reconfigure(node: "n1", instances: raised)) - (3 + 156.0 / 256)) < 1e-9)
        #expect(model.holders(of: "10.33.1.100") == ["n1"])
    }

    /// An instance the new config adds starts as BACKUP, and one it drops is gone with its VIPs;
    /// the other nodes' instances and the VIPs' order stay.
    @Test func aReloadAddsAndDropsInstances() {
        var model = VRRPModelTests.model([100, 90])
        var second = model.instances.first { $0.node == "n1" }!
        second.name = "VI_2"
        second.virtualRouterID = 52
        second.virtualAddresses = ["10.33.1.200"]
        model.apply(.reconfigure(node: "n1", instances: model.instances.filter { $0.node == "n1" } + [second]))
        #expect(model.instances.map(\.node) == ["n1", "n1", "n2"])
        #expect(model.holders(of: "10.33.1.200") == ["n1"] && model.holders(of: "10.33.1.100") == ["n1"])
        #expect(model.virtualAddresses == ["10.33.1.100", "10.33.1.200"])
        model.apply(.reconfigure(node: "n1", instances: [second]))
        #expect(model.holders(of: "10.33.1.100") == ["n2"] && model.holders(of: "10.33.1.200") == ["n1"])
    }

    /// A faulted instance is judged anew by the reload: a check that passes now lets it take part.
    @Test func aReloadJudgesAFaultAnew() {
        var model = VRRPModelTests.model([100, 90], weight: 0)
        model.apply(.stopService("nginx", node: "n1"))
        #expect(model.role(node: "n1", instance: "VI_1") == .fault)
        var unchecked = model.instances.filter { $0.node == "n1" }
        unchecked[0].trackedScripts = []
        model.apply(.reconfigure(node: "n1", instances: unchecked))
        #expect(model.role(node: "n1", instance: "VI_1") == .master)
    }

    /// The master-backup rollout of a VIP in the adverts: the mixed state splits the brain, the
    /// whole rollout mends it (measured: both orders, 0 requests failed).
    @Test func theNaiveRolloutSplitsTheBrainOnlyWhileMixed() throws {
        let lab = try Lab.load(folder: Self.masterBackup)
        let scenario = try lab.loadScenario("\(Self.masterBackup)/rollout-in-advert.yaml")
        var model = lab.vrrpModel()
        let seen = try scenario.steps.dropFirst().map { step -> [String] in
            for event in try #require(step.action?.modelEvents(nodes: [])) { model.apply(event) }
            return model.holders(of: "10.33.1.100")
        }
        #expect(seen == [["nginx-1", "nginx-2"], ["nginx-1"], ["nginx-1", "nginx-2"], ["nginx-1"]])
    }

    @Test func aRolloutStepReadsItsFileAndSaysWhatFollows() throws {
        let lab = try Lab.load(folder: Self.masterBackup)
        let steps = try lab.loadScenario("\(Self.masterBackup)/rollout.yaml").steps
        guard case .rollout(let rollout) = steps[1].action else { Issue.record("not a rollout: \(steps[1])"); return }
        #expect(
            rollout.node == "nginx-2" && rollout.path == "/etc/keepalived/keepalived.conf"
                && rollout.then == .reload(node: "nginx-2"))
        #expect(rollout.content.contains("virtual_ipaddress_excluded"))
        #expect(rollout.modelEvents == [.reconfigure(node: "nginx-2", instances: try #require(rollout.instances))])
        var restart = rollout
        restart.then = .restartService("keepalived", node: "nginx-2")
        #expect(
            restart.modelEvents?.map(\.description) == [
                "stop keepalived nginx-2", "reload nginx-2 with a new config", "start keepalived nginx-2"
            ])
        // Another service's file changes nothing the model knows; another file of keepalived's, it cannot follow.
        let nginx = Scenario.Rollout(
            node: "nginx-1", path: "/etc/nginx/nginx.conf", from: "x", content: "",
            then: .restartService("nginx", node: "nginx-1"))
        #expect(nginx.modelEvents == [.stopService("nginx", node: "nginx-1"), .startService("nginx", node: "nginx-1")])
        let script = Scenario.Rollout(
            node: "nginx-1", path: "/etc/keepalived/chk.sh", from: "x", content: "", then: .reload(node: "nginx-1"))
        #expect(script.modelEvents == nil)
        var unread = rollout
        unread.then = .restartService("nginx", node: "nginx-2")
        #expect(unread.modelEvents == nil)
    }

    @Test(arguments: [
        ("rollout: { on: nginx-9, file: /etc/x, from: rollout.yaml, then: reload }", "yaml:3: unknown node 'nginx-9'"),
        (
            "rollout: { on: nginx-1, file: etc/x, from: rollout.yaml, then: reload }",
            "yaml:3: file is a path in the node, from /"
        ),
        ("rollout: { on: nginx-1, file: /etc/x, from: missing.conf, then: reload }", "yaml:3: cannot read '"),
        (
            "rollout: { on: nginx-1, file: /etc/x, from: rollout.yaml, then: restart haproxy }",
            "yaml:3: then is 'reload' (keepalived re-reads its config) or 'restart SERVICE'"
        ),
        ("rollout: { on: nginx-1, file: /etc/x, from: rollout.yaml }", "yaml:3: rollout"),
        (
            "rollout: { on: nginx-1, file: /etc/x, from: rollout.yaml, then: reload }\n    chaos: kill nginx-1",
            "yaml:2: a step does one thing"
        )
    ])
    func aBadRolloutIsOneMessageWithItsLine(step: String, message: String) throws {
        let file = "\(Self.masterBackup)/.rollout-test-\(UUID().uuidString).yaml"
        try "steps:\n  - name: bad\n    \(step)\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let lab = try Lab.load(folder: Self.masterBackup)
        #expect {
            try lab.loadScenario(file)
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains(".yaml:")
        }
    }

    /// check on the lab mid-rollout: the mixed state's disagreement, and its split brain.
    @Test func checkJudgesTheMixedState() async throws {
        let lab = try Lab.load(folder: Self.masterBackup)
        let mixed = try await CheckRun.lab(
            lab, askKeepalived: false, installed: ["nginx-2": "\(Self.masterBackup)/rollout/nginx-2-vip.conf"])
        #expect(
            mixed.findings.contains {
                $0.severity == .error
                    && $0.message.hasPrefix("the peers of VRID 51 on lan disagree on the virtual addresses")
            })
        let excluded = try await CheckRun.lab(
            lab, askKeepalived: false, installed: ["nginx-2": "\(Self.masterBackup)/rollout/nginx-2-excluded.conf"])
        #expect(!excluded.findings.contains { $0.severity == .error })
        await #expect(throws: HALabError.self) {
            try await CheckRun.lab(lab, askKeepalived: false, installed: ["client": "x"])
        }
    }
}
