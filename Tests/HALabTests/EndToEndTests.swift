import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// What the end-to-end tests need, and why they are skipped where it is missing.
enum E2E {
    static let buildFolder = URL(
        fileURLWithPath: try! FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    )
    .deletingLastPathComponent().path
    static let halab = "\(buildFolder)/halab"
    static let backend = NamespaceBackend(initProgram: "\(buildFolder)/halab-init")

    static let missing: String? = {
        if geteuid() != 0 { return "needs root (namespaces); CI runs it as root" }
        for program in ["keepalived", "nginx", "curl", "ip", "nsenter", "unshare", "setsid", "nft"]
        where !Command.exists(program) {
            return "needs '\(program)' installed (.ci/run installs it)"
        }
        for binary in [halab, "\(buildFolder)/halab-init"] where !FileManager.default.isExecutableFile(atPath: binary) {
            return "needs \(binary) built ('swift build')"
        }
        return nil
    }()

    static var enabled: Bool { missing == nil }

    /// Whether the kernel can make a netem qdisc, tried in a throwaway network namespace.
    static let hasNetem: Bool = {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["--net", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()
    static var reason: Comment { Comment(rawValue: "end-to-end test skipped: \(missing ?? "")") }

    /// A copy of a lab under a name of its own, so tests never touch a lab a user has up.
    static func copy(_ lab: String, as name: String, scenario: String? = nil) throws -> String {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-e2e-\(UUID().uuidString.prefix(8))"
        ).path
        let folder = "\(parent)/\(name)"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(KeepalivedConfigTests.labs)/\(lab)", toPath: folder)
        if let scenario { try scenario.write(toFile: "\(folder)/scenario.yaml", atomically: true, encoding: .utf8) }
        return folder
    }

    static func removeCopy(_ folder: String) {
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: folder).deletingLastPathComponent().path)
    }

    /// `text` as a scenario file of the lab copy in `folder`, loaded as verify would.
    static func scenario(_ text: String, of lab: Lab, in folder: String) throws -> Scenario {
        try text.write(toFile: "\(folder)/s.yaml", atomically: true, encoding: .utf8)
        return try lab.loadScenario("\(folder)/s.yaml")
    }

    /// What the host's own network namespace and mount table look like.
    static func hostSnapshot() async throws -> [String] {
        try await snapshot { try await Command.run($0, $1) }
    }

    /// A host as it was before: every part of the snapshot the same; where not, the lines that
    /// came and went.
    static func expectUnchanged(
        _ before: [String], _ after: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let changes = zip(before, after).filter { $0 != $1 }.map { before, after in
            let changes = after.split(separator: "\n").difference(from: before.split(separator: "\n"))
            let lines = { (changes: [CollectionDifference<Substring>.Change]) in
                changes.map { change in
                    switch change {
                    case .insert(_, let line, _), .remove(_, let line, _): String(line)
                    }
                }
            }
            return "gone: \(lines(changes.removals)) new: \(lines(changes.insertions))"
        }
        #expect(before == after, "\(changes.joined(separator: "; "))", sourceLocation: sourceLocation)
    }

    /// The network namespace, mount table and /run that `run` sees.
    static func snapshot(_ run: (String, [String]) async throws -> CommandResult) async throws -> [String] {
        var parts: [String] = []
        for arguments in [["-j", "link"], ["-j", "addr"], ["-j", "route"], ["-6", "-j", "route"], ["netns", "list"]] {
            parts.append(try await run("ip", arguments).output)
        }
        parts.append(try await run("nft", ["list", "ruleset"]).output)
        let mounts = try await run("cat", ["/proc/self/mountinfo"]).output
        parts.append(
            mounts.split(separator: "\n").map { $0.split(separator: " ").dropFirst(4).first.map(String.init) ?? "" }
                .sorted()
                .joined(separator: "\n"))
        // What halab or the tools it runs could leave in /run (/run/halab, /run/netns, libmount's /run/mount …).
        parts.append(try await run("ls", ["-A1", "/run"]).output)
        return parts
    }

    /// Every process of a lab: in its nodes and the host-side parents holding their namespaces.
    static func pids(of topology: LabTopology) -> [Int32] {
        (topology.nodes.map(\.name) + topology.segments).flatMap {
            ProcessTable.processes(inNetworkNamespace: "/run/netns/\(NamespaceBackend.netns(topology.name, $0))").map(
                \.pid)
        }
    }

    /// Whether the process still has an entry in /proc: running, or a zombie not yet reaped.
    static func present(_ pid: Int32) -> Bool { FileManager.default.fileExists(atPath: "/proc/\(pid)") }

    /// Brings a lab up, runs `body`, and takes the lab down again whatever happened.
    /// What a step that failed saw: the checks that failed, the action's error, the invariants broken.
    static func whyFailed(_ step: VerifyReport.StepResult) -> Comment {
        let checks = step.checks.filter { !$0.passed }.map { "\($0.expected): \($0.seen)" }
        let broken = step.violations.map(\.summary).joined(separator: "; ")
        return Comment(rawValue: "\(step.name): \(checks) \(step.actionError ?? "") \(broken)")
    }

    static func withLab<T>(
        _ lab: Lab, on backend: any LabBackend = backend,
        _ body: (LabSession, LabSession.Convergence) async throws -> T
    ) async throws -> T {
        do {
            let (session, convergence) = try await LabSession.up(lab, backend: backend) { _ in }
            let result = try await body(session, convergence)
            try await backend.down(lab.name)
            return result
        } catch {
            _ = try? await backend.down(lab.name)
            throw error
        }
    }

    /// A lab copy brought up, its scenario (or `scenarioFile` of it) verified, and taken down.
    static func verify(
        _ labName: String, as name: String, scenarioFile: String? = nil,
        on backend: any LabBackend = backend
    ) async throws -> VerifyReport {
        let folder = try copy(labName, as: name)
        defer { removeCopy(folder) }
        var lab = try Lab.load(folder: folder)
        if let scenarioFile { lab.scenario = try lab.loadScenario("\(folder)/\(scenarioFile)") }
        let report = try await withLab(lab, on: backend) { session, _ in
            try await Verifier.run(session) { _ in }
        }
        #expect(report.steps.count == lab.scenario.steps.count)
        for step in report.steps {
            #expect(step.passed, E2E.whyFailed(step))
        }
        return report
    }

    /// Runs `body` with a host of its own (`TestHost`), which is closed after it.
    static func withHost<T>(_ body: (TestHost) async throws -> T) async throws -> T {
        let host = try TestHost()
        defer { host.close() }
        return try await body(host)
    }

    /// What /run/halab is before a lab goes up: not there; there, empty, made by someone else;
    /// or holding another lab that is up. A lab's `down` leaves it as it was in each case.
    enum RootBefore: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case absent, someoneElses, anotherLab

        var testDescription: String { rawValue }

        typealias Run = (String, [String]) async throws -> CommandResult

        func prepare(folder: String, run: Run, halab: ([String]) async throws -> CommandResult) async throws {
            switch self {
            case .absent: #expect(try await run("test", ["!", "-e", "/run/halab"]).succeeded)
            case .someoneElses: #expect(try await run("mkdir", ["/run/halab"]).succeeded)
            case .anotherLab:
                let up = try await halab(["up", folder, "--name", "e2e-other"])
                #expect(up.succeeded, "\(up.errorOutput)")
            }
        }

        /// What `prepare` made, taken away again: the host is then as the test found it.
        func clear(run: Run, halab: ([String]) async throws -> CommandResult) async throws {
            switch self {
            case .absent: break
            case .someoneElses: #expect(try await run("rmdir", ["/run/halab"]).succeeded)
            case .anotherLab: #expect(try await halab(["down", "e2e-other"]).succeeded)
            }
            #expect(try await run("test", ["!", "-e", "/run/halab"]).succeeded)
        }
    }

    static func runHalab(_ arguments: [String], asUser user: String? = nil) async throws -> CommandResult {
        if let user {
            return try await Command.run(
                "setpriv", ["--reuid=\(user)", "--regid=nogroup", "--clear-groups", halab] + arguments, check: false)
        }
        return try await Command.run(halab, arguments, check: false)
    }
}

