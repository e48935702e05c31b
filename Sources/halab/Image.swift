import ArgumentParser
import HALab
import HALabBackends
import HALabModel
import HALabSystem

struct Image: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The VM node image of the libvirt backend.",
        subcommands: [Build.self])

    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Build the node image from this machine's kernel and packages (busybox, nginx, keepalived, iproute2 …)."
        )

        @Option(help: "Where the image goes.")
        var folder = NodeImage().folder

        func run() async throws {
            let image = NodeImage(folder: folder)
            progress("→ building the node image in \(folder)")
            let helpers = ["halab-init", "halab-probe"].map { "\(Environment.executableFolder)/\($0)" }
            let manifest = try await image.build(helpers: helpers) { progress("  \($0)") }
            print("node image: kernel \(manifest.kernelVersion), initramfs \(manifest.megabytes) MiB, in \(folder)")
        }
    }
}
