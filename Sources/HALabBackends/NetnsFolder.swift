import Foundation
import HALabSystem

/// /run/netns, where `ip netns` pins namespaces by name; `ip netns add` makes it a mount point
/// when it is not one. Labs come and go in any order, so the lab that made the mount is not
/// always the last to leave: halab marks in its state root that it made it (`netns-mount`), and
/// whichever lab leaves /run/netns empty removes the mount and the folder. A mount point halab
/// found, it leaves. Adding namespaces and that removal hold the state root's lock (flock), so
/// no lab adds one while another removes the mount.
struct NetnsFolder {
    static let path = "/run/netns"
    let stateRoot: String
    var mark: String { "\(stateRoot)/netns-mount" }

    /// Runs `add`, which adds namespaces, marking first that halab makes the mount if it does now.
    /// The state root exists (the lab's state is in it).
    func adding(_ add: () async throws -> Void) async throws {
        try await locked {
            if !FileSystem.isMountPoint(Self.path) { try FileSystem.write("", to: mark) }
            try await add()
        }
    }

    /// Removes the mount and the folder if halab made them and no namespace is left in them.
    func releaseIfUnused() async throws {
        guard FileSystem.exists(mark) else { return }
        try await locked {
            guard FileSystem.list(Self.path).isEmpty else { return }
            // The system call, not umount(8): that would leave /run/mount (libmount's utab) behind.
            guard
                !FileSystem.isMountPoint(Self.path) || umount2(Self.path, 0) == 0 || !FileSystem.isMountPoint(Self.path)
            else {
                throw HALabError.commandFailed(command: "umount \(Self.path)", status: "errno \(errno)", output: "")
            }
            try? FileManager.default.removeItem(atPath: Self.path)
            try FileSystem.remove(mark)
        }
    }

    /// Runs `body` holding the state root's lock; waits for it without blocking a thread.
    private func locked(_ body: () async throws -> Void) async throws {
        let descriptor = open(stateRoot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw HALabError.commandFailed(command: "open \(stateRoot)", status: "errno \(errno)", output: "")
        }
        defer { close(descriptor) }  // lets go of the lock
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await body()
    }
}
