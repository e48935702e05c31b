import Foundation
import PropertyBased
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// The VRRP model, rule by rule, on the document's labs and on small made-up ones.
@Suite struct VRRPModelTests {
    static func lab(_ name: String) throws -> Lab { try Lab.load(folder: "\(KeepalivedConfigTests.labs)/\(name)") }

    /// A lab of `priorities.count` nodes n1, n2 … on one segment, one instance VI_1.
    static func model(
        _ priorities: [Int], weight: Int = -30, preempt: [Bool]? = nil, unicast: Bool = false,
        passwords: [String]? = nil
    ) -> VRRPModel {
        let names = priorities.indices.map { "n\($0 + 1)" }
        let nodes = names.enumerated().map { index, name in
            VRRPModel.Node(
                name: name, services: ["nginx", "keepalived"], primaryAddress: 0x0A21_010B + UInt32(index),
                ports: [80: "nginx"],
                addresses: ["10.33.1.\(11 + index)"], segments: ["eth1": "lan"])
        }
        let instances = names.enumerated().map { index, name in
            var instance = VRRPInstance(
                name: "VI_1", node: name, location: ConfigLocation(file: "k", line: 1),
                virtualRouterID: 51, priority: priorities[index])
            instance.interface = "eth1"
            instance.virtualAddresses = ["10.33.1.100"]
            instance.preempt = preempt?[index] ?? true
            instance.authType = "PASS"
            instance.authPass = passwords?[index] ?? "mysecret"
            instance.trackedScripts = [
                VRRPScript(name: "chk_nginx", command: "pidof nginx", interval: 2, weight: weight)
            ]
            if unicast { instance.unicastPeers = names.indices.filter { $0 != index }.map { "10.33.1.\(11 + $0)" } }
            return instance
        }
        return VRRPModel(nodes: nodes, instances: instances)
    }

    @Test func masterBackupAsTheDocumentShows() throws {
        var model = try Self.lab("master-backup").vrrpModel()
        #expect(model.holders(of: "10.33.1.100") == ["nginx-1"])
        #expect(model.role(node: "nginx-2", instance: "VI_1") == .backup)
        let failover = model.apply(.stopService("nginx", node: "nginx-1"))
        #expect(model.holders(of: "10.33.1.100") == ["nginx-2"])
        #expect(model.effectivePriority(node: "nginx-1", instance: "VI_1") == 80)
        // chk_nginx's 2 s, then nginx-2's Master_Down_Interval: 3 × 1 + (256 − 90) / 256.
        #expect(abs(failover - (2 + 3 + 166.0 / 256)) < 1e-9)
        let back = model.apply(.startService("nginx", node: "nginx-1"))
        #expect(model.holders(of: "10.33.1.100") == ["nginx-1"])
        #expect(abs(back - (2 + 3 + 156.0 / 256)) < 1e-9)
        let crash = model.apply(.crash(node: "nginx-1"))
        #expect(model.holders(of: "10.33.1.100") == ["nginx-2"])
        #expect(abs(crash - (3 + 166.0 / 256)) < 1e-9)
        #expect(model.role(node: "nginx-1", instance: "VI_1") == .down)
        model.apply(.revive(node: "nginx-1"))
        #expect(model.holders(of: "10.33.1.100") == ["nginx-1"])
    }

    @Test func dualMasterAsTheDocumentShows() throws {
        var model = try Self.lab("dual-master").vrrpModel()
        #expect(model.holders(of: "10.33.1.100") == ["nginx-1"])
        #expect(model.holders(of: "10.33.1.200") == ["nginx-2"])
        model.apply(.stopService("nginx", node: "nginx-1"))
        #expect(model.holders(of: "10.33.1.100") == ["nginx-2"])
        #expect(model.holders(of: "10.33.1.200") == ["nginx-2"])
        model.apply(.startService("nginx", node: "nginx-1"))
        model.apply(.stopService("nginx", node: "nginx-2"))
        #expect(model.holders(of: "10.33.1.100") == ["nginx-1"])
        #expect(model.holders(of: "10.33.1.200") == ["nginx-1"])
    }

