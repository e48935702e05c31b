import Foundation
import Synchronization
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

/// A backend in memory, for the scenario layer's tests without root: nodes that carry
/// addresses, services that run or are stopped, and a script that moves the VIPs after what
/// halab does (`react`). curl, the probe, rc-service and keepalived's dump are answered from
/// that state: a client's curl of a VIP is answered with the holder's name while the holder
/// serves (runs, and neither it nor its nginx is stopped or frozen). A network fault goes
/// through its FaultPlan as on the real backends: the plan's steps are kept, freezes honoured.
final class FakeBackend: LabBackend, FaultExecuting {
    struct World: Sendable {
        var holders: [String: [String]] = [:]
        var down: Set<String> = []
        var stopped: [String: Set<String>] = [:]
        var faults: [NetworkFault] = []
        /// Files nodes wrote (logs), by node and path.
        var files: [String: [String: String]] = [:]
        /// keepalived's SIGUSR1 dump per node; none: keepalived is not running.
        var dumps: [String: String] = [:]
        /// The steps of every fault plan executed, in order.
        var planSteps: [FaultPlan.Step] = []
        var frozen: Set<String> = []
        var frozenPrograms: [String: Set<String>] = [:]

        func serves(_ node: String) -> Bool {
            !down.contains(node) && !frozen.contains(node) && !(stopped[node] ?? []).contains("nginx")
                && !(frozenPrograms[node] ?? []).contains("nginx")
        }

        /// Who answers `vip`: its first holder, while it serves.
        func answerer(_ vip: String) -> String? { holders[vip]?.first.flatMap { serves($0) ? $0 : nil } }
    }

    /// What halab did to the lab, as the script sees it.
    enum Event: Sendable, Equatable {
        case exec(node: String, [String])
        case crash(String), revive(String)
        case inject(NetworkFault), heal(NetworkFault)
    }

    /// After an event: a change to the world, made `after` later (VRRP's timers).
    struct Reaction: Sendable {
        var after: Duration
        var change: @Sendable (inout World) -> Void
    }

    let topology: LabTopology
    /// The world, and the reactions not yet due: each is applied at the first look after it is
    /// due, so the fake's timing does not hang on a task being scheduled (the test runner's
    /// threads may all be busy).
    let state: Mutex<(world: World, pending: [(due: ContinuousClock.Instant, change: @Sendable (inout World) -> Void)])>
    let react: @Sendable (Event, World) -> Reaction?
    let started = Mutex(false)

    init(topology: LabTopology, world: World, react: @escaping @Sendable (Event, World) -> Reaction? = { _, _ in nil })
    {
        self.topology = topology
        self.state = Mutex((world, []))
        self.react = react
    }

    /// A fake whose VIPs follow halab's VRRP model of `lab`, `after` each event.
    static func following(_ lab: Lab, after: Duration = .milliseconds(300)) -> FakeBackend {
        let model = Mutex(lab.vrrpModel())
        var initial = World()
        for address in lab.virtualAddresses.map(\.address) {
            initial.holders[address] = model.withLock { $0.holders(of: address) }
        }
        let nodes = lab.topology.nodes.map(\.name)
        return FakeBackend(topology: lab.topology, world: initial) { event, _ in
            let fault: Fault? =
                switch event {
                case .exec(let node, let command) where command.first == "rc-service" && command.count == 3:
                    serviceFault(command[1], verb: command[2], node: node)
                case .crash(let node): .kill(node: node)
                case .revive(let node): .revive(node: node)
                // Network faults: the fake's model does not follow them.
                case .exec, .inject, .heal: nil
                }
            guard let events = fault?.events(nodes: nodes), !events.isEmpty else { return nil }
            let holders = model.withLock { model in
                for event in events { model.apply(event) }
                return Dictionary(uniqueKeysWithValues: model.virtualAddresses.map { ($0, model.holders(of: $0)) })
            }
            return Reaction(after: after) { $0.holders = holders }
        }
    }

    /// What `rc-service SERVICE VERB` is, as a fault; nil: a verb that changes nothing (status).
    static func serviceFault(_ service: String, verb: String, node: String) -> Fault? {
        switch verb {
        case "stop": .stopService(service, node: node)
        case "start": .startService(service, node: node)
        case "restart": .restartService(service, node: node)
        // A reload re-reads the config; halab reloads only keepalived.
        case "reload" where service == "keepalived": .reload(node: node)
        default: nil
        }
    }

    var kind: String { "fake" }
    var startAllowance: Double { 0 }

    func happened(_ event: Event) {
        guard let reaction = react(event, withWorld { $0 }) else { return }
        state.withLock { $0.pending.append((ContinuousClock.now + reaction.after, reaction.change)) }
    }

