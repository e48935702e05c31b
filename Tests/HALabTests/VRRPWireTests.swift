import Testing
@testable import HALabModel

/// Pcap reading and VRRP decoding on frames built here field by field.
@Suite struct VRRPWireTests {
    static let time = (seconds: UInt32(1_800_000_000), micros: UInt32(250_000))

    /// A little-endian, microsecond pcap header for `linkType`.
    static func header(linkType: UInt32 = 1) -> [UInt8] {
        le(0xA1B2_C3D4) + [2, 0, 4, 0] + le(0) + le(0) + le(262_144) + le(linkType)
    }

    static func record(_ frame: [UInt8], seconds: UInt32 = time.seconds, fraction: UInt32 = time.micros) -> [UInt8] {
        le(seconds) + le(fraction) + le(UInt32(frame.count)) + le(UInt32(frame.count)) + frame
    }

    static func le(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    static let macs: [UInt8] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x12, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01]

    /// VRRPv2 over IPv4: 10.33.1.11 → 224.0.0.18, VRID 51, `priority`, simple authentication,
    /// interval 1 s, the VIP 10.33.1.100.
    static func ipv4Advert(priority: UInt8 = 100, authType: UInt8 = 1, tagged: Bool = false) -> [UInt8] {
        let vrrp: [UInt8] = [0x21, 51, priority, 1, authType, 1, 0, 0, 10, 33, 1, 100] + Array("mysecret".utf8)
        let ip: [UInt8] = [
            0x45, 0xC0, 0, UInt8(20 + vrrp.count), 0, 3, 0, 0, 255, 112, 0, 0, 10, 33, 1, 11, 224, 0, 0, 18
        ]
        return macs + (tagged ? [0x81, 0x00, 0x00, 0x0A] : []) + [0x08, 0x00] + ip + vrrp
    }

