import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// What `halab verify` found: per step, the action and each expectation's outcome.
public struct VerifyReport: Sendable, Codable {
    public var lab: String
    public var backend: String
    public var seconds: Double
    public var steps: [StepResult]
    /// The probe's mean gap between requests to one VIP, when a probe ran (`--timeline`).
    public var probeInterval: Double?
    /// The probe's record; kept out of the JSON report (it has its own file).
    public var samples: [ProbeSample] = []
    public var passed: Bool { steps.allSatisfy(\.passed) }

    enum CodingKeys: String, CodingKey { case lab, backend, seconds, steps, probeInterval }

    public struct StepResult: Sendable, Codable {
        public var name: String
        public var action: String?
        /// When the action was begun (seconds since the epoch), and how long it took.
        public var at: Double = 0
        public var took: Double = 0
        /// What the probe saw around the action, per VIP, with the timers' bound.
        public var outages: [OutageMeasurement]?
        /// Set when the action itself failed.
        public var actionError: String?
        /// The model's bound for the action and its expected holder per VIP (nil: no single one).
        var predicted: (bound: Double, holders: [String?])?

        enum CodingKeys: String, CodingKey { case name, action, at, took, outages, actionError, seconds, checks, logs }
        public var seconds: Double
        public var checks: [CheckResult]
        /// The last keepalived log lines of the lab's nodes, kept when the step failed.
        public var logs: [String: [String]]?
        public var passed: Bool { actionError == nil && checks.allSatisfy(\.passed) }
    }

    public struct CheckResult: Sendable, Codable {
        public var expected: String
        public var seen: String
        public var passed: Bool
        /// Seconds from the step's action until the expectation held.
        public var heldAfter: Double
        public var deadline: Double
    }
}

/// Runs a lab's scenario against the running lab: each step's action, then each expectation
/// polled until it holds or its deadline (from the configs' VRRP timers) passes.
public enum Verifier {
    /// With `probe`, halab-probe runs from the client node through the whole scenario, and each
    /// action's outage is measured from its record.
    public static func run(_ session: LabSession, backend name: String, probe: Bool = false,
                           progress: @escaping @Sendable (String) -> Void) async throws -> VerifyReport {
        guard probe else { return try await steps(session, backend: name, progress: progress) }
        let stop = StopSignal()
        let addresses = session.lab.virtualAddresses.map(\.address)
        let client = try session.client()
        async let record = session.backend.probe(session.lab.name, node: client, addresses: addresses, interval: 10,
                                                 seconds: 3600, until: { await stop.wait() })
        try await Task.sleep(for: .seconds(1))  // a baseline before the first action
        var report: VerifyReport
        do {
            report = try await steps(session, backend: name, progress: progress)
        } catch {
            await stop.fire()
            _ = try? await record
            throw error
        }
        try await Task.sleep(for: .seconds(1))
        await stop.fire()
        report.samples = ProbeSample.parse(try await record)
        measureOutages(&report, session: session)
        return report
    }

    static func steps(_ session: LabSession, backend name: String,
                      progress: @escaping @Sendable (String) -> Void) async throws -> VerifyReport {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = session.lab.settleBound + slack
        var report = VerifyReport(lab: session.lab.name, backend: name, seconds: 0, steps: [])
        var model = session.lab.vrrpModel()
        for step in session.lab.scenario.steps {
            let before = model
            var bound = 0.0
            for event in step.action?.modelEvents(nodes: session.lab.topology.nodes.map(\.name)) ?? [] {
                bound = max(bound, model.apply(event))
            }
            let expectations = step.expectsModel
                ? try expectations(from: model, before: before, client: try session.client(), window: session.lab.settleBound)
                : step.expectations
            let stepStart = clock.now
            var result = VerifyReport.StepResult(name: step.name, action: step.action?.description, actionError: nil,
                                                 seconds: 0, checks: [], logs: nil)
            progress("▶ \(step.name)" + (step.action.map { " — \($0)" } ?? ""))
            result.at = Date().timeIntervalSince1970
            result.predicted = (bound, model.virtualAddresses.map { address in
                let holders = model.holders(of: address)
                return holders.count == 1 && model.canServe(holders[0]) ? holders[0] : nil
            })
            do {
                switch step.action {
                case .run(let node, let command)?:
                    let output = try await session.backend.exec(session.lab.name, node: node, ["/bin/sh", "-c", command])
                    if !output.succeeded {
                        result.actionError = "'\(command)' on \(node) exited \(output.exitCode): \(output.output)\(output.errorOutput)"
                    }
                    result.took = Date().timeIntervalSince1970 - result.at
                case .chaos(let action)?:
                    result.took = try await session.perform(action) - result.at
                case nil: break
                }
            } catch let error as HALabError {
                result.actionError = error.description
            }
            if result.actionError == nil {
                for expectation in expectations {
                    let deadline = expectation.deadline ?? deadline
                    let outcome = try await session.await(expectation, deadline: deadline)
                    result.checks.append(.init(expected: expectation.description, seen: outcome.seen,
                                               passed: outcome.passed, heldAfter: outcome.elapsed, deadline: deadline))
                    progress(outcome.passed
                        ? "  ✓ \(expectation) (held after \(String(format: "%.2f", outcome.elapsed)) s, deadline \(String(format: "%.1f", deadline)) s)"
                            + (expectation.mix == nil ? "" : "\n      seen: \(outcome.seen)")
                        : "  ✗ \(expectation)\n      seen: \(outcome.seen) after \(String(format: "%.1f", outcome.elapsed)) s")
                }
            } else {
                progress("  ✗ action failed: \(result.actionError!)")
            }
            if !result.passed {
                result.logs = Dictionary(uniqueKeysWithValues: session.keepalivedLogTails().map { ($0.node, $0.lines) })
                for (node, lines) in result.logs!.sorted(by: { $0.key < $1.key }) {
                    progress("    last keepalived log lines of \(node):")
                    lines.forEach { progress("      \($0)") }
                }
            }
            result.seconds = (clock.now - stepStart).seconds
            report.steps.append(result)
        }
        report.seconds = (clock.now - start).seconds
        return report
    }

