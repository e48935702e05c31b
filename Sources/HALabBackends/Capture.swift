import Foundation
import HALabSystem

/// Where a capture listens: at a segment's switch, every frame that enters it once; or at one
/// interface of a node.
public enum CapturePoint: Sendable, Equatable, CustomStringConvertible {
    case segment(String)
    case node(String, interface: String)

    public var description: String {
        switch self {
        case .segment(let segment): "segment \(segment)"
        case .node(let node, let interface): "\(node):\(interface)"
        }
    }
}

enum Tcpdump {
    /// Unbuffered, so the file can be read while it grows; root keeps writing it (Debian's
    /// tcpdump would otherwise switch to its own user).
    static func arguments(interface: String, path: String, filter: [String] = []) -> [String] {
        ["tcpdump", "-i", interface, "-U", "-Z", "root", "-w", path, "--immediate-mode", "-q"] + filter
    }

    /// Ended by halab (SIGTERM) or by the terminal's Ctrl-C (SIGINT) is ended as asked.
    static func check(_ result: CommandResult, at point: CapturePoint) throws {
        guard result.succeeded || [128 + SIGTERM, 128 + SIGINT].contains(result.exitCode) else {
            throw HALabError.commandFailed(
                command: "tcpdump at \(point)", status: "exit \(result.exitCode)", output: result.errorOutput)
        }
    }

    static func requireInstalled() throws {
        guard FileSystem.isExecutable("/usr/bin/tcpdump") || FileSystem.isExecutable("/usr/sbin/tcpdump") else {
            throw HALabError.missingProgram("tcpdump", fix: "install it with 'apt-get install -y tcpdump'")
        }
    }
}

extension LabTopology {
    /// Checks that `point` names a segment, or a node and one of its interfaces, of this lab.
    func validate(_ point: CapturePoint) throws {
        switch point {
        case .segment(let segment):
            guard segments.contains(segment) else {
                throw HALabError.usage(
                    "no segment '\(segment)' in lab \(name); its segments: \(segments.joined(separator: ", "))")
            }
        case .node(let node, let interface): _ = try locate(node, interface: interface)
        }
    }
}

extension NamespaceBackend {
    /// At a segment: the switch's bridge, which in promiscuous mode (tcpdump's default) is
    /// handed every frame that enters a port, once. At a node: its interface, inside its network.
    public func capture(
        _ lab: String, at point: CapturePoint, into path: String,
        until stop: @escaping @Sendable () async -> Void
    ) async throws {
        try topology(of: lab).validate(point)
        try Tcpdump.requireInstalled()
        let (namespace, interface) =
            switch point {
            case .segment(let segment): (Self.netns(lab, segment), "br0")
            case .node(let node, let interface): (Self.netns(lab, node), interface)
            }
        let result = try await Command.run(
            "nsenter",
            ["--net=\(Self.netnsFolder)/\(namespace)", "--"]
                + Tcpdump.arguments(interface: interface, path: path), until: stop)
        try Tcpdump.check(result, at: point)
    }
}

extension LibvirtBackend {
    /// On the segment's bridge, in the network namespace libvirtd runs in (its own where halab
    /// started it); a node's interface is seen there too, as the frames to and from its MAC.
    public func capture(
        _ lab: String, at point: CapturePoint, into path: String,
        until stop: @escaping @Sendable () async -> Void
    ) async throws {
        let topology = try topology(of: lab)
        try topology.validate(point)
        try Tcpdump.requireInstalled()
        var filter: [String] = []
        var segment = ""
        switch point {
        case .segment(let name): segment = name
        case .node(let node, let interface):
            let spec = try topology.node(node)
            let index = spec.interfaces.firstIndex { $0.name == interface }!
            segment = spec.interfaces[index].segment
            filter = ["ether", "host", try topology.macAddresses(of: node)[index]]
        }
        let bridge = try connect().networkBridgeName(LibvirtXML.networkName(lab: lab, segment: segment))
        guard let daemon = ProcessTable.processes(named: "libvirtd").first else {
            throw HALabError.unsupported(
                "no libvirtd process is running to capture at: start it (scripts/libvirt-daemons start)")
        }
        let result = try await Command.run(
            "nsenter",
            ["--net=/proc/\(daemon.pid)/ns/net", "--"]
                + Tcpdump.arguments(interface: bridge, path: path, filter: filter), until: stop)
        try Tcpdump.check(result, at: point)
    }
}
