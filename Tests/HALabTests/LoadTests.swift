import Foundation
import FoundationXML
import Synchronization
import Testing
@testable import HALab
@testable import HALabBackends
import HALabModel
@testable import HALabSystem

/// Requests under load (`verify --load`, a scenario's `load:`): each step's requests counted by
/// how they failed, their latency, and the step's failure budget (`max-failed`).
@Suite struct LoadTests {
    static func sample(_ start: Double, _ latency: Double, _ answer: String, status: Int? = nil) -> ProbeSample {
        let failed = ["refused", "reset", "timeout", "error"].contains(answer)
        return ProbeSample(
            start: start, end: start + latency, address: "10.33.1.100", status: status ?? (failed ? 0 : 200),
            answer: answer)
    }

    @Test func aFailedRequestIsOfTheKindTheProbeSaid() {
        #expect(Self.sample(0, 0.001, "nginx-1").failure == nil)
        #expect(Self.sample(0, 0.001, "refused").failure == .refused)
        #expect(Self.sample(0, 0.001, "reset").failure == .reset)
        #expect(Self.sample(0, 1, "timeout").failure == .timeout)
        #expect(Self.sample(0, 0.001, "error").failure == .error)
        #expect(Self.sample(0, 0.001, "nginx-1", status: 502).failure == .status)
        #expect(Self.sample(0, 0.001, "-", status: 0).failure == .error)  // a word the probe never writes
    }

