import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// Any service behind keepalived, `halab new`, and lab files that teach.
@Suite struct ServicesAndNewLabTests {
    static func model(services: [String], ports: [Int: String] = [:], checks: [String: String] = [:]) -> VRRPModel {
        VRRPModel(
            nodes: [
                VRRPModel.Node(
                    name: "n", services: services, primaryAddress: 1, ports: ports, checks: checks, addresses: [],
                    segments: [:])
            ],
            instances: [])
    }

    @Test(arguments: [
        ("pidof nginx", ["nginx"]), ("/usr/bin/killall -0 haproxy", ["haproxy"]), ("pgrep -x haproxy", ["haproxy"]),
        ("rc-service nginx status", ["nginx"]), ("/usr/bin/curl -sf http://127.0.0.1:8080/health", ["app"]),
        ("curl -s http://localhost/", ["nginx"]), ("nc -z localhost 8080", ["app"]), ("/bin/true", []),
        ("curl http://10.0.0.9:8080/", [])
    ])
    func aScriptsServiceIsReadFromItsText(command: String, services: [String]) {
        let model = Self.model(services: ["nginx", "haproxy", "app", "keepalived"], ports: [80: "nginx", 8080: "app"])
        #expect(model.servicesChecked(by: VRRPScript(name: "chk", command: command), on: "n") == services)
    }

    @Test func labYamlSaysWhatTheTextCannot() {
        let model = Self.model(services: ["app", "keepalived"], checks: ["chk": "app"])
        #expect(model.servicesChecked(by: VRRPScript(name: "chk", command: "/opt/check.sh"), on: "n") == ["app"])
    }

    @Test func aDefinedServiceRunsUnderRcServiceByProcessName() {
        let script = NodeFiles.rcService(services: [
            Service(name: "app", process: "app-bin", start: "/opt/app --daemon", stopSignal: "INT")
        ])
        #expect(script.contains("    app) start_cmd='/opt/app --daemon'; signal=INT; process='app-bin' ;;"))
        #expect(script.contains(#"if [ -n "$process" ]; then pidof "$process" >/dev/null; return; fi"#))
        #expect(script.contains(#"kill -"$signal" $(pids)"#))
    }

