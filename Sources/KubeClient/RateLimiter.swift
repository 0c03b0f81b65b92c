import Foundation
import KubeCore

/// A client-side token bucket: `qps` tokens per second refill a bucket of `burst` tokens; each request takes one.
///
/// Waiting is reserved before sleeping, so concurrent callers are served in arrival order.
public actor TokenBucketRateLimiter {
    public let qps: Double
    public let burst: Int
    private let clock: any KubeClock
    private var tokens: Double
    private var last: Date

    public init(qps: Double, burst: Int, clock: any KubeClock = SystemClock()) {
        self.qps = max(qps, 0.001)
        self.burst = max(burst, 1)
        self.clock = clock
        self.tokens = Double(max(burst, 1))
        self.last = clock.now()
    }

    /// Takes one token, sleeping until it is available.
    public func acquire() async throws {
        let wait = reserve()
        if wait > 0 { try await clock.sleep(seconds: wait) }
    }

    /// Takes a token without waiting; `false` when none is available.
    public func tryAcquire() -> Bool {
        refill()
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    private func refill() {
        let now = clock.now()
        let elapsed = now.timeIntervalSince(last)
        if elapsed > 0 {
            tokens = min(Double(burst), tokens + elapsed * qps)
            last = now
        }
    }

    /// Takes a token (possibly going into debt) and returns how long to wait for it.
    private func reserve() -> Double {
        refill()
        tokens -= 1
        return tokens >= 0 ? 0 : -tokens / qps
    }
}
