import HALabBackends
import HALabModel
import HALabSystem

import Yams

/// A YAML node with its file, for messages that name the file and line.
struct YAMLValue {
    let node: Node
    let file: String

    static func load(_ path: String) throws -> YAMLValue {
        let text = try FileSystem.read(path)
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw HALabError.badLabFile(file: path, line: nil, message: "is empty")
            }
            return YAMLValue(node: node, file: path)
        } catch let error as YamlError {
            throw HALabError.badLabFile(file: path, line: Self.line(of: error), message: "not valid YAML: \(error)")
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    var line: Int? { node.mark?.line }

    func fail(_ message: String) -> HALabError { .badLabFile(file: file, line: line, message: message) }

    /// The entries of a mapping, after checking every key is one of `allowed`.
    func mapping(allowed: [String], required: [String] = [], what: String) throws -> [String: YAMLValue] {
        guard case .mapping(let mapping) = node else { throw fail("\(what) must be a mapping") }
        var entries: [String: YAMLValue] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard allowed.contains(name) else {
                let guess = Spelling.closest(to: name, among: Set(allowed)).map { "did you mean '\($0)'? " } ?? ""
                throw HALabError.badLabFile(
                    file: file, line: key.mark?.line,
                    message: "unknown key '\(name)' in \(what) (\(guess)known: \(allowed.joined(separator: ", ")))")
            }
            entries[name] = YAMLValue(node: value, file: file)
        }
        for name in required where entries[name] == nil { throw fail("\(what) needs '\(name)'") }
        return entries
    }

    /// Whether it is a mapping with the key `name`.
    func has(_ name: String) -> Bool {
        guard case .mapping(let mapping) = node else { return false }
        return mapping.contains { $0.key.string == name }
    }

    /// A mapping whose keys are names chosen by the user, in file order.
    func namedEntries(what: String) throws -> [(name: String, line: Int?, value: YAMLValue)] {
        guard case .mapping(let mapping) = node else { throw fail("\(what) must be a mapping of names") }
        return mapping.map { key, value in (key.string ?? "", key.mark?.line, YAMLValue(node: value, file: file)) }
    }

    func sequence(what: String) throws -> [YAMLValue] {
        guard case .sequence(let sequence) = node else { throw fail("\(what) must be a list") }
        return sequence.map { YAMLValue(node: $0, file: file) }
    }

    func string(what: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw fail("\(what) must be a single value") }
        return scalar.string
    }

    func int(what: String) throws -> Int {
        guard let value = Int(try string(what: what)) else { throw fail("\(what) must be a whole number") }
        return value
    }

    func bool(what: String) throws -> Bool {
        switch try string(what: what) {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw fail("\(what) must be true or false")
        }
    }

    func strings(what: String) throws -> [String] {
        try sequence(what: what).map { try $0.string(what: what) }
    }
}
