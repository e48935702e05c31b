import Foundation
import HALabBackends
import HALabModel
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
    /// A folder for the run's page (`LAB.report.html`), its timeline and captures; nil: none.
    public var reportFolder: String?
    public var keep = false

    public init(lab: Lab, backend: any LabBackend, junit: String? = nil, json: String? = nil, timeline: String? = nil,
                capture: String? = nil, keep: Bool = false, reportFolder: String? = nil) {
        self.reportFolder = reportFolder
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
            let timeline = timeline ?? reportFolder
            let (run, addressEvents) = try await session.capturing(captures) { () async throws -> (VerifyReport, [AddressEvent]) in
                guard timeline != nil else { return (try await Verifier.run(session, progress: progress), []) }
                return try await session.watchingAddresses { try await Verifier.run(session, probe: true, progress: progress) }
            }
            report = run
            var adverts: [VRRPAdvert] = []
            for capture in captures {
                let seen = try AdvertReader.adverts(in: capture.path)
                adverts += seen
                progress("capture of \(capture.point): \(capture.path) (\(seen.count) VRRP adverts)")
            }
            if let timeline {
                try write(timeline: report, session: session, folder: timeline, adverts: adverts.sorted { $0.time < $1.time },
                          addressEvents: addressEvents, progress: progress)
            }
            if let reportFolder {
                let page = ReportPage(report: report, graph: try? await LabGraph(lab: lab).svg(),
                                      timeline: Verifier.timeline(report, session: session, adverts: adverts.sorted { $0.time < $1.time },
                                                                  addressEvents: addressEvents),
                                      measurements: report.steps.flatMap { step in (step.outages ?? []).map { (step.name, $0) } },
                                      captures: captures.map { Self.relative($0.path, to: reportFolder) })
                try FileSystem.write(page.html(), to: "\(reportFolder)/\(lab.name).report.html")
                progress("report: \(reportFolder)/\(lab.name).report.html")
            }
        } catch {
            if takeDown { _ = try? await session.backend.down(lab.name) }
            throw error
        }
        if takeDown { try await session.backend.down(lab.name) }
        if let junit { try FileSystem.write(Reports.junit(report), to: junit) }
        if let json { try FileSystem.write(try Reports.json(report), to: json) }
        return report
    }

    /// `path` as a link from a page in `folder`.
    static func relative(_ path: String, to folder: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: folder).standardizedFileURL.pathComponents
        let common = zip(target, base).prefix { $0 == $1 }.count
        return (Array(repeating: "..", count: base.count - common) + target[common...]).joined(separator: "/")
    }

    /// One pcap per segment, LAB-SEGMENT.pcap in the capture folder; for a timeline without
    /// one, in the timeline's folder (its node lanes are drawn from the adverts).
    func captureFiles() throws -> [CaptureFile] {
        guard let folder = capture ?? reportFolder ?? timeline else { return [] }
        try FileSystem.makeDirectory(folder)
        return lab.topology.segments.map { CaptureFile(point: .segment($0), path: "\(folder)/\(lab.name)-\($0).pcap") }
    }

    func write(timeline report: VerifyReport, session: LabSession, folder: String, adverts: [VRRPAdvert], addressEvents: [AddressEvent],
               progress: @Sendable (String) -> Void) throws {
        try FileSystem.makeDirectory(folder)
        let drawing = Verifier.timeline(report, session: session, adverts: adverts, addressEvents: addressEvents)
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
