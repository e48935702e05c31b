// halab-probe: HTTP GET to each address every INTERVAL ms (a decimal: 2.5 is 400 a second), each
// on a new connection, many in flight at once (so an outage's slow timeouts never hold the pace
// back: an open-loop rate, whatever the server does), from the network
// namespace it is started in. One process, one poll loop, no process per request. Prints one
// line per request:  START_NS END_NS ADDRESS STATUS ANSWER
// (CLOCK_REALTIME nanoseconds; STATUS 0 with ANSWER refused|timeout|reset|error on failure).
// Stops after SECONDS, or on SIGTERM/SIGINT. Glibc only.
// `halab-probe hold …` holds one connection to each address instead (Hold.swift).
import Glibc

let holding = CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "hold"
let arguments = Array(CommandLine.arguments.dropFirst(holding ? 1 : 0))
guard arguments.count >= (holding ? 6 : 5), let intervalMs = Double(arguments[1]), let timeoutMs = Int(arguments[2]),
    let seconds = Int(arguments[3]), intervalMs > 0, timeoutMs > 0, seconds > 0
else {
    let usage = Array(
        ("usage: halab-probe INTERVAL_MS TIMEOUT_MS SECONDS ADDRESS…\n"
            + "       halab-probe hold INTERVAL_MS DRAIN_MS SECONDS READY_FILE ADDRESS…\n").utf8)
    _ = write(2, usage, usage.count)
    exit(2)
}
let addresses = Array(arguments[(holding ? 5 : 4)...])

func now() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}

// SIGTERM and SIGINT are blocked and looked for on every turn of the loop (a turn is at most
// one interval, or a second while draining): no handler, no shared state.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGTERM)
sigaddset(&stopSignals, SIGINT)
sigprocmask(SIG_BLOCK, &stopSignals, nil)
signal(SIGPIPE, SIG_IGN)

func stopRequested() -> Bool {
    var pending = sigset_t()
    sigpending(&pending)
    return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1
}

struct Request {
    var descriptor: Int32
    var address: String
    var started: Int64
    var connected = false
    var response: [UInt8] = []
}

var requests: [Request] = []
var output = ""

@MainActor func record(_ request: Request, status: Int, answer: String) {
    output += "\(request.started) \(now()) \(request.address) \(status) \(answer)\n"
    close(request.descriptor)
}

/// Connects `descriptor` to port 80 of an IPv4 or IPv6 address, without waiting.
func connect(_ descriptor: Int32, to address: String, ipv6: Bool) -> Int32 {
    func connect<Address>(_ target: inout Address) -> Int32 {
        withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<Address>.size))
            }
        }
    }
    if ipv6 {
        var target = sockaddr_in6()
        target.sin6_family = sa_family_t(AF_INET6)
        target.sin6_port = in_port_t(80).bigEndian
        inet_pton(AF_INET6, address, &target.sin6_addr)
        return connect(&target)
    }
    var target = sockaddr_in()
    target.sin_family = sa_family_t(AF_INET)
    target.sin_port = in_port_t(80).bigEndian
    inet_pton(AF_INET, address, &target.sin_addr)
    return connect(&target)
}

@MainActor func start(_ address: String) {
    let ipv6 = address.contains(":")
    let descriptor = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard descriptor >= 0 else { return }
    let request = Request(descriptor: descriptor, address: address, started: now())
    let result = connect(descriptor, to: address, ipv6: ipv6)
    if result < 0 && errno != EINPROGRESS {
        record(request, status: 0, answer: errno == ECONNREFUSED ? "refused" : "error")
    } else {
        requests.append(request)
    }
}

/// `HTTP/1.1 200 OK … \r\n\r\nnginx-1\n` → (200, "nginx-1")
func parse(_ bytes: [UInt8]) -> (Int, String) {
    let statusWord = bytes.split(separator: UInt8(ascii: " "), maxSplits: 2).dropFirst().first ?? []
    let status = Int(String(decoding: statusWord, as: UTF8.self)) ?? 0
    let separator = Array("\r\n\r\n".utf8)
    guard let headEnd = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
        return (status, "-")
    }
    let body = bytes[(headEnd + separator.count)...]
    let firstWord = body.split(whereSeparator: { $0 == 10 || $0 == 13 || $0 == 32 }).first ?? []
    return (status, firstWord.isEmpty ? "-" : String(decoding: firstWord, as: UTF8.self))
}

if holding {
    hold(
        addresses, interval: Int64(intervalMs * 1_000_000), drain: Int64(timeoutMs) * 1_000_000, seconds: seconds,
        ready: arguments[4])
    exit(0)
}

let interval = Int64(intervalMs * 1_000_000)
let timeout = Int64(timeoutMs) * 1_000_000
let end = now() + Int64(seconds) * 1_000_000_000
var nextTick = now()
var stopping = false
let requestText = Array("GET / HTTP/1.0\r\nUser-Agent: halab-probe\r\n\r\n".utf8)

while !stopping || !requests.isEmpty {
    let current = now()
    if !stopping && current >= end { stopping = true }
    if !stopping && current >= nextTick {
        for address in addresses { start(address) }
        nextTick += interval
        if nextTick < current { nextTick = current + interval }  // behind: the gap shows in the record
    }
    var descriptors = requests.map {
        pollfd(fd: $0.descriptor, events: Int16($0.connected ? POLLIN : POLLOUT), revents: 0)
    }
    let firstDeadline = requests.map { $0.started + timeout }.min() ?? Int64.max
    let wake = stopping ? firstDeadline : min(nextTick, firstDeadline)
    // Rounded up to whole milliseconds: rounded down, the loop would spin through the last one
    // before each tick. A tick is at most 1 ms late, and the next one keeps the pace.
    let wait = max(0, Int32(min(Int64(1000), (wake - now() + 999_999) / 1_000_000)))
    _ = poll(&descriptors, nfds_t(descriptors.count), wait)
    if stopRequested() { stopping = true }

    var open: [Request] = []
    for (index, var request) in requests.enumerated() {
        let events = descriptors[index].revents
        if events != 0 && !request.connected {
            var problem: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(request.descriptor, SOL_SOCKET, SO_ERROR, &problem, &length)
            if problem != 0 {
                record(request, status: 0, answer: problem == ECONNREFUSED ? "refused" : "error")
                continue
            }
            request.connected = true
            _ = requestText.withUnsafeBytes { send(request.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        } else if events != 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(request.descriptor, &buffer, buffer.count, 0)
            if count > 0 {
                request.response += buffer[0..<count]
            } else {
                if count == 0 {
                    let (status, answer) = parse(request.response)
                    record(request, status: status, answer: answer)
                } else {
                    record(request, status: 0, answer: errno == ECONNRESET ? "reset" : "error")
                }
                continue
            }
        }
        if now() - request.started > timeout {
            record(request, status: 0, answer: "timeout")
            continue
        }
        open.append(request)
    }
    requests = open
    if !output.isEmpty {
        let bytes = Array(output.utf8)
        _ = write(1, bytes, bytes.count)
        output = ""
    }
}
