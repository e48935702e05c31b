import Foundation
import Synchronization
import Testing
@testable import HALabBackends
@testable import HALabSystem

/// The lock per lab, on a state root of its own: no root needed.
@Suite struct LabLockTests {
    static func root() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("halab-locks-\(UUID().uuidString)").path
    }

    @Test func aSecondCommandRefusesOrWaitsNamingTheHolder() async throws {
        let root = Self.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try await LabLock.acquire("lab", root: root, command: "verify", wait: false) { _ in }
        #expect(LabLock.holder(of: "lab", root: root) == LabLock.Holder(pid: getpid(), command: "verify"))
        // flock is per open file: a second open in this process is refused like another halab would be.
        await #expect(throws: HALabError.labBusy("lab", holder: "halab verify (pid \(getpid()))")) {
            _ = try await LabLock.acquire("lab", root: root, command: "up", wait: false) { _ in }
        }
        let notices = Mutex<[String]>([])
        let waiter = Task {
            try await LabLock.acquire("lab", root: root, command: "up", wait: true) { note in
                notices.withLock { $0.append(note) }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(
            notices.withLock { $0 } == [
                "waiting for halab verify (pid \(getpid())) to finish with lab (--no-wait to refuse instead)"
            ])
        first.release()
        let second = try await waiter.value
        #expect(LabLock.holder(of: "lab", root: root)?.command == "up")
        second.release()
        #expect(!FileManager.default.fileExists(atPath: root))  // nothing left once released
    }

    @Test func aDeadHoldersLockIsTakenOverAndSaidSo() async throws {
        let root = Self.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // A holder that died with the lock: its file names it, and nobody holds the flock.
        try "999999 up\n".write(toFile: "\(root)/lab.lock", atomically: true, encoding: .utf8)
        let notices = Mutex<[String]>([])
        let lock = try await LabLock.acquire("lab", root: root, command: "down", wait: false) { note in
            notices.withLock { $0.append(note) }
        }
        #expect(notices.withLock { $0 } == ["took over the lock of lab from halab up (pid 999999), which is gone"])
        lock.release()
    }

    @Test func aForcedDownIsToldToTheHolder() async throws {
        let root = Self.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let lock = try await LabLock.acquire("lab", root: root, command: "verify", wait: false) { _ in }
        #expect(lock.takenBy("lab") == nil)
        LabLock.markTaken("lab", root: root)
        #expect(lock.takenBy("lab") == getpid())
        #expect(lock.takenBy("lab") == nil)  // said once
        lock.release()
    }
}

/// The one rule for the state root, on a root of the test's own: made with halab's mark when
/// missing, removed once only the mark is left; a root halab did not make is never removed.
@Suite struct StateRootTests {
    @Test func theRootIsRemovedOnlyIfHalabMadeItAndNothingElseIsIn() throws {
        let path = LabLockTests.root()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let root = StateRoot(path)
        try root.makeFolder("lab")
        #expect(FileManager.default.fileExists(atPath: "\(path)/.made-by-halab"))
        root.removeIfUnused()
        #expect(FileManager.default.fileExists(atPath: path))  // a lab's state is in it
        try FileManager.default.removeItem(atPath: "\(path)/lab")
        root.removeIfUnused()
        #expect(!FileManager.default.fileExists(atPath: path))
        // Someone else's, empty: made before halab, kept after it.
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try root.makeFolder("lab")
        try FileManager.default.removeItem(atPath: "\(path)/lab")
        root.removeIfUnused()
        let left = try FileManager.default.contentsOfDirectory(atPath: path)
        #expect(FileManager.default.fileExists(atPath: path) && left.isEmpty)
    }
}
