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
/// vLLM (V0 and V1 names, `engine` label), SGLang or TGI.
public enum RuntimeMetrics {
    /// The metric names of one runtime; within each list, earlier names are preferred.
    struct Names {
        var runtime: String
        var prefix: String
        var modelLabels: [String]
        var waiting: [String]
        var running: [String]
        var kvCacheUsage: [String]
        var ttft: [String]
        var queueTime: [String]
        var interTokenLatency: [String]
    }

    static let vllm = Names(
        runtime: "vllm", prefix: "vllm:", modelLabels: ["model_name"],
        waiting: ["vllm:num_requests_waiting"], running: ["vllm:num_requests_running"],
        kvCacheUsage: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
        ttft: ["vllm:time_to_first_token_seconds"], queueTime: ["vllm:request_queue_time_seconds"],
        interTokenLatency: ["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"])

    static let sglang = Names(
        runtime: "sglang", prefix: "sglang:", modelLabels: ["model_name", "name"],
        waiting: ["sglang:num_queue_reqs"], running: ["sglang:num_running_reqs"],
        kvCacheUsage: ["sglang:token_usage"],
        ttft: ["sglang:time_to_first_token_seconds"], queueTime: ["sglang:queue_time_seconds"],
        interTokenLatency: ["sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"])

    static let tgi = Names(
        runtime: "tgi", prefix: "tgi_", modelLabels: [],
        waiting: ["tgi_queue_size"], running: ["tgi_batch_current_size"], kvCacheUsage: [],
        ttft: [], queueTime: ["tgi_request_queue_duration"],
        interTokenLatency: ["tgi_request_mean_time_per_token_duration"])

    /// The model name used when the runtime has no model label (TGI).
    public static let defaultModelName = "default"

    /// Detects the runtime from sample and family names and summarises it per model.
    public static func summarise(_ scrape: PrometheusScrape) -> RuntimeMetricsSummary {
        let names = scrape.samples.map(\.name) + scrape.familyNames.sorted()
        guard let table = [vllm, sglang, tgi].first(where: { table in
            names.contains { $0.hasPrefix(table.prefix) }
        }) else {
            return RuntimeMetricsSummary(runtime: "unknown", noData: true, models: [])
        }
        let models = summarise(scrape, table)
        return RuntimeMetricsSummary(runtime: table.runtime, noData: models.isEmpty, models: models)
    }

    private static func modelName(_ labels: [String: String], _ table: Names) -> String? {
        if table.modelLabels.isEmpty { return defaultModelName }
        for label in table.modelLabels {
            if let name = labels[label] { return name }
        }
        return nil
    }

    private static func summarise(_ scrape: PrometheusScrape, _ table: Names) -> [ModelMetrics] {
        var byModel: [String: [PrometheusSample]] = [:]
        for sample in scrape.samples where sample.name.hasPrefix(table.prefix) && !sample.isCreated {
            guard let model = modelName(sample.labels, table) else { continue }
            byModel[model, default: []].append(sample)
        }
        return byModel.keys.sorted().map { model in
            let samples = byModel[model] ?? []
            let modelScrape = PrometheusScrape(samples: samples)
            let engines = Set(samples.compactMap { $0.labels["engine"] })
            let kvValues = values(table.kvCacheUsage, in: samples)
            return ModelMetrics(
                model: model,
                engines: max(engines.count, 1),
                waiting: values(table.waiting, in: samples).map { $0.reduce(0, +) },
                running: values(table.running, in: samples).map { $0.reduce(0, +) },
                kvCacheUsage: kvValues.map { $0.reduce(0, +) / Double($0.count) },
                ttft: histogram(table.ttft, in: modelScrape),
                queueTime: histogram(table.queueTime, in: modelScrape),
                interTokenLatency: histogram(table.interTokenLatency, in: modelScrape))
        }
    }

    /// The finite values of the first name in `candidates` that has samples.
    private static func values(_ candidates: [String], in samples: [PrometheusSample]) -> [Double]? {
        for name in candidates {
            let found = samples.filter { $0.name == name }.map(\.value).filter(\.isFinite)
            if !found.isEmpty { return found }
        }
        return nil
    }

    /// The first family in `candidates` with series, all its series summed (over engines).
    private static func histogram(_ candidates: [String], in scrape: PrometheusScrape) -> HistogramSummary {
        for name in candidates {
            let series = scrape.histograms(named: name)
            guard let first = series.first else { continue }
            let total = series.dropFirst().reduce(first) { $0.adding($1) }
            return HistogramSummary(total)
        }
        return HistogramSummary()
    }
}

private func finite(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}
