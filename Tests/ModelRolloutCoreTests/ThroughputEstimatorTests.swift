import Foundation
import Testing

@testable import ModelRolloutCore

@Suite struct ThroughputEstimatorTests {
    struct SaturationCase: Sendable, CustomTestStringConvertible {
        var running: Double
        var waiting: Double
        var limit: Double?
        var saturated: Bool
        var testDescription: String { "running \(running) waiting \(waiting) limit \(limit.map { "\($0)" } ?? "-")" }
    }

    @Test(arguments: [
        SaturationCase(running: 10, waiting: 3, limit: nil, saturated: true),
        SaturationCase(running: 64, waiting: 0, limit: nil, saturated: false),
        SaturationCase(running: 58, waiting: 0, limit: 64, saturated: true),
        SaturationCase(running: 57, waiting: 0, limit: 64, saturated: false),
        SaturationCase(running: 20, waiting: 0, limit: 64, saturated: false),
        SaturationCase(running: 20, waiting: 1, limit: 64, saturated: true),
        SaturationCase(running: 64, waiting: 0, limit: 0, saturated: false),
    ])
    func saturation(_ c: SaturationCase) {
        var estimator = ThroughputEstimator()
        for step in 0...3 {
            estimator.observe(
                time: Double(step) * 10, replica: "a", completedTotal: Double(step) * 120, running: c.running,
                waiting: c.waiting, maxConcurrency: c.limit)
        }
        #expect(estimator.throughput == (c.saturated ? 12 : nil))
    }

    @Test func medianOfSaturatedIntervalsAcrossReplicas() {
        var estimator = ThroughputEstimator()
        // Replica a completes 10/s, b 14/s, c 12/s, all with waiting requests; interleaved scrapes.
        let perSecond: [String: Double] = ["a": 10, "b": 14, "c": 12]
        for step in 0...2 {
            for name in ["a", "b", "c"] {
                estimator.observe(
                    time: Double(step) * 15, replica: name, completedTotal: Double(step) * 15 * (perSecond[name] ?? 0),
                    running: 64, waiting: 5, maxConcurrency: 64)
            }
        }
        #expect(estimator.sampleCount == 6)
        #expect(estimator.throughput == 12)
    }

    @Test func intervalsNotSaturatedAtBothEndsAreIgnored() {
        var estimator = ThroughputEstimator()
        let waiting: [Double] = [0, 4, 0, 4, 4, 0, 4, 4, 4]
        for (step, queued) in waiting.enumerated() {
            estimator.observe(
                time: Double(step) * 10, replica: "a", completedTotal: Double(step) * 100, running: 30,
                waiting: queued, maxConcurrency: nil)
        }
        // Saturated at both ends: 3→4, 6→7, 7→8.
        #expect(estimator.sampleCount == 3)
        #expect(estimator.throughput == 10)
    }

    @Test func counterResetAndBadValuesYieldNoSample() {
        var estimator = ThroughputEstimator()
        estimator.observe(time: 0, replica: "a", completedTotal: 500, running: 64, waiting: 2, maxConcurrency: 64)
        estimator.observe(time: 10, replica: "a", completedTotal: 20, running: 64, waiting: 2, maxConcurrency: 64)
        estimator.observe(time: 5, replica: "a", completedTotal: 30, running: 64, waiting: 2, maxConcurrency: 64)
        estimator.observe(time: 20, replica: "a", completedTotal: .nan, running: 64, waiting: 2, maxConcurrency: 64)
        estimator.observe(time: 20, replica: "a", completedTotal: 40, running: .nan, waiting: 2, maxConcurrency: 64)
        #expect(estimator.sampleCount == 0)
        estimator.observe(time: 20, replica: "a", completedTotal: 140, running: 64, waiting: 2, maxConcurrency: 64)
        #expect(estimator.sampleCount == 1)
    }

    @Test func followsANewRevisionAsOldSamplesAge() {
        var estimator = ThroughputEstimator()
        var completed = 0.0
        for step in 1...40 {
            completed += step <= 20 ? 100 : 200
            estimator.observe(
                time: Double(step) * 10, replica: "a", completedTotal: completed, running: 64, waiting: 1,
                maxConcurrency: 64)
        }
        #expect(estimator.sampleCount == ThroughputEstimator.keptSamples)
        #expect(estimator.throughput == 20)
    }

    @Test func staleReplicasAreForgotten() {
        var estimator = ThroughputEstimator()
        estimator.observe(time: 0, replica: "old", completedTotal: 0, running: 64, waiting: 3, maxConcurrency: 64)
        estimator.observe(time: 700, replica: "other", completedTotal: 0, running: 0, waiting: 0, maxConcurrency: 64)
        // Without forgetting, this would be a 700 s saturated interval of "old".
        estimator.observe(time: 710, replica: "old", completedTotal: 9000, running: 64, waiting: 3, maxConcurrency: 64)
        #expect(estimator.sampleCount == 0)
    }

    @Test func codableRoundTrip() throws {
        var estimator = ThroughputEstimator()
        for step in 0...4 {
            estimator.observe(
                time: Double(step) * 10, replica: "a", completedTotal: Double(step) * 90, running: 64, waiting: 2,
                maxConcurrency: 64)
        }
        let data = try JSONEncoder().encode(estimator)
        #expect(try JSONDecoder().decode(ThroughputEstimator.self, from: data) == estimator)
        #expect(estimator.throughput == 9)
    }
}
