/// Parameter substitution and sequences, as keepalived 2.2.7 does them (keepalived.conf(5),
/// "Parameter substitution", "Sequence blocks").
extension LineReader {
    /// A use of a parameter in a line: `$NAME` (followed by a blank, `,`, `)` or the line's
    /// end) or `${NAME}`, `${NAME 1 2}` with numbers for the predefined ones that take them.
    struct Reference {
        var name: String
        var parameters: [Int]
        /// Where the use ends (exclusive), and whether it ends the line: only there may a
        /// multi-line definition be used.
        var end: Int
        var endsLine: Bool
    }

    static func reference(in characters: [Character], at start: Int) -> Reference? {
        var index = start + 1
        let braces = index < characters.count && characters[index] == "{"
        if braces { index += 1 }
        guard index < characters.count, characters[index].isASCII,
            characters[index].isLetter || characters[index] == "_"
        else { return nil }
        let nameStart = index
        while index < characters.count, characters[index].isASCII,
            characters[index].isLetter || characters[index].isNumber || characters[index] == "_"
        {
            index += 1
        }
        let name = String(characters[nameStart..<index])
        guard braces else {
            guard index == characters.count || [" ", "\t", ",", ")"].contains(characters[index]) else { return nil }
            return Reference(name: name, parameters: [], end: index, endsLine: index == characters.count)
        }
        let parametersStart = index
        while index < characters.count,
            characters[index] == " " || characters[index].isASCII && characters[index].isNumber
        { index += 1 }
        let parameterText = String(characters[parametersStart..<index])
        guard index < characters.count, characters[index] == "}",
            parameterText.last != " " || parameterText.allSatisfy({ $0 == " " })
        else { return nil }
        let parameters = parameterText.split(separator: " ").compactMap { Int($0) }
        return Reference(name: name, parameters: parameters, end: index + 1, endsLine: index + 1 == characters.count)
    }

    /// The value of a parameter: the user's definition, else keepalived's own ones.
    func value(of reference: Reference) -> [String]? {
        if let defined = definitions[reference.name] {
            return reference.parameters.isEmpty ? defined : nil
        }
        switch reference.name {
        case "_PWD": return [String(file[..<(file.lastIndex(of: "/") ?? file.startIndex)])]
        case "_INSTANCE": return [configID ?? ""]
        // keepalived picks a random number in [MIN, MAX]; halab, to be repeatable, the least.
        case "_RANDOM": return [String(reference.parameters.first ?? 0)]
        case "_HASH": return ["#"]
        case "_BANG": return ["!"]
        default: return nil
        }
    }

    /// Replaces every parameter use in `text`, a replaced value looked at again at once (so
    /// values may use parameters); nil if there was none. A multi-line definition used at the
    /// line's end gives its first line in place and its other lines after (`following`).
    mutating func substitute(_ text: String, at location: ConfigLocation) -> (text: String, following: [String])? {
        guard text.contains("$") else { return nil }
        var characters = Array(text)
        var bytes = text.utf8.count
        var following: [String] = []
        var replaced = 0
        var index = 0
        while index < characters.count {
            guard characters[index] == "$", let reference = Self.reference(in: characters, at: index),
                let lines = value(of: reference), reference.endsLine || !multiline.contains(reference.name),
                !isCyclic(reference.name, at: location)
            else {
                index += 1
                continue
            }
            let value = lines.first ?? ""
            let removed = characters[index..<reference.end].reduce(0) { $0 + $1.utf8.count }
            guard bytes - removed + value.utf8.count < Self.lineLimit, replaced < 10_000 else {
                note(
                    .warning, location,
                    "parameter substitution would make the line longer than keepalived's \(Self.lineLimit) bytes: "
                        + "keepalived stops substituting on it (\"would exceed maximum line length\")")
                break
            }
            characters.replaceSubrange(index..<reference.end, with: value)
            bytes += value.utf8.count - removed
            if multiline.contains(reference.name) { following = Array(lines.dropFirst()) + following }
            replaced += 1
            if value.drop(while: { $0 == " " || $0 == "\t" }).first == "~" { break }
        }
        return replaced == 0 ? nil : (String(characters), following)
    }

