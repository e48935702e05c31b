import Foundation
import Glibc
import HALabSystem

/// The files halab puts into a namespace node: its boot script, and the commands an Alpine
/// node has that Debian lacks or runs differently.
enum NodeFiles {
    /// `rc-service NAME start|stop|restart|status`, over the node's services (`Service`).
    static func rcService(services: [Service]) -> String {
        var cases = ""
        for service in services {
            let quoted = { (text: String) in "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            var settings = ["start_cmd=\(quoted(service.start))", "signal=\(service.stopSignal)"]
            if let line = service.readyLine, let log = service.logs.first {
                settings += ["ready_line=\(quoted(line))", "ready_log=\(log)"]
            }
            if let pidFile = service.pidFile {
                settings.append("pidfile=\(pidFile)")
            } else if let process = service.process {
                settings.append("process=\(quoted(process))")
            } else {
                settings += ["marker=/run/openrc-\(service.name).started", "stop_cmd=\(quoted(service.stop ?? "true"))"]
            }
            cases += "    \(service.name)) \(settings.joined(separator: "; ")) ;;\n"
        }
        return """
            #!/bin/sh
            # rc-service of a halab node: OpenRC's start/stop/status, by pid file, for this node's services.
            name=${1:-}; action=${2:-}
            cd /
            case "$name" in
            \(cases)    *) echo " * rc-service: service \\`$name' does not exist" >&2; exit 1 ;;
            esac

            """ + rcServiceActions
    }

    /// What `rc-service` does for the service its case chose, as OpenRC would.
    static let rcServiceActions = """
        marker=${marker:-}; process=${process:-}; pidfile=${pidfile:-}; ready_line=${ready_line:-}; \
        ready_log=${ready_log:-}
        pids() {
            if [ -n "$process" ]; then pidof "$process"; else cat "$pidfile" 2>/dev/null; fi
        }
        running() {
            if [ -n "$marker" ]; then [ -f "$marker" ]; return; fi
            if [ -n "$process" ]; then pidof "$process" >/dev/null; return; fi
            [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null
        }
        ready() { # its log says it started, past what the log held before (10 s at most); or it stopped
            [ -z "$ready_line" ] && return 0
            i=0
            while [ $i -lt 100 ]; do
                tail -c +$((offset + 1)) "$ready_log" 2>/dev/null | grep -q "$ready_line" && return 0
                running || return 1
                sleep 0.1; i=$((i + 1))
            done
            return 1
        }
        wait_for() { # $1: "up" or "down"; 10 s at most
            i=0
            while [ $i -lt 100 ]; do
                if [ "$1" = up ]; then running && return 0; else running || return 0; fi
                sleep 0.1; i=$((i + 1))
            done
            return 1
        }
        case "$action" in
        start)
            if running; then echo " * WARNING: $name has already been started"; exit 0; fi
            echo " * Starting $name ..."
            if [ -n "$marker" ]; then
                if eval "$start_cmd"; then touch "$marker"; echo " [ ok ]"; exit 0; fi
                echo " * ERROR: $name failed to start"; exit 1
            fi
            offset=$( { wc -c < "${ready_log:-/dev/null}"; } 2>/dev/null || echo 0)
            eval "$start_cmd"
            if wait_for up && ready; then echo " [ ok ]"; else echo " * ERROR: $name failed to start"; exit 1; fi ;;
        stop)
            if ! running; then echo " * WARNING: $name is already stopped"; exit 0; fi
            echo " * Stopping $name ..."
            if [ -n "$marker" ]; then eval "$stop_cmd"; rm -f "$marker"; echo " [ ok ]"; exit 0; fi
            kill -"$signal" $(pids)
            if wait_for down; then [ -n "$pidfile" ] && rm -f "$pidfile"; echo " [ ok ]"; else echo " * ERROR: $name   \
          did not stop"; exit 1; fi ;;
        restart) "$0" "$name" stop && exec "$0" "$name" start ;;
        reload)
            if ! running; then echo " * ERROR: $name is not running"; exit 1; fi
            echo " * Reloading $name ..."
            kill -HUP $(pids) && echo " [ ok ]" ;;
        status)
            if running; then echo " * status: started"; else echo " * status: stopped"; exit 3; fi ;;
        *) echo "usage: rc-service $name start|stop|restart|reload|status" >&2; exit 1 ;;
        esac

        """

    /// Debian's pidof is a link to killall5, and keepalived 2.2.7 resolves links and runs the
    /// target under its own name, where it only prints usage (vrrp-facts.md). Called through
    /// this script, pidof keeps its name and works, so the document's `pidof nginx` runs as written.
    static let pidof = """
        #!/bin/sh
        # pidof of a halab node: runs Debian's pidof under its own name (see halab's NodeFiles.swift).
        exec /bin/pidof "$@"

        """

    /// The script that is PID 1 of a node until it becomes halab-init: hostname, the node's
    /// own file system view, then the services.
    static func bootScript(node: NodeSpec, stateDirectory: String) -> String {
        var lines = [
            "#!/bin/sh",
            "# Boot of halab node \(node.name): PID 1 of its namespaces, then halab-init.",
            "set -eu",
            "export PATH=\(Command.path)",
            "hostname \(node.name)",
            // A booting machine's processes start in /: the directory halab ran in may not exist in the node.
            "cd /"
        ]
        for mount in overlayMounts(node: node, stateDirectory: stateDirectory) {
            lines.append("mount -n -t overlay halab -o \(mount.options) \(mount.target)")
        }
        // A machine knows its own name: looked up (curl's --write-out %{json} does), it must not go to
        // the host's resolver, through a lab's default route. The /etc overlay takes the line.
        lines.append("grep -qw '\(node.name)' /etc/hosts 2>/dev/null || echo '127.0.1.1 \(node.name)' >> /etc/hosts")
        lines += [
            // The node's own /run: its pid files, so a dead node's stale ones never block a revive.
            "mount -n -t tmpfs -o mode=0755 halab /run",
            "mount -n -t tmpfs -o mode=1777 halab /tmp",
            "ip link set lo up"
        ]
        if node.forwarding { lines.append("echo 1 > /proc/sys/net/ipv4/ip_forward") }
        lines += [
            "exec /usr/local/sbin/halab-init \(node.services.joined(separator: " "))",
            ""
        ]
        return lines.joined(separator: "\n")
    }

    /// The machine's top folders a node's files overlay: /etc, /var, and each one a layer has.
    static func topFolders(of node: NodeSpec) -> [String] {
        var folders = ["etc", "var"]
        for layer in node.fileLayers {
            for entry in FileSystem.list(layer) where FileSystem.isDirectory("\(layer)/\(entry)") {
                if !folders.contains(entry) { folders.append(entry) }
            }
        }
        return folders
    }

    struct OverlayMount: Equatable {
        var target: String
        var options: String
    }

    /// One overlay per top-level folder of the node's files, plus /etc and /var, so the lab's
    /// files show at their absolute paths and nothing a node writes reaches the host's files.
    /// Writes land in the node's state folder, where halab reads logs even after a crash.
    static func overlayMounts(node: NodeSpec, stateDirectory: String) -> [OverlayMount] {
        var mounts: [OverlayMount] = []
        for folder in topFolders(of: node) {
            let lowers = node.fileLayers.map { "\($0)/\(folder)" }.filter(FileSystem.isDirectory) + ["/\(folder)"]
            let writable = "\(stateDirectory)/rw/\(folder)"
            mounts.append(
                OverlayMount(
                    target: "/\(folder)",
                    options:
                        "lowerdir=\(lowers.joined(separator: ":")),upperdir=\(writable)/upper,workdir=\(writable)/work")
            )
        }
        // Read-only: the node's rc-service, pidof and halab-init, first on PATH.
        mounts.append(
            OverlayMount(
                target: "/usr/local/sbin", options: "lowerdir=\(stateDirectory)/sbin:/usr/local/sbin"))
        // And rc-service where Alpine has it, /sbin/rc-service, for scripts that name it so.
        let sbin = URL(fileURLWithPath: "/sbin").resolvingSymlinksInPath().path
        mounts.append(OverlayMount(target: sbin, options: "lowerdir=\(stateDirectory)/alpine:\(sbin)"))
        return mounts
    }
}

extension NodeFiles {
    /// `/etc/halab/node.sh` of a VM node, read by the image's init: name, links (MAC=NAME=ADDRESS,
    /// no address on a NIC of a bond or bridge), then in `halab_routes` (run once the links are
    /// up) bonds and bridges, IPv6 addresses, routes, forwarding; services.
    static func guestSettings(node: NodeSpec, macs: [String]) -> String {
        let links = zip(macs, node.interfaces).map { "\($0)=\($1.name)=\($1.address ?? "")" }
        var routes = aggregateCommands(node.aggregates).map { "    \($0)" }
        // No duplicate address detection, as on namespaces: the address is usable at once.
        routes += node.interfaces.compactMap { interface in
            interface.address6.map { "    ip -6 addr add \($0) dev \(interface.name) nodad" }
        }
        routes += node.routes.map { "    ip route replace \($0)" }
        if node.forwarding { routes.append("    echo 1 > /proc/sys/net/ipv4/ip_forward") }
        return """
            # Settings of halab VM node \(node.name), read by /init.
            HALAB_NODE='\(node.name)'
            HALAB_LINKS='\(links.joined(separator: " "))'
            HALAB_SERVICES='\(node.services.joined(separator: " "))'
            halab_routes() {
                true
            \(routes.joined(separator: "\n"))
            }

            """
    }
}

extension NodeFiles {
    /// Shell commands that make a VM node's bonds and bridges of its NICs. A bond is
    /// active-backup, its first NIC the primary (active whenever its link is up), links watched
    /// every 100 ms; a NIC is enslaved while down, as the bonding driver wants.
    static func aggregateCommands(_ aggregates: [AggregateSpec]) -> [String] {
        guard !aggregates.isEmpty else { return [] }
        // max_bonds=0: the driver makes no bond0 of its own.
        var commands = ["modprobe bonding max_bonds=0", "modprobe bridge"]
        for aggregate in aggregates {
            commands.append(
                aggregate.kind == .bond
                    ? "ip link add \(aggregate.name) type bond mode active-backup miimon 100"
                    : "ip link add \(aggregate.name) type bridge")
            commands += aggregate.members.map {
                "ip link set \($0) down && ip link set \($0) master \(aggregate.name) && ip link set \($0) up"
            }
            if aggregate.kind == .bond {
                commands.append("ip link set \(aggregate.name) type bond primary \(aggregate.members[0])")
            }
            if let address = aggregate.address { commands.append("ip addr add \(address) dev \(aggregate.name)") }
            commands.append("ip link set \(aggregate.name) up")
        }
        return commands
    }
}

/// What halab-init writes once it has started a node's services: one line per service,
/// `NAME ok` or `NAME failed`. Both backends read it alike.
enum InitStatus {
    static let path = "/var/log/halab-init.status"

