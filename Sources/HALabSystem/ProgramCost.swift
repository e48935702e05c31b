import Foundation
import Glibc

/// What one run of a program cost: its wall time and its peak resident memory, as the kernel
/// counted them for that process alone (wait4's rusage). For benchmarks and memory ceilings.
public struct ProgramCost: Sendable {
    public var exitCode: Int32
    public var seconds: Double
    public var peakKiB: Int
    /// Why halab ended it early, if it did: past `seconds` or past `kibibytes` of resident memory.
    public var stopped: String?

    /// Runs `program` (a path) with its output discarded and waits for it, on a thread of its
    /// own. It is killed once it runs longer than `seconds` or holds more than `kibibytes`
    /// (looked at every 50 ms), so a program that would grow without end cannot take the
    /// machine with it.
    public static func measure(_ program: String, _ arguments: [String], seconds: Double = 600, kibibytes: Int = .max)
        async throws -> ProgramCost
    {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result { try measureBlocking(program, arguments, seconds: seconds, kibibytes: kibibytes) })
            }
        }
    }

    static func measureBlocking(_ program: String, _ arguments: [String], seconds limit: Double, kibibytes: Int) throws
        -> ProgramCost
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let start = ContinuousClock.now
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw HALabError.commandFailed(
                command: Command.describe(program, arguments), status: "could not start",
                output: String(cString: strerror(spawned)))
        }
        // A watchdog ends it past its limits; this thread waits for it, so the time is exact.
        let watch = Watch()
        let child = pid
        Thread.detachNewThread {
            while true {
                usleep(50_000)
                let resident = residentKiB(of: child)
                let over =
                    (ContinuousClock.now - start).seconds > limit
                    ? "ran past \(limit) s"
                    : resident > kibibytes ? "held \(resident / 1024) MiB, past \(kibibytes / 1024) MiB" : nil
                guard watch.stop(child, because: over) else { return }
            }
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let stopped = watch.finish()
        // wait(2)'s status: the exit code in the second byte, or the signal in the low 7 bits.
        let signal = status & 0x7f
        return ProgramCost(
            exitCode: signal == 0 ? (status >> 8) & 0xff : 128 + signal,
            seconds: (ContinuousClock.now - start).seconds, peakKiB: usage.ru_maxrss, stopped: stopped)
    }

    /// Whether the program still runs, for its watchdog; why the watchdog ended it, if it did.
    final class Watch: @unchecked Sendable {
        private let lock = NSLock()
        private var done = false
        private var reason: String?

        /// Kills `pid` when there is a `reason` and it still runs; false once the watch is over.
        func stop(_ pid: pid_t, because reason: String?) -> Bool {
            lock.withLock {
                guard !done else { return false }
                if let reason, self.reason == nil {
                    self.reason = reason
                    kill(pid, SIGKILL)
                }
                return true
            }
        }

        func finish() -> String? {
            lock.withLock {
                done = true
                return reason
            }
        }
    }

    /// VmRSS of a process, from /proc; 0 once it is gone.
    static func residentKiB(of pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}

extension Duration {
    package var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
