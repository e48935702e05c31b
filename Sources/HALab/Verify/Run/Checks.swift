import Foundation
import HALabModel

/// One curl: an answer with the status, server and body asked for, or (`fails`) no answer.
struct AnswerCheck {
    var request: Request
    var status: Int? = nil
    var server: String? = nil
    var body: String? = nil
    var fails = false

    func matches(_ response: CurlResponse) -> Bool {
        if fails { return response.exitCode != 0 }
        guard response.exitCode == 0 else { return false }
        if let status, response.status != status { return false }
        if let server, response.server != server { return false }
        if let body, response.body.trimmingSpaces() != body { return false }
        return true
    }

    func look(_ session: LabSession) async throws -> Look {
        let response = try await session.curl(request.url, from: request.from, timeout: 0.5)
        return Look(holds: matches(response), seen: response.summary)
    }
}

/// `samples` curls, every one answered by `name`.
struct EveryCheck {
    var request: Request
    var name: String
    var samples: Int

    func look(_ session: LabSession) async throws -> Look {
        let answers = try await session.sample(request.url, from: request.from, count: samples)
        return Look(holds: answers.allSatisfy { $0 == name }, seen: tally(answers))
    }
}

/// `samples` curls, each name a proper share of them: judged once, as `ShareTest`'s bound assumes.
struct MixCheck {
    var request: Request
    var names: [String]
    var samples: Int

    func judge(_ session: LabSession) async throws -> Outcome {
        let start = ContinuousClock.now
        let answers = try await session.sample(request.url, from: request.from, count: samples)
        let range = ShareTest.acceptedRange(samples: answers.count, names: names.count)
        return Outcome(
            passed: ShareTest.judge(answers, names: names), elapsed: (ContinuousClock.now - start).seconds,
            seen: tally(answers) + " (each name \(range.lowerBound)…\(range.upperBound) passes)")
    }
}

/// The nodes that carry a VIP: exactly `nodes`, or (nil) exactly one node.
struct HolderCheck {
    var vip: String
    var nodes: [String]?

    func judge(_ held: [String]) -> Look {
        let holds = nodes.map { Set(held) == Set($0) } ?? (held.count == 1)
        return Look(
            holds: holds,
            seen: "held by " + (held.isEmpty ? "nobody" : held.joined(separator: " and "))
                + (held.count > 1 ? " (split brain)" : ""))
    }

    func look(_ session: LabSession) async throws -> Look { judge(try await session.holders(of: vip)) }
}

/// Pings from a node: the share lost fits `percent` (a binomial bound, false failure below
/// 1e-6): proof that a loss fault is really in force.
struct PingLossCheck {
    var from: String
    var address: String
    var percent: Int
    var samples: Int

    func judge(_ session: LabSession) async throws -> Outcome {
        let start = ContinuousClock.now
        let counted = try await session.ping(address, from: from, count: samples)
        let elapsed = { (ContinuousClock.now - start).seconds }
        guard let (sent, received) = counted else {
            return Outcome(passed: false, elapsed: elapsed(), seen: "ping printed no summary")
        }
        return judge(sent: sent, received: received, elapsed: elapsed())
    }

    func judge(sent: Int, received: Int, elapsed: Double) -> Outcome {
        let lost = sent - received
        let range = ShareTest.acceptedRange(samples: sent, probability: Double(percent) / 100)
        return Outcome(
            passed: range.contains(lost), elapsed: elapsed,
            seen: "\(lost) of \(sent) lost (\(range.lowerBound)…\(range.upperBound) fit \(percent) %)")
    }
}

/// Watches a VIP's holders under packet loss at the preferred node and counts takeovers
/// (another node holding it); passes if they are no more than VRRP's prediction allows (a
/// Poisson bound, false failure below 1e-6) and the preferred node holds it at the end. A
/// takeover under way as the watch ends is let run out: up to two Master_Down_Intervals more,
/// until the preferred node holds the VIP alone (seen on VMs: both held it at the last look).
struct TakeoverCheck {
    var vip: String
    var preferred: String
    var percent: Int
    var seconds: Double

    /// How many takeovers VRRP allows here, and their mean, from the peers' timers.
    func bound(instances: [VRRPInstance]) -> (mean: Double, most: Int, grace: Double) {
        let peers = instances.filter { $0.virtualAddresses.contains(vip) }
        let backups = peers.filter { $0.node != preferred }
        let advert = peers.first?.advertInterval ?? 1
        // The fastest backup's timer bounds the takeovers from above.
        let masterDown = backups.map { $0.masterDownInterval(priority: $0.priority) }.min() ?? 3 * advert
        let rate = LossPrediction.takeoverRate(
            loss: Double(percent) / 100, advertInterval: advert, masterDownInterval: masterDown)
        return (rate * seconds, LossPrediction.poissonUpperBound(mean: rate * seconds), 2 * masterDown)
    }

    func judge(_ session: LabSession) async throws -> Outcome {
        let (mean, most, grace) = bound(instances: session.lab.instances)
        let clock = ContinuousClock()
        let start = clock.now
        var (takeovers, looks, preferredAlone) = (0, 0, 0)
        var last: [String] = []
        var wasTaken = false
        // Judged by a look taken after the watch (and its grace) ends, however late a busy
        // machine wakes this task: never by one taken before it.
        while true {
            last = try await session.holders(of: vip)
            looks += 1
            let taken = last.contains { $0 != preferred }
            if taken && !wasTaken { takeovers += 1 }
            if last == [preferred] { preferredAlone += 1 }
            wasTaken = taken
            let elapsed = (clock.now - start).seconds
            if elapsed >= seconds + grace || (elapsed >= seconds && last == [preferred]) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let seen =
            "\(takeovers) takeovers in \(String(format: "%.0f", seconds)) s (VRRP predicts "
                + "\(String(format: "%.2f", mean)) on average, at most \(most)); \(preferred) alone in "
                + "\(preferredAlone) of \(looks) looks; at the end held by \(last.joined(separator: " and "))"
        return Outcome(
            passed: takeovers <= most && last == [preferred], elapsed: (clock.now - start).seconds, seen: seen)
    }
}

/// `nginx-1 ×104, nginx-2 ×96 of 200`
func tally(_ answers: [String]) -> String {
    let counts = Dictionary(grouping: answers, by: { $0 }).mapValues(\.count)
    return counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        + " of \(answers.count)"
}
