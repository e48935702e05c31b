import HALabBackends
import HALabSystem

/// `verify --timeline DIR`: the probe's timeline as LAB.svg and LAB.html (each VIP's answers,
/// the steps, the faults in force, each node's VRRP state, the latency under load), its raw
/// records LAB.probe.txt and (under load) LAB.load.txt, and each step's outage printed.
public struct TimelineReport: ReportWriter {
    public var folder: String

    public init(folder: String) { self.folder = folder }

    public var evidenceFolder: String? { folder }

    public func write(_ evidence: RunEvidence, progress: @Sendable (String) -> Void) async throws {
        let report = evidence.report
        guard let drawing = evidence.timeline else { return }
        try FileSystem.makeDirectory(folder)
        let measured = report.measurements
        try FileSystem.write(drawing.svg(), to: "\(folder)/\(report.lab).svg")
        try FileSystem.write(drawing.html(measurements: measured), to: "\(folder)/\(report.lab).html")
        try FileSystem.write(Self.record(report.samples), to: "\(folder)/\(report.lab).probe.txt")
        if !report.loadSamples.isEmpty {
            try FileSystem.write(Self.record(report.loadSamples), to: "\(folder)/\(report.lab).load.txt")
        }
        progress(
            "outages (probe every \(String(format: "%.1f", (report.probeInterval ?? 0) * 1000)) ms from the client):")
        for (step, measurement) in measured {
            progress("  \(step): \(measurement.summary)\(measurement.withinBound ? "" : "  ← OVER THE TIMER BOUND")")
        }
        progress("timeline: \(folder)/\(report.lab).html")
    }

    /// A request per line: start and end (seconds since the epoch), address, status, answer.
    static func record(_ samples: [ProbeSample]) -> String {
        samples.map { "\($0.start) \($0.end) \($0.address) \($0.status) \($0.answer)" }.joined(separator: "\n")
    }
}
