import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// `halab check`: halab's reading of a lab's keepalived configs (or of one config file), its
/// lints and failure table, and keepalived's own `--config-test` of each node's config as that
/// node sees it, its messages merged in with their file:line.
public enum CheckRun {
    /// A lab: every node that runs keepalived. `installed`: per node, a file of this machine
    /// taken as its keepalived.conf (the lab mid-rollout).
    public static func lab(
        _ lab: Lab, askKeepalived: Bool, installed: [String: String] = [:],
        kinds: Set<Fault.Kind> = Fault.Kind.checkTable
    ) async throws -> ConfigCheck.Report {
        var lab = lab
        for (node, file) in installed.sorted(by: { $0.key < $1.key }) { try lab.install(file, on: node) }
        var report = ConfigCheck.run(lab: lab.name, configs: lab.keepalived, model: lab.vrrpModel(), kinds: kinds)
        report.findings += missingPrograms(lab)
        guard askKeepalived else { return report }
        report.findings += blindSpots(lab.keepalived)
        if let why = KeepalivedConfigTest.unavailable {
            report.findings.append(
                Finding(
                    severity: .info, location: nil, message: "keepalived's own check did not run: \(why)",
                    source: .keepalived))
            return report
        }
        // Every node's test at once, each bounded: check answers within the bound whatever the files hold.
        report.findings += await withTaskGroup(of: [Finding].self) { group in
            for config in lab.keepalived {
                guard let node = try? lab.topology.node(config.node), let file = config.file else { continue }
                let configID = lab.configID ?? node.name
                group.addTask {
                    do {
                        let result = try await KeepalivedConfigTest.run(
                            node: node, path: LabLoader.keepalivedConfig, configID: configID,
                            installed: installed[node.name])
                        return findings(
                            result, node: node.name, file: file, labPath: { labPath($0, of: node, main: file) })
                    } catch {
                        return [
                            Finding(
                                severity: .warning, location: nil,
                                message: "keepalived's own check of \(node.name): \(error)", source: .keepalived)
                        ]
                    }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        report.findings.sort {
            $0.severity > $1.severity
                || ($0.severity == $1.severity && ($0.location ?? "", $0.message) < ($1.location ?? "", $1.message))
        }
        return report
    }

    /// One config file of no lab, read on this machine as it is, `@` lines matched against `configID`.
    public static func file(
        _ path: String, configID: String, askKeepalived: Bool, kinds: Set<Fault.Kind> = Fault.Kind.checkTable
    ) async -> ConfigCheck.Report {
        let config = KeepalivedNodeConfig.read(node: configID, file: path, source: .machine, configID: configID)
        let model = VRRPModel(
            nodes: [VRRPModel.Node(name: configID, services: [], primaryAddress: 0, addresses: [], segments: [:])],
            instances: config.instances)
        var report = ConfigCheck.run(lab: path, configs: [config], model: model, kinds: kinds)
        guard askKeepalived else { return report }
        report.findings += blindSpots([config])
        if !Command.exists("keepalived") {
            report.findings.append(
                Finding(
                    severity: .info, location: nil,
                    message: "keepalived's own check did not run: keepalived is not installed",
                    source: .keepalived))
        } else {
            do {
                report.findings += findings(
                    try await KeepalivedConfigTest.run(file: path, configID: configID), node: configID, file: path,
                    labPath: { $0 })
            } catch {
                report.findings.append(
                    Finding(
                        severity: .warning, location: nil, message: "keepalived's own check: \(error)",
                        source: .keepalived))
            }
            report.findings.sort { $0.severity > $1.severity }
        }
        return report
    }

    /// keepalived's messages as findings, or, when it did not finish in time, that.
    static func findings(
        _ result: KeepalivedConfigTest.Result?, node: String, file: String, labPath: (String) -> String
    ) -> [Finding] {
        guard let result else {
            let seconds = KeepalivedConfigTest.limit.components.seconds
            return [
                Finding(
                    severity: .error, location: file,
                    message: "\(node): keepalived -t did not finish in \(seconds) s (halab stopped it): "
                        + "keepalived would hang reading this config", source: .keepalived)
            ]
        }
        return findings(result, node: node, file: file, labPath: labPath)
    }

    /// What a node gives a program at an absolute path: its files, the machine's under them, and halab's own tools.
    static let providedPaths: Set<String> = ["/sbin/rc-service", "/usr/local/sbin/rc-service", "/usr/local/sbin/pidof"]

    /// A script or notify command that runs an absolute path the node does not have: keepalived
    /// cannot run it, and says so only in its log.
    static func missingPrograms(_ lab: Lab) -> [Finding] {
        lab.keepalived.flatMap { config -> [Finding] in
            guard let node = try? lab.topology.node(config.node) else { return [] }
            let runs =
                config.scripts.map { ("vrrp_script \($0.name)", $0.command, $0.location) }
                + config.instances.flatMap { instance in
                    instance.notify.map { role, command in
                        ("notify of \(instance.name) (\(role.rawValue))", command, instance.location)
                    }
                }
            return runs.compactMap { what, command, location in
                guard let program = HealthCheck.words(command).first, program.hasPrefix("/"),
                    !providedPaths.contains(program),
                    !FileSystem.exists(program), !node.fileLayers.contains(where: { FileSystem.exists($0 + program) })
                else { return nil }
                return Finding(
                    .warning, at: location,
                    "\(what) on \(config.node) runs \(program), which \(config.node) does not have: keepalived cannot "
                        + "run it (put it under \(config.node)/ in the lab)")
            }
        }
    }

    /// Where keepalived's silence says nothing: with net_namespace set, keepalived 2.2.7's config
    /// test looks at no vrrp block at all (seen: an invalid priority and VRID pass, exit 0).
    static func blindSpots(_ configs: [KeepalivedNodeConfig]) -> [Finding] {
        configs.flatMap { config in
            config.notModelled.filter { $0.keyword == "net_namespace" }.map {
                Finding(
                    .info, at: $0.location,
                    "with net_namespace set, keepalived's --config-test checks none of the vrrp configuration: its "
                        + "silence says nothing of it")
            }
        }
    }

    /// keepalived's messages as findings, each once (keepalived logs some once per parsing pass):
    /// `(FILE: Line N) text` or `(Line N) text` (the main file). Errors where keepalived said the
    /// config has them (exit 4, 5 or 6), else warnings; but its complaint that script security is
    /// off is a warning: it runs the scripts all the same.
    static func findings(_ result: KeepalivedConfigTest.Result, node: String, file: String, labPath: (String) -> String)
        -> [Finding]
    {
        var findings = result.messages.uniqueInOrder().map { message -> Finding in
            let security = message.contains("script_security not enabled")
            let severity: Severity = result.exitCode == 0 || security ? .warning : .error
            // keepalived runs the scripts as root all the same; say what would quiet it.
            let message =
                security
                ? message + " (keepalived runs the scripts as root all the same; enable_script_security and a "
                    + "script_user in global_defs make it run them as that user)" : message
            guard message.hasPrefix("("), let close = message.firstIndex(of: ")"),
                let range = message.range(of: "Line ", options: [], range: message.startIndex..<close),
                let line = Int(message[range.upperBound..<close])
            else {
                return Finding(severity: severity, location: nil, message: "\(node): \(message)", source: .keepalived)
            }
            let named = message[message.index(after: message.startIndex)..<range.lowerBound]
            let path = named.hasSuffix(": ") ? labPath(String(named.dropLast(2))) : file
            return Finding(
                severity: severity, location: "\(path):\(line)",
                message: String(message[message.index(after: close)...]).trimmingCharacters(in: .whitespaces),
                source: .keepalived)
        }
        if result.exitCode != 0 && findings.isEmpty {
            findings.append(
                Finding(
                    severity: .error, location: file, message: "keepalived --config-test exited \(result.exitCode)",
                    source: .keepalived))
        }
        return findings
    }

    /// The lab's file a node path is, when a layer of the node has it.
    static func labPath(_ nodePath: String, of node: NodeSpec, main: String) -> String {
        if nodePath == LabLoader.keepalivedConfig { return main }
        return node.fileLayers.map { $0 + nodePath }.first(where: FileManager.default.fileExists) ?? nodePath
    }
}

extension KeepalivedConfig.Source {
    /// Files as they are on this machine, read as bytes.
    public static var machine: Self {
        Self(
            read: { path in
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw HALabError.badLabFile(file: path, line: nil, message: "no such file, or it cannot be read")
                }
                return Array(data)
            },
            expand: { pattern, includingFile in
                let absolute = includePath(pattern, from: includingFile)
                return glob(absolute)
            })
    }
}
