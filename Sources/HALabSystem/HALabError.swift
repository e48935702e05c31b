/// The one error type of halab. Each case is one kind of failure; `description` is the
/// message a user sees, with the file and line or the fix where there is one.
public enum HALabError: Error, CustomStringConvertible, Equatable {
    /// A lab file (lab.yaml, scenario.yaml, keepalived.conf …) is wrong at `line` (1-based).
    case badLabFile(file: String, line: Int?, message: String)
    /// The lab named or given as a path does not exist.
    case labNotFound(String)
    /// A program halab needs is missing on this machine.
    case missingProgram(String, fix: String)
    /// The running kernel or machine lacks a feature.
    case unsupported(String)
    case notRoot
    case labAlreadyUp(String, builtFrom: String)
    case labNotUp(String)
    /// No lab name was given, and not exactly one lab is up.
    case whichLab(up: [String])
    case unknownNode(String, lab: String)
    case nodeNotRunning(String)
    /// A system command halab ran failed.
    case commandFailed(command: String, status: String, output: String)
    /// The words of a command (CLI or scenario step) are off.
    case usage(String)
    /// A libvirt call failed; `message` is libvirt's own.
    case libvirt(operation: String, message: String)
    /// `halab up` saw the lab start, but the VIPs did not answer as expected in time.
    case notConverged(String)
    /// Another halab changes the lab now (`--no-wait` refused to wait for it).
    case labBusy(String, holder: String)
    /// `halab down --force` took the lab from this command while it ran.
    case takenDown(String, by: Int32)
    /// Namespaces, processes or VMs of a lab whose state is gone stand where the lab would go.
    case leftovers(String, found: [String])

    public var description: String {
        switch self {
        case .badLabFile(let file, let line, let message):
            return line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)"
        case .labNotFound(let name):
            return "no lab '\(name)': give a folder under labs/ or a path to a lab folder (one with lab.yaml)"
        case .missingProgram(let program, let fix):
            return "'\(program)' is not installed: \(fix)"
        case .unsupported(let what):
            return what
        case .notRoot:
            return "halab needs root to create namespaces: run it with sudo"
        case .labAlreadyUp(let lab, let folder):
            return "lab '\(lab)' is already up (built from \(folder)): 'halab down \(lab)' first"
        case .labNotUp(let lab):
            return "lab '\(lab)' is not up: 'halab up \(lab)' first"
        case .whichLab(let up):
            return up.isEmpty
                ? "no lab is up: 'halab up LAB' first"
                : "several labs are up (\(up.joined(separator: ", "))): name one"
        case .unknownNode(let node, let lab):
            return "lab '\(lab)' has no node '\(node)'"
        case .nodeNotRunning(let node):
            return "node '\(node)' is not running (crashed or killed): 'halab chaos revive \(node)'"
        case .commandFailed(let command, let status, let output):
            let detail = output.trimmingSpaces()
            return "'\(command)' failed (\(status))" + (detail.isEmpty ? "" : ": \(detail)")
        case .usage(let message):
            return message
        case .libvirt(let operation, let message):
            return "libvirt could not \(operation): \(message)"
        case .notConverged(let message):
            return message
        case .labBusy(let lab, let holder):
            return "\(lab) is being changed by \(holder): wait for it, or run without --no-wait"
        case .takenDown(let lab, let pid):
            return "the lab \(lab) was taken down by another halab (pid \(pid))"
        case .leftovers(let lab, let found):
            return
                "leftovers of an earlier \(lab) are in the way (\(found.joined(separator: ", "))): remove them with "
                    + "'halab down \(lab)'"
        }
    }
}

extension String {
    package func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
