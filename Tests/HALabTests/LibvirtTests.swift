import Foundation
import Testing
import Yams
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// The libvirt XML halab writes, and libvirt's own schema check of it.
@Suite struct LibvirtXMLTests {
    static let validator = "/usr/bin/virt-xml-validate"

    static let sampleDomain = LibvirtXML.Domain(
        name: "halab-unit-nginx-1", type: "qemu", memoryMiB: 512,
        boot: .kernel(
            "/var/lib/halab/image/vmlinuz", initramfs: "/run/halab/unit/vm/nginx-1.initramfs",
            commandLine: LibvirtBackend.kernelCommandLine),
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
        let macs = (0..<20).flatMap { node in
            (0..<3).map {
                LabTopology(name: "dual-master", segments: [], nodes: []).macAddress(node: node, interface: $0)
            }
        }
        #expect(Set(macs).count == macs.count)
        #expect(macs.allSatisfy { $0.hasPrefix("52:54:00:") && $0.count == 17 })
    }

    @Test func namesAreEscapedInXML() {
        #expect(LibvirtXML.escape("a<b>&'c") == "a&lt;b&gt;&amp;&apos;c")
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: validator) && Command.exists("xmllint"),
            "needs virt-xml-validate and xmllint (apt: libvirt-clients libxml2-utils)"))
    func theXMLPassesLibvirtsSchema() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-xml-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let documents = [
            ("network", LibvirtXML.network(lab: "unit", segment: "lan")),
            ("domain", LibvirtXML.domain(Self.sampleDomain)),
            ("device", LibvirtXML.interface("halab-unit-lan", mac: "52:54:00:01:00:00", linkUp: false))
        ]
        for (schema, xml) in documents where schema != "device" {
            try xml.write(toFile: "\(folder)/\(schema).xml", atomically: true, encoding: .utf8)
            let result = try await Command.run(Self.validator, ["\(folder)/\(schema).xml", schema], check: false)
            #expect(result.succeeded, "\(schema): \(result.output) \(result.errorOutput)")
        }
        // A device alone has no schema of its own: checked inside a domain.
        let withDevice = LibvirtXML.domain(Self.sampleDomain).replacingOccurrences(
            of: "<devices>", with: "<devices>\n" + documents[2].1)
        try withDevice.write(toFile: "\(folder)/device.xml", atomically: true, encoding: .utf8)
        let result = try await Command.run(Self.validator, ["\(folder)/device.xml", "domain"], check: false)
        #expect(result.succeeded, "\(result.output) \(result.errorOutput)")
    }

    @Test func guestSettingsGiveLinksByMACRoutesAndServices() {
        let node = NodeSpec(
            name: "gateway",
            interfaces: [
                InterfaceSpec(name: "eth1", segment: "lan", address: "10.33.1.1/24", address6: "fd00:33:1::1/64"),
                InterfaceSpec(name: "eth2", segment: "internet", address: "11.22.33.44/24")
            ],
            services: ["local"], fileLayers: [], routes: ["10.9.0.0/16 via 10.33.1.2"], forwarding: true)
        let settings = NodeFiles.guestSettings(node: node, macs: ["52:54:00:01:02:00", "52:54:00:01:02:01"])
        #expect(settings.contains("HALAB_NODE='gateway'"))
        #expect(
            settings.contains("HALAB_LINKS='52:54:00:01:02:00=eth1=10.33.1.1/24 52:54:00:01:02:01=eth2=11.22.33.44/24'")
        )
        #expect(settings.contains("HALAB_SERVICES='local'"))
        #expect(settings.contains("ip -6 addr add fd00:33:1::1/64 dev eth1 nodad"))
        #expect(settings.contains("ip route replace 10.9.0.0/16 via 10.33.1.2"))
        #expect(settings.contains("echo 1 > /proc/sys/net/ipv4/ip_forward"))
    }

    @Test(
        .enabled(
            if: (try? NodeImage.newestKernel()) != nil,
            "needs a kernel in /boot with its modules (apt: linux-image-amd64)"))
    func theImageTakesTheModulesNftablesBondsAndBridgesNeed() throws {
        let modules = try NodeImage.modulesWithDependencies(version: try NodeImage.newestKernel().version)
        for module in [
            "kernel/net/netfilter/nf_tables.ko", "kernel/lib/libcrc32c.ko", "kernel/drivers/net/virtio_net.ko",
            "kernel/net/sched/sch_netem.ko", "kernel/crypto/crc32c_generic.ko", "kernel/drivers/net/bonding/bonding.ko",
            "kernel/net/bridge/bridge.ko", "kernel/net/802/stp.ko"
        ] {
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
        let badXML = #expect(throws: HALabError.self) {
            try connection.defineDomain(xml: "<domain type='qemu'><name>x</name>")
        }
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
        guard NodeImage().manifest != nil else {
            return "needs the node image ('halab image build'; .ci/run builds it)"
        }
        guard (try? LibvirtConnection(uri: backend.uri)) != nil else {
            return "needs libvirtd and virtlogd running for \(backend.uri) (.ci/run starts them)"
        }
        return nil
    }()

    static var reason: Comment { Comment(rawValue: "VM end-to-end test skipped: \(missing ?? "")") }
}

