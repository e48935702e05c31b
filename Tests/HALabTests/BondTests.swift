import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
import HALabSystem

/// Bonds (active-backup across two switches) and a bridge joining the switches, as
/// `labs/dual-switch-bond` has them: in the model, in lab.yaml, in the VM's boot.
@Suite struct BondModelTests {
    static let vip = "10.33.1.100"

    static func model() throws -> VRRPModel { try VRRPModelTests.lab("dual-switch-bond").vrrpModel() }

    @Test func aBondOutlivesOneCableButNotBoth() throws {
        var model = try Self.model()
        #expect(model.holders(of: Self.vip) == ["nginx-1"])
        model.apply(.linkDown(node: "nginx-1", interface: "eth1"))
        #expect(model.network.interfaceUp("nginx-1", "bond0"))
        #expect(model.role(node: "nginx-1", instance: "VI_1") == .master && model.holders(of: Self.vip) == ["nginx-1"])
        model.apply(.linkDown(node: "nginx-1", interface: "eth2"))
        #expect(!model.network.interfaceUp("nginx-1", "bond0"))
        #expect(model.role(node: "nginx-1", instance: "VI_1") == .fault && model.holders(of: Self.vip) == ["nginx-2"])
        model.apply(.linkUp(node: "nginx-1", interface: "eth2"))
        #expect(model.holders(of: Self.vip) == ["nginx-1"])
    }

    @Test func aSwitchLostMovesEveryBondToTheOther() throws {
        var model = try Self.model()
        model.apply(.switchDown(segment: "lan-a"))
        #expect(
            model.network.activeSegment("nginx-1", "bond0") == "lan-b"
                && model.network.activeSegment("nginx-2", "bond0") == "lan-b")
        #expect(model.holders(of: Self.vip) == ["nginx-1"] && model.canServe("nginx-1", address: Self.vip))
    }

    /// Bonds on different switches hear each other only through the inter-switch link.
    @Test func theBridgeJoinsTheSwitches() throws {
        var model = try Self.model()
        model.apply(.linkDown(node: "nginx-2", interface: "eth1"))
        #expect(
            model.network.activeSegment("nginx-2", "bond0") == "lan-b"
                && model.network.activeSegment("nginx-1", "bond0") == "lan-a")
        #expect(model.holders(of: Self.vip) == ["nginx-1"] && model.network.reachable("nginx-2", from: "nginx-1"))
        model.apply(.crash(node: "switch-link"))
        #expect(
            Set(model.holders(of: Self.vip)) == ["nginx-1", "nginx-2"]
                && !model.network.reachable("nginx-2", from: "nginx-1"))
        model.apply(.revive(node: "switch-link"))
        #expect(model.holders(of: Self.vip) == ["nginx-1"])
        // A bridge with one port down joins nothing.
        model.apply(.linkDown(node: "switch-link", interface: "eth2"))
        #expect(Set(model.holders(of: Self.vip)) == ["nginx-1", "nginx-2"])
    }

    /// Active-backup with a primary: the first NIC is active again as soon as its link is.
    @Test func theBondGoesBackToItsPrimary() throws {
        var model = try Self.model()
        model.apply(.crash(node: "switch-link"))
        model.apply(.linkDown(node: "nginx-1", interface: "eth1"))
        #expect(Set(model.holders(of: Self.vip)) == ["nginx-1", "nginx-2"])
        model.apply(.linkUp(node: "nginx-1", interface: "eth1"))
        #expect(
            model.network.activeSegment("nginx-1", "bond0") == "lan-a" && model.holders(of: Self.vip) == ["nginx-1"])
    }

    @Test func failuresAreTheBondsCablesAndTheSwitches() throws {
        let failures = ConfigCheck.failures(try Self.model()).map(\.description)
        #expect(failures.contains("link down nginx-1:eth1") && failures.contains("link down nginx-2:eth2"))
        #expect(failures.contains("switch down lan-a") && failures.contains("switch down lan-b"))
        #expect(
            !failures.contains("link down nginx-1")
                && !failures.contains { $0.contains("bond0") || $0.contains("switch-link") })
        #expect(
            try VRRPModelTests.lab("dual-switch-bond").keepalived.flatMap(\.findings).filter { $0.severity == .error }
                .isEmpty)
    }
}

extension LabLoadingTests {
    static let bondedNodes = """
        segments: [lan-a, lan-b]
        nodes:
          nginx-1:
            services: [nginx, keepalived]
            interfaces:
              eth1: { segment: lan-a }
              eth2: { segment: lan-b }
              bond0: { bond: [eth1, eth2], address: 10.33.1.11/24 }
          client:
            role: client
            interfaces:
              eth1: { segment: lan-a, address: 10.33.1.50/24 }
        """

