/// What a `vrrp_script` looks at, read from the commands it runs (inline, or the lines of a
/// script file the node has), and so which failures it sees (measured live: README, Checks):
/// - a process check (`pidof`, `killall -0`, `pgrep`, `ps -C`, `rc-service … status`,
///   `systemctl is-active`, `service … status`, `/etc/init.d/NAME status`) sees only an exit;
/// - an HTTP check (`curl`, `wget`) sees an exit, a hang (by its own timeout, or keepalived's
///   `timeout` on the script) and a refusal;
/// - a TCP connect (`nc -z`, bash's `/dev/tcp`) sees an exit and a refusal; a hang it may miss:
///   the kernel completes the handshake into a frozen listener's backlog until that is full;
/// - a ping sees whether its target answers.
/// A check the model cannot read is `unknown`, with the reason: it then predicts nothing the
/// check would decide.
public struct HealthCheck: Sendable, Equatable {
    public enum Probe: Sendable, Hashable {
        case process(service: String)
        /// A request to a service of a node (the checking node itself, or another).
        case http(service: String, node: String)
        case tcp(service: String, node: String)
        /// A ping of an address a node has.
        case ping(node: String, address: String)
        /// The lab says which service the check looks at (`checks:` in lab.yaml), not how: it
        /// sees the service stop; whether it sees a hang or a refusal, the model cannot tell.
        case named(service: String)
    }

    public var probes: [Probe] = []
    /// Why the model cannot tell what the check sees, where it cannot.
    public var unknown: String?

    /// A command's words, as a shell splits them.
    public static func words(_ command: String) -> [String] { CheckReader.words(command) }

    /// The services of `node` the check looks at.
    public func services(on node: String) -> [String] {
        probes.compactMap { probe in
            switch probe {
            case .process(let service), .named(let service): service
            case .http(let service, let target), .tcp(let service, let target): target == node ? service : nil
            case .ping: nil
            }
        }.uniqueInOrder()
    }
}

/// What a check says now: it passes, it fails, or the model cannot know (and why).
public enum CheckVerdict: Sendable, Equatable {
    case passes, fails
    case unknown(String)
}

/// A service's state as the model follows it.
public enum ServiceState: Sendable, Equatable {
    case running, stopped, hung, refusing
}

extension HealthCheck.Probe {
    /// What the probe says while its service is in `state` (and, for another node's service or
    /// a ping, while that node answers at all).
    func verdict(_ state: ServiceState, answers: Bool) -> CheckVerdict {
        guard answers else { return .fails }
        switch (self, state) {
        case (_, .running): return .passes
        case (_, .stopped): return .fails
        case (.process, _): return .passes  // the processes are there, frozen or refusing
        case (.http, _): return .fails
        case (.tcp, .refusing): return .fails
        case (.tcp(let service, _), _):
            return .unknown(
                "a TCP connect to \(service) may complete into a frozen listener's backlog: whether it sees the hang "
                    + "depends on the backlog"
            )
        case (.named(let service), _):
            return .unknown(
                "lab.yaml says the check looks at \(service), not how: whether it sees it "
                    + "\(state == .hung ? "hang" : "refuse connections") is unknown"
            )
        case (.ping, _): return .passes
        }
    }
}

/// Reads checks: the words of a command, as keepalived runs it (no shell unless it names one).
struct CheckReader {
    /// The node the check runs on, its services and the programs they run as; every node's ports.
    var node: String
    var services: [String]
    var programs: [String: String]
    var ports: [String: [Int: String]]
    /// Every node's addresses, to name the target of a request or a ping.
    var addresses: [String: [String]]
    /// Each VIP: a request to one reaches whichever node holds it.
    var virtualAddresses: Set<String>
    /// Script files the node has, by path.
    var files: [String: String]

    func read(_ command: String) -> HealthCheck {
        var check = HealthCheck()
        readText(command, into: &check, depth: 0)
        check.probes = check.probes.uniqueInOrder()
        if check.unknown == nil && check.probes.isEmpty {
            check.unknown = "'\(command)' probes nothing the model can read"
        }
        return check
    }

