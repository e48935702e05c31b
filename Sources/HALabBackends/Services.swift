/// A service a node runs, started the way OpenRC starts it on Alpine: the built-ins (nginx,
/// keepalived, haproxy, conntrackd, local) and those a lab.yaml defines. The one place for their names,
/// pid files, commands, ports and logs.
public struct Service: Sendable, Codable, Equatable {
    public var name: String
    /// A daemon is running while the process in its pid file lives (or, without one, while a
    /// process of `process`'s name does); a one-shot service (neither) is started once its start
    /// command has run, as OpenRC records it.
    public var pidFile: String?
    public var process: String?
    public var start: String
    public var stop: String?
    /// The signal that stops it (TERM unless said).
    public var stopSignal: String
    /// The TCP port it serves on, so a health check that probes the port names it.
    public var port: Int?
    /// The files it logs to, inside the node.
    public var logs: [String]
    /// A line its first log shows once it has started, where a running process does not say
    /// so: keepalived, started in the background, writes its pid file before it reads its config.
    public var readyLine: String?
    /// The program it needs on the machine, and the Debian package that has it.
    public var program: String?
    public var package: String?

    public init(
        name: String, pidFile: String? = nil, process: String? = nil, start: String, stop: String? = nil,
        stopSignal: String = "TERM",
        port: Int? = nil, logs: [String] = [], readyLine: String? = nil, program: String? = nil, package: String? = nil
    ) {
        self.name = name
        self.pidFile = pidFile
        self.process = process
        self.start = start
        self.stop = stop
        self.stopSignal = stopSignal
        self.port = port
        self.logs = logs
        self.readyLine = readyLine
        self.program = program
        self.package = package
    }

    public static let keepalived = Service(
        name: "keepalived", pidFile: "/run/keepalived.pid",
        // --dont-fork so that its log goes to a file halab can show; it runs in the background.
        start: "keepalived --dont-fork --log-console --log-detail >>/var/log/keepalived.log 2>&1 &",
        logs: ["/var/log/keepalived.log"], readyLine: "Startup complete", program: "keepalived", package: "keepalived")
    public static let nginx = Service(
        name: "nginx", pidFile: "/run/nginx.pid", start: "nginx", port: 80,
        logs: ["/var/log/nginx/error.log", "/var/log/nginx/access.log"], program: "nginx", package: "nginx")
    public static let haproxy = Service(
        name: "haproxy", pidFile: "/run/haproxy.pid",
        start: "haproxy -D -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid",
        port: 80, program: "haproxy", package: "haproxy")
    /// conntrack-tools' daemon, which copies a gateway's connection table to its peer so that
    /// connections through it survive a failover; `-d` daemonizes it.
    public static let conntrackd = Service(
        name: "conntrackd", process: "conntrackd", start: "conntrackd -d -C /etc/conntrackd/conntrackd.conf",
        logs: ["/var/log/conntrackd.log"], program: "conntrackd", package: "conntrackd")
    /// Alpine's `local`: runs the executable /etc/local.d/*.start files at boot, *.stop at shutdown.
    public static let local = Service(
        name: "local",
        start: #"rc=0; for f in /etc/local.d/*.start; do [ -x "$f" ] || continue; "#
            + #""$f" || { echo " * $f failed"; rc=1; }; done; [ $rc = 0 ]"#,
        stop: #"for f in /etc/local.d/*.stop; do [ -x "$f" ] && "$f"; done; true"#)

    public static let builtIn = [nginx, keepalived, haproxy, conntrackd, local]
    public static var names: [String] { builtIn.map(\.name) }

    public static func named(_ name: String) -> Service? { builtIn.first { $0.name == name } }
}
