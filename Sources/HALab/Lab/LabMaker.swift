import Foundation
import HALabBackends
import HALabModel
import HALabSystem
import Synchronization

/// `halab new`: a lab folder made from a user's keepalived.conf files, laid verbatim with what
/// they include, and what it takes to run them guessed from the configs themselves, each guess
/// said with where to change it.
public struct LabMaker: Sendable {
    public var folder: String
    /// Each node's name and its keepalived.conf.
    public var nodes: [(name: String, config: String)]
    /// halab's own labs, for the nginx.conf a web server node gets.
    public var templates: [String]
    /// Files the configs reference, given by hand: node, path in the node, and the local file.
    public var extraFiles: [(node: String, path: String, local: String)]

    public init(
        folder: String, nodes: [(name: String, config: String)], templates: [String],
        extraFiles: [(node: String, path: String, local: String)] = []
    ) {
        self.folder = folder
        self.nodes = nodes
        self.templates = templates
        self.extraFiles = extraFiles
    }

    struct Node {
        var name: String
        var config: KeepalivedNodeConfig
        var files: [String]
        /// The files its scripts, notify commands and track files name: path in the node → local file.
        var referenced: [String: String] = [:]
        var services: [String] = []
        var interfaces: [(name: String, address: String)] = []
    }

    /// Makes the lab; returns what it guessed, line by line.
    public func make() throws -> [String] {
        let name = URL(fileURLWithPath: folder).lastPathComponent
        guard !FileSystem.exists(folder) else {
            throw HALabError.usage(
                "'\(folder)' exists already: halab new makes a new folder (remove it, or name another)")
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
            throw HALabError.usage(
                "'\(name)' cannot name a lab: use lower-case letters, digits and '-', such as 'my-pair'")
        }
        var made = try nodes.map { try read($0.name, $0.config) }
        var guesses: [String] = []
        for index in made.indices { guesses += referencedFiles(&made[index]) }
        let segments = made.flatMap { $0.config.instances.map(\.interface) }.filter { !$0.isEmpty }.uniqueInOrder()
        guard !segments.isEmpty else {
            throw HALabError.usage("no vrrp_instance of these configs names an interface: nothing to lay out")
        }
        guesses.append(
            "segments: \(segments.joined(separator: ", ")) — one per interface name the configs use, shared by every "
                + "node that names it"
        )
        let (addressed, client) = address(&made, segments: segments)
        guesses += addressed
        for index in made.indices {
            made[index].services = services(of: made[index].config)
            guesses.append(
                "\(made[index].name): services \(made[index].services.joined(separator: ", ")) — from what its tracked "
                    + "scripts check"
            )
        }
        try write(made, segments: segments, client: client)
        guesses.append(
            "client: " + client.map { "\($0.segment) \($0.address)" }.joined(separator: ", ") + " — where curl runs")
        guesses.append("scenario.yaml: check's single failures, each followed by its mend, every step `expect: model`")
        guesses.append(
            "change any of it in \(folder)/lab.yaml and \(folder)/scenario.yaml; the configs are verbatim under each "
                + "node's etc/"
        )
        return guesses
    }

    func read(_ node: String, _ path: String) throws -> Node {
        guard FileSystem.exists(path) else {
            throw HALabError.badLabFile(file: path, line: nil, message: "no such keepalived.conf")
        }
        let read = FileList()
        let source = KeepalivedConfig.Source.machine
        let recording = KeepalivedConfig.Source(
            read: {
                read.add($0); return try source.read($0)
            }, expand: source.expand)
        let config = KeepalivedNodeConfig.read(
            node: node, file: URL(fileURLWithPath: path).standardizedFileURL.path, source: recording, configID: node)
        return Node(name: node, config: config, files: read.paths)
    }

