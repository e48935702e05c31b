import Foundation
import HALabSystem

/// What a backend keeps of each lab under its state root (`/run/halab/LAB`): the journal, the
/// topology it built and the faults in force. Every backend keeps them alike, so any command
/// finds any lab that is up, and the journal says which backend built it.
struct LabState {
    let root: String

    func folder(_ lab: String) -> String { "\(root)/\(lab)" }
    func journal(_ lab: String) -> StateJournal { StateJournal(path: "\(folder(lab))/journal") }
    func faultFile(_ lab: String) -> FaultFile { FaultFile(path: "\(folder(lab))/faults.json") }

    func labsUp() -> [String] {
        FileSystem.list(root).filter { FileSystem.exists("\(folder($0))/journal") }
    }

    func source(of lab: String) throws -> String {
        for case .source(let folder) in journal(lab).records() { return folder }
        throw HALabError.labNotUp(lab)
    }

    func topology(of lab: String) throws -> LabTopology {
        guard let data = FileManager.default.contents(atPath: "\(folder(lab))/topology.json") else { throw HALabError.labNotUp(lab) }
        return try JSONDecoder().decode(LabTopology.self, from: data)
    }

    func save(_ topology: LabTopology) throws {
        try FileSystem.write(String(decoding: try JSONEncoder().encode(topology), as: UTF8.self),
                             to: "\(folder(topology.name))/topology.json")
    }

    /// Forgets a pause of a node that crashed: there is nothing left to resume.
    func forgetPause(of node: String, lab: String) throws {
        try faultFile(lab).write(faultFile(lab).read().filter { $0 != .pause(node: node) })
    }

    /// Removes the lab's state, and the root once no lab is left. Another halab removing it at
    /// the same moment (a forced down) is no failure: gone is what was wanted.
    func remove(_ lab: String) throws {
        try FileSystem.remove(folder(lab))
        if FileSystem.list(root).isEmpty { try? FileSystem.remove(root) }
    }
}

/// A backend that keeps its labs in a `LabState` gets the lab and fault bookkeeping from here;
/// it gives only the primitives that fault plans are made of.
protocol LabStateKeeping: LabBackend, FaultExecuting {
    var state: LabState { get }
}

extension LabStateKeeping {
    public func labsUp() -> [String] { state.labsUp() }
    public func source(of lab: String) throws -> String { try state.source(of: lab) }
    public func topology(of lab: String) throws -> LabTopology { try state.topology(of: lab) }
    public func faults(_ lab: String) -> [NetworkFault] { state.faultFile(lab).read() }

    /// Puts a fault on and records it; a fault in force already is left as it is.
    public func inject(_ lab: String, _ fault: NetworkFault) async throws {
        let topology = try topology(of: lab)
        var recorded = faults(lab)
        guard !recorded.contains(fault) else { return }
        try await execute(try FaultPlan(fault, topology: topology, on: true, switches: hasSwitches), lab: lab, topology: topology)
        recorded.append(fault)
        try state.faultFile(lab).write(recorded)
    }

    /// Takes a fault off and forgets it.
    public func heal(_ lab: String, _ fault: NetworkFault) async throws {
        let topology = try topology(of: lab)
        try await execute(try FaultPlan(fault, topology: topology, on: false, switches: hasSwitches), lab: lab, topology: topology)
        try state.faultFile(lab).write(faults(lab).filter { $0 != fault })
    }
}

/// The faults in force on a lab, as JSON in its state folder (`faults.json`).
struct FaultFile {
    let path: String

    func read() -> [NetworkFault] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return (try? JSONDecoder().decode([NetworkFault].self, from: data)) ?? []
    }

    func write(_ faults: [NetworkFault]) throws {
        try FileSystem.write(String(decoding: try JSONEncoder().encode(faults), as: UTF8.self), to: path)
    }
}
