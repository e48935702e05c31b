import Foundation
import HALabBackends
import HALabModel
import HALabSystem
import Synchronization

/// What watching the wire costs, and whether what it decodes is what keepalived thinks.
extension Benchmarks {
    /// A crash of nginx-1 measured with and without a capture of the segment running, runs
    /// interleaved. The outage itself varies by up to an advert interval from run to run (where
    /// in its interval the master died), so the capture's cost is read from the part it can
    /// touch: from keepalived setting the VIP on the backup to the client's first good answer.
    public static func captureOverhead(_ lab: Lab, runs: Int, backend: any LabBackend, scratch: String) async throws
        -> BenchTable
    {
        var table = BenchTable(
            title: "a capture's cost to a crash failover in \(lab.name), median of \(runs) interleaved runs (seconds)",
            columns: ["no capture", "capture", "difference"],
            note: "(VIP set → answer: from keepalived setting the VIP on nginx-2 (ip monitor) to the probe's first "
                + "good answer; outage: last good answer to first good one, which also holds the advert phase, ±0.5 s "
                + "from run to run)"
        )
        let capture = [CaptureFile(point: .segment(lab.topology.segments[0]), path: "\(scratch)/overhead.pcap")]
        var lags: [Bool: [Double]] = [false: [], true: []], windows: [Bool: [Double]] = [false: [], true: []]
        try await withLab(lab, backend: backend) { session in
            for _ in 0..<runs {
                for capturing in [false, true] {
                    let measure = { @Sendable in try await probeLag(session, crash: "nginx-1", backup: "nginx-2") }
                    let (lag, window) =
                        capturing ? try await session.capturing(capture, during: measure) : try await measure()
                    lags[capturing]!.append(lag)
                    windows[capturing]!.append(window)
                }
            }
        }
        for (label, figures) in [("VIP set → answer", lags), ("outage", windows)] {
            let (without, with) = (median(figures[false]!), median(figures[true]!))
            table.rows.append(
                (
                    label,
                    [
                        String(format: "%.4f", without), String(format: "%.4f", with),
                        String(format: "%+.4f", with - without)
                    ]
                ))
        }
        return table
    }

    /// In every step of the lab's scenario, once it has been judged: each instance's state and
    /// effective priority in keepalived's own dump (SIGUSR1), next to the priorities its adverts
    /// carried on the wire in the 1.5 s after. A MASTER's adverts carry its effective priority;
    /// any other state sends none.
    public static func wireAgreement(_ lab: Lab, backend: any LabBackend, scratch: String) async throws -> BenchTable {
        var table = BenchTable(
            title: "adverts on the wire against keepalived's dump, after each step of \(lab.name)'s scenario",
            columns: ["node", "state", "dump", "wire", "agree"],
            note:
                "(dump: the effective priority keepalived reports; wire: the priorities its adverts carried in the 1.5 "
                    + "s after; steps: "
                + lab.scenario.steps.enumerated().map { "\($0.offset + 1) \($0.element.name)" }.joined(separator: "; ")
                + ")")
        let path = "\(scratch)/agreement.pcap"
        let rows = Mutex<[(label: String, cells: [String])]>([])
        try await withLab(lab, backend: backend) { session in
            let report = try await session.capturing([
                CaptureFile(point: .segment(lab.topology.segments[0]), path: path)
            ]) {
                try await Verifier.run(session, progress: { _ in }) { step in
                    let states = try await session.instanceStates()
                    let asked = Date().timeIntervalSince1970
                    try await Task.sleep(for: .seconds(1.5))
                    let adverts = try AdvertReader.adverts(in: path).filter { $0.time > asked }
                    rows.withLock { rows in
                        rows += agreement(states, adverts: adverts, lab: lab).map {
                            ("step \(rows.count / states.count + 1)", $0)
                        }
                    }
                }
            }
            guard report.passed else { throw HALabError.notConverged("\(lab.name)'s scenario failed while capturing") }
        }
        table.rows = rows.withLock { $0 }
        return table
    }

    /// One row per instance: node, state, dump priority, wire priorities, whether they agree.
    static func agreement(_ states: [InstanceState], adverts: [VRRPAdvert], lab: Lab) -> [[String]] {
        states.map { state in
            let instance = lab.instances.first { $0.node == state.node && $0.name == state.instance }
            let addresses = Set((try? lab.topology.node(state.node))?.addresses ?? [])
            let sent = adverts.filter {
                addresses.contains($0.sender) && $0.virtualRouterID == instance?.virtualRouterID
            }
            let wire = Array(Set(sent.map(\.priority))).sorted()
            let master = state.state == .reported("MASTER")
            let agrees = master ? (!wire.isEmpty && wire.allSatisfy { $0 == state.effectivePriority }) : wire.isEmpty
            return [
                state.node, state.state.description, state.effectivePriority.map(String.init) ?? "-",
                wire.isEmpty ? "none" : wire.map(String.init).joined(separator: ","), agrees ? "yes" : "NO"
            ]
        }
    }
}
