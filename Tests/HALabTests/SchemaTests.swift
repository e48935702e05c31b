import Foundation
import Testing
import Yams
@testable import HALab
@testable import HALabSystem

/// `halab schema`: every key a loader takes is in the schema with a schema of its own, and every
/// lab and scenario file halab ships (and every one in the docs) validates against it with a
/// standard JSON Schema validator (python3's jsonschema), as an editor would check it.
@Suite struct SchemaTests {
    @Test func everyKeyTheLoadersTakeHasASchema() {
        #expect(LabSchema.keysWithoutFragment.isEmpty, "\(LabSchema.keysWithoutFragment)")
    }

    static let validator: String? = {
        guard
            let python = Command.locate("python3")
                ?? ["/usr/bin/python3"].first(where: FileManager.default.isExecutableFile)
        else { return nil }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import jsonschema"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return nil }
        probe.waitUntilExit()
        return probe.terminationStatus == 0 ? python : nil
    }()

    /// A YAML document as an editor's YAML 1.2 reading hands it to a validator: keys as written,
    /// plain scalars that are numbers or true/false as such, the rest as strings.
    static func json(_ node: Node) -> Any {
        switch node {
        case .scalar(let scalar):
            guard scalar.style == .plain else { return scalar.string }
            if let int = Int(scalar.string) { return int }
            if let double = Double(scalar.string), scalar.string.rangeOfCharacter(from: .letters) == nil {
                return double
            }
            return ["true": true, "false": false][scalar.string] ?? scalar.string
        case .mapping(let mapping):
            return Dictionary(
                mapping.map { ($0.key.string ?? "", json($0.value)) }, uniquingKeysWith: { first, _ in first })
        case .sequence(let sequence): return sequence.map(json)
        case .alias: return NSNull()
        }
    }

    /// The errors the validator finds in each document (by name) against `halab schema KIND`.
    static func validate(_ documents: [(name: String, kind: String, yaml: String)], python: String) async throws
        -> [String: String]
    {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("halab-schema-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try LabSchema.text(for: "lab").write(toFile: "\(scratch)/lab.json", atomically: true, encoding: .utf8)
        try LabSchema.text(for: "scenario").write(toFile: "\(scratch)/scenario.json", atomically: true, encoding: .utf8)
        var list: [[String]] = []
        for (index, document) in documents.enumerated() {
            let value = try Yams.compose(yaml: document.yaml).map(json) ?? NSNull()
            try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]).write(
                to: URL(fileURLWithPath: "\(scratch)/\(index).json"))
            list.append([document.name, "\(scratch)/\(document.kind).json", "\(scratch)/\(index).json"])
        }
        try JSONSerialization.data(withJSONObject: list).write(to: URL(fileURLWithPath: "\(scratch)/list.json"))
        let script = """
            import json, sys, jsonschema
            found = {}
            for name, schema, document in json.load(open(sys.argv[1])):
                errors =     \
            list(jsonschema.Draft202012Validator(json.load(open(schema))).iter_errors(json.load(open(document))))
                if errors: found[name] = errors[0].message
            print(json.dumps(found))
            """
        let result = try await Command.run(python, ["-c", script, "\(scratch)/list.json"])
        return try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: String] ?? [:]
    }

    static func shippedDocuments() throws -> [(name: String, kind: String, yaml: String)] {
        let labs = KeepalivedConfigTests.labs
        var documents: [(name: String, kind: String, yaml: String)] = []
        for lab in try FileManager.default.contentsOfDirectory(atPath: labs).sorted() {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: "\(labs)/\(lab)"))?.sorted() ?? []
            where file.hasSuffix(".yaml") {
                documents.append(
                    (
                        "labs/\(lab)/\(file)", file == "lab.yaml" ? "lab" : "scenario",
                        try String(contentsOfFile: "\(labs)/\(lab)/\(file)", encoding: .utf8)
                    ))
            }
        }
        for page in DocsTests.pages {
            for block in Markdown.codeBlocks(try String(contentsOfFile: page, encoding: .utf8))
            where ["yaml lab", "yaml scenario"].contains(block.info) {
                documents.append(
                    (
                        "\(URL(fileURLWithPath: page).lastPathComponent): \(block.text.prefix(40))",
                        block.info == "yaml lab" ? "lab" : "scenario", block.text
                    ))
            }
        }
        return documents
    }

    @Test(
        .enabled(
            if: validator != nil, "needs python3 with jsonschema (Debian: python3-jsonschema; .ci/run installs it)"))
    func everyShippedFileValidates() async throws {
        let documents = try Self.shippedDocuments()
        #expect(documents.count > 35)
        let errors = try await Self.validate(documents, python: Self.validator!)
        #expect(errors.isEmpty, "\(errors)")
        // The validator is real: a key no loader takes, a wrong type, a missing name are each rejected.
        let wrong = try await Self.validate(
            [
                ("bogus key", "scenario", "steps:\n  - name: a\n    bogus: 1\n"),
                (
                    "status word", "scenario",
                    "steps:\n  - name: a\n    expect:\n      - curl: http://10.33.1.100\n        status: ok\n"
                ),
                ("no name", "scenario", "steps:\n  - run: true\n    on: nginx-1\n"),
                (
                    "node key", "lab",
                    "segments: [lan]\nnodes:\n  n1:\n    interfaces:\n      eth1: { segment: lan }\n    colour: red\n"
                )
            ], python: Self.validator!)
        #expect(wrong.keys.sorted() == ["bogus key", "no name", "node key", "status word"], "\(wrong)")
    }
}
