import Foundation
import HALabSystem

/// `verify --json FILE`: the report as JSON, keys sorted.
public struct JSONReport: ReportWriter {
    public var path: String

    public init(path: String) { self.path = path }

    public func write(_ evidence: RunEvidence, progress: @Sendable (String) -> Void) async throws {
        try FileSystem.write(try Self.text(evidence.report), to: path)
    }

    public static func text(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}
