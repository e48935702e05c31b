import Foundation
import HALabSystem

/// What is left of a lab in namespaces after its journal is gone: found by halab's names
/// (`halab-LAB-NAME`), never by a broader pattern.
extension NamespaceBackend {
    /// The namespaces named for `lab` (every halab lab's, without one); libvirt's own
    /// (`halab-libvirtd`) is never a lab's.
    func namespaces(of lab: String?, names: [String]?) -> [String] {
        let all = FileSystem.list(Self.netnsFolder).filter { $0.hasPrefix("halab-") && $0 != "halab-libvirtd" }
        guard let lab else { return all }
        if let names { return all.filter(Set(names.map { Self.netns(lab, $0) }).contains) }
        let claimed = Set(
            labsUp().filter { $0 != lab }.flatMap { other in
                journal(other).records().compactMap { record -> String? in
                    if case .netns(let name) = record { name } else { nil }
                }
            })
        return all.filter { $0.hasPrefix("halab-\(lab)-") && !claimed.contains($0) }
    }

    public func leftovers(_ lab: String?, names: [String]?) async -> [String] {
        namespaces(of: lab, names: names).flatMap { ns in
            ["namespace \(ns)"]
                + ProcessTable.processes(inNetworkNamespace: "\(Self.netnsFolder)/\(ns)").map {
                    "process \($0.pid) (\($0.command))"
                }
        }
    }

    public func sweep(_ lab: String?, names: [String]?) async throws -> [String] {
        var swept: [String] = []
        var killed: [ProcessTable.Identity] = []
        for ns in namespaces(of: lab, names: names) {
            killed += try await killAll(inNetns: ns)
            // Another halab may delete it at the same moment: gone is what was wanted.
            _ = try await Command.run("ip", ["netns", "delete", ns], check: false)
            swept.append("namespace \(ns)")
        }
        try await netnsFolder.releaseIfUnused()
        _ = await ProcessTable.awaitReaped(killed, limit: .seconds(10))
        return swept + (killed.isEmpty ? [] : ["\(killed.count) processes"])
    }
}