    /// The files a node's config names that the node must have: its check and notify scripts
    /// and its track files, each found where it is given (`--file NODE:PATH=LOCAL`), else
    /// beside the config; a guess line for each, and for each it cannot find.
    func referencedFiles(_ node: inout Node) -> [String] {
        let beside = URL(fileURLWithPath: node.files.first ?? "").deletingLastPathComponent().path
        let commands = node.config.scripts.map(\.command) + node.config.instances.flatMap { $0.notify.values }
        let named = commands.flatMap { $0.split(whereSeparator: { " '\"".contains($0) }).map(String.init) }
            .filter { $0.hasPrefix("/") && !Self.systemPrograms.contains(where: $0.hasPrefix) }
        let paths = (named + node.config.instances.flatMap(\.trackedFiles).map(\.path)).uniqueInOrder()
        var guesses: [String] = []
        for path in paths {
            let given = extraFiles.first { $0.node == node.name && $0.path == path }?.local
            let found =
                given ?? ["\(beside)/\(URL(fileURLWithPath: path).lastPathComponent)"].first(where: FileSystem.isFile)
            if let found, FileSystem.isFile(found) {
                node.referenced[path] = found
                guesses.append("\(node.name): \(path) — from \(found)")
            } else if node.config.instances.flatMap(\.trackedFiles).contains(where: { $0.path == path }) {
                guesses.append("\(node.name): \(path) — not found; a track file keepalived reads as 0 until written")
            } else {
                guesses.append(
                    "\(node.name): \(path) — NOT FOUND beside \(node.files.first ?? "") : give it with --file "
                        + "\(node.name):\(path)=LOCAL"
                )
            }
        }
        return guesses
    }

    /// Paths of programs a node has from the machine, not files a config brings.
    static let systemPrograms = ["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/sbin/rc-service"]

    /// Each node's address on each segment: its `unicast_src_ip` where it gives one, else the
    /// next free one in the subnet of the first VIP on that interface (10.33.N.0/24 without any).
    /// The client gets one on every segment too.
    func address(_ nodes: inout [Node], segments: [String]) -> (
        guesses: [String], client: [(segment: String, address: String)]
    ) {
        var guesses: [String] = [], client: [(String, String)] = []
        var used = Set(nodes.flatMap { $0.config.instances.flatMap(\.virtualAddresses) })
        for (segmentIndex, segment) in segments.enumerated() {
            let instances = nodes.flatMap(\.config.instances).filter { $0.interface == segment }
            let vip = instances.lazy.compactMap { instance in
                instance.virtualAddresses.first.flatMap { IPv4.parse($0) }.map { ($0, instance.virtualPrefix ?? 24) }
            }.first
            let prefix = min(30, max(8, vip?.1 ?? 24))
            let base =
                vip.map { $0.0 & ~(UInt32.max >> UInt32(prefix)) }
                ?? UInt32(10 << 24 | 33 << 16 | (1 + segmentIndex) << 8)
            var next: UInt32 = 11
            func free() -> String {
                while used.contains(IPv4.format(base + next)) { next += 1 }
                defer { next += 1 }
                return IPv4.format(base + next)
            }
            // Peers' addresses no node gives as its own unicast_src_ip go, in order, to nodes that give none.
            let sources = Set(instances.compactMap(\.unicastSource))
            var peers = instances.flatMap(\.unicastPeers).uniqueInOrder().filter {
                !sources.contains($0) && IPv4.parse($0) != nil
            }
            for index in nodes.indices {
                let instance = nodes[index].config.instances.first { $0.interface == segment }
                guard let instance else { continue }
                let peer = instance.unicastSource == nil && !peers.isEmpty ? peers.removeFirst() : nil
                let address = instance.unicastSource ?? peer ?? free()
                used.insert(address)
                nodes[index].interfaces.append((segment, "\(address)/\(prefix)"))
                guesses.append(
                    "\(nodes[index].name): \(segment) \(address)/\(prefix) — "
                        + (instance.unicastSource != nil
                            ? "its unicast_src_ip"
                            : peer != nil
                                ? "a unicast_peer of the others that no node gives as its own"
                                : "the next free address in its VIP's subnet"))
            }
            next = max(next, 50)
            let address = free()
            used.insert(address)
            client.append((segment, "\(address)/\(prefix)"))
        }
        return (guesses, client)
    }

