import Foundation

/// The cumulative vLLM signals of one served model on one pod at one scrape (V0 and V1 names, summed over
/// `engine`s). Differences of two samples give what happened in between.
public struct PodMetricsSample: Sendable, Equatable {
    public var pod: String
    public var time: Date
    /// `vllm:time_to_first_token_seconds`, cumulative.
    public var ttft: PrometheusHistogram?
    /// `vllm:request_queue_time_seconds`, cumulative.
    public var queueTime: PrometheusHistogram?
    /// `vllm:request_success_total` over every `finished_reason`.
    public var successTotal: Double?
    /// `vllm:request_success_total{finished_reason="abort"}` (0 when the counter exists without that series).
    public var abortedTotal: Double?
    /// `vllm:num_requests_running` (gauge).
    public var running: Double?
    /// `vllm:num_requests_waiting` (gauge).
    public var waiting: Double?

    /// Creates a sample.
    public init(
        pod: String, time: Date, ttft: PrometheusHistogram? = nil, queueTime: PrometheusHistogram? = nil,
        successTotal: Double? = nil, abortedTotal: Double? = nil, running: Double? = nil, waiting: Double? = nil
    ) {
        self.pod = pod
        self.time = time
        self.ttft = ttft
        self.queueTime = queueTime
        self.successTotal = successTotal
        self.abortedTotal = abortedTotal
        self.running = running
        self.waiting = waiting
    }

    static let ttftName = "vllm:time_to_first_token_seconds"
    static let queueTimeName = "vllm:request_queue_time_seconds"
    static let successName = "vllm:request_success_total"
    static let runningName = "vllm:num_requests_running"
    static let waitingName = "vllm:num_requests_waiting"

    /// The sample of `model` (`model_name` label) in a vLLM scrape; `nil` when the scrape has no sample for
    /// that model ("no data", never zeros). Series of several engines are summed; `_created` is ignored.
    /// The abort reason is read from `finished_reason` (vLLM) or `finish_reason` (llm-d simulator).
    public static func from(scrape: PrometheusScrape, model: String, pod: String, time: Date) -> PodMetricsSample? {
        let samples = scrape.samples.filter {
            $0.labels["model_name"] == model && $0.name.hasPrefix("vllm:") && !$0.isCreated && !$0.value.isNaN
        }
        guard !samples.isEmpty else { return nil }
        let modelScrape = PrometheusScrape(samples: samples)
        let success = samples.filter { $0.name == successName }
        let aborted = success.filter { ($0.labels["finished_reason"] ?? $0.labels["finish_reason"]) == "abort" }
        return PodMetricsSample(
            pod: pod, time: time,
            ttft: summed(modelScrape.histograms(named: ttftName)),
            queueTime: summed(modelScrape.histograms(named: queueTimeName)),
            successTotal: success.isEmpty ? nil : success.map(\.value).reduce(0, +),
            abortedTotal: success.isEmpty ? nil : aborted.map(\.value).reduce(0, +),
            running: total(samples, runningName),
            waiting: total(samples, waitingName))
    }

    private static func summed(_ series: [PrometheusHistogram]) -> PrometheusHistogram? {
        guard let first = series.first else { return nil }
        var result = series.dropFirst().reduce(first) { $0.adding($1) }
        result.labels = [:]
        return result
    }

    private static func total(_ samples: [PrometheusSample], _ name: String) -> Double? {
        let values = samples.filter { $0.name == name }.map(\.value).filter(\.isFinite)
        return values.isEmpty ? nil : values.reduce(0, +)
    }
}

/// What one revision did during an analysis window, summed over its pods.
public struct RevisionWindow: Sendable, Equatable {
    /// Completed requests (every finish reason, aborts included).
    public var requests: Double
    /// Aborted requests.
    public var errors: Double
    /// TTFT observations made in the window; `nil` when no pod exported the histogram.
    public var ttft: PrometheusHistogram?
    /// Queue-time observations made in the window; `nil` when no pod exported the histogram.
    public var queueTime: PrometheusHistogram?
    /// The window length: the latest current scrape minus the earliest baseline scrape; 0 without a baseline.
    public var seconds: Double
    /// Pods with a current sample.
    public var pods: Int
    /// `requests / seconds`, when the window has a length.
    public var requestRate: Double?
    /// Requests running now, summed over pods (`nil` when no pod exported the gauge).
    public var running: Double?
    /// Requests waiting now, summed over pods (`nil` when no pod exported the gauge).
    public var waiting: Double?