    @Test func loadsBondsAndBridges() throws {
        let folder = try brokenLab("lab.yaml", Self.bondedNodes)
        defer {
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: folder).deletingLastPathComponent().path)
        }
        let lab = try Lab.load(folder: folder)
        let node = lab.topology.nodes[0]
        #expect(
            node.aggregates == [
                AggregateSpec(name: "bond0", kind: .bond, members: ["eth1", "eth2"], address: "10.33.1.11/24")
            ])
        #expect(node.interfaces.map(\.address) == [nil, nil] && node.addresses == ["10.33.1.11"])
        #expect(lab.vrrpModel().nodes["nginx-1"]?.bonds == ["bond0": ["eth1", "eth2"]])
        #expect(lab.primaryAddress(of: "nginx-1") == IPv4.parse(cidr: "10.33.1.11/24")?.address)
        let bridge = try VRRPModelTests.lab("dual-switch-bond").topology.node("switch-link")
        #expect(
            bridge.aggregates == [AggregateSpec(name: "br0", kind: .bridge, members: ["eth1", "eth2"], address: nil)])
        #expect(bridge.addresses.isEmpty)
    }

    @Test func badBondsAreRefusedWithTheirLine() throws {
        let nodes = Self.bondedNodes
        try expectError(
            "lab.yaml", nodes.replacingOccurrences(of: "[eth1, eth2]", with: "[eth1, eth3]"),
            line: 8, containing: "names eth3, which is no NIC of nginx-1")
        try expectError(
            "lab.yaml",
            nodes.replacingOccurrences(
                of: "eth2: { segment: lan-b }", with: "eth2: { segment: lan-b, address: 10.33.2.11/24 }"),
            line: 7, containing: "eth2 is in bond bond0: its address goes on bond0")
        try expectError(
            "lab.yaml", nodes.replacingOccurrences(of: "[eth1, eth2]", with: "[eth1]"),
            line: 7, containing: "interface eth2 of nginx-1 needs an address (or to be in a bond or bridge)")
        try expectError(
            "lab.yaml",
            nodes.replacingOccurrences(
                of: "address: 10.33.1.11/24 }", with: "address: 10.33.1.11/24 }\n      br0: { bridge: [eth1] }"),
            line: 9, containing: "eth1 is in bond0 already")
        try expectError(
            "lab.yaml",
            nodes.replacingOccurrences(of: "bond: [eth1, eth2],", with: "bond: [eth1, eth2], segment: lan-a,"),
            line: 8, containing: "unknown key 'segment' in interface bond0 of nginx-1")
    }

    @Test func aBondHasNoCableToPull() throws {
        let topology = try VRRPModelTests.lab("dual-switch-bond").topology
        let error = #expect(throws: HALabError.self) {
            try FaultPlan(
                .linkDown(node: "nginx-1", interface: "bond0", atSwitch: true), topology: topology, on: true,
                switches: false)
        }
        #expect(
            error?.description.contains(
                "'bond0' of node 'nginx-1' is a bond of eth1, eth2, not a NIC: name one of its NICs (nginx-1:eth1)")
                == true)
        #expect(
            try FaultPlan(
                .linkDown(node: "nginx-1", interface: "eth2", atSwitch: true), topology: topology, on: true,
                switches: false
            ).steps
                == [.cable(node: "nginx-1", interface: "eth2", plugged: false)])
    }

    @Test func theNamespaceBackendRefusesBondsWithTheFix() throws {
        let lab = try VRRPModelTests.lab("dual-switch-bond")
        let error = #expect(throws: HALabError.self) { try NamespaceBackend.checkPrerequisites(for: lab.topology) }
        #expect(
            error?.description.contains("nginx-1's bond0 is a bond") == true
                && error?.description.contains("--backend libvirt") == true)
    }
}

extension LibvirtXMLTests {
    @Test func aVMMakesItsBondsAndBridgesAtBoot() {
        let node = NodeSpec(
            name: "n1",
            interfaces: [
                InterfaceSpec(name: "eth1", segment: "lan-a", address: nil),
                InterfaceSpec(name: "eth2", segment: "lan-b", address: nil)
            ],
            aggregates: [
                AggregateSpec(name: "bond0", kind: .bond, members: ["eth1", "eth2"], address: "10.33.1.11/24")
            ],
            services: [], fileLayers: [])
        let settings = NodeFiles.guestSettings(node: node, macs: ["52:54:00:01:02:00", "52:54:00:01:02:01"])
        #expect(settings.contains("HALAB_LINKS='52:54:00:01:02:00=eth1= 52:54:00:01:02:01=eth2='"))
        for command in [
            "modprobe bonding max_bonds=0", "ip link add bond0 type bond mode active-backup miimon 100",
            "ip link set eth2 down && ip link set eth2 master bond0", "ip link set bond0 type bond primary eth1",
            "ip addr add 10.33.1.11/24 dev bond0", "ip link set bond0 up"
        ] {
            #expect(settings.contains(command), "\(command)")
        }
        let bridge = NodeFiles.aggregateCommands([
            AggregateSpec(name: "br0", kind: .bridge, members: ["eth1", "eth2"], address: nil)
        ])
        #expect(
            bridge.contains("ip link add br0 type bridge")
                && !bridge.contains { $0.contains("primary") || $0.contains("addr add") })
        #expect(NodeFiles.aggregateCommands([]).isEmpty)
    }
}
