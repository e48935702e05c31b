/// A `vrrp_script`: how a node's health check changes its priority.
public struct VRRPScript: Sendable, Equatable, Codable {
    public var name: String
    public var command: String
    /// Seconds between runs.
    public var interval: Double = 1
    /// Seconds after which keepalived counts a run that has not ended as failed (its default: the interval).
    public var timeoutGiven: Double?
    public var timeout: Double { timeoutGiven ?? interval }
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
    public var initialState: InitialState = .backup
    public var preempt = true
    public var preemptDelay: Double = 0
    /// Adverts a backup misses before it takes over (`down_timer_adverts`; RFC: 3).
    public var downTimerAdverts = 3
    /// Seconds keepalived waits after it starts before it runs the node's instances (`vrrp_startup_delay`).
    public var startupDelay: Double = 0
    public var interface = ""
    public var authType: String?
    public var authPass: String?
    /// Virtual addresses without prefix: `10.33.1.100`, `fd00::100`; all of one family.
    public var virtualAddresses: [String] = []
    public var family: AddressFamily { virtualAddresses.first.map(AddressFamily.of) ?? .ipv4 }
    /// The prefix length the first VIP was given, if any.
    public var virtualPrefix: Int?
    /// Tracked scripts with the weight in force (a `track_script` weight overrides the script's).
    public var trackedScripts: [VRRPScript] = []
    public var trackedInterfaces: [TrackedInterface] = []
    public var trackedFiles: [TrackedFile] = []
    /// The commands keepalived runs as the instance enters a state: `notify_master`,
    /// `notify_backup`, `notify_fault`, `notify_stop`, by the role they follow.
    public var notify: [VRRPModel.Role: String] = [:]
    /// The `vrrp_sync_group` of its node it belongs to: its members move together.
    public var syncGroup: String?
    public var unicastSource: String?
    /// `skip_check_adv_addr`: a backup does not check the VIPs of adverts from the master it knows.
    public var skipsAddressCheck = false
    public var unicastPeers: [String] = []
    /// Where each keyword of the instance was written.
    public var settings: [String: ConfigLocation] = [:]

    /// RFC 3768 §6.1 (v2) and RFC 5798 §6.1 (v3).
    public func skewTime(priority: Int) -> Double {
        version == 3 ? Double(256 - priority) * advertInterval / 256 : Double(256 - priority) / 256
    }

    /// How long a backup at `priority` waits without adverts before it takes over:
    /// keepalived's VRRP_MS_DOWN_TIMER.
    public func masterDownInterval(priority: Int) -> Double {
        Double(downTimerAdverts) * advertInterval + skewTime(priority: priority)
    }

    /// How long this instance may take to become master, every delay its config sets counted:
    /// `detection` (its health checks noticing what changed), then vrrp_startup_delay where its
    /// keepalived just `started`, then Skew_Time where the master left with a priority-0 advert
    /// (else the Master_Down_Interval), then preempt_delay where it `preempts` a live master.
    /// The model's bound of each event and the settle bound of a VIP both come from here.
    /// (garp_master_delay delays the second burst of gratuitous ARPs, not the first: measured,
    /// it changes no outage.)
    public func takeoverTime(detection: Double, priority: Int, masterLeftCleanly: Bool, preempts: Bool, started: Bool)
        -> Double
    {
        detection + (started ? startupDelay + (preempts ? startupDelayPush : 0) : 0)
            + (masterLeftCleanly ? skewTime(priority: priority) : masterDownInterval(priority: priority))
            + (preempts ? preemptDelay : 0)
    }

    /// keepalived 2.2.7, started with a vrrp_startup_delay while a lower priority master
    /// advertises, puts its down timer back by what is left of the delay at every advert it
    /// discards during it (vrrp_init_instance_sands): at most Σ (delay − k × interval) over
    /// the adverts of the delay. Measured: delay 8 s, interval 1 s, it took over 46 s after it
    /// started (8 + 3.65 + 35.2), not 11.65 s.
    var startupDelayPush: Double {
        stride(from: 0, to: startupDelay, by: advertInterval).reduce(0) { $0 + startupDelay - $1 }
    }

    /// The priority while the scripts named in `failing` fail and the interfaces in `down` are
    /// down: weights applied (a negative one while failing, a positive one while healthy),
    /// clamped to 1…254; 255 (an address owner) never changes. Nil when a failing script or a
    /// down tracked interface has weight 0: the instance goes to FAULT.
    public func effectivePriority(failing: Set<String>, down: Set<String> = [], files: [String: Int] = [:]) -> Int? {
        let tracked =
            trackedScripts.map { ($0.weight, failing.contains($0.name)) }
            + trackedInterfaces.map { ($0.weight, down.contains($0.name)) }
        if tracked.contains(where: { $0.0 == 0 && $0.1 }) { return nil }
        let fileStatus = trackedFiles.map { $0.status(files[$0.path] ?? 0) }
        if fileStatus.contains(nil) { return nil }
        guard priority < 255 else { return priority }
        let value =
            tracked.reduce(priority) { sum, item in
                let (weight, failed) = item
                return sum + (failed && weight < 0 || !failed && weight > 0 ? weight : 0)
            } + fileStatus.compactMap { $0 }.reduce(0, +)
        return min(254, max(1, value))
    }
}

