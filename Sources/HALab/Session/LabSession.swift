import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// A lab that is up: the loaded lab folder plus the backend that built it. Its parts live in
/// their own files: bringing it up (here), curls from its nodes (`Curl.swift`), looking at its
/// nodes (`Observation.swift`), breaking it (`ChaosRunner.swift`); expectations are judged by
/// `ExpectationEngine`.
public struct LabSession: Sendable {
    public let lab: Lab
    public let backend: any LabBackend

    public init(lab: Lab, backend: any LabBackend) {
        self.lab = lab
        self.backend = backend
    }

    /// The session of a lab that is up: the one named, or the only one. Every backend keeps
    /// its labs alike, so any finds them (`lookup`); `backendOf` says which one a lab runs on.
    public static func attach(_ name: String?, lookup: any LabBackend, backendOf: (String) -> any LabBackend) throws
        -> LabSession
    {
        let labsUp = lookup.labsUp()
        let chosen: String
        if let name {
            let labName = name.contains("/") ? URL(fileURLWithPath: name).lastPathComponent : name
            guard labsUp.contains(labName) else { throw HALabError.labNotUp(labName) }
            chosen = labName
        } else {
            guard labsUp.count == 1 else { throw HALabError.whichLab(up: labsUp) }
            chosen = labsUp[0]
        }
        let lab = try Lab.load(folder: try lookup.source(of: chosen))
        return LabSession(lab: lab.name == chosen ? lab : try lab.instance(named: chosen), backend: backendOf(chosen))
    }

    public func client() throws -> String {
        guard let node = lab.clientNode else {
            throw HALabError.usage("lab '\(lab.name)' has no node with role client: name one with --from")
        }
        return node
    }

    // MARK: Up

    public struct Convergence: Sendable {
        /// Seconds from the start of `up` until halab had started every node.
        public var started: Double
        /// Seconds from the start of `up` until every VIP answered from its expected holder.
        public var answered: Double
    }

    /// Builds the lab and waits until each VIP answers from the node that should hold it.
    /// A failure leaves nothing behind.
    public static func up(_ lab: Lab, backend: any LabBackend, progress: @escaping @Sendable (String) -> Void)
        async throws -> (LabSession, Convergence)
    {
        let clock = ContinuousClock()
        let start = clock.now
        let session = LabSession(lab: lab, backend: backend)
        do {
            try await backend.up(lab.topology, source: lab.folder, progress: progress)
            let started = (clock.now - start).seconds
            let deadline = lab.startBound + backend.startAllowance
            let worlds = lab.vrrpModel().possibleStarts()
            for (address, expected) in lab.healthyHolders {
                // Where start order decides, whichever possible holder VRRP elected.
                let possible = worlds.possibleHolders(of: address).compactMap(\.first).uniqueInOrder()
                let node =
                    possible.count > 1
                    ? try await session.electedHolder(
                        of: address, among: possible, hold: lab.settleBound, within: deadline + lab.settleBound)
                        ?? expected
                    : expected
                progress(
                    "waiting for \(address) to be \(node)'s and to answer (VRRP's election; at most "
                        + "\(String(format: "%.1f", deadline)) s)"
                )
                // Held by the node VRRP elects, and answered: by it, or by whatever it balances over.
                var outcome = try await ExpectationEngine(session: session).await(
                    .holders(vip: address, nodes: [node]), deadline: deadline)
                if outcome.passed {
                    let request = Request(address: address, from: try session.client())
                    outcome = try await ExpectationEngine(session: session).await(
                        .answer(request, status: 200), deadline: deadline)
                }
                guard outcome.passed else {
                    let logs = session.keepalivedLogTails().map {
                        "\n  \($0.node): " + $0.lines.joined(separator: "\n    ")
                    }.joined()
                    throw HALabError.notConverged(
                        "\(address) did not answer from \(node) within \(String(format: "%.1f", deadline)) s; last "
                            + "seen: \(outcome.seen)\nlast keepalived log lines:\(logs)")
                }
            }
            return (session, Convergence(started: started, answered: (clock.now - start).seconds))
        } catch {
            // Nothing half-built: a lab we failed to bring up is taken down again. A lab that
            // was already up was not ours to touch.
            if !((error as? HALabError).map({ if case .labAlreadyUp = $0 { true } else { false } }) ?? false) {
                _ = try? await backend.down(lab.name)
            }
            throw error
        }
    }
}

extension Lab {
    /// How long a fresh lab may take to elect: keepalived starts every instance as BACKUP and
    /// the highest takes over after Master_Down_Interval; plus the settle bound for the checks.
    var startBound: Double { settleBound + 2 }
}
