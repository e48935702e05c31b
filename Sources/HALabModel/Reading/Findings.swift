/// How much a finding matters: an error means keepalived will not do what the file says.
public enum Severity: String, Sendable, Codable, Comparable {
    case info, warning, error

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }

    var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .error: 2
        }
    }
}

/// One thing found in a config, with where it was written.
public struct Finding: Sendable, Codable, Equatable {
    /// Who says so: halab's own reading, or keepalived's `--config-test`.
    public enum Source: String, Sendable, Codable {
        case halab, keepalived
    }

    public var severity: Severity
    /// `FILE:LINE`, or nil where it is about no one line.
    public var location: String?
    public var message: String
    public var source: Source

    public init(_ severity: Severity, at location: ConfigLocation?, _ message: String, source: Source = .halab) {
        self.init(severity: severity, location: location?.description, message: message, source: source)
    }

    public init(severity: Severity, location: String?, message: String, source: Source = .halab) {
        self.severity = severity
        self.location = location
        self.message = message
        self.source = source
    }
}

/// Where a setting was written: messages name it.
public struct ConfigLocation: Sendable, Codable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}
