import Foundation

/// A request a client node makes: `curl URL` from `from`.
public struct Request: Sendable, Equatable, Codable {
    public var url: String
    public var from: String

    public init(url: String, from: String) {
        self.url = url
        self.from = from
    }

    /// A request for the site at `address` (an IPv6 address in brackets).
    public init(address: String, from: String) {
        self.init(url: address.contains(":") ? "http://[\(address)]" : "http://\(address)", from: from)
    }

    /// The host of the URL: `10.33.1.100`, `fd00:33:1::100`.
    public var host: String {
        let rest = url.split(separator: "://", maxSplits: 1).last.map(String.init) ?? url
        if rest.hasPrefix("[") { return String(rest.dropFirst().prefix { $0 != "]" }) }
        return String(rest.split(separator: "/").first?.split(separator: ":").first ?? "")
    }
}

/// One outcome a step expects: what clients see, or where a VIP sits. Each kind is checked by
/// its own type (`Checks.swift`).
public enum Expectation: Sendable, Equatable, Codable, CustomStringConvertible {
    /// One curl answered, with this status, `Server:` header and body where given.
    case answer(Request, status: Int? = nil, server: String? = nil, body: String? = nil)
    /// curl fails: nobody serves the URL.
    case fails(Request)
    /// Every one of `samples` curls, each on a new connection, answers `name`.
    case every(Request, name: String, samples: Int = Expectation.defaultEverySamples)
    /// Over `samples` curls, a proper share of each name (judged by `ShareTest`).
    case mix(Request, names: [String], samples: Int = Expectation.defaultMixSamples)
    /// The VIP on exactly these nodes' interfaces (eventually); with `throughout`, kept for
    /// that many seconds from the action once reached: how "nothing changes" is checked.
    case holders(vip: String, nodes: [String], throughout: Double? = nil)
    /// Exactly one node carries the VIP at every look for `window` seconds from the action:
    /// no split brain, not even for a moment.
    case singleHolder(vip: String, window: Double)
    /// `samples` pings from a node to an address: the share lost fits `percent`.
    case pingLoss(from: String, address: String, percent: Int, samples: Int = 200)
    /// Under `percent` loss at `preferred`, the VIP's takeovers in `seconds` are no more than
    /// VRRP predicts, and `preferred` holds it at the end.
    case takeovers(vip: String, preferred: String, percent: Int, seconds: Double)

    // Reports name the request `request` in their JSON (not Swift's `_0`).
    enum AnswerCodingKeys: String, CodingKey { case _0 = "request", status, server, body }
    enum FailsCodingKeys: String, CodingKey { case _0 = "request" }
    enum EveryCodingKeys: String, CodingKey { case _0 = "request", name, samples }
    enum MixCodingKeys: String, CodingKey { case _0 = "request", names, samples }

    public static let defaultEverySamples = 20
    public static let defaultMixSamples = 200

    public var description: String {
        switch self {
        case .answer(let request, let status, let server, let body):
            return
                (["curl \(request.url) from \(request.from) →"]
                + [
                    status.map { "status \($0)" }, server.map { "Server: \($0)" },
                    body.map { "body '\($0)'" }
                ].compactMap { $0 }).joined(separator: " ")
        case .fails(let request): return "curl \(request.url) from \(request.from) → fails"
        case .every(let request, let name, let samples):
            return "curl \(request.url) from \(request.from) → every one of \(samples) answers '\(name)'"
        case .mix(let request, let names, let samples):
            return
                "curl \(request.url) from \(request.from) → a share of "
                    + "\(names.map { "'\($0)'" }.joined(separator: " and ")) over \(samples) answers"
        case .holders(let vip, let nodes, let throughout):
            return "\(vip) held by \(nodes.isEmpty ? "nobody" : nodes.joined(separator: " and "))"
                + (throughout.map { " throughout \(String(format: "%.1f", $0)) s" } ?? "")
        case .singleHolder(let vip, let window):
            return "\(vip) held by exactly one node throughout \(String(format: "%.1f", window)) s"
        case .pingLoss(let from, let address, let percent, let samples):
            return "\(samples) pings from \(from) to \(address) → \(percent) % lost"
        case .takeovers(let vip, let preferred, let percent, let seconds):
            return
                "\(vip) watched for \(String(format: "%.0f", seconds)) s under \(percent) % loss at \(preferred): "
                    + "takeovers within VRRP's prediction"
        }
    }
}
