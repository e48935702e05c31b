import ArgumentParser
import Foundation
import HALab
import HALabBackends
import HALabModel
import HALabSystem

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a lab's scenario with real processes and assert every outcome; exit 0 only if all hold.",
        discussion: "Brings the lab up first (and down after) unless it is up already.")

    @Argument(help: "A lab name or path.")
    var lab: String

    @Option(help: "Write a JUnit XML report here.")
    var junit: String?

    @Option(help: "Write a JSON report here.")
    var json: String?

    @Option(help: "Run this scenario file instead of the lab's scenario.yaml.")
    var scenario: String?

    @Option(help: "Probe every VIP from the client every 10 ms through the run; measure each action's outage; write LAB.svg, LAB.html and LAB.probe.txt here.")
    var timeline: String?

    @Flag(help: "Leave the lab up afterwards.")
    var keep = false

    @OptionGroup var backendOptions: BackendOptions

    func run() async throws {
        var lab = try Environment.loadLab(lab)
        if let scenario {
            let file = scenario.contains("/") || FileManager.default.fileExists(atPath: scenario) ? scenario : "\(lab.folder)/\(scenario)"
            lab.scenario = try lab.loadScenario(file)
        }
        let wasUp = Environment.namespaces.labsUp().contains(lab.name)
        let backend = wasUp ? Environment.backend(ofLab: lab.name) : backendOptions.make()
        let session: LabSession
        if wasUp {
            session = LabSession(lab: lab, backend: backend)
        } else {
            progress("→ bringing up \(lab.name)")
            let (started, convergence) = try await LabSession.up(lab, backend: backend) { progress("  \($0)") }
            progress("  up in \(formatSeconds(convergence.answered))")
            session = started
        }
        let report: VerifyReport
        do {
            report = try await Verifier.run(session, backend: backend is LibvirtBackend ? "libvirt" : "namespaces", probe: timeline != nil) { progress($0) }
            if let timeline { try writeTimeline(report, session: session, folder: timeline) }
        } catch {
            if !wasUp && !keep { _ = try? await backend.down(lab.name) }
            throw error
        }
        if !wasUp && !keep { try await backend.down(lab.name) }
        if let junit { try Reports.junit(report).write(toFile: junit, atomically: true, encoding: .utf8) }
        if let json { try Reports.json(report).write(toFile: json, atomically: true, encoding: .utf8) }
        let failed = report.steps.filter { !$0.passed }.count
        print("\(lab.name): \(report.steps.count - failed) passed, \(failed) failed in \(formatSeconds(report.seconds))")
        if failed > 0 { throw ExitCode.failure }
    }

    func writeTimeline(_ report: VerifyReport, session: LabSession, folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let drawing = Verifier.timeline(report, session: session)
        let measured = report.steps.flatMap { step in (step.outages ?? []).map { (step.name, $0) } }
        try drawing.svg().write(toFile: "\(folder)/\(report.lab).svg", atomically: true, encoding: .utf8)
        try drawing.html(measurements: measured).write(toFile: "\(folder)/\(report.lab).html", atomically: true, encoding: .utf8)
        let raw = report.samples.map { "\($0.start) \($0.end) \($0.address) \($0.status) \($0.answer)" }.joined(separator: "\n")
        try raw.write(toFile: "\(folder)/\(report.lab).probe.txt", atomically: true, encoding: .utf8)
        progress("outages (probe every \(String(format: "%.1f", (report.probeInterval ?? 0) * 1000)) ms from the client):")
        for (step, measurement) in measured {
            progress("  \(step): \(measurement.summary)\(measurement.withinBound ? "" : "  ← OVER THE TIMER BOUND")")
        }
        progress("timeline: \(folder)/\(report.lab).html")
    }
}