    /// The services a node's tracked scripts check (nginx where none says: the document's design).
    func services(of config: KeepalivedNodeConfig) -> [String] {
        let model = VRRPModel(
            nodes: [
                VRRPModel.Node(
                    name: config.node, services: ["nginx", "haproxy"], primaryAddress: 0, addresses: [], segments: [:])
            ],
            instances: config.instances)
        let checked = config.instances.flatMap(\.trackedScripts).flatMap {
            model.servicesChecked(by: $0, on: config.node)
        }.uniqueInOrder()
        return (checked.isEmpty ? ["nginx"] : checked) + ["keepalived"]
    }
}

extension LabMaker {
    func write(_ nodes: [Node], segments: [String], client: [(segment: String, address: String)]) throws {
        var yaml =
            "# Made by halab new from \(nodes.map(\.name).joined(separator: ", "))'s keepalived.conf: change what it "
                + "guessed here.\n"
        yaml += "segments: [\(segments.joined(separator: ", "))]\nnodes:\n"
        for node in nodes {
            yaml += "  \(node.name):\n    services: [\(node.services.joined(separator: ", "))]\n    interfaces:\n"
            yaml += node.interfaces.map { "      \($0.name): { segment: \($0.name), address: \($0.address) }\n" }
                .joined()
        }
        yaml += "  client:\n    role: client\n    interfaces:\n"
        yaml += client.map { "      \($0.segment): { segment: \($0.segment), address: \($0.address) }\n" }.joined()
        try FileSystem.makeDirectory(folder)
        try FileSystem.write(yaml, to: "\(folder)/lab.yaml")
        for node in nodes {
            // The config and every file it includes, verbatim, at the path the node reads it from.
            for (index, file) in node.files.enumerated() {
                let target = "\(folder)/\(node.name)" + (index == 0 ? LabLoader.keepalivedConfig : file)
                try FileSystem.makeDirectory(URL(fileURLWithPath: target).deletingLastPathComponent().path)
                try FileSystem.copy(file, to: target)
            }
            for (path, local) in node.referenced.sorted(by: { $0.key < $1.key }) {
                let target = "\(folder)/\(node.name)\(path)"
                try FileSystem.makeDirectory(URL(fileURLWithPath: target).deletingLastPathComponent().path)
                try FileSystem.copy(local, to: target)
            }
            if node.services.contains("nginx") {
                try FileSystem.makeDirectory("\(folder)/\(node.name)/var/www/html")
                try FileSystem.write("\(node.name)\n", to: "\(folder)/\(node.name)/var/www/html/index.html")
            }
        }
        if nodes.contains(where: { $0.services.contains("nginx") }),
            let nginx = templates.map({ "\($0)/master-backup/shared/etc/nginx/nginx.conf" }).first(
                where: FileSystem.exists)
        {
            try FileSystem.makeDirectory("\(folder)/shared/etc/nginx")
            try FileSystem.copy(nginx, to: "\(folder)/shared/etc/nginx/nginx.conf")
        }
        let lab = try Lab.load(folder: folder)
        try FileSystem.write(scenario(lab), to: "\(folder)/scenario.yaml")
    }

    /// Healthy first, then each single failure check's table has, each followed by its mend.
    func scenario(_ lab: Lab) -> String {
        var text =
            "# Made by halab new: every single failure halab check predicts, then its mend; each step checks the model "
                + "live.\n"
        text += "steps:\n  - { name: healthy, expect: model }\n"
        // The kinds all-pairs runs: a hang or a refusal a process check cannot see fails the
        // document's design by design (check's table shows those).
        for failure in ConfigCheck.failures(lab.vrrpModel(), kinds: Fault.Kind.allPairsDefault) {
            text += "  - { name: \(failure.description), chaos: \(failure.description), expect: model }\n"
            if let mend = failure.mend { text += "  - { name: \(mend), chaos: \(mend), expect: model }\n" }
        }
        return text
    }
}

/// The files a config reading opened, in order.
final class FileList: Sendable {
    let list = Mutex<[String]>([])
    func add(_ path: String) { list.withLock { if !$0.contains(path) { $0.append(path) } } }
    var paths: [String] { list.withLock { $0 } }
}
