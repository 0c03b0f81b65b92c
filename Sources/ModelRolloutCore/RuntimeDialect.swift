/// The Prometheus names one serving runtime exports, mapped onto the signals the operator reads (TTFT, queue
/// wait, waiting, running, requests, errors). One table per runtime; within each list, earlier names are
/// preferred. Checked against each project's source:
/// - vLLM V0 and V1 (`vllm:` prefix, `model_name` label, `engine` label from V1),
/// - SGLang (`sglang:` prefix, `model_name` label, `name` in releases before 0.4; `python/sglang/srt/metrics/
///   collector.py`),
/// - TGI (`tgi_` prefix, no model label; the router's `metrics` crate counters carry no `_total` suffix).
/// TGI exports no time-to-first-token histogram: its TTFT is unavailable, and analysis says so and decides on
/// queue wait and errors.
public struct RuntimeDialect: Sendable, Equatable {
    /// How failed requests are counted.
    public enum Errors: Sendable, Equatable {
        /// The series of the request counter whose label (first present of `labels`) equals `value`.
        case requestSeries(labels: [String], value: String)
        /// A counter of its own, every series except those whose `label` is one of `excluding`.
        case counter(name: String, label: String?, excluding: [String])
    }

    /// `vllm`, `sglang` or `tgi`.
    public var runtime: String
    /// The prefix of every metric of the runtime.
    public var prefix: String
    /// Labels naming the served model, in preference order; empty when the runtime serves one unnamed model.
    public var modelLabels: [String]
    public var waiting: [String]
    public var running: [String]
    public var kvCacheUsage: [String]
    public var ttft: [String]
    public var queueTime: [String]
    public var interTokenLatency: [String]
    /// Finished requests (every series summed).
    public var requests: [String]
    public var errors: Errors
    public var prefillTime: [String] = []
    public var promptTokens: [String] = []
    public var promptTokensTotal: [String] = []
    public var preemptions: [String] = []

    public static let vllm = RuntimeDialect(
        runtime: "vllm", prefix: "vllm:", modelLabels: ["model_name"],
        waiting: ["vllm:num_requests_waiting"], running: ["vllm:num_requests_running"],
        kvCacheUsage: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
        ttft: ["vllm:time_to_first_token_seconds"], queueTime: ["vllm:request_queue_time_seconds"],
        interTokenLatency: ["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"],
        requests: ["vllm:request_success_total"],
        // The llm-d inference simulator spells the label `finish_reason`.
        errors: .requestSeries(labels: ["finished_reason", "finish_reason"], value: "abort"),
        prefillTime: ["vllm:request_prefill_time_seconds"], promptTokens: ["vllm:request_prompt_tokens"],
        promptTokensTotal: ["vllm:prompt_tokens_total"], preemptions: ["vllm:num_preemptions_total"])

    public static let sglang = RuntimeDialect(
        runtime: "sglang", prefix: "sglang:", modelLabels: ["model_name", "name"],
        waiting: ["sglang:num_queue_reqs"], running: ["sglang:num_running_reqs"],
        kvCacheUsage: ["sglang:token_usage"],
        ttft: ["sglang:time_to_first_token_seconds"], queueTime: ["sglang:queue_time_seconds"],
        interTokenLatency: ["sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"],
        requests: ["sglang:num_requests_total"],
        errors: .counter(name: "sglang:num_aborted_requests_total", label: nil, excluding: []),
        promptTokensTotal: ["sglang:prompt_tokens_total"])

    public static let tgi = RuntimeDialect(
        runtime: "tgi", prefix: "tgi_", modelLabels: [],
        waiting: ["tgi_queue_size"], running: ["tgi_batch_current_size"], kvCacheUsage: [],
        ttft: [], queueTime: ["tgi_request_queue_duration"],
        interTokenLatency: ["tgi_request_mean_time_per_token_duration"],
        requests: ["tgi_request_count"],
        // A request the router rejected as invalid says nothing about the revision.
        errors: .counter(name: "tgi_request_failure", label: "err", excluding: ["validation"]),
        promptTokens: ["tgi_request_input_length"])

    /// Every dialect, in detection order.
    public static let all: [RuntimeDialect] = [vllm, sglang, tgi]

    /// The model name reported for a runtime without a model label (TGI).
    public static let defaultModelName = "default"

    /// The dialect whose prefix a sample or family of the scrape carries; `nil` for another exporter.
    public static func detect(_ scrape: PrometheusScrape) -> RuntimeDialect? {
        let names = scrape.samples.map(\.name) + scrape.familyNames.sorted()
        return all.first { dialect in names.contains { $0.hasPrefix(dialect.prefix) } }
    }

    /// The served model a sample belongs to: the first present model label, or ``defaultModelName`` when the
    /// runtime has no model label; `nil` when none of the labels is present.
    public func model(of labels: [String: String]) -> String? {
        if modelLabels.isEmpty { return Self.defaultModelName }
        for label in modelLabels {
            if let name = labels[label] { return name }
        }
        return nil
    }

    /// The runtime's usable samples (no `_created`, no NaN) of `model`, or of every model when `model` is nil.
    /// A runtime without a model label serves one model, so its samples match any `model`.
    public func samples(in scrape: PrometheusScrape, model: String?) -> [PrometheusSample] {
        scrape.samples.filter { sample in
            guard sample.name.hasPrefix(prefix), !sample.isCreated, !sample.value.isNaN else { return false }
            guard let model, !modelLabels.isEmpty else { return true }
            return self.model(of: sample.labels) == model
        }
    }

    /// Finished requests and failed requests in `samples` (one model's); each `nil` when not exported.
    public func requestCounts(_ samples: [PrometheusSample]) -> (requests: Double?, errors: Double?) {
        let finished = samples.filter { requests.contains($0.name) && $0.value.isFinite }
        let total = finished.isEmpty ? nil : finished.map(\.value).reduce(0, +)
        switch errors {
        case .requestSeries(let labels, let value):
            guard !finished.isEmpty else { return (nil, nil) }
            let failed = finished.filter { sample in labels.lazy.compactMap { sample.labels[$0] }.first == value }
            return (total, failed.map(\.value).reduce(0, +))
        case .counter(let name, let label, let excluding):
            let series = samples.filter { $0.name == name && $0.value.isFinite }
            let counted = series.filter { sample in
                guard let label, let value = sample.labels[label] else { return true }
                return !excluding.contains(value)
            }
            return (total, series.isEmpty ? nil : counted.map(\.value).reduce(0, +))
        }
    }

    /// The finite values of the first name in `candidates` that has samples.
    public static func values(_ candidates: [String], in samples: [PrometheusSample]) -> [Double]? {
        for name in candidates {
            let found = samples.filter { $0.name == name }.map(\.value).filter(\.isFinite)
            if !found.isEmpty { return found }
        }
        return nil
    }

    /// The first family in `candidates` with series, every series summed (engines, ranks), labels dropped.
    public static func histogram(_ candidates: [String], in scrape: PrometheusScrape) -> PrometheusHistogram? {
        for name in candidates {
            let series = scrape.histograms(named: name)
            guard let first = series.first else { continue }
            var total = series.dropFirst().reduce(first) { $0.adding($1) }
            total.labels = [:]
            return total
        }
        return nil
    }
}
