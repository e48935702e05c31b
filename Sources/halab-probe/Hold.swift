// `halab-probe hold INTERVAL_MS DRAIN_MS SECONDS READY_FILE ADDRESS…`: one HTTP/1.1 keep-alive
// connection to port 80 of each address, a GET on it every INTERVAL ms once the last one is
// answered, as a client that keeps its connection does. It is never opened again: what becomes
// of it is the point. READY_FILE is made once each connection got its first answer (or failed):
// halab waits for it before the step's action, however slow the machine is to start the probe.
// One line per request, as the probe prints them, with ANSWER reset (the server had no such
// connection), closed (it shut the connection) or error on failure. On SIGTERM, SIGINT or after
// SECONDS it sends one last request on each connection (what became of a connection shows only
// when it is used: a VIP that moved back a moment ago leaves it unused so far) and waits up to
// DRAIN_MS for the answers, those missing then `pending` (the connection stalled: the server
// neither answers nor resets it).
import Glibc

struct HeldConnection {
    var descriptor: Int32
    var address: String
    var connected = false
    /// When the request in flight was sent.
    var sent: Int64?
    var response: [UInt8] = []
    var over = false
    /// Whether the last request, sent once the probe is told to stop, is out.
    var lastSent = false
    /// Whether it got its first answer, or failed before one.
    var opened = false

    /// Whether nothing more is to come of it once the probe is told to stop.
    var settled: Bool { over || (lastSent && sent == nil) }
}

/// The length of the first whole HTTP response in `bytes` (head and body, by its
/// Content-Length, or a chunked body's last chunk); nil until it has all come.
func responseLength(_ bytes: [UInt8]) -> Int? {
    let separator = Array("\r\n\r\n".utf8)
    guard let headEnd = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
    let bodyStart = headEnd + separator.count
    let head = String(decoding: bytes[..<headEnd], as: UTF8.self).lowercased()
    for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
        guard let length = Int(line.dropFirst("content-length:".count).trimmingSpaces) else { return nil }
        return bytes.count >= bodyStart + length ? bodyStart + length : nil
    }
    if head.contains("transfer-encoding: chunked") {
        let last = Array("0\r\n\r\n".utf8)
        let body = bytes[bodyStart...]
        guard let end = body.indices.first(where: { body[$0...].starts(with: last) }) else { return nil }
        return end + last.count
    }
    return bodyStart  // no body announced (a 204 or 304)
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}

@MainActor func hold(_ addresses: [String], interval: Int64, drain: Int64, seconds: Int, ready: String) {
    var connections: [HeldConnection] = []
    for address in addresses {
        let ipv6 = address.contains(":")
        let descriptor = socket(
            ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { continue }
        var connection = HeldConnection(descriptor: descriptor, address: address)
        connection.sent = now()  // the connect stands for the first request until it is made
        if connect(descriptor, to: address, ipv6: ipv6) < 0 && errno != EINPROGRESS {
            close(descriptor)
            report(connection, status: 0, answer: errno == ECONNREFUSED ? "refused" : "error")
            continue
        }
        connections.append(connection)
    }
    var announced = false
    // Each path out of the loop below has its connections opened or over.
    defer { if !announced { close(open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0o644)) } }
    let end = now() + Int64(seconds) * 1_000_000_000
    var stopAt: Int64?
    var nextTick = now() + interval
    func finish(_ connection: inout HeldConnection, status: Int, answer: String) {
        report(connection, status: status, answer: answer)
        close(connection.descriptor)
        connection.over = true
    }
    func request(_ connection: inout HeldConnection) {
        let host = connection.address.contains(":") ? "[\(connection.address)]" : connection.address
        let text = Array("GET / HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: halab-probe\r\n\r\n".utf8)
        connection.sent = now()
        let count = text.withUnsafeBytes {
            Glibc.send(connection.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
        }
        if count < 0 { finish(&connection, status: 0, answer: errno == ECONNRESET ? "reset" : "closed") }
    }
    while connections.contains(where: { !$0.over }) {
        if !announced && connections.allSatisfy({ $0.opened || $0.over }) {
            close(open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0o644))
            announced = true
        }
        let current = now()
        if stopAt == nil && (current >= end || stopRequested()) { stopAt = current }
        if stopAt != nil {
            for index in connections.indices
            where connections[index].connected && connections[index].sent == nil && !connections[index].settled {
                connections[index].lastSent = true
                request(&connections[index])
            }
        }
        if let stopAt, connections.allSatisfy(\.settled) || current >= stopAt + drain {
            for index in connections.indices where !connections[index].over && connections[index].sent != nil {
                finish(&connections[index], status: 0, answer: "pending")
            }
            break
        }
        if stopAt == nil && current >= nextTick {
            for index in connections.indices
            where connections[index].connected && connections[index].sent == nil && !connections[index].over {
                request(&connections[index])
            }
            nextTick += interval
            if nextTick < current { nextTick = current + interval }
        }
        let open = connections.indices.filter { !connections[$0].over }
        var descriptors = open.map {
            pollfd(
                fd: connections[$0].descriptor, events: Int16(connections[$0].connected ? POLLIN : POLLOUT), revents: 0)
        }
        let wake = stopAt.map { $0 + drain } ?? nextTick
        let wait = max(0, Int32(min(Int64(100), (wake - now() + 999_999) / 1_000_000)))
        _ = poll(&descriptors, nfds_t(descriptors.count), wait)
        for (slot, index) in open.enumerated() where descriptors[slot].revents != 0 {
            if !connections[index].connected {
                var problem: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(connections[index].descriptor, SOL_SOCKET, SO_ERROR, &problem, &length)
                guard problem == 0 else {
                    finish(&connections[index], status: 0, answer: problem == ECONNREFUSED ? "refused" : "error")
                    continue
                }
                connections[index].connected = true
                request(&connections[index])
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(connections[index].descriptor, &buffer, buffer.count, 0)
            guard count > 0 else {
                // Between requests a closed or reset connection has no request of its own: its line starts now.
                if connections[index].sent == nil { connections[index].sent = now() }
                let answer = count == 0 ? "closed" : errno == ECONNRESET ? "reset" : "error"
                finish(&connections[index], status: 0, answer: answer)
                continue
            }
            connections[index].response += buffer[0..<count]
            if let length = responseLength(connections[index].response) {
                let (status, answer) = parse(Array(connections[index].response[..<length]))
                report(connections[index], status: status, answer: answer)
                connections[index].opened = true
                connections[index].response.removeFirst(length)
                connections[index].sent = nil
            }
        }
    }
}

func report(_ connection: HeldConnection, status: Int, answer: String) {
    let line = Array("\(connection.sent ?? now()) \(now()) \(connection.address) \(status) \(answer)\n".utf8)
    _ = write(1, line, line.count)
}