    /// Each action's outage per VIP, from the probe's record: until the next action.
    static func measureOutages(_ report: inout VerifyReport, session: LabSession) {
        let addresses = session.lab.virtualAddresses.map(\.address)
        let end = report.samples.last?.start ?? 0
        for index in report.steps.indices where report.steps[index].action != nil {
            let step = report.steps[index]
            let until = report.steps.dropFirst(index + 1).first { $0.action != nil }?.at ?? end
            let (bound, expected) = step.predicted ?? (session.lab.settleBound, [])
            report.steps[index].outages = addresses.enumerated().map { offset, address in
                OutageMeasurement.measure(report.samples, address: address, faultAt: step.at, took: step.took, until: until,
                                          expected: offset < expected.count ? expected[offset] : nil, bound: bound)
            }
        }
        let gaps = report.steps.compactMap(\.outages).flatMap { $0 }.map(\.interval).filter { $0 > 0 }
        report.probeInterval = gaps.isEmpty ? nil : gaps.reduce(0, +) / Double(gaps.count)
    }

    /// The run as a timeline: faults in force as bands (from the action that made one to the
    /// one that took it off), keepalived's state changes as marks.
    public static func timeline(_ report: VerifyReport, session: LabSession) -> Timeline {
        let steps = session.lab.scenario.steps
        var bands: [Timeline.Band] = []
        let end = report.samples.last?.end ?? (report.steps.last?.at ?? 0)
        for (index, step) in steps.enumerated() {
            guard let action = step.action, action.injures, index < report.steps.count else { continue }
            let healer = steps.indices.dropFirst(index + 1).first { steps[$0].action?.heals(action) == true }
            let to = healer.flatMap { $0 < report.steps.count ? report.steps[$0].at : nil } ?? end
            bands.append(Timeline.Band(label: action.description, from: report.steps[index].at, to: to))
        }
        let marks = session.lab.topology.nodes.filter { $0.services.contains("keepalived") }.flatMap { node in
            KeepalivedLog.stateChanges(session.backend.readFile(session.lab.name, node: node.name, path: "/var/log/keepalived.log") ?? "",
                                       node: node.name)
        }.filter { $0.time >= (report.samples.first?.start ?? 0) - 1 }
        return Timeline(title: "halab verify \(report.lab)", addresses: session.lab.virtualAddresses.map(\.address),
                        samples: report.samples, steps: report.steps.map { ($0.name, $0.at) },
                        bands: bands, marks: marks)
    }

    /// What the model predicts, as checks: each VIP on its predicted holders (where the model
    /// predicts no move, throughout the time a move would take), and a client's curl answered
    /// by the holder, or failing where the holder cannot serve.
    static func expectations(from model: VRRPModel, before: VRRPModel, client: String, window: Double) throws -> [Scenario.Expectation] {
        model.virtualAddresses.flatMap { address -> [Scenario.Expectation] in
            let url = "http://\(address)"
            let holders = model.holders(of: address)
            let unchanged = Set(holders) == Set(before.holders(of: address))
            let held = Scenario.Expectation(url: url, from: client, holders: holders, holdFor: unchanged ? window : nil)
            // Two holders (split brain): which one a client reaches is up to its ARP cache.
            guard holders.count <= 1 else { return [held] }
            var curl = holders.count == 1 && model.canServe(holders[0])
                ? Scenario.Expectation(url: url, from: client, status: 200, body: holders[0])
                : Scenario.Expectation(url: url, from: client, fails: true)
            // After a split brain heals, the master that stays sends no gratuitous ARP (it never
            // stopped being master), so a client that learnt the other node's MAC keeps sending
            // there until its neighbour entry expires and is probed out.
            if before.holders(of: address).count > 1 { curl.deadline = slack + arpRecovery }
            return [held, curl]
        }
    }

    /// The longest a Linux client keeps using a neighbour entry that went bad, with the
    /// kernel's defaults: reachable for up to 1.5 × base_reachable_time (30 s), then
    /// delay_first_probe_time (5 s), then ucast_solicit (3) probes retrans_time (1 s) apart.
    public static let arpRecovery = 1.5 * 30 + 5 + 3 * 1.0

    /// Added to the VRRP timer bound: a node's boot on revive and the processes' own start.
    public static let slack = 2.0
}
