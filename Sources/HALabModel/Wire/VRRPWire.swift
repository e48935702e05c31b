/// VRRP as it travels: reading a pcap stream (what tcpdump writes) and decoding the VRRP
/// adverts in it, IPv4 and IPv6, versions 2 and 3 (RFC 3768, RFC 5798). Pure: bytes in,
/// values out, so captures are judged without a lab.

/// One captured frame: when it was seen (seconds since the epoch) and its bytes from the link
/// layer up, as the capture's link type frames them.
public struct CapturedFrame: Sendable, Equatable {
    public var time: Double
    public var bytes: [UInt8]
}

/// Reads a pcap file as it grows: feed it bytes as they come, take the frames complete so far.
/// Malformed input ends the stream with `failure` set; it never traps.
public struct PcapStream: Sendable {
    /// The link layers halab's captures produce.
    public enum LinkType: UInt32, Sendable {
        case ethernet = 1
        case linuxCooked = 113
        case linuxCooked2 = 276
    }

    public private(set) var linkType: LinkType?
    public private(set) var failure: String?
    private var buffer: [UInt8] = []
    private var littleEndian = true
    private var nanoseconds = false
    private var headerRead = false

    public init() {}

    /// Appends `bytes` and returns every frame now complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [CapturedFrame] {
        guard failure == nil else { return [] }
        buffer.append(contentsOf: bytes)
        var frames: [CapturedFrame] = []
        var offset = 0
        if !headerRead {
            guard buffer.count >= 24 else { return [] }
            guard readHeader() else { buffer = []; return [] }
            offset = 24
        }
        while buffer.count - offset >= 16 {
            let seconds = word(at: offset), fraction = word(at: offset + 4), length = Int(word(at: offset + 8))
            guard length <= 262_144 else {
                failure = "a record of \(length) bytes: not a pcap stream"; buffer = []; return frames
            }
            guard buffer.count - offset - 16 >= length else { break }
            let time = Double(seconds) + Double(fraction) / (nanoseconds ? 1e9 : 1e6)
            frames.append(CapturedFrame(time: time, bytes: Array(buffer[(offset + 16)..<(offset + 16 + length)])))
            offset += 16 + length
        }
        buffer.removeFirst(offset)
        return frames
    }

    private mutating func readHeader() -> Bool {
        headerRead = true
        let magic = UInt32(buffer[0]) | UInt32(buffer[1]) << 8 | UInt32(buffer[2]) << 16 | UInt32(buffer[3]) << 24
        switch magic {
        case 0xA1B2_C3D4: (littleEndian, nanoseconds) = (true, false)
        case 0xA1B2_3C4D: (littleEndian, nanoseconds) = (true, true)
        case 0xD4C3_B2A1: (littleEndian, nanoseconds) = (false, false)
        case 0x4D3C_B2A1: (littleEndian, nanoseconds) = (false, true)
        default: failure = "not a pcap stream (magic \(String(magic, radix: 16)))"; return false
        }
        guard let type = LinkType(rawValue: word(at: 20) & 0x0FFF_FFFF) else {
            failure = "link type \(word(at: 20)) is not one halab decodes (Ethernet, Linux cooked)"
            return false
        }
        linkType = type
        return true
    }

    private func word(at offset: Int) -> UInt32 {
        let bytes = buffer[offset..<(offset + 4)].map(UInt32.init)
        return littleEndian
            ? bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24
            : bytes[3] | bytes[2] << 8 | bytes[1] << 16 | bytes[0] << 24
    }
}

/// One VRRP advertisement as a router sent it.
public struct VRRPAdvert: Sendable, Equatable, Codable {
    public var time: Double
    /// The sender's address (the IP source), as text.
    public var sender: String
    public var family: AddressFamily
    public var version: Int
    public var virtualRouterID: Int
    /// The priority the sender advertises: its effective one (0 when it gives up mastership).
    public var priority: Int
    /// Seconds between adverts (VRRPv3 carries centiseconds).
    public var interval: Double
    /// VRRPv2's authentication: none, simple (PASS) or the obsolete IP header (AH); nil in v3.
    public var authentication: Authentication?
    public var addresses: [String]

    public enum Authentication: String, Sendable, Codable {
        case none, simple, ipHeader = "ah"
    }

