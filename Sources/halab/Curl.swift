import ArgumentParser
import HALab

struct Curl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "curl a URL from inside the lab (the client node by default) and print what curl prints.")

    @OptionGroup var options: LabOption

    @Argument(help: "The URL, such as http://10.33.1.100")
    var url: String

    @Option(help: "The node to curl from.")
    var from: String?

    @Option(name: .short, help: "How many times.")
    var n = 1

    @Flag(name: .short, help: "Include the response headers, as curl -i.")
    var i = false

    func run() async throws {
        let session = try options.session()
        let node = try from ?? session.client()
        var failed = false
        for _ in 0..<max(1, n) {
            let result = try await session.curlAsTyped(url, from: node, headers: i)
            print(result.output.replacingOccurrences(of: "\r\n", with: "\n"), terminator: "")
            if !result.succeeded {
                failed = true
                progress(result.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        if failed { throw ExitCode.failure }
    }
}