    /// Whether the parameter's value comes back to a parameter it needs, directly (`$IF=$IF`) or
    /// through others: keepalived then substitutes forever, or until the line is full. Said once
    /// per chain, where it is first used; halab leaves such a use as it is written.
    mutating func isCyclic(_ name: String, at location: ConfigLocation) -> Bool {
        guard let chain = cycle(from: name) else { return false }
        let key = chain.dropLast().sorted().joined(separator: " ")
        if reportedCycles.insert(key).inserted {
            // A chain of bare uses ($A=$B, $B=$A) never grows, so keepalived never stops.
            let bare = zip(chain, chain.dropFirst()).allSatisfy { name, next in
                ["$\(next)", "${\(next)}"].contains {
                    (definitions[name] ?? []).map { String($0.trimmingBlanks()) } == [$0]
                }
            }
            note(
                .error, location,
                "parameter \(chain.map { "$" + $0 }.joined(separator: " → ")) refers to itself: keepalived "
                    + (bare
                        ? "substitutes it forever and never starts"
                        : "substitutes it until the line reaches \(Self.lineLimit) bytes")
                    + "; halab leaves $\(name) unsubstituted")
        }
        return true
    }

    /// The chain of parameters from `name` back to one already on it (`[A, B, A]`), or nil.
    func cycle(from name: String) -> [String]? {
        var path: [String] = []
        var acyclic: Set<String> = []
        func visit(_ name: String) -> [String]? {
            if let start = path.firstIndex(of: name) { return Array(path[start...]) + [name] }
            guard !acyclic.contains(name), let lines = definitions[name] else { return nil }
            path.append(name)
            defer { path.removeLast() }
            for used in lines.flatMap(Self.parameterNames) {
                if let found = visit(used) { return found }
            }
            acyclic.insert(name)
            return nil
        }
        return visit(name)
    }

    /// The parameters a line uses.
    static func parameterNames(in text: String) -> [String] {
        let characters = Array(text)
        return characters.indices.filter { characters[$0] == "$" }.compactMap {
            reference(in: characters, at: $0)?.name
        }
    }

    /// `~SEQ(VAR, START, STEP, END) rest` (or `~SEQx`, in hexadecimal): `rest` once for each
    /// value of VAR.
    mutating func sequence(_ text: String, at location: ConfigLocation, depth: Int, expansion: Int) {
        guard let (name, values, hex, rest) = Self.parseSequence(text, substitute: { substituteOnce($0, at: location) })
        else {
            return note(.error, location, "invalid ~SEQ: keepalived ignores the line (\"Invalid ~SEQ definition\")")
        }
        var count = 0
        // Out of the loop once exhausted: a range may hold 2^63 values.
        for value in values {
            guard !exhausted else { return }
            count += 1
            repetitions += 1
            guard count <= 10_000 else {
                return note(.error, location, "~SEQ repeats more than 10000 times: halab reads no further")
            }
            definitions[name] = [hex ? String(value, radix: 16) : String(value)]
            multiline.remove(name)
            process(rest, at: location, depth: depth, expansion: expansion + 1)
        }
    }

    /// `~LST(VAR, V1, V2 …) rest` or `~LST({VAR1, VAR2}, {V1, V2}, {V3, V4} …) rest`: `rest` once
    /// for each value (or set of values, a missing one blank), as keepalived 2.2.7's add_lst reads it.
    mutating func list(_ text: String, at location: ConfigLocation, depth: Int, expansion: Int) {
        let parsed = Self.parseList(text)
        guard case .success(let (names, sets, rest)) = parsed else {
            let why =
                if case .failure(.tooManyValues) = parsed { " (\"~LST specification has too many values\")" } else {
                    ""
                }
            return note(
                .error, location, "invalid ~LST: keepalived ignores the line (\"Invalid ~LST specification\")\(why)")
        }
        for values in sets {
            guard !exhausted else { return }
            repetitions += 1
            for (name, value) in zip(names, values) {
                definitions[name] = [value]
                multiline.remove(name)
            }
            process(rest, at: location, depth: depth, expansion: expansion + 1)
        }
    }

    enum ListError: Error { case invalid, tooManyValues }

