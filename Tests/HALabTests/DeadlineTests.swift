import Foundation
import Testing
@testable import HALabModel

/// Every deadline counts every delay a config sets: the model's bound of each event and the
/// settle bound of a VIP (the deadline of explicit expectations, `up`'s wait, chaos's watch),
/// one case per delay, each measured live first (docs/figures.md, "Delays").
@Suite struct DeadlineTests {
    static let vip = "10.33.1.100"

    /// master-backup's pair (100 and 90, chk_nginx every 2 s, weight -20) with `extra` lines in
    /// each instance and `global` in each global_defs.
    static func pair(_ extra: String = "", global: String = "", script: String = "") -> VRRPModel {
        let nodes = ["nginx-1", "nginx-2"].enumerated().map { index, name in
            VRRPModel.Node(
                name: name, services: ["nginx", "keepalived"], primaryAddress: 0x0A21_010B + UInt32(index),
                ports: [80: "nginx"],
                addresses: ["10.33.1.\(11 + index)"], segments: ["eth1": "lan"])
        }
        let instances = [("nginx-1", 100), ("nginx-2", 90)].flatMap { node, priority in
            KeepalivedNodeConfig.read(
                node: node, file: "k.conf",
                source: .text(
                    """
                    global_defs {
                        \(global)
                    }
                    vrrp_script chk_nginx {
                        script "pidof nginx"
                        interval 2
                        weight -20
                        \(script)
                    }
                    vrrp_instance VI_1 {
                        interface eth1
                        virtual_router_id 51
                        priority \(priority)
                        advert_int 1
                        \(extra)
                        virtual_ipaddress {
                            \(vip)/24
                        }
                        track_script {
                            chk_nginx
                        }
                    }
                    """)
            ).instances
        }
        return VRRPModel(nodes: nodes, instances: instances)
    }

    static func settleBound(_ model: VRRPModel, afterHang: Bool = false) -> Double {
        VirtualAddress.group(model.instances)[0].settleBound(afterHang: afterHang)
    }

    /// The document's pair: the check's 2 s, 90's Master_Down_Interval lowered to 70, one advert.
    static let plainSettle: Double = 2.0 + 3.0 + 186.0 / 256.0 + 1.0

    @Test func thePlainPairsBounds() {
        var model = Self.pair()
        #expect(abs(Self.settleBound(model) - Self.plainSettle) < 1e-9)
        #expect(abs(model.apply(.stopService("nginx", node: "nginx-1")) - (2 + 3 + 166.0 / 256)) < 1e-9)
    }

    /// preempt_delay: measured, nginx-2 started its delay as nginx-1 fell below it and took the
    /// VIP 12 s after the stop.
    @Test func preemptDelayCounts() {
        var model = Self.pair("preempt_delay 10")
        #expect(abs(Self.settleBound(model) - (Self.plainSettle + 10)) < 1e-9)
        #expect(abs(model.apply(.stopService("nginx", node: "nginx-1")) - (2 + 3 + 166.0 / 256 + 10)) < 1e-9)
        // A takeover from a crashed master is no preemption: no delay.
        var crash = Self.pair("preempt_delay 10")
        #expect(abs(crash.apply(.crash(node: "nginx-1")) - (3 + 166.0 / 256)) < 1e-9)
    }

    /// A check noticing: its interval times the larger of rise and fall; after a hang, its
    /// timeout too (keepalived's `timeout`, the interval unless set).
    @Test func checkRiseFallAndTimeoutCount() {
        #expect(abs(Self.settleBound(Self.pair(script: "fall 3")) - (Self.plainSettle + 4)) < 1e-9)
        #expect(abs(Self.settleBound(Self.pair(script: "rise 3")) - (Self.plainSettle + 4)) < 1e-9)
        #expect(abs(Self.settleBound(Self.pair(), afterHang: true) - (Self.plainSettle + 2)) < 1e-9)
        #expect(abs(Self.settleBound(Self.pair(script: "timeout 5"), afterHang: true) - (Self.plainSettle + 5)) < 1e-9)
        #expect(abs(Self.settleBound(Self.pair(script: "timeout 5")) - Self.plainSettle) < 1e-9)
    }

    /// down_timer_adverts: measured, 10 on the backup made a crash cost 10.34 s, not 3.65.
    @Test func downTimerAdvertsCount() {
        var model = Self.pair("down_timer_adverts 10")
        #expect(abs(model.apply(.crash(node: "nginx-1")) - (10 + 166.0 / 256)) < 1e-9)
        #expect(abs(Self.settleBound(Self.pair("down_timer_adverts 10")) - (Self.plainSettle + 7)) < 1e-9)
        // global_defs' vrrp_down_timer_adverts is the instances' default; strict mode keeps 3.
        #expect(Self.pair(global: "vrrp_down_timer_adverts 6").instances.allSatisfy { $0.downTimerAdverts == 6 })
        let strict = KeepalivedNodeConfig.read(
            node: "n", file: "k.conf",
            source: .text(
                "global_defs {\n vrrp_strict\n}\nvrrp_instance V {\n virtual_router_id 1\n down_timer_adverts 6\n}\n"))
        #expect(strict.instances[0].downTimerAdverts == 3)
        #expect(
            strict.findings.contains {
                $0.message == "down_timer_adverts is incompatible with strict mode: keepalived uses 3 in V"
            })
    }

    /// vrrp_startup_delay: measured, `up` took 11.8 s with 8 s of it; a node booting while a
    /// lower priority master advertises took 46 s (keepalived puts its timer back at each
    /// advert it discards during the delay).
    @Test func startupDelayCounts() {
        let model = Self.pair(global: "vrrp_startup_delay 8")
        #expect(model.instances.allSatisfy { $0.startupDelay == 8 && $0.startupDelayPush == 36 })
        #expect(abs(Self.settleBound(model) - (Self.plainSettle + 8 + 36)) < 1e-9)
        var booted = model
        booted.apply(.crash(node: "nginx-1"))
        #expect(abs(booted.apply(.revive(node: "nginx-1")) - (8 + 36 + 3 + 156.0 / 256)) < 1e-9)
        // keepalived restarted: the same; another start, none of it.
        var restarted = model
        restarted.apply(.stopService("keepalived", node: "nginx-1"))
        #expect(abs(restarted.apply(.startService("keepalived", node: "nginx-1")) - (8 + 36 + 3 + 156.0 / 256)) < 1e-9)
        var nginx = model
        nginx.apply(.stopService("nginx", node: "nginx-1"))
        #expect(abs(nginx.apply(.startService("nginx", node: "nginx-1")) - (2 + 3 + 156.0 / 256)) < 1e-9)
    }
}
