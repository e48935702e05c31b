/// keepalived.conf read the way keepalived reads it: line by line, words split on blanks,
/// `"…"` a single word, `#` or `!` starting a comment, `{` at a line's end opening a block
/// that a line holding `}` closes (a one-line `{ … }` block is not keepalived's grammar), and
/// `include PATTERN` replaced by the files the glob matches, in order.
public struct ConfigItem: Sendable, Equatable {
    public var words: [String]
    public var file: String
    public var line: Int
    /// The lines inside the item's `{ … }` block; nil when it has none.
    public var block: [ConfigItem]?

    public var keyword: String { words.first ?? "" }
    public var arguments: [String] { Array(words.dropFirst()) }
    public var location: String { "\(file):\(line)" }
}

public enum KeepalivedConfig {
    /// Where a config's files come from: the text of a file, and the files an `include`
    /// pattern matches (node paths), given the file that includes them.
    public struct Source: Sendable {
        public var read: @Sendable (String) throws -> String
        public var expand: @Sendable (_ pattern: String, _ includingFile: String) -> [String]

        public init(read: @escaping @Sendable (String) throws -> String,
                    expand: @escaping @Sendable (String, String) -> [String]) {
            self.read = read
            self.expand = expand
        }

        /// One text, no includes: for tests and single files.
        public static func text(_ text: String) -> Source {
            Source(read: { _ in text }, expand: { _, _ in [] })
        }
    }

    /// Parses `file` and what it includes. `file` is the path messages name.
    public static func parse(file: String, source: Source) throws -> [ConfigItem] {
        var lines: [(file: String, line: Int, words: [String])] = []
        try collect(file: file, source: source, depth: 0, into: &lines)
        return try blocks(of: lines)
    }

    /// Parses one text without includes.
    public static func parse(_ text: String, file: String) throws -> [ConfigItem] {
        try parse(file: file, source: .text(text))
    }

    private static func collect(file: String, source: Source, depth: Int,
                                into lines: inout [(file: String, line: Int, words: [String])]) throws {
        guard depth < 8 else {
            throw ConfigError(file: file, line: nil, message: "includes nest more than 8 deep (an include loop?)")
        }
        let text = try source.read(file)
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = try words(of: rawLine, file: file, line: index + 1)
            if words.first == "include" {
                guard words.count == 2 else {
                    throw ConfigError(file: file, line: index + 1, message: "include takes one path or glob")
                }
                for included in source.expand(words[1], file) {
                    try collect(file: included, source: source, depth: depth + 1, into: &lines)
                }
            } else if !words.isEmpty {
                lines.append((file, index + 1, words))
            }
        }
    }

    private static func blocks(of lines: [(file: String, line: Int, words: [String])]) throws -> [ConfigItem] {
        var stack: [[ConfigItem]] = [[]]
        var openedAt: [(file: String, line: Int)] = []
        for (file, lineNumber, original) in lines {
            var words = original
            if words == ["}"] {
                guard stack.count > 1 else {
                    throw ConfigError(file: file, line: lineNumber, message: "'}' closes no block")
                }
                let children = stack.removeLast()
                openedAt.removeLast()
                stack[stack.count - 1][stack[stack.count - 1].count - 1].block = children
                continue
            }
            // `{` alone continues the previous line's item.
            if words == ["{"], !stack[stack.count - 1].isEmpty {
                stack.append([])
                openedAt.append((file, lineNumber))
                continue
            }
            let opens = words.last == "{"
            if opens { words.removeLast() }
            guard !words.contains("{"), !words.contains("}") else {
                throw ConfigError(file: file, line: lineNumber,
                    message: "keepalived reads '{' only at the end of a line and '}' only on a line of its own")
            }
            stack[stack.count - 1].append(ConfigItem(words: words, file: file, line: lineNumber, block: nil))
            if opens {
                stack.append([])
                openedAt.append((file, lineNumber))
            }
        }
        if let open = openedAt.last {
            throw ConfigError(file: open.file, line: open.line, message: "block opened here is never closed with '}'")
        }
        return stack[0]
    }

    static func words(of line: Substring, file: String, line number: Int) throws -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        for character in line {
            if quoted {
                if character == "\"" { quoted = false; words.append(current); current = "" } else { current.append(character) }
            } else if character == "\"" {
                quoted = true
            } else if character == "#" || character == "!" {
                break
            } else if character.isWhitespace {
                if !current.isEmpty { words.append(current); current = "" }
            } else {
                current.append(character)
            }
        }
        if quoted { throw ConfigError(file: file, line: number, message: "unterminated '\"'") }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
