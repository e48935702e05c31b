import Glibc
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// What a finished command left behind.
public struct CommandResult: Sendable {
    public var exitCode: Int32
    public var output: String
    public var errorOutput: String
    public var succeeded: Bool { exitCode == 0 }
}

/// Runs system programs. Every external program halab uses goes through here.
public enum Command {
    /// The PATH halab's children get: sbin directories included, whatever the caller's PATH.
    package static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Runs `program` and collects what it prints. Throws `.commandFailed` on a non-zero
    /// exit unless `check` is false.
    @discardableResult
    public static func run(
        _ program: String, _ arguments: [String], input: String? = nil, check: Bool = true
    ) async throws -> CommandResult {
        let result = try await launching(program, arguments) {
            let executed = try await Subprocess.run(
                $0, input: .string(input ?? ""), output: .string(limit: 1 << 22), error: .string(limit: 1 << 20))
            return CommandResult(
                exitCode: code(of: executed.terminationStatus),
                output: executed.standardOutput, errorOutput: executed.standardError)
        }
        if check && !result.succeeded {
            throw HALabError.commandFailed(
                command: describe(program, arguments), status: "exit \(result.exitCode)",
                output: result.errorOutput.isEmpty ? result.output : result.errorOutput)
        }
        return result
    }

    /// Runs `program` for at most `limit`, collecting what it prints; nil when it did not end in
    /// time: it and every process it started (its own process group) are then killed. For the
    /// programs halab runs on a user's files, which may loop on them.
    public static func run(_ program: String, _ arguments: [String], limit: Duration) async throws -> CommandResult? {
        var options = PlatformOptions()
        options.processGroupID = 0
        let executed = try await launching(program, arguments, options: options) {
            try await Subprocess.run($0, input: .none, output: .sequence, error: .sequence) {
                execution -> (String, String)? in
                try await withThrowingTaskGroup(of: BoundedPart.self) { group in
                    group.addTask { .output(try await collect(execution.standardOutput)) }
                    group.addTask { .error(try await collect(execution.standardError)) }
                    group.addTask {
                        try await Task.sleep(for: limit)
                        return .late
                    }
                    var output: String?, errorOutput: String?
                    while let part = try await group.next() {
                        switch part {
                        case .output(let text): output = text
                        case .error(let text): errorOutput = text
                        case .late:
                            try? execution.send(signal: .kill, toProcessGroup: true)
                            group.cancelAll()
                            return nil
                        }
                        // Both pipes closed: it ended (none of these programs closes them before).
                        if let output, let errorOutput {
                            group.cancelAll()
                            return (output, errorOutput)
                        }
                    }
                    return nil
                }
            }
        }
        return executed.closureResult.map {
            CommandResult(exitCode: code(of: executed.terminationStatus), output: $0.0, errorOutput: $0.1)
        }
    }

    private enum BoundedPart: Sendable {
        case output(String), error(String), late
    }

    private static func collect(_ sequence: SubprocessOutputSequence) async throws -> String {
        var bytes: [UInt8] = []
        for try await buffer in sequence { buffer.withUnsafeBytes { bytes += $0 } }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Runs `program` with halab's own standard input, output and error (for `halab exec`),
    /// and returns its exit code.
    public static func runAttached(_ program: String, _ arguments: [String]) async throws -> Int32 {
        try await launching(program, arguments) {
            let executed = try await Subprocess.run(
                $0, input: .currentStandardInput, output: .currentStandardOutput, error: .currentStandardError)
            return code(of: executed.terminationStatus)
        }
    }

    /// Runs `program` until a line it prints satisfies `predicate`, then ends it. Returns
    /// whether such a line came before the program ended by itself.
    public static func watch(
        _ program: String, _ arguments: [String], until predicate: @escaping @Sendable (String) -> Bool
    )
        async throws -> Bool
    {
        try await launching(program, arguments) {
            try await Subprocess.run($0, input: .none, output: .sequence, error: .discarded) { execution in
                for try await line in execution.standardOutput.strings() where predicate(line) {
                    try? execution.send(signal: .terminate)
                    return true
                }
                return false
            }.closureResult
        }
    }

    /// Runs `program`, collecting what it prints, until it ends or `stop` returns; then it is
    /// sent `signal` (SIGTERM unless said) and waited for.
    public static func run(
        _ program: String, _ arguments: [String], signal: Int32 = SIGTERM,
        until stop: @escaping @Sendable () async -> Void
    )
        async throws -> CommandResult
    {
        try await launching(program, arguments) {
            let executed = try await Subprocess.run(
                $0, input: .none, output: .string(limit: 1 << 26), error: .string(limit: 1 << 16)
            ) { execution in
                await stop()
                try? execution.send(signal: Signal(rawValue: signal))
            }
            return CommandResult(
                exitCode: code(of: executed.terminationStatus),
                output: executed.standardOutput, errorOutput: executed.standardError)
        }
    }

    /// Whether `program` is found on halab's PATH.
    public static func exists(_ program: String) -> Bool { locate(program) != nil }

    /// Where `program` is on halab's PATH.
    public static func locate(_ program: String) -> String? {
        path.split(separator: ":").map { "\($0)/\(program)" }.first(where: FileSystem.isExecutable)
    }

    /// Runs `body` with the program's configuration (halab's PATH); a failure to start it
    /// becomes one `.commandFailed` naming the command.
    private static func launching<T>(
        _ program: String, _ arguments: [String], options: PlatformOptions = PlatformOptions(),
        _ body: (Configuration) async throws -> T
    ) async throws -> T {
        let configuration = Configuration(
            executable: program.contains("/") ? .path(FilePath(program)) : .name(program),
            arguments: Arguments(arguments), environment: Environment.inherit.updating(["PATH": path]),
            platformOptions: options)
        do {
            return try await body(configuration)
        } catch {
            throw HALabError.commandFailed(
                command: describe(program, arguments), status: "could not start", output: "\(error)")
        }
    }

    package static func describe(_ program: String, _ arguments: [String]) -> String {
        ([program] + arguments).joined(separator: " ")
    }

    private static func code(of status: TerminationStatus) -> Int32 {
        switch status {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }
}
