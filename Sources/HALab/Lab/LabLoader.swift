import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// Reads a lab folder onto `Lab`: `lab.yaml`, each node's files and keepalived config, and
/// `scenario.yaml`. Every mistake is one message with the file and line.
struct LabLoader {
    let folder: String
    /// The config id keepalived's `@` lines are matched against; nil: each node's name.
    var configID: String? = nil
    var name: String { URL(fileURLWithPath: folder).lastPathComponent }
    var labFile: String { "\(folder)/lab.yaml" }

    static let nodeRoles = ["server", "client", "router"]
    static let keepalivedConfig = "/etc/keepalived/keepalived.conf"

    /// What the nodes read so far add up to.
    struct Nodes {
        var specs: [NodeSpec] = []
        var clients: [String] = []
        var keepalived: [KeepalivedNodeConfig] = []
        /// Every address given so far, and whose it is.
        var addresses: [UInt32: String] = [:]
        /// The services lab.yaml defines.
        var defined: [Service] = []
        /// Per node, the service each vrrp_script checks where lab.yaml says so.
        var checks: [String: [String: String]] = [:]
    }

    /// The keys each mapping of lab.yaml takes: `halab schema lab` is made of them.
    static let rootKeys = ["description", "segments", "services", "nodes"]
    static let serviceKeys = ["start", "stop", "pidfile", "process", "stop-signal", "port"]
    static let nodeKeys = ["role", "services", "interfaces", "routes", "forwarding", "checks"]
    static let nicKeys = ["segment", "address", "address6"]
    static let stopSignals = ["TERM", "INT", "QUIT", "KILL", "USR1", "USR2", "HUP"]

    /// `services:`: a name each, with `start`, and `pidfile` or `process` (a daemon; neither: a
    /// one-shot), `stop-signal`, `port`.
    func services(_ value: YAMLValue) throws -> [Service] {
        try value.namedEntries(what: "services").map { name, line, settings in
            guard Service.named(name) == nil else {
                throw HALabError.badLabFile(
                    file: labFile, line: line, message: "'\(name)' is a built-in service: give yours another name")
            }
            let fields = try settings.mapping(allowed: Self.serviceKeys, required: ["start"], what: "service \(name)")
            let signal = try fields["stop-signal"]?.string(what: "stop-signal") ?? "TERM"
            guard Self.stopSignals.contains(signal) else {
                throw fields["stop-signal"]!.fail(
                    "stop-signal is a signal's name: TERM, INT, QUIT, KILL, USR1, USR2 or HUP")
            }
            let port = try fields["port"]?.int(what: "port")
            if let port, !(1...65535).contains(port) { throw fields["port"]!.fail("port must be 1 to 65535") }
            return Service(
                name: name, pidFile: try fields["pidfile"]?.string(what: "pidfile"),
                process: try fields["process"]?.string(what: "process"),
                start: try fields["start"]!.string(what: "start"), stop: try fields["stop"]?.string(what: "stop"),
                stopSignal: signal, port: port)
        }
    }

