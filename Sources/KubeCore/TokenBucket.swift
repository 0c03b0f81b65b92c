import Foundation

/// A token bucket, the one rate-limiting rule of the project: `qps` tokens per second refill a bucket of `burst`
/// tokens; each request takes one. The API client's limiter (``ClientRateLimiter`` in KubeClient) and the work
/// queue's (`BucketRateLimiter` in KubeRuntime) wrap it; time is passed in.
public struct TokenBucket: Sendable, Equatable {
    public let qps: Double
    public let burst: Int
    private var tokens: Double
    private var last: Date?

    /// A full bucket. `qps` below 1e-6 is raised to 1e-6 and `burst` below 1 to 1.
    public init(qps: Double, burst: Int) {
        self.qps = max(qps.isFinite ? qps : 0, 0.000_001)
        self.burst = max(burst, 1)
        tokens = Double(self.burst)
    }

    /// Takes a token, going into debt when none is left, and returns the seconds until it is available (0: now).
    /// Concurrent callers that reserve in turn are served in that order.
    public mutating func reserve(now: Date) -> Double {
        refill(now)
        tokens -= 1
        return tokens >= 0 ? 0 : -tokens / qps
    }

    /// Takes a token when one is available now.
    public mutating func take(now: Date) -> Bool {
        refill(now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    private mutating func refill(_ now: Date) {
        if let last, now > last { tokens = min(Double(burst), tokens + now.timeIntervalSince(last) * qps) }
        if last.map({ now > $0 }) ?? true { last = now }
    }
}
