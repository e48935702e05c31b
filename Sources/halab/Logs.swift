import ArgumentParser
import HALab
import HALabBackends
import HALabModel
import HALabSystem

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a node's service logs (readable after a crash too).")

    @OptionGroup var options: LabOption

    @Argument(help: "The node.")
    var node: String

    @Argument(help: "nginx or keepalived (default: both).")
    var service: String?

    static let files = [
        "keepalived": ["/var/log/keepalived.log"],
        "nginx": ["/var/log/nginx/error.log", "/var/log/nginx/access.log"],
    ]

    func run() async throws {
        let session = try options.session()
        let spec = try session.lab.topology.node(node)
        let services = service.map { [$0] } ?? spec.services
        for service in services {
            guard let paths = Self.files[service] else {
                throw HALabError.usage("no logs known for '\(service)'; try \(Self.files.keys.sorted().joined(separator: " or "))")
            }
            for path in paths {
                print("==> \(node):\(path) <==")
                print(session.backend.readFile(session.lab.name, node: node, path: path) ?? "(empty)", terminator: "")
            }
        }
    }
}
