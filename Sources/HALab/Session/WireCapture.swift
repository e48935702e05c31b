import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// One capture of a run: where, and the pcap file it writes.
public struct CaptureFile: Sendable, Equatable {
    public var point: CapturePoint
    public var path: String

    public init(point: CapturePoint, path: String) {
        self.point = point
        self.path = path
    }
}

extension LabSession {
    /// Captures at each point into its file while `body` runs: `body` starts once every
    /// capture is listening, and every capture has ended (its file complete) when this returns.
    public func capturing<T: Sendable>(_ captures: [CaptureFile], during body: @Sendable () async throws -> T)
        async throws -> T
    {
        let stop = StopSignal()
        let (backend, lab) = (self.backend, self.lab.name)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for capture in captures {
                try? FileManager.default.removeItem(atPath: capture.path)
                group.addTask {
                    try await backend.capture(lab, at: capture.point, into: capture.path, until: { await stop.wait() })
                }
            }
            do {
                try await Self.awaitListening(captures)
                let result = try await body()
                await stop.fire()
                try await group.waitForAll()
                return result
            } catch {
                await stop.fire()
                try await group.waitForAll()  // a capture's own failure says more than its missing file
                throw error
            }
        }
    }

    /// Runs `body` while every keepalived node's address changes are watched (ip monitor); its
    /// result and those changes, none on a backend that cannot watch them.
    public func watchingAddresses<T: Sendable>(during body: @Sendable () async throws -> T) async throws -> (
        T, [AddressEvent]
    ) {
        let stop = StopSignal()
        let (backend, lab) = (self.backend, self.lab.name)
        return try await withThrowingTaskGroup(of: [AddressEvent].self) { group in
            for node in keepalivedNodes {
                group.addTask {
                    do {
                        return try await backend.watchAddresses(lab, node: node, until: { await stop.wait() })
                    } catch HALabError.unsupported {
                        return []
                    }
                }
            }
            do {
                let result = try await body()
                await stop.fire()
                return (result, try await group.reduce(into: []) { $0 += $1 }.sorted { $0.time < $1.time })
            } catch {
                await stop.fire()
                throw error
            }
        }
    }

    /// tcpdump writes the file's header once it listens.
    static func awaitListening(_ captures: [CaptureFile]) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        for capture in captures {
            while FileSystem.size(capture.path) < 24 {
                guard ContinuousClock.now < deadline else {
                    throw HALabError.commandFailed(
                        command: "tcpdump at \(capture.point)", status: "not listening after 10 s", output: "")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// The capture points a lab has: each segment, by name, and each node interface as
    /// NODE:INTERFACE (a node alone means its first interface).
    public func capturePoint(_ text: String?) throws -> CapturePoint {
        let topology = lab.topology
        guard let text else {
            guard let first = topology.segments.first else { throw HALabError.usage("lab \(lab.name) has no segment") }
            return .segment(first)
        }
        if topology.segments.contains(text) { return .segment(text) }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let node = topology.nodes.first(where: { $0.name == parts[0] }) else {
            throw HALabError.usage(
                "'\(text)' is no segment or node of lab \(lab.name); segments: "
                    + "\(topology.segments.joined(separator: ", ")), nodes: "
                    + "\(topology.nodes.map(\.name).joined(separator: ", "))")
        }
        guard let interface = parts.count > 1 ? parts[1] : node.interfaces.first?.name else {
            throw HALabError.usage("node '\(node.name)' has no interface")
        }
        return .node(node.name, interface: interface)
    }
}

extension LabSession {
    /// One advert as `capture --vrrp` prints it: the time to the millisecond, the sending
    /// node by its address in lab.yaml, then what the advert says.
    public func describe(_ advert: VRRPAdvert) -> String {
        let node = lab.topology.nodes.first { $0.addresses.contains(advert.sender) }
        let time = Date(timeIntervalSince1970: advert.time).formatted(.iso8601.time(includingFractionalSeconds: true))
        return "\(time) \(node.map { "\($0.name) " } ?? "")\(advert.line)"
    }
}

/// The VRRP adverts of a pcap file, read as tcpdump writes it.
public struct AdvertReader: Sendable {
    public let path: String
    private var stream = PcapStream()
    private var offset: UInt64 = 0

    public init(path: String) { self.path = path }

    /// The adverts written since the last read.
    public mutating func read() throws -> [VRRPAdvert] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let data = try handle.readToEnd() ?? Data()
        offset += UInt64(data.count)
        let frames = stream.feed(data)
        if let failure = stream.failure { throw HALabError.usage("\(path): \(failure)") }
        guard let linkType = stream.linkType else { return [] }
        return frames.compactMap { VRRPAdvert.decode($0, linkType: linkType) }
    }

    /// Every advert of a complete file.
    public static func adverts(in path: String) throws -> [VRRPAdvert] {
        var reader = AdvertReader(path: path)
        return try reader.read()
    }
}