    /// A command line or a script: its simple commands, split at `;`, `&&`, `||`, `|` and new lines.
    func readText(_ text: String, into check: inout HealthCheck, depth: Int) {
        guard depth < 4 else { return unknown("scripts call scripts too deep", &check) }
        if text.contains("/dev/tcp/") { readDevTCP(text, into: &check) }
        for line in text.split(separator: "\n") {
            var clean = line.drop { $0 == " " || $0 == "\t" }
            if clean.hasPrefix("#") { continue }
            if let hash = clean.range(of: " #") { clean = clean[..<hash.lowerBound] }
            var current = ""
            var quote: Character?
            var commands: [String] = []
            for character in clean {
                if let open = quote {
                    if character == open { quote = nil }
                    current.append(character)
                } else if character == "'" || character == "\"" {
                    quote = character
                    current.append(character)
                } else if ";|&".contains(character) {
                    commands.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            commands.append(current)
            for command in commands { readCommand(Self.words(command), into: &check, depth: depth) }
        }
    }

    /// Words as a shell splits them, quotes taken off.
    static func words(_ command: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for character in command {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character == " " || character == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// Words that only steer or test values and change nothing: the model looks past them.
    static let neutral: Set<String> = [
        "if", "then", "else", "elif", "fi", "!", "exit", "return", "echo", "printf", "true", "false", "[", "[[", "test",
        "]",
        "sleep", "grep", "egrep", "wc", "awk", "sed", "head", "tail", "cut", "tr", "cat", "read", "local", "export",
        "set",
        "while", "do", "done", "for", "case", "esac", "logger", "date", ":", "{", "}", "then:", "fi;"
    ]
    /// Words before the command they run.
    static let prefixes: Set<String> = [
        "exec", "timeout", "sudo", "nice", "command", "env", "then", "else", "do", "!", "if", "while"
    ]

    func readCommand(_ words: [String], into check: inout HealthCheck, depth: Int) {
        var words = words
        // Prefixes, their options and numbers (`timeout 2`, `timeout -k 1 2`), and variable assignments.
        while let first = words.first,
            Self.prefixes.contains(first) || first.hasPrefix("-") || Double(first.trimmingSuffix("s")) != nil
                || (first.contains("=") && !first.hasPrefix("-") && !first.hasPrefix("/"))
        {
            words.removeFirst()
        }
        // Redirections (`</dev/tcp/HOST/PORT`, read with the whole text) are no command, nor words
        // of one; but a shell's `-c` text is read as it is.
        let shells: Set<String> = ["sh", "bash", "ash", "dash"]
        if !shells.contains(String(words.first?.split(separator: "/").last ?? "")) {
            words.removeAll { $0.hasPrefix("<") || $0.hasPrefix(">") || $0.hasPrefix("2>") }
        }
        guard let program = words.first else { return }
        let name = String(program.split(separator: "/").last ?? "")
        let rest = Array(words.dropFirst())
        if name.contains("=") || name.hasPrefix("$") { return }
        switch name {
        case "sh", "bash", "ash", "dash":
            if let index = rest.firstIndex(of: "-c"), index + 1 < rest.count {
                return readText(rest[index + 1], into: &check, depth: depth + 1)
            }
            if let file = rest.first(where: { !$0.hasPrefix("-") }) {
                return readFile(file, into: &check, depth: depth)
            }
            return unknown("'\(words.joined(separator: " "))' runs a shell the model cannot follow", &check)
        case "pidof", "pgrep", "pidofproc":
            let targets = rest.filter { !$0.hasPrefix("-") }
            processes(targets, command: words, into: &check)
        case "killall", "pkill", "kill":
            guard rest.contains("-0") else {
                return unknown(
                    "'\(words.joined(separator: " "))' ends processes itself: the model cannot follow it", &check)
            }
            processes(rest.filter { !$0.hasPrefix("-") && Int($0) == nil }, command: words, into: &check)
        case "ps":
            if let index = rest.firstIndex(of: "-C"), index + 1 < rest.count {
                processes([rest[index + 1]], command: words, into: &check)
            }
        case "rc-service", "service", "systemctl":
            // rc-service and service take NAME ACTION; systemctl ACTION NAME.
            let plain = rest.filter { !$0.hasPrefix("-") }
            guard plain.count >= 2 else {
                return unknown("'\(words.joined(separator: " "))' is a command the model cannot read", &check)
            }
            let (service, action) = name == "systemctl" ? (plain[1], plain[0]) : (plain[0], plain[1])
            serviceCommand(service.replacingOccurrences(of: ".service", with: ""), action, command: words, into: &check)
        case "curl", "wget":
            guard let url = rest.first(where: { $0.contains("://") }) ?? rest.last(where: { !$0.hasPrefix("-") }) else {
                return unknown("'\(words.joined(separator: " "))' names no URL the model can read", &check)
            }
            request(url, tcp: false, command: words, into: &check)
        case "nc", "ncat", "netcat":
            let plain = rest.enumerated().filter { index, word in
                !word.hasPrefix("-") && !(index > 0 && ["-w", "-W", "-i", "-q", "-s", "-p"].contains(rest[index - 1]))
            }.map(\.element)
            guard rest.contains(where: { $0.hasPrefix("-") && $0.contains("z") }), plain.count >= 2,
                let port = Int(plain[1])
            else {
                return unknown(
                    "'\(words.joined(separator: " "))' is an nc the model cannot read (it reads 'nc -z HOST PORT')",
                    &check)
            }
            target(host: plain[0], port: port, tcp: true, command: words, into: &check)
        case "ping", "ping6", "arping", "fping":
            guard let address = rest.last(where: { !$0.hasPrefix("-") && Double($0) == nil }) else { return }
            guard let node = addresses.first(where: { $0.value.contains(address) })?.key else {
                return unknown(
                    "\(name) \(address): an address no node of the lab has, which the model cannot see", &check)
            }
            if node != self.node { check.probes.append(.ping(node: node, address: address)) }
        default:
            if Self.neutral.contains(name) { return }
            if program.hasPrefix("/etc/init.d/"), let action = rest.first {
                return serviceCommand(name, action, command: words, into: &check)
            }
            if program.hasPrefix("/") || program.hasPrefix("./") {
                return readFile(program, into: &check, depth: depth)
            }
            unknown("'\(words.joined(separator: " "))' is a command the model cannot read", &check)
        }
    }

    /// `status` (or `is-active`) asks whether the service runs; anything else changes it.
    func serviceCommand(_ service: String, _ action: String, command: [String], into check: inout HealthCheck) {
        guard ["status", "is-active"].contains(action) else {
            return unknown(
                "'\(command.joined(separator: " "))' starts or stops a service itself: the model cannot follow it",
                &check)
        }
        processes([service], command: command, into: &check)
    }

    func readFile(_ path: String, into check: inout HealthCheck, depth: Int) {
        guard let text = files[path] else {
            return unknown("\(path) is no file of the node's in the lab: the model cannot read what it runs", &check)
        }
        readText(text, into: &check, depth: depth + 1)
    }

    func processes(_ names: [String], command: [String], into check: inout HealthCheck) {
        let found = names.compactMap { name in services.contains(name) ? name : programs[name] }
        guard !found.isEmpty else {
            return unknown(
                "'\(command.joined(separator: " "))' looks for \(names.joined(separator: ", ")), which \(node) does "
                    + "not run",
                &check)
        }
        check.probes += found.map { .process(service: $0) }
    }

    /// `scheme://host[:port]/…`: a request to the service on that port of the node with that address.
    func request(_ url: String, tcp: Bool, command: [String], into check: inout HealthCheck) {
        let scheme = url.contains("://") ? String(url.prefix { $0 != ":" }) : "http"
        let authority = (url.contains("://") ? url.drop { $0 != ":" }.dropFirst(3) : Substring(url)).prefix {
            $0 != "/"
        }
        var host = String(authority)
        var port = scheme == "https" ? 443 : 80
        if host.hasPrefix("[") {
            let close = host.firstIndex(of: "]") ?? host.endIndex
            if let value = Int(host[close...].drop { $0 != ":" }.dropFirst()) { port = value }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":"), let value = Int(host[host.index(after: colon)...]) {
            port = value
            host = String(host[..<colon])
        }
        target(host: host, port: port, tcp: tcp, command: command, into: &check)
    }

    func target(host: String, port: Int, tcp: Bool, command: [String], into check: inout HealthCheck) {
        let local =
            ["localhost", "127.0.0.1", "::1", "0.0.0.0"].contains(host) || (addresses[node] ?? []).contains(host)
        if virtualAddresses.contains(host) {
            return unknown("'\(command.joined(separator: " "))' asks the VIP \(host), whose holder changes", &check)
        }
        guard let target = local ? node : addresses.first(where: { $0.value.contains(host) })?.key else {
            return unknown("'\(command.joined(separator: " "))' asks \(host), which no node of the lab has", &check)
        }
        guard let service = ports[target]?[port] else {
            return unknown(
                "'\(command.joined(separator: " "))' asks port \(port) of \(target), which none of its services serves",
                &check)
        }
        check.probes.append(tcp ? .tcp(service: service, node: target) : .http(service: service, node: target))
    }

    /// bash's `/dev/tcp/HOST/PORT`: a TCP connect.
    func readDevTCP(_ text: String, into check: inout HealthCheck) {
        for range in text.ranges(of: "/dev/tcp/") {
            let parts = text[range.upperBound...].prefix { !" \t\n;|&)'\"<>".contains($0) }.split(separator: "/")
            if parts.count == 2, let port = Int(parts[1]) {
                target(
                    host: String(parts[0]), port: port, tcp: true, command: ["/dev/tcp/\(parts[0])/\(port)"],
                    into: &check)
            }
        }
    }

    func unknown(_ why: String, _ check: inout HealthCheck) {
        if check.unknown == nil { check.unknown = why }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> Substring { hasSuffix(suffix) ? dropLast(suffix.count) : Substring(self) }
}

/// A service a notify command starts or stops.
public struct ServiceAction: Sendable, Equatable, Hashable {
    public var service: String
    public var start: Bool
}

extension CheckReader {
    /// What a notify command does to the node's services: each `rc-service`, `service`,
    /// `systemctl` or `/etc/init.d/NAME` start, stop or restart, directly or in a script file of
    /// the node's; and why the model cannot follow it, where it cannot.
    func serviceActions(_ command: String) -> (actions: [ServiceAction], unknown: String?) {
        var actions: [ServiceAction] = []
        var unknown: String?
        func read(_ text: String, depth: Int) {
            guard depth < 4 else { return }
            for line in text.split(separator: "\n") where !line.drop(while: \.isWhitespace).hasPrefix("#") {
                for part in line.split(whereSeparator: { ";|&".contains($0) }) {
                    var words = Self.words(String(part))
                    while let first = words.first,
                        Self.prefixes.contains(first) || first.hasPrefix("-") || first.contains("=")
                    { words.removeFirst() }
                    guard let program = words.first else { continue }
                    let name = String(program.split(separator: "/").last ?? "")
                    let plain = words.dropFirst().filter { !$0.hasPrefix("-") }
                    let serviceAndVerb: (String, String)? =
                        switch name {
                        case "rc-service", "service":
                            plain.count >= 2 ? (plain[plain.startIndex], plain[plain.startIndex + 1]) : nil
                        case "systemctl":
                            plain.count >= 2
                                ? (
                                    plain[plain.startIndex + 1].replacingOccurrences(of: ".service", with: ""),
                                    plain[plain.startIndex]
                                ) : nil
                        default: program.hasPrefix("/etc/init.d/") ? plain.first.map { (name, $0) } : nil
                        }
                    if let (service, verb) = serviceAndVerb, ["start", "stop", "restart"].contains(verb),
                        services.contains(service)
                    {
                        actions.append(ServiceAction(service: service, start: verb != "stop"))
                    } else if ["sh", "bash", "ash", "dash"].contains(name), let index = words.firstIndex(of: "-c"),
                        index + 1 < words.count
                    {
                        read(words[index + 1], depth: depth + 1)
                    } else if let file = files[program] {
                        read(file, depth: depth + 1)
                    } else if !Self.neutral.contains(name) {
                        unknown = unknown ?? "'\(words.joined(separator: " "))'"
                    }
                }
            }
        }
        read(command, depth: 0)
        return (actions, unknown)
    }
}
