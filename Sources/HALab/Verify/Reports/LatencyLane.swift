import Foundation

extension Timeline {
    static let latencyLaneHeight = 64.0

    /// Under load, a lane of what the requests felt: per pixel column, the slowest good answer on
    /// a log scale from 0.1 ms to 1 s (a line, broken where none came), and a red tick over each
    /// column where requests failed (their count in its title).
    func latencyLane(top: Double, left: Double, right: Double, x: (Double) -> Double) -> String {
        guard !load.isEmpty else { return "" }
        let height = Self.latencyLaneHeight - 16
        let y = { (seconds: Double) in top + 10 + height * (1 - min(1, max(0, log10(seconds / 1e-4) / 4))) }
        var svg =
            "<text x=\"4\" y=\"\(f(top + 24))\">latency</text><text x=\"4\" y=\"\(f(top + 37))\" font-size=\"10\">"
            + "under load</text>\n"
        for (label, seconds) in [("1 s", 1.0), ("10 ms", 0.01), ("0.1 ms", 1e-4)] {
            svg +=
                "<line x1=\"\(f(left))\" x2=\"\(f(right))\" y1=\"\(f(y(seconds)))\" y2=\"\(f(y(seconds)))\" "
                + "stroke=\"#ddd\"/><text x=\"\(f(left - 3))\" y=\"\(f(y(seconds) + 3))\" font-size=\"9\" "
                + "text-anchor=\"end\">\(label)</text>\n"
        }
        var slowest: [Int: Double] = [:]
        var failures: [Int: Int] = [:]
        for sample in load {
            let column = Int(x(sample.start))
            if sample.ok {
                slowest[column] = max(slowest[column] ?? 0, sample.end - sample.start)
            } else {
                failures[column, default: 0] += 1
            }
        }
        // A column without a good answer breaks the line: an outage is no answer, not a slope.
        let columns = slowest.keys.sorted()
        let path = columns.enumerated().map { index, column in
            (index > 0 && columns[index - 1] == column - 1 ? "L" : "M") + "\(column) \(f(y(slowest[column]!)))"
        }.joined(separator: " ")
        svg +=
            "<path d=\"\(path)\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\"><title>the slowest good "
            + "answer per pixel</title></path>\n"
        for (column, count) in failures.sorted(by: { $0.key < $1.key }) {
            svg +=
                "<rect x=\"\(column)\" y=\"\(f(top + 2))\" width=\"1\" height=\"6\" fill=\"\(Self.failed)\">"
                + "<title>\(count) failed</title></rect>\n"
        }
        return svg
    }
}
