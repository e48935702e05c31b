import Foundation
import HALabSystem
import Synchronization

/// The state root, `/run/halab`, where each lab's state and lock live. One rule for it, on
/// every path (a lab up and down, its state lost, a command killed or interrupted): halab makes
/// it when it needs it, with a mark inside that says halab made it, and removes it once nothing
/// but that mark is in it. A state root halab did not make, it never removes. So the machine's
/// /run is after a lab as it was before, whether the root was there or not.
public struct StateRoot: Sendable {
    public let path: String
    static let markName = ".made-by-halab"
    var mark: String { "\(path)/\(Self.markName)" }

    public init(_ path: String) { self.path = path }

    /// Makes `path`/`name` (a file by `create`, or a folder), the root too if it is not there.
    /// Another halab may remove an empty root at the same moment: then it is made again.
    @discardableResult
    public func make<T>(_ name: String, _ create: (String) throws -> T?) throws -> T {
        for _ in 0..<100 {
            if mkdir(path, 0o755) == 0 {
                putMark()
            } else if errno != EEXIST {
                throw HALabError.commandFailed(command: "mkdir \(path)", status: "errno \(errno)", output: "")
            }
            if let made = try create("\(path)/\(name)") { return made }
            guard errno == ENOENT else { break }  // the root went just now: make it again
        }
        throw HALabError.commandFailed(command: "create \(path)/\(name)", status: "errno \(errno)", output: "")
    }

    /// Makes the folder `path`/`name`.
    public func makeFolder(_ name: String) throws {
        try make(name) { mkdir($0, 0o755) == 0 || errno == EEXIST ? () : nil }
    }

    /// Removes the root if halab made it and nothing but its mark is in it. Another halab may
    /// put something in at that moment: then the mark goes back, and the root stays.
    public func removeIfUnused() {
        guard (try? FileManager.default.contentsOfDirectory(atPath: path)) == [Self.markName] else { return }
        unlink(mark)
        if rmdir(path) != 0 { putMark() }
    }

    func putMark() {
        let descriptor = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor >= 0 { close(descriptor) }
    }
}

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

    /// The topology a lab was built with. Asked before most commands in a node: decoded once
    /// per file (its inode and change time), then kept.
    func topology(of lab: String) throws -> LabTopology {
        let path = "\(folder(lab))/topology.json"
        var info = stat()
        guard stat(path, &info) == 0 else { throw HALabError.labNotUp(lab) }
        let version = [UInt64(info.st_ino), UInt64(info.st_ctim.tv_sec), UInt64(info.st_ctim.tv_nsec)]
        if let known = Self.topologies.withLock({ $0[path] }), known.version == version { return known.topology }
        guard let data = FileManager.default.contents(atPath: path) else { throw HALabError.labNotUp(lab) }
        let topology = try JSONDecoder().decode(LabTopology.self, from: data)
        Self.topologies.withLock { $0[path] = (version, topology) }
        return topology
    }

    static let topologies = Mutex<[String: (version: [UInt64], topology: LabTopology)]>([:])

    func save(_ topology: LabTopology) throws {
        try FileSystem.write(
            String(decoding: try JSONEncoder().encode(topology), as: UTF8.self),
            to: "\(folder(topology.name))/topology.json")
    }

    /// Forgets the frozen processes of a node that crashed (a pause, a hung service): there is
    /// nothing left to thaw.
    func forgetFrozen(of node: String, lab: String) throws {
        try faultFile(lab).write(
            faultFile(lab).read().filter { fault in
                switch fault {
                case .pause(node), .frozenProcesses(node, _): false
                case .pause, .frozenProcesses, .linkDown, .switchDown, .dropMulticast, .partition, .loss, .delay,
                    .refusedPorts:
                    true
                }
            })
    }

    /// Makes the lab's state folder.
    func make(_ lab: String) throws { try StateRoot(root).makeFolder(lab) }

    /// Removes the lab's state, and the root by its rule. Another halab removing it at the same
    /// moment (a forced down) is no failure: gone is what was wanted.
    func remove(_ lab: String) throws {
        try FileSystem.remove(folder(lab))
        StateRoot(root).removeIfUnused()
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
        try await execute(
            try FaultPlan(fault, topology: topology, on: true, switches: hasSwitches), lab: lab, topology: topology)
        recorded.append(fault)
        try state.faultFile(lab).write(recorded)
    }

    /// Takes a fault off and forgets it.
    public func heal(_ lab: String, _ fault: NetworkFault) async throws {
        let topology = try topology(of: lab)
        try await execute(
            try FaultPlan(fault, topology: topology, on: false, switches: hasSwitches), lab: lab, topology: topology)
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
