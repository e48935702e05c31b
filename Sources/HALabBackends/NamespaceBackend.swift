import Foundation
import HALabSystem
import Synchronization

/// Nodes as Linux namespaces on this machine. A node is a process tree in its own network,
/// PID, mount and UTS namespaces; its network namespace is pinned as `/run/netns/halab-LAB-NODE`
/// so it outlives a crash. Each segment is a bridge in a namespace of its own. Nothing is ever
/// created in the host's network namespace: every `ip` call names its namespace.
public struct NamespaceBackend: LabStateKeeping {
    public let stateRoot: String
    /// The node supervisor (halab-init), PID 1 of every node.
    public let initProgram: String

    public init(stateRoot: String = "/run/halab", initProgram: String) {
        self.stateRoot = stateRoot
        self.initProgram = initProgram
    }

    public var kind: String { "namespaces" }
    public var startAllowance: Double { 0 }

    static let netnsFolder = NetnsFolder.path
    var netnsFolder: NetnsFolder { NetnsFolder(stateRoot: stateRoot) }

    var state: LabState { LabState(root: stateRoot) }
    func labFolder(_ lab: String) -> String { state.folder(lab) }
    func journal(_ lab: String) -> StateJournal { state.journal(lab) }
    func nodeFolder(_ lab: String, _ node: String) -> String { "\(labFolder(lab))/nodes/\(node)" }
    static func netns(_ lab: String, _ name: String) -> String { "halab-\(lab)-\(name)" }

    // MARK: Bring-up

    public static func checkPrerequisites(for topology: LabTopology) throws {
        for node in topology.nodes {
            if let aggregate = node.aggregates.first {
                throw HALabError.unsupported(
                    "\(node.name)'s \(aggregate.name) is a \(aggregate.kind), which the namespace backend does not "
                        + "make (this host's kernel has no bonding driver, and halab loads no module on the host): run "
                        + "this lab with --backend libvirt")
            }
        }
        guard geteuid() == 0 else { throw HALabError.notRoot }
        let apt = "install it with 'apt-get install -y"
        var programs = [
            ("ip", "iproute2"), ("nsenter", "util-linux"), ("unshare", "util-linux"), ("setsid", "util-linux"),
            ("curl", "curl")
        ]
        for service in topology.nodes.flatMap(\.serviceDefinitions) {
            if let program = service.program, let package = service.package { programs.append((program, package)) }
        }
        for (program, package) in programs where !Command.exists(program) {
            throw HALabError.missingProgram(program, fix: "\(apt) \(package)'")
        }
    }

