import Foundation
import HALabBackends
import HALabModel

/// One VRRP instance of one node over a run: its state as bands, with the priorities its
/// adverts carried while it was master, each advert, and the gaps between them.
public struct NodeLane: Sendable, Equatable {
    public enum State: String, Sendable {
        case master = "MASTER", backup = "BACKUP", fault = "FAULT"
        /// Before its first known state, or a state keepalived names otherwise.
        case unknown
        /// The node crashed and is not yet revived.
        case down
    }

    public struct Band: Sendable, Equatable {
        public var state: State
        public var from: Double
        public var to: Double
        public var priorities: [Int] = []
        /// keepalived's log line that began it, if one did.
        public var logged: String?
    }

    public struct Span: Sendable, Equatable {
        public var from: Double
        public var to: Double
    }

    public var node: String
    public var instance: String
    public var bands: [Band]
    public var adverts: [Double]
    /// Spans in a MASTER band longer than 1.5 advert intervals without an advert.
    public var gaps: [Span]
}

/// What the lanes are made of: keepalived's log gives each state change to the second; the
/// node's VIP being added or deleted (ip monitor) gives a change to or from MASTER to the
/// microsecond, and without it the node's first advert does; crashes come from the steps.
public struct LaneEvidence: Sendable {
    public var logMarks: [Timeline.Mark]
    public var addressEvents: [AddressEvent]
    public var adverts: [VRRPAdvert]
    /// Each node's lab addresses, to know an advert's sender.
    public var addresses: [String: Set<String>]
    /// When each node was down: from a crash to its revival.
    public var down: [(node: String, span: NodeLane.Span)]

    public init(
        logMarks: [Timeline.Mark], addressEvents: [AddressEvent], adverts: [VRRPAdvert],
        addresses: [String: Set<String>],
        down: [(node: String, span: NodeLane.Span)]
    ) {
        self.logMarks = logMarks
        self.addressEvents = addressEvents
        self.adverts = adverts
        self.addresses = addresses
        self.down = down
    }

    /// A lane per instance, from `start` to `end`.
    public func lanes(_ instances: [VRRPInstance], from start: Double, to end: Double) -> [NodeLane] {
        instances.map { instance in
            let sent = adverts.filter {
                addresses[instance.node]?.contains($0.sender) == true && $0.virtualRouterID == instance.virtualRouterID
            }
            .map(\.time).sorted()
            var bands = Self.inferMasters(
                stateBands(instance, sent: sent, from: start, to: end), sent: sent, interval: instance.advertInterval)
            for outage in down where outage.node == instance.node { bands = Self.cut(bands, to: outage.span) }
            for index in bands.indices where bands[index].state == .master {
                let band = bands[index]
                bands[index].priorities = adverts.filter {
                    addresses[instance.node]?.contains($0.sender) == true
                        && $0.virtualRouterID == instance.virtualRouterID && $0.time >= band.from && $0.time <= band.to
                }
                .map(\.priority).uniqueInOrder()
            }
            let inWindow = sent.filter { $0 >= start && $0 <= end }
            return NodeLane(
                node: instance.node, instance: instance.name, bands: bands, adverts: inWindow,
                gaps: Self.gaps(in: bands, adverts: inWindow, interval: instance.advertInterval))
        }
    }