    /// labs.md's table for the three-node design, row by row.
    @Test(arguments: [
        ([], "nginx-1", [100, 90, 80]),
        (["nginx-1"], "nginx-2", [70, 90, 80]),
        (["nginx-1", "nginx-2"], "nginx-3", [70, 60, 80]),
        (["nginx-2"], "nginx-1", [100, 60, 80]),
        (["nginx-1", "nginx-2", "nginx-3"], "nginx-1", [70, 60, 50]),
        (["nginx-2", "nginx-1"], "nginx-3", [70, 60, 80])
    ])
    func threeNodeTable(stopped: [String], holder: String, priorities: [Int]) throws {
        var model = try Self.lab("three-node").vrrpModel()
        for node in stopped { model.apply(.stopService("nginx", node: node)) }
        #expect(model.holders(of: "10.33.1.100") == [holder])
        #expect(
            ["nginx-1", "nginx-2", "nginx-3"].map { model.effectivePriority(node: $0, instance: "VI_1") } == priorities)
    }

    @Test func equalPriorityKeepsTheIncumbent() {
        // With weight −20: nginx-2 stopped, then nginx-1: 80 / 70 / 80. nginx-1 stays master,
        // nginx-3 hears an equal advert and stays backup: the VIP sits on a node without nginx.
        var model = Self.model([100, 90, 80], weight: -20)
        model.apply(.stopService("nginx", node: "n2"))
        model.apply(.stopService("nginx", node: "n1"))
        #expect(model.holders(of: "10.33.1.100") == ["n1"])
        #expect(!model.canServe("n1"))
        // The other order: nginx-2 was master at 70 when nginx-1 and nginx-3 (both 80) timed out
        // together; two masters meeting, the higher address (nginx-3) wins.
        var other = Self.model([100, 90, 80], weight: -20)
        other.apply(.stopService("nginx", node: "n1"))
        #expect(other.holders(of: "10.33.1.100") == ["n2"])
        other.apply(.stopService("nginx", node: "n2"))
        #expect(other.holders(of: "10.33.1.100") == ["n3"])
    }

    @Test func twoMastersMeetingTheHigherAddressWins() {
        var model = Self.model([100, 100])
        #expect(model.holders(of: "10.33.1.100") == ["n2"])
        model.apply(.blockMulticast(node: "n2"))
        #expect(model.holders(of: "10.33.1.100") == ["n1", "n2"])  // split brain
        model.apply(.unblockMulticast(node: "n2"))
        #expect(model.holders(of: "10.33.1.100") == ["n2"])
    }

    @Test func splitBrainWhenAdvertsCannotArrive() {
        var model = Self.model([100, 90])
        model.apply(.blockMulticast(node: "n1"))
        #expect(model.holders(of: "10.33.1.100") == ["n1", "n2"])
        model.apply(.unblockMulticast(node: "n1"))
        #expect(model.holders(of: "10.33.1.100") == ["n1"])
        // Unicast adverts do not need multicast.
        var unicast = Self.model([100, 90], unicast: true)
        unicast.apply(.blockMulticast(node: "n1"))
        #expect(unicast.holders(of: "10.33.1.100") == ["n1"])
        // A wrong password: each side discards the other's adverts.
        let mismatched = Self.model([100, 90], passwords: ["mysecret", "other"])
        #expect(mismatched.holders(of: "10.33.1.100") == ["n1", "n2"])
        // Only the first 8 characters count.
        let truncated = Self.model([100, 90], passwords: ["mysecret1", "mysecret2"])
        #expect(truncated.holders(of: "10.33.1.100") == ["n1"])
    }

    @Test func weightZeroMeansFault() {
        var model = Self.model([100, 90], weight: 0)
        let bound = model.apply(.stopService("nginx", node: "n1"))
        // The check's 2 s, then only n2's skew: n1 left with a priority-0 advert.
        #expect(abs(bound - (2 + 166.0 / 256)) < 1e-9)
        #expect(model.role(node: "n1", instance: "VI_1") == .fault)
        #expect(model.holders(of: "10.33.1.100") == ["n2"])
    }

    @Test func linkDownIsAFault() {
        var model = Self.model([100, 90])
        let bound = model.apply(.linkDown(node: "n1"))
        #expect(model.role(node: "n1", instance: "VI_1") == .fault)
        #expect(model.holders(of: "10.33.1.100") == ["n2"])
        // Its link is down, so no priority-0 advert reaches n2: the full Master_Down_Interval.
        #expect(abs(bound - (3 + 166.0 / 256)) < 1e-9)
        model.apply(.linkUp(node: "n1"))
        #expect(model.holders(of: "10.33.1.100") == ["n1"])
    }

    @Test func nopreemptKeepsTheLowerMaster() {
        var model = Self.model([100, 90], preempt: [false, true])
        model.apply(.crash(node: "n1"))
        model.apply(.revive(node: "n1"))
        #expect(model.holders(of: "10.33.1.100") == ["n2"])
    }

    @Test func prioritiesAreClamped() {
        var instance = VRRPInstance(name: "VI_1", node: "n", location: ConfigLocation(file: "k", line: 1), priority: 10)
        instance.trackedScripts = [VRRPScript(name: "s", command: "pidof nginx", weight: -20)]
        #expect(instance.effectivePriority(failing: ["s"]) == 1)
        instance.priority = 250
        instance.trackedScripts = [VRRPScript(name: "s", command: "pidof nginx", weight: 20)]
        #expect(instance.effectivePriority(failing: []) == 254)
        instance.priority = 255
        instance.trackedScripts = [VRRPScript(name: "s", command: "pidof nginx", weight: -20)]
        #expect(instance.effectivePriority(failing: ["s"]) == 255)
    }

    @Test func cleanKeepalivedStopCostsOnlySkew() {
        var model = Self.model([100, 90])
        let bound = model.apply(.stopService("keepalived", node: "n1"))
        #expect(model.holders(of: "10.33.1.100") == ["n2"])
        #expect(abs(bound - 166.0 / 256) < 1e-9)
    }

    /// Whatever happens to services and nodes, while adverts can flow, a group with a node
    /// that takes part (alive, keepalived running, not in FAULT) has exactly one master.
    @Test func aGroupThatHearsItselfHasExactlyOneMaster() async {
        let events = Gen.int(in: 0...3).array(of: 1...12)
        await propertyCheck(input: Gen.int(in: 1...254).array(of: 2...4), events, Gen.int(in: 0...3).array(of: 12)) {
            priorities, kinds, targets in
            var model = Self.model(priorities)
            for (index, kind) in kinds.enumerated() {
                let node = "n\(targets[index] % priorities.count + 1)"
                let event: VRRPModel.Event =
                    switch kind {
                    case 0: .stopService("nginx", node: node)
                    case 1: .startService("nginx", node: node)
                    case 2: .crash(node: node)
                    default: .revive(node: node)
                    }
                model.apply(event)
                let participating = (1...priorities.count).filter {
                    model.effectivePriority(node: "n\($0)", instance: "VI_1") != nil
                }
                let masters = (1...priorities.count).filter { model.role(node: "n\($0)", instance: "VI_1") == .master }
                #expect(
                    masters.count == (participating.isEmpty ? 0 : 1), "\(priorities) after \(kinds.prefix(index + 1))")
                // And the master has the highest priority, or ties it (the incumbent keeps it).
                if let master = masters.first {
                    let top = participating.compactMap { model.effectivePriority(node: "n\($0)", instance: "VI_1") }
                        .max()
                    let own = model.effectivePriority(node: "n\(master)", instance: "VI_1")
                    #expect(
                        own == top || own.map { $0 >= (top ?? 0) } == true,
                        "\(priorities) after \(kinds.prefix(index + 1))")
                }
            }
        }
    }
}

