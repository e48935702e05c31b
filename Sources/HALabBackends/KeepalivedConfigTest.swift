import Foundation
import HALabSystem

/// keepalived's own opinion of a node's config: `keepalived --config-test`, run where the
/// config sees what it would see in the node: the node's file layers over this machine's
/// folders, and interfaces named as the node's, in a throwaway network and mount namespace
/// that ends with the test. Nothing of it is left, and nothing of the host's network is touched.
public enum KeepalivedConfigTest {
    public struct Result: Sendable, Equatable {
        /// keepalived 2.2.7: 0 valid; 4 cannot run; 5 errors found, but it would run; 6 script security problems.
        public var exitCode: Int32
        /// Its messages, as it printed them.
        public var messages: [String]
    }

    /// Why keepalived's test cannot run here, or nil.
    public static var unavailable: String? {
        if !Command.exists("keepalived") { return "keepalived is not installed (apt-get install -y keepalived)" }
        if geteuid() != 0 {
            return "it needs root, to give the config the node's interfaces and files in a throwaway namespace"
        }
        return nil
    }

    /// How long keepalived may take: it loops forever on some files (a parameter defined as itself).
    public static let limit: Duration = .seconds(10)

    /// The test of `node`'s config at `path` (a node path), `@` lines matched against `configID`;
    /// nil when keepalived did not finish within `limit` (it was killed).
    /// `installed`: a file of this machine put in place of the config (a rollout's).
    public static func run(node: NodeSpec, path: String, configID: String, installed: String? = nil) async throws
        -> Result?
    {
        // The installed file is passed as $0, so no quoting of its path is needed.
        guard
            let result = try await Command.run(
                "unshare",
                [
                    "--net", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                    script(node: node, path: path, configID: configID, installed: installed != nil),
                    installed ?? "sh"
                ], limit: limit)
        else { return nil }
        guard result.exitCode != 127 && !result.errorOutput.hasPrefix("halab: ") else {
            throw HALabError.commandFailed(
                command: "keepalived --config-test for \(node.name)", status: "exit \(result.exitCode)",
                output: result.errorOutput)
        }
        let messages = (result.output + result.errorOutput).split(separator: "\n").map(String.init)
        return Result(exitCode: result.exitCode, messages: messages)
    }

    /// The config file alone, on this machine as it is (for a file that is no lab's); nil as above.
    public static func run(file: String, configID: String) async throws -> Result? {
        try await Command.run(
            "keepalived", ["--config-test", "--use-file", file, "--config-id", configID], limit: limit
        ).map {
            Result(
                exitCode: $0.exitCode, messages: ($0.output + $0.errorOutput).split(separator: "\n").map(String.init))
        }
    }

    static func script(node: NodeSpec, path: String, configID: String, installed: Bool = false) -> String {
        var lines = ["set -e", "fail() { echo \"halab: $*\" >&2; exit 100; }"]
        // Read-only overlays: the node's layers over the machine's folder, where a layer has it.
        for folder in NodeFiles.topFolders(of: node) {
            let lowers = node.fileLayers.map { "\($0)/\(folder)" }.filter(FileSystem.isDirectory)
            guard !lowers.isEmpty else { continue }
            lines.append(
                "mount -n -t overlay halab -o lowerdir=\((lowers + ["/\(folder)"]).joined(separator: ":")) /\(folder) "
                    + "|| fail mount /\(folder)"
            )
        }
        if installed { lines.append("mount -n --bind \"$0\" '\(path)' || fail mount the installed config") }
        lines += [
            "mount -n -t tmpfs halab /run || fail mount /run", "mount -n -t tmpfs halab /tmp || fail mount /tmp",
            "ip link set lo up || fail lo"
        ]
        // Bonds and bridges too are veths here: keepalived -t needs only their names and addresses.
        let interfaces = node.interfaces.map { ($0.name, $0.address) } + node.aggregates.map { ($0.name, $0.address) }
        for (index, (name, address)) in interfaces.enumerated() {
            lines.append("ip link add \(name) type veth peer name halab\(index) || fail link \(name)")
            lines.append("ip link set \(name) up" + (address.map { "; ip addr add \($0) dev \(name)" } ?? ""))
        }
        lines.append("set +e")
        lines.append(
            "exec keepalived --config-test --use-file '\(path)' --config-id '\(configID)' --pid /run/halab-test.pid "
                + "--vrrp_pid /run/halab-test-vrrp.pid --checkers_pid /run/halab-test-checkers.pid")
        return lines.joined(separator: "\n")
    }
}
