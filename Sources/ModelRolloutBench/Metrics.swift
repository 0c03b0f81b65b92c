import Foundation
import KubeCore

/// The SLO of the benchmark: a request meets it when its first token arrives within this many seconds.
public let sloTTFTSeconds = 2.0
/// The decode part of the goodput SLO: a request counts as goodput when it met ``sloTTFTSeconds`` and its mean
/// inter-token latency was at most this (NVIDIA Dynamo's planner benchmark measures goodput this way).
public let sloMeanITLSeconds = 0.1

/// What one run (one policy, one scenario, one seed) measured, over requests arriving in `[event, end)`.
public struct RunMetrics: Sendable, Hashable, Codable {
    public var requests: Int
    public var ttftP50: Double
    public var ttftP95: Double
    public var ttftP99: Double
    /// Share of requests with a first token within ``sloTTFTSeconds``.
    public var sloAttainment: Double
    /// GPU time of all pods (one GPU each, from creation: scheduling, pull and load hold the GPU) over the window.
    public var gpuMinutes: Double
    /// Requests the gateway sent to a pod whose model was not loaded (they wait for it or time out).
    public var requestsToUnloadedPods: Int
    /// Requests without a first token within the client timeout (including ones with no endpoint at all).
    public var timeouts: Int
    /// Most pods at once (loading and draining included) over the run.
    public var peakReplicas: Int
    /// Seconds from the event until model-ready pods (of the new revision, for rollouts) can carry the demand
    /// after the event at saturation; nil when never reached.
    public var timeToCapacitySeconds: Double?
    /// Share (0–1) of the requests arriving after the rollout event that the new revision served.
    public var newRevisionShare: Double = 0
    /// For a rollout whose new revision got no request in the last ``backOnPreviousQuietSeconds`` of the run: the
    /// seconds from the event to its last request (the traffic is back on the previous revision); nil otherwise.
    public var backOnPreviousRevisionSeconds: Double?
    /// SLO-qualified goodput: requests that completed with TTFT ≤ ``sloTTFTSeconds`` and mean inter-token latency
    /// ≤ ``sloMeanITLSeconds``, per second of the window.
    public var goodput: Double = 0
    /// Those requests per GPU-hour of the window (the GPU-minutes above).
    public var goodputPerGpuHour: Double = 0
    /// Changes of a revision's desired replicas during the window (scaling activity).
    public var scalingActions: Int = 0
    /// For a rollout: seconds from the event until every request went to the new revision (nil: never).
    public var rolloutSeconds: Double?
    /// For a rollout: p95 TTFT of the requests arriving from the event until the rollout completed (or the end).
    public var rolloutTtftP95: Double?
    public var series: TimeSeries

    public static let backOnPreviousQuietSeconds = 120.0
}

/// Values over time for the plots.
public struct TimeSeries: Sendable, Hashable, Codable {
    /// Sample times of `replicas`, seconds.
    public var replicaTimes: [Double]
    /// Pods (all phases) at each sample.
    public var replicas: [Double]
    /// Model-ready pods at each sample.
    public var modelReady: [Double] = []
    /// Arrivals per second in the sample interval starting at each sample time.
    public var demand: [Double] = []
    /// Start times of the TTFT windows, seconds.
    public var ttftTimes: [Double]
    /// p95 TTFT of the requests arriving in each window (NaN: no request).
    public var ttftP95: [Double]

    public static let ttftWindow = 30.0
}

/// Nearest-rank percentile of sorted values (`p` in 0...100); NaN when there are none.
func percentileOfSorted(_ sorted: [Float], _ p: Double) -> Double {
    Percentile.nearestRank(sorted: sorted, p / 100).map(Double.init) ?? .nan
}

extension Simulation {
    /// TTFT of a request for the statistics: a request without a first token counts as the client timeout.
    func effectiveTTFT(_ index: Int) -> Float {
        let value = ttft[index]
        return value.isNaN || value < 0 ? Float(timeout) : value
    }

