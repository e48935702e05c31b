import Foundation
import Testing
@testable import HALab

/// The libvirt XML halab writes, and libvirt's own schema check of it.
@Suite struct LibvirtXMLTests {
    static let validator = "/usr/bin/virt-xml-validate"

    static let sampleDomain = LibvirtXML.Domain(
        name: "halab-unit-nginx-1", type: "qemu", memoryMiB: 512, kernel: "/var/lib/halab/image/vmlinuz",
        initramfs: "/run/halab/unit/vm/nginx-1.initramfs", commandLine: LibvirtBackend.kernelCommandLine,
        console: "/run/halab/unit/vm/nginx-1.console", interfaces: [("halab-unit-lan", "52:54:00:01:00:00")])

    @Test func aSegmentIsAnIsolatedNetworkWithoutAddressDHCPOrNAT() {
        let xml = LibvirtXML.network(lab: "unit", segment: "lan")
        #expect(xml.contains("<name>halab-unit-lan</name>"))
        for element in ["<forward", "<ip", "<dhcp", "<nat"] { #expect(!xml.contains(element), "\(element)") }
    }

    @Test func aNodeBootsTheImageWithItsNICsAndTheAgentChannel() {
        let xml = LibvirtXML.domain(Self.sampleDomain)
        #expect(xml.contains("<domain type='qemu'>"))
        #expect(xml.contains("<kernel>/var/lib/halab/image/vmlinuz</kernel>"))
        #expect(xml.contains("<source network='halab-unit-lan'/>"))
        #expect(xml.contains("<mac address='52:54:00:01:00:00'/>"))
        #expect(xml.contains("name='org.qemu.guest_agent.0'"))
        #expect(LibvirtXML.interface("n", mac: "52:54:00:01:00:00", linkUp: false).contains("<link state='down'/>"))
    }

    @Test func everyInterfaceOfALabHasItsOwnMAC() {
        let macs = (0..<20).flatMap { node in (0..<3).map { LibvirtXML.mac(lab: "dual-master", nodeIndex: node, interfaceIndex: $0) } }
        #expect(Set(macs).count == macs.count)
        #expect(macs.allSatisfy { $0.hasPrefix("52:54:00:") && $0.count == 17 })
    }

    @Test func namesAreEscapedInXML() {
        #expect(LibvirtXML.escape("a<b>&'c") == "a&lt;b&gt;&amp;&apos;c")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: validator) && Command.exists("xmllint"),
                   "needs virt-xml-validate and xmllint (apt: libvirt-clients libxml2-utils)"))
    func theXMLPassesLibvirtsSchema() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("halab-xml-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let documents = [("network", LibvirtXML.network(lab: "unit", segment: "lan")), ("domain", LibvirtXML.domain(Self.sampleDomain)),
                         ("device", LibvirtXML.interface("halab-unit-lan", mac: "52:54:00:01:00:00", linkUp: false))]
        for (schema, xml) in documents where schema != "device" {
            try xml.write(toFile: "\(folder)/\(schema).xml", atomically: true, encoding: .utf8)
            let result = try await Command.run(Self.validator, ["\(folder)/\(schema).xml", schema], check: false)
            #expect(result.succeeded, "\(schema): \(result.output) \(result.errorOutput)")
        }
        // A device alone has no schema of its own: checked inside a domain.
        let withDevice = LibvirtXML.domain(Self.sampleDomain).replacingOccurrences(of: "<devices>", with: "<devices>\n" + documents[2].1)
        try withDevice.write(toFile: "\(folder)/device.xml", atomically: true, encoding: .utf8)
        let result = try await Command.run(Self.validator, ["\(folder)/device.xml", "domain"], check: false)
        #expect(result.succeeded, "\(result.output) \(result.errorOutput)")
    }

    @Test func guestSettingsGiveLinksByMACRoutesAndServices() {
        let node = NodeSpec(name: "gateway", interfaces: [InterfaceSpec(name: "eth1", segment: "lan", address: "10.33.1.1/24"),
                                                          InterfaceSpec(name: "eth2", segment: "internet", address: "11.22.33.44/24")],
                            services: ["local"], fileLayers: [], routes: ["10.9.0.0/16 via 10.33.1.2"], forwarding: true)
        let settings = NodeFiles.guestSettings(node: node, macs: ["52:54:00:01:02:00", "52:54:00:01:02:01"])
        #expect(settings.contains("HALAB_NODE='gateway'"))
        #expect(settings.contains("HALAB_LINKS='52:54:00:01:02:00=eth1=10.33.1.1/24 52:54:00:01:02:01=eth2=11.22.33.44/24'"))
        #expect(settings.contains("HALAB_SERVICES='local'"))
        #expect(settings.contains("ip route replace 10.9.0.0/16 via 10.33.1.2"))
        #expect(settings.contains("echo 1 > /proc/sys/net/ipv4/ip_forward"))
    }

    @Test(.enabled(if: (try? NodeImage.newestKernel()) != nil, "needs a kernel in /boot with its modules (apt: linux-image-amd64)"))
    func theImageTakesTheModulesNftablesNeeds() throws {
        let modules = try NodeImage.modulesWithDependencies(version: try NodeImage.newestKernel().version)
        for module in ["kernel/net/netfilter/nf_tables.ko", "kernel/lib/libcrc32c.ko", "kernel/drivers/net/virtio_net.ko",
                       "kernel/net/sched/sch_netem.ko", "kernel/crypto/crc32c_generic.ko"] {
            #expect(modules.contains(module), "\(module)")
        }
        #expect(!modules.contains { $0.hasPrefix("kernel/sound/") })
    }
}

