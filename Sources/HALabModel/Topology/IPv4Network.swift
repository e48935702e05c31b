/// An IPv4 network written `10.33.1.11/24`.
struct IPv4Network {
    var base: UInt32
    var mask: UInt32

    init(_ text: String) {
        let parts = text.split(separator: "/")
        let prefix = parts.count > 1 ? min(32, max(0, Int(parts[1]) ?? 32)) : 32
        mask = prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)
        base = (Self.number(String(parts.first ?? "")) ?? 0) & mask
    }

    func contains(_ address: String) -> Bool { Self.number(address).map(contains) ?? false }

    func contains(_ number: UInt32) -> Bool { number & mask == base }

    static func number(_ address: String) -> UInt32? {
        let octets = address.split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        return octets.reduce(0) { $0 << 8 | $1 }
    }
}
