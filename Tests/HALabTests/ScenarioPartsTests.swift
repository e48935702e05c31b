import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct ScenarioPartsTests {
    @Test func chaosVocabulary() throws {
        #expect(try Fault.parse(["stop", "nginx", "nginx-1"]) == .stopService("nginx", node: "nginx-1"))
        #expect(try Fault.parse(["start", "nginx", "nginx-1"]) == .startService("nginx", node: "nginx-1"))
        #expect(try Fault.parse(["kill", "nginx-1"]) == .kill(node: "nginx-1"))
        #expect(try Fault.parse(["revive", "nginx-1"]) == .revive(node: "nginx-1"))
        #expect(
            try Fault.parse(["link", "down", "nginx-1"])
                == .link(node: "nginx-1", interface: nil, up: false, atNode: false))
        #expect(
            try Fault.parse(["link", "up", "nginx-1:eth1", "at-node"])
                == .link(node: "nginx-1", interface: "eth1", up: true, atNode: true))
        #expect(try Fault.parse(["block-multicast", "all"]) == .blockMulticast(node: nil))
        #expect(try Fault.parse(["unblock-multicast", "nginx-2"]) == .unblockMulticast(node: "nginx-2"))
        #expect(
            try Fault.parse(["partition", "nginx-1", "/", "nginx-2,client"])
                == .partition([["nginx-1"], ["nginx-2", "client"]]))
        #expect(try Fault.parse(["partition", "a,b/c"]) == .partition([["a", "b"], ["c"]]))
        #expect(try Fault.parse(["loss", "nginx-1", "30"]) == .loss(node: "nginx-1", percent: 30))
        #expect(try Fault.parse(["delay", "nginx-1", "100"]) == .delay(node: "nginx-1", milliseconds: 100))
        #expect(try Fault.parse(["pause", "nginx-1"]) == .pause(node: "nginx-1"))
        #expect(try Fault.parse(["heal"]) == .heal(node: nil))
        #expect(throws: Fault.WordsError.self) { try Fault.parse(["loss", "nginx-1", "130"]) }
        #expect(throws: Fault.WordsError.self) { try Fault.parse(["link", "sideways", "nginx-1"]) }
        #expect(throws: Fault.WordsError.self) { try Fault.parse(["partition", "a"]) }
        #expect(throws: Fault.WordsError.self) { try Fault.parse(["kill"]) }
        #expect(throws: Fault.WordsError.self) { try Fault.parse(["reboot", "nginx-1"]) }
    }

    @Test func curlsOwnJSONIsRead() {
        let summary = #"{"exitcode":0,"http_code":200,"errormsg":null,"url":"http://u/"}"#
        let headers = "{\"server\":[\"nginx\"],\n\"content-length\":[\"8\"]\n}"
        let response = CurlResponse.read(
            CommandResult(exitCode: 0, output: "nginx-1\n", errorOutput: summary + "\n" + headers))
        #expect(response == CurlResponse(exitCode: 0, status: 200, server: "nginx", body: "nginx-1\n", error: ""))
        let request = Request(url: "u", from: "c")
        #expect(AnswerCheck(request: request, status: 200, server: "nginx", body: "nginx-1").matches(response))
        #expect(!AnswerCheck(request: request, status: 200, body: "nginx-2").matches(response))
        #expect(!AnswerCheck(request: request, server: "nginx/1.22.1").matches(response))
        #expect(!AnswerCheck(request: request, status: 404).matches(response))
        #expect(!AnswerCheck(request: request, fails: true).matches(response))
        let refused =
            #"{"exitcode":7,"http_code":0,"errormsg":"#
            + #""Failed to connect to 10.33.1.100 port 80 after 0 ms: Couldn't connect to server"}"#
        let failed = CurlResponse.read(CommandResult(exitCode: 7, output: "", errorOutput: refused + "\n{}"))
        #expect(failed.status == nil && failed.exitCode == 7)
        #expect(!AnswerCheck(request: request).matches(failed))
        #expect(AnswerCheck(request: request, fails: true).matches(failed))
        #expect(
            failed.summary
                == "curl failed (exit 7): Failed to connect to 10.33.1.100 port 80 after 0 ms: Couldn't connect to "
                    + "server"
        )
        // curl killed before it wrote its summary: a failure, with what it said.
        let killed = CurlResponse.read(CommandResult(exitCode: 137, output: "", errorOutput: "Killed"))
        #expect(killed.exitCode == 137 && killed.error == "Killed")
    }

    static let report = VerifyReport(
        lab: "mb", backend: "namespaces", seconds: 3.5,
        steps: [
            .init(
                name: "healthy <a & b>", action: nil, actionError: nil, seconds: 0.1,
                checks: [
                    .init(
                        expected: .answer(Request(url: "http://10.33.1.100", from: "client"), body: "nginx-1"),
                        seen: "body 'nginx-1'", passed: true, heldAfter: 0.05, deadline: 8)
                ], logs: nil),
            .init(
                name: "stop \"it\"", action: "on n: rc-service nginx stop", actionError: nil, seconds: 8.2,
                checks: [
                    .init(
                        expected: .answer(Request(url: "http://10.33.1.100", from: "client"), body: "nginx-2"),
                        seen: "body 'nginx-1'\u{1}", passed: false, heldAfter: 8.1, deadline: 8)
                ],
                logs: ["nginx-1": ["(VI_1) Entering MASTER STATE"]])
        ])

    @Test func junitIsWellFormedAndCountsFailures() throws {
        let xml = JUnitReport.xml(Self.report)
        let document = try XMLDocument(xmlString: xml)
        let suite = try #require(try document.nodes(forXPath: "/testsuites/testsuite").first as? XMLElement)
        #expect(suite.attribute(forName: "tests")?.stringValue == "2")
        #expect(suite.attribute(forName: "failures")?.stringValue == "1")
        let cases = try document.nodes(forXPath: "//testcase").compactMap { $0 as? XMLElement }
        #expect(cases.map { $0.attribute(forName: "name")?.stringValue } == ["healthy <a & b>", "stop \"it\""])
        let failure = try #require(try document.nodes(forXPath: "//testcase[2]/failure").first as? XMLElement)
        #expect(
            failure.attribute(forName: "message")?.stringValue
                == "expected curl http://10.33.1.100 from client → body 'nginx-2'; seen body 'nginx-1'")
        #expect(failure.stringValue?.contains("Entering MASTER STATE") == true)
        #expect(try document.nodes(forXPath: "//testcase[1]/failure").isEmpty)
    }

    @Test func jsonReportRoundTrips() throws {
        let json = try JSONReport.text(Self.report)
        let decoded = try JSONDecoder().decode(VerifyReport.self, from: Data(json.utf8))
        #expect(decoded.steps.count == 2)
        #expect(!decoded.passed)
        #expect(decoded.steps[1].logs?["nginx-1"] == ["(VI_1) Entering MASTER STATE"])
        #expect(
            decoded.steps[1].checks[0].expected
                == .answer(Request(url: "http://10.33.1.100", from: "client"), body: "nginx-2"))
        #expect(json.contains("\"request\"") && !json.contains("\"_0\""), "the request is named in the JSON")
    }
}

