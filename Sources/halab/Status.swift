import ArgumentParser
import HALab

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Nodes, their processes, each instance's state, and who holds each VIP.")

    @OptionGroup var options: LabOption

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let status = try await LabStatus.gather(try options.session())
        print(json ? try status.json() : status.text())
    }
}
