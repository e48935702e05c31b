import Foundation
import Testing
@testable import HALab
@testable import HALabModel
@testable import HALabSystem

/// The model's worlds, split into independent parts (`VRRPWorlds`): the parts together say what
/// the whole lab does, each coupling rule keeps what depends together, and what a config
/// contains cannot make their number grow exponentially.
@Suite struct WorldPartsTests {
    /// A node on `lan` (10.33.1.0/24) serving nginx on port 80, with its keepalived.conf.
    struct Spec {
        var name: String
        var config: String
        var address: String
        var interfaces: [String: String] = [:]
        var routes: [String] = []
        var forwarding = false
    }

    static func model(_ specs: [Spec], files: [String: String] = [:]) -> VRRPModel {
        let nodes = specs.enumerated().map { index, spec in
            let networks = spec.interfaces.isEmpty ? ["eth1": spec.address] : spec.interfaces
            return VRRPModel.Node(
                name: spec.name, services: spec.config.isEmpty ? [] : ["nginx", "keepalived"],
                primaryAddress: 0x0A21_0100 + UInt32(index), ports: spec.config.isEmpty ? [:] : [80: "nginx"],
                addresses: networks.values.map { String($0.prefix { $0 != "/" }) },
                segments: networks.mapValues {
                    IPv4Network($0).base == IPv4Network("10.33.1.0/24").base ? "lan" : "wan"
                },
                networks: networks, files: files, routes: spec.routes, forwarding: spec.forwarding)
        }
        let instances = specs.flatMap {
            KeepalivedNodeConfig.read(node: $0.name, file: "\($0.name).conf", source: .text($0.config)).instances
        }
        return VRRPModel(nodes: nodes, instances: instances)
    }

    static func instance(
        _ name: String, vrid: Int, vip: String, priority: Int, interface: String = "eth1", body: String = ""
    ) -> String {
        """
        vrrp_instance \(name) {
            interface \(interface)
            virtual_router_id \(vrid)
            priority \(priority)
            advert_int 1
            virtual_ipaddress {
                \(vip)
            }
        \(body)
        }

        """
    }

    static func check(_ name: String, _ command: String, _ weight: Int) -> String {
        "vrrp_script \(name) {\n    script \"\(command)\"\n    interval 2\n    weight \(weight)\n}\n"
    }

