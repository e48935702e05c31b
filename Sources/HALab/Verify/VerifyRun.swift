import Foundation
import HALabBackends
import HALabSystem

/// `halab verify` as a whole: the lab brought up unless it is up already (and taken down
/// after, unless kept), its scenario run, and the reports written.
public struct VerifyRun: Sendable {
    public var lab: Lab
    /// Where the lab is built when it is not up yet.
    public var backend: any LabBackend
    public var junit: String?
    public var json: String?
    /// A folder for the probe's timeline (SVG, HTML, the raw record); nil: no probe.
    public var timeline: String?
    /// A folder for a pcap of each segment through the run; nil: no capture.
    public var capture: String?
    public var keep = false

    public init(lab: Lab, backend: any LabBackend, junit: String? = nil, json: String? = nil, timeline: String? = nil,
                capture: String? = nil, keep: Bool = false) {
        self.lab = lab
        self.backend = backend
        self.junit = junit
        self.json = json
        self.timeline = timeline
        self.capture = capture
        self.keep = keep
    }

    /// `running`: the backend of the lab if it is up already.
    public func run(running: (any LabBackend)?, progress: @escaping @Sendable (String) -> Void) async throws -> VerifyReport {
        let session: LabSession
        if let running {
            session = LabSession(lab: lab, backend: running)
        } else {
            progress("→ bringing up \(lab.name)")
            let (started, convergence) = try await LabSession.up(lab, backend: backend) { progress("  \($0)") }
            progress("  up in \(String(format: "%.2f s", convergence.answered))")
            session = started
        }
        let takeDown = running == nil && !keep
        let report: VerifyReport
        do {
            let captures = try captureFiles()
            report = try await session.capturing(captures) { [timeline] in
                try await Verifier.run(session, probe: timeline != nil, progress: progress)
            }
            for capture in captures {
                progress("capture of \(capture.point): \(capture.path) (\(try AdvertReader.adverts(in: capture.path).count) VRRP adverts)")
            }
            if let timeline { try write(timeline: report, session: session, folder: timeline, progress: progress) }
        } catch {
            if takeDown { _ = try? await session.backend.down(lab.name) }
            throw error
        }
        if takeDown { try await session.backend.down(lab.name) }
        if let junit { try FileSystem.write(Reports.junit(report), to: junit) }
        if let json { try FileSystem.write(try Reports.json(report), to: json) }
        return report
    }

    /// One pcap per segment, LAB-SEGMENT.pcap in the capture folder.
    func captureFiles() throws -> [CaptureFile] {
        guard let capture else { return [] }
        try FileSystem.makeDirectory(capture)
        return lab.topology.segments.map { CaptureFile(point: .segment($0), path: "\(capture)/\(lab.name)-\($0).pcap") }
    }

    func write(timeline report: VerifyReport, session: LabSession, folder: String, progress: @Sendable (String) -> Void) throws {
        try FileSystem.makeDirectory(folder)
        let drawing = Verifier.timeline(report, session: session)
        let measured = report.steps.flatMap { step in (step.outages ?? []).map { (step.name, $0) } }
        try FileSystem.write(drawing.svg(), to: "\(folder)/\(report.lab).svg")
        try FileSystem.write(drawing.html(measurements: measured), to: "\(folder)/\(report.lab).html")
        try FileSystem.write(report.samples.map { "\($0.start) \($0.end) \($0.address) \($0.status) \($0.answer)" }.joined(separator: "\n"),
                             to: "\(folder)/\(report.lab).probe.txt")
        progress("outages (probe every \(String(format: "%.1f", (report.probeInterval ?? 0) * 1000)) ms from the client):")
        for (step, measurement) in measured {
            progress("  \(step): \(measurement.summary)\(measurement.withinBound ? "" : "  ← OVER THE TIMER BOUND")")
        }
        progress("timeline: \(folder)/\(report.lab).html")
    }
}
