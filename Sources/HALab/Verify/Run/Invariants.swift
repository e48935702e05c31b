import Foundation
import HALabBackends
import HALabModel

/// What verify holds at every look of every step, whatever the step expects: a design that
/// splits its brain, strands a VIP or blackholes its clients fails, even where curl answers at
/// the step's end or the model predicted the outage.
public enum Invariant: String, Sendable, Codable, CaseIterable {
    /// At most one holder per VIP while adverts can flow between its peers.
    case singleHolder = "single-holder"
    /// Whenever some node can serve a VIP, the client is answered (any HTTP status) once the timers allow.
    case answered
    /// No outage from the client's ARP entry naming a node that no longer holds the VIP.
    case staleARP = "stale-arp"
    /// No holder changes beyond those the step's fault explains.
    case holderChanges = "holder-changes"
}

/// One invariant broken: when, on which nodes, and the evidence.
public struct Violation: Sendable, Codable, Equatable {
    public var invariant: Invariant
    public var address: String
    public var from: Double
    public var to: Double
    public var nodes: [String]
    /// For `answered`: whose outage it is.
    public var kind: Kind?
    public var evidence: String
    /// For `answered` and `staleARP`: the client that saw it, where it is not the lab's first.
    public var vantage: String?

    public enum Kind: String, Sendable, Codable {
        /// The model predicts it too: the design strands the VIP.
        case designOutage = "design outage"
        /// The model predicts an answer.
        case modelMismatch = "model mismatch"
    }

    /// An outage the model predicts too: the design's, not a disagreement with the model.
    public var isDesignOutage: Bool { invariant == .answered && kind == .designOutage }

    public var summary: String {
        let span = String(format: "%.2f s", to - from)
        return switch invariant {
        case .singleHolder:
            "\(address) held by \(nodes.joined(separator: " and ")) at once for \(span): split brain while adverts can "
                + "flow"
        case .answered:
            "\(ProbeSample.label(address, from: vantage)) not answered for \(span) while "
                + "\(nodes.joined(separator: ", ")) could serve "
                + "(\(kind?.rawValue ?? "outage")): \(evidence)"
        case .staleARP: "\(ProbeSample.label(address, from: vantage)) blackholed for \(span): \(evidence)"
        case .holderChanges: "\(address) changed holder beyond what the fault explains: \(evidence)"
        }
    }
}

/// One look at the lab while verify runs.
public struct LabLook: Sendable, Equatable {
    public var time: Double
    /// Each VIP's holders.
    public var holders: [String: [String]]
    /// The MAC address in the client's neighbour entry for each VIP, or its router's.
    public var clientEntries: [String: String]
    /// The same for each other client. A client whose VIP is not on its link has no entry for
    /// it: the router in front of it (its default route's next hop) has, and that one counts.
    public var vantageEntries: [String: [String: String]] = [:]

    /// The entries that decide where `vantage`'s requests go (nil: the lab's first client).
    func entries(for vantage: String?) -> [String: String] {
        vantage.map { vantageEntries[$0] ?? [:] } ?? clientEntries
    }
}

/// What the model says of one step, for judging it.
struct StepModel: Sendable {
    /// When the step's fault was in place, and until when the step ran.
    var start: Double
    var end: Double
    /// The timers' bound for the step's events, and the client's grace after it.
    var bound: Double
    var grace = Invariants.grace
    var holdersBefore: [String: [String]]
    var holders: [String: [String]]
    /// How many times the step's events move each VIP's holder on their way (a flap: there and
    /// back); nil: once if its holders before and after differ.
    var moves: [String: Int]? = nil
    /// The nodes that could serve each VIP.
    var servers: [String: [String]]
    /// Invariants the step does not hold, per VIP ("" for every VIP): what it expects explicitly,
    /// what it accepts, and while packet loss or delay is in force (the model cannot follow those).
    var exempt: [String: Set<Invariant>]

    func exempts(_ invariant: Invariant, _ address: String) -> Bool {
        (exempt[address] ?? []).contains(invariant) || (exempt[""] ?? []).contains(invariant)
    }
}

/// Whether the model follows the lab, step by step: not while packet loss or delay is in force
/// (until its node, or every node, is healed), and never again after a command of the user's it
/// cannot follow. The invariants need it.
struct ModelFollowing {
    var lossy = Set<String>()
    var lost = false

