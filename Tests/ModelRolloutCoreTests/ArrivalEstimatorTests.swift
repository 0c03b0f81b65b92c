import Foundation
import Testing

@testable import ModelRolloutCore

@Suite struct ArrivalEstimatorTests {
    /// Feeds `rate(t)` arrivals per second as exact counters every `step` seconds from 0 to `until`, with the
    /// given constant in-flight count; returns the estimator and (time, rate, trend) after each observation.
    static func run(
        until: Double, step: Double = 15, inFlight: Double = 0, noise: (Int) -> Double = { _ in 0 },
        rate: (Double) -> Double
    ) -> (ArrivalEstimator, [(time: Double, rate: Double?, trend: Double?)]) {
        var estimator = ArrivalEstimator()
        var completed = 0.0
        var trace: [(time: Double, rate: Double?, trend: Double?)] = []
        var index = 0
        var time = 0.0
        while time <= until {
            if time > 0 {
                // Midpoint rule: exact for piecewise-linear rates between observations.
                completed += max(0, rate(time - step / 2) * step + noise(index))
            }
            estimator.observe(time: time, completedTotal: completed, inFlight: inFlight)
            trace.append((time, estimator.rate, estimator.trend))
            index += 1
            time += step
        }
        return (estimator, trace)
    }

    @Test func nilUntilEnoughObservations() {
        var estimator = ArrivalEstimator(window: 20)
        #expect(estimator.rate == nil)
        estimator.observe(time: 0, completedTotal: 0, inFlight: 0)
        #expect(estimator.rate == nil)
        estimator.observe(time: 10, completedTotal: 100, inFlight: 0)
        #expect(estimator.rate == 10)
        #expect(estimator.trend == nil)
        estimator.observe(time: 20, completedTotal: 200, inFlight: 0)
        estimator.observe(time: 30, completedTotal: 300, inFlight: 0)
        #expect(estimator.trend == nil)
        estimator.observe(time: 40, completedTotal: 400, inFlight: 0)
        #expect(estimator.trend == 0)
        #expect(estimator.rate == 10)
    }

    struct InFlightCase: Sendable, CustomTestStringConvertible {
        var completedPerStep: Double
        var inFlightPerStep: Double
        var expected: Double
        var testDescription: String { "+\(completedPerStep) done, \(inFlightPerStep) in flight / 10 s" }
    }

    @Test(arguments: [
        InFlightCase(completedPerStep: 100, inFlightPerStep: 50, expected: 15),
        InFlightCase(completedPerStep: 100, inFlightPerStep: -20, expected: 8),
        InFlightCase(completedPerStep: 0, inFlightPerStep: 30, expected: 3),
        InFlightCase(completedPerStep: 0, inFlightPerStep: -30, expected: 0),
    ])
    func arrivalsAreCompletionsPlusInFlightChange(_ c: InFlightCase) {
        var estimator = ArrivalEstimator(window: 20)
        estimator.observe(time: 0, completedTotal: 0, inFlight: 100)
        estimator.observe(time: 10, completedTotal: c.completedPerStep, inFlight: 100 + c.inFlightPerStep)
        #expect(estimator.rate == c.expected)
    }

    @Test func shortIntervalsAreMergedIntoOneSample() {
        var estimator = ArrivalEstimator()
        estimator.observe(time: 0, completedTotal: 0, inFlight: 0)
        estimator.observe(time: 5, completedTotal: 500, inFlight: 0)
        estimator.observe(time: 10, completedTotal: 500, inFlight: 0)
        #expect(estimator.rate == nil)
        estimator.observe(time: 15, completedTotal: 600, inFlight: 0)
        #expect(estimator.rate == 40)
    }

    @Test func counterGoingDownYieldsNoSample() {
        var estimator = ArrivalEstimator()
        estimator.observe(time: 0, completedTotal: 1000, inFlight: 10)
        estimator.observe(time: 15, completedTotal: 1300, inFlight: 10)
        #expect(estimator.rate == 20)
        // A pod with 900 completions left the scrape.
        estimator.observe(time: 30, completedTotal: 700, inFlight: 4)
        #expect(estimator.rate == 20)
        estimator.observe(time: 45, completedTotal: 1000, inFlight: 4)
        #expect(estimator.rate == 20)
    }

