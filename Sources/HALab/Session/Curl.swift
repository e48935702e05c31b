import Foundation
import HALabSystem

/// What one curl saw, read from curl's own JSON (`--write-out '%{json}'`).
public struct CurlResponse: Sendable, Equatable {
    /// curl's exit code: 0 when an HTTP answer came.
    public var exitCode: Int32
    public var status: Int?
    public var server: String?
    public var body: String
    /// Why curl failed, in its words.
    public var error: String

    public var summary: String {
        exitCode != 0
            ? "curl failed (exit \(exitCode)): \(error.trimmingSpaces())"
            : "status \(status.map(String.init) ?? "?"), Server: \(server ?? "-"), body '\(body.trimmingSpaces())'"
    }

    /// The body on standard output; on standard error, curl's JSON on one line, then its
    /// headers as JSON (`%{stderr}%{json}\n%{header_json}`).
    static let writeOut = "%{stderr}%{json}\n%{header_json}"

    static func read(_ result: CommandResult) -> CurlResponse {
        struct Summary: Decodable { var exitcode: Int32; var http_code: Int; var errormsg: String? }
        let parts = result.errorOutput.split(separator: "\n", maxSplits: 1).map { Data($0.utf8) }
        guard let first = parts.first, let summary = try? JSONDecoder().decode(Summary.self, from: first) else {
            // curl did not get as far as writing its summary (it is missing, or was killed).
            return CurlResponse(
                exitCode: result.succeeded ? 1 : result.exitCode, status: nil, server: nil, body: "",
                error: result.errorOutput)
        }
        let headers = parts.count > 1 ? (try? JSONDecoder().decode([String: [String]].self, from: parts[1])) : nil
        return CurlResponse(
            exitCode: summary.exitcode, status: summary.http_code == 0 ? nil : summary.http_code,
            server: headers?["server"]?.first, body: result.output, error: summary.errormsg ?? "")
    }
}

extension LabSession {
    /// Runs curl inside `node`: lab traffic never leaves the lab's namespaces.
    public func curl(_ url: String, from node: String, timeout: Double = 1) async throws -> CurlResponse {
        let result = try await backend.exec(
            lab.name, node: node,
            ["curl", "-s", "--max-time", String(timeout), "--write-out", CurlResponse.writeOut, url])
        return CurlResponse.read(result)
    }

    /// `count` curls from `node`, each on a new connection, in one process inside the node:
    /// each answer's body (one line), or `curl failed`.
    public func sample(_ url: String, from node: String, count: Int) async throws -> [String] {
        let script = #"i=0; while [ $i -lt "$2" ]; do "#
            + #"printf '%s\n' "$(curl -s --max-time 1 "$1" || echo 'curl failed')"; i=$((i + 1)); done"#
        let result = try await backend.exec(
            lab.name, node: node, ["/bin/sh", "-c", script, "sample", url, String(count)])
        return result.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// `count` pings from `node` to `address`, 10 ms apart: how many were sent and received
    /// (ping's summary line: it has no machine form); nil when it printed none.
    func ping(_ address: String, from node: String, count: Int) async throws -> (sent: Int, received: Int)? {
        let result = try await backend.exec(
            lab.name, node: node, ["ping", "-q", "-n", "-c", "\(count)", "-i", "0.01", "-W", "1", address])
        let summary =
            result.output.split(separator: "\n").first { $0.contains("packets transmitted") }.map(String.init) ?? ""
        let numbers = summary.split(separator: ",").compactMap { $0.split(separator: " ").first.flatMap { Int($0) } }
        return numbers.count >= 2 ? (numbers[0], numbers[1]) : nil
    }
}

extension LabSession {
    /// curl as a user types it in `node` (`-i`: with the response headers): its exit code,
    /// and what it printed, as it printed it.
    public func curlAsTyped(_ url: String, from node: String, headers: Bool) async throws -> CommandResult {
        try await backend.exec(
            lab.name, node: node, ["curl", "-s", "-S", "--max-time", "5"] + (headers ? ["-i"] : []) + [url])
    }

    /// A command inside a node on halab's own terminal (`halab exec`); its exit code.
    public func execAttached(_ command: [String], on node: String) async throws -> Int32 {
        _ = try lab.topology.node(node)
        return try await backend.execAttached(lab.name, node: node, command)
    }
}
