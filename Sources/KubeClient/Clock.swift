import Foundation

/// Wall-clock time and sleeping, injectable so tests of rate limits, retries, token refresh and credential
/// expiry run without real waiting.
public protocol KubeClock: Sendable {
    func now() -> Date
    /// Sleeps for `seconds` (throws `CancellationError` when the task is cancelled).
    func sleep(seconds: Double) async throws
}

/// The real clock.
public struct SystemKubeClock: KubeClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(min(seconds, 1e9) * 1e9))
    }
}

/// A clock for tests: time moves only when `advance` is called, or when someone sleeps (sleeping advances the
/// clock by the requested duration at once and records it).
public final class ManualKubeClock: KubeClock, @unchecked Sendable {
    // Safety: every access to the mutable state goes through `lock`.
    private let lock = NSLock()
    private var current: Date
    private var recorded: [Double] = []

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    public func now() -> Date { lock.withLock { current } }

    public func advance(by seconds: Double) { lock.withLock { current += seconds } }

    public func sleep(seconds: Double) async throws {
        try Task.checkCancellation()
        lock.withLock {
            recorded.append(seconds)
            if seconds > 0 { current += seconds }
        }
    }

    /// Every sleep requested so far, in seconds.
    public var sleeps: [Double] { lock.withLock { recorded } }
}
