import ArgumentParser
import HALab
import HALabSystem

struct New: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a lab folder from your keepalived.conf files, and say what it guessed.",
        discussion: """
            Each config is laid verbatim (with what it includes, and the scripts and track files it names, found \
            beside it or given with --file) under its node's folder. Segments come from the interfaces the configs \
            name (one per interface name), node addresses from unicast_src_ip or the VIPs' subnets, services from what \
            the tracked scripts check, a client goes on every segment, and scenario.yaml takes every single failure of \
            the kinds all-pairs runs (a service stopped, a crash, a link down, a switch lost), each followed by its \
            mend, every step `expect: model`.

            Example: halab new labs/mine --node lb1=/etc/keepalived/keepalived.conf --node lb2=lb2.conf
            """)

    @Argument(help: "The new lab folder (its name is the lab's: lower-case letters, digits and '-').")
    var folder: String

    @Option(name: .customLong("node"), help: "NAME=PATH: a node and its keepalived.conf (two or more).")
    var nodes: [String]

    @Option(
        name: .customLong("file"),
        help: "NODE:PATH=LOCAL: a file a config names (a check script), found nowhere beside it.")
    var files: [String] = []

    func run() async throws {
        let pairs = try nodes.map { entry -> (name: String, config: String) in
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty,
                parts[0].allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" })
            else {
                throw HALabError.usage(
                    "--node takes NAME=PATH, NAME of lower-case letters, digits and '-': not '\(entry)'")
            }
            return (parts[0], parts[1])
        }
        guard Set(pairs.map(\.name)).count == pairs.count, !pairs.isEmpty else {
            throw HALabError.usage("give each node once, with --node NAME=PATH")
        }
        let extra = try files.map { entry -> (node: String, path: String, local: String) in
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let target = parts.first?.split(separator: ":", maxSplits: 1).map(String.init) ?? []
            guard parts.count == 2, target.count == 2, target[1].hasPrefix("/"),
                pairs.contains(where: { $0.name == target[0] })
            else {
                throw HALabError.usage(
                    "--file takes NODE:PATH=LOCAL, NODE one of the --node names and PATH from /: not '\(entry)'")
            }
            return (target[0], target[1], parts[1])
        }
        let guesses = try LabMaker(folder: folder, nodes: pairs, templates: Environment.labFolders, extraFiles: extra)
            .make()
        print("made \(folder); what halab guessed:")
        guesses.forEach { print("  " + $0) }
        print("next: halab check \(folder) && halab verify \(folder)")
    }
}