    /// The world as it is now: every reaction that is due applied first.
    func withWorld<T>(_ body: (inout World) -> T) -> T {
        state.withLock { state in
            let now = ContinuousClock.now
            for reaction in state.pending where reaction.due <= now { reaction.change(&state.world) }
            state.pending.removeAll { $0.due <= now }
            return body(&state.world)
        }
    }

    func labsUp() -> [String] { started.withLock { $0 } ? [topology.name] : [] }
    func source(of lab: String) throws -> String { throw HALabError.labNotUp(lab) }
    func up(_ topology: LabTopology, source: String, progress: @Sendable (String) -> Void) async throws {
        started.withLock { $0 = true }
    }
    func down(_ lab: String) async throws -> Bool {
        started.withLock { was in
            defer { was = false }; return was
        }
    }
    func topology(of lab: String) throws -> LabTopology { topology }

    func exec(_ lab: String, node: String, _ command: [String]) async throws -> CommandResult {
        guard isRunning(lab, node: node) else { throw HALabError.nodeNotRunning(node) }
        defer { happened(.exec(node: node, command)) }
        let now = withWorld { $0 }
        switch command.first {
        case "curl":
            let vip = Request(url: command.last ?? "", from: node).host
            guard let answerer = now.answerer(vip) else {
                return CommandResult(
                    exitCode: 7, output: "",
                    errorOutput: #"{"exitcode":7,"http_code":0,"errormsg":"Couldn't connect to server"}"# + "\n{}")
            }
            return CommandResult(
                exitCode: 0, output: "\(answerer)\n",
                errorOutput: #"{"exitcode":0,"http_code":200,"errormsg":null}"# + "\n" + #"{"server":["nginx"]}"#)
        case "rc-service" where command.count == 3:
            // As OpenRC answers: a reload or status of a stopped service fails, and changes nothing.
            let (service, verb) = (command[1], command[2])
            return withWorld { world in
                let running = !(world.stopped[node] ?? []).contains(service)
                switch verb {
                case "stop": world.stopped[node, default: []].insert(service)
                case "start", "restart": world.stopped[node]?.remove(service)
                case "reload", "status":
                    guard running else {
                        return CommandResult(exitCode: 3, output: "", errorOutput: " * \(service): not started\n")
                    }
                default: return CommandResult(exitCode: 1, output: "", errorOutput: "unknown verb \(verb)\n")
                }
                return CommandResult(exitCode: 0, output: " [ ok ]\n", errorOutput: "")
            }
        case "/bin/sh" where command.count == 6 && command[3] == "sample":
            let vip = Request(url: command[4], from: node).host
            let answers = (0..<(Int(command[5]) ?? 0)).map { _ in withWorld { $0.answerer(vip) } ?? "curl failed" }
            return CommandResult(exitCode: 0, output: answers.map { $0 + "\n" }.joined(), errorOutput: "")
        case "/bin/sh" where command.count == 3 && command[2].contains("keepalived.data"):
            guard let dump = now.dumps[node] else { return CommandResult(exitCode: 3, output: "", errorOutput: "") }
            return CommandResult(exitCode: 0, output: dump, errorOutput: "")
        case "/bin/sh" where command.count == 3 && command[2].hasPrefix("rc-service"):
            return try await exec(lab, node: node, command[2].split(separator: " ").map(String.init))
        default:
            return CommandResult(exitCode: 127, output: "", errorOutput: "\(command.first ?? ""): not found")
        }
    }

    func execAttached(_ lab: String, node: String, _ command: [String]) async throws -> Int32 {
        try await exec(lab, node: node, command).exitCode
    }

    func crash(_ lab: String, node: String) async throws -> Double {
        withWorld { _ = $0.down.insert(node) }
        happened(.crash(node))
        return Date().timeIntervalSince1970
    }

    func revive(_ lab: String, node: String) async throws {
        withWorld { world in
            world.down.remove(node)
            world.stopped[node] = []
        }
        happened(.revive(node))
    }

    func isRunning(_ lab: String, node: String) -> Bool { !withWorld { $0.down.contains(node) } }
    func processes(_ lab: String, node: String) -> [HostProcess] { [] }

    func addresses(_ lab: String, node: String) async throws -> [String] {
        let now = withWorld { $0 }
        guard !now.down.contains(node) else { return [] }
        let own = try topology.node(node).addressedInterfaces.map(\.address)
        return own + now.holders.filter { $0.value.contains(node) }.keys.sorted().map { "\($0)/24" }
    }

    func readFile(_ lab: String, node: String, path: String) -> String? { withWorld { $0.files[node]?[path] } }

    /// As the real backends: a fault in force already is left as it is.
    func inject(_ lab: String, _ fault: NetworkFault) async throws {
        guard !faults(lab).contains(fault) else { return }
        let plan = try FaultPlan(fault, topology: topology, on: true, switches: hasSwitches)
        try await execute(plan, lab: lab, topology: topology)
        withWorld { $0.faults.append(fault) }
        happened(.inject(fault))
    }

    func heal(_ lab: String, _ fault: NetworkFault) async throws {
        let plan = try FaultPlan(fault, topology: topology, on: false, switches: hasSwitches)
        try await execute(plan, lab: lab, topology: topology)
        withWorld { $0.faults.removeAll { $0 == fault } }
        happened(.heal(fault))
    }

    // The primitives of a fault plan: each step kept; a freeze stops a node's (or a program's) answers.
    var hasSwitches: Bool { true }

    func pullCable(_ lab: String, topology: LabTopology, node: String, interface: String, plugged: Bool) async throws {
        withWorld { $0.planSteps.append(.cable(node: node, interface: interface, plugged: plugged)) }
    }

    func runInNetwork(_ lab: String, _ place: FaultPlan.Place, _ command: [String], input: String?) async throws
        -> CommandResult
    {
        withWorld { world in
            if let input {
                world.planSteps.append(.nftables(place, script: input))
            } else if case .node(let node) = place {
                world.planSteps.append(.command(node: node, command))
            }
        }
        return CommandResult(exitCode: 0, output: "", errorOutput: "")
    }

    func freeze(_ lab: String, node: String, frozen: Bool) async throws {
        guard isRunning(lab, node: node) else { throw HALabError.nodeNotRunning(node) }
        withWorld { world in
            world.planSteps.append(.freeze(node: node, frozen: frozen))
            if frozen { world.frozen.insert(node) } else { world.frozen.remove(node) }
        }
    }

    func freeze(_ lab: String, node: String, program: String, frozen: Bool) async throws {
        guard isRunning(lab, node: node) else { throw HALabError.nodeNotRunning(node) }
        withWorld { world in
            world.planSteps.append(.freezeProgram(node: node, program: program, frozen: frozen))
            if frozen {
                world.frozenPrograms[node, default: []].insert(program)
            } else {
                world.frozenPrograms[node]?.remove(program)
            }
        }
    }

    func faults(_ lab: String) -> [NetworkFault] { withWorld { $0.faults } }

    func watchAddresses(_ lab: String, node: String, until stop: @escaping @Sendable () async -> Void) async throws
        -> [AddressEvent]
    {
        throw HALabError.unsupported("the fake backend has no kernel to watch")
    }

    func capture(
        _ lab: String, at point: CapturePoint, into path: String, until stop: @escaping @Sendable () async -> Void
    ) async throws {
        throw HALabError.unsupported("the fake backend has no wire to capture")
    }

    /// A probe of the fake world: each address looked at every `interval` ms, as halab-probe
    /// records it, until `stop` returns. It samples on a thread of its own, so its pace does not
    /// hang on the test runner's busy threads.
    func probe(
        _ lab: String, node: String, addresses: [String], interval: Double, connections: ProbeConnections,
        seconds: Int, until stop: @escaping @Sendable () async -> Void
    ) async throws -> [ProbeSample] {
        let record = Mutex<[ProbeSample]>([])
        let running = Mutex(true)
        let finished = DispatchSemaphore(value: 0)
        let sampler = Thread { [self] in
            defer { finished.signal() }
            while running.withLock({ $0 }) {
                let now = Date().timeIntervalSince1970
                let samples = addresses.compactMap { address -> ProbeSample? in
                    let answer = withWorld { $0.answerer(address) }
                    let fail = { (why: String) in
                        ProbeSample(start: now, end: now, address: address, status: 0, answer: why)
                    }
                    guard connections.isHeld else {
                        return answer.map {
                            .init(start: now, end: now + 0.001, address: address, status: 200, answer: $0)
                        }
                            ?? fail("refused")
                    }
                    // A held connection lives in its first answerer alone: another one resets it, and it is not
                    // made again.
                    let earlier = record.withLock { $0.filter { $0.address == address } }
                    guard earlier.allSatisfy(\.ok) else { return nil }
                    guard let first = earlier.first else {
                        return answer.map { .init(start: now, end: now, address: address, status: 200, answer: $0) }
                            ?? fail("refused")
                    }
                    return answer == first.answer
                        ? .init(start: now, end: now + 0.001, address: address, status: 200, answer: first.answer)
                        : fail("reset")
                }
                record.withLock { $0 += samples }
                // The held connections' first answers are in: the caller may act.
                if case .held(let ready) = connections { Task { await ready.fire() } }
                usleep(useconds_t(interval * 1000))
            }
        }
        sampler.start()
        await stop()
        running.withLock { $0 = false }
        finished.wait()  // its last look is in
        return record.withLock { $0 }
    }

    func leftovers(_ lab: String?, names: [String]?) async -> [String] { [] }
    func sweep(_ lab: String?, names: [String]?) async throws -> [String] { [] }

    func whenAddressAppears(_ lab: String, node: String, address: String) async throws -> ContinuousClock.Instant {
        throw HALabError.unsupported("not in the fake")
    }
}
