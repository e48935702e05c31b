import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// A run drawn as SVG: one lane per VIP, each probe request coloured by the node that answered
/// or marked failed; below, one lane per node's VRRP instance (its state, priority, adverts and
/// their gaps) or, without them, keepalived's logged state changes as marks; under load, the
/// requests' latency; faults as shaded bands, steps as lines.
public struct Timeline: Sendable {
    public struct Band: Sendable, Equatable { public var label: String; public var from: Double; public var to: Double }
    public struct Mark: Sendable, Equatable {
        public var time: Double; public var node: String; public var text: String
    }

    public var title: String
    public var addresses: [String]
    public var samples: [ProbeSample]
    public var steps: [(name: String, at: Double)]
    public var bands: [Band]
    public var marks: [Mark]
    public var lanes: [NodeLane]
    /// The load's requests (`verify --load`), if any.
    public var load: [ProbeSample]

    public init(
        title: String, addresses: [String], samples: [ProbeSample], steps: [(name: String, at: Double)],
        bands: [Band], marks: [Mark], lanes: [NodeLane] = [], load: [ProbeSample] = []
    ) {
        self.load = load
        self.title = title
        self.addresses = addresses
        self.samples = samples
        self.steps = steps
        self.bands = bands
        self.marks = marks
        self.lanes = lanes
    }

    static let palette = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#bcbd22", "#e377c2"]
    static let failed = "#d62728"

    /// The row (0 first) of each label starting at `x` and `width` wide, in order: the first row
    /// whose last label ends before it begins.
    static func rows(_ labels: [(x: Double, width: Double)]) -> [Int] {
        var ends: [Double] = []
        return labels.map { label in
            if let row = ends.firstIndex(where: { $0 <= label.x }) {
                ends[row] = label.x + label.width
                return row
            }
            ends.append(label.x + label.width)
            return ends.count - 1
        }
    }

    public func svg() -> String {
        let start =
            ([samples.first?.start, load.first?.start] + steps.map { $0.at } + [bands.first?.from]).compactMap { $0 }
            .min() ?? 0
        let end = max(samples.last?.end ?? start + 1, load.map(\.end).max() ?? start, (steps.last?.at ?? start) + 1)
        let (left, width, top, lane) = (110.0, 1000.0, 56.0, 46.0)
        let scale = width / max(end - start, 0.001)
        let x = { (time: Double) in left + (time - start) * scale }
        let nodeLanesHeight = Double(addresses.count) * lane + Double(lanes.count) * Self.nodeLane
        let lanesHeight = nodeLanesHeight + (load.isEmpty ? 0 : Self.latencyLaneHeight)
        let axis = top + lanesHeight + 4
        // Labels never overlap: each goes on the first row where it clears the one before.
        let stepRows = Self.rows(
            steps.enumerated().map { (x($0.element.at), Double("\($0.offset + 1)".count) * 7 + 4) })
        let bandRows = Self.rows(bands.map { (x($0.from), Double($0.label.count) * 6 + 8) })
        let height = axis + 28 + Double((bandRows.max() ?? -1) + 1) * 13 + (lanes.isEmpty ? 46 : 76)
        let nodes = samples.filter(\.ok).map(\.answer).uniqueInOrder().sorted()
        let color = { (sample: ProbeSample) in
            sample.ok ? Self.palette[(nodes.firstIndex(of: sample.answer) ?? 0) % Self.palette.count] : Self.failed
        }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(left + width + 20))" height="\(Int(height))" \
            font-family="sans-serif" font-size="11">
            <title>\(Markup.escape(title))</title>
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="16" font-size="13" font-weight="bold">\(Markup.escape(title))</text>