    /// p95 of the TTFT of requests arriving in `[from, to)`.
    func ttftPercentile(_ p: Double, from: Double, to: Double) -> Double {
        let lower = workload.firstIndex(atOrAfter: from)
        let upper = workload.firstIndex(atOrAfter: to)
        guard upper > lower else { return .nan }
        let values = (lower..<upper).map(effectiveTTFT).sorted()
        return percentileOfSorted(values, p)
    }

    /// The metrics of the finished run.
    func metrics() -> RunMetrics {
        let start = scenario.eventTime
        let end = scenario.end
        let lower = workload.firstIndex(atOrAfter: start)
        let upper = workload.firstIndex(atOrAfter: end)
        var values = [Float]()
        values.reserveCapacity(max(0, upper - lower))
        var withinSLO = 0
        var good = 0
        var unloaded = 0
        var failed = 0
        for index in lower..<max(lower, upper) {
            let value = effectiveTTFT(index)
            values.append(value)
            if Double(value) <= sloTTFTSeconds {
                withinSLO += 1
                if ttft[index] >= 0, Double(meanITL[index]) <= sloMeanITLSeconds { good += 1 }
            }
            if routedToUnloaded[index] { unloaded += 1 }
            if !(ttft[index] >= 0) { failed += 1 }
        }
        values.sort()
        var gpuSeconds = 0.0
        for pod in replicas {
            let from = max(pod.createdAt, start)
            let to = min(pod.endedAt ?? end, end)
            if to > from { gpuSeconds += to - from }
        }
        var ttftTimes: [Double] = []
        var ttftP95: [Double] = []
        var t = 0.0
        while t < end {
            ttftTimes.append(t)
            ttftP95.append(ttftPercentile(95, from: t, to: min(t + TimeSeries.ttftWindow, end)))
            t += TimeSeries.ttftWindow
        }
        var series = TimeSeries(
            replicaTimes: samples.map(\.time), replicas: samples.map { Double($0.pods) }, ttftTimes: ttftTimes,
            ttftP95: ttftP95)
        series.modelReady = samples.map { Double($0.modelReady) }
        series.demand = samples.map {
            Double(workload.count(from: $0.time, to: $0.time + Self.sampleInterval)) / Self.sampleInterval
        }
        return RunMetrics(
            requests: values.count, ttftP50: percentileOfSorted(values, 50), ttftP95: percentileOfSorted(values, 95),
            ttftP99: percentileOfSorted(values, 99),
            sloAttainment: values.isEmpty ? 1 : Double(withinSLO) / Double(values.count), gpuMinutes: gpuSeconds / 60,
            requestsToUnloadedPods: unloaded, timeouts: failed, peakReplicas: peakReplicas,
            timeToCapacitySeconds: capacityReachedAt.map { $0 - start },
            newRevisionShare: requestsAfterEvent > 0 ? Double(requestsToNewRevision) / Double(requestsAfterEvent) : 0,
            backOnPreviousRevisionSeconds: backOnPreviousRevisionSeconds(end: end),
            goodput: end > start ? Double(good) / (end - start) : 0,
            goodputPerGpuHour: gpuSeconds > 0 ? Double(good) / (gpuSeconds / 3600) : 0, scalingActions: scalingActions,
            rolloutSeconds: rolloutCompletedAt.map { $0 - start },
            rolloutTtftP95: rolloutRevisionStart == nil
                ? nil : ttftPercentile(95, from: start, to: max(start + 1, rolloutCompletedAt ?? end)),
            series: series)
    }

    /// See ``RunMetrics/backOnPreviousRevisionSeconds``.
    func backOnPreviousRevisionSeconds(end: Double) -> Double? {
        guard scenario.event == .rollout, rolloutRevisionStart != nil else { return nil }
        let last = lastNewRevisionRequestAt ?? scenario.eventTime
        return last < end - RunMetrics.backOnPreviousQuietSeconds ? last - scenario.eventTime : nil
    }
}
