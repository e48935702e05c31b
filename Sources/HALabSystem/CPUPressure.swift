import Foundation

/// How long runnable tasks waited for a CPU, as the kernel counts it (pressure stall information,
/// /proc/pressure/cpu): said beside a timing a busy machine may have spoilt.
public enum CPUPressure {
    /// Microseconds during which some task waited for a CPU, since boot; nil where the kernel
    /// does not count them.
    public static func stalled() -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/pressure/cpu", encoding: .utf8),
            let some = text.split(separator: "\n").first(where: { $0.hasPrefix("some ") }),
            let total = some.split(separator: " ").first(where: { $0.hasPrefix("total=") })
        else { return nil }
        return UInt64(total.dropFirst("total=".count))
    }

    /// The share of `seconds` during which some task waited for a CPU, from two readings.
    public static func share(from start: UInt64?, to end: UInt64?, seconds: Double) -> Double? {
        guard let start, let end, end >= start, seconds > 0 else { return nil }
        return min(1, Double(end - start) / 1e6 / seconds)
    }
}
