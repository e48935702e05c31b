import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// `halab doctor`: what this machine has of what halab needs, what each missing piece disables,
/// and how to get it. Kernel features are tried in a throwaway network namespace.
public enum Doctor {
    public struct Item: Sendable, Codable {
        public var name: String
        public var ok: Bool
        /// A version, or what was found.
        public var detail: String
        /// What it is needed for (what is disabled without it), and the fix.
        public var needed: String
        public var fix: String
        /// Whether the namespace backend cannot run without it.
        public var essential: Bool
    }

    public static func examine() async -> [Item] {
        var items = [
            Item(name: "halab", ok: true, detail: HALabVersion.current, needed: "", fix: "", essential: false),
            Item(
                name: "root", ok: geteuid() == 0, detail: geteuid() == 0 ? "uid 0" : "uid \(geteuid())",
                needed: "every lab (namespaces, and libvirt's system connection)", fix: "run halab with sudo",
                essential: true)
        ]
        let root = geteuid() == 0
        for (name, script, needed, fix, essential) in kernelFeatures {
            let result =
                root ? try? await Command.run("unshare", ["--net", "--", "/bin/sh", "-c", script], check: false) : nil
            items.append(
                Item(
                    name: name, ok: result?.succeeded == true,
                    detail: root
                        ? (result?.succeeded == true
                            ? "works" : (result?.errorOutput.trimmingSpaces() ?? "unshare failed"))
                        : "not tried (needs root)",
                    needed: needed, fix: fix, essential: essential))
        }
        for (program, arguments, package, needed, essential) in programs {
            let found = Command.exists(program)
            let version =
                found
                ? (try? await Command.run(program, arguments, check: false)).map {
                    firstLine($0.output + $0.errorOutput)
                } ?? "" : "not installed"
            items.append(
                Item(
                    name: program, ok: found, detail: version, needed: needed, fix: "apt-get install -y \(package)",
                    essential: essential))
        }
        items.append(libvirtSocket())
        let image = NodeImage()
        items.append(
            Item(
                name: "node image", ok: image.manifest != nil,
                detail: image.manifest.map { "kernel \($0.kernelVersion), \($0.megabytes) MiB in \(image.folder)" }
                    ?? "not built",
                needed: "labs on VMs (--backend libvirt)", fix: "halab image build", essential: false))
        items.append(kvm(image))
        return items
    }

    /// Name, script run in a throwaway network namespace, what needs it, the fix, essential.
    static let kernelFeatures: [(String, String, String, String, Bool)] = [
        ("network namespaces", "true", "every namespace lab", "a kernel with CONFIG_NET_NS", true),
        (
            "veth", "ip link add halab0 type veth peer name halab1", "links between nodes and switches",
            "a kernel with CONFIG_VETH", true
        ),
        ("bridge", "ip link add halab0 type bridge", "switches (segments)", "a kernel with CONFIG_BRIDGE", true),
        (
            "nftables inet", "nft add table inet halab", "loss, partitions and blocked multicast at nodes",
            "a kernel with nf_tables (CONFIG_NF_TABLES_INET)", true
        ),
        (
            "nftables bridge", "nft add table bridge halab", "multicast blocked at the switches",
            "a kernel with CONFIG_NF_TABLES_BRIDGE", false
        ),
        (
            "netem", "ip link set lo up && tc qdisc add dev lo root netem delay 1ms",
            "chaos delay on namespace labs (VM guests have their own)",
            "a kernel with CONFIG_NET_SCH_NETEM, or run delays on --backend libvirt", false
        )
    ]

    /// Program, version arguments, Debian package, what needs it, essential.
    static let programs: [(String, [String], String, String, Bool)] = [
        (
            "keepalived", ["--version"], "keepalived", "every lab's VRRP, and keepalived's own config test in check",
            true
        ),
        ("nginx", ["-v"], "nginx", "the web servers of the document's labs", true),
        ("ip", ["-V"], "iproute2", "every namespace lab", true),
        ("nft", ["--version"], "nftables", "network faults", true),
        ("curl", ["--version"], "curl", "every client check", true),
        ("unshare", ["--version"], "util-linux", "every namespace node", true),
        ("haproxy", ["-v"], "haproxy", "labs with HAProxy (haproxy-pair)", false),
        ("tcpdump", ["--version"], "tcpdump", "looking at VRRP on the wire", false)
    ]

    static func libvirtSocket() -> Item {
        let sockets = ["/run/libvirt/libvirt-sock", "/var/run/libvirt/libvirt-sock"]
        let found = sockets.first(where: FileManager.default.fileExists)
        return Item(
            name: "libvirt", ok: found != nil, detail: found ?? "no libvirtd socket",
            needed: "labs on VMs (--backend libvirt)",
            fix: "scripts/libvirt-daemons start (or a system libvirtd)", essential: false)
    }

    /// Whether KVM really runs a guest here: what the first VM lab found out (kept next to the image).
    static func kvm(_ image: NodeImage) -> Item {
        let known = (try? FileSystem.read("\(image.folder)/domain-types"))?.split(separator: "\n").last.map(String.init)
        let detail =
            !FileManager.default.fileExists(atPath: "/dev/kvm")
            ? "no /dev/kvm: VMs run under software emulation (TCG)"
            : known.map { "found out: \($0)" }
                ?? "/dev/kvm exists; whether a guest runs under it is tried at the first VM lab"
        return Item(
            name: "kvm", ok: known?.hasSuffix(" kvm") == true, detail: detail,
            needed: "fast VMs (without it, TCG: slower)",
            fix: "a machine where KVM runs guests", essential: false)
    }

    static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map(String.init)?.trimmingSpaces() ?? ""
    }

    public static func text(_ items: [Item]) -> String {
        items.map { item in
            (item.ok ? "  ok       " : item.essential ? "  MISSING  " : "  missing  ")
                + item.name.padding(toLength: 20, withPad: " ", startingAt: 0) + item.detail
                + (item.ok ? "" : "\n           needed for \(item.needed); fix: \(item.fix)")
        }.joined(separator: "\n")
    }
}
