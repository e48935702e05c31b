// halab-init: PID 1 of a halab node. It starts the node's services the way OpenRC does at
// boot (`rc-service NAME start`, in order), reaps every orphan, as a PID namespace's init
// must (a zombie nginx would still be found by `pidof`), and on SIGTERM or SIGINT stops the
// services in reverse order and exits. Glibc only, so each node stays light.
import Glibc

let services = Array(CommandLine.arguments.dropFirst())
let rcService = "/usr/local/sbin/rc-service"

// Signals are taken synchronously with sigwait; children get an empty mask back.
var handled = sigset_t()
sigemptyset(&handled)
for signal in [SIGCHLD, SIGTERM, SIGINT] { sigaddset(&handled, signal) }
sigprocmask(SIG_BLOCK, &handled, nil)

func exitCode(_ status: Int32) -> Int32 {
    (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// Runs `rc-service NAME ACTION` and waits for it, reaping whatever else ends meanwhile.
func rc(_ name: String, _ action: String) -> Int32 {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    let arguments: [UnsafeMutablePointer<CChar>?] =
        [rcService, name, action].map { (text: String) in strdup(text) } + [nil]
    defer { arguments.forEach { free($0) } }
    var pid = pid_t()
    guard posix_spawn(&pid, rcService, nil, &attributes, arguments, environ) == 0 else { return 127 }
    var status: Int32 = 0
    while true {
        let ended = waitpid(-1, &status, 0)
        if ended == pid { return exitCode(status) }
        if ended < 0 && errno != EINTR { return 127 }
    }
}

var report = ""
for name in services {
    report += "\(name) \(rc(name, "start") == 0 ? "ok" : "failed")\n"
}
// halab reads this (from the node's writable layer) to know the node is up.
if let file = fopen("/var/log/halab-init.status", "w") {
    fputs(report, file)
    fclose(file)
}

while true {
    var signal: Int32 = 0
    guard sigwait(&handled, &signal) == 0 else { continue }
    if signal == SIGCHLD {
        var status: Int32 = 0
        while waitpid(-1, &status, WNOHANG) > 0 {}
    } else {
        for name in services.reversed() { _ = rc(name, "stop") }
        exit(0)
    }
}