    public func up(_ topology: LabTopology, source: String, progress: @Sendable (String) -> Void) async throws {
        try Self.checkPrerequisites(for: topology)
        guard FileSystem.isExecutable(initProgram) else {
            throw HALabError.missingProgram(initProgram, fix: "build it with 'swift build' (it sits next to halab)")
        }
        let lab = topology.name
        if labsUp().contains(lab) {
            throw HALabError.labAlreadyUp(
                lab, builtFrom: (try? self.source(of: lab)) ?? "a folder its journal does not name")
        }
        let found = namespaces(of: lab, names: topology.objectNames)
        guard found.isEmpty else { throw HALabError.leftovers(lab, found: found) }
        try state.make(lab)
        let journal = journal(lab)
        try journal.append(.source(source))
        try state.save(topology)

        // Every namespace is journalled first, then all are made by one `ip -batch`.
        let namespaces = (topology.segments + topology.nodes.map(\.name)).map { Self.netns(lab, $0) }
        for ns in namespaces { try journal.append(.netns(ns)) }
        progress("namespaces: \(namespaces.count) (switches: \(topology.segments.joined(separator: ", ")))")
        try await netnsFolder.adding {
            try await Command.run(
                "ip", ["-batch", "-"], input: namespaces.map { "netns add \($0)" }.joined(separator: "\n") + "\n")
        }
        // Per switch, one batch: its bridge, then each port: one end of a veth pair whose other
        // end is made straight inside the node's namespace, named as the node's config names it.
        for segment in topology.segments {
            var commands = ["link add br0 type bridge", "link set br0 up", "link set lo up"]
            for (nodeIndex, node) in topology.nodes.enumerated() {
                for (index, interface) in node.interfaces.enumerated() where interface.segment == segment {
                    let port = Self.portName(
                        node: node.name, interface: interface.name, nodeIndex: nodeIndex, interfaceIndex: index)
                    let mac = topology.macAddress(node: nodeIndex, interface: index)
                    commands += [
                        "link add \(port) type veth peer name \(interface.name) address \(mac) netns "
                            + "\(Self.netns(lab, node.name))",
                        "link set \(port) master br0 up"
                    ]
                }
            }
            try await ip(Self.netns(lab, segment), batch: commands)
        }
        progress("nodes: \(topology.nodes.map(\.name).joined(separator: ", "))")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in topology.nodes {
                group.addTask { try await boot(lab, node) }
            }
            try await group.waitForAll()
        }
        progress("booted: \(topology.nodes.map(\.name).joined(separator: ", "))")
    }

    /// Interface names are at most 15 characters; a switch port falls back to a short name
    /// (unique within its switch's namespace).
    static func portName(node: String, interface: String, nodeIndex: Int, interfaceIndex: Int) -> String {
        let preferred = "\(node)-\(interface)"
        return preferred.utf8.count <= 15 ? preferred : "port\(nodeIndex)-\(interfaceIndex)"
    }

    func ip(_ ns: String, batch commands: [String]) async throws {
        try await Command.run("ip", ["-n", ns, "-batch", "-"], input: commands.joined(separator: "\n") + "\n")
    }

    /// Starts a node in its pinned network namespace: its links get their static addresses and
    /// routes (as a booting machine's would), then a new PID, mount and UTS namespace runs the boot
    /// script, which becomes halab-init.
    func boot(_ lab: String, _ node: NodeSpec) async throws {
        let ns = Self.netns(lab, node.name)
        var commands = ["link set lo up"]
        for interface in node.interfaces {
            commands +=
                ["addr flush dev \(interface.name)"]
                + (interface.address.map { ["addr add \($0) dev \(interface.name)"] } ?? [])
                + ["link set \(interface.name) up"]
            // nodad: usable at once, as the lab's addresses are known to be unique.
            if let address6 = interface.address6 { commands.append("addr add \(address6) dev \(interface.name) nodad") }
        }
        commands += node.routes.map { "route replace \($0)" }
        try await ip(ns, batch: commands)

        let folder = nodeFolder(lab, node.name)
        try FileSystem.makeDirectory("\(folder)/sbin")
        try FileSystem.makeDirectory("\(folder)/alpine")
        try FileSystem.write(
            NodeFiles.rcService(services: node.serviceDefinitions), to: "\(folder)/sbin/rc-service", executable: true)
        try FileSystem.copy("\(folder)/sbin/rc-service", to: "\(folder)/alpine/rc-service")
        try FileSystem.write(NodeFiles.pidof, to: "\(folder)/sbin/pidof", executable: true)
        // Copied in, not run from where it was built: that may be under /tmp, which the node hides.
        try FileSystem.copy(initProgram, to: "\(folder)/sbin/halab-init")
        for mount in NodeFiles.overlayMounts(node: node, stateDirectory: folder)
        where mount.options.contains("upperdir") {
            let writable = "\(folder)/rw\(mount.target)"
            try FileSystem.makeDirectory("\(writable)/upper")
            try FileSystem.makeDirectory("\(writable)/work")
        }
        let bootScript = "\(folder)/boot.sh"
        try FileSystem.write(
            NodeFiles.bootScript(node: node, stateDirectory: folder),
            to: bootScript, executable: true)
        try? FileSystem.remove("\(folder)/rw/var/upper\(InitStatus.path)")
        // setsid -f: the node is nobody's child but init's, and outlives this halab process.
        let start =
            "exec setsid -f nsenter --net=\(Self.netnsFolder)/\(ns) -- unshare --pid --mount --uts --fork --mount-proc "
            + "--propagation private -- /bin/sh \(bootScript) >>\(folder)/console.log 2>&1 </dev/null"
        try await Command.run("/bin/sh", ["-c", start])
        try await waitUntilReady(lab, node)
    }

    /// halab-init writes `/var/log/halab-init.status` in the node once its services are started:
    /// one line per service, `NAME ok` or `NAME failed`. halab reads it where the node's writes
    /// land, so waiting costs a file check, not a scan of /proc.
    func waitUntilReady(_ lab: String, _ node: NodeSpec) async throws {
        let start = ContinuousClock.now
        let netns = "\(Self.netnsFolder)/\(Self.netns(lab, node.name))"
        var lastLook = start
        while ContinuousClock.now < start + .seconds(15) {
            if let status = readFile(lab, node: node.name, path: InitStatus.path) {
                try InitStatus.check(status, node: node.name) { failed in
                    let console = (try? FileSystem.read("\(nodeFolder(lab, node.name))/console.log")) ?? ""
                    return failed.map { readFile(lab, node: node.name, path: "/var/log/\($0).log") ?? console }.joined(
                        separator: "\n")
                }
                return
            }
            // Its boot script failed: nothing lives in the node any more (looked at twice a second).
            if ContinuousClock.now > lastLook + .milliseconds(500) {
                if ProcessTable.processes(inNetworkNamespace: netns).isEmpty { break }
                lastLook = ContinuousClock.now
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let console = (try? FileSystem.read("\(nodeFolder(lab, node.name))/console.log")) ?? ""
        throw HALabError.commandFailed(
            command: "boot of node \(node.name)", status: "it did not come up",
            output: String(console.suffix(2000)))
    }

    // MARK: Nodes

    /// The host pid of the node's PID 1, if the node runs. Asked before every command in a
    /// node: the one found last is checked (two reads), and /proc scanned only when it is gone.
    func initPid(_ lab: String, _ node: String) -> Int32? {
        let netns = "\(Self.netnsFolder)/\(Self.netns(lab, node))"
        if let known = Self.inits.withLock({ $0[netns] }), ProcessTable.isInit(known, ofNetworkNamespace: netns) {
            return known
        }
        let found = ProcessTable.processes(inNetworkNamespace: netns).first { $0.pidInNamespace == 1 && $0.pid != 1 }?
            .pid
        Self.inits.withLock { $0[netns] = found }
        return found
    }

    /// The node inits found last, by network namespace.
    static let inits = Mutex<[String: Int32]>([:])

    public func isRunning(_ lab: String, node: String) -> Bool { initPid(lab, node) != nil }

    public func processes(_ lab: String, node: String) -> [HostProcess] {
        ProcessTable.processes(
            inNetworkNamespace: "\(Self.netnsFolder)/\(Self.netns(lab, node))", measuringMemory: true
        )
        .filter { $0.pidInNamespace != $0.pid }  // inside the node's PID namespace
    }

    func nsenterArguments(_ lab: String, _ node: String, _ command: [String]) throws -> [String] {
        _ = try topology(of: lab).node(node)
        guard let pid = initPid(lab, node) else { throw HALabError.nodeNotRunning(node) }
        // --root: the node's root, not its mount namespace's (they differ where halab runs chrooted).
        return ["--target", "\(pid)", "--net", "--pid", "--mount", "--uts", "--root", "--wd", "--"] + command
    }

    public func exec(_ lab: String, node: String, _ command: [String]) async throws -> CommandResult {
        try await Command.run("nsenter", try nsenterArguments(lab, node, command), check: false)
    }

    public func execAttached(_ lab: String, node: String, _ command: [String]) async throws -> Int32 {
        try await Command.runAttached("nsenter", try nsenterArguments(lab, node, command))
    }

    @discardableResult public func crash(_ lab: String, node: String) async throws -> Double {
        let spec = try topology(of: lab).node(node)
        guard let pid = initPid(lab, node) else { throw HALabError.nodeNotRunning(node) }
        // SIGKILL to a PID namespace's init kills every process in it at once: no clean shutdown.
        kill(pid, SIGKILL)
        try await killAll(inNetns: Self.netns(lab, node))
        let dark = Date().timeIntervalSince1970  // nothing of the node's sends any more
        try state.forgetFrozen(of: node, lab: lab)
        // A powered-off machine's links go dark, and it holds no address, a VIP least of all.
        try await ip(
            Self.netns(lab, node),
            batch: spec.interfaces.flatMap { ["link set \($0.name) down", "addr flush dev \($0.name)"] })
        return dark
    }

    public func revive(_ lab: String, node: String) async throws {
        let spec = try topology(of: lab).node(node)
        guard !isRunning(lab, node: node) else { throw HALabError.usage("node '\(node)' is running already") }
        try await boot(lab, spec)
    }

    public func addresses(_ lab: String, node: String) async throws -> [String] {
        let spec = try topology(of: lab).node(node)
        return spec.labAddresses(
            try await InterfaceAddress.all(inNetns: "\(Self.netnsFolder)/\(Self.netns(lab, node))"))
    }

    public func probe(
        _ lab: String, node: String, addresses: [String], interval: Double, connections: ProbeConnections,
        seconds: Int, until stop: @escaping @Sendable () async -> Void
    ) async throws -> [ProbeSample] {
        _ = try topology(of: lab).node(node)
        let program = URL(fileURLWithPath: initProgram).deletingLastPathComponent().appendingPathComponent(
            "halab-probe"
        ).path
        guard FileSystem.isExecutable(program) else {
            throw HALabError.missingProgram(program, fix: "build it with 'swift build' (it sits next to halab)")
        }
        // Only the node's network is entered: the probe is the client's traffic, nothing else of it, and
        // its ready file is the host's.
        let ready = FileManager.default.temporaryDirectory.appendingPathComponent("halab-hold-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: ready) }
        connections.watchReady { FileManager.default.fileExists(atPath: ready) }
        let result = try await Command.run(
            "nsenter",
            ["--net=\(Self.netnsFolder)/\(Self.netns(lab, node))", "--", program]
                + ProbeProgram.arguments(
                    interval: interval, connections: connections, seconds: seconds, addresses: addresses, ready: ready),
            until: stop)
        return try ProbeProgram.record(result, node: node)
    }

    public func readFile(_ lab: String, node: String, path: String) -> String? {
        let parts = path.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        return try? FileSystem.read("\(nodeFolder(lab, node))/rw/\(parts[0])/upper/\(parts[1])")
    }

    public func watchAddresses(_ lab: String, node: String, until stop: @escaping @Sendable () async -> Void)
        async throws -> [AddressEvent]
    {
        _ = try topology(of: lab).node(node)
        let stopped = StopSignal()
        Task {
            await stop(); await stopped.fire()
        }
        var lines = ""
        while true {
            let result = try await Command.run(
                "ip", ["-n", Self.netns(lab, node), "-ts", "-o", "monitor", "address"], until: { await stopped.wait() })
            lines += result.output
            // Ended by `stop`, or killed with the node (a crash ends every process in its network):
            // then again once it runs.
            while !isRunning(lab, node: node) {
                if await stopped.hasFired { return AddressEvent.parse(lines, node: node) }
                try await Task.sleep(for: .milliseconds(20))
            }
            if await stopped.hasFired { return AddressEvent.parse(lines, node: node) }
        }
    }

    /// Waits until `address` is added to an interface of `node` (the node's namespace may not
    /// exist yet) and returns when that happened. For measuring VRRP itself in benchmarks.
    public func whenAddressAppears(_ lab: String, node: String, address: String) async throws -> ContinuousClock.Instant
    {
        let ns = Self.netns(lab, node)
        // `ip netns add` makes the file before it mounts the namespace on it: wait for the mount.
        while !FileSystem.isMountPoint("\(Self.netnsFolder)/\(ns)") { try await Task.sleep(for: .milliseconds(1)) }
        // Bounded: it gives up after a minute, whatever happens to the lab.
        let seen = try await Command.watch("timeout", ["60", "ip", "-n", ns, "monitor", "address"]) {
            !$0.hasPrefix("Deleted") && $0.contains(" \(address)/")
        }
        guard seen else {
            throw HALabError.commandFailed(command: "ip -n \(ns) monitor address", status: "ended", output: "")
        }
        return ContinuousClock.now
    }

    // MARK: Tear-down

    @discardableResult public func down(_ lab: String) async throws -> Bool {
        let journal = journal(lab)
        let records = journal.records()
        guard FileSystem.exists(labFolder(lab)) else { return false }
        let namespaces = records.compactMap { record -> String? in
            if case .netns(let name) = record { return name } else { return nil }
        }
        var killed: [ProcessTable.Identity] = []
        for ns in namespaces.reversed() { killed += try await killAll(inNetns: ns) }
        for ns in namespaces.reversed() where FileSystem.exists("\(Self.netnsFolder)/\(ns)") {
            // Another halab (a forced down) may delete it at the same moment: gone is what was wanted.
            let result = try await Command.run("ip", ["netns", "delete", ns], check: false)
            guard result.succeeded || !FileSystem.exists("\(Self.netnsFolder)/\(ns)") else {
                throw HALabError.commandFailed(
                    command: "ip netns delete \(ns)", status: "exit \(result.exitCode)", output: result.errorOutput)
            }
        }
        try await netnsFolder.releaseIfUnused()
        try state.remove(lab)
        // The lab's processes were the machine's init's to reap (nodes outlive the halab that
        // started them); `down` returns once it has, so nothing of the lab is left, not even a zombie.
        let unreaped = await ProcessTable.awaitReaped(killed, limit: .seconds(10))
        guard unreaped.isEmpty else {
            throw HALabError.unsupported(
                "\(lab) is down, but \(unreaped.count) of its processes "
                    + "(\(unreaped.map { "\($0.pid)" }.joined(separator: " "))) are zombies 10 s later: this machine's "
                    + "PID 1 does not reap orphans. Run halab where PID 1 does (e.g. docker run --init)"
            )
        }
        return true
    }

    /// Kills every process living in the named network namespace, and waits until they are
    /// gone (ended, perhaps not reaped yet); returns each one it killed.
    @discardableResult func killAll(inNetns ns: String) async throws -> [ProcessTable.Identity] {
        let path = "\(Self.netnsFolder)/\(ns)"
        let deadline = ContinuousClock.now + .seconds(5)
        var killed: [ProcessTable.Identity] = []
        while true {
            // A process is listed until it has left its namespaces: then it is gone, or a zombie.
            let alive = ProcessTable.processes(inNetworkNamespace: path)
            if alive.isEmpty { return killed }
            guard ContinuousClock.now < deadline else {
                throw HALabError.commandFailed(
                    command: "kill processes of \(ns)", status: "still alive after 5 s",
                    output: alive.map { "\($0.pid) \($0.command)" }.joined(separator: ", "))
            }
            for process in alive {
                if let identity = ProcessTable.identity(of: process.pid), !killed.contains(identity) {
                    killed.append(identity)
                }
                kill(process.pid, SIGKILL)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
