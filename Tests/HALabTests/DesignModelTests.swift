import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
import HALabSystem

/// The model's rules for the designs beyond one segment: two switches, sync groups, tracked
/// interfaces, start order, IPv6. Each rule with keepalived 2.2.7's reference in the model.
@Suite struct DesignModelTests {
    static let vipA = "10.33.1.100", vipB = "10.33.2.100"

    /// Two nodes on two switches (eth1 on lan-a, eth2 on lan-b), an instance per switch:
    /// n1 at 100 on both, n2 at 90; in one sync group per node when `synced`.
    static func dualSwitch(synced: Bool, tracked: [TrackedInterface] = []) -> VRRPModel {
        let nodes = ["n1", "n2"].enumerated().map { index, name in
            VRRPModel.Node(
                name: name, services: ["nginx", "keepalived"], primaryAddress: 0x0A21_010B + UInt32(index),
                addresses: ["10.33.1.\(11 + index)", "10.33.2.\(11 + index)"],
                segments: ["eth1": "lan-a", "eth2": "lan-b"])
        }
        let instances = nodes.enumerated().flatMap { index, node in
            [("VI_A", "eth1", 51, vipA), ("VI_B", "eth2", 52, vipB)].map { name, interface, vrid, vip in
                var instance = VRRPInstance(
                    name: name, node: node.name, location: ConfigLocation(file: "k", line: 1),
                    virtualRouterID: vrid, priority: 100 - 10 * index)
                instance.interface = interface
                instance.virtualAddresses = [vip]
                instance.syncGroup = synced ? "G" : nil
                instance.trackedInterfaces = tracked
                return instance
            }
        }
        return VRRPModel(nodes: nodes, instances: instances)
    }

    @Test func withoutASyncGroupEachSwitchFailsOverOnItsOwn() {
        var model = Self.dualSwitch(synced: false)
        #expect(model.holders(of: Self.vipA) == ["n1"] && model.holders(of: Self.vipB) == ["n1"])
        model.apply(.linkDown(node: "n1", interface: "eth1"))
        #expect(model.role(node: "n1", instance: "VI_A") == .fault)
        #expect(model.holders(of: Self.vipA) == ["n2"])
        #expect(model.holders(of: Self.vipB) == ["n1"])
        model.apply(.linkUp(node: "n1", interface: "eth1"))
        #expect(model.holders(of: Self.vipA) == ["n1"])
        // A whole switch lost: its VIP is nobody's (no node can serve there), the other stays.
        model.apply(.switchDown(segment: "lan-a"))
        #expect(model.holders(of: Self.vipA).isEmpty && model.holders(of: Self.vipB) == ["n1"])
        #expect(!model.canServe("n1", address: Self.vipA) && model.canServe("n1", address: Self.vipB))
        model.apply(.heal(node: nil))
        #expect(model.holders(of: Self.vipA) == ["n1"])
    }

    @Test func aSyncGroupMovesTogetherAndFaultsTogether() {
        var model = Self.dualSwitch(synced: true)
        #expect(model.holders(of: Self.vipA) == ["n1"] && model.holders(of: Self.vipB) == ["n1"])
        // One cable: the whole group goes FAULT on n1, and n2 takes both VIPs.
        model.apply(.linkDown(node: "n1", interface: "eth1"))
        #expect(model.role(node: "n1", instance: "VI_B") == .fault)
        #expect(model.holders(of: Self.vipA) == ["n2"] && model.holders(of: Self.vipB) == ["n2"])
        model.apply(.linkUp(node: "n1", interface: "eth1"))
        #expect(model.holders(of: Self.vipB) == ["n1"])
        // A whole switch: every node's group is in FAULT, so the healthy switch's VIP is lost too.
        model.apply(.switchDown(segment: "lan-a"))
        #expect(model.holders(of: Self.vipA).isEmpty && model.holders(of: Self.vipB).isEmpty)
        let row = ConfigCheck.row(VRRPWorlds(model), failures: ["switch down lan-a"], bound: 0)
        #expect(row.outages.count == 1 && row.outages[0].contains(Self.vipB))
        #expect(row.unservable == [Self.vipA])
    }