    /// The log's state changes, each moved to the instant the VIP (or the first advert) says.
    func stateBands(_ instance: VRRPInstance, sent: [Double], from start: Double, to end: Double) -> [NodeLane.Band] {
        let prefix = "(\(instance.name)) Entering "
        var changes: [(time: Double, state: NodeLane.State, logged: String)] =
            logMarks
            .filter { $0.node == instance.node && $0.text.hasPrefix(prefix) }
            .sorted { $0.time < $1.time }
            .map { mark in
                let word = mark.text.dropFirst(prefix.count).split(separator: " ").first.map(String.init) ?? ""
                return (mark.time, NodeLane.State(rawValue: word) ?? .unknown, mark.text)
            }
        for index in changes.indices {
            let (second, state) = (changes[index].time, changes[index].state)
            let wasMaster = index > 0 && changes[index - 1].state == .master
            guard state == .master || wasMaster else { continue }
            // The log's second is truncated: the change happened within it.
            let near = { (time: Double) in time >= second - 0.5 && time < second + 1.5 }
            let vip = addressEvents.first {
                $0.node == instance.node && instance.virtualAddresses.contains($0.address)
                    && $0.added == (state == .master) && near($0.time)
            }
            // A new master sends its first advert, then adds its VIPs: whichever was seen first. The
            // capture begins with the run: a first advert within an interval of that says only that
            // the node was master already (its log's second may be before the run began).
            let advert =
                state == .master
                ? sent.first(where: near).flatMap { $0 > start + instance.advertInterval ? $0 : nil } : nil
            if let precise = [vip?.time, advert].compactMap({ $0 }).min() { changes[index].time = precise }
        }
        var bands: [NodeLane.Band] = []
        var current = NodeLane.Band(state: .unknown, from: start, to: end)
        for change in changes where change.time < end {
            if change.time <= start {
                current = NodeLane.Band(state: change.state, from: start, to: end, logged: change.logged)
                continue
            }
            current.to = change.time
            bands.append(current)
            current = NodeLane.Band(state: change.state, from: change.time, to: end, logged: change.logged)
        }
        return bands + [current]
    }

    /// Where the log says nothing (a VM's log is lost with a crash), a run of the node's adverts
    /// says it was master: from the first to one interval after the last.
    static func inferMasters(_ bands: [NodeLane.Band], sent: [Double], interval: Double) -> [NodeLane.Band] {
        bands.flatMap { band -> [NodeLane.Band] in
            guard band.state == .unknown else { return [band] }
            var runs: [NodeLane.Span] = []
            for time in sent where time >= band.from && time < band.to {
                if let last = runs.last, time - last.to <= 3 * interval {
                    runs[runs.count - 1].to = time
                } else {
                    runs.append(NodeLane.Span(from: time, to: time))
                }
            }
            var result: [NodeLane.Band] = []
            var cursor = band.from
            for run in runs {
                let to = min(run.to + interval, band.to)
                if run.from > cursor { result.append(NodeLane.Band(state: .unknown, from: cursor, to: run.from)) }
                result.append(
                    NodeLane.Band(state: .master, from: run.from, to: to, logged: "its adverts (no log line)"))
                cursor = to
            }
            if cursor < band.to { result.append(NodeLane.Band(state: .unknown, from: cursor, to: band.to)) }
            return result
        }
    }

    /// The bands with `span` made `down`.
    static func cut(_ bands: [NodeLane.Band], to span: NodeLane.Span) -> [NodeLane.Band] {
        var result: [NodeLane.Band] = []
        for band in bands {
            if band.to <= span.from || band.from >= span.to { result.append(band); continue }
            if band.from < span.from {
                result.append(NodeLane.Band(state: band.state, from: band.from, to: span.from, logged: band.logged))
            }
            if result.last?.state != .down {
                result.append(NodeLane.Band(state: .down, from: max(band.from, span.from), to: min(band.to, span.to)))
            }
            result[result.count - 1].to = min(band.to, span.to)
            if band.to > span.to {
                result.append(NodeLane.Band(state: band.state, from: span.to, to: band.to, logged: band.logged))
            }
        }
        return result
    }

    static func gaps(in bands: [NodeLane.Band], adverts: [Double], interval: Double) -> [NodeLane.Span] {
        bands.filter { $0.state == .master }.flatMap { band in
            let times = [band.from] + adverts.filter { $0 >= band.from && $0 <= band.to } + [band.to]
            return zip(times, times.dropFirst()).filter { $1 - $0 > 1.5 * interval }.map {
                NodeLane.Span(from: $0, to: $1)
            }
        }
    }
}
