import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// Judges whether answers from a random load balancer are "a proper share": with `n` samples
/// and each of `k` names chosen with probability 1/k, how many of one name a correct balancer
/// gives, except with probability below `falseFailure`.
///
/// The document's five curls are all one node 2 × 0.5⁵ = 6.25 % of the time, so halab takes
/// many samples and an exact binomial bound: a correct balancer fails the check with
/// probability below 1e-6 (the default), split evenly over the names and both tails.
public enum ShareTest {
    public static let defaultFalseFailure = 1e-6

    /// The counts of one name that pass.
    public static func acceptedRange(samples n: Int, names k: Int, falseFailure: Double = defaultFalseFailure)
        -> ClosedRange<Int>
    {
        acceptedRange(samples: n, probability: 1 / Double(max(k, 1)), falseFailure: falseFailure / Double(max(k, 1)))
    }

    /// The counts of an outcome of probability `p` in `n` tries that pass, both tails together
    /// reached with probability below `falseFailure`.
    public static func acceptedRange(samples n: Int, probability p: Double, falseFailure: Double = defaultFalseFailure)
        -> ClosedRange<Int>
    {
        let tail = falseFailure / 2
        var low = 0
        while low < n, cumulative(atMost: low, n: n, p: p) <= tail { low += 1 }
        var high = n
        while high > 0, cumulative(atLeast: high, n: n, p: p) <= tail { high -= 1 }
        return low...max(low, high)
    }

    /// P(X ≤ k) for X ~ Binomial(n, p).
    public static func cumulative(atMost k: Int, n: Int, p: Double) -> Double {
        guard k >= 0 else { return 0 }
        return (0...min(k, n)).reduce(0) { $0 + probability(of: $1, n: n, p: p) }
    }

    /// P(X ≥ k) for X ~ Binomial(n, p).
    public static func cumulative(atLeast k: Int, n: Int, p: Double) -> Double {
        guard k <= n else { return 0 }
        return (max(k, 0)...n).reduce(0) { $0 + probability(of: $1, n: n, p: p) }
    }

    static func probability(of k: Int, n: Int, p: Double) -> Double {
        let logChoose = lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
        return exp(logChoose + Double(k) * log(p) + Double(n - k) * log1p(-p))
    }

    /// Whether `answers` hold only `names`, each within its accepted range.
    public static func judge(_ answers: [String], names: [String], falseFailure: Double = defaultFalseFailure) -> Bool {
        let range = acceptedRange(samples: answers.count, names: names.count, falseFailure: falseFailure)
        return answers.allSatisfy(names.contains)
            && names.allSatisfy { name in range.contains(answers.filter { $0 == name }.count) }
    }
}
