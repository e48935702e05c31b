import ArgumentParser
import Foundation
import HALab
import HALabBackends
import HALabModel
import HALabSystem

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks, as medians of several runs: bring-up and teardown, outages per fault, the probe's accuracy.",
        discussion: """
            up       bring-up (halab's share vs keepalived's election) and teardown of the labs, and of generated N-node groups
            outages  the outage each fault costs in master-backup, with the document's config and a tuned VRRPv3 one
            probe    the probe's first good answer against the moment keepalived set the VIP (ip monitor)
            vm-up    bring-up and teardown of the labs as VMs (libvirt backend; not in the default set)
            """)

    @Argument(help: "What to measure: up, outages, probe, vm-up (default: the first three).")
    var parts: [String] = ["up", "outages", "probe"]

    @Option(help: "Runs per figure (the median is printed).")
    var runs = 5

    @Option(help: "Labs to bring up and down.")
    var labs = "master-backup,dual-master,three-node"

    @Option(help: "Sizes of generated VRRP groups to bring up and down.")
    var groups = "2,8,32,64"

    @Option(help: "For vm-up: the libvirt URI.")
    var connect = "qemu:///system"

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("halab-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let template = try Lab.locate("master-backup", searchFolders: Environment.labFolders)
        if parts.contains("up") { try await upDown(scratch: scratch, template: template) }
        if parts.contains("outages") { try await outages(scratch: scratch, template: template) }
        if parts.contains("probe") { try await probe() }
        if parts.contains("vm-up") { try await vmUp() }
    }

    func vmUp() async throws {
        let backend = LibvirtBackend(uri: connect)
        print("VM bring-up and teardown on \(connect), median of \(runs) runs (seconds)")
        print(row("lab", ["VMs", "booted", "answered", "down"]))
        for name in labs.split(separator: ",") {
            let lab = try Environment.loadLab(String(name))
            var booted: [Double] = [], answered: [Double] = [], down: [Double] = []
            for _ in 0..<runs {
                let (_, convergence) = try await LabSession.up(lab, backend: backend) { _ in }
                let start = Date()
                try await backend.down(lab.name)
                booted.append(convergence.started)
                answered.append(convergence.answered)
                down.append(Date().timeIntervalSince(start))
            }
            print(row(lab.name, ["\(lab.topology.nodes.count)"] + [booted, answered, down].map { String(format: "%.3f", Benchmarks.median($0)) }))
        }
        print("(booted: every VM's guest agent answering and its services started; answered: each VIP answering from its holder)")
    }

    func upDown(scratch: String, template: String) async throws {
        var folders = try labs.split(separator: ",").map { try Lab.locate(String($0), searchFolders: Environment.labFolders) }
        for size in groups.split(separator: ",").compactMap({ Int($0) }) {
            folders.append(try LabGenerator.group(size: size, in: scratch, sharedFrom: template))
        }
        print("bring-up and teardown, median of \(runs) runs (seconds)")
        print(row("lab", ["nodes", "started", "vip-set", "answered", "halab", "keepalived", "down", "MiB/node"]))
        for folder in folders {
            let lab = try Lab.load(folder: folder)
            var results: [Benchmarks.Run] = []
            for _ in 0..<runs { results.append(try await Benchmarks.run(lab, backend: Environment.namespaces)) }
            let median = { (value: (Benchmarks.Run) -> Double) in Benchmarks.median(results.map(value)) }
            let servers = lab.topology.nodes.filter { !$0.services.isEmpty }.map(\.name)
            let memory = Benchmarks.median(results.flatMap { run in servers.map { Double(run.memoryKiB[$0] ?? 0) } }) / 1024
            print(row(lab.name, ["\(lab.topology.nodes.count)"] + [median(\.nodesStarted), median(\.vipAssigned), median(\.answered),
                  median(\.harnessShare), median(\.electionShare), median(\.down)].map { String(format: "%.3f", $0) }
                  + [String(format: "%.1f", memory)]))
        }
        print("(started: namespaces made and every node's services running; halab: started + noticing the answer;",
              "keepalived: from started to setting the VIP; MiB/node: proportional set size of a server node)")
    }

    func outages(scratch: String, template: String) async throws {
        let faults: [(make: ChaosAction, mend: ChaosAction)] = [
            (.stopService("nginx", node: "nginx-1"), .startService("nginx", node: "nginx-1")),
            (.kill(node: "nginx-1"), .revive(node: "nginx-1")),
            (.link(node: "nginx-1", interface: nil, up: false, atNode: false), .link(node: "nginx-1", interface: nil, up: true, atNode: false)),
            (.pause(node: "nginx-1"), .resume(node: "nginx-1")),
        ]
        for folder in [template, try LabGenerator.tunedMasterBackup(from: template, in: scratch)] {
            let lab = try Lab.load(folder: folder)
            let (session, _) = try await LabSession.up(lab, backend: Environment.namespaces) { _ in }
            do {
                print("\nclient-seen outage in \(lab.name) (advert_int \(lab.instances[0].advertInterval) s, VRRPv\(lab.instances[0].version)), median of \(runs):")
                print(row("fault", ["outage", "recovered", "bound", "failed", "max-over"]))
                for (fault, measured) in try await Benchmarks.outages(session, faults: faults, runs: runs) {
                    let over = measured.map { $0.recovery - $0.bound }.max() ?? 0
                    print(row(fault.description, [Benchmarks.median(measured.map(\.window)), Benchmarks.median(measured.map(\.recovery)),
                                                  Benchmarks.median(measured.map(\.bound))].map { String(format: "%.3f", $0) }
                          + ["\(Int(Benchmarks.median(measured.map { Double($0.failed) })))", String(format: "%+.3f", over)]))
                }
            } catch {
                try await Environment.namespaces.down(lab.name)
                throw error
            }
            try await Environment.namespaces.down(lab.name)
        }
        print("(outage: last good answer before to first good after; recovered: from the fault being in place; bound: the VRRP timers';",
              "max-over: the largest recovered − bound of all runs)")
    }

    func probe() async throws {
        let lab = try Environment.loadLab("master-backup")
        let (session, _) = try await LabSession.up(lab, backend: Environment.namespaces) { _ in }
        var lags: [Double] = []
        do {
            for _ in 0..<runs {
                lags.append(try await Benchmarks.probeLag(session, backend: Environment.namespaces, crash: "nginx-1", backup: "nginx-2"))
            }
        } catch {
            try await Environment.namespaces.down(lab.name)
            throw error
        }
        try await Environment.namespaces.down(lab.name)
        print("\nprobe accuracy: first good answer after a crash − keepalived setting the VIP on the backup, median of \(runs): "
              + String(format: "%.3f s", Benchmarks.median(lags)) + " (runs: " + lags.map { String(format: "%.3f", $0) }.joined(separator: " ") + ")")
    }

    func row(_ label: String, _ cells: [String]) -> String {
        label.padding(toLength: 26, withPad: " ", startingAt: 0) + cells.map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined()
    }
}