    /// Throws when a service failed to start, with the last lines of `logs` (given the failed
    /// services' names) as the output.
    static func check(_ status: String, node: String, logs: ([String]) -> String) throws {
        let failed = status.split(separator: "\n").filter { $0.hasSuffix(" failed") }.map {
            String($0.split(separator: " ")[0])
        }
        guard failed.isEmpty else {
            throw HALabError.commandFailed(
                command: "rc-service \(failed.joined(separator: ", ")) start on \(node)", status: "failed",
                output: logs(failed).split(separator: "\n").suffix(10).joined(separator: "\n"))
        }
    }
}

/// halab-probe as both backends run it inside a node.
enum ProbeProgram {
    /// `interval` in milliseconds: whole ones as integers, which a node image's older probe reads too.
    /// Requests time out after a second; a held connection's last one is waited for up to
    /// `heldDrain` milliseconds once the probe is stopped (it is then pending: stalled).
    /// `ready`: the file a held connection's probe makes once each connection is open.
    static func arguments(
        interval: Double, connections: ProbeConnections, seconds: Int, addresses: [String], ready: String = "-"
    ) -> [String] {
        let milliseconds = interval == interval.rounded() ? "\(Int(interval))" : String(format: "%.3f", interval)
        return switch connections {
        case .new: [milliseconds, "1000", "\(seconds)"] + addresses
        case .held: ["hold", milliseconds, "\(heldDrain)", "\(seconds)", ready] + addresses
        }
    }

    /// Long enough for a retransmission to reach a VIP's new holder after a crash and be reset.
    static let heldDrain = 8000

    /// Its record; it ends on SIGTERM when halab is done with it.
    static func record(_ result: CommandResult, node: String) throws -> [ProbeSample] {
        guard result.succeeded || result.exitCode == 128 + SIGTERM else {
            throw HALabError.commandFailed(
                command: "halab-probe in \(node)", status: "exit \(result.exitCode)", output: result.errorOutput)
        }
        return ProbeSample.parse(result.output)
    }
}
