import ArgumentParser
import Foundation
import HALab

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Work with the reports runs leave.", subcommands: [Merge.self])

    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Join the JSON reports of the shards of one 'verify --all-pairs' or 'explore' into the report of the "
                    + "whole run.",
            discussion: """
                Each shard ran with --shard K/N (or the CI system's index) and --json. The reports must be of one kind \
                of run, one lab folder (its content hash), the same table or draw, and every shard exactly once. \
                Prints the whole table or summary; exit 0 when every row agrees with the model (every run passed), 1 \
                otherwise or when the reports do not fit together.

                Example: halab report merge shard-*.json --junit all-pairs.xml --html all-pairs.html
                """)

        @Argument(help: "The shards' JSON reports.")
        var files: [String]

        @Option(help: "Write the merged report as JUnit XML here.")
        var junit: String?

        @Option(help: "Write the merged report as JSON here.")
        var json: String?

        @Option(help: "Write the merged report as one HTML page here.")
        var html: String?

        func run() async throws {
            let merged = try ReportMerge.merge(files)
            print(merged.text())
            if let junit { try merged.junit().write(toFile: junit, atomically: true, encoding: .utf8) }
            if let json { try merged.json().write(toFile: json, atomically: true, encoding: .utf8) }
            if let html { try merged.html().write(toFile: html, atomically: true, encoding: .utf8) }
            if !merged.passed { throw ExitCode.failure }
        }
    }
}
