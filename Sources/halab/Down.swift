import ArgumentParser
import HALab
import HALabBackends
import HALabSystem

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Remove a lab: every namespace, process, VM and file it made. Safe to repeat; works after a crash of "
            + "halab.",
        discussion: """
            Removes what the lab's journal names, then whatever halab's names say is the lab's (a lost journal, a \
            command killed half-way), and says so; it reports a lab down only once nothing of it is left.
            """)

    @Argument(help: "The lab (default: the only one up).")
    var lab: String?

    @Flag(help: "Every lab that is up, and anything named for a halab lab whose state is gone.")
    var all = false

    @Flag(help: "Take the lab from a command that is changing it (that command then stops, saying so).")
    var force = false

    @OptionGroup var waiting: LabCommand.WaitOption

    func run() async throws {
        let up = Environment.namespaces.labsUp()
        let labs: [String]
        if all {
            labs = up
        } else if let lab {
            labs = [lab.split(separator: "/").last.map(String.init) ?? lab]
        } else {
            guard up.count <= 1 else { throw HALabError.whichLab(up: up) }
            labs = up
        }
        for lab in labs { try await down(lab) }
        if all {
            let swept = try await Environment.teardown(nil).swept
            if !swept.isEmpty { print("swept what no lab's state named: \(swept.joined(separator: ", "))") }
        }
        if labs.isEmpty && !all { print("no lab is up") }
    }

    func down(_ lab: String) async throws {
        // The lab's own names, from its state or its folder, so that nothing else is taken for it.
        let names =
            (try? Environment.namespaces.topology(of: lab).objectNames)
            ?? (try? Environment.loadLab(lab).topology.objectNames)
        let teardown: @Sendable () async throws -> LabTeardown.Result = {
            try await Environment.teardown(lab, names: names)
        }
        let result: LabTeardown.Result
        if force, let holder = await Self.holder(of: lab) {
            progress("taking \(lab) from \(holder)")
            LabLock.markTaken(lab)
            result = try await teardown()
        } else {
            result = try await LabCommand(lab: lab, command: "down", wait: !waiting.noWait).run { try await teardown() }
        }
        print(result.wasUp || !result.swept.isEmpty ? "\(lab) is down" : "\(lab) was not up")
        if !result.swept.isEmpty {
            print("  swept what its state did not name: \(result.swept.joined(separator: ", "))")
        }
    }

    /// Who is changing the lab right now, if anybody.
    static func holder(of lab: String) async -> String? {
        do {
            try await LabLock.acquire(lab, command: "down", wait: false) { _ in }.release()
            return nil
        } catch HALabError.labBusy(_, let holder) {
            return holder
        } catch {
            return nil
        }
    }
}
