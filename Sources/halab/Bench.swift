import ArgumentParser
import Foundation
import HALab
import HALabBackends
import HALabSystem

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Benchmarks, as medians of several runs: bring-up and teardown, outages per fault, the probe's accuracy.",
        discussion: """
            up: bring-up (halab's share vs keepalived's election) and teardown of the labs, and of generated N-node \
            groups.
            outages: the outage each fault costs in master-backup, with the document's config and a tuned VRRPv3 one.
            probe: the probe's first good answer against the moment keepalived set the VIP (ip monitor).
            Not in the default set:
            vm-up: bring-up and teardown of the labs as VMs (libvirt backend).
            check: halab check over a corpus of keepalived configs next to keepalived --config-test, and generated \
            worst cases of up to 255 instances each with a check of its own: time and peak memory.
            verify: halab verify of each of --labs, up and down included.
            pairs: verify --all-pairs of each of --labs at each of --parallel: time and memory per instance.
            wire: a capture's cost to a crash failover, with and without it; and after each step of master-backup's \
            scenario, the priorities its adverts carry on the wire against keepalived's dump.
            soak: --cycles cycles of up, chaos and down through the halab command, with SIGKILLs and SIGINTs at random \
            moments, two commands at once, two labs side by side and forced downs; failures and leaks counted.
            """)

    @Argument(help: "What to measure: up, outages, probe, vm-up, check, verify, soak, wire (default: the first three).")
    var parts: [Benchmarks.Part] = [.up, .outages, .probe]

    @Option(help: "Runs per figure (the median is printed).")
    var runs = 5

    @Option(help: "Labs to bring up and down.")
    var labs = "master-backup,dual-master,three-node"

    @Option(help: "Sizes of generated VRRP groups to bring up and down.")
    var groups = "2,8,32,64"

    @Option(help: "For vm-up: the libvirt URI.")
    var connect = "qemu:///system"

    @Option(
        help:
            ArgumentHelp("For check: a folder of keepalived configs (default: the workplace's corpus, "
                + "../shared/corpus/keepalived/configs).")
    )
    var corpus: String?

    @Option(help: "For pairs: how many instances at once, each figure a comma-separated list.")
    var parallel = "4,8"

    @Option(help: "For soak: how many cycles.")
    var cycles = 20

    @Option(help: "For soak: the seed of its random choices (the same seed, the same soak).")
    var seed: UInt64 = 1

    @OptionGroup var waiting: LabCommand.WaitOption

    func run() async throws {
        // The labs it brings up and down, locked for its whole run, and taken down on an interrupt.
        let sizes = groups.split(separator: ",").compactMap { Int($0) }
        let used =
            labs.split(separator: ",").map(String.init) + ["master-backup", "master-backup-tuned"]
            + sizes.map { "group-\($0)" }
        let undo: @Sendable () async -> Void = { for lab in used { _ = try? await Environment.teardown(lab) } }
        let parts = parts, runs = runs, labs = labs, connect = connect, corpus = corpus
        let widths = parallel.split(separator: ",").compactMap { Int($0) }
        try await LabCommand(
            labs: parts.contains(where: \.buildsLabs) ? used : [], command: "bench", wait: !waiting.noWait
        ).run(undo: undo) {
            try await Self.measure(parts: parts, runs: runs, labs: labs, sizes: sizes, connect: connect, corpus: corpus)
        }
        if parts.contains(.pairs) {
            let chosen = try labs.split(separator: ",").map { try Environment.loadLab(String($0)) }
            let names = chosen.map { AllPairsRun(lab: $0, backend: Environment.namespaces, parallel: 1) }.flatMap {
                run in
                run.sequences.indices.map(run.instanceName)
            }
            let undo: @Sendable () async -> Void = { for name in names { _ = try? await Environment.teardown(name) } }
            let table = try await LabCommand(labs: names, command: "bench pairs", wait: !waiting.noWait).run(undo: undo)
            {
                try await Benchmarks.allPairs(chosen, parallel: widths, runs: runs, backend: Environment.namespaces) {
                    _ in
                }
            }
            print(table.text())
        }
        if parts.contains(.soak) { try await soak() }
    }

    func soak() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("halab-soak-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let template = try Lab.locate("master-backup", searchFolders: Environment.labFolders)
        for copy in ["soak-a", "soak-b"] {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: template, toPath: "\(scratch)/\(copy)")
        }
        let soak = Soak(
            halab: Environment.executableFolder + "/halab", labs: ("\(scratch)/soak-a", "\(scratch)/soak-b"), seed: seed
        )
        let tally = try await soak.run(cycles: cycles) { progress($0) }
        let cleanups = tally.interruptCleanups.sorted()
        print(
            "soak: \(tally.cycles) cycles (seed \(seed)): \(tally.leaks.count) leaks, \(tally.rawErrors.count) raw "
                + "errors, \(tally.wrongDiagnoses.count) wrong diagnoses")
        if !cleanups.isEmpty {
            print(
                String(
                    format:
                        "interrupt to clean machine (namespaces): median %.2f s, slowest %.2f s, over %d interrupts",
                    Benchmarks.median(cleanups), cleanups.last ?? 0, cleanups.count))
        }
        for line in tally.leaks + tally.rawErrors + tally.wrongDiagnoses { print("  " + line) }
        if !(tally.leaks.isEmpty && tally.rawErrors.isEmpty && tally.wrongDiagnoses.isEmpty) { throw ExitCode.failure }
    }

    static func measure(
        parts: [Benchmarks.Part], runs: Int, labs: String, sizes: [Int], connect: String, corpus: String?
    ) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("halab-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let template = try Lab.locate("master-backup", searchFolders: Environment.labFolders)
        let names = labs.split(separator: ",").map(String.init)
        if parts.contains(.up) {
            let folders =
                try names.map { try Lab.locate($0, searchFolders: Environment.labFolders) }
                + sizes.map { try LabGenerator.group(size: $0, in: scratch, sharedFrom: template) }
            print(try await Benchmarks.upDown(folders, runs: runs, backend: Environment.namespaces).text())
        }
        if parts.contains(.outages) {
            let folders = [template, try LabGenerator.tunedMasterBackup(from: template, in: scratch)]
            for table in try await Benchmarks.outages(folders, runs: runs, backend: Environment.namespaces) {
                print("\n" + table.text())
            }
        }
        if parts.contains(.probe) {
            print(
                "\n"
                    + (try await Benchmarks.probeAccuracy(
                        try Environment.loadLab("master-backup"), runs: runs, backend: Environment.namespaces)))
        }
        if parts.contains(.check) {
            let folder =
                corpus
                ?? URL(fileURLWithPath: Environment.executableFolder + "/../../../../shared/corpus/keepalived/configs")
                .standardizedFileURL.path
            let files = (try FileManager.default.contentsOfDirectory(atPath: folder)).sorted().map { "\(folder)/\($0)" }
            guard !files.isEmpty else { throw HALabError.usage("no configs in \(folder): give a folder with --corpus") }
            print(
                try await Benchmarks.checkCorpus(files, halab: Environment.executableFolder + "/halab", runs: runs)
                    .text())
            print(
                "\n"
                    + (try await Benchmarks.checkLoads(
                        halab: Environment.executableFolder + "/halab", sizes: [16, 64, 255], runs: runs,
                        scratch: scratch
                    ).text()))
        }
        if parts.contains(.verify) {
            print(
                try await Benchmarks.verify(
                    try names.map { try Environment.loadLab($0) }, runs: runs, backend: Environment.namespaces
                ).text())
        }
        if parts.contains(.wire) {
            let lab = try Environment.loadLab("master-backup")
            print(
                try await Benchmarks.captureOverhead(lab, runs: runs, backend: Environment.namespaces, scratch: scratch)
                    .text())
            let agreement = try await Benchmarks.wireAgreement(lab, backend: Environment.namespaces, scratch: scratch)
            print("\n" + agreement.text())
        }
        if parts.contains(.vmUp) {
            print(
                try await Benchmarks.vmUp(
                    try names.map { try Environment.loadLab($0) }, runs: runs, backend: LibvirtBackend(uri: connect)
                ).text())
        }
    }
}

extension Benchmarks.Part: ExpressibleByArgument {}
