import Testing
@testable import HALab
@testable import HALabModel

/// What `halab watch` draws and logs, from snapshots made here.
@Suite struct WatchTests {
    static func snapshot(
        time: Double, holders: [String], answers: [String?], faults: [String] = [],
        states: [(String, String, Int)] = [("nginx-1", "MASTER", 100), ("nginx-2", "BACKUP", 90)]
    ) -> LabSnapshot {
        LabSnapshot(
            time: time,
            instances: states.map {
                InstanceState(instance: "VI_1", node: $0.0, state: .reported($0.1), effectivePriority: $0.2)
            },
            holders: [.init(address: "10.33.1.100", nodes: holders, answers: answers)], faults: faults)
    }

    @Test func theScreenShowsInstancesHoldersAnswersAndFaults() {
        let healthy = Self.snapshot(time: 0, holders: ["nginx-1"], answers: ["nginx-1", "nginx-1"]).screen(
            lab: "mb", color: true)
        #expect(healthy.contains("nginx-1     VI_1         MASTER             100"))
        #expect(healthy.contains("10.33.1.100       nginx-1                 2/2 answered, last by nginx-1"))
        #expect(healthy.suffix(2) == ["FAULTS IN FORCE", "none"])
        #expect(!healthy.joined().contains("\u{1B}["))
        let split = Self.snapshot(
            time: 0, holders: ["nginx-1", "nginx-2"], answers: ["nginx-1", nil], faults: ["block-multicast nginx-2"]
        )
        .screen(lab: "mb", color: true)
        #expect(split.contains { $0.contains("\u{1B}[31msplit brain: nginx-1, nginx-2") })
        #expect(split.contains { $0.contains("\u{1B}[31m1/2 answered, last failed\u{1B}[0m") })
        #expect(split.last == "block-multicast nginx-2")
        let plain = Self.snapshot(time: 0, holders: ["nginx-1", "nginx-2"], answers: []).screen(lab: "mb", color: false)
        #expect(plain.contains("10.33.1.100       split brain: nginx-1, nginx-2 -"))
    }

    @Test func onlyChangesAreLogged() {
        let first = Self.snapshot(time: 0, holders: ["nginx-1"], answers: ["nginx-1"])
        #expect(
            first.changes(since: nil).map { String($0.split(separator: " ", maxSplits: 1)[1]) } == [
                "nginx-1 VI_1 MASTER priority 100", "nginx-2 VI_1 BACKUP priority 90", "10.33.1.100 held by nginx-1",
                "10.33.1.100 answered by nginx-1"
            ])
        #expect(
            Self.snapshot(time: 1, holders: ["nginx-1"], answers: ["nginx-1", "nginx-1"]).changes(since: first).isEmpty)
        let moved = Self.snapshot(
            time: 2, holders: ["nginx-2", "nginx-1"], answers: ["nginx-1", nil], faults: ["kill nginx-1"],
            states: [("nginx-1", "MASTER", 100), ("nginx-2", "MASTER", 90)])
        #expect(
            moved.changes(since: first).map { String($0.split(separator: " ", maxSplits: 1)[1]) } == [
                "nginx-2 VI_1 MASTER priority 90", "10.33.1.100 held by nginx-2, nginx-1 (split brain)",
                "10.33.1.100 answered by nobody (the request failed)", "fault on: kill nginx-1"
            ])
        #expect(first.changes(since: moved).last?.hasSuffix("fault off: kill nginx-1") == true)
    }
}
