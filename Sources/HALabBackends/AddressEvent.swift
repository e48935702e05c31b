import Foundation

/// An address added to or deleted from a node's interface, as `ip -ts -o monitor address`
/// printed it: to the microsecond, where keepalived's log has whole seconds.
public struct AddressEvent: Sendable, Equatable, Codable {
    public var time: Double
    public var node: String
    public var address: String
    public var added: Bool

    /// `[2026-11-28T00:41:51.524241] Deleted 2: eth1    inet 10.33.1.100/24 scope global …`;
    /// ip writes local time.
    public static func parse(_ text: String, node: String) -> [AddressEvent] {
        let parser = DateFormatter()
        parser.locale = Locale(identifier: "en_US_POSIX")
        parser.timeZone = TimeZone.current
        parser.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return nil }
            let stamp = line[line.index(after: line.startIndex)..<close].split(separator: ".", maxSplits: 1)
            guard let whole = stamp.first.flatMap({ parser.date(from: String($0)) }) else { return nil }
            let fraction = stamp.count > 1 ? (Double("0." + stamp[1]) ?? 0) : 0
            let words = line[line.index(after: close)...].split(whereSeparator: \.isWhitespace)
            guard let family = words.firstIndex(where: { $0 == "inet" || $0 == "inet6" }), family + 1 < words.count
            else { return nil }
            return AddressEvent(
                time: whole.timeIntervalSince1970 + fraction, node: node,
                address: String(words[family + 1].split(separator: "/")[0]), added: words.first != "Deleted")
        }
    }
}
