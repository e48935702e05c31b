/// A keepalived config halab cannot read, at `file`:`line`. The model's only error: the
/// scenario layer hands it on as `HALabError.badLabFile`, so users see one kind of message.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}
