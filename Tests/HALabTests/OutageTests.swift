import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The measurement logic on recorded probe histories: no lab, no root.
@Suite struct OutageTests {
    /// A history on 10.33.1.100, one request every 10 ms from t = 0: `pattern` gives each
    /// request's answer by time.
    static func history(seconds: Double, _ answer: (Double) -> String) -> [ProbeSample] {
        stride(from: 0.0, to: seconds, by: 0.01).map { t in
            let value = answer(t)
            let ok = value.hasPrefix("nginx")
            return ProbeSample(
                start: 1000 + t, end: 1000 + t + 0.001, address: "10.33.1.100", status: ok ? 200 : 0, answer: value)
        }
    }

    @Test func crashFailover() {
        // Fault at 2 s; timeouts until 5.6 s; nginx-2 from then on.
        let samples = Self.history(seconds: 10) { $0 < 2 ? "nginx-1" : $0 < 5.6 ? "timeout" : "nginx-2" }
        let m = OutageMeasurement.measure(
            samples, address: "10.33.1.100", faultAt: 1002, until: 1010, expected: "nginx-2", bound: 3.648)
        #expect(m.from == "nginx-1")
        #expect(m.to == "nginx-2")
        #expect(m.failed == 360)
        #expect(abs(m.window - 3.611) < 1e-6)  // last good sent at 1.99 → first good back at 5.601
        #expect(abs(m.recovery - 3.601) < 1e-6)
        #expect(m.withinBound)
        #expect(m.unexpected == 0)
        #expect(m.flaps == 0)
        #expect(abs(m.interval - 0.01) < 1e-9)
    }

    @Test func overTheBoundIsSeen() {
        let samples = Self.history(seconds: 10) { $0 < 2 ? "nginx-1" : $0 < 7 ? "refused" : "nginx-2" }
        let m = OutageMeasurement.measure(
            samples, address: "10.33.1.100", faultAt: 1002, until: 1010, expected: "nginx-2", bound: 3.648)
        #expect(!m.withinBound)
        #expect(m.summary.contains("outage 5.011 s"))  // last good sent at 1.99, first good back at 7.001
        let never = OutageMeasurement.measure(
            Self.history(seconds: 10) { $0 < 2 ? "nginx-1" : "refused" }, address: "10.33.1.100",
            faultAt: 1002, until: 1010, expected: "nginx-2", bound: 3.648)
        #expect(!never.withinBound)
        #expect(never.summary.hasPrefix("10.33.1.100: no good answer after the fault"))
    }

    @Test func theBoundCountsFromTheFaultInPlaceToTheProbesResolution() {
        // Fault begun at 2 s, in place 20 ms later; the probe stalls 40 ms around the recovery.
        var samples = Self.history(seconds: 10) { $0 < 2 ? "nginx-1" : $0 < 5.66 ? "timeout" : "nginx-2" }
        samples.removeAll { $0.start > 1005.625 && $0.start < 1005.66 }
        let m = OutageMeasurement.measure(
            samples, address: "10.33.1.100", faultAt: 1002, took: 0.02, until: 1010, expected: "nginx-2", bound: 3.648)
        #expect(abs(m.recovery - 3.641) < 1e-6)  // 5.661 − 2.02
        #expect(abs(m.resolution - 0.041) < 1e-6)  // last failure sent at 5.62, first good back at 5.661
        #expect(m.withinBound)
        #expect(m.failed == 363)  // 2.00 … 5.62, counted from when the fault was begun
        // A failure seen after the bound is over it, however coarse the probe.
        let late = OutageMeasurement.measure(
            samples, address: "10.33.1.100", faultAt: 1002, until: 1010, expected: "nginx-2", bound: 3.6)
        #expect(!late.withinBound)
    }

    @Test func aRequestSentDuringTheOutageCountsWhenItIsAnswered() {
        // Fault at 2 s, the backup takes over at 5.6 s. Requests sent from 4.6 s on are not timed
        // out when their SYN is sent again 1 s later, and are answered then.
        let samples = Self.history(seconds: 10) { $0 < 2 ? "nginx-1" : $0 < 4.6 ? "timeout" : "nginx-2" }.map {
            sample in
            var sample = sample
            if sample.start >= 1004.6 && sample.start < 1005.6 { sample.end = sample.start + 1.0 }
            return sample
        }
        let m = OutageMeasurement.measure(
            samples, address: "10.33.1.100", faultAt: 1002, until: 1010, expected: "nginx-2", bound: 3.648)
        #expect(abs(m.recovery - 3.6) < 1e-6)  // answered at 5.6, not sent at 4.6
        #expect(m.withinBound)
    }

