import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// Lab folders halab writes itself, for benchmarks: an N-node VRRP group, and the document's
/// master-backup tuned for fast failover.
public enum LabGenerator {
    /// `group-N`: nodes node-1 … node-N on one segment, one VRRP instance (the document's
    /// config with priorities 250, 249, …), and a client.
    public static func group(size: Int, in parent: String, sharedFrom template: String) throws -> String {
        guard (1...64).contains(size) else { throw HALabError.usage("a generated group has 1 to 64 nodes") }
        let folder = "\(parent)/group-\(size)"
        try? FileSystem.remove(folder)
        try FileSystem.makeDirectory(folder)
        try FileManager.default.copyItem(atPath: "\(template)/shared", toPath: "\(folder)/shared")
        var yaml = "description: a generated group of \(size) nodes\nsegments: [lan]\nnodes:\n"
        for index in 1...size {
            let node = "node-\(index)"
            yaml +=
                "  \(node):\n    services: [nginx, keepalived]\n    interfaces:\n      eth1: { segment: lan, address: "
                    + "10.33.1.\(10 + index)/24 }\n"
            try FileSystem.makeDirectory("\(folder)/\(node)/etc/keepalived")
            try FileSystem.makeDirectory("\(folder)/\(node)/var/www/html")
            try FileSystem.write("\(node)\n", to: "\(folder)/\(node)/var/www/html/index.html")
            try FileSystem.write(
                keepalivedConfig(node: node, priority: 251 - index, master: index == 1),
                to: "\(folder)/\(node)/etc/keepalived/keepalived.conf")
        }
        yaml += "  client:\n    role: client\n    interfaces:\n      eth1: { segment: lan, address: 10.33.1.200/24 }\n"
        try FileSystem.write(yaml, to: "\(folder)/lab.yaml")
        return folder
    }

    static func keepalivedConfig(node: String, priority: Int, master: Bool) -> String {
        """
        global_defs {
            router_id \(node.uppercased())
        }

        vrrp_script chk_nginx {
            script "pidof nginx"
            interval 2
            weight -20
        }

        vrrp_instance VI_1 {
            state \(master ? "MASTER" : "BACKUP")
            interface eth1
            virtual_router_id 51
            priority \(priority)
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass mysecret
            }
            virtual_ipaddress {
                10.33.1.100/24
            }
            track_script {
                chk_nginx
            }
        }

        """
    }

    /// `master-backup-tuned`: the document's master-backup with VRRPv3 adverts every 0.1 s and
    /// the quickest health check keepalived 2.2.7 takes (every 1 s: it refuses fractions).
    public static func tunedMasterBackup(from source: String, in parent: String) throws -> String {
        let folder = "\(parent)/master-backup-tuned"
        try? FileSystem.remove(folder)
        try FileManager.default.copyItem(atPath: source, toPath: folder)
        try? FileSystem.remove("\(folder)/scenario.yaml")
        try? FileSystem.remove("\(folder)/network-faults.yaml")
        for node in ["nginx-1", "nginx-2"] {
            let file = "\(folder)/\(node)/etc/keepalived/keepalived.conf"
            var text = try FileSystem.read(file)
            text = text.replacingOccurrences(of: "global_defs {\n", with: "global_defs {\n    vrrp_version 3\n")
                .replacingOccurrences(of: "advert_int 1 ", with: "advert_int 0.1 ")
                .replacingOccurrences(of: "interval 2 ", with: "interval 1 ")
            try FileSystem.write(text, to: file)
        }
        return folder
    }
}
