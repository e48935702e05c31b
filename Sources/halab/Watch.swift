import ArgumentParser
import Foundation
import HALab
import HALabSystem

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "A live view of a running lab: each node's instances, the VIP holders, the client's answers, the faults in "
                + "force.",
        discussion: """
            On a terminal it redraws about 4 times a second (a split brain in red); q or Ctrl-C quits. Without a \
            terminal it prints one line per change, for a log or a pipe.
            """)

    @OptionGroup var options: LabOption

    @Option(help: "Stop after this many seconds.")
    var seconds: Double?

    func run() async throws {
        guard geteuid() == 0 else { throw HALabError.notRoot }
        let session = try options.session()
        let stop = StopSignal()
        let interactive = isatty(STDOUT_FILENO) == 1
        let keyboard = interactive && isatty(STDIN_FILENO) == 1 ? Keyboard(onQuit: { Task { await stop.fire() } }) : nil
        let interrupts = StopOnInterrupt(stop)
        let show = { (text: String) in FileHandle.standardOutput.write(Data(text.utf8)) }
        if interactive { show("\u{1B}[?25l") }
        defer {
            interrupts.cancel()
            keyboard?.restore()
            if interactive { show("\u{1B}[?25h") }
        }
        let deadline = seconds.map { ContinuousClock.now + .seconds($0) }
        var last: LabSnapshot?
        while await !stop.hasFired, deadline.map({ ContinuousClock.now < $0 }) ?? true {
            let tick = ContinuousClock.now
            let snapshot = try await session.snapshot(after: last)
            if interactive {
                show(
                    "\u{1B}[H\u{1B}[J" + snapshot.screen(lab: session.lab.name, color: true).joined(separator: "\n")
                        + "\n")
            } else {
                show(snapshot.changes(since: last).map { $0 + "\n" }.joined())
            }
            last = snapshot
            try? await Task.sleep(until: tick + .milliseconds(250))
        }
    }
}

/// The terminal read a key at a time without echo, so that q quits; restored on exit.
final class Keyboard: @unchecked Sendable {
    private var saved = termios()

    init(onQuit: @escaping @Sendable () -> Void) {
        tcgetattr(STDIN_FILENO, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while read(STDIN_FILENO, &byte, 1) == 1 {
                if byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") { return onQuit() }
            }
        }
    }

    func restore() { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
}
