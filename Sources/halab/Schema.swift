import ArgumentParser
import HALab

struct Schema: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the JSON Schema of lab.yaml or scenario.yaml, for editors.",
        discussion: """
            With the YAML language server (VS Code's YAML extension, and others), a first line of
              # yaml-language-server: $schema=lab.schema.json
            in lab.yaml, after `halab schema lab > lab.schema.json`, completes and checks it as you type.
            """)

    @Argument(help: "lab or scenario.")
    var file: String

    func run() async throws { print(try LabSchema.text(for: file)) }
}
