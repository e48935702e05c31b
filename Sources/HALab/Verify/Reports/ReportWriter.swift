import HALabModel
import HALabSystem

/// One form of a verify run's report — text, JSON, JUnit, a page, a timeline — each a type of
/// its own: a new form is one file, and `halab verify` an option that makes one.
public protocol ReportWriter: Sendable {
    /// The folder that gets the run's pcaps and the probe's record, where this form shows them
    /// (the run then probes every VIP and captures every segment); nil: it needs neither.
    var evidenceFolder: String? { get }

    func write(_ evidence: RunEvidence, progress: @Sendable (String) -> Void) async throws
}

extension ReportWriter {
    public var evidenceFolder: String? { nil }
}

/// What a verify run leaves to report: its report, and where the run probed and captured, its
/// timeline and capture files.
public struct RunEvidence: Sendable {
    public var lab: Lab
    public var report: VerifyReport
    public var timeline: Timeline?
    public var captures: [String] = []
}

/// Text for XML and HTML.
enum Markup {
    static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            // Characters XML 1.0 forbids (control characters but tab, newline, return).
            case _ where scalar.value < 0x20 && !["\t", "\n", "\r"].contains(scalar): continue
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
