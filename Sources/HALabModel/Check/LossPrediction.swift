import Foundation

/// What VRRP predicts under packet loss at the master: a backup takes over only when every
/// advert within its Master_Down_Interval is lost, so takeovers are rare and each is short
/// (the master, still there, answers the usurper's advert with its own higher one).
public enum LossPrediction {
    /// How many adverts in a row must be lost for a backup's timer to expire: those sent
    /// before the Master_Down_Interval after the last one received runs out.
    public static func consecutiveLosses(advertInterval: Double, masterDownInterval: Double) -> Int {
        Int((masterDownInterval / advertInterval).rounded(.up)) - 1
    }

    /// Expected takeovers per second when each advert is lost with probability `loss`: an
    /// advert arrives, then the next `k` are lost.
    public static func takeoverRate(loss: Double, advertInterval: Double, masterDownInterval: Double) -> Double {
        let k = consecutiveLosses(advertInterval: advertInterval, masterDownInterval: masterDownInterval)
        return (1 - loss) * pow(loss, Double(k)) / advertInterval
    }

    /// The smallest count that a Poisson variable of `mean` exceeds with probability below
    /// `falseFailure`: more takeovers than this, and VRRP is not what is happening.
    public static func poissonUpperBound(mean: Double, falseFailure: Double = 1e-6) -> Int {
        var count = 0
        var term = exp(-mean)  // P(X = 0)
        var below = term
        while 1 - below >= falseFailure {
            count += 1
            term *= mean / Double(count)
            below += term
        }
        return count
    }
}
