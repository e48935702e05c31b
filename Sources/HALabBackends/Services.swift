/// The services a node can run, started the way OpenRC starts them on Alpine: the one place
/// for their names, pid files, commands and logs.
public struct Service: Sendable {
    public var name: String
    /// A daemon is running while the process in its pid file lives; a one-shot service (no
    /// pid file) is started once its start command has run, as OpenRC records it.
    public var pidFile: String?
    var start: String
    var stop: String?
    /// The files it logs to, inside the node.
    public var logs: [String]
    /// The program it needs on the machine, and the Debian package that has it.
    var program: (name: String, package: String)?

    public static let keepalived = Service(
        name: "keepalived", pidFile: "/run/keepalived.pid",
        // --dont-fork so that its log goes to a file halab can show; it runs in the background.
        start: "keepalived --dont-fork --log-console --log-detail >>/var/log/keepalived.log 2>&1 &",
        logs: ["/var/log/keepalived.log"], program: ("keepalived", "keepalived"))
    public static let nginx = Service(
        name: "nginx", pidFile: "/run/nginx.pid", start: "nginx",
        logs: ["/var/log/nginx/error.log", "/var/log/nginx/access.log"], program: ("nginx", "nginx"))
    /// Alpine's `local`: runs the executable /etc/local.d/*.start files at boot, *.stop at shutdown.
    public static let local = Service(
        name: "local",
        start: #"rc=0; for f in /etc/local.d/*.start; do [ -x "$f" ] || continue; "$f" || { echo " * $f failed"; rc=1; }; done; [ $rc = 0 ]"#,
        stop: #"for f in /etc/local.d/*.stop; do [ -x "$f" ] && "$f"; done; true"#, logs: [])

    public static let all = [nginx, keepalived, local]
    public static var names: [String] { all.map(\.name) }

    public static func named(_ name: String) -> Service? { all.first { $0.name == name } }
}
