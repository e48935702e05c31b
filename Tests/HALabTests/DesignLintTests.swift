import Testing
@testable import HALabModel

/// The lints that read configs against the lab, and the model's rule for an interface the node
/// lacks: each finding, and what does not trigger it.
@Suite struct DesignLintTests {
    static func config(_ node: String, _ text: String) -> KeepalivedNodeConfig {
        KeepalivedNodeConfig.read(node: node, file: "\(node).conf", source: .text(text))
    }

    static func instance(
        interface: String = "eth1", vip: String = "10.33.1.100/24", priority: Int = 100, extra: String = ""
    ) -> String {
        """
        vrrp_script chk_nginx {
            script "/usr/bin/pidof nginx"
            weight -20
        }
        vrrp_instance VI_1 {
            interface \(interface)
            virtual_router_id 51
            priority \(priority)
            virtual_ipaddress {
                \(vip)
            }
        \(extra)
        }
        """
    }

    static let tracked = "    track_script {\n        chk_nginx\n    }"

    static func model(_ configs: [KeepalivedNodeConfig]) -> VRRPModel {
        let nodes = configs.enumerated().map { index, config in
            VRRPModel.Node(
                name: config.node, services: ["nginx", "keepalived"], primaryAddress: UInt32(11 + index),
                addresses: ["10.33.1.\(11 + index)"], segments: ["eth1": "lan"],
                networks: ["eth1": "10.33.1.\(11 + index)/24"])
        }
        return VRRPModel(nodes: nodes, instances: configs.flatMap(\.instances))
    }

    static func findings(_ configs: [KeepalivedNodeConfig]) -> [Finding] {
        ConfigCheck.run(lab: "t", configs: configs, model: model(configs)).findings
    }

    @Test func aScriptNoInstanceTracksIsFlagged() {
        let untracked = Self.findings([Self.config("n1", Self.instance())])
        #expect(
            untracked.contains {
                $0.severity == .warning && $0.location == "n1.conf:1"
                    && $0.message.hasPrefix("vrrp_script chk_nginx on n1 is tracked by no vrrp_instance (track_script)")
            })
        #expect(
            !Self.findings([Self.config("n1", Self.instance(extra: Self.tracked))]).contains {
                $0.message.contains("tracked by no")
            })
    }

    @Test func aNodeWithAnInstanceOnAnInterfaceItLacksNeverTakesTheVIP() {
        let configs = [
            Self.config("n1", Self.instance(extra: Self.tracked)),
            Self.config("n2", Self.instance(interface: "eth0", priority: 90, extra: Self.tracked))
        ]
        // keepalived 2.2.7 does not start there: n2 never takes the VIP, not even with n1 down.
        var model = Self.model(configs)
        #expect(model.role(node: "n2", instance: "VI_1") == .down)
        #expect(model.holders(of: "10.33.1.100") == ["n1"])
        model.apply(.crash(node: "n1"))
        #expect(model.holders(of: "10.33.1.100").isEmpty)
        // keepalived does not start at all there: the node's other instances are down too.
        let two = Self.config(
            "n2",
            Self.instance(interface: "eth0", priority: 90)
                + "\nvrrp_instance VI_2 {\n interface eth1\n virtual_router_id 52\n virtual_ipaddress {\n  "
                + "10.33.1.200/24\n }\n}\n"
        )
        #expect(Self.model([configs[0], two]).role(node: "n2", instance: "VI_2") == .down)
        // A node whose interfaces are unknown (a config checked alone) is not judged.
        let alone = VRRPModel(
            nodes: [VRRPModel.Node(name: "n2", services: [], primaryAddress: 1, addresses: [], segments: [:])],
            instances: configs[1].instances)
        #expect(alone.role(node: "n2", instance: "VI_1") == .master)
    }

    @Test func aVIPOutsideItsInterfacesNetworkIsFlagged() {
        let outside = Self.findings([Self.config("n1", Self.instance(vip: "10.33.2.100/24", extra: Self.tracked))])
        #expect(
            outside.contains {
                $0.severity == .warning
                    && $0.message
                        == "VI_1's VIP 10.33.2.100 is outside n1's network on eth1 (10.33.1.11/24): clients of that "
                            + "network do not ask for it"
            })
        #expect(
            !Self.findings([Self.config("n1", Self.instance(extra: Self.tracked))]).contains {
                $0.message.contains("outside")
            })
        #expect(
            IPv4Network("10.33.1.11/24").contains("10.33.1.254")
                && !IPv4Network("10.33.1.11/25").contains("10.33.1.200"))
        #expect(IPv4Network("0.0.0.0/0").contains("8.8.8.8") && !IPv4Network("10.33.1.11/32").contains("10.33.1.12"))
    }

    @Test func aUnicastPeerThatIsNoPeersAddressIsAnError() {
        let peers = { (peer: String) in
            [
                Self.config("n1", Self.instance(extra: Self.tracked + "\n    unicast_peer {\n        \(peer)\n    }")),
                Self.config(
                    "n2",
                    Self.instance(priority: 90, extra: Self.tracked + "\n    unicast_peer {\n        10.33.1.11\n    }")
                )
            ]
        }
        let typo = Self.findings(peers("10.33.1.21")).filter { $0.message.hasPrefix("unicast_peer") }
        #expect(
            typo.map(\.message) == [
                "unicast_peer 10.33.1.21 of VI_1 on n1 is no address of a peer (n2 10.33.1.12): its adverts reach "
                    + "nobody there, and that peer becomes MASTER too"
            ])
        #expect(typo.first?.severity == .error)
        #expect(!Self.findings(peers("10.33.1.12")).contains { $0.message.hasPrefix("unicast_peer") })
    }

    @Test func aSyncGroupWhoseMembersDisagreeOnPreemptionIsFlagged() {
        let text = { (second: String) in
            """
            vrrp_sync_group G1 {
                group {
                    VI_1
                    VI_2
                }
            }
            vrrp_instance VI_1 {
                interface eth1
                virtual_router_id 51
                nopreempt
                virtual_ipaddress {
                    10.33.1.100/24
                }
            }
            vrrp_instance VI_2 {
                interface eth1
                virtual_router_id 52
                \(second)
                virtual_ipaddress {
                    10.33.1.200/24
                }
            }
            """
        }
        let mixed = Self.findings([Self.config("n1", text(""))]).filter { $0.message.contains("sync group") }
        #expect(
            mixed.map(\.message) == [
                "the members of sync group G1 on n1 disagree on preemption: VI_1 nopreempt, VI_2 preempts"
            ])
        #expect(mixed.first?.location == "n1.conf:1")
        #expect(Self.findings([Self.config("n1", text("nopreempt"))]).allSatisfy { !$0.message.contains("sync group") })
    }
}
