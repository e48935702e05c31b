import Foundation
import HALabSystem

/// One of N parts of a long run, for N CI runners: all-pairs rows and explore runs by index, the
/// part K taking each whose index leaves K − 1 divided by N (round robin, so long and short
/// rows spread evenly). The N parts together are the whole run, each row or run in exactly one.
public struct Shard: Sendable, Equatable, Codable, CustomStringConvertible {
    /// 1 … count.
    public var index: Int
    public var count: Int

    public static let whole = Shard(index: 1, count: 1)

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public func contains(_ item: Int) -> Bool { item % count == index - 1 }

    public var description: String { "\(index)/\(count)" }

    /// `K/N`, as `--shard` takes it.
    public static func parse(_ text: String) throws -> Shard {
        let parts = text.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let index = parts[0], let count = parts[1], count >= 1, (1...count).contains(index)
        else {
            throw HALabError.usage("--shard takes K/N, 1 ≤ K ≤ N: not '\(text)'")
        }
        return Shard(index: index, count: count)
    }

    /// The shard a CI system says this runner is: GitLab's `CI_NODE_INDEX` and `CI_NODE_TOTAL`
    /// (from 1, with `parallel:`), or a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` (from 0)
    /// with the total in `HALAB_SHARDS`. Nil where none is set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Shard?
    {
        if let index = environment["CI_NODE_INDEX"], let total = environment["CI_NODE_TOTAL"] {
            return try parse("\(index)/\(total)")
        }
        if let index = environment["JOB_COMPLETION_INDEX"] {
            guard let total = environment["HALAB_SHARDS"], let zeroBased = Int(index) else {
                throw HALabError.usage(
                    "JOB_COMPLETION_INDEX is set: set HALAB_SHARDS to the Job's completions too (or give --shard K/N)")
            }
            return try parse("\(zeroBased + 1)/\(total)")
        }
        return nil
    }

    /// The flag where given, else the CI system's, else the whole run.
    public static func chosen(_ flag: String?) throws -> Shard {
        try flag.map(parse) ?? fromEnvironment() ?? .whole
    }
}

extension Lab {
    /// What a lab folder holds, as a number: reports of shards run on different folders (or
    /// a folder changed between runs) are not merged. FNV-1a over every file's path and bytes.
    public var contentHash: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        let root = URL(fileURLWithPath: folder).standardizedFileURL.path
        let files = (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []).sorted()
        for file in files where FileSystem.isFile("\(root)/\(file)") {
            mix(file.utf8)
            mix(FileManager.default.contents(atPath: "\(root)/\(file)") ?? Data())
        }
        return String(hash, radix: 16)
    }
}
