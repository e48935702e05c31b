import Foundation
import HALabSystem

/// One command at a time changes a lab: a lock file per lab, `/run/halab/LAB.lock`, held with
/// flock(2) while the command runs and naming its holder. The kernel lets go of it when the holder
/// dies, so a lock is never stale for long: the next command takes it over and says so.
public final class LabLock: Sendable {
    public struct Holder: Sendable, Equatable, CustomStringConvertible {
        public var pid: Int32
        public var command: String
        public var description: String { "halab \(command) (pid \(pid))" }
    }

    let path: String
    let descriptor: Int32

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    static func path(_ lab: String, root: String) -> String { "\(root)/\(lab).lock" }
    static func takenPath(_ lab: String, root: String) -> String { "\(root)/\(lab).taken" }

    /// Takes the lab's lock for `command`. When another halab holds it: waits (telling
    /// `notice` once who holds it), or, without `wait`, refuses naming the holder.
    public static func acquire(
        _ lab: String, root: String = "/run/halab", command: String, wait: Bool,
        notice: @Sendable (String) -> Void
    ) async throws -> LabLock {
        let path = path(lab, root: root)
        var told = false
        while true {
            // The holder before us removes the state root once nothing is in it: made again here.
            let descriptor = try StateRoot(root).make("\(lab).lock") { path -> Int32? in
                let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                return descriptor >= 0 ? descriptor : nil
            }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
                // The holder before us may have removed the file as we opened it: lock the file that is there.
                var held = stat(), named = stat()
                guard fstat(descriptor, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino else {
                    close(descriptor)
                    continue
                }
                if let before = holder(in: descriptor), before.pid != getpid() {
                    notice("took over the lock of \(lab) from \(before), which is gone")
                }
                let text = "\(getpid()) \(command)\n"
                _ = ftruncate(descriptor, 0)
                _ = pwrite(descriptor, text, text.utf8.count, 0)
                return LabLock(path: path, descriptor: descriptor)
            }
            let current = holder(in: descriptor)
            close(descriptor)
            guard wait else { throw HALabError.labBusy(lab, holder: current?.description ?? "another halab") }
            if !told {
                notice(
                    "waiting for \(current?.description ?? "another halab") to finish with \(lab) (--no-wait to refuse "
                        + "instead)"
                )
                told = true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Who holds (or last held) the lock of `lab`, if anybody wrote it.
    public static func holder(of lab: String, root: String = "/run/halab") -> Holder? {
        let descriptor = open(path(lab, root: root), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        return holder(in: descriptor)
    }

    static func holder(in descriptor: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let words = String(decoding: buffer[..<count], as: UTF8.self).split(separator: " ", maxSplits: 1)
        guard words.count == 2, let pid = Int32(words[0]) else { return nil }
        return Holder(pid: pid, command: words[1].trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Lets go: the file goes first (a waiter that opened it sees it gone and opens anew), then
    /// the state root by its rule.
    public func release() {
        unlink(path)
        close(descriptor)
        StateRoot(URL(fileURLWithPath: path).deletingLastPathComponent().path).removeIfUnused()
    }

    // MARK: Taken by force

    /// `down --force` marks the lab as taken from its holder, so the holder can say why it stops.
    public static func markTaken(_ lab: String, root: String = "/run/halab") {
        try? StateRoot(root).make("\(lab).taken") { path in try? FileSystem.write("\(getpid())\n", to: path) }
    }

    /// The pid of the halab that took the lab down by force while this one held it, if any.
    public func takenBy(_ lab: String) -> Int32? {
        let root = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let marker = Self.takenPath(lab, root: root)
        defer {
            try? FileSystem.remove(marker)
            StateRoot(root).removeIfUnused()
        }
        return (try? FileSystem.read(marker)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
