import Foundation

/// The runtime signals of one revision on one route, summed over the pods that were scraped: the inputs of the
/// TTFT diagnosis. Every field is `nil` when the runtime did not report it ("no data", never zero).
public struct RuntimeSignals: Codable, Sendable, Equatable {
    /// Pods whose `/metrics` answered with samples of the runtime.
    public var scrapedPods: Int
    /// Time to first token, seconds (histogram summed over pods).
    public var ttft: HistogramSummary
    /// Time waiting in the runtime's queue, seconds.
    public var queueTime: HistogramSummary
    /// Inter-token latency (time per output token), seconds.
    public var interTokenLatency: HistogramSummary
    /// Prefill time, seconds (`vllm:request_prefill_time_seconds`, vLLM 0.7+), when exported.
    public var prefillTime: HistogramSummary
    /// Prompt length in tokens (`vllm:request_prompt_tokens` histogram), when exported.
    public var promptTokens: HistogramSummary
    /// Mean prompt tokens per finished request (`prompt_tokens_total / request_success_total`).
    public var promptTokensMean: Double?
    /// Requests waiting, summed over pods.
    public var waiting: Double?
    /// Requests running, summed over pods.
    public var running: Double?
    /// The highest KV-cache usage (0...1) of any pod.
    public var kvCacheUsageMax: Double?
    /// Preemptions since the pods started (`vllm:num_preemptions_total`), when exported.
    public var preemptions: Double?

    /// Creates signals.
    public init(
        scrapedPods: Int = 0, ttft: HistogramSummary = HistogramSummary(),
        queueTime: HistogramSummary = HistogramSummary(), interTokenLatency: HistogramSummary = HistogramSummary(),
        prefillTime: HistogramSummary = HistogramSummary(), promptTokens: HistogramSummary = HistogramSummary(),
        promptTokensMean: Double? = nil, waiting: Double? = nil, running: Double? = nil,
        kvCacheUsageMax: Double? = nil, preemptions: Double? = nil
    ) {
        self.scrapedPods = scrapedPods
        self.ttft = ttft
        self.queueTime = queueTime
        self.interTokenLatency = interTokenLatency
        self.prefillTime = prefillTime
        self.promptTokens = promptTokens
        self.promptTokensMean = promptTokensMean
        self.waiting = waiting
        self.running = running
        self.kvCacheUsageMax = kvCacheUsageMax
        self.preemptions = preemptions
    }

    /// Sums the runtime scrapes of several pods (vLLM V0 and V1 names and every `engine`, SGLang, TGI); `model`
    /// keeps only that model (all models when nil). Scrapes without samples of a known runtime are not counted as
    /// scraped.
    public static func from(scrapes: [PrometheusScrape], model: String? = nil) -> RuntimeSignals {
        var signals = RuntimeSignals()
        var ttft: PrometheusHistogram?
        var queue: PrometheusHistogram?
        var itl: PrometheusHistogram?
        var prefill: PrometheusHistogram?
        var prompt: PrometheusHistogram?
        var promptTotal: Double?
        var successTotal: Double?
        for scrape in scrapes {
            guard let dialect = RuntimeDialect.detect(scrape) else { continue }
            let samples = dialect.samples(in: scrape, model: model)
            guard !samples.isEmpty else { continue }
            signals.scrapedPods += 1
            let podScrape = PrometheusScrape(samples: samples)
            ttft = merged(ttft, RuntimeDialect.histogram(dialect.ttft, in: podScrape))
            queue = merged(queue, RuntimeDialect.histogram(dialect.queueTime, in: podScrape))
            itl = merged(itl, RuntimeDialect.histogram(dialect.interTokenLatency, in: podScrape))
            prefill = merged(prefill, RuntimeDialect.histogram(dialect.prefillTime, in: podScrape))
            prompt = merged(prompt, RuntimeDialect.histogram(dialect.promptTokens, in: podScrape))
            signals.waiting = added(signals.waiting, total(dialect.waiting, samples))
            signals.running = added(signals.running, total(dialect.running, samples))
            signals.preemptions = added(signals.preemptions, total(dialect.preemptions, samples))
            promptTotal = added(promptTotal, total(dialect.promptTokensTotal, samples))
            successTotal = added(successTotal, dialect.requestCounts(samples).requests)
            if let usage = RuntimeDialect.values(dialect.kvCacheUsage, in: samples)?.max() {
                signals.kvCacheUsageMax = max(signals.kvCacheUsageMax ?? 0, usage)
            }
        }
        signals.ttft = ttft.map(HistogramSummary.init) ?? HistogramSummary()
        signals.queueTime = queue.map(HistogramSummary.init) ?? HistogramSummary()
        signals.interTokenLatency = itl.map(HistogramSummary.init) ?? HistogramSummary()
        signals.prefillTime = prefill.map(HistogramSummary.init) ?? HistogramSummary()
        signals.promptTokens = prompt.map(HistogramSummary.init) ?? HistogramSummary()
        if let promptTotal, let successTotal, successTotal > 0 {
            signals.promptTokensMean = promptTotal / successTotal
        }
        return signals
    }

    private static func merged(_ lhs: PrometheusHistogram?, _ rhs: PrometheusHistogram?) -> PrometheusHistogram? {
        guard let lhs else { return rhs }
        guard let rhs else { return lhs }
        return lhs.adding(rhs)
    }

