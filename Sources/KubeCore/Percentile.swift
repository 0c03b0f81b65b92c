/// Sample percentiles, one convention for the whole project: the nearest rank. The `q`-quantile of `n` sorted
/// values is the `⌈q × n⌉`-th smallest (the first for `q = 0`): the smallest value such that at least `q` of the
/// values are less than or equal to it. Used for TTFT percentiles (emulator load generator, demo, benchmark),
/// API latencies and learned model-load times. (Histogram quantiles are Prometheus' interpolation,
/// `histogramQuantile` in ModelRolloutCore.)
public enum Percentile {
    /// The nearest-rank `q`-quantile (`q` in 0...1) of values sorted ascending; nil when there are none or `q` is
    /// outside 0...1 (or NaN).
    @inlinable
    public static func nearestRank<T: BinaryFloatingPoint>(sorted: [T], _ q: Double) -> T? {
        guard !sorted.isEmpty, q >= 0, q <= 1 else { return nil }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The nearest-rank `q`-quantile of unsorted values, ignoring non-finite ones.
    public static func nearestRank(_ values: [Double], _ q: Double) -> Double? {
        nearestRank(sorted: values.filter(\.isFinite).sorted(), q)
    }
}
