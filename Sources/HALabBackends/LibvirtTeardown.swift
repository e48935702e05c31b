import Foundation
import HALabSystem

extension LibvirtBackend {
    /// Destroys and undefines every domain and network the journal names, then the state.
    @discardableResult public func down(_ lab: String) async throws -> Bool {
        guard FileSystem.exists(labFolder(lab)) else { return false }
        let records = journal(lab).records()
        let connection = try connect()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for case .domain(let name) in records {
                group.addTask {
                    try await offThread {
                        if let domain = try connection.domain(named: name) { try Self.remove(domain) }
                    }
                }
            }
            try await group.waitForAll()
        }
        for case .network(let name) in records.reversed() { try connection.destroyNetwork(named: name) }
        try state.remove(lab)
        return true
    }

    /// A VM gone: stopped, and its definition too.
    static func remove(_ domain: LibvirtDomain) throws {
        if domain.isActive { try domain.destroy() }
        if domain.isPersistent { try domain.undefine() }
    }
}

/// What is left of a lab in libvirt after its journal is gone: domains and networks named
/// `halab-LAB-…`. Where libvirt cannot be reached, nothing of it can be swept (or seen).
extension LibvirtBackend {
    func libvirtNames(of lab: String?, names: [String]?) -> (domains: [String], networks: [String]) {
        guard let connection = try? connect() else { return ([], []) }
        let ours = { (name: String) -> Bool in
            guard name.hasPrefix("halab-") else { return false }
            guard let lab else { return true }
            if let names { return names.contains { name == "halab-\(lab)-\($0)" } }
            return name.hasPrefix("halab-\(lab)-") && !labsUp().contains { $0 != lab && name.hasPrefix("halab-\($0)-") }
        }
        return (
            ((try? connection.domainNames()) ?? []).filter(ours), ((try? connection.networkNames()) ?? []).filter(ours)
        )
    }

    public func leftovers(_ lab: String?, names: [String]?) async -> [String] {
        let (domains, networks) = libvirtNames(of: lab, names: names)
        return domains.map { "VM \($0)" } + networks.map { "libvirt network \($0)" }
    }

    public func sweep(_ lab: String?, names: [String]?) async throws -> [String] {
        let (domains, networks) = libvirtNames(of: lab, names: names)
        guard !domains.isEmpty || !networks.isEmpty else { return [] }
        let connection = try connect()
        for name in domains {
            if let domain = try connection.domain(named: name) { try Self.remove(domain) }
        }
        for name in networks { try connection.destroyNetwork(named: name) }
        return domains.map { "VM \($0)" } + networks.map { "libvirt network \($0)" }
    }
}