    @Test func labYamlDefinesServicesAndChecks() throws {
        let folder = try LabLoadingTests().brokenLab(
            "lab.yaml",
            """
            segments: [lan]
            services:
              app: { start: /opt/app, process: app, port: 8080, stop-signal: INT }
            nodes:
              nginx-1:
                services: [app, keepalived]
                checks: { chk_nginx: app }
                interfaces:
                  eth1: { segment: lan, address: 10.33.1.11/24 }
              client:
                role: client
                interfaces:
                  eth1: { segment: lan, address: 10.33.1.50/24 }
            """)
        defer {
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: folder).deletingLastPathComponent().path)
        }
        try? FileManager.default.removeItem(atPath: "\(folder)/scenario.yaml")
        try? FileManager.default.removeItem(atPath: "\(folder)/nginx-2")
        let lab = try Lab.load(folder: folder)
        #expect(try lab.topology.node("nginx-1").serviceDefinitions.map(\.name) == ["app", "keepalived"])
        #expect(try lab.topology.node("nginx-1").definedServices.first?.port == 8080)
        #expect(ConfigCheck.failures(lab.vrrpModel()).first == .stopService("app", node: "nginx-1"))
    }

    @Test func labFilesTeach() throws {
        let tests = LabLoadingTests()
        try tests.expectError(
            "lab.yaml", "segments: [lan]\nnods: {}\n", line: 2,
            containing: "unknown key 'nods' in lab.yaml (did you mean 'nodes'?")
        try tests.expectError(
            "lab.yaml",
            "segments: [lan]\n"
                + LabLoadingTests.goodNodes.replacingOccurrences(
                    of: "[nginx, keepalived]", with: "[ngnix, keepalived]"),
            line: 4, containing: "unknown service 'ngnix' (did you mean 'nginx'?")
        // An interface the config names that lab.yaml does not give the node: both files and lines.
        let folder = try tests.brokenLab(
            "nginx-2/etc/keepalived/keepalived.conf",
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n 10.33.1.100/24\n "
                + "}\n}\n"
        )
        defer {
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: folder).deletingLastPathComponent().path)
        }
        let finding = try #require(
            try Lab.load(folder: folder).keepalived.flatMap(\.findings).first { $0.severity == .error })
        #expect(finding.location == "\(folder)/nginx-2/etc/keepalived/keepalived.conf:2")
        #expect(finding.message.hasPrefix("vrrp_instance VI_1 runs on eth0, but \(folder)/lab.yaml:"))
        #expect(finding.message.contains("gives node nginx-2 only eth1"))
    }

    @Test func aNewLabIsMadeFromTheDocumentsConfigs() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-new-\(UUID().uuidString.prefix(8).lowercased())/mine"
        ).path
        defer {
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: folder).deletingLastPathComponent().path)
        }
        let labs = KeepalivedConfigTests.labs
        let guesses = try LabMaker(
            folder: folder,
            nodes: [
                ("nginx-1", "\(labs)/master-backup/nginx-1/etc/keepalived/keepalived.conf"),
                ("nginx-2", "\(labs)/master-backup/nginx-2/etc/keepalived/keepalived.conf")
            ],
            templates: [labs]
        ).make()
        #expect(
            guesses.first
                == "segments: eth1 — one per interface name the configs use, shared by every node that names it")
        #expect(guesses.contains("nginx-1: eth1 10.33.1.11/24 — the next free address in its VIP's subnet"))
        #expect(guesses.contains("nginx-1: services nginx, keepalived — from what its tracked scripts check"))
        let lab = try Lab.load(folder: folder)
        #expect(lab.topology.nodes.map(\.name) == ["nginx-1", "nginx-2", "client"])
        #expect(try lab.topology.node("client").interfaces.map(\.address) == ["10.33.1.50/24"])
        #expect(
            try String(contentsOfFile: "\(folder)/nginx-1/etc/keepalived/keepalived.conf", encoding: .utf8)
                == String(
                    contentsOfFile: "\(labs)/master-backup/nginx-1/etc/keepalived/keepalived.conf", encoding: .utf8))
        #expect(lab.healthyHolders.map(\.node) == ["nginx-1"])
        #expect(
            lab.scenario.steps.map(\.name) == [
                "healthy", "stop nginx nginx-1", "start nginx nginx-1", "kill nginx-1", "revive nginx-1",
                "link down nginx-1", "link up nginx-1", "stop nginx nginx-2", "start nginx nginx-2",
                "kill nginx-2", "revive nginx-2", "link down nginx-2", "link up nginx-2"
            ])
        #expect(lab.scenario.steps.allSatisfy { $0.expected == .model })
    }

    @Test func aNewLabTakesAddressesFromUnicastSettings() throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-new-\(UUID().uuidString.prefix(8).lowercased())"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let instance = { (extra: String) in
            "vrrp_instance V {\n interface eth0\n virtual_router_id 9\n \(extra)\n virtual_ipaddress {\n "
                + "10.9.0.100/24\n }\n}\n"
        }
        try instance("unicast_src_ip 10.9.0.5\n unicast_peer {\n 10.9.0.6\n }").write(
            toFile: "\(parent)/a.conf", atomically: true, encoding: .utf8)
        try instance("priority 90").write(toFile: "\(parent)/b.conf", atomically: true, encoding: .utf8)
        let guesses = try LabMaker(
            folder: "\(parent)/pair", nodes: [("a", "\(parent)/a.conf"), ("b", "\(parent)/b.conf")],
            templates: [KeepalivedConfigTests.labs]
        ).make()
        #expect(guesses.contains("a: eth0 10.9.0.5/24 — its unicast_src_ip"))
        #expect(guesses.contains("b: eth0 10.9.0.6/24 — a unicast_peer of the others that no node gives as its own"))
        #expect(
            try Lab.load(folder: "\(parent)/pair").topology.node("client").interfaces.map(\.address) == ["10.9.0.50/24"]
        )
    }

    @Test func theSchemaKnowsWhatTheLoadersKnow() throws {
        let lab = try JSONSerialization.jsonObject(with: Data(try LabSchema.text(for: "lab").utf8)) as? [String: Any]
        #expect(
            Set((lab?["properties"] as? [String: Any])?.keys ?? [:].keys) == [
                "description", "segments", "services", "nodes"
            ])
        let scenario =
            try JSONSerialization.jsonObject(with: Data(try LabSchema.text(for: "scenario").utf8)) as? [String: Any]
        #expect(scenario?["title"] as? String == "halab scenario.yaml")
        #expect(throws: HALabError.self) { try LabSchema.text(for: "other") }
    }
}
