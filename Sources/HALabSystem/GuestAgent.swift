import Foundation

/// Commands inside a VM through the QEMU guest agent (`guest-exec`): the program runs in the
/// guest, halab polls for its end and gets its output back. Works over any libvirt URI.
extension LibvirtDomain {
    /// Runs `arguments` in the guest and collects what it printed; `input` is its standard input.
    public func run(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
        try await wait(for: try spawn(arguments, input: input))
    }

    /// Starts `arguments` in the guest; returns its pid there.
    public func spawn(_ arguments: [String], input: String? = nil) throws -> Int {
        var request: [String: Any] = ["path": arguments[0], "arg": Array(arguments.dropFirst()), "capture-output": true]
        if let input { request["input-data"] = Data(input.utf8).base64EncodedString() }
        let started = try Self.answer(try agentCommand(Self.json(["execute": "guest-exec", "arguments": request])))
        guard let pid = started["pid"] as? Int else {
            throw HALabError.libvirt(
                operation: "run \(arguments[0]) in \(name)", message: "the guest agent returned no pid")
        }
        return pid
    }

    /// Waits for a program `spawn` started to end; what it printed.
    public func wait(for pid: Int) async throws -> CommandResult {
        // Short commands end within milliseconds; long ones are polled less often.
        var pause = 2
        while true {
            let status = try Self.answer(
                try agentCommand(Self.json(["execute": "guest-exec-status", "arguments": ["pid": pid]])))
            if status["exited"] as? Bool == true {
                let signal = status["signal"] as? Int
                return CommandResult(
                    exitCode: Int32(signal.map { 128 + $0 } ?? (status["exitcode"] as? Int ?? 0)),
                    output: Self.decode(status["out-data"]), errorOutput: Self.decode(status["err-data"]))
            }
            try await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 50)
        }
    }

    /// A file of the guest, whole; nil if it cannot be opened.
    public func readFile(_ path: String) throws -> String? {
        let request = Self.json(["execute": "guest-file-open", "arguments": ["path": path, "mode": "r"]])
        guard let opened = try? Self.returned(try agentCommand(request)), let handle = opened as? Int else {
            return nil
        }
        defer { _ = try? agentCommand(Self.json(["execute": "guest-file-close", "arguments": ["handle": handle]])) }
        var data = Data()
        while true {
            let chunk = try Self.answer(
                try agentCommand(
                    Self.json(["execute": "guest-file-read", "arguments": ["handle": handle, "count": 1 << 20]])))
            if let text = chunk["buf-b64"] as? String, let bytes = Data(base64Encoded: text) { data.append(bytes) }
            if chunk["eof"] as? Bool != false { break }
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Sets the guest's clock to this machine's, to the millisecond or so: probe records made
    /// in the guest are compared with moments taken here.
    public func setGuestTime() throws {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        _ = try agentCommand(Self.json(["execute": "guest-set-time", "arguments": ["time": nanoseconds]]))
    }

    /// Whether the agent answers now.
    public func agentAnswers() -> Bool {
        (try? agentCommand(Self.json(["execute": "guest-ping"]), timeoutSeconds: 1)) != nil
    }

    package static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    /// The `return` member of an agent's answer.
    package static func returned(_ text: String) throws -> Any {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let value = object["return"]
        else {
            throw HALabError.libvirt(operation: "read the guest agent's answer", message: text)
        }
        return value
    }

    package static func answer(_ text: String) throws -> [String: Any] {
        guard let answer = try returned(text) as? [String: Any] else {
            throw HALabError.libvirt(operation: "read the guest agent's answer", message: text)
        }
        return answer
    }

    package static func decode(_ field: Any?) -> String {
        guard let text = field as? String, let data = Data(base64Encoded: text) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
