import HALabSystem

/// Labs whose keepalived configs are a worst case for `halab check`: many instances, each
/// with a check of its own, as a production config of many VIPs has them. The bench times
/// check on them, and a test holds its peak memory.
extension LabGenerator {
    public enum CheckLoad: String, Sendable, CaseIterable {
        /// Two nodes; each instance tracks a script file the lab lacks: a check the model cannot read.
        case unreadableChecks = "unreadable-checks"
        /// Two nodes; each instance tracks `pidof nginx`.
        case readableChecks = "readable-checks"
        /// One server, each instance tracking its own script outside the lab (a third-party file's shape).
        case oneServer = "one-server"
        /// Two nodes whose instances a `~SEQ` makes from multi-line `$` definitions, each with a script the lab lacks.
        case sequences
    }

    /// Writes the lab `check-LOAD-N` of `instances` instances under `parent`; returns its folder.
    public static func checkLoad(_ load: CheckLoad, instances: Int, in parent: String) throws -> String {
        guard (1...255).contains(instances) else {
            throw HALabError.usage("a generated check load has 1 to 255 instances (one VRID each)")
        }
        let folder = "\(parent)/check-\(load.rawValue)-\(instances)"
        try? FileSystem.remove(folder)
        let nodes = load == .oneServer ? ["server"] : ["node-1", "node-2"]
        var yaml =
            "description: \(instances) instances, each with a check of its own (\(load.rawValue))\nsegments: "
                + "[lan]\nnodes:\n"
        for (number, node) in nodes.enumerated() {
            let interface = load == .oneServer ? "eth0" : "eth1"
            yaml +=
                "  \(node):\n    services: [nginx, keepalived]\n    interfaces:\n      \(interface): { segment: lan, "
                + "address: 10.33.1.\(11 + number)/24 }\n"
            try FileSystem.makeDirectory("\(folder)/\(node)/etc/keepalived")
            try FileSystem.write(
                checkLoadConfig(load, instances: instances, node: number),
                to: "\(folder)/\(node)/etc/keepalived/keepalived.conf")
        }
        yaml += "  client:\n    role: client\n    interfaces:\n      eth1: { segment: lan, address: 10.33.1.50/24 }\n"
        try FileSystem.write(yaml, to: "\(folder)/lab.yaml")
        return folder
    }

    static func checkLoadConfig(_ load: CheckLoad, instances: Int, node: Int) -> String {
        let state = node == 0 ? "MASTER" : "BACKUP"
        let priority = node == 0 ? 100 : 90
        let address = { (index: Int) in "10.\(34 + index / 250).\(index % 250).100/24" }
        switch load {
        case .unreadableChecks, .readableChecks:
            return (1...instances).map { index in
                """
                vrrp_script chk_\(index) {
                    script "\(load == .readableChecks ? "pidof nginx" : "/opt/app/check-\(index).sh")"
                    interval 2
                    weight -20
                }
                vrrp_instance VI_\(index) {
                    state \(state)
                    interface eth1
                    virtual_router_id \(index)
                    priority \(priority)
                    advert_int 1
                    virtual_ipaddress {
                        \(address(index))
                    }
                    track_script {
                        chk_\(index)
                    }
                }

                """
            }.joined()
        case .oneServer:
            return (1...instances).map { index in
                """
                vrrp_script chk_\(index) {
                    script /home/ops/checks/vs.sh
                    interval 10
                    timeout 10
                }
                vrrp_instance redis_\(index) {
                    interface eth0
                    virtual_router_id \(index)
                    priority 120
                    virtual_ipaddress {
                        \(address(index))
                    }
                    track_script {
                        chk_\(index)
                    }
                }

                """
            }.joined()
        case .sequences:
            return """
                $PRIORITY=\(priority)
                $CHECK= \\
                vrrp_script chk_$N { \\
                    script "/opt/app/check.sh $N" \\
                    interval 2 \\
                    weight -20 \\
                }
                $INSTANCE= \\
                vrrp_instance VI_$N { \\
                    state \(state) \\
                    interface eth1 \\
                    virtual_router_id $N \\
                    priority $PRIORITY \\
                    advert_int 1 \\
                    virtual_ipaddress { \\
                        10.${N}.0.100/24 \\
                    } \\
                    track_script { \\
                        chk_$N \\
                    } \\
                }
                ~SEQ(N, 1, \(instances)) $CHECK
                ~SEQ(N, 1, \(instances)) $INSTANCE

                """
        }
    }
}