            """
        for band in bands {
            svg +=
                "<rect x=\"\(f(x(band.from)))\" y=\"\(f(top - 8))\" "
                    + "width=\"\(f(max(1, (band.to - band.from) * scale)))\" height=\"\(f(lanesHeight + 8))\" "
                    + "fill=\"#000\" fill-opacity=\"0.08\"><title>\(Markup.escape(band.label))</title></rect>\n"
        }
        svg += vipLanes(top: top, lane: lane, x: x, scale: scale, color: color)
        svg += nodeLanes(top: top + Double(addresses.count) * lane, x: x, scale: scale)
        svg += latencyLane(top: top + nodeLanesHeight, left: left, right: left + width, x: x)
        for (number, step) in steps.enumerated() {
            svg +=
                "<line x1=\"\(f(x(step.at)))\" x2=\"\(f(x(step.at)))\" y1=\"\(f(top - 8))\" y2=\"\(f(axis))\" "
                    + "stroke=\"#555\" stroke-dasharray=\"3 2\"/><text x=\"\(f(x(step.at) + 2))\" "
                    + "y=\"\(f(top - 12 - Double(stepRows[number]) * 12))\"><title>"
                    + "\(Markup.escape(step.name))</title>\(number + 1)</text>\n"
        }
        // Each shaded fault named under the axis, from where it begins.
        for (index, band) in bands.enumerated() {
            let y = axis + 30 + Double(bandRows[index]) * 13
            svg +=
                "<line x1=\"\(f(x(band.from)))\" x2=\"\(f(x(band.from)))\" y1=\"\(f(axis))\" y2=\"\(f(y - 9))\" "
                    + "stroke=\"#999\"/><text x=\"\(f(x(band.from) + 2))\" y=\"\(f(y))\" font-size=\"10\" "
                    + "fill=\"#444\">\(Markup.escape(band.label))</text>\n"
        }
        let legend = axis + 28 + Double((bandRows.max() ?? -1) + 1) * 13
        let seconds = Int((end - start).rounded(.up))
        let every = max(1, seconds / 20)
        for second in stride(from: 0, through: seconds, by: every) {
            svg +=
                "<text x=\"\(f(x(start + Double(second))))\" y=\"\(f(axis + 14))\" text-anchor=\"middle\">\(second) "
                    + "s</text>\n"
        }
        var legendX = left
        for (node, colour) in zip(nodes, Self.palette) + [("failed", Self.failed)] {
            svg +=
                "<rect x=\"\(f(legendX))\" y=\"\(f(legend))\" width=\"12\" height=\"12\" fill=\"\(colour)\"/><text "
                + "x=\"\(f(legendX + 16))\" y=\"\(f(legend + 10))\">\(Markup.escape(node))</text>\n"
            legendX += 110
        }
        if lanes.isEmpty {
            svg +=
                "<text x=\"\(f(legendX))\" y=\"\(f(legend + 10))\">▲ VRRP state change (keepalived log, 1 s "
                    + "resolution) · shaded: fault in force</text>\n"
        } else {
            svg += stateLegend(x: left, y: legend + 28)
        }
        return svg + "</svg>\n"
    }

    /// A lane per VIP: each run of one answer a bar; without node lanes, keepalived's logged
    /// state changes as marks under it.
    func vipLanes(top: Double, lane: Double, x: (Double) -> Double, scale: Double, color: (ProbeSample) -> String)
        -> String
    {
        var svg = ""
        for (index, address) in addresses.enumerated() {
            let y = top + Double(index) * lane
            svg += "<text x=\"4\" y=\"\(f(y + 20))\">\(address)</text>\n"
            let own = samples.filter { $0.address == address }
            var runStart = 0
            for i in own.indices
            where i == own.count - 1 || own[i + 1].answer != own[runStart].answer || own[i + 1].ok != own[runStart].ok {
                let from = own[runStart].start
                let to = i + 1 < own.count ? own[i + 1].start : own[i].end
                let label =
                    "\(own[runStart].ok ? own[runStart].answer : "failed (\(own[runStart].answer))") "
                        + "×\(i - runStart + 1)"
                svg +=
                    "<rect x=\"\(f(x(from)))\" y=\"\(f(y + 6))\" width=\"\(f(max(0.5, (to - from) * scale)))\" "
                        + "height=\"22\" fill=\"\(color(own[runStart]))\"><title>"
                        + "\(Markup.escape(label))</title></rect>\n"
                runStart = i + 1
            }
            for mark in marks where lanes.isEmpty {
                svg +=
                    "<path d=\"M\(f(x(mark.time))) \(f(y + 36)) l-4 7 h8 z\" "
                        + "fill=\"#333\"><title>\(Markup.escape("\(mark.node): \(mark.text)"))</title></path>\n"
            }
        }
        return svg
    }

    static let nodeLane = 30.0
    /// Not the answering nodes' colours: a lane's state is not a node.
    static let stateColors: [(NodeLane.State, String)] = [
        (.master, "#e6ab02"), (.backup, "#c6dbef"), (.fault, "#fd8d3c"),
        (.down, "#525252"), (.unknown, "#e0e0e0")
    ]

    /// Each instance's lane: its states as bands (a MASTER band labelled with its priorities),
    /// each advert a tick above, each gap in them a red bar below.
    func nodeLanes(top: Double, x: (Double) -> Double, scale: Double) -> String {
        var svg = ""
        for (index, lane) in lanes.enumerated() {
            let y = top + Double(index) * Self.nodeLane
            svg += "<text x=\"4\" y=\"\(f(y + 17))\">\(Markup.escape("\(lane.node) \(lane.instance)"))</text>\n"
            for band in lane.bands {
                let color = Self.stateColors.first { $0.0 == band.state }?.1 ?? "#dddddd"
                let priorities = band.priorities.map(String.init).joined(separator: "→")
                let title =
                    "\(lane.node) \(lane.instance) \(band.state.rawValue) \(priorities)"
                    + String(
                        format: " %.3f–%.3f s", band.from - (steps.first?.at ?? band.from),
                        band.to - (steps.first?.at ?? band.from))
                    + (band.logged.map { " (keepalived: \($0))" } ?? "")
                svg +=
                    "<rect x=\"\(f(x(band.from)))\" y=\"\(f(y + 8))\" "
                        + "width=\"\(f(max(0.5, (band.to - band.from) * scale)))\" height=\"14\" "
                        + "fill=\"\(color)\"><title>\(Markup.escape(title))</title></rect>\n"
                if !priorities.isEmpty, (band.to - band.from) * scale > Double(priorities.count * 7 + 6) {
                    svg +=
                        "<text x=\"\(f(x(band.from) + 3))\" y=\"\(f(y + 19))\" font-size=\"10\">\(priorities)</text>\n"
                }
            }
            let ticks = lane.adverts.map { "M\(f(x($0))) \(f(y + 2))v5" }.joined(separator: " ")
            if !ticks.isEmpty {
                svg +=
                    "<path d=\"\(ticks)\" stroke=\"#333\" stroke-width=\"1\"><title>adverts of "
                        + "\(lane.node)</title></path>\n"
            }
            for gap in lane.gaps {
                let title = String(format: "%@: no advert for %.3f s", lane.node, gap.to - gap.from)
                svg +=
                    "<rect x=\"\(f(x(gap.from)))\" y=\"\(f(y + 24))\" "
                    + "width=\"\(f(max(1, (gap.to - gap.from) * scale)))\" height=\"3\" fill=\"\(Self.failed)\"><title>"
                    + "\(Markup.escape(title))</title></rect>\n"
            }
        }
        return svg
    }

    func stateLegend(x: Double, y: Double) -> String {
        var svg = "", legendX = x
        for (state, color) in Self.stateColors {
            svg +=
                "<rect x=\"\(f(legendX))\" y=\"\(f(y - 10))\" width=\"12\" height=\"12\" fill=\"\(color)\"/><text "
                + "x=\"\(f(legendX + 16))\" y=\"\(f(y))\">\(state.rawValue)</text>\n"
            legendX += 80
        }
        return svg
            + "<text x=\"\(f(x))\" y=\"\(f(y + 18))\">| an advert on the wire · numbers: the priority advertised · red "
            + "bar: no advert for over 1.5 intervals · shaded: a fault in force</text>\n"
    }

    /// A self-contained page: the SVG, the steps, and each step's outage measurements.
    public func html(measurements: [(step: String, measurement: OutageMeasurement)]) -> String {
        var rows = ""
        for (step, m) in measurements {
            rows +=
                "<tr><td>\(Markup.escape(step))</td><td>\(m.label)</td><td>\(m.from ?? "-") → \(m.to ?? "-")</td><td>"
                + "\(m.failed == 0 ? "none" : m.format(m.window))</td><td>"
                + "\(m.format(m.recovery))</td><td>\(m.format(m.bound))</td>"
                + "<td>\(m.failed)</td><td>\(m.unexpected)</td><td>"
                + "\(m.flaps)</td><td>\(m.withinBound ? "yes" : "NO")</td></tr>\n"
        }
        let lanesNote =
            lanes.isEmpty
            ? ""
            : "<p>Node lanes: each instance's VRRP state as keepalived logged it, timed to the millisecond by its VIP "
                + "being added or deleted (ip monitor) and by its adverts on the wire, which also give the priority it "
                + "advertised.</p>"
        let stepList = steps.enumerated().map { "<li>\(Markup.escape($0.element.name))</li>" }.joined()
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>\(Markup.escape(title))</title>
            <style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid \
            #ccc;padding:3px 8px;text-align:left}</style>
            </head><body>
            <h1>\(Markup.escape(title))</h1>
            \(svg())
            \(lanesNote)
            <h2>Steps</h2><ol>\(stepList)</ol>
            <h2>Outages</h2>
            <table><tr><th>step</th><th>VIP</th><th>answered by</th><th>outage</th><th>recovered after</th><th>timer \
            bound</th><th>failed</th><th>wrong node</th><th>flaps</th><th>within bound</th></tr>
            \(rows)</table>
            </body></html>

            """
    }

    func f(_ value: Double) -> String { String(format: "%.1f", value) }
}

/// keepalived's log lines `Wed Nov 25 19:54:40 2026: (VI_1) Entering MASTER STATE`, as marks.
public enum KeepalivedLog {
    public static func stateChanges(_ log: String, node: String) -> [Timeline.Mark] {
        let parser = DateFormatter()
        parser.locale = Locale(identifier: "en_US_POSIX")
        parser.timeZone = TimeZone.current  // keepalived writes local time
        parser.dateFormat = "EEE MMM d HH:mm:ss yyyy"
        return log.split(separator: "\n").compactMap { line -> Timeline.Mark? in
            guard let range = line.range(of: ": ("), line.contains("Entering"), line.contains("STATE") else {
                return nil
            }
            let stamp = line[..<range.lowerBound].split(separator: " ").joined(separator: " ")
            guard let date = parser.date(from: stamp) else { return nil }
            let message = String(line[line.index(range.lowerBound, offsetBy: 2)...])
            return Timeline.Mark(time: date.timeIntervalSince1970, node: node, text: message)
        }
    }
}
