import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// Lab folders, good and bad: a bad one is refused with the file and line to fix.
@Suite struct LabLoadingTests {
    @Test func loadsMasterBackup() throws {
        let lab = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup")
        #expect(lab.name == "master-backup")
        #expect(lab.topology.segments == ["lan"])
        #expect(lab.topology.nodes.map(\.name) == ["nginx-1", "nginx-2", "client"])
        #expect(lab.clientNode == "client")
        #expect(lab.topology.nodes[0].services == ["nginx", "keepalived"])
        #expect(
            lab.topology.nodes[0].interfaces == [InterfaceSpec(name: "eth1", segment: "lan", address: "10.33.1.11/24")])
        #expect(
            lab.topology.nodes[0].fileLayers.map { URL(fileURLWithPath: $0).lastPathComponent } == ["nginx-1", "shared"]
        )
        #expect(lab.instances.map(\.priority) == [100, 90])
        #expect(lab.healthyHolders.map(\.node) == ["nginx-1"])
        #expect(lab.healthyHolders.map(\.address) == ["10.33.1.100"])
        // chk_nginx every 2 s, then nginx-2's Master_Down_Interval at the lowest priority the
        // weight allows (70), then one advert; after a hang, chk_nginx's timeout too.
        #expect(abs(lab.settleBound - (2 + 3 + (256 - 70) / 256.0 + 1)) < 1e-9)
        #expect(abs(lab.settleBound(after: .hangService("nginx", node: "nginx-1")) - lab.settleBound - 2) < 1e-9)
        #expect(lab.scenario.steps.count == 5)
        #expect(lab.scenario.steps[1].action == .run(node: "nginx-1", command: "rc-service nginx stop"))
        #expect(lab.scenario.steps[3].action == .chaos(.kill(node: "nginx-1")))
        #expect(
            lab.scenario.steps[0].expected.listed.first
                == .answer(
                    Request(url: "http://10.33.1.100", from: "client"), status: 200, server: "nginx", body: "nginx-1"))
    }

    /// Every client is a vantage point; one behind a router is judged by that router's ARP table.
    @Test func loadsTheRoutedLabsTwoClients() throws {
        let lab = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup-routed")
        #expect(lab.clientNode == "client")
        #expect(lab.otherClients == [Lab.Vantage(node: "client-routed", addresses: ["10.33.1.100"])])
        #expect(lab.vantages == [nil, "client-routed"])
        #expect(lab.topology.firstHop(of: "client-routed") == "router")
        #expect(lab.topology.firstHop(of: "client") == "client")
        #expect(lab.topology.firstHop(of: "nginx-1") == "nginx-1")
        let single = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup")
        #expect(single.otherClients.isEmpty && single.vantages == [nil])
        // dual-master's `outside` reaches no VIP (only the gateway's public address): no vantage.
        let dualMaster = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/dual-master")
        #expect(dualMaster.clientNode == "client" && dualMaster.otherClients.isEmpty)
    }

    @Test func locatesNamedLabsAndRefusesUnknownOnes() throws {
        let folder = try Lab.locate("master-backup", searchFolders: ["/nonexistent", KeepalivedConfigTests.labs])
        #expect(folder.hasSuffix("/labs/master-backup"))
        #expect(throws: HALabError.labNotFound("no-such-lab")) {
            try Lab.locate("no-such-lab", searchFolders: [KeepalivedConfigTests.labs])
        }
    }

    /// A copy of master-backup with one file replaced, in a temporary folder.
    func brokenLab(_ file: String, _ text: String?) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-tests-\(UUID().uuidString.prefix(8).lowercased())/lab"
        ).path
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: folder).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(KeepalivedConfigTests.labs)/master-backup", toPath: folder)
        if let text {
            try text.write(toFile: "\(folder)/\(file)", atomically: true, encoding: .utf8)
        } else {
            try FileManager.default.removeItem(atPath: "\(folder)/\(file)")
        }
        return folder
    }

    /// Loads a copy of master-backup with `file` replaced by `text` (removed when nil) and
    /// expects one bad-lab-file error at `reportedIn` (default: `file`) and `line`.
    func expectError(_ file: String, _ text: String?, line: Int?, containing words: String, reportedIn: String? = nil)
        throws
    {
        let folder = try brokenLab(file, text)
        defer {
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: folder).deletingLastPathComponent().path)
        }
        let error = try #require(throws: HALabError.self) { try Lab.load(folder: folder) }
        guard case .badLabFile(let errorFile, let errorLine, let message) = error else {
            Issue.record("expected a bad lab file error, got \(error)")
            return
        }
        #expect(errorFile.hasSuffix(reportedIn ?? file))
        #expect(errorLine == line)
        #expect(message.contains(words), "message: \(message)")
    }

    static let goodNodes = """
        nodes:
          nginx-1:
            services: [nginx, keepalived]
            interfaces:
              eth1: { segment: lan, address: 10.33.1.11/24 }
          client:
            role: client
            interfaces:
              eth1: { segment: lan, address: 10.33.1.50/24 }
        """

    @Test func unknownKeyInLabYaml() throws {
        try expectError("lab.yaml", "segments: [lan]\nnodse: {}\n", line: 2, containing: "unknown key 'nodse'")
    }

    @Test func unknownKeyInANode() throws {
        try expectError(
            "lab.yaml",
            "segments: [lan]\n" + Self.goodNodes.replacingOccurrences(of: "role: client", with: "rol: client"),
            line: 8, containing: "unknown key 'rol' in node client")
    }

    @Test func badAddress() throws {
        try expectError(
            "lab.yaml",
            "segments: [lan]\n" + Self.goodNodes.replacingOccurrences(of: "10.33.1.50/24", with: "10.33.1.500/24"),
            line: 10, containing: "'10.33.1.500/24' is not an IPv4 address")
        try expectError(
            "lab.yaml",
            "segments: [lan]\n" + Self.goodNodes.replacingOccurrences(of: "10.33.1.50/24", with: "10.33.1.50"),
            line: 10, containing: "with a prefix length")
    }

    @Test func duplicateAddress() throws {
        try expectError(
            "lab.yaml",
            "segments: [lan]\n" + Self.goodNodes.replacingOccurrences(of: "10.33.1.50/24", with: "10.33.1.11/24"),
            line: 10, containing: "already nginx-1's")
    }

    @Test func unknownSegmentAndService() throws {
        try expectError("lab.yaml", "segments: [wan]\n" + Self.goodNodes, line: 6, containing: "unknown segment 'lan'")
        try expectError(
            "lab.yaml",
            "segments: [lan]\n"
                + Self.goodNodes.replacingOccurrences(of: "[nginx, keepalived]", with: "[nginx, apache]"),
            line: 4, containing: "unknown service 'apache'")
    }

    @Test func invalidYAML() throws {
        try expectError("lab.yaml", "segments: [lan\nnodes:\n", line: 2, containing: "not valid YAML")
    }

    @Test func missingKeepalivedConfig() throws {
        try expectError(
            "nginx-1/etc/keepalived/keepalived.conf", nil, line: 9, containing: "its config", reportedIn: "lab.yaml")
    }

    @Test func keepalivedConfigFindingsNameTheLabsFile() throws {
        let folder = try brokenLab(
            "nginx-1/etc/keepalived/keepalived.conf",
            "vrrp_instance VI_1 {\n    virtual_router_id 51\n    priority x\n}\n")
        defer {
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: folder).deletingLastPathComponent().path)
        }
        let lab = try Lab.load(folder: folder)
        let findings = lab.keepalived.first { $0.node == "nginx-1" }?.findings.filter { $0.severity == .error } ?? []
        #expect(findings.map(\.location) == ["\(folder)/nginx-1/etc/keepalived/keepalived.conf:3"])
        #expect(findings.first?.message == "priority 'x' is not a whole number: keepalived uses the default 100")
    }

    @Test func aNodeFileIsReadAsBytesAndNeverReplacedByTheMachines() throws {
        // Not UTF-8, and /etc/hostname exists on the machine: the node's own file is still the one read.
        let folder = try brokenLab("scenario.yaml", "steps: []\n")
        defer {
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: folder).deletingLastPathComponent().path)
        }
        let config = "\(folder)/nginx-1/etc/keepalived/keepalived.conf"
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(
            of: "virtual_router_id 51", with: "include /etc/hostname\n virtual_router_id 51")
        try (Data(text.utf8) + Data([0xff, 0xfe, 0x0a])).write(to: URL(fileURLWithPath: config))
        try FileManager.default.createDirectory(atPath: "\(folder)/nginx-1/etc", withIntermediateDirectories: true)
        try Data([0x68, 0xe9, 0x0a]).write(to: URL(fileURLWithPath: "\(folder)/nginx-1/etc/hostname"))
        let lab = try Lab.load(folder: folder)
        let node = try #require(lab.keepalived.first { $0.node == "nginx-1" })
        #expect(node.instances.first?.virtualRouterID == 51)
        // The included file's one line is the lab's own (named as the node sees it), not the machine's hostname.
        #expect(node.findings.contains { $0.location == "/etc/hostname:1" && $0.message.contains("'h\u{FFFD}'") })
        // A file no layer has is the machine's, and the check says so; under /run it is nobody's.
        let source = KeepalivedConfig.Source.layers(["\(folder)/nginx-1"], node: "nginx-1")
        #expect(source.origin("/etc/passwd")?.hasPrefix("/etc/passwd is this machine's own file") == true)
        #expect(source.origin("/etc/hostname") == nil)
        #expect(throws: HALabError.self) { try source.read("/run/nothing") }
    }

    @Test func unknownNodeInAStep() throws {
        try expectError(
            "scenario.yaml", "steps:\n  - name: x\n    chaos: kill nginx-9\n", line: 3,
            containing: "unknown node 'nginx-9'")
        try expectError(
            "scenario.yaml", "steps:\n  - name: x\n    on: nginx-7\n    run: true\n", line: 3,
            containing: "unknown node 'nginx-7'")
        try expectError(
            "scenario.yaml",
            "steps:\n  - name: x\n    expect:\n      - curl: http://10.33.1.100\n        from: nobody\n",
            line: 5, containing: "unknown node 'nobody'")
    }

    @Test func badStepShapes() throws {
        try expectError(
            "scenario.yaml", "steps:\n  - name: x\n    chaos: explode nginx-1\n", line: 3,
            containing: "not a chaos action")
        try expectError(
            "scenario.yaml", "steps:\n  - name: x\n    run: rc-service nginx stop\n", line: 2,
            containing: "a step does one thing")
        try expectError(
            "scenario.yaml",
            "steps:\n  - name: x\n    expect:\n      - curl: http://x\n        body: a\n        satus: 200\n",
            line: 6, containing: "unknown key 'satus'")
    }

    @Test func nodeFilesOnlyInFoldersTheHostHas() throws {
        let folder = try brokenLab("lab.yaml", nil)
        defer {
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: folder).deletingLastPathComponent().path)
        }
        try FileManager.default.copyItem(
            atPath: "\(KeepalivedConfigTests.labs)/master-backup/lab.yaml", toPath: "\(folder)/lab.yaml")
        try FileManager.default.createDirectory(atPath: "\(folder)/nginx-2/proc", withIntermediateDirectories: true)
        #expect(
            throws: HALabError.badLabFile(
                file: "\(folder)/nginx-2/proc", line: nil,
                message:
                    "a node's files go in folders the host also has, such as etc/ or var/ (not proc, sys, dev, run or "
                        + "tmp)"
            )
        ) {
            try Lab.load(folder: folder)
        }
    }
}