    /// One line, as `halab capture --vrrp` prints it.
    public var line: String {
        var parts = [
            "\(sender) vrid \(virtualRouterID)", "v\(version)", "prio \(priority)",
            "int \(interval == interval.rounded() ? String(Int(interval)) : String(interval))s"
        ]
        if let authentication { parts.append("auth \(authentication.rawValue)") }
        parts.append(addresses.joined(separator: ","))
        return parts.joined(separator: " ")
    }

    static let ipProtocol: UInt8 = 112

    /// The advert in `frame`, if it carries one; malformed or other traffic gives nil.
    public static func decode(_ frame: CapturedFrame, linkType: PcapStream.LinkType) -> VRRPAdvert? {
        let bytes = frame.bytes
        // Where the link layer's protocol field sits, and where its payload begins.
        let (typeOffset, payload): (Int, Int) =
            switch linkType {
            case .ethernet: (12, 14)
            case .linuxCooked: (14, 16)
            case .linuxCooked2: (0, 20)
            }
        guard bytes.count >= payload else { return nil }
        var etherType = UInt16(bytes[typeOffset]) << 8 | UInt16(bytes[typeOffset + 1])
        var start = payload
        if linkType == .ethernet, etherType == 0x8100, bytes.count >= 18 {  // one VLAN tag
            etherType = UInt16(bytes[16]) << 8 | UInt16(bytes[17])
            start = 18
        }
        let packet = Array(bytes[start...])
        switch etherType {
        case 0x0800: return decodeIPv4(packet, time: frame.time)
        case 0x86DD: return decodeIPv6(packet, time: frame.time)
        default: return nil
        }
    }

    static func decodeIPv4(_ packet: [UInt8], time: Double) -> VRRPAdvert? {
        guard packet.count >= 20, packet[0] >> 4 == 4, packet[9] == ipProtocol else { return nil }
        let headerLength = Int(packet[0] & 0x0F) * 4
        guard headerLength >= 20, packet.count > headerLength else { return nil }
        let sender = packet[12..<16].map(String.init).joined(separator: ".")
        return decodeVRRP(Array(packet[headerLength...]), family: .ipv4, sender: sender, time: time)
    }

    static func decodeIPv6(_ packet: [UInt8], time: Double) -> VRRPAdvert? {
        guard packet.count >= 40, packet[0] >> 4 == 6, packet[6] == ipProtocol else { return nil }
        return decodeVRRP(Array(packet[40...]), family: .ipv6, sender: ipv6Text(Array(packet[8..<24])), time: time)
    }

    static func decodeVRRP(_ vrrp: [UInt8], family: AddressFamily, sender: String, time: Double) -> VRRPAdvert? {
        guard vrrp.count >= 8, vrrp[0] & 0x0F == 1 else { return nil }  // type 1: advertisement
        let version = Int(vrrp[0] >> 4)
        guard version == 2 || version == 3 else { return nil }
        let count = Int(vrrp[3])
        let width = family == .ipv4 ? 4 : 16
        guard vrrp.count >= 8 + count * width else { return nil }
        let addresses = (0..<count).map { index in
            let field = Array(vrrp[(8 + index * width)..<(8 + (index + 1) * width)])
            return family == .ipv4 ? field.map(String.init).joined(separator: ".") : ipv6Text(field)
        }
        var advert = VRRPAdvert(
            time: time, sender: sender, family: family, version: version, virtualRouterID: Int(vrrp[1]),
            priority: Int(vrrp[2]), interval: 0, authentication: nil, addresses: addresses)
        if version == 2 {
            advert.interval = Double(vrrp[5])
            advert.authentication =
                switch vrrp[4] {
                case 0: Authentication.none;
                case 1: .simple;
                default: .ipHeader
                }
        } else {
            advert.interval = Double(UInt16(vrrp[4] & 0x0F) << 8 | UInt16(vrrp[5])) / 100
        }
        return advert
    }

    /// RFC 5952's text form: lower case, the longest run of two or more zero groups as `::`.
    static func ipv6Text(_ bytes: [UInt8]) -> String {
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var best = (start: -1, length: 0), run = (start: -1, length: 0)
        for (index, group) in groups.enumerated() {
            if group == 0 {
                run = run.start < 0 ? (index, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        let text = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return text.joined(separator: ":") }
        return text[..<best.start].joined(separator: ":") + "::"
            + text[(best.start + best.length)...].joined(separator: ":")
    }
}
