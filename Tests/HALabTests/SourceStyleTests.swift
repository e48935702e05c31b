import Foundation
import Testing

/// The code reads in a side-by-side diff: no line of Sources, Tests or Package.swift is longer than
/// the `lineLength` of `.swift-format` (swift-format wraps code; a string or comment it cannot
/// break is wrapped by hand). And a source file holds one concern: none over 400 lines.
@Suite struct SourceStyleTests {
    static func longLines(_ text: String, limit: Int) -> [Int] {
        text.components(separatedBy: "\n").enumerated()
            .filter { $0.element.count > limit }.map { $0.offset + 1 }
    }

    @Test func noLineIsLongerThanTheFormatAllows() throws {
        let root = DocsTests.root
        let format = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "\(root)/.swift-format")))
        let limit = try #require((format as? [String: Any])?["lineLength"] as? Int)
        var files = ["Package.swift"]
        for folder in ["Sources", "Tests"] {
            let all = FileManager.default.enumerator(atPath: "\(root)/\(folder)")?.allObjects as? [String] ?? []
            files += all.filter { $0.hasSuffix(".swift") }.map { "\(folder)/\($0)" }
        }
        #expect(files.count > 100)
        var long: [String] = []
        for file in files.sorted() {
            let text = try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
            long += Self.longLines(text, limit: limit).map { "\(file):\($0)" }
        }
        #expect(long.isEmpty, "lines over \(limit) characters: \(long.joined(separator: ", "))")
    }

    @Test func noSourceFileIsOver400Lines() throws {
        let sources = "\(DocsTests.root)/Sources"
        let files = (FileManager.default.enumerator(atPath: sources)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".swift") }
        #expect(files.count > 100)
        let long = try files.sorted().filter { file in
            try String(contentsOfFile: "\(sources)/\(file)", encoding: .utf8).filter { $0 == "\n" }.count > 400
        }
        #expect(long.isEmpty, "files over 400 lines: \(long.joined(separator: ", "))")
    }

    @Test func aLineOneCharacterOverIsFound() {
        // Characters, not bytes: an arrow is one.
        let text = "short\n" + String(repeating: "→", count: 120) + "\n" + String(repeating: "x", count: 121)
        #expect(Self.longLines(text, limit: 120) == [3])
    }
}