/// A host of a test's own: a network and a mount namespace with an empty /run of their own,
/// held by a sleeping process. halab run in it makes its labs, locks and state there, so a test
/// that compares this host before and after sees what its halab did and nothing of the tests
/// running beside it, and no test sees another's labs.
final class TestHost: Sendable {
    let holder: Process

    init() throws {
        holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        // Its own /run, and none of the machine's mounts under /run (another test's namespaces):
        // the machine removing those would change this host's mount table.
        // -n everywhere: mount(8) would otherwise make libmount's /run/mount in the machine's /run.
        // A mount another test removes meanwhile is gone already: umount's complaint says nothing.
        let script =
            #"awk '$5 ~ "^/run/" { print $5 }' /proc/self/mountinfo | sort -r | "#
            + #"while read -r m; do umount -n -l "$m" 2>/dev/null; done; "#
            + "mount -n -t tmpfs -o mode=0755 halab-test-host /run && ip link set lo up && echo ready && exec sleep "
            + "infinity"
        holder.arguments = ["--net", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script]
        let ready = Pipe()
        holder.standardOutput = ready
        try holder.run()
        let said = String(decoding: ready.fileHandleForReading.readData(ofLength: 6), as: UTF8.self)
        guard said == "ready\n" else {
            close()
            throw HALabError.commandFailed(command: "unshare (a test's own host)", status: "not ready", output: said)
        }
    }

    /// Runs a program in this host (its network and mounts), collecting what it prints.
    func run(_ program: String, _ arguments: [String]) async throws -> CommandResult {
        try await Command.run(
            "nsenter", ["--target", "\(holder.processIdentifier)", "--net", "--mount", "--", program] + arguments,
            check: false)
    }

    /// Runs a program in this host until `stop` returns, then sends it `signal`.
    func run(_ program: String, _ arguments: [String], signal: Int32, until stop: @escaping @Sendable () async -> Void)
        async throws -> CommandResult
    {
        try await Command.run(
            "nsenter", ["--target", "\(holder.processIdentifier)", "--net", "--mount", "--", program] + arguments,
            signal: signal, until: stop)
    }

    func halab(_ arguments: [String]) async throws -> CommandResult { try await run(E2E.halab, arguments) }

    /// Where a file of this host is, seen from the machine's.
    func file(_ path: String) -> String { "/proc/\(holder.processIdentifier)/root\(path)" }

    func snapshot() async throws -> [String] { try await E2E.snapshot(run) }

    func close() {
        holder.terminate()
        holder.waitUntilExit()
    }
}

