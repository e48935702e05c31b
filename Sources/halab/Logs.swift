import ArgumentParser
import HALab
import HALabBackends
import HALabSystem

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a node's service logs (readable after a crash too).")

    @OptionGroup var options: LabOption

    @Argument(help: "The node.")
    var node: String

    @Argument(help: "A service of the node (default: all of them).")
    var service: String?

    func run() async throws {
        let session = try options.session()
        let spec = try session.lab.topology.node(node)
        for name in service.map({ [$0] }) ?? spec.services {
            guard let known = Service.named(name), spec.services.contains(name) else {
                throw HALabError.usage(
                    "node \(node) runs no service '\(name)' (it runs: \(spec.services.joined(separator: ", ")))")
            }
            for path in known.logs {
                print("==> \(node):\(path) <==")
                print(session.log(of: node, path: path) ?? "(empty)", terminator: "")
            }
        }
    }
}
