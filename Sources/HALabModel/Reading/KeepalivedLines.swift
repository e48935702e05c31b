/// keepalived's read_line: from the bytes of the files to the lines its keywords see, with
/// comments, conditional lines, parameters, sequences and includes dealt with as keepalived
/// 2.2.7 deals with them, and every `{` and `}` outside quotes split off as a line of its own.
/// Bounded: lines are cut at keepalived's 1024 bytes, expansion at a depth and count that no
/// sensible file reaches, so no file can make it loop.
struct LineReader {
    let source: KeepalivedConfig.Source
    let configID: String?
    var output: [ReadLine] = []
    var findings: [Finding] = []
    /// Parameters defined so far, global across included files as in keepalived: one line
    /// of text each, or several for a multi-line definition.
    var definitions: [String: [String]] = [:]
    var multiline: Set<String> = []
    /// Parameter chains that refer to themselves, each said once.
    var reportedCycles: Set<String> = []
    /// The multi-line definition whose lines are being read.
    var defining: String?
    /// The file being read: `${_PWD}` is its folder.
    var file = ""
    /// Lines kept only for another config id (`@ID keyword …`): the id, the line's keyword, where.
    var otherIDs: [(id: String, keyword: String, location: ConfigLocation)] = []
    /// Whether an `@ID` line was for this config id.
    var matchedID = false

    /// keepalived reads a line into 1024 bytes (MAXBUF).
    static let lineLimit = 1024
    static let expansionDepth = 32
    /// More lines than any real config: a file whose expansions (nested ~SEQ, definitions) would
    /// make more is read this far and said so.
    var outputLimit = 50_000
    /// Nested sequences whose lines make nothing (a dropped `@` line, a definition) produce no
    /// output to bound them: their repetitions, all counted, are bounded too.
    var repetitionLimit = 100_000
    var repetitions = 0

    var exhausted: Bool { output.count >= outputLimit || repetitions >= repetitionLimit }

    /// Why reading stopped early.
    var exhaustion: String {
        repetitions >= repetitionLimit
            ? "~SEQ repeats more than \(repetitionLimit) times in all once nested: halab reads no further"
            : "more than \(outputLimit) lines once expanded: halab reads no further"
    }

    init(source: KeepalivedConfig.Source, configID: String?) {
        self.source = source
        self.configID = configID
    }

    mutating func note(_ severity: Severity, _ location: ConfigLocation?, _ message: String) {
        findings.append(Finding(severity, at: location, message))
    }

    // MARK: Files

    mutating func read(file path: String, depth: Int) {
        guard depth <= 8 else {
            return note(
                .error, nil, "\(path): includes nest more than 8 deep (an include loop?): halab reads no further")
        }
        let bytes: [UInt8]
        do { bytes = try source.read(path) } catch {
            return note(.error, nil, "\(error)")
        }
        if let origin = source.origin(path) { note(.info, nil, origin) }
        let including = file
        file = path
        defer { file = including }
        var number = 0
        for chunk in Self.physicalLines(bytes) {
            if chunk.endsLine { number += 1 }
            let location = ConfigLocation(file: path, line: chunk.endsLine ? number : number + 1)
            physical(chunk.text, at: location, depth: depth)
            if exhausted { return note(.error, location, exhaustion) }
        }
        if let name = defining { end(definition: name) }
    }

    /// The file's lines as fgets into keepalived's buffer reads them: a longer line comes in
    /// pieces of 1023 bytes. Bytes that are not UTF-8 are read as U+FFFD, never refused.
    static func physicalLines(_ bytes: [UInt8]) -> [(text: String, endsLine: Bool)] {
        var lines: [(String, Bool)] = []
        var start = 0
        while start < bytes.count {
            let newline = bytes[start...].firstIndex(of: 10)
            let end = min(newline.map { $0 + 1 } ?? bytes.count, start + lineLimit - 1)
            var piece = bytes[start..<end]
            let endsLine = piece.last == 10
            while let last = piece.last, last == 10 || last == 13 { piece = piece.dropLast() }
            lines.append((String(decoding: piece, as: UTF8.self), endsLine))
            start = end
        }
        return lines
    }

