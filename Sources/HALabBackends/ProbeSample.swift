import HALabSystem

/// One request of halab-probe: when it started and ended (seconds since the epoch), the
/// address, and what came back.
public struct ProbeSample: Sendable, Codable, Equatable {
    public var start: Double
    public var end: Double
    public var address: String
    /// The HTTP status; 0 when the request failed.
    public var status: Int
    /// The body's first word (the node's name), or why it failed: refused, timeout, reset, error.
    public var answer: String
    /// The client node it was sent from, where the lab has several (a vantage point); nil for
    /// the lab's first client.
    public var vantage: String?

    public var ok: Bool { status == 200 }

    /// The address, and where it was seen from when that is not the lab's first client.
    public var label: String { ProbeSample.label(address, from: vantage) }

    public static func label(_ address: String, from vantage: String?) -> String {
        vantage.map { "\(address) from \($0)" } ?? address
    }

    /// Reads halab-probe's lines (`START_NS END_NS ADDRESS STATUS ANSWER`), sorted by start.
    public static func parse(_ text: String) -> [ProbeSample] {
        text.split(separator: "\n").compactMap { line -> ProbeSample? in
            let fields = line.split(separator: " ")
            guard fields.count == 5, let start = Double(fields[0]), let end = Double(fields[1]),
                let status = Int(fields[3])
            else { return nil }
            return ProbeSample(
                start: start / 1e9, end: end / 1e9, address: String(fields[2]), status: status,
                answer: String(fields[4]))
        }.sorted { $0.start < $1.start }
    }
}

/// How halab-probe makes its requests: each on a new connection, or all on one connection to
/// each address, held open to see what becomes of it (`connections:` on a step); `ready` fires
/// once each held connection got its first answer (or failed).
public enum ProbeConnections: Sendable {
    case new
    case held(ready: StopSignal)

    var isHeld: Bool { if case .held = self { true } else { false } }

    /// Fires the held connections' `ready` once `made` says the probe made its ready file, or
    /// when it fired anyway (the caller does not wait for ever).
    func watchReady(_ made: @escaping @Sendable () -> Bool) {
        guard case .held(let ready) = self else { return }
        Task {
            while !(await ready.hasFired) {
                if made() { await ready.fire() }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}

extension ProbeSample {
    /// How a request failed; nil for a good answer (status 200).
    public var failure: RequestFailure? {
        guard !ok else { return nil }
        guard status == 0 else { return .status }
        return RequestFailure(rawValue: answer) ?? .error
    }
}

/// The ways a client's request fails, as halab-probe tells them apart.
public enum RequestFailure: String, Sendable, Codable, CaseIterable, Comparable {
    /// The connection was refused: the address was there, nothing listened (or a RST came back).
    case refused
    /// The connection was reset after it was made: its server lost it (a new master has no such socket).
    case reset
    /// No answer within the probe's second.
    case timeout
    /// An answer with another status than 200.
    case status
    /// Any other error, such as no route to the address.
    case error

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
