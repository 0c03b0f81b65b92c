import Foundation
import HeapModule

/// The serving engine of one replica: an 8B-class model on one H100 served by vLLM with continuous batching.
///
/// Calibration (public vLLM figures for Llama-3.1-8B on one H100, bf16):
/// - prefill ≈ 30 ms fixed (scheduling, sampling, HTTP/tokenisation) + 0.2 ms per prompt token
///   (≈ 5,000 prompt tokens/s for a single sequence, which is what vLLM reports with chunked prefill);
/// - inter-token latency ≈ 12 ms at batch 1, growing linearly to 2.5 × (30 ms) at the concurrency limit, the
///   usual shape of decode-step time versus batch size for memory-bound decoding;
/// - concurrency limit 64 (`--max-num-seqs 64`): further requests wait in vLLM's queue (`num_requests_waiting`);
/// - chat-like lengths: prompt uniform in 500...1500 tokens, output uniform in 150...300 tokens.
///
/// One saturated replica then completes 64 / (E[prefill] + E[output] × ITL(64)) ≈ 9.2 requests per second
/// (``saturatedThroughput``), the low end of the 10–20 req/s people report for this class of model.
public struct EngineModel: Sendable, Hashable, Codable {
    /// Sequences decoded at once (`--max-num-seqs`).
    public var concurrencyLimit: Int = 64
    /// Fixed part of the time to first token once a request is admitted, seconds.
    public var prefillBase: Double = 0.030
    /// Prefill time per prompt token, seconds.
    public var prefillPerToken: Double = 0.0002
    /// Inter-token latency with one running sequence, seconds.
    public var itlBatchOne: Double = 0.012
    /// Inter-token latency at the concurrency limit relative to batch 1.
    public var itlGrowthAtLimit: Double = 2.5
    /// Prompt length range, tokens (uniform).
    public var promptTokens: ClosedRange<Int> = 500...1500
    /// Output length range, tokens (uniform).
    public var outputTokens: ClosedRange<Int> = 150...300

    public init() {}

    /// Time from admission to the first token for a prompt of `tokens` tokens.
    @inlinable
    public func prefillSeconds(promptTokens tokens: Int) -> Double {
        prefillBase + prefillPerToken * Double(tokens)
    }

    /// Seconds between two output tokens of every running sequence when `batch` sequences run.
    @inlinable
    public func interTokenLatency(batch: Int) -> Double {
        let b = min(max(batch, 1), concurrencyLimit)
        let span = Double(max(concurrencyLimit - 1, 1))
        return itlBatchOne * (1 + (itlGrowthAtLimit - 1) * Double(b - 1) / span)
    }

    /// Mean prompt and output lengths of the workload.
    public var meanPromptTokens: Double { Double(promptTokens.lowerBound + promptTokens.upperBound) / 2 }
    public var meanOutputTokens: Double { Double(outputTokens.lowerBound + outputTokens.upperBound) / 2 }

    /// Requests per second one replica completes when it always has `concurrencyLimit` sequences running.
    public var saturatedThroughput: Double {
        let service =
            prefillSeconds(promptTokens: Int(meanPromptTokens))
            + meanOutputTokens * interTokenLatency(batch: concurrencyLimit)
        return Double(concurrencyLimit) / service
    }
}

/// How a pod's cold start is made of: scheduling, image pull, container start (the process listens: a TCP or
/// process-level readiness probe passes here), then weight load and engine init (the model is served).
public struct ColdStartModel: Sendable, Hashable, Codable {
    /// Scheduling and GPU allocation, seconds.
    public var scheduling: Double = 2
    /// Share of the cold start spent before the process listens (image pull, container start).
    public var processShare: Double = 0.12
    /// Log-normal spread (sigma of the log) of the whole cold start around the scenario mean.
    public var sigma: Double = 0.12

    public init() {}

    /// Seconds from pod creation to a passing process-level probe, for a pod whose cold start is `total`.
    public func processReady(total: Double) -> Double {
        min(total, scheduling + processShare * max(0, total - scheduling))
    }
}

/// One request being decoded, ordered by the token count at which it finishes (then by request).
struct DecodeEntry: Comparable {
    /// Virtual token count at which the sequence finishes.
    var target: Double
    var request: Int32

    static func < (a: DecodeEntry, b: DecodeEntry) -> Bool {
        a.target < b.target || (a.target == b.target && a.request < b.request)
    }
}

