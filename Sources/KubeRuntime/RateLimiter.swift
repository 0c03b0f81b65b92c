import Foundation
import KubeCore

/// Decides how long a failed item waits before it is retried (client-go's `workqueue.TypedRateLimiter`).
public protocol RateLimiter<Key>: Sendable {
    associatedtype Key: Hashable & Sendable

    /// The delay before `key` may be processed again; records one more failure of `key`.
    mutating func when(_ key: Key, now: Date) -> Duration
    /// Clears the failure history of `key` (after success).
    mutating func forget(_ key: Key)
    /// How many times `key` was rate-limited since it was last forgotten.
    func numRequeues(_ key: Key) -> Int
}

/// Per-item exponential backoff: `base * 2^failures`, capped at `maximum` (client-go: 5 ms → 1000 s).
public struct ItemExponentialFailureRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    public let base: Duration
    public let maximum: Duration
    private var failures: [Key: Int] = [:]

    public init(base: Duration = .milliseconds(5), maximum: Duration = .seconds(1000)) {
        self.base = base
        self.maximum = maximum
    }

    public mutating func when(_ key: Key, now: Date) -> Duration {
        let exponent = failures[key, default: 0]
        failures[key] = exponent + 1
        let seconds = base.timeInterval * pow(2, Double(min(exponent, 200)))
        return seconds >= maximum.timeInterval ? maximum : .interval(seconds)
    }

    public mutating func forget(_ key: Key) { failures.removeValue(forKey: key) }

    public func numRequeues(_ key: Key) -> Int { failures[key, default: 0] }
}

/// A global token bucket for retries (client-go's `BucketRateLimiter`, 10 qps, burst 100): each call takes a
/// ``TokenBucket`` token; when none is left the delay is the time until one will be.
public struct BucketRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    private var bucket: TokenBucket

    public init(qps: Double = 10, burst: Int = 100) { bucket = TokenBucket(qps: qps, burst: burst) }

    public var qps: Double { bucket.qps }
    public var burst: Int { bucket.burst }

    public mutating func when(_ key: Key, now: Date) -> Duration { .interval(bucket.reserve(now: now)) }

    public mutating func forget(_ key: Key) {}

    public func numRequeues(_ key: Key) -> Int { 0 }
}

/// The longest delay of several limiters (client-go's `MaxOfRateLimiter`).
public struct MaxOfRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    private var limiters: [any RateLimiter<Key>]

    public init(_ limiters: [any RateLimiter<Key>]) { self.limiters = limiters }

    public mutating func when(_ key: Key, now: Date) -> Duration {
        var longest = Duration.zero
        for index in limiters.indices {
            longest = max(longest, limiters[index].when(key, now: now))
        }
        return longest
    }

    public mutating func forget(_ key: Key) {
        for index in limiters.indices { limiters[index].forget(key) }
    }

    public func numRequeues(_ key: Key) -> Int { limiters.map { $0.numRequeues(key) }.max() ?? 0 }

    /// client-go's `DefaultControllerRateLimiter`: per-item 5 ms → 1000 s, and a 10 qps / 100 burst bucket.
    public static func controllerDefault(
        base: Duration = .milliseconds(5), maximum: Duration = .seconds(1000), qps: Double = 10, burst: Int = 100
    ) -> MaxOfRateLimiter<Key> {
        MaxOfRateLimiter([
            ItemExponentialFailureRateLimiter<Key>(base: base, maximum: maximum),
            BucketRateLimiter<Key>(qps: qps, burst: burst),
        ])
    }
}
