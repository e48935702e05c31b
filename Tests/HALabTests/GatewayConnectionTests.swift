import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
import HALabSystem

/// Connections through a gateway VIP (labs/dual-gateway-conntrack): what the model says becomes
/// of them, check's word for a gateway pair, and the scenario's `stream:` list.
@Suite struct GatewayConnectionTests {
    static let gateway = "10.33.1.1"
    static let web = "203.0.113.80"

    /// The lab, with conntrackd taken off every node when `synced` is false, and its boot scripts
    /// replaced where `rules` says.
    static func model(synced: Bool = true, rules: String? = nil) throws -> VRRPModel {
        var lab = try VRRPModelTests.lab("dual-gateway-conntrack")
        if !synced {
            for index in lab.topology.nodes.indices {
                lab.topology.nodes[index].services.removeAll { $0 == "conntrackd" }
            }
        }
        guard let rules else { return lab.vrrpModel() }
        let nodes = lab.vrrpModel().nodes.values.map { node in
            var node = node
            if node.name.hasPrefix("gw-") { node.files = ["/etc/local.d/firewall.start": rules] }
            return node
        }
        return VRRPModel(nodes: nodes, instances: lab.instances)
    }

    /// The worlds after `faults` from `start`, and the VIPs moved on the way.
    static func apply(_ faults: [Fault], to start: VRRPWorlds) -> (VRRPWorlds, Set<String>) {
        var worlds = start
        var moved: Set<String> = []
        for fault in faults {
            for event in fault.events(nodes: ["gw-1", "gw-2", "web", "client"]) {
                let previous = worlds
                _ = worlds.apply(event)
                moved.formUnion(worlds.virtualAddresses.filter { worlds.holders(of: $0) != previous.holders(of: $0) })
            }
        }
        return (worlds, moved)
    }

    static func fate(_ fault: Fault, after setup: [Fault] = [], in model: VRRPModel) -> ConnectionFate? {
        let (before, _) = apply(setup, to: VRRPWorlds(model))
        let (after, moved) = apply([fault], to: before)
        return after.forwardedConnectionFate(to: web, from: "client", before: before, moved: moved, action: fault)
    }

    @Test func theLabsRulesAreRead() throws {
        let model = try Self.model()
        #expect(model.nodes["gw-1"]?.statefulForwarding == .newOnlyWithSYN)
        #expect(model.nodes["gw-1"]?.translatesAddresses == true)
        #expect(model.nodes["web"]?.statefulForwarding == nil && model.nodes["web"]?.translatesAddresses == false)
        #expect(try VRRPModelTests.lab("dual-isp").vrrpModel().nodes["gw-1"]?.statefulForwarding == .masquerade)
        let nft = try Self.model(rules: "nft add rule ip nat postrouting oif eth0 masquerade\n")
        #expect(nft.nodes["gw-1"]?.statefulForwarding == .masquerade && nft.nodes["gw-1"]?.translatesAddresses == true)
        // A comment is no rule.
        let commented = try Self.model(rules: "#!/bin/sh\n# iptables -A FORWARD -p tcp --syn -j ACCEPT\n")
        #expect(commented.nodes["gw-1"]?.statefulForwarding == nil)
    }

    @Test(arguments: [
        // With conntrackd on both, the new gateway commits the copy: the connection lives on.
        (true, Fault.kill(node: "gw-1"), ConnectionFate?.some(.survive)),
        (true, .link(node: "gw-1", interface: "eth1", up: false, atNode: false), .survive),
        // Without, gw-2 saw no SYN of it and drops it.
        (false, .kill(node: "gw-1"), .break),
        // The backup's crash, or a step on nobody of the path, leaves it be.
        (true, .kill(node: "gw-2"), .survive), (false, .kill(node: "gw-2"), .survive),
        // The server's crash, or the gateway's own service stopped: the model does not say.
        (true, .kill(node: "web"), nil), (true, .stopService("conntrackd", node: "gw-1"), nil),
        // No gateway left on the LAN: nothing forwards it.
        (true, .switchPower(segment: "lan", on: false), .break),
        // A reload of the gateway's keepalived keeps the VIP and the table; a restart hands the
        // VIP over and back, and a heal of everything touches every node: the model does not say.
        (false, .reload(node: "gw-1"), .survive), (true, .restartService("keepalived", node: "gw-1"), nil),
        (true, .heal(node: nil), nil)
    ])
    func theModelSaysWhatBecomesOfAConnectionThroughTheGateway(synced: Bool, fault: Fault, fate: ConnectionFate?)
        throws
    {
        #expect(Self.fate(fault, in: try Self.model(synced: synced)) == fate, "\(fault)")
    }