@Suite struct ConfigCheckTests {
    @Test func threeNodeLintsTheDocumentsQuirksButNoOutage() throws {
        let lab = try VRRPModelTests.lab("three-node")
        let report = ConfigCheck.run(lab: lab.name, configs: lab.keepalived, model: lab.vrrpModel())
        #expect(!report.findings.contains { $0.severity == .error })
        #expect(
            report.findings.contains {
                $0.severity == .warning
                    && $0.message.hasPrefix("router_id NGINX_NODE1 is set on nginx-1, nginx-2, nginx-3")
            })
        #expect(report.findings.contains { $0.severity == .info && $0.message.contains("all say state MASTER") })
        let pidof = report.findings.filter { $0.message.contains("not an absolute path") }
        #expect(pidof.count == 3)
        #expect(pidof.first?.location?.hasSuffix("three-node/nginx-1/etc/keepalived/keepalived.conf:5") == true)
        // 3 nodes × (stop, hang and refuse nginx, crash, link down) single failures, and ordered
        // pairs on two nodes. What a process check sees (an exit), the design survives; a hung or
        // refusing nginx, pidof does not see: each such row on the holder is an outage.
        #expect(report.rows.count == 15 + 15 * 10)
        #expect(
            report.rows.filter { !$0.outages.isEmpty }.allSatisfy {
                $0.failures.contains { $0.hasPrefix("hang") || $0.hasPrefix("refuse") }
            })
        #expect(
            report.rows.first { $0.failures == ["hang nginx nginx-1"] }?.outages
                == ["10.33.1.100 stays on nginx-1, where its nginx hangs, while nginx-2, nginx-3 could serve"])
        #expect(report.rows.first { $0.failures == ["hang nginx nginx-2"] }?.outages == [])
        let classic = ConfigCheck.failureTable(lab.vrrpModel(), kinds: [.stop, .kill, .link])
        #expect(classic.count == 9 + 9 * 6 && classic.allSatisfy { $0.outages.isEmpty })
    }

    @Test func aWeightTooSmallIsAnErrorAndAnOutage() throws {
        let configs = ["nginx-1": 100, "nginx-2": 90, "nginx-3": 80].sorted(by: { $0.key < $1.key }).map {
            node, priority in
            KeepalivedNodeConfig.read(
                node: node, file: "\(node).conf",
                source: .text(
                    """
                    global_defs {
                        router_id \(node)
                    }
                    vrrp_script chk_nginx {
                        script "/usr/bin/pgrep -x nginx"
                        interval 2
                        weight -20
                    }
                    vrrp_instance VI_1 {
                        interface eth1
                        virtual_router_id 51
                        priority \(priority)
                        virtual_ipaddress {
                            10.33.1.100/24
                        }
                        track_script {
                            chk_nginx
                        }
                    }
                    """))
        }
        let nodes = configs.enumerated().map { index, config in
            VRRPModel.Node(
                name: config.node, services: ["nginx", "keepalived"], primaryAddress: UInt32(11 + index),
                ports: [80: "nginx"],
                addresses: ["10.33.1.\(11 + index)"], segments: ["eth1": "lan"])
        }
        let report = ConfigCheck.run(
            lab: "t", configs: configs, model: VRRPModel(nodes: nodes, instances: configs.flatMap(\.instances)))
        #expect(report.failed)
        let weight = try #require(report.findings.first { $0.severity == .error })
        #expect(weight.location == "nginx-1.conf:4")
        #expect(
            weight.message.hasPrefix("with its check failing, nginx-1 falls from 100 to 80, not below nginx-3's 80"))
        let outage = try #require(
            report.rows.first { !$0.outages.isEmpty && $0.failures.allSatisfy { $0.hasPrefix("stop") } })
        #expect(outage.failures == ["stop nginx nginx-2", "stop nginx nginx-1"])
        #expect(
            outage.outages == ["10.33.1.100 stays on nginx-1, where its nginx is stopped, while nginx-3 could serve"])
    }

    @Test func peersThatDisagreeAreErrors() throws {
        func config(_ node: String, _ body: String) throws -> KeepalivedNodeConfig {
            KeepalivedNodeConfig.read(
                node: node, file: "\(node).conf", source: .text("vrrp_instance VI_1 {\n\(body)\n}\n"))
        }
        let a = try config(
            "a",
            " virtual_router_id 51\n advert_int 1\n authentication {\n  auth_type PASS\n  auth_pass longpassword\n }")
        let b = try config(
            "b",
            " virtual_router_id 52\n advert_int 2\n version 3\n authentication {\n  auth_type PASS\n  auth_pass x\n }")
        let findings = ConfigCheck.lint([a, b])
        let messages = findings.map(\.message)
        #expect(messages.contains("VI_1 has different virtual_router_id on its nodes: a 51, b 52"))
        #expect(
            a.findings.contains {
                $0.location == "a.conf:6"
                    && $0.message.hasPrefix("auth_pass of VI_1 is 12 characters: keepalived uses only the first 8")
            })
        #expect(messages.contains { $0.contains("VI_1 on b uses VRRPv3, which ignores authentication") })
        let c = try config("c", " virtual_router_id 51\n advert_int 2")
        #expect(
            ConfigCheck.lint([a, c]).contains {
                $0.severity == .error && $0.message.hasPrefix("the peers of VRID 51 disagree on advert_int")
            })
    }

    @Test func unknownKeywordsAreKeptAndReported() throws {
        let config = KeepalivedNodeConfig.read(
            node: "n", file: "k.conf",
            source: .text(
                """
                global_defs {
                    enable_script_security
                }
                virtual_server 10.0.0.1 80 {
                    delay_loop 6
                }
                vrrp_instance VI_1 {
                    virtual_router_id 51
                    garp_master_delay 1
                }
                """))
        #expect(config.notModelled.map(\.keyword) == ["enable_script_security", "virtual_server", "garp_master_delay"])
        #expect(ConfigCheck.lint([config]).map(\.location) == ["k.conf:2", "k.conf:4", "k.conf:9"])
    }

    @Test func includesFollowGlobsInTheNodesFiles() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("halab-include-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(
            atPath: "\(root)/etc/keepalived/conf.d", withIntermediateDirectories: true)
        try "include /etc/keepalived/conf.d/*.conf\n".write(
            toFile: "\(root)/etc/keepalived/keepalived.conf", atomically: true, encoding: .utf8)
        try "vrrp_instance VI_2 {\n virtual_router_id 52\n}\n".write(
            toFile: "\(root)/etc/keepalived/conf.d/b.conf", atomically: true, encoding: .utf8)
        try "vrrp_instance VI_1 {\n virtual_router_id 51\n priority x\n}\n".write(
            toFile: "\(root)/etc/keepalived/conf.d/a.conf", atomically: true, encoding: .utf8)
        let bad = KeepalivedNodeConfig.read(
            node: "n", file: "/etc/keepalived/keepalived.conf", source: .layers([root], node: "n"))
        #expect(bad.findings.filter { $0.severity == .error }.map(\.location) == ["/etc/keepalived/conf.d/a.conf:3"])
        try "vrrp_instance VI_1 {\n virtual_router_id 51\n}\n".write(
            toFile: "\(root)/etc/keepalived/conf.d/a.conf", atomically: true, encoding: .utf8)
        let config = KeepalivedNodeConfig.read(
            node: "n", file: "/etc/keepalived/keepalived.conf", source: .layers([root], node: "n"))
        #expect(config.instances.map(\.name) == ["VI_1", "VI_2"])
    }
}

