import HALabSystem

/// A backend builds a topology and acts on its nodes. One protocol, so a lab runs the same
/// on namespaces or VMs.
public protocol LabBackend: Sendable {
    /// Its name, as `--backend` takes it and reports show it: namespaces, libvirt.
    var kind: String { get }
    /// Seconds beyond VRRP's own timers that a freshly booted lab may take to elect: its
    /// processes' start (slow in a software-emulated VM).
    var startAllowance: Double { get }
    /// Names of the labs that are up.
    func labsUp() -> [String]
    /// The lab folder a lab that is up was built from.
    func source(of lab: String) throws -> String
    func up(_ topology: LabTopology, source: String, progress: @Sendable (String) -> Void) async throws
    /// Removes everything the lab's journal names; idempotent. Returns false if nothing was up.
    @discardableResult func down(_ lab: String) async throws -> Bool
    func topology(of lab: String) throws -> LabTopology
    /// Runs a command inside a node and collects its output.
    func exec(_ lab: String, node: String, _ command: [String]) async throws -> CommandResult
    /// Runs a command inside a node on halab's own terminal; returns its exit code.
    func execAttached(_ lab: String, node: String, _ command: [String]) async throws -> Int32
    /// Every process of the node killed at once, its links dead: a power cut. Returns when the
    /// node was dark (seconds since the epoch), which may be well before the call returns.
    @discardableResult func crash(_ lab: String, node: String) async throws -> Double
    /// Boots a crashed node again in the same network namespace.
    func revive(_ lab: String, node: String) async throws
    func isRunning(_ lab: String, node: String) -> Bool
    func processes(_ lab: String, node: String) -> [HostProcess]
    /// IPv4 addresses (with prefix) on the node's lab interfaces.
    func addresses(_ lab: String, node: String) async throws -> [String]
    /// A file the node wrote (a log), read from the host; nil if it has none.
    func readFile(_ lab: String, node: String, path: String) -> String?
    /// Puts a fault on the lab and records it; `faults` lists it until `heal` takes it off.
    func inject(_ lab: String, _ fault: NetworkFault) async throws
    func heal(_ lab: String, _ fault: NetworkFault) async throws
    func faults(_ lab: String) -> [NetworkFault]
    /// Runs halab-probe in a node's network: an HTTP GET to each address every `interval`
    /// milliseconds, until `stop` returns or `seconds` pass, on new or held connections.
    /// Returns the probe's record.
    func probe(
        _ lab: String, node: String, addresses: [String], interval: Double, connections: ProbeConnections,
        seconds: Int,
        until stop: @escaping @Sendable () async -> Void
    ) async throws -> [ProbeSample]
    /// Captures the frames at `point` with tcpdump into the pcap file `path` (written as they
    /// arrive) until `stop` returns; the capture is running once the file has its header.
    func capture(
        _ lab: String, at point: CapturePoint, into path: String, until stop: @escaping @Sendable () async -> Void)
        async throws
    /// The node's addresses being added and deleted, as `ip -ts -o monitor address` prints them,
    /// until `stop` returns (across a crash and revival of the node).
    func watchAddresses(_ lab: String, node: String, until stop: @escaping @Sendable () async -> Void) async throws
        -> [AddressEvent]
    /// Waits until `address` is added to an interface of `node` (which may not exist yet) and
    /// returns when that happened: for timing VRRP itself in benchmarks.
    func whenAddressAppears(_ lab: String, node: String, address: String) async throws -> ContinuousClock.Instant
    /// What halab's naming convention says is the lab's (of every lab when `lab` is nil) and
    /// still exists, whether a journal names it or not: exactly its nodes' and segments' objects
    /// when `names` gives them, else every object named for the lab that no other lab up claims.
    func leftovers(_ lab: String?, names: [String]?) async -> [String]
    /// Removes those leftovers; returns what it removed.
    func sweep(_ lab: String?, names: [String]?) async throws -> [String]
}
