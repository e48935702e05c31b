import ArgumentParser
import HALab
import HALabSystem

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command inside a node (its network, processes, files and hostname).",
        discussion: "Example: halab exec nginx-1 -- rc-service nginx stop")

    @OptionGroup var options: LabOption

    @Argument(help: "The node.")
    var node: String

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String]

    func run() async throws {
        guard !command.isEmpty else {
            throw HALabError.usage("give the command after --: halab exec \(node) -- CMD …")
        }
        let code = try await options.session().execAttached(command, on: node)
        if code != 0 { throw ExitCode(code) }
    }
}