/// The Swift layer over libvirt against libvirt's test driver (`test:///default`): the real
/// API and its errors, with no VM started.
@Suite(.serialized) struct LibvirtTestDriverTests {
    @Test func aNetworkAndADomainGoThroughTheirLifecycle() throws {
        let connection = try LibvirtConnection(uri: "test:///default")
        try connection.createNetwork(xml: LibvirtXML.network(lab: "unit", segment: "lan"))
        #expect(try connection.networkNames().contains("halab-unit-lan"))
        let domain = try connection.defineDomain(xml: LibvirtXML.domain(LibvirtXMLTests.sampleDomain))
        #expect(domain.name == "halab-unit-nginx-1")
        #expect(!domain.isActive && domain.isPersistent)
        try domain.start()
        #expect(domain.isActive)
        try domain.suspend()
        #expect(domain.isPaused)
        try domain.resume()
        #expect(!domain.isPaused)
        try domain.destroy()  // a crash
        #expect(!domain.isActive)
        try domain.start()  // a revive
        #expect(domain.isActive)
        try domain.destroy()
        try domain.undefine()
        #expect(try connection.domain(named: "halab-unit-nginx-1") == nil)
        #expect(try connection.destroyNetwork(named: "halab-unit-lan"))
        #expect(try connection.destroyNetwork(named: "halab-unit-lan") == false)  // idempotent
    }

    @Test func failuresCarryLibvirtsOwnMessage() throws {
        let unreachable = #expect(throws: HALabError.self) { try LibvirtConnection(uri: "nosuchdriver:///x") }
        #expect(unreachable?.description.hasPrefix("libvirt could not connect to nosuchdriver:///x: ") == true)
        let connection = try LibvirtConnection(uri: "test:///default")
        let badXML = #expect(throws: HALabError.self) { try connection.defineDomain(xml: "<domain type='qemu'><name>x</name>") }
        #expect(badXML?.description.hasPrefix("libvirt could not define domain: ") == true)
        let domain = try connection.defineDomain(xml: LibvirtXML.domain(LibvirtXMLTests.sampleDomain))
        defer { try? domain.undefine() }
        let notRunning = #expect(throws: HALabError.self) { try domain.suspend() }
        #expect(notRunning?.description.contains("not running") == true, "\(notRunning?.description ?? "")")
    }
}

/// What the VM end-to-end tests need.
enum VM {
    static let backend = LibvirtBackend(uri: "qemu:///system")

    static let missing: String? = {
        if let missing = E2E.missing { return missing }
        guard NodeImage().manifest != nil else { return "needs the node image ('halab image build'; .ci/run builds it)" }
        guard (try? LibvirtConnection(uri: backend.uri)) != nil else {
            return "needs libvirtd and virtlogd running for \(backend.uri) (.ci/run starts them)"
        }
        return nil
    }()

    static var reason: Comment { Comment(rawValue: "VM end-to-end test skipped: \(missing ?? "")") }
}

/// Real VMs (software-emulated here) with real nginx and keepalived, through libvirt.
@Suite(.serialized, .enabled(if: VM.missing == nil, VM.reason))
struct VirtualMachineTests {
    @Test func verifyMasterBackupOnVMsShowsTheDocumentsOutcomesAndLeavesNothing() async throws {
        let before = try await E2E.hostSnapshot()
        let report = try await E2E.verify("master-backup", as: "e2e-vm-master-backup", on: VM.backend)
        #expect(report.backend == "libvirt")
        #expect(report.steps[0].checks.first?.seen == "status 200, Server: nginx, body 'nginx-1'")
        #expect(report.steps.dropFirst().map { $0.checks.first?.seen ?? "" }.map { $0.hasSuffix("body 'nginx-2'") }
            == [true, false, true, false])
        let connection = try LibvirtConnection(uri: VM.backend.uri)
        for node in ["nginx-1", "nginx-2", "client"] {
            #expect(try connection.domain(named: "halab-e2e-vm-master-backup-\(node)") == nil)
        }
        #expect(!(try connection.networkNames()).contains("halab-e2e-vm-master-backup-lan"))
        #expect(try await E2E.hostSnapshot() == before)
    }

    @Test func networkFaultsOnVMs() async throws {
        let report = try await E2E.verify("master-backup", as: "e2e-vm-faults", scenarioFile: "network-faults.yaml", on: VM.backend)
        #expect(report.steps[1].checks.first?.seen == "held by nginx-1 and nginx-2 (split brain)")
        // Paused: the frozen VM still carries the VIP it had.
        #expect(report.steps.first { $0.name.contains("paused") }?.checks.first?.seen == "held by nginx-1 and nginx-2 (split brain)")
    }

    /// The guest kernel has netem even where the host's lacks it.
    @Test func delayHoldsPacketsBackInAVM() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-vm-delay")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        try await E2E.withLab(lab, on: VM.backend) { session, _ in
            try await session.perform(.delay(node: "client", milliseconds: 200))
            #expect(VM.backend.faults(lab.name) == [.delay(node: "client", milliseconds: 200)])
            let ping = try await VM.backend.exec(lab.name, node: "client", ["ping", "-c", "3", "-q", "10.33.1.11"])
            let average = ping.output.split(separator: "=").last?.split(separator: "/").dropFirst().first.flatMap { Double($0) }
            #expect((average ?? 0) >= 200, "\(ping.output)")
            try await session.perform(.heal(node: nil))
            #expect(VM.backend.faults(lab.name).isEmpty)
        }
    }
}
