import Foundation
import KubeCore

/// The time source of the simulated workloads: a ``KubeClock`` whose `now()` is the simulated wall-clock date and
/// whose sleeps are in simulated time.
///
/// Injected everywhere so that time can be compressed (a 5-minute model load taking 3 s of wall time) and so that
/// logs, pod conditions and vLLM timings all agree on one notion of "now".
public protocol WorkloadClock: KubeClock {
    /// Simulated seconds per wall-clock second.
    var timeScale: Double { get }
}

extension WorkloadClock {
    /// Wall-clock seconds that `simulatedSeconds` take.
    public func wallSeconds(_ simulatedSeconds: Double) -> Double { max(0, simulatedSeconds) / timeScale }

    /// Suspends for `simulatedSeconds` of simulated time (throws `CancellationError` when cancelled).
    public func sleep(simulatedSeconds: Double) async throws {
        try await sleep(until: now().addingTimeInterval(max(0, simulatedSeconds)))
    }
}

/// Virtual time running `timeScale` times faster than the wall clock, starting at `origin`.
///
/// With `timeScale: 100`, `sleep(simulatedSeconds: 300)` returns after 3 s and `now()` has advanced by 300 s.
public struct SimClock: WorkloadClock {
    public let timeScale: Double
    /// The simulated date at the moment the clock was created.
    public let origin: Date
    private let start: ContinuousClock.Instant

    /// - Parameters:
    ///   - timeScale: simulated seconds per wall second; values below 0.001 are raised to 0.001.
    ///   - origin: the simulated date "now" corresponds to at creation (default: the real current date).
    public init(timeScale: Double = 1, origin: Date = Date()) {
        self.timeScale = max(0.001, timeScale.isFinite ? timeScale : 1)
        self.origin = origin
        self.start = ContinuousClock.now
    }

    public func now() -> Date {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return origin.addingTimeInterval(seconds * timeScale)
    }

    public func sleep(until deadline: Date) async throws {
        let wall = wallSeconds(deadline.timeIntervalSince(now()))
        guard wall > 0 else {
            try Task.checkCancellation()
            return
        }
        try await Task.sleep(for: .nanoseconds(Int64(min(wall, 1e9) * 1e9)))
    }
}
