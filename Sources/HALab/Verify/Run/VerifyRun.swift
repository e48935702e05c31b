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
    /// The reports to write. Where one wants the run's evidence, the run probes every VIP from
    /// the client through it and captures every segment (into the first such writer's folder).
    public var writers: [any ReportWriter]
    /// A folder for a pcap of each segment through the run; nil: only where a writer wants them.
    public var capture: String?
    public var keep = false

    public init(
        lab: Lab, backend: any LabBackend, writers: [any ReportWriter] = [], capture: String? = nil, keep: Bool = false
    ) {
        self.lab = lab
        self.backend = backend
        self.writers = writers
        self.capture = capture
        self.keep = keep
    }

    /// `running`: the backend of the lab if it is up already.
    public func run(running: (any LabBackend)?, progress: @escaping @Sendable (String) -> Void) async throws
        -> VerifyReport
    {
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
        let evidence: RunEvidence
        do {
            evidence = try await gather(session, progress: progress)
        } catch {
            if takeDown { _ = try? await session.backend.down(lab.name) }
            throw error
        }
        if takeDown { try await session.backend.down(lab.name) }
        for writer in writers { try await writer.write(evidence, progress: progress) }
        return evidence.report
    }

    /// Runs the scenario, probing and capturing where a writer wants it, and draws the timeline
    /// while the lab's logs are there to read.
    func gather(_ session: LabSession, progress: @escaping @Sendable (String) -> Void) async throws -> RunEvidence {
        let probes = writers.contains { $0.evidenceFolder != nil }
        let captures = try captureFiles()
        let (report, addressEvents) = try await session.capturing(captures) {
            () async throws -> (VerifyReport, [AddressEvent]) in
            guard probes else { return (try await Verifier.run(session, progress: progress), []) }
            return try await session.watchingAddresses {
                try await Verifier.run(session, probe: true, progress: progress)
            }
        }
        var adverts: [VRRPAdvert] = []
        for capture in captures {
            let seen = try AdvertReader.adverts(in: capture.path)
            adverts += seen
            progress("capture of \(capture.point): \(capture.path) (\(seen.count) VRRP adverts)")
        }
        let timeline =
            probes
            ? Verifier.timeline(
                report, session: session, adverts: adverts.sorted { $0.time < $1.time },
                addressEvents: addressEvents) : nil
        return RunEvidence(lab: lab, report: report, timeline: timeline, captures: captures.map(\.path))
    }

    /// One pcap per segment, LAB-SEGMENT.pcap in the capture folder, else in the first folder a
    /// writer wants the evidence in (a timeline's node lanes are drawn from the adverts).
    func captureFiles() throws -> [CaptureFile] {
        guard let folder = capture ?? writers.lazy.compactMap(\.evidenceFolder).first else { return [] }
        try FileSystem.makeDirectory(folder)
        return lab.topology.segments.map { CaptureFile(point: .segment($0), path: "\(folder)/\(lab.name)-\($0).pcap") }
    }
}