    /// One line read from a file.
    mutating func physical(_ raw: String, at location: ConfigLocation, depth: Int) {
        if let name = defining, raw.isEmpty { return end(definition: name) }
        guard !raw.isEmpty else { return }
        let text = decomment(raw, at: location)
        if let name = defining { return continueDefinition(name, with: text) }
        guard !text.isEmpty else { return }
        process(text, at: location, depth: depth, expansion: 0)
    }

    /// keepalived's decomment: leading blanks off; `#` or `!` outside quotes starts a comment;
    /// `\#` and `\!` stand for the characters; a `\` at the end of the line is kept, alone, at
    /// the end (it continues a multi-line definition); trailing blanks off.
    mutating func decomment(_ raw: String, at location: ConfigLocation) -> String {
        var characters = Array(raw.drop { $0 == " " || $0 == "\t" })
        var quoted = false
        var comment: Int?
        var continued = false
        var index = 0
        while index < characters.count {
            switch characters[index] {
            case "\"":
                if comment == nil { quoted.toggle() }
            case "\\":
                if index + 1 == characters.count {
                    characters.removeLast()
                    continued = true
                } else if !quoted && (characters[index + 1] == "#" || characters[index + 1] == "!") {
                    characters.remove(at: index)
                } else {
                    index += 1
                }
            case "#", "!":
                if !quoted && comment == nil { comment = index }
            default: break
            }
            index += 1
        }
        if quoted { note(.error, location, "unterminated '\"': keepalived reports \"Unterminated quote\"") }
        if let comment { characters.removeSubrange(comment...) }
        while let last = characters.last, last == " " || last == "\t" { characters.removeLast() }
        return String(characters) + (continued ? "\\" : "")
    }

    // MARK: Definitions

    /// `$NAME=VALUE`: a name of letters, digits and `_` not starting with a digit, then `=`
    /// at once. A value ending in `\` goes on over the next lines.
    mutating func define(_ text: String) -> Bool {
        guard text.first == "$", let equals = text.firstIndex(of: "=") else { return false }
        let name = text[text.index(after: text.startIndex)..<equals]
        guard let first = name.first, first.isASCII, first.isLetter || first == "_",
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else { return false }
        var value = String(text[text.index(after: equals)...].drop { $0 == " " || $0 == "\t" })
        if value.hasSuffix("\\") {
            value.removeLast()
            while let last = value.last, last == " " || last == "\t" { value.removeLast() }
            definitions[String(name)] = value.isEmpty ? [] : [value]
            multiline.insert(String(name))
            defining = String(name)
        } else {
            definitions[String(name)] = [value]
            multiline.remove(String(name))
        }
        return true
    }

    mutating func continueDefinition(_ name: String, with text: String) {
        if text.hasSuffix("\\") {
            var line = String(text.dropLast())
            while let last = line.last, last == " " || last == "\t" { line.removeLast() }
            if !line.isEmpty { definitions[name, default: []].append(line) }
        } else {
            if !text.isEmpty { definitions[name, default: []].append(text) }
            end(definition: name)
        }
    }

    mutating func end(definition name: String) {
        defining = nil
        if definitions[name, default: []].isEmpty { multiline.remove(name) }
    }

    // MARK: Lines

