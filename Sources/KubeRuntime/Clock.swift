import Foundation

/// The source of time for everything time-based in KubeRuntime (backoff, delayed queue items, leases, events).
///
/// Production code uses ``SystemClock``; tests use ``ManualClock`` so that time only moves when the test says so.
public protocol RuntimeClock: Sendable {
    /// The current wall-clock instant.
    func now() -> Date
    /// Suspends until `deadline` (returns at once when it has passed). Throws `CancellationError` when cancelled.
    func sleep(until deadline: Date) async throws
}

extension RuntimeClock {
    /// Suspends for `duration` measured on this clock.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now().adding(duration))
    }
}

/// The real clock: `Date()` and `Task.sleep`.
public struct SystemClock: RuntimeClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let interval = deadline.timeIntervalSinceNow
        if interval <= 0 {
            try Task.checkCancellation()
            return
        }
        try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
    }
}

/// A clock for tests: time stands still until ``advance(by:)``, which wakes due sleepers in deadline order.
///
/// ``waitForSleepers(_:)`` lets a test wait until the code under test has gone to sleep before moving time, which
/// makes timing tests deterministic without real sleeping.
public final class ManualClock: RuntimeClock {
    private struct Sleeper {
        var id: UInt64
        var deadline: Date
        var continuation: CheckedContinuation<Void, Error>
    }

    private struct State {
        var now: Date
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
    }

    private let state: LockedValue<State>

    /// Starts at `start` (a fixed instant by default, so tests are reproducible).
    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        state = LockedValue(State(now: start))
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// The number of tasks currently sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline anyone sleeps until, if any.
    public var nextDeadline: Date? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    public func sleep(until deadline: Date) async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                let outcome = state.withLock { s -> Result<Void, Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= s.now { return .success(()) }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let index = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has been reached, earliest first.
    public func advance(by duration: Duration) {
        let due = state.withLock { s -> [Sleeper] in
            s.now = s.now.adding(duration)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }.sorted {
                ($0.deadline, $0.id) < ($1.deadline, $1.id)
            }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits (yielding, bounded by about `timeout` of real time) until at least `count` tasks sleep on this clock.
    /// Returns whether that happened.
    @discardableResult
    public func waitForSleepers(_ count: Int, timeout: Duration = .seconds(60)) async -> Bool {
        let start = ContinuousClock.now
        var spins = 0
        while sleeperCount < count {
            if ContinuousClock.now - start > timeout { return false }
            spins += 1
            if spins < 100 {
                await Task.yield()
            } else {
                try? await Task.sleep(nanoseconds: 50_000)
            }
        }
        return true
    }
}

/// A value guarded by a lock, for the few places that need synchronous, thread-safe access.
///
/// `@unchecked Sendable` is sound: every access to `value` goes through `withLock`, which holds `lock`.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

extension Date {
    /// This instant moved by a `Duration`.
    func adding(_ duration: Duration) -> Date { addingTimeInterval(duration.timeInterval) }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var timeInterval: TimeInterval {
        let c = components
        return TimeInterval(c.seconds) + TimeInterval(c.attoseconds) / 1e18
    }

    /// A duration from fractional seconds (negative and non-finite values become zero).
    static func interval(_ seconds: TimeInterval) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .nanoseconds(Int64(min(seconds, 1e9) * 1e9))
    }
}
