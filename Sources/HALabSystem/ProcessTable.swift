import CProcessControl
import Foundation

/// One process as seen from the host's /proc.
public struct HostProcess: Sendable, Equatable {
    public var pid: Int32
    public var command: String
    /// The pid as the process's own PID namespace numbers it (1 for a node's init).
    public var pidInNamespace: Int32
    /// Proportional set size in KiB: resident memory, with each shared page divided among
    /// the processes that share it, so a node's figures add up honestly.
    public var proportionalKiB: Int
}

/// Finds processes by the namespaces they live in: exact, and needs no PID bookkeeping that
/// a crash of halab could lose.
package enum ProcessTable {
    /// Every process whose network namespace is the one pinned at `netnsPath`; with
    /// `measuringMemory`, its proportional set size too (reading smaps is not free).
    package static func processes(inNetworkNamespace netnsPath: String, measuringMemory: Bool = false) -> [HostProcess]
    {
        guard let inode = FileSystem.inode(netnsPath) else { return [] }
        let wanted = "net:[\(inode)]"
        var found: [HostProcess] = []
        for entry in FileSystem.list("/proc") {
            guard let pid = Int32(entry),
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/ns/net")) == wanted,
                let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8)
            else { continue }
            var process = parse(status: status, pid: pid)
            if measuringMemory { process.proportionalKiB = proportionalSize(pid) }
            found.append(process)
        }
        return found
    }

    /// Whether `pid` is PID 1 of its PID namespace and lives in the network namespace pinned at `netnsPath`.
    package static func isInit(_ pid: Int32, ofNetworkNamespace netnsPath: String) -> Bool {
        guard let inode = FileSystem.inode(netnsPath),
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")) == "net:[\(inode)]",
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        else { return false }
        return parse(status: status, pid: pid).pidInNamespace == 1
    }

    /// Every process whose command name is `name`, as /proc/PID/comm gives it.
    package static func processes(named name: String) -> [HostProcess] {
        FileSystem.list("/proc").compactMap { entry in
            guard let pid = Int32(entry),
                (try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8)) == name + "\n"
            else { return nil }
            return HostProcess(pid: pid, command: name, pidInNamespace: pid, proportionalKiB: 0)
        }
    }

    package static func proportionalSize(_ pid: Int32) -> Int {
        let rollup = (try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8)) ?? ""
        let line = rollup.split(separator: "\n").first { $0.hasPrefix("Pss:") }
        return line.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
    }

    package static func parse(status: String, pid: Int32) -> HostProcess {
        var process = HostProcess(pid: pid, command: "", pidInNamespace: pid, proportionalKiB: 0)
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let key = fields.first else { continue }
            switch key {
            case "Name:": process.command = fields.dropFirst().joined(separator: " ")
            case "NSpid:": process.pidInNamespace = fields.last.flatMap { Int32($0) } ?? pid
            default: break
            }
        }
        return process
    }

    /// Makes this process the reaper of its orphaned descendants (the lab's node processes,
    /// while it runs), so that it can reap them at once rather than wait for the machine's init.
    package static func becomeSubreaper() { _ = halab_become_subreaper() }

    /// A process as it was when seen: its pid and start time, so a reused pid is not taken for it.
    package struct Identity: Sendable, Equatable {
        package var pid: Int32
        package var startTime: UInt64
    }

    package static func identity(of pid: Int32) -> Identity? {
        // Field 22 of /proc/PID/stat, counted after the command's closing parenthesis.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 19,
            let start = UInt64(fields[19])
        else { return nil }
        return Identity(pid: pid, startTime: start)
    }

    /// Waits until each process has left the process table: ended and reaped by its parent
    /// (the machine's init, for a lab's processes). Returns those still there after `limit`.
    package static func awaitReaped(_ processes: [Identity], limit: Duration) async -> [Identity] {
        let deadline = ContinuousClock.now + limit
        var left = processes
        while true {
            // Those that are this halab's own children (it is their subreaper) it reaps itself, at once.
            var info = siginfo_t()
            for process in left { _ = waitid(P_PID, id_t(process.pid), &info, WEXITED | WNOHANG) }
            left = left.filter { identity(of: $0.pid) == $0 }
            if left.isEmpty || ContinuousClock.now >= deadline { return left }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
