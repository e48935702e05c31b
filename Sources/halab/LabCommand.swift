import ArgumentParser
import Foundation
import HALab
import HALabBackends
import HALabSystem
import Synchronization

/// How a command that changes a lab runs: with the lab's lock (waiting for another halab that
/// holds it, or refusing with `--no-wait`); as the reaper of the node processes it starts; and,
/// on SIGINT or SIGTERM, undoing what it built before it exits 130 or 143 (a second signal exits
/// at once). If `down --force` took the lab meanwhile, that is what it says, not a raw error.
struct LabCommand {
    /// The labs it changes: their locks are taken in name order, so two commands never wait on each other.
    var labs: [String]
    var command: String
    var wait = true

    init(lab: String, command: String, wait: Bool) {
        self.init(labs: [lab], command: command, wait: wait)
    }

    init(labs: [String], command: String, wait: Bool) {
        self.labs = labs.uniqueInOrder().sorted()
        self.command = command
        self.wait = wait
    }

    struct WaitOption: ParsableArguments {
        @Flag(help: "Refuse, rather than wait, when another halab is changing the lab.")
        var noWait = false
    }

    /// `undo`: what to take down again on an interrupt (nil: nothing this command built).
    func run<T: Sendable>(undo: (@Sendable () async -> Void)? = nil, _ body: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        // Changing a lab takes root (namespaces, or libvirt's system connection), its lock too.
        guard labs.isEmpty || geteuid() == 0 else { throw HALabError.notRoot }
        var locks: [LabLock] = []
        do {
            for lab in labs {
                locks.append(try await LabLock.acquire(lab, command: command, wait: wait) { progress($0) })
            }
        } catch {
            locks.forEach { $0.release() }
            throw error
        }
        ProcessTable.becomeSubreaper()
        let interrupts = Interrupts(labs: labs.joined(separator: ", "), locks: locks, undo: undo)
        defer { interrupts.stop() }
        do {
            let result = try await interrupts.guarding(body)
            locks.forEach { $0.release() }
            return result
        } catch {
            let taken = zip(labs, locks).compactMap { lab, lock in lock.takenBy(lab).map { (lab, $0) } }
            locks.forEach { $0.release() }
            if let (lab, pid) = taken.first { throw HALabError.takenDown(lab, by: pid) }
            throw error
        }
    }
}

/// SIGINT and SIGTERM while a command runs: the first cancels its work, undoes what it built
/// and exits 128 + the signal; the second exits at once.
final class Interrupts: Sendable {
    let lab: String
    let locks: [LabLock]
    let undo: (@Sendable () async -> Void)?
    let seen = Mutex(0)
    /// The command's work while it runs: how to cancel it, and its end.
    let work = Mutex<(cancel: @Sendable () -> Void, done: Task<Void, Never>)?>(nil)
    nonisolated(unsafe) var sources: [any DispatchSourceSignal] = []

    init(labs: String, locks: [LabLock], undo: (@Sendable () async -> Void)?) {
        self.lab = labs
        self.locks = locks
        self.undo = undo
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in interrupted(by: signalNumber) }
            source.resume()
            sources.append(source)
        }
    }

    func guarding<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        let done = Task { _ = await task.result }
        work.withLock { $0 = ({ task.cancel() }, done) }
        let result = await task.result
        if seen.withLock({ $0 }) > 0 {
            // The undo runs and then exits the process; nothing more to do here.
            try? await Task.sleep(for: .seconds(3600))
        }
        work.withLock { $0 = nil }
        return try result.get()
    }

    func interrupted(by signalNumber: Int32) {
        let name = signalNumber == SIGINT ? "SIGINT" : "SIGTERM"
        guard
            seen.withLock({
                $0 += 1; return $0
            }) == 1
        else {
            progress("\(name) again: exiting now; 'halab down \(lab)' removes what is left")
            _exit(128 + signalNumber)
        }
        progress("\(name): stopping, and taking down what this command built of \(lab)")
        let running = work.withLock { $0 }
        Task.detached { [self] in
            let start = ContinuousClock.now
            running?.cancel()
            // The work stops at its next wait; a bounded one, whatever it was doing.
            _ = await withTaskGroup(of: Void.self) { group in
                group.addTask { await running?.done.value }
                group.addTask { try? await Task.sleep(for: .seconds(3)) }
                await group.next()
                group.cancelAll()
            }
            if let undo {
                await undo()
                let elapsed = ContinuousClock.now - start
                progress(
                    String(
                        format: "%@ is down again (%.2f s after %@)", lab,
                        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, name))
            }
            locks.forEach { $0.release() }
            exit(128 + signalNumber)
        }
    }

    func stop() {
        sources.forEach { $0.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// For a command that runs until told: SIGINT (Ctrl-C) and SIGTERM fire `stop`, so it ends
/// the way it ends on its own, leaving nothing behind.
final class StopOnInterrupt: Sendable {
    nonisolated(unsafe) let sources: [any DispatchSourceSignal]

    init(_ stop: StopSignal) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { Task { await stop.fire() } }
            source.resume()
            return source
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
