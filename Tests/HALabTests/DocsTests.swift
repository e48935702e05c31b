import Foundation
import Testing
import Yams
@testable import HALab

/// README.md and docs/ stay true: every `halab …` line in a code block names a real subcommand
/// (and chaos action) with flags it has, every lab it names exists, and every YAML block marked
/// `lab` or `scenario` loads. A renamed flag fails here rather than the reader.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: E2E.halab), "needs halab built ('swift build')"))
struct DocsTests {
    static let root = URL(fileURLWithPath: KeepalivedConfigTests.labs).deletingLastPathComponent().path

    static var pages: [String] {
        ["\(root)/README.md"] + FileSystemList.markdown(in: "\(root)/docs")
    }

    @Test func everyHalabLineInTheDocsRuns() async throws {
        let checker = CommandLines()
        var seen = 0
        for page in Self.pages {
            for block in Markdown.codeBlocks(try String(contentsOfFile: page, encoding: .utf8)) where !block.info.hasPrefix("yaml") {
                for line in CommandLines.halab(in: [block.text]) {
                    seen += 1
                    let problems = await checker.problems(line)
                    #expect(problems.isEmpty, "\(URL(fileURLWithPath: page).lastPathComponent): \(line): \(problems)")
                }
            }
        }
        #expect(seen > 40)
    }

    /// The check itself: a misspelt flag, subcommand, chaos action or lab is found.
    @Test func aMisspeltWordInADocIsFound() async throws {
        let checker = CommandLines()
        #expect(await checker.problems("halab verify master-backup --timeline t.html").isEmpty)
        #expect(await checker.problems("halab verify master-backup --timline t.html") == ["'halab verify' has no flag --timline"])
        #expect(await checker.problems("halab verfy master-backup") == ["halab has no subcommand 'verfy'"])
        #expect(await checker.problems("halab chaos hnag nginx nginx-1") == ["'halab chaos' has no action 'hnag'"])
        #expect(await checker.problems("halab up master-bakup") == ["no lab folder labs/master-bakup"])
        #expect(await checker.problems("halab report merge a.json --junit j.xml").isEmpty)
        #expect(await checker.problems("halab report merj a.json") == ["'halab report' has no subcommand 'merj'"])
    }

    @Test func everyLabAndScenarioBlockLoads() throws {
        var loaded = 0
        for page in Self.pages {
            for block in Markdown.codeBlocks(try String(contentsOfFile: page, encoding: .utf8)) where block.info.hasPrefix("yaml") {
                let kind = block.info.split(separator: " ").dropFirst().first.map(String.init)
                #expect(["lab", "scenario", "fragment"].contains(kind ?? ""),
                        "\(page): a yaml block is marked 'yaml lab', 'yaml scenario' or 'yaml fragment' (a part of a file)")
                guard kind == "lab" || kind == "scenario" else { continue }
                let folder = try E2E.copy("master-backup", as: "docs-block")
                defer { E2E.removeCopy(folder) }
                let file = "\(folder)/\(kind == "lab" ? "lab" : "scenario").yaml"
                try block.text.write(toFile: file, atomically: true, encoding: .utf8)
                let lab = try Lab.load(folder: folder)
                if kind == "scenario" { _ = try lab.loadScenario(file) }
                loaded += 1
            }
        }
        #expect(loaded >= 2)
    }
}

enum FileSystemList {
    static func markdown(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".md") }.sorted().map { "\(folder)/\($0)" }
    }
}

/// Fenced code blocks of a Markdown text: the info string after the opening fence, and the text.
enum Markdown {
    static func codeBlocks(_ text: String) -> [(info: String, text: String)] {
        var blocks: [(info: String, text: String)] = []
        var open: (info: String, lines: [Substring])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let block = open {
                    blocks.append((block.info, block.lines.joined(separator: "\n")))
                    open = nil
                } else {
                    open = (line.dropFirst(3).trimmingCharacters(in: .whitespaces), [])
                }
            } else {
                open?.lines.append(line)
            }
        }
        return blocks
    }
}

/// `halab …` command lines in texts, and whether halab has their subcommands, chaos actions and
/// flags (asked of halab's own --help), and the lab folders they name.
actor CommandLines {
    /// Each `halab SUBCOMMAND …` in the texts, up to the end of its line, a comment, `&&`, `|` or `;`.
    static func halab(in texts: [String]) -> [String] {
        texts.flatMap { text in
            text.split(whereSeparator: { "\n;|&".contains($0) }).compactMap { part -> String? in
                let code = part.components(separatedBy: " #").first ?? ""
                guard let range = code.range(of: "halab "), code[..<range.lowerBound].allSatisfy({ " $(".contains($0) }) else { return nil }
                let line = String(code[range.lowerBound...]).trimmingCharacters(in: .whitespaces)
                let words = line.split(separator: " ")
                return words.count > 1 && !words[1].hasPrefix("-") ? line : nil
            }
        }
    }

    /// Subcommands that take a lab (a folder under labs/, or a path) first.
    static let takesALab: Set = ["up", "verify", "check", "explore", "bench", "graph"]
    var helps: [[String]: String] = [:]

    func help(_ path: [String]) async -> String {
        if let known = helps[path] { return known }
        let text = (try? await E2E.runHalab(path + ["--help"]))?.output ?? ""
        helps[path] = text
        return text
    }

    /// The names listed under a heading of a help text ("SUBCOMMANDS:", "Actions:").
    static func listed(under heading: String, in help: String) -> [String] {
        guard let start = help.range(of: "\n\(heading)\n") else { return [] }
        return help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { !$0.isEmpty }
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("    ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// What does not fit: a subcommand or action halab lacks, a flag its help does not name, a lab not in labs/.
    func problems(_ line: String) async -> [String] {
        var words = line.split(separator: " ").map(String.init).dropFirst()
        var path: [String] = []
        while let next = words.first, !next.hasPrefix("-") {
            let subcommands = Self.listed(under: "SUBCOMMANDS:", in: await help(path))
            guard !subcommands.isEmpty else { break }
            guard subcommands.contains(next) else {
                return [path.isEmpty ? "halab has no subcommand '\(next)'" : "'halab \(path.joined(separator: " "))' has no subcommand '\(next)'"]
            }
            path.append(words.removeFirst())
        }
        let help = await help(path)
        let name = "halab \(path.joined(separator: " "))"
        var problems: [String] = []
        let actions = Self.listed(under: "Actions:", in: help)
        if !actions.isEmpty, let action = words.first, !action.hasPrefix("-"), !actions.contains(action) {
            problems.append("'\(name)' has no action '\(action)'")
        }
        if let command = path.first, Self.takesALab.contains(command), let lab = words.first,
           lab.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), !FileManager.default.fileExists(atPath: "\(DocsTests.root)/labs/\(lab)") {
            problems.append("no lab folder labs/\(lab)")
        }
        problems += words.filter { $0.hasPrefix("--") }.map { String($0.prefix { $0 != "=" }) }.filter { !help.contains($0) }
            .map { "'\(name)' has no flag \($0)" }
        return problems
    }
}
