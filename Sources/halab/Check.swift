import ArgumentParser
import Foundation
import HALab
import HALabModel
import HALabSystem

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Find where a design fails before anything runs: its configs as keepalived reads them, and the VIP's "
                + "holder after every failure.",
        discussion: """
            Reads every node's keepalived.conf as keepalived 2.2.7 does (continuation, braces anywhere, $ parameters, \
            @ lines for the node's name, ~SEQ and ~LST, includes), reports each value keepalived would refuse and what \
            it does instead, and lints the design, each finding with its file:line. keepalived's own --config-test \
            runs on every node's config as that node sees it (its files and interfaces, in a throwaway namespace; \
            needs root) and its messages are merged in.

            Then halab's VRRP model predicts who holds each VIP after every single failure (a service stopped, hung or \
            refusing, a crash, a link down, a switch lost) and every ordered pair of failures on two nodes; a row \
            where a VIP sits on a node that cannot serve while another could is an outage. The pairs after which \
            nothing can serve are shown with --all. Given a keepalived.conf instead of a lab, it checks that one file.

            Exit status: 0 when no finding (halab's or keepalived's) is an error and no row is an outage; 1 otherwise, \
            or when the lab cannot be read.
            """)

    @Argument(help: "A lab name or path, or one keepalived.conf file.")
    var target: String

    @Flag(help: "Print one JSON document (errors too).")
    var json = false

    @Option(
        help:
            "The config id keepalived's @ID lines are matched against (default: each node's name; for a file: 'node').")
    var configId: String?

    @Flag(help: "Do not run keepalived's own --config-test.")
    var noKeepalived = false

    @Flag(help: "Show every row, the pairs of failures after which nothing can serve too.")
    var all = false

    @Option(
        help:
            ArgumentHelp("Mark every row whose worst-case outage (the checks' detection, Master_Down_Interval, "
                + "preempt_delay) exceeds this many seconds; exit 1 if any does.")
    )
    var maxOutage: Double?

    @Option(
        help:
            ArgumentHelp("The kinds of failure the table is made of, comma-separated, from "
                + "\(Fault.Kind.allCases.map(\.rawValue).joined(separator: ", ")) (default: "
                + Fault.Kind.allCases.filter(Fault.Kind.checkTable.contains).map(\.rawValue).joined(separator: ",")
                + ").")
    )
    var faults: String?

    @Option(
        name: .customLong("with"),
        help: ArgumentHelp(
            "Check the lab mid-rollout: FILE (of this machine) as NODE's keepalived.conf. Repeatable.",
            valueName: "NODE=FILE"))
    var installed: [String] = []

    func run() async throws {
        if let maxOutage, !(maxOutage > 0 && maxOutage.isFinite) {
            throw HALabError.usage("--max-outage is a number of seconds above 0, such as 0.5")
        }
        guard let kinds = faults.map(Fault.Kind.parse) ?? Fault.Kind.checkTable else {
            throw HALabError.usage(
                "--faults '\(faults ?? "")': name kinds from "
                    + "\(Fault.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        var files: [String: String] = [:]
        for pair in installed {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, files[parts[0]] == nil else {
                throw HALabError.usage(
                    "--with takes NODE=FILE, each node once, such as --with nginx-2=new/keepalived.conf (not '\(pair)')"
                )
            }
            files[parts[0]] = parts[1]
        }
        var report: ConfigCheck.Report
        do {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: target, isDirectory: &isFolder), !isFolder.boolValue {
                guard files.isEmpty else {
                    throw HALabError.usage("--with names a node of a lab: check a lab, not one file")
                }
                report = await CheckRun.file(
                    target, configID: configId ?? "node", askKeepalived: !noKeepalived, kinds: kinds)
            } else {
                let lab = try Lab.load(
                    folder: try Lab.locate(target, searchFolders: Environment.labFolders), configID: configId)
                report = try await CheckRun.lab(lab, askKeepalived: !noKeepalived, installed: files, kinds: kinds)
            }
        } catch {
            guard json else { throw error }
            print(try Self.encode(["halab": HALabVersion.current, "lab": target, "error": "\(error)"]))
            throw ExitCode.failure
        }
        if let maxOutage { report = report.judged(budget: maxOutage) }
        print(json ? try Self.encode(report) : report.text(all: all))
        if report.failed { throw ExitCode.failure }
    }

    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
