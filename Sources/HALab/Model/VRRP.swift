/// A `vrrp_script`: how a node's health check changes its priority.
public struct VRRPScript: Sendable, Equatable, Codable {
    public var name: String
    public var command: String
    /// Seconds between runs.
    public var interval: Double = 1
    public var weight: Int = 0
    public var rise: Int = 1
    public var fall: Int = 1
}

/// One node's `vrrp_instance`.
public struct VRRPInstance: Sendable, Equatable, Codable {
    public var name: String
    public var node: String
    public var file: String
    public var line: Int
    public var virtualRouterID: Int = 0
    public var priority: Int = 100
    /// Seconds.
    public var advertInterval: Double = 1
    public var version: Int = 2
    public var initialState: String = "BACKUP"
    public var preempt = true
    /// Virtual addresses without prefix: `10.33.1.100`.
    public var virtualAddresses: [String] = []
    /// Tracked scripts with the weight in force (a `track_script` weight overrides the script's).
    public var trackedScripts: [VRRPScript] = []

    /// RFC 3768 §6.1 (v2) and RFC 5798 §6.1 (v3).
    public func skewTime(priority: Int) -> Double {
        version == 3 ? Double(256 - priority) * advertInterval / 256 : Double(256 - priority) / 256
    }

    /// How long a backup at `priority` waits without adverts before it takes over.
    public func masterDownInterval(priority: Int) -> Double {
        3 * advertInterval + skewTime(priority: priority)
    }
}

/// Reads the VRRP instances a node's keepalived.conf defines.
public enum VRRPConfigReader {
    public static func instances(node: String, configText: String, file: String) throws -> [VRRPInstance] {
        let items = try KeepalivedConfig.parse(configText, file: file)
        var scripts: [String: VRRPScript] = [:]
        for item in items where item.keyword == "vrrp_script" {
            var script = VRRPScript(name: try argument(item, file: file), command: "")
            for setting in item.block ?? [] {
                switch setting.keyword {
                case "script": script.command = setting.arguments.joined(separator: " ")
                case "interval": script.interval = try number(setting, file: file)
                case "weight": script.weight = Int(try number(setting, file: file))
                case "rise": script.rise = Int(try number(setting, file: file))
                case "fall": script.fall = Int(try number(setting, file: file))
                default: break
                }
            }
            scripts[script.name] = script
        }
        var instances: [VRRPInstance] = []
        for item in items where item.keyword == "vrrp_instance" {
            var instance = VRRPInstance(name: try argument(item, file: file), node: node, file: file, line: item.line)
            for setting in item.block ?? [] {
                switch setting.keyword {
                case "state": instance.initialState = try argument(setting, file: file)
                case "virtual_router_id": instance.virtualRouterID = Int(try number(setting, file: file))
                case "priority": instance.priority = Int(try number(setting, file: file))
                case "advert_int": instance.advertInterval = try number(setting, file: file)
                case "vrrp_version": instance.version = Int(try number(setting, file: file))
                case "nopreempt": instance.preempt = false
                case "virtual_ipaddress":
                    instance.virtualAddresses = (setting.block ?? []).map {
                        String($0.keyword.split(separator: "/")[0])
                    }
                case "track_script":
                    for tracked in setting.block ?? [] {
                        guard var script = scripts[tracked.keyword] else {
                            throw HALabError.badLabFile(file: file, line: tracked.line,
                                                        message: "track_script names '\(tracked.keyword)', which no vrrp_script defines")
                        }
                        if tracked.arguments.first == "weight", tracked.arguments.count > 1, let weight = Int(tracked.arguments[1]) {
                            script.weight = weight
                        }
                        instance.trackedScripts.append(script)
                    }
                default: break
                }
            }
            guard instance.virtualRouterID > 0 else {
                throw HALabError.badLabFile(file: file, line: item.line, message: "vrrp_instance \(instance.name) has no virtual_router_id")
            }
            instances.append(instance)
        }
        return instances
    }

    static func argument(_ item: ConfigItem, file: String) throws -> String {
        guard let value = item.arguments.first else {
            throw HALabError.badLabFile(file: file, line: item.line, message: "'\(item.keyword)' needs a value")
        }
        return value
    }

    static func number(_ item: ConfigItem, file: String) throws -> Double {
        guard let value = Double(try argument(item, file: file)) else {
            throw HALabError.badLabFile(file: file, line: item.line, message: "'\(item.keyword)' needs a number, not '\(item.arguments[0])'")
        }
        return value
    }
}

/// A VIP and the instances that float it between nodes.
public struct VirtualAddress: Sendable, Equatable {
    public var address: String
    public var instances: [VRRPInstance]

    /// Where VRRP puts the VIP once every node is healthy: the highest priority wins
    /// (a tie goes to the higher primary address, which the caller passes per node).
    public func healthyHolder(primaryAddress: (String) -> UInt32) -> String? {
        instances.max { a, b in
            a.priority != b.priority ? a.priority < b.priority : primaryAddress(a.node) < primaryAddress(b.node)
        }?.node
    }

    /// The longest time VRRP may take to settle after one failure or recovery: the health
    /// check noticing it, then a backup's Master_Down_Interval, plus one advert to notice it.
    public var settleBound: Double {
        instances.map { instance in
            let check = instance.trackedScripts.map { $0.interval * Double(max($0.rise, $0.fall)) }.max() ?? 0
            let lowest = instances.map(\.priority).min() ?? instance.priority
            let lowered = max(1, lowest + min(0, instance.trackedScripts.map(\.weight).min() ?? 0))
            return check + instance.masterDownInterval(priority: lowered) + instance.advertInterval
        }.max() ?? 0
    }

    public static func group(_ instances: [VRRPInstance]) -> [VirtualAddress] {
        var result: [VirtualAddress] = []
        for instance in instances {
            for address in instance.virtualAddresses {
                if let index = result.firstIndex(where: { $0.address == address }) {
                    result[index].instances.append(instance)
                } else {
                    result.append(VirtualAddress(address: address, instances: [instance]))
                }
            }
        }
        return result
    }
}
