import Foundation

/// File operations halab needs, with errors that name the path.
package enum FileSystem {
    package static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    package static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    package static func isExecutable(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    package static func isFile(_ path: String) -> Bool { exists(path) && !isDirectory(path) }

    package static func read(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw HALabError.commandFailed(command: "read \(path)", status: "failed", output: "\(error)")
        }
    }

    package static func write(_ text: String, to path: String, executable: Bool = false) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            if executable {
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            }
        } catch {
            throw HALabError.commandFailed(command: "write \(path)", status: "failed", output: "\(error)")
        }
    }

    /// Appends one line and flushes it to disk before returning: the journal's guarantee.
    package static func appendLine(_ line: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else {
            throw HALabError.commandFailed(command: "open \(path)", status: "errno \(errno)", output: "")
        }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw HALabError.commandFailed(command: "append to \(path)", status: "errno \(errno)", output: "")
        }
    }

    package static func copy(_ source: String, to destination: String) throws {
        do {
            try? FileManager.default.removeItem(atPath: destination)
            try FileManager.default.copyItem(atPath: source, toPath: destination)
        } catch {
            throw HALabError.commandFailed(command: "cp \(source) \(destination)", status: "failed", output: "\(error)")
        }
    }

    package static func makeDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw HALabError.commandFailed(command: "mkdir -p \(path)", status: "failed", output: "\(error)")
        }
    }

    /// Removes a file or a tree. Another process removing the same tree at the same moment (two
    /// downs of one lab) is no failure: it tries again until the tree is gone.
    package static func remove(_ path: String) throws {
        for attempt in 1...50 {
            guard exists(path) else { return }
            do {
                try FileManager.default.removeItem(atPath: path)
                return
            } catch {
                guard attempt < 50 else {
                    throw HALabError.commandFailed(command: "rm -r \(path)", status: "failed", output: "\(error)")
                }
                usleep(1000)
            }
        }
    }

    /// The file's size in bytes; 0 if there is none.
    package static func size(_ path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    package static func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// The inode of a file, to tell namespaces apart.
    package static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    package static func isMountPoint(_ path: String) -> Bool {
        guard let table = try? read("/proc/self/mountinfo") else { return false }
        return table.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(4).first == Substring(path) }
    }
}