@Suite struct DualMasterLabTests {
    @Test func loadsDualMaster() throws {
        let lab = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/dual-master")
        #expect(lab.topology.segments == ["lan", "internet"])
        #expect(
            lab.instances.map { "\($0.node) \($0.name) \($0.virtualRouterID) \($0.priority)" }
                == ["nginx-1 VI_1 51 100", "nginx-1 VI_2 52 90", "nginx-2 VI_1 51 90", "nginx-2 VI_2 52 100"])
        #expect(lab.healthyHolders.map { "\($0.address) \($0.node)" } == ["10.33.1.100 nginx-1", "10.33.1.200 nginx-2"])
        let gateway = try lab.topology.node("gateway")
        #expect(gateway.forwarding)
        #expect(gateway.services == ["local"])
        #expect(gateway.interfaces.map(\.address) == ["10.33.1.1/24", "11.22.33.44/24"])
        #expect(try lab.topology.node("nginx-1").routes == ["11.22.33.0/24 via 10.33.1.1"])
        let first = try #require(lab.scenario.steps.first)
        #expect(
            first.expected.listed[2]
                == .mix(
                    Request(url: "http://11.22.33.44", from: "gateway"), names: ["nginx-1", "nginx-2"], samples: 200))
        #expect(
            lab.scenario.steps[1].expected.listed[3]
                == .every(Request(url: "http://11.22.33.44", from: "outside"), name: "nginx-2", samples: 20))
    }

    @Test func gatewayRulesAreTheDocumentsAndRunAtBoot() throws {
        let script = try String(
            contentsOfFile: "\(KeepalivedConfigTests.labs)/dual-master/gateway/etc/local.d/lb.start", encoding: .utf8)
        let rules = script.split(separator: "\n").filter { $0.hasPrefix("iptables") }
        #expect(
            rules == [
                "iptables -t nat -A OUTPUT -p tcp -d 11.22.33.44 --dport 80 -m statistic --mode random --probability "
                    + "0.5 -j DNAT --to-destination 10.33.1.100:80",
                "iptables -t nat -A OUTPUT -p tcp -d 11.22.33.44 --dport 80 -j DNAT --to-destination 10.33.1.200:80",
                "iptables -t nat -A PREROUTING -p tcp -d 11.22.33.44 --dport 80 -m statistic --mode random "
                    + "--probability 0.5 -j DNAT --to-destination 10.33.1.100:80",
                "iptables -t nat -A PREROUTING -p tcp -d 11.22.33.44 --dport 80 -j DNAT --to-destination 10.33.1.200:80"
            ])
        #expect(
            FileManager.default.isExecutableFile(
                atPath: "\(KeepalivedConfigTests.labs)/dual-master/gateway/etc/local.d/lb.start"))
    }

    @Test func badRoutesAndSampledExpectationsAreRefused() throws {
        let tests = LabLoadingTests()
        try tests.expectError(
            "lab.yaml",
            "segments: [lan]\n"
                + LabLoadingTests.goodNodes.replacingOccurrences(
                    of: "role: client", with: "role: client\n    routes: [11.22.33.0/24 via gateway]"), line: 9,
            containing: "route '11.22.33.0/24 via gateway'")
        try tests.expectError(
            "scenario.yaml",
            "steps:\n  - name: x\n    expect:\n      - { curl: http://x, mix: [nginx-1, nginx-2], samples: 5 }\n",
            line: 4, containing: "samples goes with every (at least 1) or mix (at least 40)")
        try tests.expectError(
            "scenario.yaml", "steps:\n  - name: x\n    expect:\n      - { curl: http://x, body: a, every: a }\n",
            line: 4, containing: "one answer (status, server, body, fails) or many")
        try tests.expectError(
            "scenario.yaml", "steps:\n  - name: x\n    expect:\n      - { curl: http://x, mix: [a] }\n",
            line: 4, containing: "mix names at least two")
    }
}

