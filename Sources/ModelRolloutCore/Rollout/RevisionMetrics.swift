import Foundation

/// The cumulative runtime signals of one served model on one pod at one scrape (vLLM V0 and V1, SGLang, TGI;
/// summed over engines). Differences of two samples give what happened in between.
public struct PodMetricsSample: Sendable, Equatable {
    public var pod: String
    public var time: Date
    /// Time to first token (`vllm:time_to_first_token_seconds`, `sglang:time_to_first_token_seconds`), cumulative.
    public var ttft: PrometheusHistogram?
    /// Queue wait (`vllm:request_queue_time_seconds`, `sglang:queue_time_seconds`, `tgi_request_queue_duration`).
    public var queueTime: PrometheusHistogram?
    /// Finished requests (`vllm:request_success_total` over every `finished_reason`, `sglang:num_requests_total`,
    /// `tgi_request_count`).
    public var successTotal: Double?
    /// Failed requests (`vllm:request_success_total{finished_reason="abort"}`, 0 when the counter exists without
    /// that series; `sglang:num_aborted_requests_total`; `tgi_request_failure` except `err="validation"`).
    public var abortedTotal: Double?
    /// Requests running (gauge).
    public var running: Double?
    /// Requests waiting (gauge).
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

    /// The sample of `model` in a scrape of vLLM, SGLang or TGI (``RuntimeDialect``: TTFT, queue time, finished
    /// and failed requests, running and waiting); `nil` when the scrape has no sample for that model ("no data",
    /// never zeros). Series of several engines or ranks are summed; `_created` is ignored. A runtime without a
    /// model label (TGI) serves one model, so its samples count for any `model`.
    public static func from(scrape: PrometheusScrape, model: String, pod: String, time: Date) -> PodMetricsSample? {
        guard let dialect = RuntimeDialect.detect(scrape) else { return nil }
        let samples = dialect.samples(in: scrape, model: model)
        guard !samples.isEmpty else { return nil }
        let modelScrape = PrometheusScrape(samples: samples)
        let counts = dialect.requestCounts(samples)
        return PodMetricsSample(
            pod: pod, time: time,
            ttft: RuntimeDialect.histogram(dialect.ttft, in: modelScrape),
            queueTime: RuntimeDialect.histogram(dialect.queueTime, in: modelScrape),
            successTotal: counts.requests,
            abortedTotal: counts.errors,
            running: RuntimeDialect.values(dialect.running, in: samples).map { $0.reduce(0, +) },
            waiting: RuntimeDialect.values(dialect.waiting, in: samples).map { $0.reduce(0, +) })
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