    @Test func aSyncGroupGoesMasterOnlyWhenEveryMemberWantsTo() {
        // n1 preferred on lan-a (100/90), n2 on lan-b (110/100): whichever group goes MASTER
        // first keeps both VIPs, since the other always has a member hearing a higher master.
        // Live (dual-switch-sync with nginx-2's VI_B at 110), nginx-2 held both, stably; all at
        // once, the model has n1 (its last timer runs out first), and the other start order n2.
        var model = Self.dualSwitch(synced: true)
        model = VRRPModel(
            nodes: Array(model.nodes.values),
            instances: model.instances.map { instance in
                var instance = instance
                if instance.node == "n2" && instance.name == "VI_B" { instance.priority = 110 }
                return instance
            })
        #expect(model.holders(of: Self.vipA) == ["n1"] && model.holders(of: Self.vipB) == ["n1"])
        #expect(Set(model.possibleStarts().possibleHolders(of: Self.vipB)) == [["n1"], ["n2"]])
        let late = VRRPModel(nodes: Array(model.nodes.values), instances: model.instances, startOrder: ["n2", "n1"])
        #expect(late.holders(of: Self.vipA) == ["n2"] && late.holders(of: Self.vipB) == ["n2"])
        let unsynced = VRRPModel(
            nodes: Array(model.nodes.values),
            instances: model.instances.map { instance in
                var instance = instance
                instance.syncGroup = nil
                return instance
            })
        #expect(unsynced.holders(of: Self.vipA) == ["n1"] && unsynced.holders(of: Self.vipB) == ["n2"])
        // n1 held back by its group sends no advert on lan-a: n2, on its own, takes both VIPs.
        let half = VRRPModel(
            nodes: Array(model.nodes.values),
            instances: model.instances.map { instance in
                var instance = instance
                if instance.node == "n2" { instance.syncGroup = nil }
                return instance
            })
        #expect(half.holders(of: Self.vipA) == ["n2"] && half.holders(of: Self.vipB) == ["n2"])
    }

    @Test func aMemberLeavingMasterTakesItsGroupAlong() {
        // Both groups master on their own side of a partition; healed, n2 (90 on lan-a) loses
        // there, and its whole group steps down, lan-b's member too (n2 is 110 there).
        var model = Self.dualSwitch(synced: true)
        model = VRRPModel(
            nodes: Array(model.nodes.values),
            instances: model.instances.map { instance in
                var instance = instance
                if instance.node == "n2" && instance.name == "VI_B" { instance.priority = 110 }
                if instance.node == "n1" { instance.syncGroup = nil }
                return instance
            })
        model.apply(.partition([["n1"], ["n2"]]))
        #expect(model.holders(of: Self.vipA) == ["n1", "n2"])
        model.apply(.heal(node: nil))
        #expect(model.role(node: "n2", instance: "VI_A") == .backup)
        #expect(model.holders(of: Self.vipA) == ["n1"] && model.holders(of: Self.vipB) == ["n1"])
    }

    @Test func aTrackedInterfaceFaultsOrWeighs() {
        // Without weight: eth2 down puts VI_A (on eth1) in FAULT.
        var model = Self.dualSwitch(synced: false, tracked: [TrackedInterface(name: "eth2")])
        model.apply(.linkDown(node: "n1", interface: "eth2"))
        #expect(model.role(node: "n1", instance: "VI_A") == .fault)
        #expect(model.holders(of: Self.vipA) == ["n2"])
        // The service needs what it tracks: n1 cannot serve A without eth2.
        #expect(!model.canServe("n1", address: Self.vipA) && model.canServe("n2", address: Self.vipA))
        // With weight −20: n1 falls to 80, below n2's 90, and stays BACKUP.
        var weighed = Self.dualSwitch(synced: false, tracked: [TrackedInterface(name: "eth2", weight: -20)])
        weighed.apply(.linkDown(node: "n1", interface: "eth2"))
        #expect(weighed.role(node: "n1", instance: "VI_A") == .backup)
        #expect(weighed.effectivePriority(node: "n1", instance: "VI_A") == 80)
        #expect(weighed.holders(of: Self.vipA) == ["n2"])
        // With weight −5: 95 still beats 90.
        var light = Self.dualSwitch(synced: false, tracked: [TrackedInterface(name: "eth2", weight: -5)])
        light.apply(.linkDown(node: "n1", interface: "eth2"))
        #expect(light.holders(of: Self.vipA) == ["n1"])
        // A positive weight counts while the interface is up.
        let raised = Self.dualSwitch(synced: false, tracked: [TrackedInterface(name: "eth2", weight: 7)])
        #expect(raised.effectivePriority(node: "n2", instance: "VI_A") == 97)
    }

    @Test func equalPrioritiesDependOnStartOrder() {
        let model = VRRPModelTests.model([100, 100])
        let first = VRRPModel(nodes: Array(model.nodes.values), instances: model.instances, startOrder: ["n1", "n2"])
        #expect(first.holders(of: "10.33.1.100") == ["n1"])
        let second = VRRPModel(nodes: Array(model.nodes.values), instances: model.instances, startOrder: ["n2", "n1"])
        #expect(second.holders(of: "10.33.1.100") == ["n2"])
        #expect(Set(model.possibleStarts().possibleHolders(of: "10.33.1.100")) == [["n1"], ["n2"]])
        #expect(ConfigCheck.startOrderFindings(model).count == 1)
        // Distinct priorities with preemption: one world, no finding.
        let distinct = VRRPModelTests.model([100, 90])
        #expect(distinct.possibleStarts().possibleHolders(of: "10.33.1.100") == [["n1"]])
        #expect(ConfigCheck.startOrderFindings(distinct).isEmpty)
        // A higher priority starting second still preempts.
        let late = VRRPModel(
            nodes: Array(distinct.nodes.values), instances: distinct.instances, startOrder: ["n2", "n1"])
        #expect(late.holders(of: "10.33.1.100") == ["n1"])
    }