    @Test func reappearingCounterIsDroppedOnceAndARealSurgeAccepted() {
        var estimator = ArrivalEstimator()
        var completed = 0.0
        for step in 0...8 {
            estimator.observe(time: Double(step) * 15, completedTotal: completed, inFlight: 0)
            completed += 300
        }
        #expect(estimator.rate == 20)
        // A pod's 9000 completions come back into the sum: one absurd interval, then normal again.
        completed += 9000
        estimator.observe(time: 135, completedTotal: completed, inFlight: 0)
        #expect(estimator.rate == 20)
        completed += 300
        estimator.observe(time: 150, completedTotal: completed, inFlight: 0)
        #expect(abs((estimator.rate ?? 0) - 20) < 0.5)
        // A genuine 10x surge: the first interval is held back, the second confirms it.
        completed += 3000
        estimator.observe(time: 165, completedTotal: completed, inFlight: 0)
        #expect(abs((estimator.rate ?? 0) - 20) < 0.5)
        completed += 3000
        estimator.observe(time: 180, completedTotal: completed, inFlight: 0)
        #expect(estimator.rate == 200)
    }

    struct IgnoredCase: Sendable, CustomTestStringConvertible {
        var time: Double
        var completed: Double
        var inFlight: Double
        var testDescription: String { "t=\(time) completed=\(completed) inFlight=\(inFlight)" }
    }

    @Test(arguments: [
        IgnoredCase(time: 5, completed: 500, inFlight: 0),
        IgnoredCase(time: 10, completed: 500, inFlight: 0),
        IgnoredCase(time: .nan, completed: 500, inFlight: 0),
        IgnoredCase(time: 20, completed: .infinity, inFlight: 0),
        IgnoredCase(time: 20, completed: -1, inFlight: 0),
        IgnoredCase(time: 20, completed: 500, inFlight: .nan),
        IgnoredCase(time: 20, completed: 500, inFlight: -3),
    ])
    func badObservationsAreIgnored(_ c: IgnoredCase) {
        var estimator = ArrivalEstimator(window: 20)
        estimator.observe(time: 0, completedTotal: 0, inFlight: 0)
        estimator.observe(time: 10, completedTotal: 100, inFlight: 0)
        let before = estimator
        estimator.observe(time: c.time, completedTotal: c.completed, inFlight: c.inFlight)
        #expect(estimator == before)
    }

    @Test func stepIsALevelShiftNotATrend() {
        let (_, trace) = Self.run(until: 900) { $0 < 450 ? 20 : 40 }
        for point in trace where point.time >= 465 {
            #expect(abs((point.rate ?? 0) - 40) < 0.5, "t=\(point.time)")
            #expect(abs(point.trend ?? 0) * 240 < 2, "t=\(point.time): trend \(point.trend ?? .nan)")
        }
    }

    @Test func rampTrendIsLearned() {
        // 20 → 60 req/s over 300 s: 0.133 req/s per s.
        let slope = 40.0 / 300
        let (_, trace) = Self.run(until: 900) { min(60, max(20, 20 + slope * ($0 - 300))) }
        for point in trace where point.time >= 480 && point.time <= 600 {
            let trend = point.trend ?? 0
            #expect(trend > 0.75 * slope && trend < 1.25 * slope, "t=\(point.time): trend \(trend)")
            let truth = 20 + slope * (point.time - 300)
            #expect(abs((point.rate ?? 0) - truth) < 3, "t=\(point.time)")
        }
        // Learned within a minute of the start, to at least half the slope.
        #expect((trace.first { $0.time == 390 }?.trend ?? 0) > 0.5 * slope)
        // Once the ramp has stopped long enough the trend fades.
        #expect(abs(trace.last?.trend ?? 1) < 0.01)
    }

    @Test func noiseAtSteadyLoadDoesNotForecastGrowth() {
        // Deterministic pseudo-random ±2σ (Poisson at 40 req/s over 15 s: σ ≈ 24 requests).
        var state: UInt64 = 42
        var offsets: [Double] = []
        for _ in 0..<200 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            offsets.append((Double(state >> 11) / Double(1 << 53) * 2 - 1) * 48)
        }
        let (_, trace) = Self.run(until: 2400, noise: { offsets[$0 % offsets.count] }) { _ in 40 }
        for point in trace where point.time >= 120 {
            #expect(abs((point.rate ?? 0) - 40) < 6, "t=\(point.time)")
            #expect((point.trend ?? 0) * 240 < 0.15 * 40, "t=\(point.time): trend \(point.trend ?? .nan)")
        }
    }

    @Test func codableRoundTrip() throws {
        let (estimator, _) = Self.run(until: 300) { 10 + $0 / 100 }
        let data = try JSONEncoder().encode(estimator)
        #expect(try JSONDecoder().decode(ArrivalEstimator.self, from: data) == estimator)
    }

    @Test func invalidWindowFallsBackToDefault() {
        #expect(ArrivalEstimator(window: 0).window == 30)
        #expect(ArrivalEstimator(window: .nan).window == 30)
        #expect(ArrivalEstimator(window: 60).window == 60)
        #expect(ArrivalEstimator(window: 60).minimumInterval == 30)
    }
}
