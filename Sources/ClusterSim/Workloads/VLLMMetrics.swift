import Foundation

/// A Prometheus histogram with fixed upper bounds (cumulative buckets are computed when rendering).
struct PrometheusHistogram: Sendable {
    let bounds: [Double]
    private(set) var counts: [Int]
    private(set) var sum: Double = 0
    private(set) var count: Int = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        self.counts = Array(repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double) {
        count += 1
        sum += value
        if let index = bounds.firstIndex(where: { value <= $0 }) { counts[index] += 1 }
    }

    /// Cumulative counts per bound (without `+Inf`, which is `count`).
    var cumulative: [Int] {
        var running = 0
        return counts.map {
            running += $0
            return running
        }
    }
}

/// The bucket sets vLLM uses (shared/reference/vllm-formats.md), per era.
enum VLLMBuckets {
    static let timeToFirstTokenV0: [Double] = [
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]
    static let timeToFirstToken: [Double] = timeToFirstTokenV0 + [20, 40, 80, 160, 640, 2560]
    static let interTokenV0: [Double] = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5]
    static let interToken: [Double] = interTokenV0 + [5, 7.5, 10, 20, 40, 80]
    static let requestPhaseV0: [Double] = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60]
    static let requestPhase: [Double] = requestPhaseV0 + [120, 240, 480, 960, 1920, 7680]
}