/// Real VMs (software-emulated here) with real nginx and keepalived, through libvirt. Each runs
/// alone: software-emulated VMs need every core, and their timers would not hold beside others.
extension EndToEndTests {
    @Suite(.enabled(if: VM.missing == nil, VM.reason), .alone("software-emulated VMs need every core"))
    struct VirtualMachineTests {
        @Test func verifyMasterBackupOnVMsShowsTheDocumentsOutcomesAndLeavesNothing() async throws {
            let before = try await E2E.hostSnapshot()
            let report = try await E2E.verify("master-backup", as: "e2e-vm-master-backup", on: VM.backend)
            #expect(report.backend == "libvirt")
            #expect(report.steps[0].checks.first?.seen == "status 200, Server: nginx, body 'nginx-1'")
            #expect(
                report.steps.dropFirst().map { $0.checks.first?.seen ?? "" }.map { $0.hasSuffix("body 'nginx-2'") }
                    == [true, false, true, false])
            let connection = try LibvirtConnection(uri: VM.backend.uri)
            for node in ["nginx-1", "nginx-2", "client"] {
                #expect(try connection.domain(named: "halab-e2e-vm-master-backup-\(node)") == nil)
            }
            #expect(!(try connection.networkNames()).contains("halab-e2e-vm-master-backup-lan"))
            E2E.expectUnchanged(before, try await E2E.hostSnapshot())
        }

        @Test func networkFaultsOnVMs() async throws {
            let report = try await E2E.verify(
                "master-backup", as: "e2e-vm-faults", scenarioFile: "network-faults.yaml", on: VM.backend)
            #expect(report.steps[1].checks.first?.seen == "held by nginx-1 and nginx-2 (split brain)")
            // Paused: the frozen VM still carries the VIP it had.
            #expect(
                report.steps.first { $0.name.contains("paused") }?.checks.first?.seen
                    == "held by nginx-1 and nginx-2 (split brain)")
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
                let average = ping.output.split(separator: "=").last?.split(separator: "/").dropFirst().first.flatMap {
                    Double($0)
                }
                #expect((average ?? 0) >= 200, "\(ping.output)")
                try await session.perform(.heal(node: nil))
                #expect(VM.backend.faults(lab.name).isEmpty)
            }
        }

        @Test func downCleansUpAfterHalabWasKilledWhileVMsBooted() async throws {
            let folder = try E2E.copy("master-backup", as: "e2e-vm-killed")
            defer { E2E.removeCopy(folder) }
            let lab = try Lab.load(folder: folder)
            let up = Process()
            up.executableURL = URL(fileURLWithPath: E2E.halab)
            up.arguments = ["up", folder, "--backend", "libvirt"]
            up.standardError = FileHandle.nullDevice
            up.standardOutput = FileHandle.nullDevice
            try up.run()
            let connection = try LibvirtConnection(uri: VM.backend.uri)
            let nodes = ["nginx-1", "nginx-2", "client"]
            func allRunning() throws -> Bool {
                try nodes.allSatisfy { try connection.domain(named: "halab-e2e-vm-killed-\($0)")?.isActive ?? false }
            }
            // Killed once its VMs run, while it waits for them to boot (after a KVM check, on a new machine).
            let deadline = Date().addingTimeInterval(90)
            while Date() < deadline, !(try allRunning()) { try await Task.sleep(for: .milliseconds(20)) }
            kill(up.processIdentifier, SIGKILL)
            up.waitUntilExit()
            #expect(up.terminationReason == .uncaughtSignal)
            #expect(try allRunning())

            let down = try await E2E.runHalab(["down", lab.name])
            #expect(down.succeeded, "\(down.errorOutput)")
            for node in nodes {
                #expect(try connection.domain(named: "halab-e2e-vm-killed-\(node)") == nil)
            }
            #expect(!(try connection.networkNames()).contains("halab-e2e-vm-killed-lan"))
            #expect(!FileManager.default.fileExists(atPath: "/run/halab/\(lab.name)"))
        }
    }
}

/// An Alpine cloud image as the VMs' image: what halab hands cloud-init, and the overlay and seed
/// it makes with the real qemu-img and genisoimage. (No Alpine image can be fetched here, so
/// none is booted.)
@Suite struct CloudImageTests {
    static let gateway = try! Lab.load(folder: "\(KeepalivedConfigTests.labs)/dual-master").topology.node("gateway")
    static let nginx1 = try! Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup").topology.node("nginx-1")