/// Real namespaces, nginx and keepalived. They share the machine: several at once, each in lab
/// instances of its own, those that need the machine to themselves alone (`MachineShare`).
@Suite(.sharesTheMachine, .enabled(if: E2E.enabled, E2E.reason))
struct EndToEndTests {
    @Test func verifyMasterBackupShowsTheDocumentsOutcomes() async throws {
        let report = try await E2E.verify("master-backup", as: "e2e-master-backup")
        #expect(
            report.steps.map(\.name) == [
                "healthy, the VIP answers from nginx-1", "nginx stopped on nginx-1, the VIP answers from nginx-2",
                "nginx started again on nginx-1, the VIP comes back (preemption)",
                "nginx-1 crashes, the VIP answers from nginx-2",
                "nginx-1 boots again, the VIP comes back"
            ])
        for check in report.steps.flatMap(\.checks) { #expect(check.heldAfter <= check.deadline) }
        // (a) The document's first curl, headers included.
        #expect(report.steps[0].checks.first?.seen == "status 200, Server: nginx, body 'nginx-1'")
        // (b)–(e): who answered after each action.
        #expect(
            report.steps.dropFirst().map { $0.checks.first?.seen ?? "" }.map { $0.hasSuffix("body 'nginx-2'") }
                == [true, false, true, false])
    }

    @Test func verifyDualMasterShowsBothVIPsAndTheGatewaysBalancing() async throws {
        let folder = try E2E.copy("dual-master", as: "e2e-dual-master")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        let report = try await E2E.withLab(lab) { session, _ in
            // The document's transcript, literally: five bodies from the gateway.
            let curl = try await E2E.runHalab([
                "curl", "http://11.22.33.44", "-n", "5", "--from", "gateway", "--lab", lab.name
            ])
            #expect(curl.succeeded, "\(curl.errorOutput)")
            let bodies = curl.output.split(separator: "\n").map(String.init)
            #expect(bodies.count == 5 && bodies.allSatisfy { ["nginx-1", "nginx-2"].contains($0) }, "\(bodies)")

            let states = try await session.instanceStates()
            #expect(
                states.map { "\($0.instance) \($0.node) \($0.state) \($0.effectivePriority ?? 0)" }.sorted() == [
                    "VI_1 nginx-1 MASTER 100", "VI_1 nginx-2 BACKUP 90", "VI_2 nginx-1 BACKUP 90",
                    "VI_2 nginx-2 MASTER 100"
                ])
            return try await Verifier.run(session) { _ in }
        }
        #expect(report.steps.count == 9)
        for step in report.steps {
            #expect(
                step.passed, "\(step.name): \(step.checks.filter { !$0.passed }.map(\.seen)) \(step.actionError ?? "")")
        }
    }

    @Test func statusReportsEachInstanceAfterAFailure() async throws {
        let folder = try E2E.copy("dual-master", as: "e2e-dm-status")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        try await E2E.withLab(lab) { session, _ in
            let kill = try await E2E.runHalab(["chaos", "kill", "nginx-1", "--lab", lab.name])
            #expect(kill.output == "kill nginx-1: done\n", "\(kill.errorOutput)")
            let takeover = Expectation.answer(Request(url: "http://10.33.1.100", from: "client"), body: "nginx-2")
            #expect(
                try await ExpectationEngine(session: session).await(
                    takeover, deadline: lab.settleBound + Verifier.slack
                ).passed)
            let states = try await session.instanceStates()
            #expect(
                states.map { "\($0.instance) \($0.node) \($0.state)" }.sorted() == [
                    "VI_1 nginx-1 node down", "VI_1 nginx-2 MASTER", "VI_2 nginx-1 node down", "VI_2 nginx-2 MASTER"
                ])
            let status = try await E2E.runHalab(["status", "--lab", lab.name])
            #expect(status.output.contains("  nginx-1  DOWN"), "\(status.output)")
            #expect(status.output.contains("VIP 10.33.1.100 → nginx-2"))
            #expect(status.output.contains("VIP 10.33.1.200 → nginx-2"))
        }
    }

    @Test func verifyThreeNodeChecksTheModelLive() async throws {
        let report = try await E2E.verify("three-node", as: "e2e-three-node")
        #expect(report.steps.count == 15)
        // The labs.md rows, as seen live.
        let holders = report.steps.map { $0.checks.first?.seen ?? "" }
        #expect(holders.prefix(4) == ["held by nginx-1", "held by nginx-2", "held by nginx-3", "held by nginx-1"])
        #expect(report.steps[3].checks[1].expected.description.hasSuffix("→ fails"))  // all stopped: nobody serves
        #expect(holders[8] == "held by nginx-3")  // the other order: nginx-2, then nginx-1
    }

    /// Long, though one lab: a loss timeline and a stale-ARP blackhole take most of 3 minutes.
    @Test(.labs(1, long: true)) func networkFaultsOnMasterBackup() async throws {
        let report = try await E2E.verify("master-backup", as: "e2e-net-faults", scenarioFile: "network-faults.yaml")
        // The split brain is seen, not assumed.
        #expect(report.steps[1].checks.first?.seen == "held by nginx-1 and nginx-2 (split brain)")
        // Healed, the client is blackholed by its stale ARP entry: reported, and accepted by the scenario.
        let blackhole = try #require(report.steps[2].accepted.first)
        #expect(blackhole.invariant == .staleARP && blackhole.to - blackhole.from > 1, "\(blackhole.summary)")
        #expect(blackhole.summary.contains("the client's ARP entry names nginx-2's MAC"))
    }

    @Test func unicastPairSurvivesWhatSplitsTheMulticastOne() async throws {
        let report = try await E2E.verify("master-backup-unicast", as: "e2e-unicast")
        #expect(report.steps[1].checks.first?.seen == "held by nginx-1")
    }

    @Test func faultsAreRecordedListedAndHealed() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-faults")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        try await E2E.withLab(lab) { session, _ in
            let backend = E2E.backend
            for words in [
                ["loss", "nginx-2", "10"], ["block-multicast", "all"], ["partition", "nginx-1", "/", "client"],
                ["pause", "nginx-2"]
            ] {
                try await session.perform(try Fault.parse(words))
            }
            #expect(
                backend.faults(lab.name).map(\.description) == [
                    "10 % loss at nginx-2", "multicast 224.0.0.18 (IP protocol 112) dropped at every switch",
                    "partition nginx-1 / client", "nginx-2 paused"
                ])
            let status = try await E2E.runHalab(["status", "--lab", lab.name])
            #expect(status.output.contains("faults in force: 10 % loss at nginx-2; multicast"), "\(status.output)")
            let states = backend.processes(lab.name, node: "nginx-2").map { pid in
                (try? String(contentsOfFile: "/proc/\(pid.pid)/stat", encoding: .utf8))?.split(separator: ")").last?
                    .split(separator: " ").first
            }
            #expect(!states.isEmpty && states.allSatisfy { $0 == "T" })  // every process stopped
            let tables = { (ns: String) in
                try await Command.run("nsenter", ["--net=/run/netns/\(ns)", "nft", "list", "tables"]).output
            }
            #expect(try await tables("halab-\(lab.name)-lan") == "table bridge halab-multicast\n")
            #expect(try await tables("halab-\(lab.name)-nginx-2") == "table inet halab-loss\n")
            // Loss is the links': the node's loopback, where a local health check runs, loses nothing.
            let loopback = try await Command.run(
                "nsenter",
                ["--net=/run/netns/halab-\(lab.name)-nginx-2", "ping", "-c", "50", "-i", "0.01", "-q", "127.0.0.1"])
            #expect(loopback.output.contains(" 0% packet loss"), "\(loopback.output)")
            // A partition: each side drops the other's frames by their MAC addresses, on both backends alike.
            #expect(try await tables("halab-\(lab.name)-nginx-1") == "table inet halab-partition\n")
            #expect(try await tables("halab-\(lab.name)-client") == "table inet halab-partition\n")

            try await session.perform(.heal(node: nil))
            #expect(backend.faults(lab.name).isEmpty)
            for ns in ["lan", "nginx-1", "nginx-2", "client"] {
                #expect(try await tables("halab-\(lab.name)-\(ns)") == "")
            }
            #expect(try await backend.exec(lab.name, node: "nginx-2", ["pidof", "keepalived"]).succeeded)
            let resumed = Expectation.answer(Request(url: "http://10.33.1.100", from: "client"), body: "nginx-1")
            #expect(
                try await ExpectationEngine(session: session).await(resumed, deadline: lab.settleBound + Verifier.slack)
                    .passed)
        }
    }

    @Test(.enabled(if: E2E.hasNetem, "skipped: this kernel has no netem (sch_netem), so delay cannot be made"))
    func delayHoldsPacketsBack() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-delay")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        try await E2E.withLab(lab) { session, _ in
            try await session.perform(.delay(node: "client", milliseconds: 50))
            #expect(E2E.backend.faults(lab.name) == [.delay(node: "client", milliseconds: 50)])
            let ping = try await E2E.backend.exec(lab.name, node: "client", ["ping", "-c", "3", "-q", "10.33.1.11"])
            let average = ping.output.split(separator: "=").last?.split(separator: "/").dropFirst().first.flatMap {
                Double($0)
            }
            #expect((average ?? 0) >= 50, "\(ping.output)")
        }
    }

    @Test(.enabled(if: !E2E.hasNetem, "skipped: this kernel has netem, so delay works (delayHoldsPacketsBack)"))
    func delayWithoutNetemIsOneClearError() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-no-delay")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        try await E2E.withLab(lab) { session, _ in
            let error = await #expect(throws: HALabError.self) {
                try await session.perform(.delay(node: "client", milliseconds: 50))
            }
            #expect(
                error?.description.hasPrefix("delay needs the kernel's netem queueing discipline (sch_netem)") == true)
            #expect(E2E.backend.faults(lab.name).isEmpty)
        }
    }

    @Test func aMeasuredCrashFailoverIsWithinItsTimerBound() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-measure")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        try await E2E.withLab(lab) { session, _ in
            let measured = try #require(try await session.measure(.kill(node: "nginx-1")).first)
            #expect(measured.from == "nginx-1")
            #expect(measured.to == "nginx-2")
            #expect(measured.failed > 0)
            // nginx-2's Master_Down_Interval: 3 × 1 s + (256 − 90) / 256 s, from the last advert it heard.
            #expect(abs(measured.bound - (3 + 166.0 / 256)) < 1e-9)
            #expect(measured.withinBound, "\(measured.summary)")
            // The last advert was at most one interval before the crash.
            #expect(measured.recovery > 3 - 1.0, "\(measured.summary)\n\(session.keepalivedLogTails())")
            #expect(measured.interval < 0.015, "probe interval \(measured.interval)")
            #expect(
                measured.faultTook > 0 && measured.faultTook < 0.5, "dark \(measured.faultTook) s after the kill began")
            // A revive is in place once keepalived has started again: its first state is logged anew.
            try await session.perform(.revive(node: "nginx-1"))
            let log = E2E.backend.readFile(lab.name, node: "nginx-1", path: "/var/log/keepalived.log") ?? ""
            #expect(log.components(separatedBy: "STATE (init)").count - 1 == 2, "\(log)")
        }
    }

    @Test func verifyWritesATimeline() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-timeline")
        defer { E2E.removeCopy(folder) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-timeline-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let result = try await E2E.runHalab(["verify", folder, "--timeline", output, "--json", "\(output)/report.json"])
        #expect(result.exitCode == 0, "\(result.errorOutput)")
        let svg = try String(contentsOfFile: "\(output)/e2e-timeline.svg", encoding: .utf8)
        #expect(svg.contains("nginx-1 ×") && svg.contains("nginx-2 ×") && svg.contains("failed ("))
        #expect(svg.contains("Entering MASTER STATE"))  // keepalived's own state changes, on the node lanes
        // Node lanes from the adverts captured through the run and the VIPs' address events.
        #expect(svg.contains("<title>nginx-1 VI_1 MASTER 100→80 ") && svg.contains("<title>nginx-2 VI_1 MASTER 90 "))
        #expect(svg.contains("<title>nginx-1 VI_1 down "))
        #expect(try AdvertReader.adverts(in: "\(output)/e2e-timeline-lan.pcap").count >= 10)
        let html = try String(contentsOfFile: "\(output)/e2e-timeline.html", encoding: .utf8)
        #expect(html.contains("<svg"))
        let report = try JSONDecoder().decode(
            VerifyReport.self, from: Data(contentsOf: URL(fileURLWithPath: "\(output)/report.json")))
        let crash = try #require(report.steps.first { $0.action == "chaos kill nginx-1" }?.outages?.first)
        #expect(crash.withinBound, "\(crash.summary)")
        #expect(crash.to == "nginx-2")
        #expect(result.errorOutput.contains("outages (probe every"))
    }

    @Test func aFailedExpectationShowsExpectedSeenAndLogs() async throws {
        let folder = try E2E.copy(
            "master-backup", as: "e2e-failing",
            scenario: """
                steps:
                  - name: wrongly expects nginx-2 to hold the VIP
                    expect:
                      - curl: http://10.33.1.100
                        body: nginx-2
                """)
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        let report = try await E2E.withLab(lab) { session, _ in
            try await Verifier.run(session) { _ in }
        }
        #expect(!report.passed)
        let check = try #require(report.steps.first?.checks.first)
        #expect(!check.passed)
        #expect(check.expected.description.contains("body 'nginx-2'"))
        #expect(check.seen.contains("body 'nginx-1'"))
        #expect(check.heldAfter >= check.deadline)
        let logs = try #require(report.steps.first?.logs)
        #expect(logs.keys.sorted() == ["nginx-1", "nginx-2"])
        #expect(logs["nginx-1"]?.isEmpty == false)
    }

    @Test func nodesAreIsolatedAndBehaveLikeAlpineHosts() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-nodes")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        try await E2E.withLab(lab) { session, _ in try await checkNodes(session, folder: folder) }
    }

    func checkNodes(_ session: LabSession, folder: String) async throws {
        let lab = session.lab
        let backend = E2E.backend
        #expect(try await backend.exec(lab.name, node: "nginx-2", ["hostname"]).output == "nginx-2\n")
        let config = try await backend.exec(lab.name, node: "nginx-1", ["cat", "/etc/keepalived/keepalived.conf"])
            .output
        #expect(
            config == (try String(contentsOfFile: "\(folder)/nginx-1/etc/keepalived/keepalived.conf", encoding: .utf8)))

        let stop = try await backend.exec(lab.name, node: "nginx-1", ["rc-service", "nginx", "stop"])
        #expect(stop.succeeded)
        // pidof answers for its own node only: nginx-1 has none now, nginx-2 still has its own.
        #expect(try await backend.exec(lab.name, node: "nginx-1", ["pidof", "nginx"]).exitCode == 1)
        #expect(try await backend.exec(lab.name, node: "nginx-2", ["pidof", "nginx"]).succeeded)
        #expect(try await backend.exec(lab.name, node: "nginx-1", ["rc-service", "nginx", "status"]).exitCode == 3)
        #expect(try await backend.exec(lab.name, node: "nginx-1", ["rc-service", "nginx", "start"]).succeeded)
        #expect(
            try await backend.exec(lab.name, node: "nginx-1", ["rc-service", "nginx", "status"]).output.contains(
                "started"))
        #expect(try await backend.exec(lab.name, node: "nginx-1", ["rc-service", "apache2", "start"]).exitCode == 1)

        // The CLI, as a user types it.
        let curl = try await E2E.runHalab(["curl", "http://10.33.1.100", "-n", "3", "--lab", lab.name])
        #expect(curl.succeeded, "\(curl.errorOutput)")
        #expect(curl.output == "nginx-1\nnginx-1\nnginx-1\n")
        let exec = try await E2E.runHalab([
            "exec", "--lab", lab.name, "nginx-2", "--", "cat", "/var/www/html/index.html"
        ])
        #expect(exec.output == "nginx-2\n")
        let status = try await E2E.runHalab(["status", "--json", "--lab", lab.name])
        #expect(status.output.contains("\"holders\" : [\n        \"nginx-1\"\n      ]"), "\(status.output)")

        // A second `up` of the same lab is refused and leaves the running lab alone.
        await #expect(throws: HALabError.labAlreadyUp(lab.name, builtFrom: folder)) {
            _ = try await LabSession.up(lab, backend: backend) { _ in }
        }
        #expect(try await session.vipHolders().map(\.nodes) == [["nginx-1"]])
    }

    /// On this machine's own host, whatever /run/halab was before.
    @Test(.comparesTheHost, arguments: E2E.RootBefore.allCases)
    func downLeavesTheHostAsItWas(root: E2E.RootBefore) async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-cleanup")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        try await root.prepare(
            folder: folder, run: { try await Command.run($0, $1, check: false) }, halab: { try await E2E.runHalab($0) })
        let before = try await E2E.hostSnapshot()
        _ = try await LabSession.up(lab, backend: E2E.backend) { _ in }
        let pids = E2E.pids(of: lab.topology)
        #expect(pids.count >= 10)  // 3 supervisors and their host-side parents, nginx and keepalived
        #expect(try await E2E.backend.down(lab.name))
        #expect(pids.filter(E2E.present).isEmpty)  // gone and reaped, no zombie left
        E2E.expectUnchanged(before, try await E2E.hostSnapshot())
        // Idempotent.
        #expect(try await E2E.backend.down(lab.name) == false)
        E2E.expectUnchanged(before, try await E2E.hostSnapshot())
        try await root.clear(
            run: { try await Command.run($0, $1, check: false) }, halab: { try await E2E.runHalab($0) })
    }

    /// Killed while it makes namespaces, or once nodes run and it waits for VRRP.
    @Test(.comparesTheHost, arguments: ["namespaces", "nodes"])
    func downCleansUpAfterHalabWasKilledHalfWayThroughUp(killPoint: String) async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-killed")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        let before = try await E2E.hostSnapshot()
        let up = Process()
        up.executableURL = URL(fileURLWithPath: E2E.halab)
        up.arguments = ["up", folder]
        up.standardError = FileHandle.nullDevice
        up.standardOutput = FileHandle.nullDevice
        try up.run()
        let journal = "/run/halab/\(lab.name)/journal"
        let deadline = Date().addingTimeInterval(10)
        func reached() -> Bool {
            killPoint == "namespaces"
                ? (try? String(contentsOfFile: journal, encoding: .utf8))?.contains("-nginx-1") ?? false
                : E2E.backend.isRunning(lab.name, node: "nginx-1")
        }
        while Date() < deadline, !reached() { try await Task.sleep(for: .milliseconds(1)) }
        kill(up.processIdentifier, SIGKILL)
        up.waitUntilExit()
        #expect(up.terminationReason == .uncaughtSignal)
        #expect(FileManager.default.fileExists(atPath: journal))
        let pids = E2E.pids(of: lab.topology)
        if killPoint == "nodes" { #expect(pids.count >= 2) }

        let down = try await E2E.runHalab(["down", lab.name])
        #expect(down.succeeded, "\(down.errorOutput)")
        #expect(down.output == "\(lab.name) is down\n")
        #expect(pids.filter(E2E.present).isEmpty)  // gone and reaped, no zombie left
        E2E.expectUnchanged(before, try await E2E.hostSnapshot())
    }

    /// keepalived with HAProxy: the VIP follows HAProxy, HAProxy follows the web servers, 503 when none is left.
    @Test func verifyHAProxyPair() async throws {
        let report = try await E2E.verify("haproxy-pair", as: "e2e-haproxy")
        #expect(report.steps.count == 6)
        #expect(
            report.steps[4].checks.last?.seen.hasPrefix("status 503") == true, "\(report.steps[4].checks.map(\.seen))")
    }

    /// `halab new` from the document's master-backup configs, then `halab verify` of what it made.
    @Test func aLabMadeFromTheDocumentsConfigsPassesVerify() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-new-\(UUID().uuidString.prefix(8).lowercased())"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let labs = KeepalivedConfigTests.labs
        let made = try await E2E.runHalab([
            "new", "\(parent)/e2e-new", "--node",
            "nginx-1=\(labs)/master-backup/nginx-1/etc/keepalived/keepalived.conf",
            "--node", "nginx-2=\(labs)/master-backup/nginx-2/etc/keepalived/keepalived.conf"
        ])
        #expect(made.exitCode == 0, "\(made.errorOutput)")
        #expect(made.output.hasPrefix("made \(parent)/e2e-new; what halab guessed:\n"))
        let verify = try await E2E.runHalab(["verify", "\(parent)/e2e-new"])
        #expect(verify.exitCode == 0, "\(verify.output)\n\(verify.errorOutput.suffix(3000))")
        #expect(verify.output.hasPrefix("e2e-new: 13 passed, 0 failed"), "\(verify.output)")
    }

    /// SIGINT while `up` waits for VRRP: it takes down what it built and exits 130, under a
    /// second, leaving its host as it was, whatever /run/halab was before.
    @Test(arguments: E2E.RootBefore.allCases)
    func anInterruptedUpUndoesWhatItBuilt(root: E2E.RootBefore) async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-interrupted")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        try await E2E.withHost { host in
            try await root.prepare(folder: folder, run: host.run, halab: host.halab)
            let before = try await host.snapshot()
            // Once the client's services run, up waits for VRRP.
            let started = host.file("/run/halab/\(lab.name)/nodes/client/rw/var/upper/log/halab-init.status")
            let up = try await host.run(E2E.halab, ["up", folder], signal: SIGINT) {
                while !FileManager.default.fileExists(atPath: started) { try? await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(up.exitCode == 130, "\(up.errorOutput)")
            let said = try #require(
                up.errorOutput.split(separator: "\n").first { $0.hasPrefix("\(lab.name) is down again (") })
            let seconds = Double(said.dropFirst("\(lab.name) is down again (".count).prefix { $0 != " " }) ?? 99
            #expect(seconds < 1, "\(said)")
            E2E.expectUnchanged(before, try await host.snapshot())
            try await root.clear(run: host.run, halab: host.halab)
        }
    }

    /// With its state lost, `down` still finds the lab by halab's names, says what it swept, and
    /// `up` first refuses the leftovers with the fix; its host is left as it was, whatever
    /// /run/halab was before.
    @Test(arguments: E2E.RootBefore.allCases)
    func aLabWhoseStateIsLostIsSweptAndNamed(root: E2E.RootBefore) async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-lost")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        try await E2E.withHost { host in
            try await root.prepare(folder: folder, run: host.run, halab: host.halab)
            let before = try await host.snapshot()
            let up = try await host.halab(["up", folder])
            #expect(up.exitCode == 0, "\(up.errorOutput)")
            #expect(try await host.run("rm", ["-r", "/run/halab/\(lab.name)"]).succeeded)
            let again = try await host.halab(["up", folder])
            #expect(again.exitCode == 1)
            #expect(
                again.errorOutput.contains(
                    "leftovers of an earlier \(lab.name) are in the way (halab-\(lab.name)-client"),
                "\(again.errorOutput)")
            #expect(again.errorOutput.contains("remove them with 'halab down \(lab.name)'"))
            let down = try await host.halab(["down", lab.name])
            #expect(down.exitCode == 0, "\(down.errorOutput)")
            #expect(
                down.output.hasPrefix(
                    "\(lab.name) is down\n  swept what its state did not name: namespace halab-\(lab.name)-"),
                "\(down.output)")
            E2E.expectUnchanged(before, try await host.snapshot())
            try await root.clear(run: host.run, halab: host.halab)
        }
    }

    /// Two downs of one lab at once (as a forced down and its holder's own may be): both succeed.
    @Test(.comparesTheHost) func twoDownsAtOnceBothSucceed() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-two-downs")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        let before = try await E2E.hostSnapshot()
        _ = try await LabSession.up(lab, backend: E2E.backend) { _ in }
        async let first = E2E.backend.down(lab.name)
        async let second = E2E.backend.down(lab.name)
        let (a, b) = try await (first, second)
        #expect(a || b)
        E2E.expectUnchanged(before, try await E2E.hostSnapshot())
    }

    /// `down --force` while verify runs: verify says the lab was taken, no raw error, no wrong cause.
    @Test(.comparesTheHost) func aForcedDownStopsARunningVerifyWithTheReason() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-forced")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        let before = try await E2E.hostSnapshot()
        async let verify = E2E.runHalab(["verify", folder])
        while LabLock.holder(of: lab.name)?.command != "verify" || !E2E.backend.isRunning(lab.name, node: "client") {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .seconds(1))
        let down = try await E2E.runHalab(["down", lab.name, "--force"])
        #expect(down.exitCode == 0 && down.output == "\(lab.name) is down\n", "\(down.output)\(down.errorOutput)")
        let verified = try await verify
        #expect(verified.exitCode == 1)
        #expect(down.errorOutput.hasPrefix("taking \(lab.name) from halab verify (pid "), "\(down.errorOutput)")
        let last = verified.errorOutput.split(separator: "\n").last.map(String.init) ?? ""
        #expect(
            last.hasPrefix("Error: the lab \(lab.name) was taken down by another halab (pid ") && last.hasSuffix(")"),
            "\(verified.errorOutput)")
        #expect(!verified.errorOutput.contains("crashed or killed") && !verified.errorOutput.contains("' failed ("))
        E2E.expectUnchanged(before, try await E2E.hostSnapshot())
    }

    @Test func refusesToRunWithoutRoot() async throws {
        let result = try await E2E.runHalab(["up", "\(KeepalivedConfigTests.labs)/master-backup"], asUser: "nobody")
        #expect(result.exitCode != 0)
        #expect(
            result.errorOutput.contains("halab needs root to create namespaces: run it with sudo"),
            "\(result.errorOutput)")
        #expect(!FileManager.default.fileExists(atPath: "/run/halab/master-backup"))
    }
}

