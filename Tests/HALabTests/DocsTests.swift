import ArgumentParser
import Foundation
import Testing
import Yams
@testable import HALab
@testable import HALabModel
@testable import halab

/// README.md and docs/ stay true: every `halab …` line in a code block parses with halab's own
/// argument parser (its chaos actions with the chaos vocabulary's), every lab it names exists,
/// every YAML block marked `lab` or `scenario` loads, every link stays in the repository and
/// finds its file and heading, and every figure comes from docs/figures.md. A renamed flag fails
/// here rather than the reader.
@Suite struct DocsTests {
    static let root = URL(fileURLWithPath: KeepalivedConfigTests.labs).deletingLastPathComponent().path

    static var pages: [String] {
        ["\(root)/README.md"] + FileSystemList.markdown(in: "\(root)/docs")
    }

    @Test func everyHalabLineInTheDocsParses() throws {
        var seen = 0
        for page in Self.pages {
            for block in Markdown.codeBlocks(try String(contentsOfFile: page, encoding: .utf8))
            where !block.info.hasPrefix("yaml") {
                for line in CommandLines.halab(in: [block.text]) {
                    seen += 1
                    let problems = CommandLines.problems(line)
                    #expect(problems.isEmpty, "\(URL(fileURLWithPath: page).lastPathComponent): \(line): \(problems)")
                }
            }
        }
        #expect(seen > 40)
    }

    /// The check itself: a misspelt flag, subcommand, chaos action or lab, a wrong value, a
    /// missing argument are found; placeholders in capitals are taken as values.
    @Test func aMisspeltWordInADocIsFound() {
        #expect(CommandLines.problems("halab verify master-backup --timeline out").isEmpty)
        #expect(CommandLines.problems("halab verify LAB --scenario FILE --shard K/N").isEmpty)
        #expect(
            CommandLines.problems("halab verify master-backup --timline out") == [
                "Unknown option '--timline'. Did you mean '--timeline'?"
            ])
        #expect(CommandLines.problems("halab verfy master-backup").first?.contains("verfy") == true)
        #expect(CommandLines.problems("halab chaos hnag nginx nginx-1").first?.contains("hnag") == true)
        #expect(CommandLines.problems("halab up master-bakup") == ["no lab folder labs/master-bakup"])
        #expect(CommandLines.problems("halab bench master-backup --runs 5").first?.contains("master-backup") == true)
        #expect(CommandLines.problems("halab explore master-backup --runs many").first?.contains("many") == true)
        #expect(CommandLines.problems("halab report merge a.json --junit j.xml").isEmpty)
        #expect(CommandLines.problems("halab report merj a.json").first?.contains("merj") == true)
    }

    /// Every link of README.md and docs/ names a file of the repository (and a heading of it,
    /// after #); none leaves the repository.
    @Test func everyLinkStaysInTheRepositoryAndResolves() throws {
        for page in Self.pages {
            let text = try String(contentsOfFile: page, encoding: .utf8)
            let folder = URL(fileURLWithPath: page).deletingLastPathComponent()
            for link in Markdown.links(text) where !link.hasPrefix("http://") && !link.hasPrefix("https://") {
                let (path, anchor) = (
                    String(link.prefix { $0 != "#" }),
                    link.contains("#") ? String(link.drop { $0 != "#" }.dropFirst()) : nil
                )
                let target =
                    path.isEmpty ? URL(fileURLWithPath: page) : folder.appendingPathComponent(path).standardizedFileURL
                #expect(target.path.hasPrefix(Self.root + "/"), "\(page): \(link) leaves the repository")
                #expect(FileManager.default.fileExists(atPath: target.path), "\(page): \(link) names no file")
                if let anchor, let linked = try? String(contentsOf: target, encoding: .utf8) {
                    #expect(
                        Markdown.anchors(linked).contains(anchor),
                        "\(page): \(link) names no heading of \(target.lastPathComponent)")
                }
            }
        }
    }

    /// A measured figure (seconds, milliseconds, MiB, a share) in README.md or docs/ is one of
    /// docs/figures.md, where its command is.
    @Test func everyFigureComesFromFigures() throws {
        let figures = try String(contentsOfFile: "\(Self.root)/docs/figures.md", encoding: .utf8)
        for page in Self.pages where !page.hasSuffix("/figures.md") {
            for figure in Markdown.figures(try String(contentsOfFile: page, encoding: .utf8)) {
                #expect(
                    figures.contains(figure),
                    "\(URL(fileURLWithPath: page).lastPathComponent): '\(figure)' is not in docs/figures.md")
            }
        }
    }

    @Test func everyLabAndScenarioBlockLoads() throws {
        var loaded = 0
        for page in Self.pages {
            for block in Markdown.codeBlocks(try String(contentsOfFile: page, encoding: .utf8))
            where block.info.hasPrefix("yaml") {
                let kind = block.info.split(separator: " ").dropFirst().first.map(String.init)
                #expect(
                    ["lab", "scenario", "fragment"].contains(kind ?? ""),
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
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".md") }.sorted()
            .map { "\(folder)/\($0)" }
    }
}

