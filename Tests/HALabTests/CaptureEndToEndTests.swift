import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

extension EndToEndTests {
    /// A capture at the switch and one at nginx-2's interface while nginx stops on nginx-1:
    /// nginx-1's adverts at 100 every second, then at 80 (chk_nginx's weight), then nginx-2's at
    /// 90, which is what keepalived's own dump says; tcpdump reads the files back; the command
    /// prints the adverts, stops on Ctrl-C and leaves no tcpdump behind.
    @Test(.enabled(if: Command.exists("tcpdump"), "needs tcpdump (.ci/run installs it)"))
    func aCaptureShowsTheAdvertsAndTheirPriorities() async throws {
        let folder = try E2E.copy("master-backup", as: "e2e-capture")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        let scratch = (folder as NSString).deletingLastPathComponent
        let files = [
            CaptureFile(point: .segment("lan"), path: "\(scratch)/lan.pcap"),
            CaptureFile(point: .node("nginx-2", interface: "eth1"), path: "\(scratch)/nginx-2.pcap")
        ]
        try await E2E.withLab(lab) { session, _ in
            let states = try await session.capturing(files) {
                try await Task.sleep(for: .seconds(3.5))
                try await session.perform(.stopService("nginx", node: "nginx-1"))
                let moved = try await ExpectationEngine(session: session).await(
                    .holders(vip: "10.33.1.100", nodes: ["nginx-2"]), deadline: 10)
                #expect(moved.passed, "\(moved.seen)")
                try await Task.sleep(for: .seconds(1.5))
                return try await session.instanceStates()
            }
            let adverts = try AdvertReader.adverts(in: files[0].path)
            let first = try #require(adverts.first)
            #expect(
                first
                    == VRRPAdvert(
                        time: first.time, sender: "10.33.1.11", family: .ipv4, version: 2, virtualRouterID: 51,
                        priority: 100,
                        interval: 1, authentication: .simple, addresses: ["10.33.1.100"]))
            let steady = adverts.prefix { $0.priority == 100 }
            #expect(steady.count >= 3, "\(adverts.map(\.line))")
            for (earlier, later) in zip(steady, steady.dropFirst()) {
                #expect(abs(later.time - earlier.time - 1) < 0.1)
            }
            let senders = adverts.map { "\($0.sender) \($0.priority)" }.uniqueInOrder()
            #expect(senders == ["10.33.1.11 100", "10.33.1.11 80", "10.33.1.12 90"], "\(adverts.map(\.line))")
            let master = try #require(states.first { $0.node == "nginx-2" })
            #expect(master.state == .reported("MASTER") && master.effectivePriority == adverts.last?.priority)
            // The node's interface sees the same adverts as its switch.
            #expect(try AdvertReader.adverts(in: files[1].path).map(\.line) == adverts.map(\.line))
            for file in files {
                let read = try await Command.run("tcpdump", ["-r", file.path, "-nn", "vrrp"], check: false)
                #expect(
                    read.exitCode == 0 && read.output.split(separator: "\n").count == adverts.count,
                    "\(read.errorOutput)")
            }
            let printed = try await E2E.runHalab(["capture", "--lab", lab.name, "--seconds", "2.5"])
            #expect(printed.exitCode == 0, "\(printed.errorOutput)")
            #expect(
                printed.output.contains(" nginx-2 10.33.1.12 vrid 51 v2 prio 90 int 1s auth simple 10.33.1.100\n"),
                "\(printed.output)")
            let interrupted = try await Command.run(
                E2E.halab, ["capture", "nginx-1", "--lab", lab.name, "-w", "\(scratch)/cli.pcap"], signal: SIGINT
            ) {
                try? await Task.sleep(for: .seconds(1.5))
            }
            #expect(interrupted.exitCode == 0, "\(interrupted.errorOutput)")
            #expect(interrupted.errorOutput.contains("frames written to \(scratch)/cli.pcap"))
            #expect(FileManager.default.fileExists(atPath: "\(scratch)/cli.pcap"))
            // Without a terminal, watch logs one line per change.
            let watched = try await E2E.runHalab(["watch", "--lab", lab.name, "--seconds", "1.5"])
            #expect(watched.exitCode == 0, "\(watched.errorOutput)")
            let changes = watched.output.split(separator: "\n").map {
                $0.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
            }
            #expect(
                changes == [
                    "nginx-1 VI_1 BACKUP priority 80", "nginx-2 VI_1 MASTER priority 90", "10.33.1.100 held by nginx-2",
                    "10.33.1.100 answered by nginx-2"
                ], "\(watched.output)")
            for place in ["lan", "nginx-1", "nginx-2"] {
                let processes = ProcessTable.processes(inNetworkNamespace: "/run/netns/halab-\(lab.name)-\(place)")
                #expect(!processes.contains { $0.command == "tcpdump" })
            }
        }
    }
}
