import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// Runs a lab's scenario against the running lab: each step's action, then each expectation
/// polled until it holds or its deadline (from the configs' VRRP timers) passes.
public enum Verifier {
    /// With `probe`, halab-probe runs from the client node through the whole scenario, and each
    /// action's outage is measured from its record.
    /// `afterStep` runs once each step has been judged, before the next one's action. With
    /// `invariants` (the default), the lab is looked at through the run and the probe runs too,
    /// and each step is judged by the invariants once the run is over. Under the scenario's load,
    /// a second probe sends it, and each step's requests are counted and judged once it is over.
    public static func run(
        _ session: LabSession, probe: Bool = false, invariants: Bool = true,
        progress: @escaping @Sendable (String) -> Void,
        afterStep: (@Sendable (VerifyReport.StepResult) async throws -> Void)? = nil
    ) async throws -> VerifyReport {
        guard probe || invariants || session.lab.scenario.load != nil else {
            return try await steps(session, progress: progress, afterStep: afterStep)
        }
        var report: VerifyReport?
        var looks: [LabLook] = []
        var samples: [ProbeSample] = []
        let addresses = session.lab.virtualAddresses.map(\.address)
        let probed = {
            samples = try await session.probing(addresses, seconds: 3600, alsoFrom: session.lab.otherClients[...]) {
                (report, looks) = try await session.looking {
                    try await Task.sleep(for: .seconds(1))  // a baseline before the first action
                    let report = try await steps(session, progress: progress, afterStep: afterStep)
                    try await Task.sleep(for: .seconds(1))
                    return report
                }
            }
        }
        // The load is a second halab-probe at the load's rate: the outages stay the probe's.
        let load = session.lab.scenario.load
        var loadSamples: [ProbeSample] = []
        if let load {
            loadSamples = try await session.probing(addresses, every: load.interval, seconds: 3600, during: probed)
        } else {
            try await probed()
        }
        report!.samples = samples
        measureOutages(&report!, session: session)
        if !session.lab.otherClients.isEmpty { printOutages(report!, progress: progress) }
        judgeBudgets(&report!, scenario: session.lab.scenario, progress: progress)
        if load != nil {
            report!.loadSamples = loadSamples
            measureLoad(&report!, samples: loadSamples, scenario: session.lab.scenario, progress: progress)
        }
        if invariants { judgeInvariants(&report!, looks: looks, session: session, progress: progress) }
        return report!
    }

    /// Each step's invariants, over the looks and the probe's record until the next step.
    static func judgeInvariants(
        _ report: inout VerifyReport, looks: [LabLook], session: LabSession, progress: @Sendable (String) -> Void
    ) {
        let macs = Dictionary(
            session.lab.topology.nodes.flatMap { node in
                ((try? session.lab.topology.macAddresses(of: node.name)) ?? []).map { ($0, node.name) }
            },
            uniquingKeysWith: { first, _ in first })
        let end = max(looks.last?.time ?? 0, report.samples.last?.end ?? 0)
        for index in report.steps.indices {
            guard var model = report.steps[index].model else { continue }
            model.end = index + 1 < report.steps.count ? report.steps[index + 1].at : end
            let accept = session.lab.scenario.steps[index].accept
            let found = Invariants.judge(
                model, looks: looks, samples: report.samples, macs: macs, vantages: session.lab.vantages)
            report.steps[index].violations = found.filter { !accept.contains($0.invariant) }
            report.steps[index].accepted = found.filter { accept.contains($0.invariant) }
            for violation in report.steps[index].violations {
                progress(
                    "  ✗ invariant \(violation.invariant.rawValue) broken in '\(report.steps[index].name)': "
                        + "\(violation.summary)"
                )
            }
            for violation in report.steps[index].accepted {
                progress(
                    "  (accepted) \(violation.invariant.rawValue) in '\(report.steps[index].name)': "
                        + "\(violation.summary)"
                )
            }
        }
    }