    mutating func blind(after action: Scenario.Action?, nodes: [String]) -> Bool {
        switch action?.chaosEquivalent?.sight ?? .keeps {
        case .blinds(let node): lossy.insert(node)
        case .restores(let node): if let node { lossy.remove(node) } else { lossy = [] }
        case .keeps: break
        }
        if let action, action.modelEvents(nodes: nodes) == nil { lost = true }
        return lost || !lossy.isEmpty
    }
}

extension StepModel {
    /// `blind`: the model cannot follow what is in force; the step holds no invariant.
    /// `slower`: what the backend adds to every reaction (a software-emulated VM's).
    /// `unpredicted`: the VIPs the model cannot predict here; they hold no invariant.
    /// `races`: the VIPs two backups may take at once for a moment (`takeoverRaces`): a brief
    /// second holder, an extra move and a stale ARP entry are not held against the lab.
    /// `sightRestored`: the step ends what the model could not follow (a heal of packet loss):
    /// where the lab was then is unknown, so one change of holder is explained.
    init(
        _ step: Scenario.Step, model: VRRPModel, before: VRRPModel, bound: Double, start: Double, blind: Bool,
        unpredicted: Set<String> = [], races: Set<String> = [],
        sightRestored: Bool = false, moves: [String: Int]? = nil, slower: Double = 0
    ) {
        var exempt: [String: Set<Invariant>] = blind ? ["": Set(Invariant.allCases)] : [:]
        for address in unpredicted { exempt[address] = Set(Invariant.allCases) }
        for address in races { exempt[address, default: []].formUnion([.singleHolder, .holderChanges, .staleARP]) }
        for expectation in step.expected.listed {
            switch expectation {
            case .holders(let vip, let nodes, _) where nodes.count > 1:
                exempt[vip, default: []].formUnion([.singleHolder, .holderChanges])
            case .fails(let request):
                exempt[URL(string: request.url)?.host ?? "", default: []].formUnion([.answered, .staleARP])
            case .takeovers(let vip, _, _, _): exempt[vip, default: []].insert(.holderChanges)
            default: break
            }
        }
        let servers = Dictionary(uniqueKeysWithValues: model.virtualAddresses.map { ($0, model.servers(of: $0)) })
        self.init(
            start: start, end: start, bound: bound, grace: Invariants.grace + slower,
            holdersBefore: sightRestored ? [:] : before.holdersByAddress, holders: model.holdersByAddress,
            servers: servers, exempt: exempt)
        self.moves = sightRestored ? nil : moves
    }
}

enum Invariants {
    /// Grace for the client once the timers allow a move: its next request, and the answer.
    /// A backend whose nodes react slower (software-emulated VMs) adds its allowance.
    static let grace = 1.0

    /// `vantages`: the clients whose requests are judged (nil: the lab's first client).
    static func judge(
        _ step: StepModel, looks: [LabLook], samples: [ProbeSample], macs: [String: String],
        vantages: [String?] = [nil]
    ) -> [Violation] {
        let settled = step.start + step.bound + step.grace
        let own = looks.filter { $0.time >= step.start && $0.time < step.end }
        var violations: [Violation] = []
        for address in step.holders.keys.sorted() {
            if !step.exempts(.singleHolder, address), (step.holders[address] ?? []).count <= 1 {
                violations += splitBrains(address, looks: own.filter { $0.time >= settled })
            }
            if !step.exempts(.answered, address), let servers = step.servers[address], !servers.isEmpty {
                for vantage in vantages {
                    // Any HTTP answer is one: the VIP reached a server (a balancer whose backends are down
                    // answers 503).
                    let failed = samples.filter {
                        $0.vantage == vantage && $0.address == address && $0.start >= settled && $0.end < step.end
                            && $0.status == 0
                    }
                    violations += outages(
                        address, failed: failed, step: step, servers: servers, looks: own, macs: macs, vantage: vantage
                    ).map { violation in
                        var violation = violation
                        violation.vantage = vantage
                        return violation
                    }
                }
            }
            if !step.exempts(.holderChanges, address) { violations += holderChanges(address, step: step, looks: own) }
        }
        return violations
    }

