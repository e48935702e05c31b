import Foundation

/// One process as seen from the host's /proc.
public struct HostProcess: Sendable, Equatable {
    public var pid: Int32
    public var command: String
    /// The pid as the process's own PID namespace numbers it (1 for a node's init).
    public var pidInNamespace: Int32
    /// Resident memory in KiB.
    public var residentKiB: Int
}

/// Finds processes by the namespaces they live in: exact, and needs no PID bookkeeping that
/// a crash of halab could lose.
enum ProcessTable {
    /// Every process whose network namespace is the one pinned at `netnsPath`.
    static func processes(inNetworkNamespace netnsPath: String) -> [HostProcess] {
        guard let inode = FileSystem.inode(netnsPath) else { return [] }
        let wanted = "net:[\(inode)]"
        var found: [HostProcess] = []
        for entry in FileSystem.list("/proc") {
            guard let pid = Int32(entry),
                  (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/ns/net")) == wanted,
                  let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8)
            else { continue }
            found.append(parse(status: status, pid: pid))
        }
        return found
    }

    static func parse(status: String, pid: Int32) -> HostProcess {
        var process = HostProcess(pid: pid, command: "", pidInNamespace: pid, residentKiB: 0)
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let key = fields.first else { continue }
            switch key {
            case "Name:": process.command = fields.dropFirst().joined(separator: " ")
            case "NSpid:": process.pidInNamespace = fields.last.flatMap { Int32($0) } ?? pid
            case "VmRSS:": process.residentKiB = fields.dropFirst().first.flatMap { Int($0) } ?? 0
            default: break
            }
        }
        return process
    }
}