    func load() throws -> Lab {
        guard name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), !name.isEmpty else {
            throw HALabError.badLabFile(
                file: labFile, line: nil,
                message: "the lab folder's name '\(name)' must be lower-case letters, digits and '-'")
        }
        // The folder's path goes into overlayfs options, where these characters are separators.
        if let bad = folder.first(where: { ",: ".contains($0) }) {
            throw HALabError.badLabFile(
                file: labFile, line: nil, message: "the lab folder's path must not contain '\(bad)'")
        }
        let root = try YAMLValue.load(labFile)
            .mapping(allowed: Self.rootKeys, required: ["segments", "nodes"], what: "lab.yaml")
        let segments = try root["segments"]!.strings(what: "segments")
        var nodes = Nodes()
        nodes.defined = try root["services"].map(services) ?? []
        for (nodeName, line, value) in try root["nodes"]!.namedEntries(what: "nodes") {
            try node(nodeName, line: line, value, segments: segments, into: &nodes)
        }
        var lab = Lab(
            name: name, folder: folder, summary: try root["description"]?.string(what: "description") ?? "",
            topology: LabTopology(name: name, segments: segments, nodes: nodes.specs), clientNode: nodes.clients.first,
            keepalived: nodes.keepalived, scenario: Scenario(steps: []), configID: configID, checks: nodes.checks)
        // A client probes the VIPs it can reach (dual-master's `outside` reaches only the gateway).
        let healthy = lab.vrrpModel()
        for client in nodes.clients.dropFirst() {
            let reached = lab.virtualAddresses.map(\.address).filter { healthy.routes(from: client, to: $0) }
            if !reached.isEmpty { lab.otherClients.append(Lab.Vantage(node: client, addresses: reached)) }
        }
        let scenarioFile = "\(folder)/scenario.yaml"
        if FileSystem.exists(scenarioFile) { lab.scenario = try lab.loadScenario(scenarioFile) }
        return lab
    }

    func node(_ nodeName: String, line: Int?, _ value: YAMLValue, segments: [String], into nodes: inout Nodes) throws {
        let fail = { (message: String) in HALabError.badLabFile(file: labFile, line: line, message: message) }
        guard nodeName.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), !nodeName.isEmpty else {
            throw fail("node name '\(nodeName)' must be lower-case letters, digits and '-'")
        }
        guard !segments.contains(nodeName), nodeName != "shared" else {
            throw fail("node name '\(nodeName)' is taken by a segment or the shared folder")
        }
        let entries = try value.mapping(allowed: Self.nodeKeys, required: ["interfaces"], what: "node \(nodeName)")
        let role = try entries["role"]?.string(what: "role") ?? "server"
        guard Self.nodeRoles.contains(role) else {
            throw entries["role"]!.fail("role must be one of \(Self.nodeRoles.joined(separator: ", ")), not '\(role)'")
        }
        if role == "client" { nodes.clients.append(nodeName) }
        let services = try entries["services"]?.strings(what: "services") ?? []
        let known = Service.names + nodes.defined.map(\.name)
        for service in services where !known.contains(service) {
            let guess = Spelling.closest(to: service, among: Set(known)).map { "did you mean '\($0)'? " } ?? ""
            throw entries["services"]!.fail(
                "unknown service '\(service)' (\(guess)known: \(known.sorted().joined(separator: ", ")); define it "
                    + "under services:)"
            )
        }
        if let checks = entries["checks"] {
            var map: [String: String] = [:]
            for (script, _, service) in try checks.namedEntries(what: "checks") {
                let name = try service.string(what: "checks")
                guard services.contains(name) else {
                    throw service.fail("checks names '\(name)', which node \(nodeName) does not run")
                }
                map[script] = name
            }
            nodes.checks[nodeName] = map
        }
        let (interfaces, aggregates) = try self.interfaces(
            of: nodeName, entries["interfaces"]!, segments: segments, addresses: &nodes.addresses)
        let routes = try entries["routes"]?.strings(what: "routes") ?? []
        for route in routes where !Self.isRoute(route) {
            throw entries["routes"]!.fail(
                "route '\(route)' must read 'DESTINATION/PREFIX via GATEWAY' or 'default via GATEWAY'")
        }
        let forwarding = try entries["forwarding"].map { try $0.bool(what: "forwarding") } ?? false
        let layers = ["\(folder)/\(nodeName)", "\(folder)/shared"].filter(FileSystem.isDirectory)
        try Self.checkFileLayers(layers)
        nodes.specs.append(
            NodeSpec(
                name: nodeName, interfaces: interfaces, aggregates: aggregates, services: services, fileLayers: layers,
                routes: routes, forwarding: forwarding,
                definedServices: nodes.defined.filter { services.contains($0.name) }))
        if services.contains(Service.keepalived.name) {
            guard let layer = layers.first(where: { FileSystem.exists($0 + Self.keepalivedConfig) }) else {
                throw fail(
                    "node \(nodeName) runs keepalived, but its config \(folder)/\(nodeName)\(Self.keepalivedConfig) is "
                        + "missing"
                )
            }
            var config = Self.keepalived(
                of: nodeName, layers: layers, file: layer + Self.keepalivedConfig, configID: configID ?? nodeName)
            config.findings += missingInterfaces(
                config, interfaces: interfaces.map(\.name) + aggregates.map(\.name), nodeLine: line)
            nodes.keepalived.append(config)
        }
    }

    /// A node's interfaces: NICs (`segment:`), and bonds and bridges made of them (`bond:` or
    /// `bridge:` with the NICs' names). A NIC has an address unless it is in a bond or bridge.
    func interfaces(
        of nodeName: String, _ value: YAMLValue, segments: [String],
        addresses: inout [UInt32: String]
    ) throws -> (nics: [InterfaceSpec], aggregates: [AggregateSpec]) {
        var nics: [(spec: InterfaceSpec, line: YAMLValue)] = []
        var aggregates: [(spec: AggregateSpec, members: YAMLValue)] = []
        for (interfaceName, interfaceLine, settings) in try value.namedEntries(what: "interfaces") {
            guard interfaceName.utf8.count <= 15, !interfaceName.isEmpty,
                interfaceName.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) })
            else {
                throw HALabError.badLabFile(
                    file: labFile, line: interfaceLine,
                    message: "interface name '\(interfaceName)' must be 1 to 15 letters, digits, '_', '.' or '-'")
            }
            let what = "interface \(interfaceName) of \(nodeName)"
            let kinds = AggregateSpec.Kind.allCases.filter { settings.has($0.rawValue) }
            let fields = try settings.mapping(
                allowed: kinds.isEmpty ? Self.nicKeys : [kinds[0].rawValue, "address"],
                required: kinds.isEmpty ? ["segment"] : [], what: what)
            let address = try fields["address"].map { try Self.address($0, owner: nodeName, addresses: &addresses) }
            if let kind = kinds.first {
                let members = try fields[kind.rawValue]!.strings(what: kind.rawValue)
                guard !members.isEmpty else {
                    throw fields[kind.rawValue]!.fail("a \(kind) needs at least one NIC of \(nodeName)")
                }
                aggregates.append(
                    (
                        AggregateSpec(name: interfaceName, kind: kind, members: members, address: address),
                        fields[kind.rawValue]!
                    ))
                continue
            }
            let segment = try fields["segment"]!.string(what: "segment")
            guard segments.contains(segment) else {
                throw fields["segment"]!.fail(
                    "unknown segment '\(segment)' (segments: \(segments.joined(separator: ", ")))")
            }
            let address6 = try fields["address6"].map(Self.address6)
            nics.append(
                (InterfaceSpec(name: interfaceName, segment: segment, address: address, address6: address6), settings))
        }
        try Self.checkMembers(nics: nics, aggregates: aggregates, node: nodeName)
        return (nics.map(\.spec), aggregates.map(\.spec))
    }

    /// Every NIC of a bond or bridge is the node's, in one of them only, and without an address
    /// of its own; every other NIC has one.
    static func checkMembers(
        nics: [(spec: InterfaceSpec, line: YAMLValue)], aggregates: [(spec: AggregateSpec, members: YAMLValue)],
        node: String
    ) throws {
        var owner: [String: String] = [:]
        for (aggregate, line) in aggregates {
            for member in aggregate.members {
                guard let nic = nics.first(where: { $0.spec.name == member }) else {
                    throw line.fail(
                        "\(aggregate.kind) \(aggregate.name) names \(member), which is no NIC of \(node) (a NIC has a "
                            + "segment)"
                    )
                }
                if let other = owner[member] {
                    throw line.fail("\(member) is in \(other) already: a NIC can be in one bond or bridge")
                }
                guard nic.spec.address == nil, nic.spec.address6 == nil else {
                    throw nic.line.fail(
                        "\(member) is in \(aggregate.kind) \(aggregate.name): its address goes on \(aggregate.name)")
                }
                owner[member] = aggregate.name
            }
        }
        for nic in nics where nic.spec.address == nil && owner[nic.spec.name] == nil {
            throw nic.line.fail("interface \(nic.spec.name) of \(node) needs an address (or to be in a bond or bridge)")
        }
    }

    static func address(_ field: YAMLValue, owner: String, addresses: inout [UInt32: String]) throws -> String {
        let address = try field.string(what: "address")
        guard let parsed = IPv4.parse(cidr: address) else {
            throw field.fail("'\(address)' is not an IPv4 address with a prefix length, such as 10.33.1.11/24")
        }
        if let other = addresses[parsed.address] { throw field.fail("address \(address) is already \(other)'s") }
        addresses[parsed.address] = owner
        return address
    }

    static func address6(_ field: YAMLValue) throws -> String {
        let text = try field.string(what: "address6")
        let parts = text.split(separator: "/")
        guard parts.count == 2, AddressFamily.parse(String(parts[0])) == .ipv6, let prefix = Int(parts[1]),
            (1...128).contains(prefix)
        else {
            throw field.fail("'\(text)' is not an IPv6 address with a prefix length, such as fd00:33:1::11/64")
        }
        return text
    }

    /// Interfaces a node's config names that lab.yaml does not give it: both files and lines.
    func missingInterfaces(_ config: KeepalivedNodeConfig, interfaces names: [String], nodeLine: Int?) -> [Finding] {
        let node =
            "\(labFile)\(nodeLine.map { ":\($0)" } ?? "") gives node \(config.node) only "
                + "\(names.joined(separator: ", "))"
        return config.instances.flatMap { instance -> [Finding] in
            var findings: [Finding] = []
            if !instance.interface.isEmpty && !names.contains(instance.interface) {
                findings.append(
                    Finding(
                        .error, at: instance.settings["interface"] ?? instance.location,
                        "vrrp_instance \(instance.name) runs on \(instance.interface), but \(node): keepalived 2.2.7 "
                            + "refuses to start ('Non-existent interface specified in configuration'), so the node "
                            + "never takes the VIP"))
            }
            for tracked in instance.trackedInterfaces.map(\.name) where !names.contains(tracked) {
                findings.append(
                    Finding(
                        .error, at: instance.settings["track_interface"] ?? instance.location,
                        "vrrp_instance \(instance.name) tracks \(tracked), but \(node): keepalived reports it missing"))
            }
            return findings
        }
    }

    /// The node's keepalived config were `file` (this machine's) its keepalived.conf; messages
    /// name `file`, and included files as the node sees them. keepalived in the node takes its
    /// config id from the hostname: the node's name.
    static func keepalived(of nodeName: String, layers: [String], file: String, configID: String)
        -> KeepalivedNodeConfig
    {
        let source = KeepalivedConfig.Source.layers(layers, node: nodeName)
        let named = KeepalivedConfig.Source(
            read: { $0 == file ? try KeepalivedConfig.Source.machine.read(file) : try source.read($0) },
            expand: { source.expand($0, $1 == file ? keepalivedConfig : $1) },
            origin: { $0 == file ? nil : source.origin($0) })
        return KeepalivedNodeConfig.read(node: nodeName, file: file, source: named, configID: configID)
    }

    static func isRoute(_ route: String) -> Bool {
        let words = route.split(separator: " ").map(String.init)
        return words.count == 3 && words[1] == "via" && IPv4.parse(words[2]) != nil
            && (words[0] == "default" || IPv4.parse(cidr: words[0]) != nil)
    }

    /// A node's files are mirrored onto its root: only folders the host has, and not the
    /// kernel's or the node's own (/proc, /sys, /dev, /run, /tmp).
    static func checkFileLayers(_ layers: [String]) throws {
        for layer in layers {
            for entry in FileSystem.list(layer) {
                let path = "\(layer)/\(entry)"
                guard FileSystem.isDirectory(path), !["proc", "sys", "dev", "run", "tmp"].contains(entry),
                    FileSystem.isDirectory("/\(entry)")
                else {
                    throw HALabError.badLabFile(
                        file: path, line: nil,
                        message:
                            "a node's files go in folders the host also has, such as etc/ or var/ (not proc, sys, dev, "
                                + "run or tmp)"
                    )
                }
            }
        }
    }

}
