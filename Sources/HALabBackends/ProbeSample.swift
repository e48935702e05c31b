/// One request of halab-probe: when it started and ended (seconds since the epoch), the
/// address, and what came back.
public struct ProbeSample: Sendable, Codable, Equatable {
    public var start: Double
    public var end: Double
    public var address: String
    /// The HTTP status; 0 when the request failed.
    public var status: Int
    /// The body's first word (the node's name), or why it failed: refused, timeout, reset, error.
    public var answer: String

    public var ok: Bool { status == 200 }

    /// Reads halab-probe's lines (`START_NS END_NS ADDRESS STATUS ANSWER`), sorted by start.
    public static func parse(_ text: String) -> [ProbeSample] {
        text.split(separator: "\n").compactMap { line -> ProbeSample? in
            let fields = line.split(separator: " ")
            guard fields.count == 5, let start = Double(fields[0]), let end = Double(fields[1]),
                let status = Int(fields[3])
            else { return nil }
            return ProbeSample(
                start: start / 1e9, end: end / 1e9, address: String(fields[2]), status: status,
                answer: String(fields[4]))
        }.sorted { $0.start < $1.start }
    }
}
