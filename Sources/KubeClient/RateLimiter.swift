import Foundation
import KubeCore

/// The API client's rate limit (client-go's `flowcontrol` token bucket): a ``TokenBucket`` on a clock. Waiting is
/// reserved before sleeping, so concurrent callers are served in arrival order.
public actor ClientRateLimiter {
    private let clock: any KubeClock
    private var bucket: TokenBucket

    public init(qps: Double, burst: Int, clock: any KubeClock = SystemClock()) {
        self.clock = clock
        bucket = TokenBucket(qps: qps, burst: burst)
    }

    public var qps: Double { bucket.qps }
    public var burst: Int { bucket.burst }

    /// Takes one token, sleeping until it is available.
    public func acquire() async throws {
        let wait = bucket.reserve(now: clock.now())
        if wait > 0 { try await clock.sleep(seconds: wait) }
    }

    /// Takes a token without waiting; `false` when none is available.
    public func tryAcquire() -> Bool { bucket.take(now: clock.now()) }
}