@Suite struct BackendPartsTests {
    @Test func journalKeepsRecordsInOrderAndSkipsATornLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("halab-journal-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = StateJournal(path: path)
        try journal.append(.source("/labs/mb"))
        try journal.append(.libvirt("qemu:///system"))
        try journal.append(.netns("halab-mb-lan"))
        try FileSystem.appendLine("netns", to: path)  // what a crash mid-write can leave
        #expect(journal.records() == [.source("/labs/mb"), .libvirt("qemu:///system"), .netns("halab-mb-lan")])
    }

    @Test func bootScriptMirrorsTheNodesFilesFirst() throws {
        let labs = KeepalivedConfigTests.labs
        let node = NodeSpec(
            name: "nginx-1", interfaces: [], services: ["nginx", "keepalived"],
            fileLayers: ["\(labs)/master-backup/nginx-1", "\(labs)/master-backup/shared"])
        let mounts = NodeFiles.overlayMounts(node: node, stateDirectory: "/run/halab/mb/nodes/nginx-1")
        // /sbin resolved: on Debian 12 (merged /usr) it is /usr/sbin, where Alpine's rc-service is offered.
        let sbin = URL(fileURLWithPath: "/sbin").resolvingSymlinksInPath().path
        #expect(mounts.map(\.target) == ["/etc", "/var", "/usr/local/sbin", sbin])
        #expect(mounts[3].options == "lowerdir=/run/halab/mb/nodes/nginx-1/alpine:\(sbin)")
        #expect(
            mounts[0].options == "lowerdir=\(labs)/master-backup/nginx-1/etc:\(labs)/master-backup/shared/etc:/etc,"
                + "upperdir=/run/halab/mb/nodes/nginx-1/rw/etc/upper,workdir=/run/halab/mb/nodes/nginx-1/rw/etc/work")
        #expect(mounts[1].options.hasPrefix("lowerdir=\(labs)/master-backup/nginx-1/var:/var,"))
        #expect(mounts[2].options == "lowerdir=/run/halab/mb/nodes/nginx-1/sbin:/usr/local/sbin")
        let script = NodeFiles.bootScript(node: node, stateDirectory: "/run/halab/mb/nodes/nginx-1")
        #expect(script.contains("hostname nginx-1\n"))
        // Its own name in its /etc/hosts, after /etc is overlaid: written to the node's layer, not the host's.
        let hosts = try #require(
            script.range(of: "grep -qw 'nginx-1' /etc/hosts 2>/dev/null || echo '127.0.1.1 nginx-1' >> /etc/hosts\n"))
        #expect(script.range(of: "mount -n -t overlay halab -o lowerdir=")!.lowerBound < hosts.lowerBound)
        #expect(script.hasSuffix("exec /usr/local/sbin/halab-init nginx keepalived\n"))
    }

    @Test func rcServiceKnowsOnlyTheNodesServices() async throws {
        let script = NodeFiles.rcService(services: [.nginx, Service(name: "app", process: "app", start: "app &")])
        let syntax = try await Command.run("/bin/sh", ["-n"], input: script, check: false)
        #expect(syntax.succeeded, "\(syntax.errorOutput)")
        #expect(script.contains("\nesac\nmarker=${marker:-}"))
        #expect(script.contains("nginx) start_cmd='nginx'; signal=TERM; pidfile=/run/nginx.pid ;;"))
        #expect(!script.contains("keepalived)"))
    }

    @Test func switchPortNamesFitTheKernelsLimit() {
        #expect(
            NamespaceBackend.portName(node: "nginx-1", interface: "eth1", nodeIndex: 0, interfaceIndex: 0)
                == "nginx-1-eth1")
        let long = NamespaceBackend.portName(
            node: "a-very-long-node-name", interface: "eth1", nodeIndex: 3, interfaceIndex: 1)
        #expect(long == "port3-1")
    }
}