    static func writeFiles(_ userData: String) throws -> [String: (mode: String, content: String)] {
        let document = try #require(try Yams.load(yaml: userData) as? [String: Any])
        let entries = try #require(document["write_files"] as? [[String: Any]])
        var files: [String: (String, String)] = [:]
        for entry in entries {
            let text = try #require(entry["content"] as? String)
            let content = try #require(Data(base64Encoded: text))
            let path = try #require(entry["path"] as? String)
            let mode = try #require(entry["permissions"] as? String)
            files[path] = (mode, String(decoding: content, as: UTF8.self))
        }
        return files
    }

    @Test func theNodesFilesGoVerbatimWithTheirModes() throws {
        let userData = CloudImage.userData(
            node: Self.gateway, macs: ["52:54:00:01:02:00", "52:54:00:01:02:01"],
            files: try CloudImage.nodeFiles(Self.gateway))
        #expect(userData.hasPrefix("#cloud-config\n"))
        let files = try Self.writeFiles(userData)
        let rules = try String(
            contentsOfFile: "\(KeepalivedConfigTests.labs)/dual-master/gateway/etc/local.d/lb.start", encoding: .utf8)
        #expect(files["/etc/local.d/lb.start"]?.content == rules)
        #expect(files["/etc/local.d/lb.start"]?.mode == "0755")
        #expect(
            files["/etc/halab/node.sh"]?.content.contains("HALAB_LINKS='52:54:00:01:02:00=eth1=10.33.1.1/24") == true)
    }

    @Test func theNodeFolderWinsOverShared() throws {
        let files = try CloudImage.nodeFiles(Self.nginx1)
        let page = try #require(files.first { $0.path == "/var/www/html/index.html" })
        #expect(String(decoding: page.content, as: UTF8.self).trimmingSpaces() == "nginx-1")
        #expect(files.contains { $0.path == "/etc/nginx/nginx.conf" })  // from shared/
    }

    @Test func everyBootInstallsStartsAndReportsTheServicesAsTheDocumentDoes() throws {
        let files = try Self.writeFiles(CloudImage.userData(node: Self.nginx1, macs: ["52:54:00:01:00:00"], files: []))
        let script = try #require(files[CloudImage.perBootScript])
        #expect(script.mode == "0755")
        #expect(script.content.contains("apk add nginx keepalived qemu-guest-agent"))
        #expect(script.content.contains(#"rc-update add "$service" default"#))
        #expect(script.content.contains(#"if rc-service "$service" start; then echo "$service ok""#))
        #expect(script.content.contains("mv \(CloudImage.statusFile).new \(CloudImage.statusFile)"))
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: LibvirtXMLTests.validator) && Command.exists("xmllint"),
            "needs virt-xml-validate and xmllint (apt: libvirt-clients libxml2-utils)"))
    func aDiskBootedDomainPassesLibvirtsSchema() async throws {
        var domain = LibvirtXMLTests.sampleDomain
        domain.boot = .disk("/run/halab/unit/vm/nginx-1.qcow2", seed: "/run/halab/unit/vm/nginx-1.seed.iso")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-disk-\(UUID().uuidString.prefix(8)).xml"
        ).path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try LibvirtXML.domain(domain).write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await Command.run(LibvirtXMLTests.validator, [file, "domain"], check: false)
        #expect(result.succeeded, "\(result.output) \(result.errorOutput)")
    }

    @Test(
        .enabled(
            if: Command.exists("qemu-img") && Command.exists("genisoimage") && Command.exists("isoinfo"),
            "needs qemu-img and genisoimage (apt: qemu-utils genisoimage)"))
    func eachNodeGetsAnOverlayAndASeedLabelledCidata() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-cloud-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await Command.run("qemu-img", ["create", "-q", "-f", "qcow2", "\(folder)/alpine.qcow2", "64M"])
        let image = CloudImage(base: "\(folder)/alpine.qcow2")
        try image.require()
        let (disk, seed) = try await image.prepare(
            Self.nginx1, lab: "unit", macs: ["52:54:00:01:00:00"], folder: folder)
        let info = try await Command.run("qemu-img", ["info", "--output=json", disk]).output
        #expect(info.contains(#""backing-filename": "\#(folder)/alpine.qcow2""#), "\(info)")
        #expect(try await Command.run("isoinfo", ["-d", "-i", seed]).output.contains("Volume id: cidata"))
        let listing = try await Command.run("isoinfo", ["-R", "-f", "-i", seed]).output
        #expect(Set(listing.split(separator: "\n")) == ["/user-data", "/meta-data", "/network-config"])
        let metaData = try await Command.run("isoinfo", ["-R", "-i", seed, "-x", "/meta-data"]).output
        #expect(metaData == "instance-id: halab-unit-nginx-1\nlocal-hostname: nginx-1\n")
    }
}
