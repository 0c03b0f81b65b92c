/// Count, sum and the 50th/95th percentiles of a latency histogram; every field `nil` when unknown.
public struct HistogramSummary: Codable, Sendable, Equatable {
    /// The number of observations (`_count`, else the `+Inf` bucket).
    public var count: Double?
    /// The sum of observations (`nil` when the scrape lacked `_sum`).
    public var sum: Double?
    /// The median, from buckets like `histogram_quantile(0.5, ...)`.
    public var p50: Double?
    /// The 95th percentile, from buckets like `histogram_quantile(0.95, ...)`.
    public var p95: Double?

    /// Creates a summary.
    public init(count: Double? = nil, sum: Double? = nil, p50: Double? = nil, p95: Double? = nil) {
        self.count = count
        self.sum = sum
        self.p50 = p50
        self.p95 = p95
    }

    /// Summarises a histogram (already aggregated); non-finite results become `nil`.
    public init(_ histogram: PrometheusHistogram) {
        self.init(count: finite(histogram.observations), sum: finite(histogram.sum),
                  p50: finite(histogram.quantile(0.5)), p95: finite(histogram.quantile(0.95)))
    }
}

/// The runtime signals of one served model, aggregated over its engines (data-parallel ranks).
public struct ModelMetrics: Codable, Sendable, Equatable {
    /// The served model name (`model_name` label).
    public var model: String
    /// Distinct `engine` label values seen for this model; 1 when there is no such label.
    public var engines: Int
    /// Requests waiting, summed over engines.
    public var waiting: Double?
    /// Requests running, summed over engines.
    public var running: Double?
    /// KV-cache usage as a fraction 0...1, averaged over engines.
    public var kvCacheUsage: Double?
    /// Time to first token, seconds.
    public var ttft: HistogramSummary
    /// Time spent waiting in the queue, seconds.
    public var queueTime: HistogramSummary
    /// Inter-token latency (time per output token), seconds.
    public var interTokenLatency: HistogramSummary

    /// Creates model metrics.
    public init(model: String, engines: Int = 1, waiting: Double? = nil, running: Double? = nil,
                kvCacheUsage: Double? = nil, ttft: HistogramSummary = HistogramSummary(),
                queueTime: HistogramSummary = HistogramSummary(),
                interTokenLatency: HistogramSummary = HistogramSummary()) {
        self.model = model
        self.engines = engines
        self.waiting = waiting
        self.running = running
        self.kvCacheUsage = kvCacheUsage
        self.ttft = ttft
        self.queueTime = queueTime
        self.interTokenLatency = interTokenLatency
    }
}

/// What one scrape of a serving runtime's `/metrics` says, per model.
public struct RuntimeMetricsSummary: Codable, Sendable, Equatable {
    /// `vllm`, `sglang`, `tgi` or `unknown`.
    public var runtime: String
    /// True when the scrape had no samples for the runtime (families may be registered without samples):
    /// "no data", never zeros.
    public var noData: Bool
    /// One entry per model, sorted by name.
    public var models: [ModelMetrics]

    /// Creates a summary.
    public init(runtime: String, noData: Bool, models: [ModelMetrics]) {
        self.runtime = runtime
        self.noData = noData
        self.models = models
    }
}

/// Reads the runtime signals (queue, running, KV cache, latency histograms) from a Prometheus scrape of
/// vLLM (V0 and V1 names, `engine` label), SGLang or TGI, through their ``RuntimeDialect``.
public enum RuntimeMetrics {
    /// The model name used when the runtime has no model label (TGI).
    public static let defaultModelName = RuntimeDialect.defaultModelName

    /// Detects the runtime from sample and family names and summarises it per model.
    public static func summarise(_ scrape: PrometheusScrape) -> RuntimeMetricsSummary {
        guard let dialect = RuntimeDialect.detect(scrape) else {
            return RuntimeMetricsSummary(runtime: "unknown", noData: true, models: [])
        }
        let models = summarise(scrape, dialect)
        return RuntimeMetricsSummary(runtime: dialect.runtime, noData: models.isEmpty, models: models)
    }

    private static func summarise(_ scrape: PrometheusScrape, _ dialect: RuntimeDialect) -> [ModelMetrics] {
        var byModel: [String: [PrometheusSample]] = [:]
        for sample in dialect.samples(in: scrape, model: nil) {
            guard let model = dialect.model(of: sample.labels) else { continue }
            byModel[model, default: []].append(sample)
        }
        return byModel.keys.sorted().map { model in
            let samples = byModel[model] ?? []
            let modelScrape = PrometheusScrape(samples: samples)
            let engines = Set(samples.compactMap { $0.labels["engine"] })
            let kvValues = RuntimeDialect.values(dialect.kvCacheUsage, in: samples)
            return ModelMetrics(
                model: model,
                engines: max(engines.count, 1),
                waiting: RuntimeDialect.values(dialect.waiting, in: samples).map { $0.reduce(0, +) },
                running: RuntimeDialect.values(dialect.running, in: samples).map { $0.reduce(0, +) },
                kvCacheUsage: kvValues.map { $0.reduce(0, +) / Double($0.count) },
                ttft: summary(dialect.ttft, in: modelScrape),
                queueTime: summary(dialect.queueTime, in: modelScrape),
                interTokenLatency: summary(dialect.interTokenLatency, in: modelScrape))
        }
    }

    private static func summary(_ candidates: [String], in scrape: PrometheusScrape) -> HistogramSummary {
        RuntimeDialect.histogram(candidates, in: scrape).map(HistogramSummary.init) ?? HistogramSummary()
    }
}

private func finite(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}
