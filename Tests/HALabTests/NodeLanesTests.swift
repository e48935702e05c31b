import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel

/// A node's lane from keepalived's log (seconds), its VIP's address events and its adverts.
@Suite struct NodeLanesTests {
    static let instance: VRRPInstance = {
        var instance = VRRPInstance(name: "VI_1", node: "nginx-1", location: ConfigLocation(file: "k.conf", line: 1))
        instance.virtualRouterID = 51
        instance.virtualAddresses = ["10.33.1.100"]
        return instance
    }()

    static func advert(_ time: Double, priority: Int = 100, sender: String = "10.33.1.11") -> VRRPAdvert {
        VRRPAdvert(
            time: time, sender: sender, family: .ipv4, version: 2, virtualRouterID: 51, priority: priority, interval: 1,
            authentication: .simple, addresses: ["10.33.1.100"])
    }

    static func evidence(
        events: [AddressEvent], adverts: [VRRPAdvert], down: [(node: String, span: NodeLane.Span)] = []
    ) -> LaneEvidence {
        let marks = [
            Timeline.Mark(time: 90, node: "nginx-1", text: "(VI_1) Entering BACKUP STATE (init)"),
            Timeline.Mark(time: 100, node: "nginx-1", text: "(VI_1) Entering MASTER STATE"),
            Timeline.Mark(time: 104, node: "nginx-1", text: "(VI_1) Entering BACKUP STATE"),
            Timeline.Mark(time: 104, node: "nginx-2", text: "(VI_1) Entering MASTER STATE")
        ]
        return LaneEvidence(
            logMarks: marks, addressEvents: events, adverts: adverts,
            addresses: ["nginx-1": ["10.33.1.11"], "nginx-2": ["10.33.1.12"]], down: down)
    }

    static let adverts = [
        advert(100.405), advert(101.405), advert(103.405, priority: 80),
        advert(104.2, priority: 90, sender: "10.33.1.12")
    ]
    static let events = [
        AddressEvent(time: 100.412, node: "nginx-1", address: "10.33.1.100", added: true),
        AddressEvent(time: 104.803, node: "nginx-1", address: "10.33.1.100", added: false)
    ]

    @Test func stateChangesAreTimedByTheWireAndTheAddresses() throws {
        let lane = try #require(
            Self.evidence(events: Self.events, adverts: Self.adverts).lanes([Self.instance], from: 95, to: 110).first)
        #expect(
            lane.bands == [
                NodeLane.Band(state: .backup, from: 95, to: 100.405, logged: "(VI_1) Entering BACKUP STATE (init)"),
                // Its first advert came before its VIP was added; it left when the VIP was deleted.
                NodeLane.Band(
                    state: .master, from: 100.405, to: 104.803, priorities: [100, 80],
                    logged: "(VI_1) Entering MASTER STATE"),
                NodeLane.Band(state: .backup, from: 104.803, to: 110, logged: "(VI_1) Entering BACKUP STATE")
            ])
        #expect(lane.adverts == [100.405, 101.405, 103.405])  // nginx-2's is not its own
        // Two seconds without an advert; the 1.398 s from the last one to the VIP's deletion is none.
        #expect(lane.gaps == [NodeLane.Span(from: 101.405, to: 103.405)])
    }

    @Test func withoutAddressEventsTheFirstAdvertTimesTheMaster() throws {
        let lane = try #require(
            Self.evidence(events: [], adverts: Self.adverts).lanes([Self.instance], from: 95, to: 110).first)
        #expect(lane.bands.map(\.state) == [.backup, .master, .backup])
        #expect(lane.bands[1].from == 100.405)
        #expect(lane.bands[1].to == 104)  // the log's second: nothing finer says when it stepped down
        // An advert from long before the logged second does not move it.
        let late = try #require(
            Self.evidence(events: [], adverts: [Self.advert(97)]).lanes([Self.instance], from: 95, to: 110).first)
        #expect(late.bands[1].from == 100)
    }

    @Test func whereTheLogIsSilentAdvertsSayMaster() throws {
        let evidence = LaneEvidence(
            logMarks: [], addressEvents: [],
            adverts: [Self.advert(100), Self.advert(101), Self.advert(102.6), Self.advert(107)],
            addresses: ["nginx-1": ["10.33.1.11"]], down: [])
        let lane = try #require(evidence.lanes([Self.instance], from: 95, to: 110).first)
        #expect(lane.bands.map(\.state) == [.unknown, .master, .unknown, .master, .unknown])
        #expect(lane.bands.map { [$0.from, $0.to] } == [[95, 100], [100, 103.6], [103.6, 107], [107, 108], [108, 110]])
        #expect(lane.bands[1].priorities == [100])
        #expect(lane.gaps == [NodeLane.Span(from: 101, to: 102.6)])
    }

    @Test func aCrashCutsTheLaneDown() throws {
        let down = [(node: "nginx-1", span: NodeLane.Span(from: 106, to: 108))]
        let lane = try #require(
            Self.evidence(events: Self.events, adverts: Self.adverts, down: down).lanes(
                [Self.instance], from: 95, to: 110
            ).first)
        #expect(lane.bands.map(\.state) == [.backup, .master, .backup, .down, .backup])
        #expect(lane.bands.suffix(3).map { [$0.from, $0.to] } == [[104.803, 106], [106, 108], [108, 110]])
        let other = try #require(
            Self.evidence(events: [], adverts: [], down: down).lanes([Self.instance], from: 107, to: 110).first)
        #expect(other.bands.map(\.state) == [.down, .backup])
    }

    @Test func ipMonitorLinesAreRead() {
        let text = """
            [2026-11-28T00:41:51.524241] 2: eth1    inet 10.33.1.100/24 scope global secondary eth1\\       valid_lft \
            forever
            [2026-11-28T00:41:55.000500] Deleted 2: eth1    inet 10.33.1.100/24 scope global secondary eth1
            [2026-11-28T00:41:56.25] 3: eth2    inet6 2001:db8::100/64 scope global
            not a line of ip's
            """
        let events = AddressEvent.parse(text, node: "nginx-2")
        #expect(events.map(\.address) == ["10.33.1.100", "10.33.1.100", "2001:db8::100"])
        #expect(events.map(\.added) == [true, false, true])
        #expect(abs(events[1].time - events[0].time - 3.476259) < 1e-6)
        let day = DateComponents(
            calendar: Calendar(identifier: .gregorian), timeZone: .current, year: 2026, month: 11, day: 28,
            hour: 0, minute: 41, second: 56
        ).date!
        #expect(abs(events[2].time - day.timeIntervalSince1970 - 0.25) < 1e-6)
    }
}
