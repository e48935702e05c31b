import Foundation
import HALabSystem

/// Nodes as libvirt VMs booting halab's node image. Each segment is an isolated libvirt
/// network (a bridge with no address, no DHCP, no NAT); each node a persistent domain, so a
/// crash is `destroy` and a revive is `start`. Commands run in the guests through the QEMU
/// guest agent, so every URI works, remote ones too. State and journal live in /run/halab/LAB
/// as for namespaces; the journal's `libvirt` line says which backend a lab is on.
public struct LibvirtBackend: LabStateKeeping {
    public let uri: String
    public let image: NodeImage
    public let stateRoot: String
    /// `qemu` or `kvm`; nil: what really runs a guest here, found out once per URI.
    public let domainType: String?
    /// A user's Alpine cloud image to boot instead of halab's node image.
    public let cloudImage: CloudImage?
    let connectionCache = LibvirtConnectionCache()
    public let memoryMiB = 512
    /// Under software emulation a guest's processes start many times slower than on the host.
    public var kind: String { "libvirt" }
    public var startAllowance: Double { 10 }
    /// no_timer_check: under software emulation on a busy machine the kernel's IO-APIC timer
    /// check can fail and panic the boot.
    static let kernelCommandLine = "console=ttyS0 quiet panic=-1 no_timer_check"

    public init(
        uri: String, image: NodeImage = NodeImage(), cloudImage: CloudImage? = nil, stateRoot: String = "/run/halab",
        domainType: String? = nil
    ) {
        self.uri = uri
        self.image = image
        self.cloudImage = cloudImage
        self.stateRoot = stateRoot
        self.domainType = domainType
    }

    /// The libvirt URI a lab that is up runs on; nil if it is on namespaces (or not up).
    public static func uri(ofLab lab: String, stateRoot: String = "/run/halab") -> String? {
        for case .libvirt(let uri) in LabState(root: stateRoot).journal(lab).records() { return uri }
        return nil
    }

    var state: LabState { LabState(root: stateRoot) }
    func labFolder(_ lab: String) -> String { state.folder(lab) }
    func journal(_ lab: String) -> StateJournal { state.journal(lab) }
    func console(_ lab: String, _ node: String) -> String { "\(labFolder(lab))/vm/\(node).console" }

    func connect() throws -> LibvirtConnection {
        try connectionCache.connection {
            do { return try LibvirtConnection(uri: uri) } catch let error as HALabError {
                throw HALabError.unsupported(
                    "\(error): is libvirtd running (and virtlogd)? Start them, or name another host with --connect")
            }
        }
    }

    // MARK: Bring-up