    /// Requests begun in the step, none before or after it; the kinds counted; the latency of
    /// the good answers only, by nearest rank.
    @Test func aStepCountsTheRequestsBegunInIt() {
        var samples = (0..<100).map { Self.sample(10 + Double($0) * 0.01, Double($0 + 1) / 1000, "nginx-1") }
        samples += [
            Self.sample(9.99, 0.5, "refused"), Self.sample(11.5, 0.001, "refused"),
            Self.sample(11.6, 0.001, "refused"), Self.sample(11.7, 0.001, "reset"), Self.sample(11.8, 1, "timeout"),
            Self.sample(12, 0.001, "refused")
        ]
        let figures = LoadFigures.measure(samples.sorted { $0.start < $1.start }, from: 10, until: 12)
        #expect(figures.sent == 104)
        #expect(figures.failed == [.refused: 2, .reset: 1, .timeout: 1] && figures.failedCount == 4)
        // end − start: each latency within rounding of what was given.
        #expect(abs(figures.p50! - 0.05) < 1e-9 && abs(figures.p99! - 0.099) < 1e-9 && abs(figures.max! - 0.1) < 1e-9)
        #expect(abs(figures.firstFailure! - 1.5) < 1e-9 && abs(figures.lastFailure! - 1.8) < 1e-9)
        #expect(
            figures.summary
                == "104 sent, 4 failed (2 refused, 1 reset, 1 timeout); latency p50 50.0 ms, p99 99.0 ms, max 100.0 ms")
        let quiet = LoadFigures.measure(samples, from: 20, until: 30)
        #expect(quiet.sent == 0 && quiet.p99 == nil && quiet.summary == "0 sent, 0 failed")
    }

    @Test func percentilesAreNearestRank() {
        #expect(LoadFigures.percentile(0.5, of: [1, 2, 3, 4]) == 2)
        #expect(LoadFigures.percentile(0.5, of: [1, 2, 3, 4, 5]) == 3)
        #expect(LoadFigures.percentile(0.99, of: Array(1...10).map(Double.init)) == 10)  // the slowest of ten
        #expect(LoadFigures.percentile(0.99, of: Array(1...200).map(Double.init)) == 198)
        #expect(LoadFigures.percentile(0.99, of: [7]) == 7)
        #expect(LoadFigures.percentile(0.5, of: []) == nil)
    }

    @Test func aFailureBudgetIsACountOrAShare() throws {
        #expect(try FailureBudget("0") == .count(0))
        #expect(try FailureBudget("20") == .count(20))
        #expect(try FailureBudget("1%") == .percent(1))
        #expect(try FailureBudget("0.5%").description == "0.5%")
        for bad in ["-1", "some", "101%", "1.5", "%", ""] {
            #expect(throws: HALabError.self, "\(bad)") { try FailureBudget(bad) }
        }
        #expect(FailureBudget.count(3).allows(failed: 3, of: 10))  // at the budget is within it
        #expect(!FailureBudget.count(3).allows(failed: 4, of: 10))
        #expect(FailureBudget.percent(1).allows(failed: 2, of: 200))
        #expect(!FailureBudget.percent(1).allows(failed: 3, of: 200))
        #expect(!FailureBudget.count(0).allows(failed: 1, of: 1000))
    }

    @Test func aLoadsRateIsFromOneToAThousand() throws {
        #expect(try Load(rate: 200).interval == 5)
        #expect(try Load(rate: 1000).interval == 1)
        for bad in [0, -5, 1001, .infinity, .nan] {
            #expect(throws: HALabError.self, "\(bad)") { try Load(rate: bad) }
        }
    }

    /// Over its budget, a step fails and says how many of how many failed, their kinds and when.
    @Test func aStepOverItsFailureBudgetFailsAndSaysWhich() {
        var samples = (0..<200).map { Self.sample(10 + Double($0) * 0.01, 0.001, $0 < 100 ? "nginx-1" : "nginx-2") }
        samples += [Self.sample(10.3, 0.001, "refused"), Self.sample(10.7, 1, "timeout")]
        samples.sort { $0.start < $1.start }
        var first = VerifyReport.StepResult(name: "healthy")
        first.at = 9
        var crash = VerifyReport.StepResult(name: "nginx-1 crashes", action: "chaos kill nginx-1")
        crash.at = 10
        var report = VerifyReport(lab: "mb", backend: "namespaces", seconds: 5, steps: [first, crash])
        let scenario = Scenario(steps: [
            Scenario.Step(name: "healthy", expected: .model, maxFailed: .count(0)),
            Scenario.Step(
                name: "nginx-1 crashes", action: .chaos(.kill(node: "nginx-1")), expected: .model, maxFailed: .count(1))
        ])
        let lines = Mutex<[String]>([])
        Verifier.measureLoad(&report, samples: samples, scenario: scenario) { line in
            lines.withLock { $0.append(line) }
        }
        #expect(report.steps[0].passed && report.steps[0].load?.sent == 0)
        #expect(!report.steps[1].passed)
        #expect(
            report.steps[1].overBudget == [
                "requests: 2 of 202 failed (1 refused, 1 timeout), over the budget of 1; failures began 0.30 s and "
                    + "ended 0.70 s after the step began"
            ])
        #expect(lines.withLock { $0 }.contains { $0.hasPrefix("  load in 'nginx-1 crashes': 202 sent, 2 failed") })
        #expect(JUnitReport.xml(report).contains("under load: 202 sent, 2 failed (1 refused, 1 timeout)"))
        // Within the budget: judged, not failed.
        var within = report
        within.steps[1].overBudget = []
        var lenient = scenario
        lenient.steps[1].maxFailed = .percent(1)
        Verifier.measureLoad(&within, samples: samples, scenario: lenient) { _ in }
        #expect(within.steps[1].passed)
    }

    @Test func aScenarioReadsItsLoadAndFailureBudgets() throws {
        let folder = try E2E.copy("master-backup", as: "load")
        defer { E2E.removeCopy(folder) }
        let lab = try Lab.load(folder: folder)
        func load(_ text: String) throws -> Scenario { try E2E.scenario(text, of: lab, in: folder) }
        let scenario = try load(
            "load: { rate: 200 }\nsteps:\n  - { name: crash, chaos: kill nginx-1, expect: model, max-failed: 1% }\n")
        #expect(scenario.load == (try Load(rate: 200)) && scenario.steps[0].maxFailed == .percent(1))
        #expect(try load("steps:\n  - { name: healthy, expect: model }\n").load == nil)
        let rate = #expect(throws: HALabError.self) { try load("load: { rate: 0 }\nsteps: []\n") }
        #expect(rate?.description.contains("s.yaml:1: load's rate is requests per second to each VIP") == true)
        let unknown = #expect(throws: HALabError.self) { try load("load: { rate: 5, keepalive: on }\nsteps: []\n") }
        #expect(unknown?.description.contains("keepalive") == true)
        let budget = #expect(throws: HALabError.self) {
            try load("steps:\n  - { name: healthy, expect: model, max-failed: few }\n")
        }
        #expect(budget?.description.contains("s.yaml:2: max-failed is a number of requests") == true)
        let fast = try load("steps:\n  - { name: reload, chaos: reload nginx-1, max-p99: 0.05 }\n")
        #expect(fast.steps[0].maxP99 == 0.05)
        let latency = #expect(throws: HALabError.self) {
            try load("steps:\n  - { name: healthy, expect: model, max-p99: 0 }\n")
        }
        #expect(latency?.description.contains("s.yaml:2: max-p99 is the slowest the 99th percentile") == true)
    }

    /// A latency budget: the 99th percentile of the good answers, over it or not, and a step that
    /// got no answer at all is over it.
    @Test func aStepOverItsLatencyBudgetFailsAndSaysHowSlow() {
        // 100 answers: 98 in 1 ms, one in 62.5 ms, one in 90 ms; the 99th by nearest rank is 62.5 ms
        // (a time exact in binary, so that a budget of just that is judged on the boundary).
        var samples = (0..<98).map { Self.sample(10 + Double($0) * 0.01, 0.001, "nginx-1") }
        samples += [Self.sample(11, 0.0625, "nginx-1"), Self.sample(11.1, 0.09, "nginx-1")]
        var step = VerifyReport.StepResult(name: "reload", action: "chaos reload nginx-1")
        step.at = 10
        var report = VerifyReport(lab: "mb", backend: "namespaces", seconds: 5, steps: [step])
        var scenario = Scenario(steps: [Scenario.Step(name: "reload", expected: .model, maxP99: 0.0625)])
        Verifier.measureLoad(&report, samples: samples, scenario: scenario) { _ in }
        #expect(report.steps[0].passed)
        scenario.steps[0].maxP99 = 0.06
        Verifier.measureLoad(&report, samples: samples, scenario: scenario) { _ in }
        #expect(
            report.steps[0].overBudget == [
                "latency: p99 62.5 ms over 100 answers, over the budget of 60.0 ms; the slowest 90.0 ms"
            ])
        let none = LoadFigures.measure([Self.sample(10, 1, "timeout")], from: 10, until: 20)
        #expect(none.overLatencyBudget(1) == "latency: no request was answered, against a p99 budget of 1000.0 ms")
    }

    /// What the model expects to fail under load: the rate times its bound for each VIP the step
    /// moves to a server; nothing where it moves none or leaves a VIP where nothing serves.
    @Test func theModelExpectsTheRateTimesItsBound() {
        var step = VerifyReport.StepResult(name: "crash", action: "chaos kill nginx-1")
        step.predicted = (3.61, ["nginx-2"])
        step.predictedOutage = 3.61
        step.model = StepModel(
            Scenario.Step(name: "crash", expected: .model), model: VRRPModel(nodes: [], instances: []),
            before: VRRPModel(nodes: [], instances: []), bound: 3.61, start: 0, blind: false, moves: ["10.33.1.100": 1])
        #expect(LoadFigures.expected(in: step, rate: 200) == 722)
        #expect(LoadFigures.expected(in: step, rate: nil) == nil)
        step.model?.moves = ["10.33.1.100": 1, "10.33.1.200": 2]
        #expect(LoadFigures.expected(in: step, rate: 200) == 1444)
        step.model?.moves = ["10.33.1.100": 0]
        #expect(LoadFigures.expected(in: step, rate: 200) == nil)
        step.model?.moves = ["10.33.1.100": 1]
        step.predictedOutage = 0  // handed over at once
        #expect(LoadFigures.expected(in: step, rate: 200) == nil)
        step.predictedOutage = 3.61
        step.predicted = (3.61, [nil])
        #expect(LoadFigures.expected(in: step, rate: 200) == nil)
    }

    /// A failure budget without a load is a mistake said before any lab is built.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: E2E.halab), "needs halab built ('swift build')"))
    func aFailureBudgetWithoutALoadIsRefused() async throws {
        let lab = "\(KeepalivedConfigTests.labs)/master-backup"
        let result = try await E2E.runHalab(["verify", lab, "--max-failed", "0"])
        #expect(result.exitCode == 1)
        #expect(
            result.errorOutput.contains(
                "step 'healthy, the VIP answers from nginx-1' has a budget on requests under load (max-failed or "
                    + "max-p99): give the scenario a load: {rate: 200} or run verify with --load 200"),
            "\(result.errorOutput)")
        #expect(!result.errorOutput.contains("bringing up") && !result.output.contains("bringing up"))
        let rate = try await E2E.runHalab(["verify", lab, "--load", "5000"])
        #expect(rate.exitCode == 1 && rate.errorOutput.contains("from 1 to 1000"), "\(rate.errorOutput)")
    }

    /// halab-probe's interval: whole milliseconds as integers (which an older node image's probe
    /// reads too), others to the microsecond; a held connection's drain in place of the timeout.
    @Test func theProbesIntervalIsWrittenAsItReadsIt() {
        #expect(
            ProbeProgram.arguments(interval: 10, connections: .new, seconds: 5, addresses: ["a"]) == [
                "10", "1000", "5", "a"
            ])
        #expect(ProbeProgram.arguments(interval: 2.5, connections: .new, seconds: 5, addresses: ["a"])[0] == "2.500")
        #expect(
            ProbeProgram.arguments(
                interval: 100, connections: .held(ready: StopSignal()), seconds: 5, addresses: ["a"], ready: "/r")
                == ["hold", "100", "8000", "5", "/r", "a"])
    }

    /// The timeline's latency lane: the slowest good answer per pixel column, higher for a slower
    /// one (log scale), and a red tick over each column where requests failed, with their count.
    @Test func theTimelineDrawsTheLatencyUnderLoad() throws {
        let load =
            (0..<10).map { Self.sample(1000 + Double($0) * 0.1, 0.001, "nginx-1") }
            + [
                Self.sample(1001.0, 1, "timeout"), Self.sample(1001.0, 1, "timeout"),
                Self.sample(1001.5, 0.1, "nginx-2")
            ]
        let timeline = Timeline(
            title: "t", addresses: ["10.33.1.100"], samples: [], steps: [("crash", 1000)], bands: [], marks: [],
            load: load.sorted { $0.start < $1.start })
        let svg = try XMLDocument(xmlString: timeline.svg())
        let path = try #require(
            try svg.nodes(forXPath: "//*[local-name()='path'][@stroke='#333']/@d").first?.stringValue)
        let moves = path.split(separator: " ").enumerated().filter { $0.offset % 2 == 0 }.map { $0.element.first! }
        let heights = path.split(separator: " ").enumerated().filter { $0.offset % 2 == 1 }.map { Double($0.element)! }
        #expect(heights.count == 11)  // ten columns of 1 ms answers, one of 100 ms
        #expect(Set(heights.dropLast()).count == 1 && heights.last! < heights[0])  // higher up: slower
        #expect(moves.allSatisfy { $0 == "M" })  // columns 10 pixels apart: no line drawn across a gap
        let ticks = try svg.nodes(forXPath: "//*[local-name()='rect'][@fill='#d62728']/*[local-name()='title']")
        #expect(ticks.map { $0.stringValue ?? "" } == ["2 failed"])
        let plain = Timeline(title: "t", addresses: ["10.33.1.100"], samples: [], steps: [], bands: [], marks: [])
        #expect(!plain.svg().contains("latency"))
    }
}
