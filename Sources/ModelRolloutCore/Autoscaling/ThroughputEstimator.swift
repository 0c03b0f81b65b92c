import Foundation

/// Learns how many requests per second one ready replica sustains, from replicas observed while saturated.
/// Pure value type: the caller feeds per-replica scrapes with its own clock.
///
/// A replica is saturated when it has waiting requests, or runs at least 90 % of its concurrency limit when
/// that is known. Only an interval that is saturated at both ends counts (a replica that became busy halfway
/// would understate what it sustains): its completions per second are one sample. The estimate is the median
/// of the most recent ``keptSamples`` samples, robust to a few odd intervals, and follows a new model revision
/// as its samples replace the old ones. A completed total going down (a restarted pod) rebases that replica;
/// replicas not seen for ``forgetAfter`` seconds are forgotten.
public struct ThroughputEstimator: Sendable, Hashable, Codable {
    /// Samples kept for the median.
    public static let keptSamples = 32
    /// Samples needed before a throughput is reported.
    public static let minimumSamples = 3
    /// Seconds after which a replica that was not observed is forgotten.
    public static let forgetAfter = 600.0
    /// Share of the concurrency limit at which a replica counts as saturated.
    public static let saturatedShare = 0.9

    private struct ReplicaObservation: Sendable, Hashable, Codable {
        var time: Double
        var completedTotal: Double
        var saturated: Bool
    }

    private var replicas: [String: ReplicaObservation] = [:]
    /// Recent saturated completion rates, oldest first.
    private var samples: [Double] = []

    public init() {}

    /// A replica is saturated when it has waiting requests (or running ≥ 90 % of its concurrency limit if
    /// given); its completion rate then measures what one replica sustains. Non-finite or negative values and
    /// times not after the replica's previous observation are ignored.
    public mutating func observe(
        time: Double, replica: String, completedTotal: Double, running: Double, waiting: Double,
        maxConcurrency: Double?
    ) {
        guard time.isFinite, completedTotal.isFinite, completedTotal >= 0, running.isFinite, waiting.isFinite
        else { return }
        var saturated = waiting > 0
        if let limit = maxConcurrency, limit.isFinite, limit > 0, running >= Self.saturatedShare * limit {
            saturated = true
        }
        let current = ReplicaObservation(time: time, completedTotal: completedTotal, saturated: saturated)
        defer { forgetStale(now: time) }
        guard let previous = replicas[replica] else {
            replicas[replica] = current
            return
        }
        let dt = time - previous.time
        guard dt > 0 else { return }
        replicas[replica] = current
        let completed = completedTotal - previous.completedTotal
        guard completed >= 0, previous.saturated, saturated else { return }
        samples.append(completed / dt)
        if samples.count > Self.keptSamples { samples.removeFirst(samples.count - Self.keptSamples) }
    }

    /// Requests per second per replica (the median of recent saturated samples); nil until learned.
    public var throughput: Double? {
        guard samples.count >= Self.minimumSamples else { return nil }
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Saturated samples currently kept.
    public var sampleCount: Int { samples.count }

    private mutating func forgetStale(now: Double) {
        let stale = replicas.filter { now - $0.value.time > Self.forgetAfter }.map(\.key)
        for name in stale { replicas[name] = nil }
    }
}
