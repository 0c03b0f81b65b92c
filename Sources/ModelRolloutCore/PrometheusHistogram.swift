/// One cumulative histogram bucket: the count of observations less than or equal to `upperBound`.
public struct HistogramBucket: Sendable, Equatable {
    /// The `le` upper bound; `+Inf` for the last bucket.
    public var upperBound: Double
    /// The cumulative count of observations `<= upperBound`.
    public var cumulativeCount: Double

    /// Creates a bucket.
    public init(upperBound: Double, cumulativeCount: Double) {
        self.upperBound = upperBound
        self.cumulativeCount = cumulativeCount
    }
}

/// The series of one histogram for one label set (labels without `le`): buckets, `_sum`, `_count`.
public struct PrometheusHistogram: Sendable, Equatable {
    /// The family name, without `_bucket`/`_sum`/`_count`.
    public var name: String
    /// The label set shared by the series, without `le`.
    public var labels: [String: String]
    /// The buckets, sorted by upper bound, duplicates merged.
    public var buckets: [HistogramBucket]
    /// `_sum`, when the scrape had it.
    public var sum: Double?
    /// `_count`, when the scrape had it.
    public var count: Double?

    /// Creates a histogram.
    public init(name: String, labels: [String: String], buckets: [HistogramBucket],
                sum: Double? = nil, count: Double? = nil) {
        self.name = name
        self.labels = labels
        self.buckets = PrometheusHistogram.normalised(buckets)
        self.sum = sum
        self.count = count
    }

    /// The number of observations: `_count`, else the `+Inf` bucket, else the highest bucket.
    public var observations: Double? {
        if let count { return count }
        return buckets.last?.cumulativeCount
    }

    /// The `q`-quantile computed like Prometheus' `histogram_quantile`; see `histogramQuantile(_:buckets:)`.
    public func quantile(_ q: Double) -> Double? {
        histogramQuantile(q, buckets: buckets)
    }

    /// Sorts buckets by upper bound and sums buckets with the same upper bound.
    /// Buckets with a NaN bound are dropped.
    public static func normalised(_ buckets: [HistogramBucket]) -> [HistogramBucket] {
        let sorted = buckets.filter { !$0.upperBound.isNaN }.sorted { $0.upperBound < $1.upperBound }
        var out: [HistogramBucket] = []
        for bucket in sorted {
            if let last = out.last, last.upperBound == bucket.upperBound {
                out[out.count - 1].cumulativeCount += bucket.cumulativeCount
            } else {
                out.append(bucket)
            }
        }
        return out
    }

    /// Adds another histogram's buckets (by upper bound), sums and counts — e.g. to sum over engines.
    /// A missing `_sum`/`_count` on either side makes the result's missing too.
    public func adding(_ other: PrometheusHistogram) -> PrometheusHistogram {
        var merged = self
        merged.buckets = PrometheusHistogram.normalised(buckets + other.buckets)
        merged.sum = sum.flatMap { lhs in other.sum.map { lhs + $0 } }
        merged.count = count.flatMap { lhs in other.count.map { lhs + $0 } }
        merged.labels = labels.filter { other.labels[$0.key] == $0.value }
        return merged
    }
}

/// The `q`-quantile of cumulative histogram buckets, computed as Prometheus' `histogram_quantile` does:
/// buckets are sorted and merged, counts are made monotonic, the bucket holding rank `q × total` is found and
/// the value is interpolated linearly within it (the lowest bucket starts at 0 when its upper bound is
/// positive; otherwise its upper bound is returned). A rank in the `+Inf` bucket returns the upper bound of
/// the second-highest bucket. Deviation by design: without a `+Inf` bucket the highest bucket's count is
/// taken as the total. Returns `nil` (Prometheus: NaN) for no buckets, only a `+Inf` bucket, zero
/// observations or NaN `q`; `-Inf`/`+Inf` for `q < 0`/`q > 1`.
public func histogramQuantile(_ q: Double, buckets input: [HistogramBucket]) -> Double? {
    if q.isNaN { return nil }
    if q < 0 { return -.infinity }
    if q > 1 { return .infinity }
    var buckets = PrometheusHistogram.normalised(input).filter { !$0.cumulativeCount.isNaN }
    guard let highest = buckets.last else { return nil }
    if highest.upperBound != .infinity {
        buckets.append(HistogramBucket(upperBound: .infinity, cumulativeCount: highest.cumulativeCount))
    }
    guard buckets.count >= 2 else { return nil }
    var maximum = buckets[0].cumulativeCount
    for index in 1..<buckets.count {
        if buckets[index].cumulativeCount < maximum {
            buckets[index].cumulativeCount = maximum
        } else {
            maximum = buckets[index].cumulativeCount
        }
    }
    let observations = buckets[buckets.count - 1].cumulativeCount
    guard observations > 0, observations.isFinite else { return nil }
    var rank = q * observations
    var found = buckets.count - 1
    for index in 0..<(buckets.count - 1) where buckets[index].cumulativeCount >= rank {
        found = index
        break
    }
    if found == buckets.count - 1 { return buckets[buckets.count - 2].upperBound }
    if found == 0, buckets[0].upperBound <= 0 { return buckets[0].upperBound }
    var bucketStart = 0.0
    let bucketEnd = buckets[found].upperBound
    var count = buckets[found].cumulativeCount
    if found > 0 {
        bucketStart = buckets[found - 1].upperBound
        count -= buckets[found - 1].cumulativeCount
        rank -= buckets[found - 1].cumulativeCount
    }
    guard count > 0 else { return bucketStart }
    return bucketStart + (bucketEnd - bucketStart) * (rank / count)
}

extension PrometheusScrape {
    /// The histograms of family `name` (its `_bucket`, `_sum` and `_count` samples), one per label set
    /// without `le`, in order of first appearance. Bucket samples with an unreadable `le` are ignored.
    public func histograms(named name: String) -> [PrometheusHistogram] {
        var order: [[String: String]] = []
        var buckets: [[String: String]: [HistogramBucket]] = [:]
        var sums: [[String: String]: Double] = [:]
        var counts: [[String: String]: Double] = [:]
        let bucketName = name + "_bucket"
        let sumName = name + "_sum"
        let countName = name + "_count"
        for sample in samples {
            var key = sample.labels
            if sample.name == bucketName {
                guard let le = key.removeValue(forKey: "le"), let bound = PrometheusText.parseValue(le) else {
                    continue
                }
                if buckets[key] == nil, sums[key] == nil, counts[key] == nil { order.append(key) }
                buckets[key, default: []].append(HistogramBucket(upperBound: bound, cumulativeCount: sample.value))
            } else if sample.name == sumName || sample.name == countName {
                if buckets[key] == nil, sums[key] == nil, counts[key] == nil { order.append(key) }
                if sample.name == sumName { sums[key] = sample.value } else { counts[key] = sample.value }
            }
        }
        return order.map { key in
            PrometheusHistogram(name: name, labels: key, buckets: buckets[key] ?? [], sum: sums[key],
                                count: counts[key])
        }
    }
}

/// Per-second rates from two readings of a counter.
public enum CounterRate {
    /// The rate between two readings `(value, time in seconds)`. A counter that went down was reset, so
    /// the increase is the current value. `nil` when the elapsed time is not positive or a value is not finite.
    public static func rate(previous: (value: Double, time: Double),
                            current: (value: Double, time: Double)) -> Double? {
        let elapsed = current.time - previous.time
        guard elapsed > 0, elapsed.isFinite, previous.value.isFinite, current.value.isFinite else { return nil }
        let increase = current.value < previous.value ? current.value : current.value - previous.value
        return increase / elapsed
    }
}