@Suite struct ThreeNodeLabTests {
    @Test func everyStepExpectsTheModel() throws {
        let lab = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/three-node")
        #expect(lab.scenario.steps.count == 15)
        #expect(lab.scenario.steps.allSatisfy { $0.expected == .model })
        #expect(lab.keepalived.map(\.routerID) == ["NGINX_NODE1", "NGINX_NODE1", "NGINX_NODE1"])
        #expect(lab.instances.map(\.initialState) == [.master, .master, .master])
        #expect(lab.instances.map { $0.trackedScripts.first?.weight } == [-30, -30, -30])
    }

    @Test func theModelCannotFollowAnArbitraryCommand() throws {
        try LabLoadingTests().expectError(
            "scenario.yaml",
            """
            steps:
              - { name: x, on: nginx-1, run: kill -9 1 }
              - { name: y, expect: model }
            """, line: 3, containing: "cannot follow step 'x'")
    }
}

@Suite struct NetworkFaultScenarioTests {
    @Test func networkFaultsScenarioLoads() throws {
        let lab = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup")
        let scenario = try lab.loadScenario("\(lab.folder)/network-faults.yaml")
        #expect(scenario.steps[1].action == .chaos(.blockMulticast(node: nil)))
        #expect(scenario.steps[1].expected == .listed([.holders(vip: "10.33.1.100", nodes: ["nginx-1", "nginx-2"])]))
        let loss = try #require(scenario.steps.first { $0.action == .chaos(.loss(node: "nginx-1", percent: 30)) })
        #expect(
            loss.expected
                == .listed([
                    .pingLoss(from: "client", address: "10.33.1.11", percent: 51, samples: 200),
                    .takeovers(vip: "10.33.1.100", preferred: "nginx-1", percent: 30, seconds: 30)
                ]))
    }

    @Test func unicastLabExpectsOneHolderThroughout() throws {
        let lab = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup-unicast")
        #expect(lab.instances.map(\.unicastPeers) == [["10.33.1.12"], ["10.33.1.11"]])
        #expect(
            lab.scenario.steps[1].expected.listed.first == .singleHolder(vip: "10.33.1.100", window: lab.settleBound))
    }

    @Test func badVipExpectations() throws {
        let tests = LabLoadingTests()
        try tests.expectError(
            "scenario.yaml", "steps:\n  - name: x\n    expect:\n      - { vip: 10.33.1.100 }\n",
            line: 4, containing: "either holders or single: true")
        try tests.expectError(
            "scenario.yaml", "steps:\n  - name: x\n    expect:\n      - { vip: 10.33.1.300, single: true }\n",
            line: 4, containing: "vip must be an IPv4 or IPv6 address")
        try tests.expectError(
            "scenario.yaml", "steps:\n  - name: x\n    expect:\n      - { vip: 10.33.1.100, timeline: 5 }\n",
            line: 4, containing: "a timeline needs 'preferred'")
    }
}