    /// VRRPv3 over IPv6: fe80::1 → ff02::12, VRID 52, priority 150, interval 0.5 s (50 cs),
    /// the VIP 2001:db8:33::100.
    static func ipv6Advert() -> [UInt8] {
        let vip: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0, 0x33] + Array(repeating: 0, count: 8) + [0x01, 0x00]
        let vrrp: [UInt8] = [0x31, 52, 150, 1, 0x00, 50, 0, 0] + vip
        let source: [UInt8] = [0xFE, 0x80] + Array(repeating: 0, count: 13) + [1]
        let destination: [UInt8] = [0xFF, 0x02] + Array(repeating: 0, count: 13) + [0x12]
        let ip: [UInt8] = [0x60, 0, 0, 0, 0, UInt8(vrrp.count), 112, 255] + source + destination
        return macs + [0x86, 0xDD] + ip + vrrp
    }

    static func decode(_ bytes: [UInt8], linkType: UInt32 = 1) -> [VRRPAdvert] {
        var stream = PcapStream()
        let frames = stream.feed(header(linkType: linkType) + bytes)
        return frames.compactMap { VRRPAdvert.decode($0, linkType: stream.linkType!) }
    }

    @Test func anIPv4AdvertIsDecodedFieldByField() throws {
        let advert = try #require(Self.decode(Self.record(Self.ipv4Advert())).first)
        #expect(
            advert
                == VRRPAdvert(
                    time: 1_800_000_000.25, sender: "10.33.1.11", family: .ipv4, version: 2, virtualRouterID: 51,
                    priority: 100, interval: 1, authentication: .simple, addresses: ["10.33.1.100"]))
        #expect(advert.line == "10.33.1.11 vrid 51 v2 prio 100 int 1s auth simple 10.33.1.100")
        #expect(
            Self.decode(Self.record(Self.ipv4Advert(authType: 0))).first?.authentication
                == VRRPAdvert.Authentication.none)
        #expect(Self.decode(Self.record(Self.ipv4Advert(authType: 2))).first?.authentication == .ipHeader)
        #expect(Self.decode(Self.record(Self.ipv4Advert(priority: 0))).first?.priority == 0)
        #expect(Self.decode(Self.record(Self.ipv4Advert(tagged: true))).first?.virtualRouterID == 51)
    }

    @Test func anIPv6VRRPv3AdvertCarriesCentiseconds() throws {
        let advert = try #require(Self.decode(Self.record(Self.ipv6Advert())).first)
        #expect(advert.family == .ipv6)
        #expect(advert.version == 3)
        #expect(advert.sender == "fe80::1")
        #expect(advert.interval == 0.5)
        #expect(advert.authentication == nil)
        #expect(advert.addresses == ["2001:db8:33::100"])
        #expect(advert.line == "fe80::1 vrid 52 v3 prio 150 int 0.5s 2001:db8:33::100")
    }

    @Test func linuxCookedCapturesAreRead() {
        // SLL: packet type, ARPHRD, address length, 8 address bytes, then the protocol.
        let sll = [0, 0, 0, 1, 0, 6] + Array(Self.macs[6..<12]) + [0, 0] + Array(Self.ipv4Advert()[12...])
        #expect(Self.decode(Self.record(sll), linkType: 113).first?.sender == "10.33.1.11")
        // SLL2: the protocol first, then 18 bytes of interface, type and address.
        let sll2 = [0x08, 0x00] + Array(repeating: 0, count: 18) + Array(Self.ipv4Advert()[14...])
        #expect(Self.decode(Self.record(sll2), linkType: 276).first?.priority == 100)
    }

    @Test func otherTrafficAndBrokenAdvertsAreSkipped() {
        var arp = Self.macs + [0x08, 0x06] + Array(repeating: 0, count: 28)
        #expect(Self.decode(Self.record(arp)).isEmpty)
        arp = Self.ipv4Advert()
        arp[14 + 20] = 0x22  // type 2 is no advertisement
        #expect(Self.decode(Self.record(arp)).isEmpty)
        var version4 = Self.ipv4Advert()
        version4[14 + 20] = 0x41
        #expect(Self.decode(Self.record(version4)).isEmpty)
        var tooMany = Self.ipv4Advert()
        tooMany[14 + 20 + 3] = 9  // nine addresses announced, one there
        #expect(Self.decode(Self.record(tooMany)).isEmpty)
        #expect(Self.decode(Self.record(Array(Self.ipv4Advert().prefix(30)))).isEmpty)
    }

    @Test func aStreamFedByteByByteGivesTheSameFrames() {
        let bytes =
            Self.header() + Self.record(Self.ipv4Advert()) + Self.record(Self.ipv6Advert(), seconds: 1_800_000_001)
        var whole = PcapStream(), pieces = PcapStream()
        let expected = whole.feed(bytes)
        let fed = bytes.flatMap { pieces.feed([$0]) }
        #expect(expected.count == 2)
        #expect(fed == expected)
        #expect(expected.map(\.time) == [1_800_000_000.25, 1_800_000_001.25])
    }

    @Test func bigEndianAndNanosecondFilesAreRead() {
        let frame = Self.ipv4Advert()
        let be = { (value: UInt32) in Array(Self.le(value).reversed()) }
        let header = be(0xA1B2_3C4D) + [0, 2, 0, 4] + be(0) + be(0) + be(262_144) + be(1)
        var stream = PcapStream()
        let frames = stream.feed(
            header + be(5) + be(500_000_000) + be(UInt32(frame.count)) + be(UInt32(frame.count)) + frame)
        #expect(frames.map(\.time) == [5.5])
    }

    @Test func garbageEndsTheStreamWithAReason() {
        var stream = PcapStream()
        #expect(stream.feed(Array("this is no pcap file at all!".utf8)).isEmpty)
        #expect(stream.failure?.hasPrefix("not a pcap stream") == true)
        var huge = PcapStream()
        #expect(huge.feed(Self.header() + Self.le(0) + Self.le(0) + Self.le(1 << 30) + Self.le(1 << 30)).isEmpty)
        #expect(huge.failure != nil)
        var unknownLink = PcapStream()
        _ = unknownLink.feed(Self.header(linkType: 105))
        #expect(unknownLink.failure?.contains("link type 105") == true)
    }

    @Test func randomBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var stream = PcapStream()
            let length = Int.random(in: 0..<200, using: &generator)
            let body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let frames = stream.feed(
                Self.header(linkType: [1, 113, 276].randomElement(using: &generator)!) + Self.le(0) + Self.le(0)
                    + Self.le(UInt32(length)) + Self.le(UInt32(length)) + body)
            for frame in frames { _ = VRRPAdvert.decode(frame, linkType: stream.linkType!) }
            // A valid advert with random bytes after its header still decodes or is skipped, never traps.
            var advert = Self.ipv4Advert()
            advert.replaceSubrange(14..<min(advert.count, 14 + length / 4), with: body.prefix(length / 4))
            _ = Self.decode(Self.record(advert))
        }
    }

    @Test(
        arguments: [
            ([0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
            ([UInt8](repeating: 0, count: 15) + [1], "::1"),
            ([0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 12), "2001:db8::"),
            // one zero group stays
            ([0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "2001:db8:0:1:1:1:1:1"),
            ([0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], "2001:0:0:1::1")  // the longer run is shortened
        ] as [([UInt8], String)])
    func ipv6AddressesAreWrittenAsRFC5952Says(bytes: [UInt8], text: String) {
        #expect(VRRPAdvert.ipv6Text(bytes) == text)
    }
}
