import ArgumentParser
import Foundation
import HALab
import HALabBackends
import HALabSystem

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks, as medians of several runs: bring-up and teardown, outages per fault, the probe's accuracy.",
        discussion: """
            up       bring-up (halab's share vs keepalived's election) and teardown of the labs, and of generated N-node groups
            outages  the outage each fault costs in master-backup, with the document's config and a tuned VRRPv3 one
            probe    the probe's first good answer against the moment keepalived set the VIP (ip monitor)
            vm-up    bring-up and teardown of the labs as VMs (libvirt backend; not in the default set)
            check    halab check over a corpus of keepalived configs next to keepalived --config-test, and one config
                     of 512 instances (not in the default set)
            """)

    @Argument(help: "What to measure: up, outages, probe, vm-up, check (default: the first three).")
    var parts: [Benchmarks.Part] = [.up, .outages, .probe]

    @Option(help: "Runs per figure (the median is printed).")
    var runs = 5

    @Option(help: "Labs to bring up and down.")
    var labs = "master-backup,dual-master,three-node"

    @Option(help: "Sizes of generated VRRP groups to bring up and down.")
    var groups = "2,8,32,64"

    @Option(help: "For vm-up: the libvirt URI.")
    var connect = "qemu:///system"

    @Option(help: "For check: a folder of keepalived configs (default: the workplace's corpus, ../shared/corpus/keepalived/configs).")
    var corpus: String?

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("halab-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let template = try Lab.locate("master-backup", searchFolders: Environment.labFolders)
        let names = labs.split(separator: ",").map(String.init)
        if parts.contains(.up) {
            let folders = try names.map { try Lab.locate($0, searchFolders: Environment.labFolders) }
                + groups.split(separator: ",").compactMap { Int($0) }.map { try LabGenerator.group(size: $0, in: scratch, sharedFrom: template) }
            print(try await Benchmarks.upDown(folders, runs: runs, backend: Environment.namespaces).text())
        }
        if parts.contains(.outages) {
            let folders = [template, try LabGenerator.tunedMasterBackup(from: template, in: scratch)]
            for table in try await Benchmarks.outages(folders, runs: runs, backend: Environment.namespaces) { print("\n" + table.text()) }
        }
        if parts.contains(.probe) {
            print("\n" + (try await Benchmarks.probeAccuracy(try Environment.loadLab("master-backup"), runs: runs, backend: Environment.namespaces)))
        }
        if parts.contains(.check) {
            let folder = corpus ?? URL(fileURLWithPath: Environment.executableFolder + "/../../../../shared/corpus/keepalived/configs").standardizedFileURL.path
            let files = (try FileManager.default.contentsOfDirectory(atPath: folder)).sorted().map { "\(folder)/\($0)" }
            guard !files.isEmpty else { throw HALabError.usage("no configs in \(folder): give a folder with --corpus") }
            print(try await Benchmarks.checkCorpus(files, halab: Environment.executableFolder + "/halab", runs: runs).text())
            print("\n" + Benchmarks.checkLarge(instances: 512, runs: runs).text())
        }
        if parts.contains(.vmUp) {
            print(try await Benchmarks.vmUp(try names.map(Environment.loadLab), runs: runs, backend: LibvirtBackend(uri: connect)).text())
        }
    }
}

extension Benchmarks.Part: ExpressibleByArgument {}