    static func steps(
        _ session: LabSession, progress: @escaping @Sendable (String) -> Void,
        afterStep: (@Sendable (VerifyReport.StepResult) async throws -> Void)?
    ) async throws -> VerifyReport {
        let clock = ContinuousClock()
        let start = clock.now
        var report = VerifyReport(lab: session.lab.name, backend: session.backend.kind, seconds: 0, steps: [])
        var worlds = VRRPWorlds(try await session.startedModel())
        var following = ModelFollowing()
        for step in session.lab.scenario.steps {
            let before = worlds
            // Loss may have split the brain unseen by the model: its heal may leave a stale ARP entry.
            let wasLossy = !following.lossy.isEmpty
            let blind = following.blind(after: step.action, nodes: session.lab.topology.nodes.map(\.name))
            var bound = 0.0
            // A step of several events (a flap) may move a VIP and back: then it is not held
            // throughout, and each move on the way is one the step explains.
            var moves: [String: Int] = [:]
            // The longest outage clients may see: a master preempted while it still serves hands over at once.
            var outage = 0.0
            for event in step.action?.modelEvents(nodes: session.lab.topology.nodes.map(\.name)) ?? [] {
                let previous = worlds
                let eventBound = worlds.apply(event)
                bound = max(bound, eventBound)
                if !worlds.handsOverAtOnce(from: previous) { outage = max(outage, eventBound) }
                for address in worlds.virtualAddresses
                where worlds.holders(of: address) != previous.holders(of: address) {
                    moves[address, default: 0] += 1
                }
            }
            let moved = Set(moves.keys)
            let model = worlds.model
            let unpredicted = model.virtualAddresses.compactMap { address in
                worlds.dependence(of: address).map { (address, $0) }
            }
            let expectations =
                step.expected == .model
                ? try expectations(
                    from: worlds, before: before, client: try session.client(), window: session.lab.settleBound,
                    splitBrainMayEnd: wasLossy, moved: moved)
                : step.expected.listed.map { ($0, nil) }
            let stepStart = clock.now
            let stalledAtStart = CPUPressure.stalled()
            var result = VerifyReport.StepResult(name: step.name, action: step.action?.description)
            progress("▶ \(step.name)" + (step.action.map { " — \($0)" } ?? ""))
            result.predicted = (
                bound,
                session.lab.virtualAddresses.map(\.address).map { address in
                    let holders = worlds.holders(of: address) ?? []
                    return holders.count == 1 && worlds.model(for: address).canServe(holders[0], address: address)
                        ? holders[0] : nil
                }
            )
            result.predictedOutage = outage
            result.unpredicted = unpredicted.map { "\($0.0) depends on \($0.1)" }
            let races = model.takeoverRaces(from: before.model)
            for address in races.sorted() {
                progress(
                    "  ? \(address): two backups' timers run out close together; both may be master for a moment, and "
                        + "a stale ARP entry may follow"
                )
            }
            for line in result.unpredicted { progress("  ? \(line): the model predicts nothing of it here") }
            let held = try await holdingConnections(
                for: step, session: session, worlds: worlds, before: before, moved: moved, actionAt: { result.at },
                progress: progress
            ) {
                result.at = Date().timeIntervalSince1970
                if let action = step.action {
                    do { result.took = try await perform(action, session: session) - result.at } catch let error
                        as HALabError
                    {
                        result.actionError = error.description
                    }
                }
                result.model = StepModel(
                    step, model: model, before: before.model, bound: bound, start: result.at + result.took,
                    blind: blind,
                    unpredicted: Set(unpredicted.map(\.0)), races: races, sightRestored: wasLossy && !blind,
                    moves: moves,
                    slower: session.backend.startAllowance)
                if let error = result.actionError {
                    progress("  ✗ action failed: \(error)")
                } else {
                    result.checks = try await check(
                        expectations, session: session,
                        settleBound: session.lab.settleBound(after: step.action?.chaosEquivalent),
                        progress: progress)
                }
            }
            result.connections = held
            if !result.passed {
                result.logs = Dictionary(uniqueKeysWithValues: session.keepalivedLogTails().map { ($0.node, $0.lines) })
                for (node, lines) in result.logs!.sorted(by: { $0.key < $1.key }) {
                    progress("    last keepalived log lines of \(node):")
                    lines.forEach { progress("      \($0)") }
                }
            }
            // Where the worlds differ, the run is in the one whose holders it sees.
            if worlds.isUncertain {
                worlds.keep(
                    matching: Dictionary(
                        uniqueKeysWithValues: try await session.vipHolders().map { ($0.address, $0.nodes) }))
            }
            result.seconds = (clock.now - stepStart).seconds
            result.cpuWait = CPUPressure.share(from: stalledAtStart, to: CPUPressure.stalled(), seconds: result.seconds)
            report.steps.append(result)
            try await afterStep?(result)
        }
        report.seconds = (clock.now - start).seconds
        return report
    }

