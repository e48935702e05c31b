/// keepalived.conf read the way keepalived reads it: line by line, words split on blanks,
/// `"…"` a single word, `#` or `!` starting a comment, `{` at a line's end opening a block
/// that a line holding `}` closes. (A one-line `{ … }` block is not keepalived's grammar either.)
public struct ConfigItem: Sendable, Equatable {
    public var words: [String]
    public var line: Int
    /// The lines inside the item's `{ … }` block; nil when it has none.
    public var block: [ConfigItem]?

    public var keyword: String { words.first ?? "" }
    public var arguments: [String] { Array(words.dropFirst()) }
}

public enum KeepalivedConfig {
    public static func parse(_ text: String, file: String) throws -> [ConfigItem] {
        var stack: [[ConfigItem]] = [[]]
        var openedAt: [Int] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            var words = try words(of: rawLine, file: file, line: lineNumber)
            guard !words.isEmpty else { continue }
            if words == ["}"] {
                guard stack.count > 1 else {
                    throw HALabError.badLabFile(file: file, line: lineNumber, message: "'}' closes no block")
                }
                let children = stack.removeLast()
                openedAt.removeLast()
                stack[stack.count - 1][stack[stack.count - 1].count - 1].block = children
                continue
            }
            // `{` alone continues the previous line's item.
            if words == ["{"], !stack[stack.count - 1].isEmpty {
                stack.append([])
                openedAt.append(lineNumber)
                continue
            }
            let opens = words.last == "{"
            if opens { words.removeLast() }
            guard !words.contains("{"), !words.contains("}") else {
                throw HALabError.badLabFile(file: file, line: lineNumber,
                    message: "keepalived reads '{' only at the end of a line and '}' only on a line of its own")
            }
            stack[stack.count - 1].append(ConfigItem(words: words, line: lineNumber, block: nil))
            if opens {
                stack.append([])
                openedAt.append(lineNumber)
            }
        }
        if let line = openedAt.last {
            throw HALabError.badLabFile(file: file, line: line, message: "block opened here is never closed with '}'")
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
        if quoted { throw HALabError.badLabFile(file: file, line: number, message: "unterminated '\"'") }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
