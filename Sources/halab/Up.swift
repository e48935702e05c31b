import ArgumentParser
import Foundation
import HALab

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Build a lab, start its services, and return once each VIP answers from the node that should hold it.",
        discussion: "Ctrl-C (or SIGTERM) takes down what it built so far, and exits 130 (143).")

    @Argument(help: "A lab name (a folder under labs/) or a path to a lab folder.")
    var lab: String

    @OptionGroup var backend: BackendOptions
    @OptionGroup var instance: InstanceOption
    @OptionGroup var waiting: LabCommand.WaitOption

    func run() async throws {
        let lab = try Environment.loadLab(lab, instance: instance.name)
        let backend = backend.make()
        let undo: @Sendable () async -> Void = {
            _ = try? await Environment.teardown(lab.name, names: lab.topology.objectNames)
        }
        try await LabCommand(lab: lab.name, command: "up", wait: !waiting.noWait).run(undo: undo) {
            progress("→ bringing up \(lab.name) (\(lab.topology.nodes.count) nodes, \(backend.kind))")
            let (session, convergence) = try await LabSession.up(lab, backend: backend) { progress("  \($0)") }
            print(try await LabStatus.gather(session).text())
            print(
                String(
                    format: "up in %.2f s (nodes started after %.2f s; the rest is VRRP's election)",
                    convergence.answered, convergence.started))
        }
    }
}