    @Test func nopreemptKeepsWhoeverStartedFirst() {
        let model = VRRPModelTests.model([100, 90], preempt: [false, false])
        let late = VRRPModel(nodes: Array(model.nodes.values), instances: model.instances, startOrder: ["n2", "n1"])
        #expect(late.holders(of: "10.33.1.100") == ["n2"])
        #expect(model.possibleStarts().possibleHolders(of: "10.33.1.100") == [["n1"], ["n2"]])
    }

    @Test func failuresCoverEachLinkAndEachSwitch() {
        let failures = ConfigCheck.failures(Self.dualSwitch(synced: false)).map(\.description)
        #expect(failures.contains("link down n1:eth1") && failures.contains("link down n2:eth2"))
        #expect(failures.contains("switch down lan-a") && failures.contains("switch down lan-b"))
        #expect(!failures.contains("link down n1"))
        // One segment: the node's link, as before.
        #expect(ConfigCheck.failures(VRRPModelTests.model([100, 90])).map(\.description).contains("link down n1"))
    }

    @Test func chaosSpeaksSwitchesAndFlaps() throws {
        #expect(try Fault.parse(["switch", "down", "lan-a"]) == .switchPower(segment: "lan-a", on: false))
        #expect(try Fault.parse(["switch", "down", "lan-a"]).events(nodes: []) == [.switchDown(segment: "lan-a")])
        #expect(Fault.switchPower(segment: "lan-a", on: true).heals(.switchPower(segment: "lan-a", on: false)))
        #expect(!Fault.switchPower(segment: "lan-b", on: true).heals(.switchPower(segment: "lan-a", on: false)))
        let flap = try Fault.parse(["flap", "n1:eth1", "3", "0.5"])
        #expect(flap == .flap(node: "n1", interface: "eth1", count: 3, interval: 0.5))
        #expect(flap.description == "flap n1:eth1 3 0.5")
        #expect(try Fault.parse(["flap", "n1"]) == .flap(node: "n1", interface: nil, count: 5, interval: 1))
        #expect(throws: Fault.WordsError.self) { try Fault.parse(["flap", "n1", "0"]) }
        #expect(throws: Fault.WordsError.self) { try Fault.parse(["switch", "off", "lan-a"]) }
        #expect(
            try Fault.parse(["link", "down", "n1:eth2"]).events(nodes: []) == [.linkDown(node: "n1", interface: "eth2")]
        )
    }

    @Test func readingSyncGroupsIPv6AndNopreempt() {
        let config = KeepalivedNodeConfig.read(
            node: "n1", file: "k",
            source: .text(
                """
                vrrp_script chk { script "/bin/pidof nginx"
                  weight -20 }
                vrrp_script down { script "/bin/pidof nginx" }
                vrrp_sync_group G { group { VI_A VI_6 }
                  track_script { down } }
                vrrp_instance VI_A { interface eth1
                  virtual_router_id 51
                  state MASTER
                  nopreempt
                  track_script { chk }
                  track_interface { eth2 weight -10 }
                  virtual_ipaddress { 10.33.1.100 } }
                vrrp_instance VI_6 { interface eth1
                  virtual_router_id 51
                  virtual_ipaddress { fd00::100 } }
                """))
        let a = config.instances.first { $0.name == "VI_A" }!, six = config.instances.first { $0.name == "VI_6" }!
        #expect(a.syncGroup == "G" && six.syncGroup == "G")
        // In a sync group keepalived drops a weighted script and ignores interface weights.
        #expect(a.trackedScripts.map(\.name) == ["down"])
        #expect(a.trackedInterfaces == [TrackedInterface(name: "eth2")])
        #expect(six.trackedScripts.map(\.name) == ["down"])
        #expect(config.findings.contains { $0.message.contains("drops its tracked script chk") })
        // nopreempt with state MASTER: keepalived clears nopreempt.
        #expect(a.preempt && config.findings.contains { $0.message.contains("clears nopreempt") })
        // An IPv6 instance runs VRRPv3 unless a version is given.
        #expect(six.version == 3 && a.version == 2)
    }
}