@Suite struct NetworkFaultModelTests {
    @Test func pauseFreezesTheMasterWithItsAddress() {
        var model = VRRPModelTests.model([100, 90])
        model.apply(.pause(node: "n1"))
        // n2 hears nothing and takes over; n1 is frozen as MASTER with the VIP on its interface.
        #expect(model.holders(of: "10.33.1.100") == ["n1", "n2"])
        #expect(!model.canServe("n1"))
        model.apply(.resume(node: "n1"))
        #expect(model.holders(of: "10.33.1.100") == ["n1"])
    }

    @Test func partitionSplitsAndHealMends() {
        var model = VRRPModelTests.model([100, 90, 80])
        model.apply(.partition([["n1"], ["n2", "n3"]]))
        #expect(model.holders(of: "10.33.1.100") == ["n1", "n2"])
        model.apply(.heal(node: nil))
        #expect(model.holders(of: "10.33.1.100") == ["n1"])
    }

    @Test func multicastBlockedEverywhereSplitsAMulticastPairButNotAUnicastOne() throws {
        let nodes = ["n1", "n2"]
        var multicast = VRRPModelTests.model([100, 90])
        var unicast = VRRPModelTests.model([100, 90], unicast: true)
        for event in Fault.blockMulticast(node: nil).events(nodes: nodes) {
            multicast.apply(event)
            unicast.apply(event)
        }
        #expect(multicast.holders(of: "10.33.1.100") == ["n1", "n2"])
        #expect(unicast.holders(of: "10.33.1.100") == ["n1"])
    }
}

