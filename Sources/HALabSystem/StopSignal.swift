/// A one-shot signal between tasks: `wait` returns once `fire` was called.
public actor StopSignal {
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public func wait() async {
        if fired { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    public var hasFired: Bool { fired }

    public func fire() {
        fired = true
        waiters.forEach { $0.resume() }
        waiters = []
    }
}
