import ArgumentParser
import HALab
import HALabModel
import HALabSystem

struct Chaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Break (or mend) a running lab.",
        discussion: "Actions:\n" + Fault.vocabulary.map { "  \($0.words)\n      \($0.meaning)" }.joined(separator: "\n")
    )

    @OptionGroup var options: LabOption
    @OptionGroup var waiting: LabCommand.WaitOption

    @Argument(help: "The action and its words, such as: kill nginx-1")
    var action: [String]

    @Flag(help: "Probe every VIP from the client every 10 ms around the action and report the outage clients saw.")
    var measure = false

    @Option(help: "With --measure: seconds to watch after the action (default: the VRRP settle bound + 2 s).")
    var seconds: Double?

    func run() async throws {
        let action: Fault
        do { action = try Fault.parse(self.action) } catch { throw HALabError.usage("\(error)") }
        let session = try options.session()
        let (measure, seconds) = (measure, seconds)
        try await LabCommand(lab: session.lab.name, command: "chaos", wait: !waiting.noWait).run {
            guard measure else {
                try await session.perform(action)
                print("\(action): done")
                return
            }
            for measurement in try await session.measure(action, seconds: seconds) {
                print("\(action): \(measurement.summary)")
            }
        }
    }
}
