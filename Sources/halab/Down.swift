import ArgumentParser
import HALab
import HALabBackends
import HALabModel
import HALabSystem

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a lab: every namespace, process, VM and file it made. Safe to repeat; works after a crash of halab.")

    @Argument(help: "The lab (default: the only one up).")
    var lab: String?

    @Flag(help: "Every lab that is up.")
    var all = false

    func run() async throws {
        let backend = Environment.namespaces
        let labs: [String]
        if all {
            labs = backend.labsUp()
        } else if let lab {
            labs = [lab.split(separator: "/").last.map(String.init) ?? lab]
        } else {
            let up = backend.labsUp()
            guard up.count <= 1 else { throw HALabError.whichLab(up: up) }
            labs = up
        }
        if labs.isEmpty { print("no lab is up") }
        for lab in labs {
            let removed = try await Environment.backend(ofLab: lab).down(lab)
            print(removed ? "\(lab) is down" : "\(lab) was not up")
        }
    }
}
