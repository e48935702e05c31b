import Foundation

/// keepalived's values checked as keepalived checks them. Each refusal is a finding that
/// names the file:line and says what keepalived does instead (`otherwise`); nothing here can
/// trap, whatever the text: numbers are parsed without overflow, and never converted unchecked.
struct Values {
    /// The longest interval halab takes, in seconds: far beyond keepalived's, and safe to convert.
    static let largestSeconds = Double(Int32.max)

    func word(_ item: ConfigItem, _ findings: inout [Finding]) -> String? {
        guard let value = item.arguments.first else {
            findings.append(
                Finding(.error, at: item.location, "'\(item.keyword)' needs a value: keepalived ignores the line"))
            return nil
        }
        return value
    }

    func integer(_ item: ConfigItem, in range: ClosedRange<Int>, _ findings: inout [Finding], otherwise: String) -> Int?
    {
        guard let text = word(item, &findings) else { return nil }
        let problem: String
        if let value = Int(text) {
            guard !range.contains(value) else { return value }
            problem = "\(item.keyword) \(value) is outside [\(range.lowerBound), \(range.upperBound)]"
        } else if text.drop(while: { $0 == "-" || $0 == "+" }).allSatisfy(\.isASCII) && !text.isEmpty
            && text.drop(while: { $0 == "-" || $0 == "+" }).allSatisfy(\.isNumber)
        {
            problem = "\(item.keyword) \(text) is far outside [\(range.lowerBound), \(range.upperBound)]"
        } else {
            problem = "\(item.keyword) '\(text)' is not a whole number"
        }
        findings.append(Finding(.error, at: item.location, "\(problem): \(otherwise)"))
        return nil
    }

    func decimal(_ item: ConfigItem, in range: ClosedRange<Double>, _ findings: inout [Finding], otherwise: String)
        -> Double?
    {
        guard let text = word(item, &findings) else { return nil }
        guard let value = Double(text), value.isFinite else {
            findings.append(
                Finding(.error, at: item.location, "\(item.keyword) '\(text)' is not a number: \(otherwise)"))
            return nil
        }
        guard range.contains(value) else {
            findings.append(
                Finding(
                    .error, at: item.location,
                    "\(item.keyword) \(text) is outside [\(Self.format(range.lowerBound)), "
                        + "\(Self.format(range.upperBound))]: \(otherwise)"
                ))
            return nil
        }
        return value
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// An IP address as keepalived takes it in a config: IPv4 or IPv6, with an optional prefix.
struct IPAddress: Equatable {
    var address: String
    var family: AddressFamily
    var prefix: Int?

    /// nil when the text is no address; a prefix too long for the family is a finding's
    /// matter (keepalived uses the longest), so it is kept as written.
    static func parse(_ text: String) -> IPAddress? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let address = String(parts[0])
        var prefix: Int?
        if parts.count == 2 {
            guard let length = Int(parts[1]), length >= 0, length < 1000 else { return nil }
            prefix = length
        }
        if isIPv4(Substring(address)) { return IPAddress(address: address, family: .ipv4, prefix: prefix) }
        if isIPv6(address) { return IPAddress(address: address, family: .ipv6, prefix: prefix) }
        return nil
    }

    static func isIPv4(_ text: Substring) -> Bool {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4
            && octets.allSatisfy { octet in
                !octet.isEmpty && octet.count <= 3 && octet.allSatisfy { $0.isASCII && $0.isNumber }
                    && Int(octet).map { $0 <= 255 } == true
            }
    }

    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.count <= 45 else { return false }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        var groups = halves.flatMap { $0.isEmpty ? [] : $0.split(separator: ":", omittingEmptySubsequences: false) }
        var count = groups.count
        if let last = groups.last, last.contains(".") {
            guard isIPv4(last) else { return false }
            groups.removeLast()
            count += 1  // an IPv4 address ends it, in the place of two groups
        }
        guard groups.allSatisfy({ (1...4).contains($0.count) && $0.allSatisfy(\.isHexDigit) }) else { return false }
        return halves.count == 2 ? count <= 7 : count == 8
    }
}