    @Test func aCopyNeedsBothGatewaysSyncingBeforeTheStep() throws {
        let model = try Self.model()
        // conntrackd stopped on the old gateway: nothing was copied since.
        #expect(Self.fate(.kill(node: "gw-1"), after: [.stopService("conntrackd", node: "gw-1")], in: model) == .break)
        // Stopped on the new one: it has a copy it cannot commit.
        #expect(Self.fate(.kill(node: "gw-1"), after: [.stopService("conntrackd", node: "gw-2")], in: model) == .break)
        // A gateway that boots during the step may or may not fetch the table in time.
        let back = Self.fate(.revive(node: "gw-1"), after: [.kill(node: "gw-1")], in: model)
        #expect(back == nil)
        // Masquerading behind its own address: even a copy names an address the new gateway lacks.
        let masquerading = try Self.model(rules: "iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n")
        #expect(Self.fate(.kill(node: "gw-1"), in: masquerading) == .break)
        // Rules that say neither, without a copy: the model cannot tell.
        #expect(Self.fate(.kill(node: "gw-1"), in: try Self.model(synced: false, rules: "true\n")) == nil)
        // A VIP that moved on the way and is back: whether a packet went the other way meanwhile
        // is the client's ARP cache's.
        let worlds = VRRPWorlds(model)
        let calm = { (moved: Bool) in
            worlds.forwardedConnectionFate(through: Self.gateway, before: worlds, moved: moved, action: nil, ends: [])
        }
        #expect(calm(true) == nil && calm(false) == .survive)
        // A server on the client's own segment has no gateway in between.
        #expect(
            worlds.forwardedConnectionFate(to: "10.33.1.2", from: "client", before: worlds, moved: [], action: nil)
                == nil)
    }

    /// check: the failure table's connection through the gateway VIP, and the finding for a
    /// stateful gateway pair without a copy of its table.
    @Test func checkPredictsBothAndWarnsOfAnUnsyncedPair() throws {
        let fate = { (model: VRRPModel, failure: String) in
            ConfigCheck.failureTable(model).first { $0.failures == [failure] }?.connections[Self.gateway]
        }
        #expect(fate(try Self.model(), "kill gw-1") == .some(.survive))
        #expect(fate(try Self.model(synced: false), "kill gw-1") == .some(.break))
        #expect(ConfigCheck.statefulGatewayFindings(try Self.model()).isEmpty)
        let unsynced = ConfigCheck.statefulGatewayFindings(try Self.model(synced: false))
        #expect(unsynced.map(\.message).first?.hasPrefix(
            "connections through gw-1's NAT break on failover to gw-2: gw-2 forwards only connections it saw open, and "
                + "no conntrackd sync copies gw-1's connection table to it") == true, "\(unsynced)")
        #expect(unsynced.count == 2 && unsynced.allSatisfy { $0.severity == .warning })
        #expect(unsynced.first?.location?.hasSuffix("gw-1/etc/keepalived/keepalived.conf:26") == true, "\(unsynced)")
        // dual-isp masquerades behind each ISP's address: no copy could save those.
        let isp = ConfigCheck.statefulGatewayFindings(try VRRPModelTests.lab("dual-isp").vrrpModel())
        #expect(isp.first?.message.contains("it masquerades them behind its own address, which gw-2 lacks") == true)
        // One gateway alone has no failover to warn of.
        let lone = try Self.model(synced: false)
        let single = VRRPModel(nodes: Array(lone.nodes.values), instances: lone.instances.filter { $0.node == "gw-1" })
        #expect(ConfigCheck.statefulGatewayFindings(single).isEmpty)
        // A VIP nobody routes through (master-backup's) is no gateway.
        #expect(ConfigCheck.statefulGatewayFindings(try VRRPModelTests.lab("master-backup").vrrpModel()).isEmpty)
    }

    @Test func aScenarioStreamsToTheServersItLists() throws {
        let folder = try E2E.copy("dual-gateway-conntrack", as: "gateway-stream")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        #expect(lab.scenario.stream && lab.scenario.streamTargets == [Self.web])
        let plain = try E2E.scenario("stream: true\nsteps:\n  - { name: calm, expect: model }\n", of: lab, in: folder)
        #expect(plain.stream && plain.streamTargets.isEmpty)
        let bad = #expect(throws: HALabError.self) {
            try E2E.scenario("stream: [198.51.100.7]\nsteps:\n  - { name: calm, expect: model }\n", of: lab, in: folder)
        }
        let message = bad?.description ?? ""
        #expect(message.contains("s.yaml:1: stream lists servers' addresses"), "\(message)")
    }
}
