import Foundation
import KubeCore

/// How retries back off: exponential growth from `initial` by `factor`, capped at `maximum`, with jitter.
///
/// The defaults follow kube-rs's watcher backoff (0.8 s doubling to 30 s).
public struct BackoffPolicy: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var factor: Double
    /// The relative spread of a delay: a delay `d` becomes a value in `[d * (1 - jitter/2), d * (1 + jitter/2)]`,
    /// still capped at `maximum`.
    public var jitter: Double

    public init(
        initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30), factor: Double = 2,
        jitter: Double = 0.4
    ) {
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
    }

    /// kube-rs's watcher default.
    public static let watcherDefault = BackoffPolicy()
}

/// The state of one backoff sequence: each ``nextDelay(random:)`` is longer until ``reset()``.
public struct Backoff: Sendable {
    public let policy: BackoffPolicy
    /// How many delays were handed out since the last reset.
    public private(set) var attempts = 0

    public init(policy: BackoffPolicy = .watcherDefault) { self.policy = policy }

    /// The next delay; `random` is a uniform value in `[0, 1)` used for jitter.
    public mutating func nextDelay(random: Double) -> Duration {
        let maximum = policy.maximum.timeInterval
        let exponent = Double(min(attempts, 64))
        let base = min(maximum, policy.initial.timeInterval * pow(max(policy.factor, 1), exponent))
        attempts += 1
        let unit = min(max(random, 0), 1)
        let spread = max(0, policy.jitter)
        let jittered = base * (1 - spread / 2 + spread * unit)
        return .interval(min(maximum, max(0, jittered)))
    }

    /// Starts over at `initial` (after a success).
    public mutating func reset() { attempts = 0 }
}
