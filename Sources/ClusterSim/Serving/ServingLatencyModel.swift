import Foundation

/// The latency model of a simulated vLLM replica under continuous batching (DESIGN §7):
/// prefill = 30 ms + 0.2 ms per prompt token; inter-token latency = 12 ms × (1 + 1.5 × (running − 1) /
/// (maxConcurrency − 1)), i.e. about 2.5× with a full batch; both multiplied by a per-pod slowdown factor.
/// TTFT is the wait for a batch slot plus the prefill.
public struct ServingLatencyModel: Sendable, Hashable {
    public static let prefillBaseSeconds = 0.030
    public static let prefillPerTokenSeconds = 0.0002
    public static let interTokenBaseSeconds = 0.012
    /// How much slower a token step is with a full batch than alone (`1 + growth`).
    public static let batchGrowth = 1.5

    /// Requests decoded together at most.
    public var maxConcurrency: Int
    /// Multiplies prefill and inter-token latency (`sim.modelrollout.io/slowdown`); at least 0.
    public var slowdown: Double

    public init(maxConcurrency: Int, slowdown: Double = 1) {
        self.maxConcurrency = max(1, maxConcurrency)
        self.slowdown = slowdown.isFinite ? max(0, slowdown) : 1
    }

    /// Simulated seconds of the prefill of `promptTokens` tokens.
    public func prefillSeconds(promptTokens: Int) -> Double {
        (Self.prefillBaseSeconds + Self.prefillPerTokenSeconds * Double(max(0, promptTokens))) * slowdown
    }

    /// Simulated seconds of one decode step while `running` requests share the batch (clamped to 1...limit).
    public func interTokenSeconds(running: Int) -> Double {
        let batch = min(max(1, running), maxConcurrency)
        let fill = maxConcurrency > 1 ? Double(batch - 1) / Double(maxConcurrency - 1) : 0
        return Self.interTokenBaseSeconds * (1 + Self.batchGrowth * fill) * slowdown
    }
}
