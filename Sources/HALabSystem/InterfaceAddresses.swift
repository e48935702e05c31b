import CProcessControl
import Foundation
import Glibc

/// The addresses on a network namespace's interfaces, asked of the kernel over rtnetlink (as
/// `ip addr show` asks it) from a thread that enters the namespace for the purpose: a look at a
/// node costs no process. halab looks at every VRRP node several times a second.
public struct InterfaceAddress: Sendable, Equatable {
    public var interface: String
    /// "inet" or "inet6", as `ip -j` names them.
    public var family: String
    public var address: String
    public var prefix: Int
    /// RT_SCOPE_*: 0 global ("universe"), 253 link.
    public var scope: UInt8

    public init(interface: String, family: String, address: String, prefix: Int, scope: UInt8) {
        (self.interface, self.family, self.address, self.prefix, self.scope) = (
            interface, family, address, prefix, scope
        )
    }

    /// Every address of the namespace pinned at `path` (`/run/netns/NAME`).
    public static func all(inNetns path: String) async throws -> [InterfaceAddress] {
        try await withCheckedThrowingContinuation { continuation in
            // setns changes the calling thread's namespace: a thread of its own, ended after.
            Thread.detachNewThread { continuation.resume(with: Result { try allBlocking(inNetns: path) }) }
        }
    }

    static func allBlocking(inNetns path: String) throws -> [InterfaceAddress] {
        let namespace = open(path, O_RDONLY | O_CLOEXEC)
        guard namespace >= 0 else { throw failure("open \(path)") }
        defer { close(namespace) }
        guard halab_enter_network_namespace(namespace) == 0 else { throw failure("setns \(path)") }
        let socket = Glibc.socket(
            AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        guard socket >= 0 else { throw failure("socket(AF_NETLINK)") }
        defer { close(socket) }
        var names: [Int32: String] = [:]
        for message in try dump(socket, type: 18 /* RTM_GETLINK */, header: 16 /* ifinfomsg */)
        where message.type == 16 /* RTM_NEWLINK */ {
            let index = message.body.int32(at: 4)
            if let name = message.attributes(after: 16)[3 /* IFLA_IFNAME */] {
                names[index] = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return try dump(socket, type: 22 /* RTM_GETADDR */, header: 8 /* ifaddrmsg */).compactMap { message in
            guard message.type == 20 /* RTM_NEWADDR */ else { return nil }
            let family = Int32(message.body[0])
            let attributes = message.attributes(after: 8)
            // IPv4: the local address (IFA_LOCAL); IPv6 has only IFA_ADDRESS.
            guard [AF_INET, AF_INET6].contains(family), let bytes = attributes[2] ?? attributes[1],
                let text = ntop(family, bytes)
            else { return nil }
            return InterfaceAddress(
                interface: names[message.body.int32(at: 4)] ?? "", family: family == AF_INET ? "inet" : "inet6",
                address: text, prefix: Int(message.body[1]), scope: message.body[3])
        }
    }

    struct Message {
        var type: UInt16
        /// What follows the 16-byte netlink header.
        var body: [UInt8]

        /// The route attributes after the `offset` bytes of the family's own header, by type.
        func attributes(after offset: Int) -> [UInt16: [UInt8]] {
            var found: [UInt16: [UInt8]] = [:]
            var at = offset
            while at + 4 <= body.count {
                let length = Int(body.uint16(at: at)), type = body.uint16(at: at + 2) & 0x3fff
                guard length >= 4, at + length <= body.count else { break }
                found[type] = Array(body[(at + 4)..<(at + length)])
                at += (length + 3) & ~3
            }
            return found
        }
    }

    /// Sends a dump request of `type` (with a zeroed family header of `header` bytes) and reads
    /// every answer until NLMSG_DONE.
    static func dump(_ socket: Int32, type: UInt16, header: Int) throws -> [Message] {
        var request = [UInt8](repeating: 0, count: 16 + header)
        request.put(UInt32(request.count), at: 0)
        request.put(type, at: 4)
        request.put(UInt16(0x301) /* NLM_F_REQUEST | NLM_F_DUMP */, at: 6)
        request.put(UInt32(1), at: 8)
        guard send(socket, request, request.count, 0) == request.count else { throw failure("send (rtnetlink)") }
        var messages: [Message] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let received = recv(socket, &buffer, buffer.count, 0)
            guard received > 0 else {
                if received < 0 && errno == EINTR { continue }
                throw failure("recv (rtnetlink)")
            }
            var at = 0
            while at + 16 <= received {
                let length = Int(buffer.uint32(at: at)), kind = buffer.uint16(at: at + 4)
                guard length >= 16, at + length <= received else { break }
                if kind == 3 /* NLMSG_DONE */ { return messages }
                if kind == 2 /* NLMSG_ERROR */ { throw failure("rtnetlink dump") }
                messages.append(Message(type: kind, body: Array(buffer[(at + 16)..<(at + length)])))
                at += (length + 3) & ~3
            }
        }
    }

    static func ntop(_ family: Int32, _ bytes: [UInt8]) -> String? {
        guard bytes.count == (family == AF_INET ? 4 : 16) else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        return bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }.map { _ in
            String(cString: text)
        }
    }

    static func failure(_ what: String) -> HALabError {
        HALabError.commandFailed(command: what, status: "errno \(errno)", output: String(cString: strerror(errno)))
    }
}

/// Netlink speaks the host's byte order; halab's hosts (x86_64, aarch64 Linux) are little-endian.
extension [UInt8] {
    func uint16(at offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }
    func uint32(at offset: Int) -> UInt32 { UInt32(uint16(at: offset)) | UInt32(uint16(at: offset + 2)) << 16 }
    func int32(at offset: Int) -> Int32 { Int32(bitPattern: uint32(at: offset)) }

    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for byte in 0..<MemoryLayout<T>.size { self[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * byte)) }
    }
}
