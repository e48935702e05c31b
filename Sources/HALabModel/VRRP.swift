/// Where a setting was written: messages name it.
public struct ConfigLocation: Sendable, Codable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var description: String { "\(file):\(line)" }
}

/// A `vrrp_script`: how a node's health check changes its priority.
public struct VRRPScript: Sendable, Equatable, Codable {
    public var name: String
    public var command: String
    /// Seconds between runs.
    public var interval: Double = 1
    public var weight: Int = 0
    public var rise: Int = 1
    public var fall: Int = 1
    public var location: ConfigLocation? = nil
}

/// One node's `vrrp_instance`.
public struct VRRPInstance: Sendable, Equatable, Codable {
    public var name: String
    public var node: String
    public var location: ConfigLocation
    public var virtualRouterID: Int = 0
    public var priority: Int = 100
    /// Seconds.
    public var advertInterval: Double = 1
    public var version: Int = 2
    public var initialState: String = "BACKUP"
    public var preempt = true
    public var preemptDelay: Double = 0
    public var interface = ""
    public var authType: String?
    public var authPass: String?
    /// Virtual addresses without prefix: `10.33.1.100`.
    public var virtualAddresses: [String] = []
    /// Tracked scripts with the weight in force (a `track_script` weight overrides the script's).
    public var trackedScripts: [VRRPScript] = []
    public var trackedInterfaces: [String] = []
    public var unicastSource: String?
    public var unicastPeers: [String] = []
    /// Where each keyword of the instance was written.
    public var settings: [String: ConfigLocation] = [:]

    /// RFC 3768 §6.1 (v2) and RFC 5798 §6.1 (v3).
    public func skewTime(priority: Int) -> Double {
        version == 3 ? Double(256 - priority) * advertInterval / 256 : Double(256 - priority) / 256
    }

    /// How long a backup at `priority` waits without adverts before it takes over.
    public func masterDownInterval(priority: Int) -> Double {
        3 * advertInterval + skewTime(priority: priority)
    }

    /// The priority while the scripts named in `failing` fail: weights applied, clamped to
    /// 1…254; 255 (an address owner) never changes. Nil when a failing script has weight 0
    /// (the instance goes to FAULT).
    public func effectivePriority(failing: Set<String>) -> Int? {
        guard priority < 255 else { return priority }
        var value = priority
        for script in trackedScripts {
            let fails = failing.contains(script.name)
            if fails && script.weight == 0 { return nil }
            if fails && script.weight < 0 { value += script.weight }
            if !fails && script.weight > 0 { value += script.weight }
        }
        return min(254, max(1, value))
    }
}

public struct VRRPSyncGroup: Sendable, Equatable, Codable {
    public var name: String
    public var instances: [String]
    public var location: ConfigLocation
}

/// What one node's keepalived.conf says, read with keepalived's keywords. Keywords halab
/// does not model are kept, with where they were written.
public struct KeepalivedNodeConfig: Sendable, Equatable {
    public var node: String
    public var routerID: String?
    public var routerIDLocation: ConfigLocation?
    public var scripts: [VRRPScript] = []
    public var instances: [VRRPInstance] = []
    public var syncGroups: [VRRPSyncGroup] = []
    public var notModelled: [(keyword: String, location: ConfigLocation)] = []

    public static func == (a: Self, b: Self) -> Bool {
        a.node == b.node && a.routerID == b.routerID && a.scripts == b.scripts && a.instances == b.instances
            && a.syncGroups == b.syncGroups && a.notModelled.map(\.keyword) == b.notModelled.map(\.keyword)
    }