    @Test func seamlessMoveHasNoOutage() {
        let samples = Self.history(seconds: 6) { $0 < 3.5 ? "nginx-2" : "nginx-1" }
        let m = OutageMeasurement.measure(
            samples, address: "10.33.1.100", faultAt: 1001, until: 1006, expected: "nginx-1", bound: 5.6)
        #expect(m.failed == 0)
        #expect(m.window == 0)
        #expect(m.unexpected == 0)  // nginx-2 answering before the move is not wrong
        #expect(m.flaps == 0)
        #expect(m.summary == "10.33.1.100: nginx-2 → nginx-1, no request failed, 0 failed")
    }

    @Test func flapsAndWrongAnswersAreCounted() {
        // Split brain: answers alternate between the nodes after the fault.
        let samples = Self.history(seconds: 4) { $0 < 1 ? "nginx-1" : (Int($0 * 10) % 2 == 0 ? "nginx-1" : "nginx-2") }
        let m = OutageMeasurement.measure(
            samples, address: "10.33.1.100", faultAt: 1001, until: 1004, expected: "nginx-1", bound: 3.6)
        #expect(m.flaps > 20)
        #expect(m.unexpected > 100)
    }

    @Test func probeRecordIsReadAndSorted() {
        let text =
            "2000000000 2100000000 10.33.1.100 200 nginx-2\n1000000000 1000500000 10.33.1.100 0 timeout\nbroken line\n"
        #expect(
            ProbeSample.parse(text) == [
                ProbeSample(start: 1, end: 1.0005, address: "10.33.1.100", status: 0, answer: "timeout"),
                ProbeSample(start: 2, end: 2.1, address: "10.33.1.100", status: 200, answer: "nginx-2")
            ])
    }

    /// A sample from another client is labelled with it, in summaries and in the raw record.
    @Test func aVantageNamesItsClient() {
        var sample = ProbeSample(start: 1, end: 1.5, address: "10.33.1.100", status: 200, answer: "nginx-1")
        #expect(sample.label == "10.33.1.100" && TimelineReport.record([sample]) == "1.0 1.5 10.33.1.100 200 nginx-1")
        sample.vantage = "client-routed"
        #expect(sample.label == "10.33.1.100 from client-routed")
        #expect(TimelineReport.record([sample]) == "1.0 1.5 10.33.1.100 200 nginx-1 client-routed")
        var outage = OutageMeasurement.measure(
            [sample], address: "10.33.1.100", faultAt: 1.2, until: 2, expected: nil, bound: 3)
        outage.vantage = "client-routed"
        #expect(outage.summary.hasPrefix("10.33.1.100 from client-routed: nginx-1 → nobody"), "\(outage.summary)")
    }

    /// Each client's outage from its own requests: the routed client's longer outage is its own.
    @Test func eachClientsOutageIsMeasuredFromItsOwnRequests() throws {
        let lab = try Lab.load(folder: "\(KeepalivedConfigTests.labs)/master-backup-routed")
        var report = VerifyReport(lab: lab.name, backend: "namespaces", seconds: 0, steps: [])
        var step = VerifyReport.StepResult(name: "nginx-1 crashes", action: "chaos kill nginx-1")
        step.at = 100
        report.steps = [step]
        // From the LAN, failing from 100 to 103 s; from behind the router, until 105 s.
        report.samples = stride(from: 99.0, to: 110, by: 0.01).flatMap { time in
            [(nil, 103.0), ("client-routed", 105.0)].map { vantage, until in
                let failed = time >= 100 && time < until
                var sample = ProbeSample(
                    start: time, end: time + 0.002, address: "10.33.1.100", status: failed ? 0 : 200,
                    answer: failed ? "timeout" : time < 100 ? "nginx-1" : "nginx-2")
                sample.vantage = vantage
                return sample
            }
        }
        Verifier.measureOutages(&report, session: LabSession(lab: lab, backend: FakeBackend.following(lab)))
        let outages = try #require(report.steps[0].outages)
        #expect(outages.map(\.vantage) == [nil, "client-routed"])
        #expect(outages.count == 2 && abs(outages[0].window - 3.002) < 0.02 && abs(outages[1].window - 5.002) < 0.02)
        let routed = outages.last?.summary ?? ""
        #expect(routed.hasPrefix("10.33.1.100 from client-routed: nginx-1 → nginx-2, outage 5.0"), "\(routed)")
    }

    @Test func keepalivedStateChangesBecomeMarks() {
        let log = """
            Wed Nov 25 19:54:36 2026: (VI_1) Entering BACKUP STATE (init)
            Wed Nov 25 19:54:40 2026: (VI_1) Receive advertisement timeout
            Wed Nov  5 09:04:40 2026: (VI_1) Entering MASTER STATE
            """
        let marks = KeepalivedLog.stateChanges(log, node: "nginx-1")
        #expect(marks.map(\.text) == ["(VI_1) Entering BACKUP STATE (init)", "(VI_1) Entering MASTER STATE"])
        let expected = DateComponents(
            calendar: Calendar(identifier: .gregorian), timeZone: .current,
            year: 2026, month: 11, day: 25, hour: 19, minute: 54, second: 36
        ).date!
        #expect(marks.first?.time == expected.timeIntervalSince1970)
    }

    @Test func timelineIsWellFormedSVGAndHTML() throws {
        let samples = Self.history(seconds: 6) { $0 < 2 ? "nginx-1" : $0 < 5 ? "timeout" : "nginx-2" }
        let timeline = Timeline(
            title: "halab verify <mb>", addresses: ["10.33.1.100"], samples: samples,
            steps: [("crash & burn", 1002)], bands: [.init(label: "kill nginx-1", from: 1002, to: 1006)],
            marks: [.init(time: 1005, node: "nginx-2", text: "(VI_1) Entering MASTER STATE")])
        let svg = try XMLDocument(xmlString: timeline.svg())
        let bars = try svg.nodes(forXPath: "//*[local-name()='rect'][*[local-name()='title']]")
        // The fault band, then three runs: nginx-1, failed, nginx-2.
        #expect(
            bars.compactMap { ($0 as? XMLElement)?.elements(forName: "title").first?.stringValue }
                == ["kill nginx-1", "nginx-1 ×200", "failed (timeout) ×300", "nginx-2 ×100"])
        let measurement = OutageMeasurement.measure(
            samples, address: "10.33.1.100", faultAt: 1002, until: 1006, expected: "nginx-2", bound: 3.6)
        let html = timeline.html(measurements: [("crash & burn", measurement)])
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<td>crash &amp; burn</td><td>10.33.1.100</td><td>nginx-1 → nginx-2</td>"))
    }
}

