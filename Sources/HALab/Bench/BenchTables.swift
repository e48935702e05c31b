import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// A benchmark's figures as a table to print: a label and cells per row.
public struct BenchTable: Sendable {
    public var title: String
    public var columns: [String]
    public var rows: [(label: String, cells: [String])] = []
    public var note: String

    public func text() -> String {
        let line = { (label: String, cells: [String]) in
            label.padding(toLength: 26, withPad: " ", startingAt: 0)
                + cells.map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined()
        }
        return ([title, line("", columns)] + rows.map { line($0.label, $0.cells) } + [note]).joined(separator: "\n")
    }
}

/// The benchmarks `halab bench` runs, each printing medians of `runs` runs.
extension Benchmarks {
    public enum Part: String, CaseIterable, Sendable {
        case up, outages, probe
        case vmUp = "vm-up"
        case check, soak, verify, wire, pairs

        /// Whether it brings labs up and down in this process (check reads; soak drives halab commands).
        public var buildsLabs: Bool { ![.check, .soak].contains(self) }
    }

    static func seconds(_ values: [Double]) -> String { String(format: "%.3f", median(values)) }

    /// Bring-up (halab's share against keepalived's election) and teardown of each lab folder.
    public static func upDown(_ folders: [String], runs: Int, backend: any LabBackend) async throws -> BenchTable {
        var table = BenchTable(
            title: "bring-up and teardown, median of \(runs) runs (seconds)",
            columns: ["nodes", "started", "vip-set", "answered", "halab", "keepalived", "down", "MiB/node"],
            note: "(started: namespaces made and every node's services running; halab: started + noticing the answer; "
                + "keepalived: from started to setting the VIP; MiB/node: proportional set size of a server node)")
        for folder in folders {
            let lab = try Lab.load(folder: folder)
            var results: [Run] = []
            for _ in 0..<runs { results.append(try await run(lab, backend: backend)) }
            let servers = lab.topology.nodes.filter { !$0.services.isEmpty }.map(\.name)
            let memory = median(results.flatMap { run in servers.map { Double(run.memoryKiB[$0] ?? 0) } }) / 1024
            table.rows.append(
                (
                    lab.name,
                    ["\(lab.topology.nodes.count)"]
                        + [
                            results.map(\.nodesStarted), results.map(\.vipAssigned), results.map(\.answered),
                            results.map(\.harnessShare),
                            results.map(\.electionShare), results.map(\.down)
                        ].map(seconds)
                        + [String(format: "%.1f", memory)]
                ))
        }
        return table
    }

    /// The outage each fault costs in each lab folder (a master-backup shape: nginx-1 the master).
    public static func outages(_ folders: [String], runs: Int, backend: any LabBackend) async throws -> [BenchTable] {
        let faults: [(make: Fault, mend: Fault)] = [
            (.stopService("nginx", node: "nginx-1"), .startService("nginx", node: "nginx-1")),
            (.kill(node: "nginx-1"), .revive(node: "nginx-1")),
            (
                .link(node: "nginx-1", interface: nil, up: false, atNode: false),
                .link(node: "nginx-1", interface: nil, up: true, atNode: false)
            ),
            (.pause(node: "nginx-1"), .resume(node: "nginx-1"))
        ]
        var tables: [BenchTable] = []
        for folder in folders {
            let lab = try Lab.load(folder: folder)
            var table = BenchTable(
                title:
                    "client-seen outage in \(lab.name) (advert_int \(lab.instances[0].advertInterval) s, "
                        + "VRRPv\(lab.instances[0].version)), median of \(runs):",
                columns: ["outage", "recovered", "bound", "failed", "max-over"],
                note:
                    "(outage: last good answer before to first good after; recovered: from the fault being in place; "
                        + "bound: the VRRP timers'; max-over: the largest recovered − bound of all runs)")
            let measured = try await withLab(lab, backend: backend) {
                try await outages($0, faults: faults, runs: runs)
            }
            for (fault, runs) in measured {
                table.rows.append(
                    (
                        fault.description,
                        [
                            seconds(runs.map(\.window)), seconds(runs.map(\.recovery)), seconds(runs.map(\.bound)),
                            "\(Int(median(runs.map { Double($0.failed) })))",
                            String(format: "%+.3f", runs.map { $0.recovery - $0.bound }.max() ?? 0)
                        ]
                    ))
            }
            tables.append(table)
        }
        return tables
    }