    /// Designed labs, each needing one coupling rule of `independentParts`: without it, the
    /// parts disagree with the whole model (the oracle below).
    static let designed: [String: VRRPModel] = [
        // The same VIP in two VRRP groups: both masters hold it.
        "one VIP in two groups": model([
            Spec(
                name: "n1", config: instance("VI_1", vrid: 51, vip: "10.33.1.100", priority: 100),
                address: "10.33.1.11/24"),
            Spec(
                name: "n2", config: instance("VI_1", vrid: 51, vip: "10.33.1.100", priority: 90),
                address: "10.33.1.12/24"),
            Spec(
                name: "n3", config: instance("VI_2", vrid: 52, vip: "10.33.1.100", priority: 100),
                address: "10.33.1.13/24"),
            Spec(
                name: "n4", config: instance("VI_2", vrid: 52, vip: "10.33.1.100", priority: 90),
                address: "10.33.1.14/24")
        ]),
        // n1 is VI_A's backup, whose notify stops nginx there: VI_B's check on n1 then fails.
        "a notify that stops what another instance checks": model([
            Spec(
                name: "n1",
                config: check("chk", "pidof nginx", 0)
                    + instance(
                        "VI_A", vrid: 51, vip: "10.33.1.100", priority: 90,
                        body:
                            "    notify_backup \"rc-service nginx stop\"\n    notify_master \"rc-service nginx start\"")
                    + instance(
                        "VI_B", vrid: 52, vip: "10.33.1.200", priority: 100,
                        body: "    track_script {\n        chk\n    }"),
                address: "10.33.1.11/24"),
            Spec(
                name: "n2",
                config: instance("VI_A", vrid: 51, vip: "10.33.1.100", priority: 100)
                    + instance("VI_B", vrid: 52, vip: "10.33.1.200", priority: 90), address: "10.33.1.12/24")
        ]),
        // n1's VI_B is on an interface n1 lacks: its keepalived does not start, VI_A neither.
        "a node whose keepalived does not start": model([
            Spec(
                name: "n1",
                config: instance("VI_A", vrid: 51, vip: "10.33.1.100", priority: 100)
                    + instance("VI_B", vrid: 52, vip: "10.33.1.200", priority: 100, interface: "eth9"),
                address: "10.33.1.11/24"),
            Spec(
                name: "n2",
                config: instance("VI_A", vrid: 51, vip: "10.33.1.100", priority: 90)
                    + instance("VI_B", vrid: 52, vip: "10.33.1.200", priority: 90), address: "10.33.1.12/24")
        ]),
        // n1's check asks n3's nginx, which n3's VI_B stops as n3 becomes its backup, and starts as its master.
        "a check of another node's service that a notify stops": model([
            Spec(
                name: "n1",
                config: check("chk", "curl -sf http://10.33.1.13/", 0)
                    + instance(
                        "VI_A", vrid: 51, vip: "10.33.1.100", priority: 100,
                        body: "    track_script {\n        chk\n    }"),
                address: "10.33.1.11/24"),
            Spec(
                name: "n2", config: instance("VI_A", vrid: 51, vip: "10.33.1.100", priority: 90),
                address: "10.33.1.12/24"),
            Spec(
                name: "n3",
                config: instance(
                    "VI_B", vrid: 52, vip: "10.33.1.200", priority: 90,
                    body: "    notify_backup \"rc-service nginx stop\"\n    notify_master \"rc-service nginx start\""),
                address: "10.33.1.13/24"),
            Spec(
                name: "n4", config: instance("VI_B", vrid: 52, vip: "10.33.1.200", priority: 100),
                address: "10.33.1.14/24")
        ]),
        // Peers that float different VIPs: n2, skipping the check of the master's, hears n1 all the same.
        "peers with different VIPs": model([
            Spec(
                name: "n1", config: instance("VI_1", vrid: 51, vip: "10.33.1.100", priority: 100),
                address: "10.33.1.11/24"),
            Spec(
                name: "n2",
                config: instance("VI_1", vrid: 51, vip: "10.33.1.101", priority: 90, body: "    skip_check_adv_addr"),
                address: "10.33.1.12/24")
        ]),
        // n1's VI_B tracks eth2: down, it goes to FAULT, and its sync group's VI_A with it.
        "a sync group": model(
            ["n1": 100, "n2": 90].sorted { $0.key < $1.key }.map { name, priority in
                Spec(
                    name: name,
                    config: "vrrp_sync_group G {\n    group {\n        VI_A\n        VI_B\n    }\n}\n"
                        + instance("VI_A", vrid: 51, vip: "10.33.1.100", priority: priority)
                        + instance(
                            "VI_B", vrid: 52, vip: "10.33.1.200", priority: priority,
                            body: "    track_interface {\n        eth2\n    }"),
                    address: "",
                    interfaces: ["eth1": "10.33.1.\(priority / 10 + 1)/24", "eth2": "203.0.113.\(priority / 10 + 1)/24"]
                )
            }),
        // web-1 pings a server through the LAN's gateway VIP; gw-2 (after gw-1) has no uplink.
        "a ping routed through a VIP": model([
            Spec(
                name: "gw-1", config: instance("VI_GW", vrid: 10, vip: "10.33.1.254", priority: 100), address: "",
                interfaces: ["eth1": "10.33.1.1/24", "eth2": "203.0.113.2/24"], forwarding: true),
            Spec(
                name: "gw-2", config: instance("VI_GW", vrid: 10, vip: "10.33.1.254", priority: 90),
                address: "10.33.1.2/24",
                forwarding: true),
            Spec(
                name: "server", config: "", address: "", interfaces: ["eth2": "203.0.113.1/24"],
                routes: ["10.33.1.0/24 via 203.0.113.2"]),
            Spec(
                name: "web-1",
                config: check("chk_up", "ping -c 1 203.0.113.1", -20)
                    + instance(
                        "VI_WEB", vrid: 51, vip: "10.33.1.100", priority: 100,
                        body: "    track_script {\n        chk_up\n    }"),
                address: "10.33.1.11/24", routes: ["default via 10.33.1.254"]),
            Spec(
                name: "web-2", config: instance("VI_WEB", vrid: 51, vip: "10.33.1.100", priority: 90),
                address: "10.33.1.12/24")
        ])
    ]

    static let shipped = [
        "master-backup", "dual-master", "three-node", "fast-failover", "master-backup-unicast", "master-backup-ipv6",
        "haproxy-pair", "dual-switch", "dual-switch-sync", "dual-switch-bond", "dual-isp"
    ]