    public static func read(node: String, file: String, source: KeepalivedConfig.Source) throws -> KeepalivedNodeConfig {
        var config = KeepalivedNodeConfig(node: node)
        let items = try KeepalivedConfig.parse(file: file, source: source)
        var defaultVersion = 2
        func note(_ item: ConfigItem) { config.notModelled.append((item.keyword, location(item))) }

        for item in items where item.keyword == "global_defs" {
            for setting in item.block ?? [] {
                switch setting.keyword {
                case "router_id":
                    config.routerID = try argument(setting)
                    config.routerIDLocation = location(setting)
                case "vrrp_version": defaultVersion = try version(setting)
                default: note(setting)
                }
            }
        }
        var scripts: [String: VRRPScript] = [:]
        for item in items where item.keyword == "vrrp_script" {
            var script = VRRPScript(name: try argument(item), command: "", location: location(item))
            for setting in item.block ?? [] {
                switch setting.keyword {
                case "script": script.command = setting.arguments.joined(separator: " ")
                case "interval": script.interval = try number(setting)
                case "weight": script.weight = Int(try number(setting))
                case "rise": script.rise = Int(try number(setting))
                case "fall": script.fall = Int(try number(setting))
                default: note(setting)
                }
            }
            scripts[script.name] = script
            config.scripts.append(script)
        }
        for item in items {
            switch item.keyword {
            case "global_defs", "vrrp_script": continue
            case "vrrp_instance": config.instances.append(try instance(item, node: node, scripts: scripts, defaultVersion: defaultVersion, note: note))
            case "vrrp_sync_group":
                let group = (item.block ?? []).first { $0.keyword == "group" }
                config.syncGroups.append(VRRPSyncGroup(name: try argument(item), instances: (group?.block ?? []).map(\.keyword),
                                                       location: location(item)))
            default: note(item)
            }
        }
        return config
    }

    static func instance(_ item: ConfigItem, node: String, scripts: [String: VRRPScript], defaultVersion: Int,
                         note: (ConfigItem) -> Void) throws -> VRRPInstance {
        var instance = VRRPInstance(name: try argument(item), node: node, location: location(item))
        instance.version = defaultVersion
        for setting in item.block ?? [] {
            instance.settings[setting.keyword] = location(setting)
            switch setting.keyword {
            case "state": instance.initialState = try argument(setting)
            case "interface": instance.interface = try argument(setting)
            case "virtual_router_id": instance.virtualRouterID = Int(try number(setting))
            case "priority": instance.priority = Int(try number(setting))
            case "advert_int": instance.advertInterval = try number(setting)
            case "version", "vrrp_version": instance.version = try version(setting)
            case "nopreempt": instance.preempt = false
            case "preempt_delay": instance.preemptDelay = try number(setting)
            case "unicast_src_ip": instance.unicastSource = try argument(setting)
            case "unicast_peer": instance.unicastPeers = (setting.block ?? []).map(\.keyword)
            case "track_interface": instance.trackedInterfaces = (setting.block ?? []).map(\.keyword)
            case "virtual_ipaddress":
                instance.virtualAddresses = (setting.block ?? []).map { String($0.keyword.split(separator: "/")[0]) }
            case "authentication":
                for auth in setting.block ?? [] {
                    if auth.keyword == "auth_type" { instance.authType = try argument(auth) }
                    if auth.keyword == "auth_pass" { instance.authPass = try argument(auth) }
                }
            case "track_script":
                for tracked in setting.block ?? [] {
                    guard var script = scripts[tracked.keyword] else {
                        throw ConfigError(file: tracked.file, line: tracked.line,
                                                    message: "track_script names '\(tracked.keyword)', which no vrrp_script defines")
                    }
                    if tracked.arguments.first == "weight", tracked.arguments.count > 1, let weight = Int(tracked.arguments[1]) {
                        script.weight = weight
                    }
                    instance.trackedScripts.append(script)
                }
            default: note(setting)  // garp_*, notify*, …: kept, reported, not modelled
            }
        }
        guard instance.virtualRouterID > 0 else {
            throw ConfigError(file: item.file, line: item.line, message: "vrrp_instance \(instance.name) has no virtual_router_id")
        }
        return instance
    }

    static func location(_ item: ConfigItem) -> ConfigLocation { ConfigLocation(file: item.file, line: item.line) }

    static func argument(_ item: ConfigItem) throws -> String {
        guard let value = item.arguments.first else {
            throw ConfigError(file: item.file, line: item.line, message: "'\(item.keyword)' needs a value")
        }
        return value
    }

    static func number(_ item: ConfigItem) throws -> Double {
        guard let value = Double(try argument(item)) else {
            throw ConfigError(file: item.file, line: item.line, message: "'\(item.keyword)' needs a number, not '\(item.arguments[0])'")
        }
        return value
    }

    static func version(_ item: ConfigItem) throws -> Int {
        let value = Int(try number(item))
        guard value == 2 || value == 3 else {
            throw ConfigError(file: item.file, line: item.line, message: "vrrp_version is 2 or 3, not \(value)")
        }
        return value
    }
}

/// A VIP and the instances that float it between nodes.
public struct VirtualAddress: Sendable, Equatable {
    public var address: String
    public var instances: [VRRPInstance]

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