@Suite struct LabGeneratorTests {
    @Test func generatedGroupLoadsWithTheRightHolder() throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-gen-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let folder = try LabGenerator.group(
            size: 8, in: parent, sharedFrom: "\(KeepalivedConfigTests.labs)/master-backup")
        let lab = try Lab.load(folder: folder)
        #expect(lab.name == "group-8")
        #expect(lab.topology.nodes.count == 9)
        #expect(lab.instances.map(\.priority) == Array((243...250).reversed()))
        #expect(lab.healthyHolders.map(\.node) == ["node-1"])
        #expect(throws: HALabError.self) { try LabGenerator.group(size: 65, in: parent, sharedFrom: folder) }
    }

    @Test func tunedMasterBackupIsVRRPv3WithFastAdverts() throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "halab-gen-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let lab = try Lab.load(
            folder: try LabGenerator.tunedMasterBackup(from: "\(KeepalivedConfigTests.labs)/master-backup", in: parent))
        #expect(lab.instances.map(\.version) == [3, 3])
        #expect(lab.instances.map(\.advertInterval) == [0.1, 0.1])
        #expect(lab.instances.map { $0.trackedScripts[0].interval } == [1, 1])
        // A crash of nginx-1: nginx-2 takes over after 3 × 0.1 + 0.1 × (256 − 90) / 256 s.
        var model = lab.vrrpModel()
        #expect(abs(model.apply(.crash(node: "nginx-1")) - (0.3 + 0.1 * 166 / 256)) < 1e-9)
    }
}
