import Foundation

/// The one source of time of the project: the API client (rate limits, retries, credential expiry), the runtime
/// (backoff, delayed queue items, leases, events), the reconciler and the emulated cluster's workloads
/// (``WorkloadClock`` in ClusterSim, a compressed-time refinement) all take one.
///
/// Production code uses ``SystemClock``; tests use ``ManualClock`` so that time only moves when the test says so.
public protocol KubeClock: Sendable {
    /// The current wall-clock instant.
    func now() -> Date
    /// Suspends until `deadline` (returns at once when it has passed). Throws `CancellationError` when cancelled.
    func sleep(until deadline: Date) async throws
    /// Suspends for `duration` measured on this clock (default: until now + duration).
    func sleep(for duration: Duration) async throws
}

extension KubeClock {
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now().adding(duration))
    }

    /// Suspends for `seconds` measured on this clock (at most about 31 years).
    public func sleep(seconds: Double) async throws {
        try await sleep(for: .interval(seconds))
    }
}

/// The real clock: `Date()` and `Task.sleep`.
public struct SystemClock: KubeClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let interval = deadline.timeIntervalSinceNow
        if interval <= 0 {
            try Task.checkCancellation()
            return
        }
        try await Task.sleep(nanoseconds: UInt64(min(interval, 1e9) * 1_000_000_000))
    }
}

/// A clock for tests: time stands still until ``advance(by:)``, which wakes due sleepers in deadline order.
///
/// ``waitForSleepers(_:)`` lets a test wait until the code under test has gone to sleep before moving time, which
/// makes timing tests deterministic without real sleeping. With `advancesOnSleep`, a sleep instead moves the
/// clock to its deadline at once and returns (for code that sleeps in line, such as client retries); ``sleeps``
/// records every sleep either way.
public final class ManualClock: KubeClock {
    private struct Sleeper {
        var id: UInt64
        var deadline: Date
        var continuation: CheckedContinuation<Void, Error>
    }

    private struct State {
        var now: Date
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
        var sleeps: [Double] = []
    }

    private let state: LockedValue<State>
    private let advancesOnSleep: Bool

    /// Starts at `start` (a fixed instant by default, so tests are reproducible).
    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000), advancesOnSleep: Bool = false) {
        state = LockedValue(State(now: start))
        self.advancesOnSleep = advancesOnSleep
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// Every sleep requested so far, in seconds from the moment it was requested.
    public var sleeps: [Double] { state.withLock { $0.sleeps } }

    /// Moves time forward by `seconds` (see ``advance(by:)-(Duration)``).
    public func advance(by seconds: Double) { advance(by: .interval(seconds)) }

    /// The number of tasks currently sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline anyone sleeps until, if any.
    public var nextDeadline: Date? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    /// Records the duration as requested (not as a difference of dates), then sleeps until now + duration.
    public func sleep(for duration: Duration) async throws {
        let deadline = state.withLock { s -> Date in
            s.sleeps.append(duration.timeInterval)
            return s.now.adding(duration)
        }
        try await sleep(until: deadline, record: false)
    }

    public func sleep(until deadline: Date) async throws {
        try await sleep(until: deadline, record: true)
    }

    private func sleep(until deadline: Date, record: Bool) async throws {
        if record { state.withLock { $0.sleeps.append(deadline.timeIntervalSince($0.now)) } }
        if advancesOnSleep {
            try Task.checkCancellation()
            state.withLock { s in
                if deadline > s.now { s.now = deadline }
            }
            return
        }
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
        advance { $0.adding(duration) }
    }

    /// Moves time forward to `date` (nothing when it has passed), waking due sleepers as ``advance(by:)-(Duration)``.
    public func advance(to date: Date) {
        advance { max($0, date) }
    }

    private func advance(_ move: (Date) -> Date) {
        let due = state.withLock { s -> [Sleeper] in
            s.now = move(s.now)
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
public final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

extension Date {
    /// This instant moved by a `Duration`.
    public func adding(_ duration: Duration) -> Date { addingTimeInterval(duration.timeInterval) }
}

extension Duration {
    /// The duration in (fractional) seconds.
    public var timeInterval: TimeInterval {
        let c = components
        return TimeInterval(c.seconds) + TimeInterval(c.attoseconds) / 1e18
    }

    /// A duration from fractional seconds (negative and non-finite values become zero).
    public static func interval(_ seconds: TimeInterval) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .nanoseconds(Int64(min(seconds, 1e9) * 1e9))
    }
}