    /// Creates a window.
    public init(
        requests: Double = 0, errors: Double = 0, ttft: PrometheusHistogram? = nil,
        queueTime: PrometheusHistogram? = nil, seconds: Double = 0, pods: Int = 0, requestRate: Double? = nil,
        running: Double? = nil, waiting: Double? = nil
    ) {
        self.requests = requests
        self.errors = errors
        self.ttft = ttft
        self.queueTime = queueTime
        self.seconds = seconds
        self.pods = pods
        self.requestRate = requestRate
        self.running = running
        self.waiting = waiting
    }

    /// Demand in flight now: running + waiting (`nil` when neither is known).
    public var inFlight: Double? {
        if running == nil, waiting == nil { return nil }
        return (running ?? 0) + (waiting ?? 0)
    }

    /// `errors / requests`, when there were requests.
    public var errorRate: Double? { requests > 0 ? errors / requests : nil }
}

/// Differences of cumulative per-pod samples over a window, summed per revision.
public enum RevisionMetrics {
    /// The window between `baseline` and `current` samples of one revision's pods (matched by pod name; the
    /// last sample of a name wins). Per pod the delta is current − baseline, bucket by bucket; a pod absent
    /// from the baseline counts from zero; a reset (any cumulative count went down, or the bucket layout
    /// changed) counts the current value as the delta. Pods only in the baseline are gone and ignored.
    public static func window(baseline: [PodMetricsSample], current: [PodMetricsSample]) -> RevisionWindow {
        var before: [String: PodMetricsSample] = [:]
        for sample in baseline { before[sample.pod] = sample }
        var now: [String: PodMetricsSample] = [:]
        var order: [String] = []
        for sample in current {
            if now[sample.pod] == nil { order.append(sample.pod) }
            now[sample.pod] = sample
        }
        var window = RevisionWindow(pods: order.count)
        for pod in order {
            guard let sample = now[pod] else { continue }
            let base = before[pod]
            window.requests += counterDelta(base?.successTotal, sample.successTotal)
            window.errors += counterDelta(base?.abortedTotal, sample.abortedTotal)
            window.ttft = add(window.ttft, sample.ttft.map { histogramDelta(base?.ttft, $0) })
            window.queueTime = add(window.queueTime, sample.queueTime.map { histogramDelta(base?.queueTime, $0) })
            window.running = addGauge(window.running, sample.running)
            window.waiting = addGauge(window.waiting, sample.waiting)
        }
        let baseTimes = order.compactMap { before[$0]?.time }
        if let start = baseTimes.min(), let end = order.compactMap({ now[$0]?.time }).max() {
            window.seconds = max(0, end.timeIntervalSince(start))
        }
        if window.seconds > 0 { window.requestRate = window.requests / window.seconds }
        return window
    }

    /// The increase of a counter; a decrease means a reset, so the current value is the increase.
    static func counterDelta(_ before: Double?, _ now: Double?) -> Double {
        guard let now, now.isFinite else { return 0 }
        guard let before, before.isFinite, now >= before else { return max(now, 0) }
        return now - before
    }

    /// Bucket-wise `now − before`; `now` itself when there is no baseline or the histogram was reset.
    static func histogramDelta(_ before: PrometheusHistogram?, _ now: PrometheusHistogram) -> PrometheusHistogram {
        guard let before else { return now }
        let bounds = now.buckets.map(\.upperBound)
        guard before.buckets.map(\.upperBound) == bounds else { return now }
        var delta = now
        for index in now.buckets.indices {
            let diff = now.buckets[index].cumulativeCount - before.buckets[index].cumulativeCount
            if diff < 0 { return now }
            delta.buckets[index].cumulativeCount = diff
        }
        if let nowCount = now.count, let beforeCount = before.count {
            if nowCount < beforeCount { return now }
            delta.count = nowCount - beforeCount
        } else {
            delta.count = nil
        }
        if let nowSum = now.sum, let beforeSum = before.sum {
            delta.sum = nowSum - beforeSum
        } else {
            delta.sum = nil
        }
        return delta
    }

    private static func add(_ total: PrometheusHistogram?, _ next: PrometheusHistogram?) -> PrometheusHistogram? {
        guard let next else { return total }
        guard let total else { return next }
        return total.adding(next)
    }

    private static func addGauge(_ total: Double?, _ next: Double?) -> Double? {
        guard let next, next.isFinite else { return total }
        return (total ?? 0) + next
    }
}