@Suite struct LossPredictionTests {
    @Test func aBackupNeedsThreeLostAdvertsInARow() {
        // Master_Down_Interval 3.65 s after the last advert: the three sent before it must be lost.
        #expect(LossPrediction.consecutiveLosses(advertInterval: 1, masterDownInterval: 3 + 166.0 / 256) == 3)
        #expect(LossPrediction.consecutiveLosses(advertInterval: 0.1, masterDownInterval: 0.3 + 0.1 * 166 / 256) == 3)
        #expect(
            abs(LossPrediction.takeoverRate(loss: 0.3, advertInterval: 1, masterDownInterval: 3.65) - 0.7 * 0.027)
                < 1e-12)
        #expect(LossPrediction.takeoverRate(loss: 0, advertInterval: 1, masterDownInterval: 3.65) == 0)
    }

    @Test(arguments: [0.0, 0.567, 3, 20])
    func poissonBoundIsTheSmallestBelowOneInAMillion(mean: Double) {
        let bound = LossPrediction.poissonUpperBound(mean: mean)
        func above(_ count: Int) -> Double {  // P(X > count)
            1
                - (0...count).reduce(0.0) {
                    $0 + exp(-mean + Double($1) * log(max(mean, 1e-300)) - lgamma(Double($1 + 1)))
                }
        }
        #expect(above(bound) < 1e-6)
        if bound > 0 { #expect(above(bound - 1) >= 1e-6) }
    }

    @Test func pingLossBandAroundFiftyOnePercent() {
        let range = ShareTest.acceptedRange(samples: 200, probability: 0.51)
        #expect(range.contains(102))
        #expect(!range.contains(40) && !range.contains(160))
        #expect(!range.contains(0))  // a loss fault that does nothing fails
    }
}