    /// Runs of looks with two holders or more.
    static func splitBrains(_ address: String, looks: [LabLook]) -> [Violation] {
        runs(looks) { ($0.holders[address] ?? []).count > 1 }.map { run in
            Violation(
                invariant: .singleHolder, address: address, from: run.first!.time, to: run.last!.time,
                nodes: run.flatMap { $0.holders[address] ?? [] }.uniqueInOrder(),
                evidence: "seen in \(run.count) looks")
        }
    }

    /// Failed requests after the bound, in runs: a stale-ARP blackhole where the client's entry
    /// named a node not holding the VIP while another held it, otherwise the design's or the model's outage.
    static func outages(
        _ address: String, failed: [ProbeSample], step: StepModel, servers: [String], looks: [LabLook],
        macs: [String: String], vantage: String? = nil
    ) -> [Violation] {
        var spans: [[ProbeSample]] = []
        for sample in failed {
            if let last = spans.last?.last, sample.start - last.start < 0.5 {
                spans[spans.count - 1].append(sample)
            } else {
                spans.append([sample])
            }
        }
        return spans.map { span in
            let (from, to) = (span.first!.start, span.last!.end)
            let during = looks.filter { $0.time >= from - 0.3 && $0.time <= to }
            let holders = during.last?.holders[address] ?? []
            let requests = "\(span.count) requests failed (\(Set(span.map(\.answer)).sorted().joined(separator: ", ")))"
            if let stale = during.compactMap({ look in look.entries(for: vantage)[address].map { ($0, macs[$0]) } })
                .first(where: { _, node in node.map { !holders.contains($0) } ?? false }), !holders.isEmpty
            {
                return Violation(
                    invariant: .staleARP, address: address, from: from, to: to, nodes: [stale.1!] + holders,
                    evidence: (vantage.map { "the ARP entry \($0)'s requests go by" } ?? "the client's ARP entry")
                        + " names \(stale.1!)'s MAC (\(stale.0)), which does not hold it"
                        + (holders.isEmpty ? "" : "; \(holders.joined(separator: ", ")) does")
                        + "; \(requests). A master that stays master sends no gratuitous ARP; "
                        + "'vrrp_higher_prio_send_advert true' in global_defs ends this (it answers the other's advert)"
                )
            }
            let predicted = step.holders[address] ?? []
            let stranded = predicted.count != 1 || !servers.contains(predicted[0])
            return Violation(
                invariant: .answered, address: address, from: from, to: to, nodes: servers,
                kind: stranded ? .designOutage : .modelMismatch,
                evidence: "\(requests); held by \(holders.isEmpty ? "nobody" : holders.joined(separator: ", "))"
                    + (stranded ? "; the model predicts it too" : "; the model predicts \(predicted[0]) answering"))
        }
    }

    /// More changes of the single holder than the step's fault explains (one if the model's
    /// holder moves, else none).
    static func holderChanges(_ address: String, step: StepModel, looks: [LabLook]) -> [Violation] {
        let sequence = looks.compactMap { look -> (Double, String)? in
            guard let holders = look.holders[address], holders.count == 1 else { return nil }
            return (look.time, holders[0])
        }
        var changes: [(Double, String)] = []
        for entry in sequence where changes.last?.1 != entry.1 { changes.append(entry) }
        let explained =
            step.moves.map { $0[address] ?? 0 } ?? (step.holdersBefore[address] == step.holders[address] ? 0 : 1)
        guard changes.count - 1 > explained, let first = changes.first, let last = changes.last else { return [] }
        return [
            Violation(
                invariant: .holderChanges, address: address, from: first.0, to: last.0,
                nodes: changes.map(\.1).uniqueInOrder(),
                evidence:
                    "\(changes.count - 1) changes (\(changes.map(\.1).joined(separator: " → "))), the fault explains "
                        + "\(explained)"
            )
        ]
    }

    static func runs(_ looks: [LabLook], where matches: (LabLook) -> Bool) -> [[LabLook]] {
        var runs: [[LabLook]] = []
        var current: [LabLook] = []
        for look in looks {
            if matches(look) { current.append(look) } else if !current.isEmpty { runs.append(current); current = [] }
        }
        return current.isEmpty ? runs : runs + [current]
    }
}