/// Fenced code blocks of a Markdown text: the info string after the opening fence, and the text.
enum Markdown {
    /// The targets of `[text](target)` links, outside code.
    static func links(_ text: String) -> [String] {
        prose(text).matches(of: /\]\(([^)\s]+)\)/).map { String($0.output.1) }
    }

    /// GitHub's anchors of a page's headings: lower case, spaces to '-', punctuation gone.
    static func anchors(_ text: String) -> Set<String> {
        Set(
            text.split(separator: "\n").filter { $0.hasPrefix("#") }.map { heading in
                String(
                    heading.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
                        .compactMap {
                            $0 == " " ? "-" : $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : nil
                        })
            })
    }

    /// Measured figures: a decimal number of seconds, milliseconds, MiB or percent, or minutes
    /// and seconds, outside code blocks.
    static func figures(_ text: String) -> [String] {
        prose(text).matches(of: /\b\d+\.\d+ (?:s|ms|MiB|%)(?![\w])|\b\d+ min \d+ s\b/).map { String($0.output) }
    }

    /// The text outside fenced code blocks.
    static func prose(_ text: String) -> String {
        var inside = false
        return text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            if line.hasPrefix("```") { inside.toggle(); return false }
            return !inside
        }.joined(separator: "\n")
    }

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

/// `halab …` command lines in texts, and what halab's own parser says of them.
enum CommandLines {
    /// Each `halab SUBCOMMAND …` in the texts, up to the end of its line, a comment, `&&`, `|` or `;`.
    static func halab(in texts: [String]) -> [String] {
        texts.flatMap { text in
            text.split(whereSeparator: { "\n;|&".contains($0) }).compactMap { part -> String? in
                let code = part.components(separatedBy: " #").first ?? ""
                guard let range = code.range(of: "halab "),
                    code[..<range.lowerBound].replacingOccurrences(of: "sudo", with: "").allSatisfy({
                        " $(".contains($0)
                    })
                else { return nil }
                let line = String(code[range.lowerBound...]).trimmingCharacters(in: .whitespaces)
                let words = line.split(separator: " ")
                return words.count > 1 && !words[1].hasPrefix("-") ? line : nil
            }
        }
    }

    /// Placeholders the docs write in capitals, and a value of each kind for the parser.
    static let placeholders = ["K/N": "1/2", "N": "3", "SECONDS": "1", "PERCENT": "30", "MS": "10", "COUNT": "2"]

    /// What does not parse, a chaos action the vocabulary lacks, a lab not in labs/.
    static func problems(_ line: String) -> [String] {
        let words = HealthCheck.words(line).dropFirst().map { placeholders[$0] ?? $0 }
        let command: ParsableCommand
        do { command = try HALabCommand.parseAsRoot(Array(words)) } catch {
            return [HALabCommand.message(for: error)]
        }
        if let chaos = command as? Chaos {
            do { _ = try Fault.parse(chaos.action) } catch { return ["\(error)"] }
        }
        if let lab = (command as? NamesALab)?.namedLab, lab.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }),
            !FileManager.default.fileExists(atPath: "\(DocsTests.root)/labs/\(lab)")
        {
            return ["no lab folder labs/\(lab)"]
        }
        return []
    }
}