    /// The variables, a set of values for each repetition, and the rest of the line.
    static func parseList(_ text: String) -> Result<(names: [String], sets: [[String]], rest: String), ListError> {
        let characters = Array(text)
        var index = 4
        let at = { (character: Character) in index < characters.count && characters[index] == character }
        func skipBlanks() { while at(" ") || at("\t") { index += 1 } }
        func word(until stops: String) -> String {
            let start = index
            while index < characters.count && !stops.contains(characters[index]) { index += 1 }
            return String(characters[start..<index])
        }
        skipBlanks()
        guard at("(") else { return .failure(.invalid) }
        index += 1
        skipBlanks()
        let braced = at("{")
        if braced {
            index += 1
            skipBlanks()
        }
        // Without braces, one variable: keepalived stops at the first ',' as the names' end.
        var names: [String] = []
        while true {
            names.append(word(until: " \t,}"))
            skipBlanks()
            if at(braced ? "}" : ",") { break }
            guard at(",") else { return .failure(.invalid) }
            index += 1
            skipBlanks()
        }
        if at("}") {
            index += 1
            skipBlanks()
        }
        guard at(",") else { return .failure(.invalid) }
        index += 1
        skipBlanks()
        var sets: [[String]] = []
        while true {
            let bracedSet = at("{")
            if bracedSet {
                index += 1
                skipBlanks()
            }
            var values: [String] = []
            while true {
                values.append(word(until: " \t,})"))
                skipBlanks()
                if at(bracedSet ? "}" : ",") || (!bracedSet && at(")")) { break }
                guard at(",") else { return .failure(.invalid) }
                index += 1
                skipBlanks()
                guard values.count < names.count else { return .failure(.tooManyValues) }
            }
            sets.append(values + Array(repeating: "", count: max(0, names.count - values.count)))
            if bracedSet && at("}") {
                index += 1
                skipBlanks()
            }
            if at(")") { break }
            guard at(",") else { return .failure(.invalid) }
            index += 1
            skipBlanks()
        }
        index += 1
        skipBlanks()
        return .success((names, sets, String(characters[min(index, characters.count)...])))
    }

    mutating func substituteOnce(_ text: String, at location: ConfigLocation) -> String? {
        guard let (replaced, following) = substitute(text, at: location) else { return text }
        return following.isEmpty ? replaced : nil
    }

    /// The variable, its values, hexadecimal or not, and the rest of the line; nil if invalid.
    static func parseSequence(_ text: String, substitute: (String) -> String?)
        -> (name: String, values: StrideThrough<Int>, hex: Bool, rest: String)?
    {
        var rest = Substring(text.dropFirst(4))
        let hex = rest.first == "x"
        if hex { rest = rest.dropFirst() }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        guard rest.first == "(" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
        let name = rest.prefix { ![" ", "\t", ",", ")"].contains($0) }
        rest = rest.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
        guard !name.isEmpty, rest.first == ",", let close = rest.firstIndex(of: ")") else { return nil }
        guard let numbers = substitute(String(rest[rest.index(after: rest.startIndex)..<close])) else { return nil }
        let parts = numbers.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingBlanks() }
        let values = parts.compactMap(cLong)
        guard (1...3).contains(parts.count), values.count == parts.count else { return nil }
        let (start, step, end): (Int, Int, Int)
        switch values.count {
        case 1: (start, step, end) = (values[0] < 0 ? -1 : 1, values[0] < 1 ? -1 : 1, values[0])
        case 2: (start, step, end) = (values[0], values[0] <= values[1] ? 1 : -1, values[1])
        default: (start, step, end) = (values[0], values[1], values[2])
        }
        guard step != 0, !(start < end && step < 0), !(start > end && step > 0), !(hex && (start < 0 || end < 0)) else {
            return nil
        }
        let after = rest[rest.index(after: close)...].drop { $0 == " " || $0 == "\t" }
        return (String(name), stride(from: start, through: end, by: step), hex, String(after))
    }

    /// A number as C's strtol reads it with base 0: decimal, 0x hexadecimal, 0 octal.
    static func cLong(_ text: Substring) -> Int? {
        var digits = text
        let negative = digits.first == "-"
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        let radix: Int
        if digits.lowercased().hasPrefix("0x") {
            radix = 16; digits = digits.dropFirst(2)
        } else if digits.count > 1 && digits.first == "0" {
            radix = 8
        } else {
            radix = 10
        }
        guard let value = Int(digits, radix: radix) else { return nil }
        return negative ? -value : value
    }
}

extension StringProtocol {
    func trimmingBlanks() -> Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
