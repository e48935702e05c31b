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

    /// Puts a fault on (by `apply`) and records it; a fault in force already is left as it is.
    func inject(_ fault: NetworkFault, on lab: String, apply: (LabTopology) async throws -> Void) async throws {
        let topology = try topology(of: lab)
        for node in fault.nodes { _ = try topology.node(node) }
        var recorded = faultFile(lab).read()
        guard !recorded.contains(fault) else { return }
        try await apply(topology)
        recorded.append(fault)
        try faultFile(lab).write(recorded)
    }

    /// Takes a fault off (by `apply`) and forgets it.
    func heal(_ fault: NetworkFault, on lab: String, apply: (LabTopology) async throws -> Void) async throws {
        try await apply(try topology(of: lab))
        try faultFile(lab).write(faultFile(lab).read().filter { $0 != fault })
    }

    /// Removes the lab's state, and the root once no lab is left.
    func remove(_ lab: String) throws {
        try FileSystem.remove(folder(lab))
        if FileSystem.list(root).isEmpty { try FileSystem.remove(root) }
    }
}

/// A backend that keeps its labs in a `LabState` gets the lab and fault bookkeeping from here;
/// it says only how a fault is put on and taken off.
protocol LabStateKeeping: LabBackend {
    var state: LabState { get }
    func apply(_ fault: NetworkFault, topology: LabTopology, on: Bool) async throws
}

extension LabStateKeeping {
    public func labsUp() -> [String] { state.labsUp() }
    public func source(of lab: String) throws -> String { try state.source(of: lab) }
    public func topology(of lab: String) throws -> LabTopology { try state.topology(of: lab) }
    public func faults(_ lab: String) -> [NetworkFault] { state.faultFile(lab).read() }

    public func inject(_ lab: String, _ fault: NetworkFault) async throws {
        try await state.inject(fault, on: lab) { try await apply(fault, topology: $0, on: true) }
    }

    public func heal(_ lab: String, _ fault: NetworkFault) async throws {
        try await state.heal(fault, on: lab) { try await apply(fault, topology: $0, on: false) }
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
