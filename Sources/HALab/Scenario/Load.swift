import HALabSystem

/// Requests at a steady rate through a whole run (`verify --load RATE`, a scenario's `load:`):
/// what clients feel at each step, apart from the probe that measures the outage.
public struct Load: Sendable, Equatable {
    /// Requests per second to each VIP, each on a new connection, sent whatever the answers
    /// (an open loop: a slow or dead server does not slow the clients down).
    public var rate: Double

    public static let rates = 1.0...1000.0
    public static let usage = "load's rate is requests per second to each VIP, from 1 to 1000, such as 200"
    public static let latencyUsage =
        "max-p99 is the slowest the 99th percentile of a step's answers under load may be, in seconds, such as 0.05"

    public init(rate: Double) throws(HALabError) {
        guard Self.rates.contains(rate) else { throw .usage(Self.usage) }
        self.rate = rate
    }

    /// Milliseconds between two requests to one VIP, as halab-probe takes it.
    var interval: Double { 1000 / rate }
}

/// How many of a step's requests under load may fail (`max-failed:`): a count, or a share of
/// those sent ("1%").
public enum FailureBudget: Sendable, Equatable, CustomStringConvertible {
    case count(Int)
    case percent(Double)

    public static let usage = "max-failed is a number of requests, such as 0 or 20, or a share of them, such as 1%"

    public init(_ text: String) throws(HALabError) {
        if text.hasSuffix("%") {
            guard let percent = Double(text.dropLast()), (0...100).contains(percent) else { throw .usage(Self.usage) }
            self = .percent(percent)
        } else {
            guard let count = Int(text), count >= 0 else { throw .usage(Self.usage) }
            self = .count(count)
        }
    }

    /// Whether `failed` of `sent` requests is within the budget.
    public func allows(failed: Int, of sent: Int) -> Bool {
        switch self {
        case .count(let count): failed <= count
        case .percent(let percent): Double(failed) <= Double(sent) * percent / 100
        }
    }

    public var description: String {
        switch self {
        case .count(let count): "\(count)"
        case .percent(let percent): percent == percent.rounded() ? "\(Int(percent))%" : "\(percent)%"
        }
    }
}
