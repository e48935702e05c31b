/// The worlds the model cannot tell apart. Where a check's outcome is unknown (a script it
/// cannot read, a TCP check of a hung service), one world takes it as failing and one as
/// passing, and each is followed on: VRRP remembers, so they may stay apart after the check is
/// known again. Where the worlds agree on a VIP the model predicts it; where they do not, it
/// says what its prediction depends on, and predicts nothing: a false alarm is worse than a
/// missed prediction.
public struct VRRPWorlds: Sendable {
    public private(set) var worlds: [VRRPModel]
    /// Each unknown check met, by key, and why the model cannot judge it.
    public private(set) var reasons: [String: String] = [:]
    /// More worlds than this and the oldest splits are merged back (a long scenario with many unknowns).
    static let limit = 32

    public init(_ model: VRRPModel) { worlds = [model] }

    public init(_ worlds: [VRRPModel]) { self.worlds = worlds }

    /// Applies `event` in every world, splitting each at a check the event makes unknown;
    /// returns the longest time VRRP may take to settle in any of them.
    @discardableResult
    public mutating func apply(_ event: VRRPModel.Event) -> Double {
        var next: [VRRPModel] = []
        var bound = 0.0
        for world in worlds {
            var probe = world
            probe.apply(event)
            let fresh = probe.unknownChecks().filter { !world.decided.contains($0.key) }
            for (key, why) in fresh { reasons[key] = why }
            var variants = [world]
            for (key, _) in fresh {
                variants = variants.flatMap { [$0.deciding(key, failing: false), $0.deciding(key, failing: true)] }
            }
            for var variant in variants {
                bound = max(bound, variant.apply(event))
                variant.forgetKnownChecks()
                next.append(variant)
            }
        }
        var seen: Set<String> = []
        worlds = Array(next.filter { seen.insert($0.signature).inserted }.prefix(Self.limit))
        return bound
    }

    /// The holders of a VIP every world agrees on; nil where they differ.
    public func holders(of address: String) -> [String]? {
        let first = worlds[0].holders(of: address)
        return worlds.dropFirst().allSatisfy { Set($0.holders(of: address)) == Set(first) } ? first : nil
    }

    /// Why the worlds differ on a VIP: the unknown checks they decided apart. Nil where they agree.
    public func dependence(of address: String) -> String? {
        guard holders(of: address) == nil else { return nil }
        let keys = Set(worlds.flatMap(\.decided)).filter { key in Set(worlds.map { $0.assumedFailing.contains(key) }).count > 1 }
        let why = keys.sorted().compactMap { reasons[$0] }
        return why.isEmpty ? "checks the model cannot judge" : why.joined(separator: "; ")
    }

    /// The worlds whose holders are those seen: a run follows the world it is in.
    public mutating func keep(matching seen: [String: [String]]) {
        let matching = worlds.filter { world in seen.allSatisfy { Set(world.holders(of: $0.key)) == Set($0.value) } }
        if !matching.isEmpty { worlds = matching }
    }
}

extension VRRPModel {
    /// This world with an unknown check decided.
    func deciding(_ key: String, failing: Bool) -> VRRPModel {
        var world = self
        world.decided.insert(key)
        if failing { world.assumedFailing.insert(key) }
        return world
    }

    /// Forgets the decisions about checks that are known again: the next time one is unknown,
    /// the worlds split anew.
    mutating func forgetKnownChecks() {
        let unknown = Set(unknownChecks().map(\.key))
        decided.formIntersection(unknown)
        assumedFailing.formIntersection(unknown)
    }

    /// What tells this world from another: its roles and its decisions.
    var signature: String {
        roles.map(\.rawValue).joined(separator: ",") + "|" + decided.sorted().joined(separator: ",") + "|" + assumedFailing.sorted().joined(separator: ",")
    }
}