/// The mutable state of one pod: lifecycle times and the continuous-batching engine.
///
/// Decoding is modelled exactly as processor sharing with a batch-dependent rate: every running sequence
/// advances one token per `interTokenLatency(batch)` seconds, so one virtual token clock `tokens` per replica
/// orders all completions (a min-heap of finish targets). A request admitted at clock `v` finishes at
/// `v + prefill/ITL + output`; its prefill is charged in decode-step time at admission (the small approximation
/// that keeps one event per completion), while its time to first token is exact (queue wait + prefill).
struct Replica {
    let id: Int
    let revision: Int
    let createdAt: Double
    let coldStart: Double
    let processReadyAt: Double
    var modelReadyAt: Double { createdAt + coldStart }
    var modelLoaded = false
    var processReady = false
    /// Removed from endpoints; finishes what it has, then ends.
    var terminating = false
    var endedAt: Double?

    /// Waiting requests (FIFO): indices into the workload, consumed from `queueHead`.
    var queue: [Int32] = []
    var queueHead = 0
    var running = 0
    var heap = Heap<DecodeEntry>()
    var tokens: Double = 0
    var tokensTime: Double = 0
    /// Bumped on every change of the next completion, to drop stale completion events.
    var version: UInt32 = 0
    var completed = 0
    /// Requests the engine dropped because their client gave up (vLLM's `finished_reason="abort"`).
    var aborted = 0
    /// Integral of `running` over time, for windowed averages (CPU utilisation).
    var runningIntegral: Double = 0
    var integralTime: Double = 0
    /// The runtime's latency histograms (`vllm:time_to_first_token_seconds`, `vllm:request_queue_time_seconds`):
    /// observations per bucket of ``RuntimeBuckets``, and their sums.
    var ttftCounts = [Int32](repeating: 0, count: RuntimeBuckets.timeToFirstToken.count + 1)
    var ttftSum = 0.0
    var queueCounts = [Int32](repeating: 0, count: RuntimeBuckets.requestPhase.count + 1)
    var queueSum = 0.0

    init(id: Int, revision: Int, createdAt: Double, coldStart: Double, processReadyAfter: Double) {
        self.id = id
        self.revision = revision
        self.createdAt = createdAt
        self.coldStart = coldStart
        self.processReadyAt = createdAt + processReadyAfter
        tokensTime = createdAt
        integralTime = createdAt
    }

    /// Records an admitted request in the histograms, as vLLM does at its first token.
    mutating func observeAdmission(wait: Double, ttft: Double) {
        ttftCounts[RuntimeBuckets.index(of: ttft, in: RuntimeBuckets.timeToFirstToken)] += 1
        ttftSum += ttft
        queueCounts[RuntimeBuckets.index(of: wait, in: RuntimeBuckets.requestPhase)] += 1
        queueSum += wait
    }

    var waiting: Int { queue.count - queueHead }
    var inFlight: Int { running + waiting }
    var active: Bool { endedAt == nil }

    mutating func advance(to now: Double, engine: EngineModel) {
        if now > tokensTime {
            if running > 0 { tokens += (now - tokensTime) / engine.interTokenLatency(batch: running) }
            tokensTime = now
        }
        if now > integralTime {
            runningIntegral += Double(running) * (now - integralTime)
            integralTime = now
        }
    }

    /// When the next running sequence finishes, if any (call after `advance`).
    func nextCompletion(engine: EngineModel) -> Double? {
        guard let first = heap.min else { return nil }
        return tokensTime + max(0, first.target - tokens) * engine.interTokenLatency(batch: running)
    }

    mutating func pushDecode(_ entry: DecodeEntry) { heap.insert(entry) }

    mutating func popDecode() -> DecodeEntry? { heap.popMin() }

    mutating func enqueue(_ request: Int32) {
        if queueHead > 1024, queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        queue.append(request)
    }

    mutating func dequeue() -> Int32? {
        guard queueHead < queue.count else { return nil }
        let request = queue[queueHead]
        queueHead += 1
        return request
    }

    func peekQueue() -> Int32? { queueHead < queue.count ? queue[queueHead] : nil }
}

/// The bucket bounds of vLLM's latency histograms (V1; see shared/reference/vllm-formats.md), for the simulated
/// runtime's metrics. The last slot of a count array is the `+Inf` bucket.
enum RuntimeBuckets {
    static let timeToFirstToken: [Double] = [
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640,
        2560,
    ]
    static let requestPhase: [Double] = [
        0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
    ]

    /// The slot of the first bound `value` does not exceed (`bounds.count` for `+Inf`).
    static func index(of value: Double, in bounds: [Double]) -> Int {
        var low = 0
        var high = bounds.count
        while low < high {
            let mid = (low + high) / 2
            if value <= bounds[mid] { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