    /// A line after its comments are gone (or a residue after a brace, or a line of an
    /// expansion): conditional, definition, sequence, parameters, include, then braces.
    mutating func process(_ line: String, at location: ConfigLocation, depth: Int, expansion: Int) {
        guard !exhausted else { return }
        guard expansion <= Self.expansionDepth else {
            return note(
                .error, location,
                "parameters expand more than \(Self.expansionDepth) deep here (a definition that uses itself?): halab "
                    + "reads no further on this line")
        }
        var text = line
        var following: [String] = []
        for _ in 0..<Self.lineLimit {
            guard let kept = conditional(text, at: location) else { return }
            text = kept
            if define(text) { return }
            if text.hasPrefix("~SEQ") { return sequence(text, at: location, depth: depth, expansion: expansion) }
            if text.hasPrefix("~LST") { return list(text, at: location, depth: depth, expansion: expansion) }
            if text.hasPrefix("~") || !text.contains("$") { break }
            guard let replaced = substitute(text, at: location) else { break }
            text = replaced.text
            following = replaced.following + following
            if !(text.hasPrefix("@") || text.contains("$")) { break }
        }
        if !include(text, at: location, depth: depth) { split(text, at: location, depth: depth, expansion: expansion) }
        for next in following { process(next, at: location, depth: depth, expansion: expansion + 1) }
    }

    /// `@ID rest` keeps `rest` only when ID is the config id; `@^ID rest` only when it is not.
    /// nil: the line is dropped.
    mutating func conditional(_ text: String, at location: ConfigLocation) -> String? {
        guard text.hasPrefix("@") else { return text }
        let negated = text.dropFirst().hasPrefix("^")
        let rest = text.dropFirst(negated ? 2 : 1)
        guard let blank = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        let matches = configID != nil && rest[..<blank] == Substring(configID!)
        let kept = String(rest[blank...].drop { $0 == " " || $0 == "\t" })
        if !negated && matches { matchedID = true }
        if !negated && !matches {
            otherIDs.append((String(rest[..<blank]), String(kept.prefix { $0 != " " && $0 != "\t" }), location))
        }
        guard matches != negated else { return nil }
        return kept
    }

    /// Where lines are only for config ids this one is not, and it matches none: one finding.
    var configIDFinding: Finding? {
        guard !matchedID, let first = otherIDs.first else { return nil }
        let ids = otherIDs.map(\.id).uniqueInOrder()
        return Finding(
            .warning, at: first.location,
            "lines here are only for config id\(ids.count > 1 ? "s" : "") \(ids.joined(separator: ", ")) (`@ID`), and "
                + "this config id, \(configID.map { "'\($0)'" } ?? "none"), matches none: keepalived leaves them out. "
                + "To check the config as one of them, pass --config-id ID (keepalived's -i ID)")
    }

    /// Splits off the first `{` or `}` outside quotes, as keepalived does, and hands the rest on.
    mutating func split(_ text: String, at location: ConfigLocation, depth: Int, expansion: Int) {
        var quoted = false
        var brace: String.Index?
        for index in text.indices {
            let character = text[index]
            if character == "\"" { quoted.toggle() }
            if !quoted && (character == "{" || character == "}") { brace = index; break }
        }
        guard let brace else { return emit(text, at: location) }
        if brace == text.startIndex {
            emit(String(text[brace]), at: location)
            let rest = String(text[text.index(after: brace)...].drop { $0 == " " || $0 == "\t" })
            if !rest.isEmpty { process(rest, at: location, depth: depth, expansion: expansion) }
        } else {
            emit(String(text[..<brace]), at: location)
            process(String(text[brace...]), at: location, depth: depth, expansion: expansion)
        }
    }

    mutating func emit(_ text: String, at location: ConfigLocation) {
        var line = Substring(text)
        while let last = line.last, last == " " || last == "\t" { line = line.dropLast() }
        if !line.isEmpty { output.append(ReadLine(text: String(line), location: location)) }
    }

    /// `include PATTERN`: the files the glob matches, read in place.
    mutating func include(_ text: String, at location: ConfigLocation, depth: Int) -> Bool {
        guard text.contains("include") else { return false }
        let words = BlockBuilder.words(text).words
        guard words.count == 2, words[0] == "include" else { return false }
        let files = source.expand(words[1], file)
        if files.isEmpty {
            note(.info, location, "include \(words[1]) matches no file (keepalived: \"No config files matched\")")
        }
        for included in files { read(file: included, depth: depth + 1) }
        return true
    }
}
