import ArgumentParser
import Foundation
import HALab

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract:
            "Check this machine for what halab needs: root, kernel features, programs, libvirt, the node image, KVM.",
        discussion:
            "Says what each missing piece disables and how to get it. Exit status 1 when namespace labs cannot run.")

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let items = await HALab.Doctor.examine()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(items), as: UTF8.self))
        } else {
            print("halab doctor:\n" + HALab.Doctor.text(items))
        }
        if items.contains(where: { $0.essential && !$0.ok }) { throw ExitCode.failure }
    }
}