    public func up(_ topology: LabTopology, source: String, progress: @Sendable (String) -> Void) async throws {
        let lab = topology.name
        if labsUp().contains(lab) {
            throw HALabError.labAlreadyUp(
                lab, builtFrom: (try? self.source(of: lab)) ?? "a folder its journal does not name")
        }
        let found = await leftovers(lab, names: topology.objectNames)
        guard found.isEmpty else { throw HALabError.leftovers(lab, found: found) }
        if let cloudImage { try cloudImage.require() } else { _ = try image.require() }
        let missing = Set(
            topology.nodes.flatMap(\.serviceDefinitions).compactMap { service in
                service.program.flatMap { image.manifest?.programs?.contains($0) == false ? service.name : nil }
            })
        guard missing.isEmpty else {
            throw HALabError.unsupported(
                "the node image has no program for \(missing.sorted().joined(separator: ", ")): install it and run "
                    + "'halab image build'"
            )
        }
        let connection = try connect()
        try state.make(lab)
        try FileSystem.makeDirectory("\(labFolder(lab))/vm")
        let journal = journal(lab)
        try journal.append(.source(source))
        try journal.append(.libvirt(uri))
        try state.save(topology)

        let type = try await chooseDomainType(connection, lab: lab, progress: progress)
        progress(
            "networks: "
                + "\(topology.segments.map { LibvirtXML.networkName(lab: lab, segment: $0) }.joined(separator: ", ")) "
                + "(isolated)"
        )
        for segment in topology.segments {
            let name = LibvirtXML.networkName(lab: lab, segment: segment)
            try journal.append(.network(name))
            try connection.createNetwork(xml: LibvirtXML.network(lab: lab, segment: segment))
        }
        var domains: [(NodeSpec, LibvirtDomain)] = []
        for (index, node) in topology.nodes.enumerated() {
            let xml = try await prepare(node, index: index, topology: topology, type: type)
            try journal.append(.domain(LibvirtXML.domainName(lab: lab, node: node.name)))
            domains.append((node, try connection.defineDomain(xml: xml)))
        }
        progress("VMs (\(type)): \(topology.nodes.map(\.name).joined(separator: ", "))")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (node, domain) in domains {
                group.addTask {
                    try await offThread { try domain.start() }
                    try await waitUntilReady(domain, node: node, lab: lab)
                }
            }
            try await group.waitForAll()
        }
        progress("booted: \(topology.nodes.map(\.name).joined(separator: ", "))")
    }

    /// Writes the node's own files and its initramfs (or its overlay and seed); returns its domain's XML.
    func prepare(_ node: NodeSpec, index: Int, topology: LabTopology, type: String) async throws -> String {
        let lab = topology.name
        let macs = node.interfaces.indices.map { topology.macAddress(node: index, interface: $0) }
        let boot: LibvirtXML.Boot
        if let cloudImage {
            let (disk, seed) = try await cloudImage.prepare(node, lab: lab, macs: macs, folder: "\(labFolder(lab))/vm")
            boot = .disk(disk, seed: seed)
        } else {
            boot = try await prepareInitramfs(node, lab: lab, macs: macs)
        }
        return LibvirtXML.domain(
            LibvirtXML.Domain(
                name: LibvirtXML.domainName(lab: lab, node: node.name), type: type, memoryMiB: memoryMiB, boot: boot,
                console: console(lab, node.name),
                interfaces: zip(node.interfaces, macs).map {
                    (LibvirtXML.networkName(lab: lab, segment: $0.segment), $1)
                }))
    }

    /// The node image's initramfs with the node's own files appended.
    func prepareInitramfs(_ node: NodeSpec, lab: String, macs: [String]) async throws -> LibvirtXML.Boot {
        let files = "\(labFolder(lab))/vm/\(node.name).files"
        try? FileSystem.remove(files)
        defer { try? FileSystem.remove(files) }
        // The first layer wins: copied last.
        for layer in node.fileLayers.reversed() where FileSystem.isDirectory(layer) {
            try FileSystem.makeDirectory(files)
            try await Command.run("cp", ["-a", "\(layer)/.", "\(files)/"])
        }
        try FileSystem.makeDirectory("\(files)/etc/halab")
        try FileSystem.makeDirectory("\(files)/usr/local/sbin")
        try FileSystem.write(NodeFiles.guestSettings(node: node, macs: macs), to: "\(files)/etc/halab/node.sh")
        try FileSystem.write(
            NodeFiles.rcService(services: node.serviceDefinitions), to: "\(files)/usr/local/sbin/rc-service",
            executable: true)
        // Where Alpine has it too, for scripts that name it so.
        try FileSystem.makeDirectory("\(files)/sbin")
        try FileSystem.copy("\(files)/usr/local/sbin/rc-service", to: "\(files)/sbin/rc-service")
        try FileSystem.write(NodeFiles.pidof, to: "\(files)/usr/local/sbin/pidof", executable: true)
        let initramfs = "\(labFolder(lab))/vm/\(node.name).initramfs"
        try await image.nodeInitramfs(nodeFiles: files, to: initramfs)
        return .kernel(image.kernel, initramfs: initramfs, commandLine: Self.kernelCommandLine)
    }

    /// Boots done: the guest agent answers, the clock is set, halab-init wrote its status.
    func waitUntilReady(_ domain: LibvirtDomain, node: NodeSpec, lab: String) async throws {
        let deadline = ContinuousClock.now + .seconds(180)
        func fail(_ why: String) throws -> Never {
            let console = (try? FileSystem.read(console(lab, node.name))) ?? ""
            throw HALabError.commandFailed(
                command: "boot of VM \(node.name)", status: why,
                output: console.split(separator: "\n").suffix(15).joined(separator: "\n"))
        }
        while !domain.agentAnswers() {
            guard domain.isActive else { try fail("the VM stopped") }
            guard ContinuousClock.now < deadline else { try fail("its guest agent did not answer within 180 s") }
            try await Task.sleep(for: .milliseconds(100))
        }
        try domain.setGuestTime()
        while true {
            let status = try await domain.run(["cat", cloudImage == nil ? InitStatus.path : CloudImage.statusFile])
            if status.succeeded {
                try InitStatus.check(status.output, node: node.name) { failed in
                    // What rc-service said went to the console.
                    failed.compactMap { try? domain.readFile("/var/log/\($0).log") }.joined(separator: "\n")
                        + ((try? FileSystem.read(console(lab, node.name))) ?? "")
                }
                return
            }
            guard ContinuousClock.now < deadline else { try fail("its services did not start within 180 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// KVM where it really runs a guest, else qemu (TCG). KVM is tried by booting the image
    /// with `halab.check`, which powers off once its modules are loaded; a guest that has not
    /// done so within 30 s hangs under KVM. The answer is kept per URI next to the image.
    func chooseDomainType(_ connection: LibvirtConnection, lab: String, progress: @Sendable (String) -> Void)
        async throws -> String
    {
        if let domainType { return domainType }
        let cacheFile = "\(image.folder)/domain-types"
        let cached = ((try? FileSystem.read(cacheFile)) ?? "").split(separator: "\n").map { $0.split(separator: " ") }
        if let known = cached.first(where: { $0.count == 2 && $0[0] == uri }) { return String(known[1]) }
        var type = "qemu"
        guard image.manifest != nil else {
            progress(
                "domain type: qemu (KVM is tried with halab's node image, which is not built; --domain-type kvm to use "
                    + "it)"
            )
            return type
        }
        if try connection.capabilities().contains("<domain type='kvm'") {
            progress("checking whether KVM runs a guest here (once; up to 30 s)")
            let name = LibvirtXML.domainName(lab: lab, node: "kvm-check")
            try journal(lab).append(.domain(name))
            let domain = try connection.createDomain(
                xml: LibvirtXML.domain(
                    LibvirtXML.Domain(
                        name: name, type: "kvm", memoryMiB: memoryMiB,
                        boot: .kernel(
                            image.kernel, initramfs: image.initramfs,
                            commandLine: Self.kernelCommandLine + " halab.check"),
                        console: console(lab, "kvm-check"), interfaces: [])))
            let deadline = ContinuousClock.now + .seconds(30)
            while domain.isActive && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
            if domain.isActive { try domain.destroy() } else { type = "kvm" }
        }
        progress(
            "domain type: "
                + "\(type)\(type == "qemu" ? " (software emulation: KVM is not there or does not run a guest)" : "")"
        )
        try FileSystem.appendLine("\(uri) \(type)", to: cacheFile)
        return type
    }

    // MARK: Nodes

    func domain(_ lab: String, _ node: String) throws -> LibvirtDomain {
        _ = try topology(of: lab).node(node)
        guard let domain = try connect().domain(named: LibvirtXML.domainName(lab: lab, node: node)) else {
            throw HALabError.labNotUp(lab)
        }
        return domain
    }

    func runningDomain(_ lab: String, _ node: String) throws -> LibvirtDomain {
        let domain = try domain(lab, node)
        guard domain.isActive else { throw HALabError.nodeNotRunning(node) }
        return domain
    }

    public func exec(_ lab: String, node: String, _ command: [String]) async throws -> CommandResult {
        try await runningDomain(lab, node).run(command)
    }

    /// The guest agent gives no terminal: the command's output is shown once it has ended.
    public func execAttached(_ lab: String, node: String, _ command: [String]) async throws -> Int32 {
        let result = try await exec(lab, node: node, command)
        FileHandle.standardOutput.write(Data(result.output.utf8))
        FileHandle.standardError.write(Data(result.errorOutput.utf8))
        return result.exitCode
    }

    @discardableResult public func crash(_ lab: String, node: String) async throws -> Double {
        let domain = try runningDomain(lab, node)
        // The cables first: libvirt returns from a destroy only ~1.5 s after QEMU is dead (its
        // cleanup), so the moment the node went dark is the moment its links went down.
        let topology = try topology(of: lab)
        for interface in try topology.node(node).interfaces {
            let (nodeIndex, index) = try topology.locate(node, interface: interface.name)
            try setCable(domain, topology: topology, nodeIndex: nodeIndex, interfaceIndex: index, plugged: false)
        }
        let dark = Date().timeIntervalSince1970
        try domain.destroy()
        try state.forgetFrozen(of: node, lab: lab)
        return dark
    }

    public func revive(_ lab: String, node: String) async throws {
        let domain = try domain(lab, node)
        guard !domain.isActive else { throw HALabError.usage("node '\(node)' is running already") }
        try domain.start()
        try await waitUntilReady(domain, node: try topology(of: lab).node(node), lab: lab)
    }

    public func isRunning(_ lab: String, node: String) -> Bool { (try? domain(lab, node).isActive) ?? false }

    /// A VM's processes are not this machine's: none are listed.
    public func processes(_ lab: String, node: String) -> [HostProcess] { [] }

    func pausedAddresses(_ lab: String, _ node: String) -> String { "\(labFolder(lab))/vm/\(node).paused-addresses" }

    /// A paused VM cannot be asked: it has the addresses it had when it was paused.
    public func addresses(_ lab: String, node: String) async throws -> [String] {
        let domain = try domain(lab, node)
        guard domain.isActive else { return [] }
        if domain.isPaused {
            return ((try? FileSystem.read(pausedAddresses(lab, node))) ?? "").split(separator: "\n").map(String.init)
        }
        let result = try await domain.run(NodeSpec.addressCommand)
        return try topology(of: lab).node(node).labAddresses(inJSON: result.output)
    }

    /// Not timed on VMs: a guest's address events reach halab only by asking its agent.
    public func whenAddressAppears(_ lab: String, node: String, address: String) async throws -> ContinuousClock.Instant
    {
        throw HALabError.unsupported(
            "timing address events needs the namespace backend (halab bench vm-up times VM labs)")
    }

    /// A guest's clock is not the host's, and a crash ends what runs in it: the timeline of a VM
    /// lab takes its timing from the adverts captured on the host instead.
    public func watchAddresses(_ lab: String, node: String, until stop: @escaping @Sendable () async -> Void)
        async throws -> [AddressEvent]
    {
        throw HALabError.unsupported("watching a VM's addresses: its clock is not the host's")
    }

    public func readFile(_ lab: String, node: String, path: String) -> String? {
        guard let domain = try? runningDomain(lab, node), !domain.isPaused else { return nil }
        return try? domain.readFile(path)
    }

    public func probe(
        _ lab: String, node: String, addresses: [String], interval: Double, connections: ProbeConnections,
        seconds: Int, until stop: @escaping @Sendable () async -> Void
    ) async throws -> [ProbeSample] {
        let domain = try runningDomain(lab, node)
        let ready = "/tmp/halab-hold-\(UUID().uuidString)"
        connections.watchReady { (try? domain.readFile(ready)) != nil }
        let pid = try domain.spawn(
            ["/usr/local/sbin/halab-probe"]
                + ProbeProgram.arguments(
                    interval: interval, connections: connections, seconds: seconds, addresses: addresses, ready: ready))
        await stop()
        _ = try await domain.run(["kill", "-TERM", "\(pid)"])
        return try ProbeProgram.record(try await domain.wait(for: pid), node: node)
    }
}
