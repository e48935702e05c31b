import ArgumentParser
import Foundation
import HALab
import HALabBackends
import HALabModel
import HALabSystem

@main
struct HALabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halab",
        abstract:
            "Build high-availability labs (nginx + keepalived) on this machine, break them, prove what clients see.",
        version: HALabVersion.current,
        subcommands: [
            Up.self, Down.self, Status.self, Logs.self, Exec.self, Curl.self, Chaos.self, Verify.self, Check.self,
            Bench.self,
            Capture.self, Watch.self, ExploreCommand.self, ReportCommand.self, Graph.self, Image.self, New.self,
            Schema.self, Doctor.self
        ])

    /// Whoever reads halab's output may go away first (a CI runner, a killed test): halab then
    /// still finishes, or undoes, its work rather than die of SIGPIPE.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        await main(nil)
    }
}

/// What every command needs: where labs are, and the backend.
enum Environment {
    static var executableFolder: String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }

    static var namespaces: NamespaceBackend { NamespaceBackend(initProgram: "\(executableFolder)/halab-init") }

    /// The backend a lab that is up was built on (the journal says); namespaces otherwise.
    @Sendable static func backend(ofLab lab: String) -> any LabBackend {
        LibvirtBackend.uri(ofLab: lab).map { LibvirtBackend(uri: $0) } ?? namespaces
    }

    /// Takes `lab` down (every lab when nil): its journal, then whatever halab's names say is
    /// left of it on either backend, then proof that nothing is.
    static func teardown(_ lab: String?, names: [String]? = nil) async throws -> LabTeardown.Result {
        try await LabTeardown.down(
            lab, names: names, journal: backend(ofLab:), others: [namespaces, LibvirtBackend(uri: "qemu:///system")])
    }

    /// Named labs are looked up in ./labs, $HALAB_LABS, and the labs/ of the checkout halab was
    /// built in or of its install (PREFIX/share/halab/labs, beside PREFIX/lib/halab).
    static var labFolders: [String] {
        var folders = [FileManager.default.currentDirectoryPath + "/labs"]
        if let extra = ProcessInfo.processInfo.environment["HALAB_LABS"] { folders.append(extra) }
        for relative in ["/../../../labs", "/../../share/halab/labs"] {
            folders.append(URL(fileURLWithPath: executableFolder + relative).standardizedFileURL.path)
        }
        return folders
    }

    /// `instance`: the name it runs under, beside other instances of the folder.
    static func loadLab(_ nameOrPath: String, instance: String? = nil) throws -> Lab {
        let lab = try Lab.load(folder: try Lab.locate(nameOrPath, searchFolders: labFolders))
        return try instance.map(lab.instance(named:)) ?? lab
    }
}

/// Progress goes to standard error, so standard output stays what a script reads.
@Sendable func progress(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }  // a closed stderr is no failure
}

/// A command whose first argument names a lab (a folder under labs/, or a path): what the
/// docs test holds to exist where the docs name one.
protocol NamesALab {
    var namedLab: String { get }
}

extension Up: NamesALab { var namedLab: String { lab } }
extension Verify: NamesALab { var namedLab: String { lab } }
extension Check: NamesALab { var namedLab: String { target } }
extension ExploreCommand: NamesALab { var namedLab: String { lab } }
extension Graph: NamesALab { var namedLab: String { lab } }

struct LabOption: ParsableArguments {
    @Option(name: .long, help: "The lab to act on (needed only when several are up).")
    var lab: String?

    func session() throws -> LabSession {
        try LabSession.attach(lab, lookup: Environment.namespaces, backendOf: Environment.backend(ofLab:))
    }
}

/// The name a lab runs under.
struct InstanceOption: ParsableArguments {
    @Option(
        help:
            ArgumentHelp("Run it as an instance of this name, isolated beside others of the same folder (default: the "
                + "folder's name).")
    )
    var name: String?
}

/// Where a new lab is built.
struct BackendOptions: ParsableArguments {
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case namespaces, libvirt
    }

    enum DomainType: String, ExpressibleByArgument, CaseIterable {
        case kvm, qemu
    }

    @Option(help: "namespaces (each node a set of Linux namespaces) or libvirt (each node a VM).")
    var backend: Kind = .namespaces

    @Option(help: "The libvirt URI, for --backend libvirt (qemu+ssh://HOST/system for another host).")
    var connect = "qemu:///system"

    @Option(help: "The libvirt domain type (default: kvm if it really runs a guest here, else qemu).")
    var domainType: DomainType?

    @Option(help: "For --backend libvirt: boot this Alpine cloud image (qcow2, nocloud) instead of halab's node image.")
    var image: String?

    func make() -> any LabBackend {
        switch backend {
        case .namespaces: Environment.namespaces
        case .libvirt:
            LibvirtBackend(
                uri: connect, cloudImage: image.map(CloudImage.init(base:)), domainType: domainType?.rawValue)
        }
    }
}
