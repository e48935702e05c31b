import Foundation
import HALabSystem

/// A user's Alpine cloud image (qcow2, the NoCloud kind) as the VMs' image: each node boots a
/// qcow2 overlay of its own over it, and gets its files and start-up through a cloud-init
/// NoCloud seed (an ISO labelled `cidata`). Its per-boot script names the links, then does what
/// the document does on its Alpine hosts: `apk add` the services (and the QEMU guest agent,
/// through which halab talks to the VM), `rc-update add`, `rc-service … start`. `apk add`
/// needs the packages in the image already or a repository the node can reach.
public struct CloudImage: Sendable {
    public let base: String

    public init(base: String) { self.base = base }

    /// Written on each boot once the services were started (in /run, so a revived VM's old one never counts).
    static let statusFile = "/run/halab-init.status"
    static let perBootScript = "/var/lib/cloud/scripts/per-boot/halab.sh"
    /// The Alpine packages behind each service; `local` is OpenRC's own.
    static let packages = ["nginx": "nginx", "keepalived": "keepalived"]

    public func require() throws {
        guard FileSystem.exists(base) else {
            throw HALabError.usage("no cloud image at \(base): give the path of an Alpine qcow2 image (nocloud kind)")
        }
        for (program, package) in [("qemu-img", "qemu-utils"), ("genisoimage", "genisoimage")]
        where !Command.exists(program) {
            throw HALabError.missingProgram(program, fix: "install it with 'apt-get install -y \(package)'")
        }
    }

    /// Makes the node's overlay disk and seed ISO in `folder`; returns their paths.
    func prepare(_ node: NodeSpec, lab: String, macs: [String], folder: String) async throws -> (
        disk: String, seed: String
    ) {
        let disk = "\(folder)/\(node.name).qcow2"
        let seed = "\(folder)/\(node.name).seed.iso"
        let seedFolder = "\(folder)/\(node.name).seed"
        try? FileSystem.remove(seedFolder)
        defer { try? FileSystem.remove(seedFolder) }
        try FileSystem.makeDirectory(seedFolder)
        try FileSystem.write(Self.metaData(lab: lab, node: node.name), to: "\(seedFolder)/meta-data")
        try FileSystem.write(
            Self.userData(node: node, macs: macs, files: try Self.nodeFiles(node)), to: "\(seedFolder)/user-data")
        // No network set-up by cloud-init (nor its DHCP fallback): the per-boot script does it.
        try FileSystem.write("version: 1\nconfig: []\n", to: "\(seedFolder)/network-config")
        try await Command.run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, disk])
        try await Command.run(
            "genisoimage",
            ["-quiet", "-output", seed, "-volid", "cidata", "-joliet", "-rock"]
                + ["user-data", "meta-data", "network-config"].map { "\(seedFolder)/\($0)" })
        return (disk, seed)
    }

    static func metaData(lab: String, node: String) -> String {
        "instance-id: \(LibvirtXML.domainName(lab: lab, node: node))\nlocal-hostname: \(node)\n"
    }

    /// The node's files (its folder first, then `shared/`): absolute path, mode, content.
    static func nodeFiles(_ node: NodeSpec) throws -> [(path: String, mode: Int, content: Data)] {
        var files: [String: (Int, Data)] = [:]
        for layer in node.fileLayers.reversed() where FileSystem.isDirectory(layer) {
            guard let walker = FileManager.default.enumerator(atPath: layer) else { continue }
            for case let relative as String in walker where !FileSystem.isDirectory("\(layer)/\(relative)") {
                let attributes = try FileManager.default.attributesOfItem(atPath: "\(layer)/\(relative)")
                files["/" + relative] = (
                    (attributes[.posixPermissions] as? Int) ?? 0o644,
                    FileManager.default.contents(atPath: "\(layer)/\(relative)") ?? Data()
                )
            }
        }
        return files.sorted { $0.key < $1.key }.map { ($0.key, $0.value.0, $0.value.1) }
    }

    /// cloud-config: the node's files, its settings (as for halab's own image) and the per-boot
    /// script, which names the links by MAC address.
    static func userData(node: NodeSpec, macs: [String], files: [(path: String, mode: Int, content: Data)]) -> String {
        let packages = node.services.compactMap { Self.packages[$0] } + ["qemu-guest-agent"]
        let script = """
            #!/bin/sh
            # halab: every boot of node \(node.name): links, packages, the guest agent, the services.
            \(NodeImage.linkSetup)
            apk add \(packages.joined(separator: " "))
            rc-update add qemu-guest-agent default
            rc-service qemu-guest-agent start
            for service in $HALAB_SERVICES; do
                rc-update add "$service" default
                if rc-service "$service" start; then echo "$service ok"; else echo "$service failed"; fi
            done > \(statusFile).new
            mv \(statusFile).new \(statusFile)

            """
        var entries = files.map { (path: $0.path, mode: $0.mode, content: $0.content) }
        entries.append(("/etc/halab/node.sh", 0o644, Data(NodeFiles.guestSettings(node: node, macs: macs).utf8)))
        entries.append((perBootScript, 0o755, Data(script.utf8)))
        var lines = ["#cloud-config", "hostname: \(node.name)", "write_files:"]
        for entry in entries {
            lines += [
                "  - path: \(entry.path)", "    encoding: b64",
                "    permissions: '0\(String(entry.mode & 0o7777, radix: 8))'",
                "    content: \(entry.content.base64EncodedString())"
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
