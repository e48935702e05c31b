import Foundation
import Testing

/// How the end-to-end tests share this machine. They mostly wait on VRRP's timers, not the CPU,
/// so several run at once, each in lab instances of its own name: up to `width` labs at a time,
/// a test counting the labs it runs at once (`.labs(N)`). A test that needs the machine to itself
/// runs alone: none other runs meanwhile. The shared ones go first, then the lone ones, one by one.
actor MachineShare {
    /// Labs at once: `HALAB_TEST_LABS`, else 14 (measured on 2 cores: README, Tests).
    static let shared = MachineShare(
        width: ProcessInfo.processInfo.environment["HALAB_TEST_LABS"].flatMap(Int.init).map { max(1, $0) } ?? 14)

    struct Entry {
        var labs: Int
        var alone: Bool
        /// One of the longest tests: started before any other that waits with it.
        var long: Bool
        var turn: CheckedContinuation<Void, Never>
    }

    let width: Int
    var running = 0
    var aloneRunning = false
    var waiting: [Entry] = []
    /// Nothing starts in the first second: the tests that arrive in it are admitted largest
    /// first, so the longest ones (all-pairs tables) do not wait behind a row of small ones.
    var open = false

    init(width: Int) { self.width = width }

    func enter(labs: Int, alone: Bool, long: Bool) async {
        await withCheckedContinuation { turn in
            waiting.append(Entry(labs: min(labs, width), alone: alone, long: long, turn: turn))
            if open {
                admit()
            } else if waiting.count == 1 {
                Task {
                    try? await Task.sleep(for: .seconds(1))
                    self.opening()
                }
            }
        }
    }

    private func opening() {
        open = true
        admit()
    }

    func leave(labs: Int, alone: Bool) {
        running -= min(labs, width)
        if alone { aloneRunning = false }
        admit()
    }

    /// Starts what may start now, while none runs alone: the shared tests whose labs fit, those
    /// with the most labs first (they take longest: started last, they would end last); then a
    /// lone test, once nothing runs and no shared test waits. The longest tests (`.labs(N, long: true)`)
    /// go before all others.
    private func admit() {
        while !aloneRunning,
            let index = waiting.indices.filter({ !waiting[$0].alone && running + waiting[$0].labs <= width })
                .max(by: {
                    Self.order(waiting[$0]) < Self.order(waiting[$1])
                        || (Self.order(waiting[$0]) == Self.order(waiting[$1]) && $0 > $1)
                })
        {
            start(waiting.remove(at: index))
        }
        if !aloneRunning, running == 0, !waiting.contains(where: { !$0.alone }),
            let index = waiting.firstIndex(where: \.alone)
        {
            start(waiting.remove(at: index))
        }
    }

    /// Who goes first: the long ones, then those with the most labs.
    static func order(_ entry: Entry) -> (Int, Int) { (entry.long ? 1 : 0, entry.labs) }

    private func start(_ entry: Entry) {
        running += entry.labs
        if entry.alone { aloneRunning = true }
        entry.turn.resume()
    }
}

/// The end-to-end suite's trait: each of its tests takes its share of the machine (`MachineShare`).
/// A test trait too: a suite's recursive traits are given to each of its tests.
struct SharesTheMachine: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void)
        async throws
    {
        let alone = test.traits.contains { $0 is RunsAlone }
        let labs = test.traits.compactMap { ($0 as? RunsLabs)?.count }.max() ?? 1
        let long = test.traits.contains { ($0 as? RunsLabs)?.long == true }
        let clock = ContinuousClock()
        let asked = clock.now
        await MachineShare.shared.enter(labs: labs, alone: alone, long: long)
        let started = clock.now
        defer {
            // For scripts/repeat-tests: the time it ran, apart from the time it waited for its share
            // (a parameterized test's cases each say theirs).
            print(
                String(
                    format: "e2e-time: %@ ran %.1f s, waited %.1f s\(alone ? " (alone)" : "")", test.name,
                    (clock.now - started) / .seconds(1), (started - asked) / .seconds(1)))
        }
        do {
            try await function()
        } catch {
            await MachineShare.shared.leave(labs: labs, alone: alone)
            throw error
        }
        await MachineShare.shared.leave(labs: labs, alone: alone)
    }
}

/// A test that runs several labs at once (all-pairs rows, explore runs); `long`: one of the
/// longest, which the end of the whole run waits for.
struct RunsLabs: TestTrait {
    var count: Int
    var long = false
}

extension Trait where Self == RunsLabs {
    static func labs(_ count: Int, long: Bool = false) -> Self { Self(count: count, long: long) }
}

/// A test that needs the machine to itself, and why.
struct RunsAlone: TestTrait, SuiteTrait {
    var why: String
    var isRecursive: Bool { true }
}

extension Trait where Self == SharesTheMachine {
    static var sharesTheMachine: Self { Self() }
}

extension Trait where Self == RunsAlone {
    /// The test needs the machine to itself: `why` says what another test would disturb.
    static func alone(_ why: String) -> Self { Self(why: why) }

    /// It compares the whole host before and after: another test's lab would show in it.
    static var comparesTheHost: Self { Self(why: "it compares the whole host before and after") }
}