    /// The oracle: where no check is unknown, the parts together predict what the whole lab
    /// does — holders and bound — as it comes up and after every row of check's table, every
    /// kind of fault.
    @Test(arguments: shipped + designed.keys.sorted())
    func partsAgreeWithTheWholeModel(_ name: String) throws {
        let model = try Self.designed[name] ?? VRRPModelTests.lab(name).vrrpModel()
        #expect(model.unknownChecks().isEmpty)
        let start = VRRPWorlds(model)
        for address in model.virtualAddresses {
            #expect(start.holders(of: address) == model.holders(of: address), "\(name): \(address)")
        }
        for failures in ConfigCheck.failureSequences(model, kinds: Set(Fault.Kind.allCases)) {
            var whole = model
            var worlds = start
            for event in failures.flatMap({ $0.events(nodes: model.nodes.keys.sorted()) }) {
                let expected = whole.apply(event)
                #expect(abs(worlds.apply(event) - expected) < 1e-9, "\(name): \(failures.map(\.description)) bound")
            }
            for address in model.virtualAddresses {
                let parts = worlds.holders(of: address) ?? ["unknown"]
                #expect(
                    Set(parts) == Set(whole.holders(of: address)), "\(name), \(failures.map(\.description)): \(address)"
                )
            }
        }
    }

    /// One check's outcome is one: seen on one VIP, it is known for every VIP it decides.
    @Test func aCheckSeenOnOneVIPIsKnownForTheOthers() {
        let tracked = "    track_script {\n        chk\n    }"
        let config = { (priority: Int) in
            Self.check("chk", "/opt/app/check.sh", -20)
                + Self.instance("VI_1", vrid: 51, vip: "10.33.1.100", priority: priority, body: tracked)
                + Self.instance("VI_2", vrid: 52, vip: "10.33.1.200", priority: priority, body: tracked)
        }
        var worlds = VRRPWorlds(
            Self.model([
                Spec(name: "n1", config: config(100), address: "10.33.1.11/24"),
                Spec(name: "n2", config: config(90), address: "10.33.1.12/24")
            ]))
        worlds.apply(.stopService("nginx", node: "n1"))
        #expect(worlds.holders(of: "10.33.1.100") == nil && worlds.holders(of: "10.33.1.200") == nil)
        worlds.keep(matching: ["10.33.1.100": ["n2"]])
        #expect(worlds.holders(of: "10.33.1.200") == ["n2"])
    }

    /// n unknown checks in n independent VRRP groups: 2 worlds each, 2n in all (not 2^n), and
    /// each VIP depends on its own check only.
    @Test func unknownChecksInIndependentGroupsGrowLinearly() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("halab-parts-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let model = try Lab.load(folder: try LabGenerator.checkLoad(.unreadableChecks, instances: 64, in: scratch))
            .vrrpModel()
        var worlds = VRRPWorlds(model)
        #expect(worlds.worldCount == 64)
        worlds.apply(.stopService("nginx", node: "node-1"))
        #expect(worlds.worldCount == 128)
        let dependence = try #require(worlds.dependence(of: "10.34.7.100"))
        #expect(dependence.contains("check-7.sh") && !dependence.contains("check-8.sh"), "\(dependence)")
    }

    /// Past `VRRPWorlds.limit` worlds in one group, its VIPs are unknown (said so), never guessed;
    /// the other groups' are still predicted.
    @Test func aGroupWithTooManyUnknownsIsUnknownAndSaysWhy() {
        let scripts = (1...6).map { Self.check("chk_\($0)", "/opt/app/check-\($0).sh", -5) }.joined()
        let tracked = "    track_script {\n" + (1...6).map { "        chk_\($0)\n" }.joined() + "    }"
        let config = { (priority: Int) in
            scripts + Self.instance("VI_1", vrid: 51, vip: "10.33.1.100", priority: priority, body: tracked)
                + Self.instance("VI_2", vrid: 52, vip: "10.33.1.200", priority: priority)
        }
        var worlds = VRRPWorlds(
            Self.model([
                Spec(name: "n1", config: config(100), address: "10.33.1.11/24"),
                Spec(name: "n2", config: config(90), address: "10.33.1.12/24")
            ]))
        worlds.apply(.stopService("nginx", node: "n1"))
        #expect(worlds.holders(of: "10.33.1.100") == nil)
        #expect(worlds.dependence(of: "10.33.1.100")?.hasPrefix("6 checks the model cannot judge at once") == true)
        #expect(worlds.worldCount <= VRRPWorlds.limit + 1)
        #expect(worlds.holders(of: "10.33.1.200") == ["n1"])
        // Known again, it stays unknown: the worlds it did not follow may have gone elsewhere.
        worlds.apply(.startService("nginx", node: "n1"))
        #expect(worlds.holders(of: "10.33.1.100") == nil)
    }

    /// check's table is bounded by rows × instances, and says where it stopped.
    @Test func theTableStopsAtItsLimitAndSaysSo() throws {
        #expect(ConfigCheck.rowLimit(instances: 4) == 10_000 && ConfigCheck.rowLimit(instances: 1000) == 200)
        #expect(ConfigCheck.rowLimit(instances: 400) == 500)
        let model = VRRPModelTests.model([100, 90])
        let report = ConfigCheck.run(
            lab: "pair", configs: [], model: model, kinds: Set(Fault.Kind.allCases), rowLimit: 20)
        #expect(report.rows.count == 20)
        let total = ConfigCheck.failureSequences(model, kinds: Set(Fault.Kind.allCases)).count
        #expect(report.findings.contains { $0.message.hasPrefix("the failure table stops at 20 of its \(total) rows") })
    }
}