/// The serving state and Prometheus metrics of one simulated vLLM server: admission (a concurrency limit with a
/// FIFO wait queue), gauges, counters and latency histograms, rendered with the names of the configured release.
actor VLLMMetrics {
    let modelName: String
    let version: VLLMVersion
    let maxConcurrency: Int
    let kvCacheTokens: Int
    let createdAt: Double

    private(set) var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private(set) var tokensInFlight = 0
    private(set) var promptTokens = 0
    private(set) var generationTokens = 0
    private(set) var successByReason: [String: Int] = [:]
    private(set) var ttft: PrometheusHistogram
    private(set) var itl: PrometheusHistogram
    private(set) var queueTime: PrometheusHistogram
    private(set) var e2e: PrometheusHistogram

    let runtime: SimRuntime

    init(
        modelName: String, version: VLLMVersion, maxConcurrency: Int, kvCacheTokens: Int, createdAt: Date,
        runtime: SimRuntime = .vllm
    ) {
        self.modelName = modelName
        self.version = version
        self.runtime = runtime
        self.maxConcurrency = max(1, maxConcurrency)
        self.kvCacheTokens = max(1, kvCacheTokens)
        self.createdAt = createdAt.timeIntervalSince1970
        switch runtime {
        case .vllm:
            let modern = version.atLeast(8)
            ttft = PrometheusHistogram(bounds: modern ? VLLMBuckets.timeToFirstToken : VLLMBuckets.timeToFirstTokenV0)
            itl = PrometheusHistogram(bounds: modern ? VLLMBuckets.interToken : VLLMBuckets.interTokenV0)
            queueTime = PrometheusHistogram(bounds: modern ? VLLMBuckets.requestPhase : VLLMBuckets.requestPhaseV0)
            e2e = PrometheusHistogram(bounds: modern ? VLLMBuckets.requestPhase : VLLMBuckets.requestPhaseV0)
        case .sglang:
            ttft = PrometheusHistogram(bounds: SGLangBuckets.timeToFirstToken)
            itl = PrometheusHistogram(bounds: SGLangBuckets.interToken)
            queueTime = PrometheusHistogram(bounds: SGLangBuckets.queueTime)
            e2e = PrometheusHistogram(bounds: SGLangBuckets.e2e)
        case .tgi:
            ttft = PrometheusHistogram(bounds: TGIBuckets.duration)
            itl = PrometheusHistogram(bounds: TGIBuckets.duration)
            queueTime = PrometheusHistogram(bounds: TGIBuckets.duration)
            e2e = PrometheusHistogram(bounds: TGIBuckets.duration)
        }
    }

    var waiting: Int { waiters.count }

    /// Waits for a batch slot (FIFO).
    func admit(tokens: Int) async {
        if running >= maxConcurrency {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            running += 1
        }
        tokensInFlight += tokens
    }

    /// Frees the slot and records the request.
    func finish(
        promptTokens prompt: Int, generatedTokens generated: Int, tokens: Int, queueSeconds: Double,
        ttftSeconds: Double, itlSamples: [Double], e2eSeconds: Double, finishReason: String
    ) {
        tokensInFlight -= tokens
        promptTokens += prompt
        generationTokens += generated
        successByReason[finishReason, default: 0] += 1
        queueTime.observe(queueSeconds)
        ttft.observe(ttftSeconds)
        for sample in itlSamples { itl.observe(sample) }
        e2e.observe(e2eSeconds)
        release()
    }

    /// Frees the slot of a request that ended early (client went away).
    func abandon(tokens: Int) {
        tokensInFlight -= tokens
        release()
    }

    private func release() {
        if waiters.isEmpty {
            running = max(0, running - 1)
        } else {
            waiters.removeFirst().resume()  // the slot passes to the next waiter
        }
    }

    /// The Prometheus text exposition (format 0.0.4) in the runtime's names.
    func render() -> String {
        switch runtime {
        case .vllm: return renderVLLM()
        case .sglang: return renderSGLang()
        case .tgi: return renderTGI()
        }
    }

    private func renderVLLM() -> String {
        let modern = version.atLeast(8)
        let base = modern ? "model_name=\"\(escape(modelName))\",engine=\"0\"" : "model_name=\"\(escape(modelName))\""
        var out = ""
        func header(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: String, _ value: Double) {
            out += "\(name){\(labels)} \(format(value))\n"
        }
        header("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.")
        sample("vllm:num_requests_running", base, Double(running))
        header("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.")
        sample("vllm:num_requests_waiting", base, Double(waiters.count))
        let usage = min(1, Double(max(0, tokensInFlight)) / Double(kvCacheTokens))
        if version.atLeast(9) {
            header("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.")
            sample("vllm:kv_cache_usage_perc", base, usage)
        } else {
            header("vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage.")
            sample("vllm:gpu_cache_usage_perc", base, usage)
        }
        counter("vllm:prompt_tokens", "Number of prefill tokens processed.", [(base, promptTokens)], into: &out)
        counter(
            "vllm:generation_tokens", "Number of generation tokens processed.", [(base, generationTokens)], into: &out)
        let reasons = Set(successByReason.keys).union(["stop", "length", "abort"]).sorted()
        counter(
            "vllm:request_success", "Count of successfully processed requests.",
            reasons.map { ("\(base),finished_reason=\"\($0)\"", successByReason[$0] ?? 0) }, into: &out)
        histogram(
            "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", ttft, base, &out)
        if version.atLeast(10) {
            histogram(
                "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", itl, base, &out)
        }
        if !version.atLeast(19) {
            histogram(
                "vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", itl, base,
                &out)
        }
        histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", e2e, base, &out)
        if version.atLeast(7) {
            histogram(
                "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", queueTime,
                base, &out)
        }
        return out
    }

    func counter(_ name: String, _ help: String, _ series: [(String, Int)], into out: inout String) {
        out += "# HELP \(name)_total \(help)\n# TYPE \(name)_total counter\n"
        for (labels, value) in series { out += "\(name)_total{\(labels)} \(format(Double(value)))\n" }
        out += "# HELP \(name)_created \(help)\n# TYPE \(name)_created gauge\n"
        for (labels, _) in series { out += "\(name)_created{\(labels)} \(format(createdAt))\n" }
    }

    func histogram(
        _ name: String, _ help: String, _ h: PrometheusHistogram, _ labels: String, _ out: inout String
    ) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (bound, count) in zip(h.bounds, h.cumulative) {
            out += "\(name)_bucket{\(labels),le=\"\(format(bound))\"} \(format(Double(count)))\n"
        }
        out += "\(name)_bucket{\(labels),le=\"+Inf\"} \(format(Double(h.count)))\n"
        out += "\(name)_count{\(labels)} \(format(Double(h.count)))\n"
        out += "\(name)_sum{\(labels)} \(format(h.sum))\n"
    }

    /// Python's float repr as prometheus_client prints it: `0.0`, `1.0`, `0.25`, `2560.0`.
    func format(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e15 { return String(format: "%.1f", value) }
        return "\(value)"
    }

    func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