    /// The probe's first good answer after a crash of nginx-1 against keepalived setting the VIP on nginx-2.
    public static func probeAccuracy(_ lab: Lab, runs: Int, backend: any LabBackend) async throws -> String {
        let lags = try await withLab(lab, backend: backend) { session in
            var lags: [Double] = []
            for _ in 0..<runs { lags.append(try await probeLag(session, crash: "nginx-1", backup: "nginx-2").lag) }
            return lags
        }
        return
            "probe accuracy: first good answer after a crash − keepalived setting the VIP on the backup, median of "
                + "\(runs): "
            + String(format: "%.3f s", median(lags)) + " (runs: "
            + lags.map { String(format: "%.3f", $0) }.joined(separator: " ") + ")"
    }

    /// Bring-up and teardown of labs as VMs.
    public static func vmUp(_ labs: [Lab], runs: Int, backend: any LabBackend) async throws -> BenchTable {
        var table = BenchTable(
            title: "VM bring-up and teardown, median of \(runs) runs (seconds)",
            columns: ["VMs", "booted", "answered", "down"],
            note:
                "(booted: every VM's guest agent answering and its services started; answered: each VIP answering from "
                    + "its holder)"
        )
        for lab in labs {
            var booted: [Double] = [], answered: [Double] = [], down: [Double] = []
            for _ in 0..<runs {
                let (_, convergence) = try await LabSession.up(lab, backend: backend) { _ in }
                let start = ContinuousClock.now
                try await backend.down(lab.name)
                booted.append(convergence.started)
                answered.append(convergence.answered)
                down.append((ContinuousClock.now - start).seconds)
            }
            table.rows.append(
                (lab.name, ["\(lab.topology.nodes.count)", seconds(booted), seconds(answered), seconds(down)]))
        }
        return table
    }

    /// `halab verify` of each lab, up and down included: the whole run's time, and its steps'.
    public static func verify(_ labs: [Lab], runs: Int, backend: any LabBackend) async throws -> BenchTable {
        var table = BenchTable(
            title: "halab verify, up and down included, median of \(runs) runs (seconds)",
            columns: ["steps", "whole run", "steps only"],
            note: "(whole run: bringing the lab up, every step, taking it down; steps only: the scenario's own time)")
        for lab in labs {
            var whole: [Double] = [], steps: [Double] = []
            for _ in 0..<runs {
                let start = ContinuousClock.now
                let report = try await VerifyRun(lab: lab, backend: backend).run(running: nil) { _ in }
                guard report.passed else {
                    throw HALabError.notConverged(
                        "verify \(lab.name) failed: "
                            + report.steps.filter { !$0.passed }.map(\.name).joined(separator: "; "))
                }
                whole.append((ContinuousClock.now - start).seconds)
                steps.append(report.seconds)
            }
            table.rows.append((lab.name, ["\(lab.scenario.steps.count)", seconds(whole), seconds(steps)]))
        }
        return table
    }

    /// `verify --all-pairs` of each lab at each parallelism: the whole table's time, and the
    /// memory one instance takes.
    public static func allPairs(
        _ labs: [Lab], parallel: [Int], runs: Int, backend: any LabBackend,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> BenchTable {
        var table = BenchTable(
            title: "verify --all-pairs, median of \(runs) runs",
            columns: ["rows", "parallel", "seconds", "agree", "MiB/inst."],
            note: "(seconds: every row of check's failure table, each in a fresh instance brought up and down; "
                + "MiB/inst.: proportional set size of one instance's processes, median over the rows)")
        for lab in labs {
            for width in parallel {
                var seconds: [Double] = [], memory: [Double] = [], agree = ""
                for _ in 0..<runs {
                    let report = try await AllPairsRun(lab: lab, backend: backend, parallel: width).run(
                        progress: progress)
                    seconds.append(report.seconds)
                    memory.append(median(report.rows.map(\.memoryMiB)))
                    agree = "\(report.rows.filter(\.agrees).count)/\(report.rows.count)"
                }
                table.rows.append(
                    (
                        lab.name,
                        [
                            "\(AllPairsRun(lab: lab, backend: backend, parallel: width).sequences.count)", "\(width)",
                            Self.seconds(seconds), agree, String(format: "%.1f", median(memory))
                        ]
                    ))
            }
        }
        return table
    }

    /// Runs `body` on the lab brought up, and takes it down however `body` ends.
    static func withLab<T>(_ lab: Lab, backend: any LabBackend, _ body: (LabSession) async throws -> T) async throws
        -> T
    {
        let (session, _) = try await LabSession.up(lab, backend: backend) { _ in }
        do {
            let result = try await body(session)
            try await backend.down(lab.name)
            return result
        } catch {
            _ = try? await backend.down(lab.name)
            throw error
        }
    }
}