/// A `track_file` an instance tracks (keepalived.conf(5), "Track files"): the number in the file,
/// times the weight, goes on the priority (clamped to -254…253; -254 is FAULT); with weight 0,
/// any value but 0 is FAULT. A missing or empty file reads as 0.
public struct TrackedFile: Sendable, Equatable, Codable {
    public var name: String
    public var path: String
    /// The weight in force, its sign turned where `reverse` says so.
    public var weight: Int
    /// `init_file`: the value keepalived writes at start (nil: none), and whether over a file that exists.
    public var initValue: Int?
    public var overwrite = false

    /// What the file's value does to the priority; nil: FAULT.
    public func status(_ value: Int) -> Int? {
        guard weight != 0 else { return value == 0 ? 0 : nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: weight)
        let status = overflow ? ((value > 0) == (weight > 0) ? 253 : -254) : min(253, max(-254, product))
        return status == -254 ? nil : status
    }

    /// The number keepalived reads from the file's text (strtol, base 0): 0 for none.
    public static func number(in text: String) -> Int {
        let token = text.drop(while: \.isWhitespace).prefix { $0.isHexDigit || "xX+-".contains($0) }
        return LineReader.cLong(token) ?? 0
    }
}

/// A `track_interface` line: the interface, and the weight it was given (0: none).
public struct TrackedInterface: Sendable, Equatable, Codable {
    public var name: String
    public var weight: Int

    public init(name: String, weight: Int = 0) {
        self.name = name
        self.weight = weight
    }
}

/// `state MASTER` or `state BACKUP`: where an instance starts (keepalived 2.2.7 starts every
/// instance as BACKUP all the same; see `VRRPModel`).
public enum InitialState: String, Sendable, Codable {
    case master = "MASTER", backup = "BACKUP"
}

public enum AddressFamily: String, Sendable, Codable {
    case ipv4, ipv6

    static func of(_ address: String) -> AddressFamily { address.contains(":") ? .ipv6 : .ipv4 }

    /// The family of an address written without prefix; nil when it is none.
    public static func parse(_ address: String) -> AddressFamily? {
        IPAddress.parse(address).flatMap { $0.prefix == nil ? $0.family : nil }
    }
}

public struct VRRPSyncGroup: Sendable, Equatable, Codable {
    public var name: String
    public var instances: [String]
    public var location: ConfigLocation
    /// Tracked by every member.
    public var trackedScripts: [VRRPScript] = []
    /// `sync_group_tracking_weight`: members keep their tracking weights.
    public var trackingWeight = false
}

/// What one node's keepalived.conf says, read with keepalived's keywords. Keywords halab
/// does not model are kept, with where they were written.
public struct KeepalivedNodeConfig: Sendable, Equatable {
    public var node: String
    /// The main file, as findings name it.
    public var file: String?
    public var routerID: String?
    public var routerIDLocation: ConfigLocation?
    public var scripts: [VRRPScript] = []
    public var instances: [VRRPInstance] = []
    public var syncGroups: [VRRPSyncGroup] = []
    public var notModelled: [(keyword: String, location: ConfigLocation)] = []
    /// What reading it found wrong or odd, each with its file:line.
    public var findings: [Finding] = []

    public static func == (a: Self, b: Self) -> Bool {
        a.node == b.node && a.routerID == b.routerID && a.scripts == b.scripts && a.instances == b.instances
            && a.syncGroups == b.syncGroups && a.notModelled.map(\.keyword) == b.notModelled.map(\.keyword)
    }
}

/// A VIP and the instances that float it between nodes.
public struct VirtualAddress: Sendable, Equatable {
    public var address: String
    public var instances: [VRRPInstance]

    /// The longest time VRRP may take to settle after one failure or recovery, or a start: the
    /// slowest takeover (`VRRPInstance.takeoverTime`) of any of its instances — its checks'
    /// slowest detection, the lowest priority's Master_Down_Interval, a start's and a
    /// preemption's delays — plus one advert to notice it. After a service hangs, a check that
    /// waits on it fails only at its timeout: that counts too.
    public func settleBound(afterHang: Bool = false) -> Double {
        instances.map { instance in
            let detection =
                instance.trackedScripts.map {
                    $0.interval * Double(max($0.rise, $0.fall)) + (afterHang ? $0.timeout : 0)
                }.max() ?? 0
            let lowest = instances.map(\.priority).min() ?? instance.priority
            let lowered = max(1, lowest + min(0, instance.trackedScripts.map(\.weight).min() ?? 0))
            return instance.takeoverTime(
                detection: detection, priority: lowered, masterLeftCleanly: false, preempts: true, started: true)
                + instance.advertInterval
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
