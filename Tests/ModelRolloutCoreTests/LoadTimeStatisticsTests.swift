import Foundation
import Testing

@testable import ModelRolloutCore

@Suite struct LoadTimeStatisticsTests {
    struct PercentileCase: Sendable, CustomTestStringConvertible {
        var values: [Double]
        var p: Double
        var expected: Double?
        var testDescription: String { "p\(p) of \(values) = \(expected.map { "\($0)" } ?? "nil")" }
    }

    @Test(arguments: [
        PercentileCase(values: [], p: 50, expected: nil),
        PercentileCase(values: [7], p: 0, expected: 7),
        PercentileCase(values: [7], p: 100, expected: 7),
        PercentileCase(values: [15, 20, 35, 40, 50], p: 30, expected: 20),
        PercentileCase(values: [15, 20, 35, 40, 50], p: 40, expected: 20),
        PercentileCase(values: [15, 20, 35, 40, 50], p: 50, expected: 35),
        PercentileCase(values: [15, 20, 35, 40, 50], p: 100, expected: 50),
        PercentileCase(values: [50, 15, 40, 20, 35], p: 5, expected: 15),
        PercentileCase(values: [3, 6, 7, 8, 8, 10, 13, 15, 16, 20], p: 25, expected: 7),
        PercentileCase(values: [3, 6, 7, 8, 8, 10, 13, 15, 16, 20], p: 75, expected: 15),
        PercentileCase(values: [3, 6, 7, 8, 8, 10, 13, 15, 16, 20], p: 90, expected: 16),
        PercentileCase(values: [1, 2, 3], p: 0, expected: 1),
        PercentileCase(values: [1, 2, 3], p: -1, expected: nil),
        PercentileCase(values: [1, 2, 3], p: 100.5, expected: nil),
        PercentileCase(values: [1, 2, 3], p: .nan, expected: nil),
        PercentileCase(values: [.nan, 4, .infinity], p: 50, expected: 4),
    ])
    func nearestRank(_ c: PercentileCase) {
        #expect(LoadTimeStatistics.percentile(c.values, c.p) == c.expected)
    }

    @Test func recordUpdatesSamplesPercentilesAndLast() {
        var status = LoadTimeStatus()
        for (index, seconds) in [100.0, 90, 140, 95, 101].enumerated() {
            status = LoadTimeStatistics.record(seconds, pod: "pod-\(index)", into: status)
        }
        #expect(status.samples == 5)
        #expect(status.recentSeconds == [100, 90, 140, 95, 101])
        #expect(status.measuredPods == ["pod-0", "pod-1", "pod-2", "pod-3", "pod-4"])
        #expect(status.last == KubeDuration(seconds: 101))
        #expect(status.p50 == KubeDuration(seconds: 100))
        #expect(status.p90 == KubeDuration(seconds: 140))
    }

    struct IgnoredCase: Sendable, CustomTestStringConvertible {
        var seconds: Double
        var pod: String
        var testDescription: String { "\(seconds) for \(pod)" }
    }

    @Test(arguments: [
        IgnoredCase(seconds: 120, pod: "already"),
        IgnoredCase(seconds: -1, pod: "new"),
        IgnoredCase(seconds: .nan, pod: "new"),
        IgnoredCase(seconds: .infinity, pod: "new"),
    ])
    func ignoredMeasurementsLeaveStatusUnchanged(_ c: IgnoredCase) {
        let status = LoadTimeStatistics.record(80, pod: "already", into: LoadTimeStatus())
        #expect(LoadTimeStatistics.record(c.seconds, pod: c.pod, into: status) == status)
    }

    @Test func recentValuesAndPodsAreBounded() {
        var status = LoadTimeStatus()
        let total = LoadTimeStatus.keep + 8
        for index in 0..<total {
            status = LoadTimeStatistics.record(Double(index), pod: "p\(index)", into: status)
        }
        #expect(status.samples == total)
        #expect(status.recentSeconds.count == LoadTimeStatus.keep)
        #expect(status.measuredPods.count == LoadTimeStatus.keep)
        #expect(status.recentSeconds.first == 8)
        #expect(status.recentSeconds.last == Double(total - 1))
        #expect(status.measuredPods.last == "p\(total - 1)")
        #expect(status.last == KubeDuration(seconds: Double(total - 1)))
    }

    struct PlanningCase: Sendable, CustomTestStringConvertible {
        var recent: [Double]?
        var percentile: Int
        var expected: Double
        var testDescription: String { "p\(percentile) of \(recent.map { "\($0)" } ?? "no status")" }
    }

    @Test(arguments: [
        PlanningCase(recent: nil, percentile: 90, expected: 300),
        PlanningCase(recent: [], percentile: 90, expected: 300),
        PlanningCase(recent: [100, 140], percentile: 90, expected: 300),
        PlanningCase(recent: [100, 140, 95], percentile: 90, expected: 140),
        PlanningCase(recent: [100, 140, 95], percentile: 50, expected: 100),
        PlanningCase(recent: [100, 140, 95, 120], percentile: 0, expected: 95),
        PlanningCase(recent: [100, 140, 95, 120], percentile: 150, expected: 140),
        PlanningCase(recent: [100, 140, 95, 120], percentile: -5, expected: 95),
    ])
    func planningLoadTime(_ c: PlanningCase) {
        let status = c.recent.map { LoadTimeStatus(samples: $0.count, recentSeconds: $0) }
        let spec = ColdStartSpec(percentile: c.percentile, fallback: KubeDuration(seconds: 300))
        #expect(LoadTimeStatistics.planningLoadTime(status, spec: spec) == c.expected)
    }
}