extension DesignModelTests {
    @Test func aCheckThatPingsANodeFailsWhileItIsDown() {
        // A gateway pair pinging their ISP's router; the routers run no keepalived.
        let nodes = [
            VRRPModel.Node(
                name: "gw-1", services: ["keepalived"], primaryAddress: 2, addresses: ["10.33.1.2", "100.64.1.2"],
                segments: ["eth1": "lan", "eth0": "uplink-1"]),
            VRRPModel.Node(
                name: "gw-2", services: ["keepalived"], primaryAddress: 3, addresses: ["10.33.1.3", "100.64.2.2"],
                segments: ["eth1": "lan", "eth0": "uplink-2"]),
            VRRPModel.Node(
                name: "isp-1", services: [], primaryAddress: 4, addresses: ["100.64.1.1"],
                segments: ["eth0": "uplink-1"])
        ]
        let instances = [("gw-1", 100), ("gw-2", 90)].map { node, priority in
            var instance = VRRPInstance(
                name: "VI_GW", node: node, location: ConfigLocation(file: "k", line: 1), virtualRouterID: 60,
                priority: priority)
            instance.interface = "eth1"
            instance.virtualAddresses = ["10.33.1.1"]
            instance.trackedScripts = [
                VRRPScript(name: "chk_isp", command: "/usr/bin/ping -c 1 -W 1 100.64.\(node == "gw-1" ? 1 : 2).1")
            ]
            return instance
        }
        var model = VRRPModel(nodes: nodes, instances: instances)
        #expect(model.holders(of: "10.33.1.1") == ["gw-1"])
        model.apply(.crash(node: "isp-1"))
        #expect(model.role(node: "gw-1", instance: "VI_GW") == .fault)
        #expect(model.holders(of: "10.33.1.1") == ["gw-2"])
        model.apply(.revive(node: "isp-1"))
        #expect(model.holders(of: "10.33.1.1") == ["gw-1"])
        // Its own uplink down: the router is out of reach too.
        model.apply(.linkDown(node: "gw-1", interface: "eth0"))
        #expect(model.role(node: "gw-1", instance: "VI_GW") == .fault)
        // gw-2 pings 100.64.2.1, which no node of the lab has: taken to pass while gw-2 is
        // untouched, unknown once something is wrong with it (never a prediction of failure).
        let pingOut = instances[1].trackedScripts[0]
        #expect(model.verdict(pingOut, on: "gw-2") == .passes)
        model.apply(.linkDown(node: "gw-2", interface: "eth0"))
        guard case .unknown(let why) = model.verdict(pingOut, on: "gw-2") else { Issue.record("not unknown"); return }
        #expect(why.contains("100.64.2.1: an address no node of the lab has"))
    }
}

extension DesignModelTests {
    @Test func ipv6AddressesAreRequestedSeenAndLoaded() throws {
        let request = Request(address: "fd00:33:1::100", from: "client")
        #expect(request.url == "http://[fd00:33:1::100]" && request.host == "fd00:33:1::100")
        #expect(Request(address: "10.33.1.100", from: "client").host == "10.33.1.100")
        // `ip -j addr`: IPv4 and global IPv6 count, link-local does not.
        let node = NodeSpec(
            name: "n1", interfaces: [InterfaceSpec(name: "eth1", segment: "lan", address: "10.33.1.11/24")],
            services: [], fileLayers: [])
        let json = """
            [{"ifname":"eth1","addr_info":[{"family":"inet","local":"10.33.1.11","prefixlen":24,"scope":"global"},
              {"family":"inet6","local":"fd00:33:1::100","prefixlen":64,"scope":"global"},
              {"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]}]
            """
        #expect(node.labAddresses(inJSON: json) == ["10.33.1.11/24", "fd00:33:1::100/64"])
        let lab = try VRRPModelTests.lab("master-backup-ipv6")
        #expect(lab.topology.nodes[0].interfaces[0].address6 == "fd00:33:1::11/64")
        #expect(lab.instances.first { $0.name == "VI_6" }?.version == 3)
        // Same VRID, two families: two VRRP groups, each with its master.
        #expect(
            lab.vrrpModel().holders(of: "fd00:33:1::100") == ["nginx-1"]
                && lab.vrrpModel().holders(of: "10.33.1.100") == ["nginx-1"])
    }
}

extension DesignModelTests {
    @Test func afterLossTheCurlWaitsForAStaleARPEntry() throws {
        let model = VRRPModelTests.model([100, 90])
        let plain = try Verifier.expectations(
            from: VRRPWorlds(model), before: VRRPWorlds(model), client: "client", window: 5)
        #expect(plain[1].deadline == nil)
        // Loss may have split the brain where the model could not see it: the client's entry may be stale.
        let afterLoss = try Verifier.expectations(
            from: VRRPWorlds(model), before: VRRPWorlds(model), client: "client", window: 5, splitBrainMayEnd: true)
        #expect(afterLoss[1].deadline == Verifier.slack + Verifier.arpRecovery)
    }
}
