import Foundation
import HALabBackends
import HALabSystem
import Synchronization

extension LabSession {
    /// Runs `body` while the lab is looked at every `interval`: each VIP's holders, and the
    /// client's neighbour entries for them. A look that fails (a node half gone) is skipped.
    func looking<T: Sendable>(
        every interval: Duration = .milliseconds(250), during body: @Sendable () async throws -> T
    ) async throws -> (T, [LabLook]) {
        let looks = Mutex<[LabLook]>([])
        let stop = StopSignal()
        let watcher = Task {
            while await !stop.hasFired, !Task.isCancelled {
                let tick = ContinuousClock.now
                if let look = try? await lookAtLab() { looks.withLock { $0.append(look) } }
                try? await Task.sleep(until: tick + interval)
            }
        }
        defer { watcher.cancel() }
        let result = try await body()
        await stop.fire()
        _ = await watcher.value
        return (result, looks.withLock { $0 })
    }

    func lookAtLab() async throws -> LabLook {
        let time = Date().timeIntervalSince1970
        let holders = Dictionary(uniqueKeysWithValues: try await vipHolders().map { ($0.address, $0.nodes) })
        var look = LabLook(time: time, holders: holders, clientEntries: [:])
        if let client = lab.clientNode { look.clientEntries = try await entries(deciding: client, for: holders) }
        for vantage in lab.otherClients {
            look.vantageEntries[vantage.node] = try await entries(deciding: vantage.node, for: holders)
        }
        return look
    }

    /// The entries that decide where `client`'s requests to each VIP go: its own where it has one
    /// (the VIP on its link), else its router's (the next hop of its default route).
    func entries(deciding client: String, for holders: [String: [String]]) async throws -> [String: String] {
        let own = try await neighbourEntries(of: client, for: holders)
        let router = lab.topology.firstHop(of: client)
        guard router != client else { return own }
        return try await neighbourEntries(of: router, for: holders).merging(own) { _, mine in mine }
    }

    /// The MAC address in `node`'s neighbour entry for each VIP, where it has one.
    func neighbourEntries(of node: String, for holders: [String: [String]]) async throws -> [String: String] {
        guard backend.isRunning(lab.name, node: node) else { return [:] }
        struct Entry: Decodable { var dst: String; var lladdr: String? }
        let output = try await backend.exec(lab.name, node: node, ["ip", "-j", "neigh", "show"]).output
        var entries: [String: String] = [:]
        for entry in (try? JSONDecoder().decode([Entry].self, from: Data(output.utf8))) ?? []
        where holders[entry.dst] != nil {
            entries[entry.dst] = entry.lladdr
        }
        return entries
    }
}
