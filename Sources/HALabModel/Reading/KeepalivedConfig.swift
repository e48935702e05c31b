/// One line of keepalived.conf as keepalived's parser hands it to a keyword: its words, where
/// it was written, and the lines of its `{ … }` block, if it has one.
public struct ConfigItem: Sendable, Equatable {
    public var words: [String]
    public var file: String
    public var line: Int
    /// The lines inside the item's `{ … }` block; nil when it has none.
    public var block: [ConfigItem]?

    public var keyword: String { words.first ?? "" }
    public var arguments: [String] { Array(words.dropFirst()) }
    public var location: ConfigLocation { ConfigLocation(file: file, line: line) }
}

/// keepalived.conf read the way keepalived 2.2.7 reads it (keepalived.conf(5), "ADVANCED
/// CONFIGURATION"; lib/parser.c): a file is read as bytes, line by line; `#` and `!` start a
/// comment outside quotes; `@ID` and `@^ID` lines are kept only for (or except for) the config
/// id; `$NAME=VALUE` defines a parameter (a value ending in `\` goes on over the next lines),
/// and `$NAME` or `${NAME}` is replaced by it, recursively, at use; `~SEQ(VAR, START, STEP, END)`
/// repeats the rest of its line; `include PATTERN` reads the files a glob matches; every `{` and
/// `}` outside quotes stands as a line of its own, so blocks may open and close anywhere.
/// Nothing a file holds makes this throw: what keepalived would complain about is a finding.
public enum KeepalivedConfig {
    /// Where a config's files come from: a file's bytes, and the files an `include` pattern
    /// matches (node paths), given the file that includes them.
    public struct Source: Sendable {
        public var read: @Sendable (String) throws -> [UInt8]
        public var expand: @Sendable (_ pattern: String, _ includingFile: String) -> [String]
        /// Where a file read comes from, when that is worth a word (an info finding).
        public var origin: @Sendable (String) -> String?

        public init(
            read: @escaping @Sendable (String) throws -> [UInt8],
            expand: @escaping @Sendable (String, String) -> [String],
            origin: @escaping @Sendable (String) -> String? = { _ in nil }
        ) {
            self.read = read
            self.expand = expand
            self.origin = origin
        }

        /// One text, no includes: for tests and single files.
        public static func text(_ text: String) -> Source {
            Source(read: { _ in Array(text.utf8) }, expand: { _, _ in [] })
        }
    }

    public struct Parsed: Sendable {
        public var items: [ConfigItem]
        public var findings: [Finding]
        /// Where a line left out for another config id set `keyword` (`@ID keyword …`).
        var otherIDLines: [(keyword: String, location: ConfigLocation)] = []
    }

    /// Parses `file` and what it includes, as keepalived would with `-i configID`. `file` is the
    /// path findings name.
    public static func parse(file: String, source: Source, configID: String? = nil) -> Parsed {
        var lines = LineReader(source: source, configID: configID)
        lines.read(file: file, depth: 0)
        var blocks = BlockBuilder()
        for line in lines.output { blocks.add(line) }
        let items = blocks.finish()
        return Parsed(
            items: items, findings: lines.findings + blocks.findings + [lines.configIDFinding].compactMap { $0 },
            otherIDLines: lines.configIDFinding == nil ? [] : lines.otherIDs.map { ($0.keyword, $0.location) })
    }

    /// Parses one text without includes.
    public static func parse(_ text: String, file: String, configID: String? = nil) -> Parsed {
        parse(file: file, source: .text(text), configID: configID)
    }
}

/// A line as keepalived's parser hands it on: `{`, `}`, or words.
struct ReadLine: Sendable {
    var text: String
    var location: ConfigLocation
}

/// What a block holds, as keepalived's parser knows it: keywords (some of which open blocks
/// of their own), values (one per line, until `}`), or, for blocks halab does not read, lines
/// whose structure is taken from their braces alone.
indirect enum BlockKind: Sendable {
    case keywords([String: BlockKind])
    case values
    case opaque
}

/// Builds blocks from lines as keepalived's process_stream does: a keyword that takes a block
/// opens it at once, and its `{` is expected next (keepalived reports it missing and reads the
/// block all the same); a `{` after any other keyword is ignored ("Unexpected '{'"); a `}`
/// closes the innermost block.
struct BlockBuilder {
    struct Level {
        var kind: BlockKind
        var items: [ConfigItem] = []
        var expectingBrace = false
        var opened: ConfigLocation?
    }

    var stack: [Level] = [Level(kind: KeepalivedKeywords.structure)]
    var findings: [Finding] = []

    mutating func add(_ line: ReadLine) {
        if stack[stack.count - 1].expectingBrace {
            stack[stack.count - 1].expectingBrace = false
            if line.text == "{" { return }
            let keyword = stack[stack.count - 2].items.last?.keyword ?? ""
            findings.append(
                Finding(
                    .error, at: line.location,
                    "'{' missing after \(keyword): keepalived reports it and reads the block all the same"))
        }
        let level = stack[stack.count - 1]
        switch (line.text, level.kind) {
        case ("}", _):
            guard stack.count > 1 else {
                return findings.append(
                    Finding(
                        .warning, at: line.location,
                        "'}' closes no block: keepalived reports it (\"Unknown keyword '}'\") and goes on"))
            }
            close()
        case ("{", .opaque) where level.items.last.map({ $0.block == nil }) == true:
            stack.append(Level(kind: .opaque, opened: line.location))
        case ("{", .keywords), ("{", .opaque):
            findings.append(
                Finding(
                    .warning, at: line.location,
                    "'{' follows no keyword that takes a block: keepalived ignores it (\"Unexpected '{'\")"))
        default:
            // An unterminated quote was reported when the line was read: the words before it count.
            let words = Self.words(line.text).words
            guard !words.isEmpty else { return }
            stack[stack.count - 1].items.append(
                ConfigItem(words: words, file: line.location.file, line: line.location.line, block: nil))
            if case .keywords(let blocks) = level.kind, let child = blocks[words[0]] {
                stack.append(Level(kind: child, expectingBrace: true, opened: line.location))
            }
        }
    }

    mutating func close() {
        let children = stack.removeLast().items
        stack[stack.count - 1].items[stack[stack.count - 1].items.count - 1].block = children
    }

    mutating func finish() -> [ConfigItem] {
        if stack.count > 1 {
            findings.append(
                Finding(
                    .error, at: stack[1].opened,
                    "\(stack.count - 1) block(s) opened here and after are never closed with '}': keepalived reports "
                        + "\"missing '}'\" and takes them as closed at the end"))
        }
        while stack.count > 1 { close() }
        return stack[0].items
    }

    /// Words as keepalived splits them: at blanks and before a `"`; a word that starts with `"`
    /// runs to the next `"`, which it leaves out.
    static func words(_ text: String) -> (words: [String], unterminatedQuote: Bool) {
        let blanks: Set<Character> = [" ", "\t", "\u{0B}", "\u{0C}", "\r", "\n"]
        var words: [String] = []
        var rest = Substring(text)
        while true {
            rest = rest.drop { blanks.contains($0) }
            guard let first = rest.first else { return (words, false) }
            if first == "\"" {
                let body = rest.dropFirst()
                guard let close = body.firstIndex(of: "\"") else { return (words, true) }
                words.append(String(body[..<close]))
                rest = body[body.index(after: close)...]
            } else {
                let end = rest.firstIndex { blanks.contains($0) || $0 == "\"" } ?? rest.endIndex
                words.append(String(rest[..<end]))
                rest = rest[end...]
            }
        }
    }
}