/// CLI commands that need no root.
@Suite struct CommandLineTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: E2E.halab), "needs halab built"))
    func checkFlagsWhatThreeNodesCheckCannotSeeAndATooSmallWeight() async throws {
        // The document's three-node design: no error; its pidof check sees no hung or refusing
        // nginx, and only those rows are outages.
        let good = try await E2E.runHalab(["check", "\(KeepalivedConfigTests.labs)/three-node", "--json"])
        #expect(good.exitCode == 1)
        let table = try JSONDecoder().decode(ConfigCheck.Report.self, from: Data(good.output.utf8))
        #expect(!table.findings.contains { $0.severity == .error }, "\(table.findings)")
        let outages = table.rows.filter { !$0.outages.isEmpty }
        #expect(
            !outages.isEmpty
                && outages.allSatisfy { $0.failures.contains { $0.hasPrefix("hang ") || $0.hasPrefix("refuse ") } })
        let folder = try E2E.copy("three-node", as: "weak-weight")
        defer { E2E.removeCopy(folder) }
        for node in ["nginx-1", "nginx-2", "nginx-3"] {
            let file = "\(folder)/\(node)/etc/keepalived/keepalived.conf"
            try (try String(contentsOfFile: file, encoding: .utf8)).replacingOccurrences(
                of: "weight -30", with: "weight -20"
            )
            .write(toFile: file, atomically: true, encoding: .utf8)
        }
        let bad = try await E2E.runHalab(["check", folder, "--json"])
        #expect(bad.exitCode == 1)
        let report = try JSONDecoder().decode(ConfigCheck.Report.self, from: Data(bad.output.utf8))
        #expect(
            report.findings.contains {
                $0.severity == .error && $0.location == "\(folder)/nginx-1/etc/keepalived/keepalived.conf:5"
            })
        #expect(
            report.rows.filter { !$0.outages.isEmpty }.map(\.failures).contains([
                "stop nginx nginx-2", "stop nginx nginx-1"
            ]))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: E2E.halab), "needs halab built"))
    func unknownLabGetsOneClearMessage() async throws {
        let result = try await E2E.runHalab(["up", "no-such-lab"])
        #expect(result.exitCode != 0)
        #expect(
            result.errorOutput
                == "Error: no lab 'no-such-lab': give a folder under labs/ or a path to a lab folder (one with "
                    + "lab.yaml)\n"
        )
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: E2E.halab), "needs halab built"))
    func chaosHelpListsEveryActionWithItsWords() async throws {
        let help = try await E2E.runHalab(["chaos", "--help"])
        #expect(Fault.vocabulary.count == 21)
        for (words, meaning) in Fault.vocabulary {
            #expect(help.output.contains("  \(words)\n      \(meaning)\n"), "\(words)")
        }
        // Every action the parser takes is in the vocabulary: each one's first word is listed.
        let examples = [
            "stop nginx n", "start nginx n", "kill n", "revive n", "link down n", "link up n:eth1 at-node",
            "block-multicast all",
            "unblock-multicast n", "partition a / b", "switch down lan", "flap n:eth1 3 0.5", "loss n 5", "delay n 5",
            "pause n", "resume n", "heal", "heal n",
            "hang nginx n", "resume nginx n", "refuse nginx n", "accept nginx n", "restart keepalived n", "reload n"
        ]
        for example in examples {
            let words = example.split(separator: " ").map(String.init)
            #expect(throws: Never.self) { _ = try Fault.parse(words) }
            #expect(
                Fault.vocabulary.contains {
                    $0.words.hasPrefix(words[0] + " ") || $0.words == words[0] || $0.words.hasPrefix(words[0] + " [")
                })
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: E2E.halab), "needs halab built"))
    func checkPrintsOneJSONDocumentEvenWhenItCannotRead() async throws {
        let result = try await E2E.runHalab(["check", "no-such-lab", "--json"])
        #expect(result.exitCode == 1)
        let document = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: String]
        #expect(document?["error"]?.hasPrefix("no lab 'no-such-lab'") == true, "\(result.output)")
    }

    /// keepalived's own test runs on each node's config as the node sees it: here nginx-2's
    /// instance names eth0, which the node lacks (it has eth1), and nginx-1's priority is 256.
    @Test(
        .enabled(
            if: KeepalivedConfigTest.unavailable == nil && FileManager.default.isExecutableFile(atPath: E2E.halab),
            "needs root and keepalived (CI has both)"))
    func checkMergesKeepalivedsOwnOpinionWithFileAndLine() async throws {
        let folder = try E2E.copy("master-backup", as: "check-opinion")
        defer { E2E.removeCopy(folder) }
        let first = "\(folder)/nginx-1/etc/keepalived/keepalived.conf",
            second = "\(folder)/nginx-2/etc/keepalived/keepalived.conf"
        try (try String(contentsOfFile: first, encoding: .utf8)).replacingOccurrences(
            of: "priority 100", with: "priority 256"
        )
        .write(toFile: first, atomically: true, encoding: .utf8)
        try (try String(contentsOfFile: second, encoding: .utf8)).replacingOccurrences(
            of: "interface eth1", with: "interface eth0"
        )
        .write(toFile: second, atomically: true, encoding: .utf8)
        let result = try await E2E.runHalab(["check", folder, "--json"])
        #expect(result.exitCode == 1)
        let report = try JSONDecoder().decode(ConfigCheck.Report.self, from: Data(result.output.utf8))
        let line = (try String(contentsOfFile: first, encoding: .utf8)).split(
            separator: "\n", omittingEmptySubsequences: false
        )
        .firstIndex { $0.contains("priority 256") }.map { $0 + 1 }
        let location = "\(first):\(line ?? 0)"
        #expect(report.findings.contains { $0.source == .halab && $0.severity == .error && $0.location == location })
        #expect(
            report.findings.contains {
                $0.source == .keepalived && $0.severity == .error && $0.location == location
                    && $0.message.contains("Priority not valid")
            }, "\(report.findings)")
        #expect(
            report.findings.contains {
                $0.source == .keepalived && $0.message.contains("eth0") && $0.message.contains("doesn't exist")
            },
            "\(report.findings.filter { $0.source == .keepalived })")
        // The document's own labs: keepalived's only word is that script security is off (a
        // warning); check fails them only on the hung or refusing nginx their pidof cannot see.
        let clean = try await E2E.runHalab(["check", "\(KeepalivedConfigTests.labs)/master-backup"])
        #expect(clean.exitCode == 1 && clean.output.hasSuffix("0 errors, 2 outage rows\n"), "\(clean.output)")
        #expect(clean.output.contains("keepalived: nginx-1: SECURITY VIOLATION"))
    }

    /// doctor's answers agree with what the tests find by trying: root, netem, keepalived.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: E2E.halab), "needs halab built"))
    func doctorSaysWhatTheMachineHas() async throws {
        let result = try await E2E.runHalab(["doctor", "--json"])
        let items = try JSONDecoder().decode([HALab.Doctor.Item].self, from: Data(result.output.utf8))
        let ok = Dictionary(uniqueKeysWithValues: items.map { ($0.name, $0.ok) })
        #expect(ok["root"] == (geteuid() == 0))
        #expect(ok["keepalived"] == Command.exists("keepalived"))
        if geteuid() == 0 { #expect(ok["netem"] == E2E.hasNetem && ok["veth"] == true && ok["bridge"] == true) }
        #expect(result.exitCode == (items.contains { $0.essential && !$0.ok } ? 1 : 0))
        #expect(items.filter { !$0.ok }.allSatisfy { !$0.fix.isEmpty && !$0.needed.isEmpty })
    }
}