    private static func total(_ candidates: [String], _ samples: [PrometheusSample]) -> Double? {
        RuntimeDialect.values(candidates, in: samples)?.reduce(0, +)
    }

    private static func added(_ lhs: Double?, _ rhs: Double?) -> Double? {
        guard let rhs else { return lhs }
        return (lhs ?? 0) + rhs
    }
}

extension HistogramSummary {
    /// The mean observation (`sum / count`), when both are known and count is positive.
    public var mean: Double? {
        guard let sum, let count, count > 0 else { return nil }
        return sum / count
    }
}

/// What the API server says about the pods of one revision and its recent model loads.
public struct RolloutSignals: Codable, Sendable, Equatable {
    /// Pods of the revision (not being deleted).
    public var pods: Int
    /// Pods whose Ready condition is True.
    public var ready: Int
    /// Pods not ready yet (scheduling, pulling, starting or loading the model).
    public var loading: Int
    /// Seconds the longest-waiting loading pod has existed.
    public var oldestLoadingSeconds: Double?
    /// Recent model-load durations (ModelRollout `status.loadTime.recentSeconds`), seconds.
    public var recentLoadSeconds: [Double]
    /// Seconds from pod creation to Ready, for pods that became Ready (the cold start seen by Kubernetes).
    public var readinessDelaySeconds: [Double]
    /// The ModelRollout phase of the route, when a ModelRollout manages it.
    public var rolloutPhase: String?

    /// Creates signals.
    public init(
        pods: Int = 0, ready: Int = 0, loading: Int = 0, oldestLoadingSeconds: Double? = nil,
        recentLoadSeconds: [Double] = [], readinessDelaySeconds: [Double] = [], rolloutPhase: String? = nil
    ) {
        self.pods = pods
        self.ready = ready
        self.loading = loading
        self.oldestLoadingSeconds = oldestLoadingSeconds
        self.recentLoadSeconds = recentLoadSeconds
        self.readinessDelaySeconds = readinessDelaySeconds
        self.rolloutPhase = rolloutPhase
    }
}

/// One-token streaming probes: the time to first token through the gateway and straight to a pod.
public struct ProbeSignals: Codable, Sendable, Equatable {
    /// Median TTFT through the gateway, seconds.
    public var gatewayTTFT: Double?
    /// Median TTFT sent directly to a pod of the revision, seconds.
    public var directTTFT: Double?
    /// Why a probe gave no timing (unreachable, HTTP error), when it did not.
    public var error: String?

    /// Creates probe timings.
    public init(gatewayTTFT: Double? = nil, directTTFT: Double? = nil, error: String? = nil) {
        self.gatewayTTFT = gatewayTTFT
        self.directTTFT = directTTFT
        self.error = error
    }
}

/// Every signal of one backend revision behind one route rule: the unit the diagnosis judges.
public struct RevisionSignals: Codable, Sendable, Equatable {
    /// The HTTPRoute.
    public var route: String
    /// The request class: the route's `modelrollout.io/class` label, else `rule-<index>`.
    public var requestClass: String
    /// The Deployment (revision) behind the backendRef's Service.
    public var revision: String
    /// The Service the backendRef names.
    public var service: String
    /// The backendRef weight.
    public var weight: Int
    /// The served model, when known (`/v1/models` or the ModelRollout spec).
    public var model: String?
    public var runtime: RuntimeSignals
    public var rollout: RolloutSignals
    public var probe: ProbeSignals?

    /// Creates revision signals.
    public init(
        route: String, requestClass: String, revision: String, service: String? = nil, weight: Int = 1,
        model: String? = nil, runtime: RuntimeSignals = RuntimeSignals(), rollout: RolloutSignals = RolloutSignals(),
        probe: ProbeSignals? = nil
    ) {
        self.route = route
        self.requestClass = requestClass
        self.revision = revision
        self.service = service ?? revision
        self.weight = weight
        self.model = model
        self.runtime = runtime
        self.rollout = rollout
        self.probe = probe
    }

    /// Mean seconds of prefill: the prefill histogram's mean, else TTFT mean minus queue mean (vLLM's TTFT
    /// is queue wait plus prefill), else the same with medians.
    public var prefillSeconds: Double? {
        if let mean = runtime.prefillTime.mean { return mean }
        if let ttft = runtime.ttft.mean, let queue = runtime.queueTime.mean { return max(0, ttft - queue) }
        if let ttft = runtime.ttft.p50, let queue = runtime.queueTime.p50 { return max(0, ttft - queue) }
        return runtime.ttft.mean ?? runtime.ttft.p50
    }

    /// Mean prompt length: the counter ratio, else the prompt-token histogram's mean or median.
    public var promptTokens: Double? {
        runtime.promptTokensMean ?? runtime.promptTokens.mean ?? runtime.promptTokens.p50
    }

    /// Prefill seconds per 1000 prompt tokens: the speed of the revision independent of prompt length.
    public var prefillSecondsPerThousandTokens: Double? {
        guard let prefill = prefillSeconds, let tokens = promptTokens, tokens > 0 else { return nil }
        return prefill / tokens * 1000
    }
}