    /// Makes a step's action; returns when it was in place (seconds since the epoch).
    static func perform(_ action: Scenario.Action, session: LabSession) async throws -> Double {
        switch action {
        case .run(let node, let command):
            let output = try await session.backend.exec(session.lab.name, node: node, ["/bin/sh", "-c", command])
            guard output.succeeded else {
                throw HALabError.commandFailed(
                    command: "'\(command)' on \(node)", status: "exit \(output.exitCode)",
                    output: output.output + output.errorOutput)
            }
            return Date().timeIntervalSince1970
        case .chaos(let action):
            return try await session.perform(action)
        case .write(let node, let path, let content):
            try await install(content + "\n", at: path, on: node, session: session)
            return Date().timeIntervalSince1970
        case .rollout(let rollout):
            try await install(rollout.content, at: rollout.path, on: rollout.node, session: session)
            return try await session.perform(rollout.then)
        }
    }

    /// Writes a file in a node, its folder made if need be.
    static func install(_ content: String, at path: String, on node: String, session: LabSession) async throws {
        let script = #"mkdir -p "$(dirname "$2")" && printf '%s' "$1" > "$2""#
        let output = try await session.backend.exec(
            session.lab.name, node: node, ["/bin/sh", "-c", script, "write", content, path])
        guard output.succeeded else {
            throw HALabError.commandFailed(
                command: "write \(path) on \(node)", status: "exit \(output.exitCode)", output: output.errorOutput)
        }
    }

    /// Awaits each expectation until its deadline: its own, else `settleBound` + `slack`.
    static func check(
        _ expectations: [(Expectation, deadline: Double?)], session: LabSession, settleBound: Double,
        progress: @Sendable (String) -> Void
    ) async throws -> [VerifyReport.CheckResult] {
        var checks: [VerifyReport.CheckResult] = []
        for (expectation, ownDeadline) in expectations {
            let deadline = ownDeadline ?? settleBound + slack
            let outcome = try await ExpectationEngine(session: session).await(expectation, deadline: deadline)
            checks.append(
                .init(
                    expected: expectation, seen: outcome.seen, passed: outcome.passed,
                    heldAfter: outcome.elapsed, deadline: deadline))
            let isMix = if case .mix = expectation { true } else { false }
            progress(
                outcome.passed
                    ? "  ✓ \(expectation) (held after \(String(format: "%.2f", outcome.elapsed)) s, deadline "
                        + "\(String(format: "%.1f", deadline)) s)"
                        + (isMix ? "\n      seen: \(outcome.seen)" : "")
                    : "  ✗ \(expectation)\n      seen: \(outcome.seen) after "
                        + "\(String(format: "%.1f", outcome.elapsed)) s"
            )
        }
        return checks
    }

    /// Each step with a budget (`max-outage`): every VIP's outage after its action, measured by
    /// the probe, must be within it.
    static func judgeBudgets(_ report: inout VerifyReport, scenario: Scenario, progress: @Sendable (String) -> Void) {
        for index in report.steps.indices where index < scenario.steps.count {
            guard let budget = scenario.steps[index].maxOutage else { continue }
            let busy = report.steps[index].cpuWait.map {
                String(format: "; some task of this machine waited for a CPU %.0f %% of the step", $0 * 100)
            }
            report.steps[index].overBudget = (report.steps[index].outages ?? []).compactMap {
                $0.overBudget(budget).map { $0 + (busy ?? "") }
            }
            for over in report.steps[index].overBudget {
                progress("  ✗ over the outage budget in '\(report.steps[index].name)': \(over)")
            }
        }
    }

