import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

@Suite struct ShareTestTests {
    @Test func binomialTailsAreExact() {
        #expect(abs(ShareTest.cumulative(atMost: 2, n: 4, p: 0.5) - 11.0 / 16) < 1e-12)
        #expect(abs(ShareTest.cumulative(atLeast: 4, n: 4, p: 0.5) - 1.0 / 16) < 1e-12)
        #expect(abs(ShareTest.cumulative(atMost: 200, n: 200, p: 0.5) - 1) < 1e-9)
    }

    /// A fair balancer falls outside the accepted range with probability below 1e-6, and the
    /// range is no wider than that needs: each tail gets 1e-6 / 2 names / 2 tails.
    @Test(arguments: [40, 100, 200, 1000])
    func acceptedRangeKeepsFalseFailuresBelowOneInAMillion(samples n: Int) {
        let range = ShareTest.acceptedRange(samples: n, names: 2)
        let outside =
            ShareTest.cumulative(atMost: range.lowerBound - 1, n: n, p: 0.5)
            + ShareTest.cumulative(atLeast: range.upperBound + 1, n: n, p: 0.5)
        #expect(outside < 1e-6)
        #expect(ShareTest.cumulative(atMost: range.lowerBound, n: n, p: 0.5) > 0.25e-6)
        #expect(ShareTest.cumulative(atLeast: range.upperBound, n: n, p: 0.5) > 0.25e-6)
        #expect(range.lowerBound > 0 && range.upperBound < n)  // both names must be present
    }

    @Test func twoHundredSamplesNeedRoughlyAFairShare() {
        #expect(ShareTest.acceptedRange(samples: 200, names: 2) == 65...135)
    }

    @Test func fiveSamplesCannotTellABrokenBalancer() {
        // Why the document's five curls are not enough: every outcome is plausible.
        #expect(ShareTest.acceptedRange(samples: 5, names: 2) == 0...5)
    }

    @Test func judgesAnswers() {
        let names = ["nginx-1", "nginx-2"]
        #expect(
            ShareTest.judge(
                Array(repeating: "nginx-1", count: 100) + Array(repeating: "nginx-2", count: 100), names: names))
        #expect(!ShareTest.judge(Array(repeating: "nginx-1", count: 200), names: names))
        #expect(
            !ShareTest.judge(
                Array(repeating: "nginx-1", count: 150) + Array(repeating: "nginx-2", count: 50), names: names))
        #expect(
            !ShareTest.judge(
                Array(repeating: "nginx-1", count: 100) + Array(repeating: "nginx-2", count: 99) + ["curl failed"],
                names: names))
    }
}
