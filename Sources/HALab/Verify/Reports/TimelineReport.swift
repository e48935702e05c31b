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
        // From several clients, verify printed them already, a step at a time.
        if !measured.contains(where: { $0.measurement.vantage != nil }) {
            let interval = String(format: "%.1f", (report.probeInterval ?? 0) * 1000)
            progress("outages (probe every \(interval) ms from the client):")
            for (step, measurement) in measured {
                progress("  \(step): \(measurement.judged)")
            }
        }
        progress("timeline: \(folder)/\(report.lab).html")
    }

    /// A request per line: start and end (seconds since the epoch), address, status, answer.
    static func record(_ samples: [ProbeSample]) -> String {
        // A sixth field names the client where it is not the lab's first.
        samples.map { sample in
            "\(sample.start) \(sample.end) \(sample.address) \(sample.status) \(sample.answer)"
                + (sample.vantage.map { " \($0)" } ?? "")
        }.joined(separator: "\n")
    }
}