    /// The run as a timeline: faults in force as bands (from the action that made one to the
    /// one that took it off); each node's instances as lanes when the run's adverts or address
    /// events are given, else keepalived's state changes as marks.
    public static func timeline(
        _ report: VerifyReport, session: LabSession, adverts: [VRRPAdvert] = [],
        addressEvents: [AddressEvent] = []
    ) -> Timeline {
        let steps = session.lab.scenario.steps
        var bands: [Timeline.Band] = []
        var down: [(node: String, span: NodeLane.Span)] = []
        let start = report.samples.first?.start ?? (report.steps.first?.at ?? 0)
        let end = report.samples.last?.end ?? (report.steps.last?.at ?? 0)
        for (index, step) in steps.enumerated() {
            guard let action = step.action, action.injures, index < report.steps.count else { continue }
            let healer = steps.indices.dropFirst(index + 1).first { steps[$0].action?.heals(action) == true }
            let to = healer.flatMap { $0 < report.steps.count ? report.steps[$0].at : nil } ?? end
            bands.append(Timeline.Band(label: action.description, from: report.steps[index].at, to: to))
            if case .kill(let node) = action.chaosEquivalent {
                down.append((node, NodeLane.Span(from: report.steps[index].at + report.steps[index].took, to: to)))
            }
        }
        let marks = session.keepalivedNodes.flatMap { node in
            KeepalivedLog.stateChanges(session.keepalivedLog(of: node) ?? "", node: node)
        }
        var lanes: [NodeLane] = []
        if !adverts.isEmpty || !addressEvents.isEmpty {
            let addresses = Dictionary(
                uniqueKeysWithValues: session.lab.topology.nodes.map { node in
                    (node.name, Set(node.addresses))
                })
            let evidence = LaneEvidence(
                logMarks: marks, addressEvents: addressEvents, adverts: adverts, addresses: addresses, down: down)
            lanes = evidence.lanes(session.lab.instances, from: start, to: end)
        }
        // A lane per address and vantage point.
        let labels = session.lab.vantages.flatMap { vantage in
            session.lab.addresses(seenFrom: vantage).map { ProbeSample.label($0, from: vantage) }
        }
        let samples = report.samples.map { sample in
            var sample = sample
            sample.address = sample.label
            return sample
        }
        return Timeline(
            title: "halab verify \(report.lab)", addresses: labels, samples: samples,
            steps: report.steps.map { ($0.name, $0.at) },
            bands: bands, marks: marks.filter { $0.time >= start - 1 }, lanes: lanes, load: report.loadSamples)
    }

    /// What the model predicts, as checks: each VIP on its predicted holders (where the model
    /// predicts no move, throughout the time a move would take), and a client's curl answered
    /// by the holder, or failing where the holder cannot serve; with a deadline of their own
    /// where the client's ARP cache, not VRRP, decides.
    /// `moved`: the VIPs the step moved on the way, even where it ends with their holders as before.
    static func expectations(
        from worlds: VRRPWorlds, before: VRRPWorlds, client: String, window: Double, splitBrainMayEnd: Bool = false,
        moved: Set<String> = []
    ) throws
        -> [(Expectation, deadline: Double?)]
    {
        worlds.virtualAddresses.flatMap { address -> [(Expectation, deadline: Double?)] in
            // A VIP the model cannot predict gets no expectation.
            guard let holders = worlds.holders(of: address) else { return [] }
            let request = Request(address: address, from: client)
            let unchanged = Set(holders) == Set(before.holders(of: address) ?? []) && !moved.contains(address)
            let held = (
                Expectation.holders(vip: address, nodes: holders, throughout: unchanged ? window : nil),
                deadline: Double?.none
            )
            // Two holders (split brain): which one a client reaches is up to its ARP cache.
            guard holders.count <= 1 else { return [held] }
            let curl: Expectation =
                holders.count == 1 && worlds.model(for: address).canServe(holders[0], address: address)
                ? .answer(request, status: 200, body: holders[0]) : .fails(request)
            // After a split brain heals, the master that stays sends no gratuitous ARP (it never
            // stopped being master), so a client that learnt the other node's MAC keeps sending
            // there until its neighbour entry expires and is probed out.
            return [
                held,
                (curl, (before.holders(of: address) ?? []).count > 1 || splitBrainMayEnd ? slack + arpRecovery : nil)
            ]
        }
    }

    /// The longest a Linux client keeps using a neighbour entry that went bad, with the
    /// kernel's defaults: reachable for up to 1.5 × base_reachable_time (30 s), then
    /// delay_first_probe_time (5 s), then ucast_solicit (3) probes retrans_time (1 s) apart.
    public static let arpRecovery = 1.5 * 30 + 5 + 3 * 1.0

    /// Added to the VRRP timer bound: a node's boot on revive and the processes' own start.
    public static let slack = 2.0
}
