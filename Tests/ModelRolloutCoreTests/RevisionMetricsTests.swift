import Foundation
import Testing

@testable import ModelRolloutCore

private let t0 = Date(timeIntervalSince1970: 1_736_510_400)

/// A TTFT histogram over bounds 0.5, 1, 2.5, +Inf with the given cumulative counts.
private func hist(_ counts: [Double], sum: Double? = nil) -> PrometheusHistogram {
    let bounds = [0.5, 1, 2.5, Double.infinity]
    return PrometheusHistogram(
        name: "vllm:time_to_first_token_seconds", labels: [:],
        buckets: zip(bounds, counts).map { HistogramBucket(upperBound: $0, cumulativeCount: $1) },
        sum: sum, count: counts.last)
}

private func sample(_ pod: String, at seconds: Double, ttft: [Double]?, success: Double?, aborted: Double?,
                    running: Double? = nil, waiting: Double? = nil) -> PodMetricsSample {
    PodMetricsSample(pod: pod, time: t0.addingTimeInterval(seconds), ttft: ttft.map { hist($0) },
                     successTotal: success, abortedTotal: aborted, running: running, waiting: waiting)
}

@Suite struct RevisionMetricsTests {
    @Test func fromScrapeSumsEnginesAndReasonsPerModel() {
        var lines: [String] = []
        for engine in ["0", "1"] {
            let labels = "engine=\"\(engine)\",model_name=\"llama\""
            let scale = engine == "0" ? 1.0 : 2.0
            lines += [
                "vllm:num_requests_running{\(labels)} \(3 * scale)",
                "vllm:num_requests_waiting{\(labels)} \(1 * scale)",
                "vllm:request_success_total{\(labels),finished_reason=\"stop\"} \(90 * scale)",
                "vllm:request_success_total{\(labels),finished_reason=\"length\"} \(8 * scale)",
                "vllm:request_success_total{\(labels),finished_reason=\"abort\"} \(2 * scale)",
                "vllm:request_success_created{\(labels),finished_reason=\"abort\"} 1.7e9",
                "vllm:time_to_first_token_seconds_bucket{\(labels),le=\"0.5\"} \(60 * scale)",
                "vllm:time_to_first_token_seconds_bucket{\(labels),le=\"1.0\"} \(90 * scale)",
                "vllm:time_to_first_token_seconds_bucket{\(labels),le=\"+Inf\"} \(100 * scale)",
                "vllm:time_to_first_token_seconds_count{\(labels)} \(100 * scale)",
                "vllm:time_to_first_token_seconds_sum{\(labels)} \(50 * scale)",
                "vllm:request_queue_time_seconds_bucket{\(labels),le=\"0.3\"} \(100 * scale)",
                "vllm:request_queue_time_seconds_bucket{\(labels),le=\"+Inf\"} \(100 * scale)",
            ]
        }
        lines.append("vllm:num_requests_running{model_name=\"other\"} 7")
        let scrape = PrometheusText.parse(lines.joined(separator: "\n"))
        let result = PodMetricsSample.from(scrape: scrape, model: "llama", pod: "p1", time: t0)
        #expect(result?.pod == "p1")
        #expect(result?.time == t0)
        #expect(result?.running == 9)
        #expect(result?.waiting == 3)
        #expect(result?.successTotal == 300)
        #expect(result?.abortedTotal == 6)
        #expect(result?.ttft?.observations == 300)
        #expect(result?.ttft?.sum == 150)
        #expect(result?.ttft?.buckets.map(\.cumulativeCount) == [180, 270, 300])
        #expect(result?.queueTime?.observations == 300)
        let other = PodMetricsSample.from(scrape: scrape, model: "other", pod: "p1", time: t0)
        #expect(other?.running == 7)
        #expect(other?.successTotal == nil)
        #expect(other?.abortedTotal == nil)
        #expect(other?.ttft == nil)
    }

    @Test func fromScrapeWithoutDataIsNil() {
        let registeredOnly = PrometheusText.parse("""
            # HELP vllm:num_requests_running Number of requests in model execution batches.
            # TYPE vllm:num_requests_running gauge
            # TYPE vllm:request_success counter
            """)
        #expect(PodMetricsSample.from(scrape: registeredOnly, model: "llama", pod: "p", time: t0) == nil)
        let otherModel = PrometheusText.parse("vllm:num_requests_running{model_name=\"x\"} 1")
        #expect(PodMetricsSample.from(scrape: otherModel, model: "llama", pod: "p", time: t0) == nil)
    }

    @Test func fromScrapeReadsTheSimulatorsFinishReasonLabel() {
        let scrape = PrometheusText.parse("""
            vllm:request_success_total{model_name="m",finish_reason="stop"} 10
            vllm:request_success_total{model_name="m",finish_reason="abort"} 4
            """)
        let result = PodMetricsSample.from(scrape: scrape, model: "m", pod: "p", time: t0)
        #expect(result?.successTotal == 14)
        #expect(result?.abortedTotal == 4)
    }

    struct WindowCase: Sendable, CustomTestStringConvertible {
        var name: String
        var baseline: [PodMetricsSample]
        var current: [PodMetricsSample]
        var requests: Double
        var errors: Double
        var ttftCounts: [Double]?
        var seconds: Double
        var pods: Int
        var testDescription: String { name }
    }

    @Test(arguments: [
        WindowCase(
            name: "plain delta",
            baseline: [sample("a", at: 0, ttft: [10, 20, 25, 30], success: 30, aborted: 1)],
            current: [sample("a", at: 60, ttft: [40, 70, 80, 90], success: 90, aborted: 4)],
            requests: 60, errors: 3, ttftCounts: [30, 50, 55, 60], seconds: 60, pods: 1),
        WindowCase(
            name: "two pods summed",
            baseline: [sample("a", at: 0, ttft: [10, 20, 25, 30], success: 30, aborted: 0),
                       sample("b", at: 1, ttft: [0, 0, 0, 0], success: 0, aborted: 0)],
            current: [sample("a", at: 30, ttft: [20, 30, 35, 40], success: 40, aborted: 0),
                      sample("b", at: 31, ttft: [5, 10, 10, 10], success: 10, aborted: 1)],
            requests: 20, errors: 1, ttftCounts: [15, 20, 20, 20], seconds: 31, pods: 2),
        WindowCase(
            name: "pod absent from the baseline counts from zero",
            baseline: [sample("a", at: 0, ttft: [10, 20, 25, 30], success: 30, aborted: 0)],
            current: [sample("a", at: 30, ttft: [10, 20, 25, 30], success: 30, aborted: 0),
                      sample("new", at: 30, ttft: [4, 6, 8, 8], success: 8, aborted: 2)],
            requests: 8, errors: 2, ttftCounts: [4, 6, 8, 8], seconds: 30, pods: 2),
        WindowCase(
            name: "reset counts the current value",
            baseline: [sample("a", at: 0, ttft: [100, 200, 250, 300], success: 300, aborted: 9)],
            current: [sample("a", at: 30, ttft: [5, 7, 9, 9], success: 9, aborted: 1)],
            requests: 9, errors: 1, ttftCounts: [5, 7, 9, 9], seconds: 30, pods: 1),
        WindowCase(
            name: "histogram reset in one bucket only",
            baseline: [sample("a", at: 0, ttft: [10, 20, 25, 30], success: 30, aborted: 0)],
            current: [sample("a", at: 30, ttft: [8, 30, 35, 40], success: 40, aborted: 0)],
            requests: 10, errors: 0, ttftCounts: [8, 30, 35, 40], seconds: 30, pods: 1),
        WindowCase(
            name: "a pod that is gone is ignored",
            baseline: [sample("a", at: 0, ttft: [1, 1, 1, 1], success: 1, aborted: 0),
                       sample("gone", at: 0, ttft: [5, 5, 5, 5], success: 5, aborted: 0)],
            current: [sample("a", at: 10, ttft: [2, 2, 2, 2], success: 2, aborted: 0)],
            requests: 1, errors: 0, ttftCounts: [1, 1, 1, 1], seconds: 10, pods: 1),
        WindowCase(
            name: "no histograms, no counters",
            baseline: [],
            current: [sample("a", at: 10, ttft: nil, success: nil, aborted: nil, running: 2)],
            requests: 0, errors: 0, ttftCounts: nil, seconds: 0, pods: 1),
        WindowCase(
            name: "no pods", baseline: [], current: [], requests: 0, errors: 0, ttftCounts: nil, seconds: 0,
            pods: 0),
    ])
    func window(_ c: WindowCase) {
        let window = RevisionMetrics.window(baseline: c.baseline, current: c.current)
        #expect(window.requests == c.requests)
        #expect(window.errors == c.errors)
        #expect(window.ttft?.buckets.map(\.cumulativeCount) == c.ttftCounts)
        #expect(window.ttft?.count == c.ttftCounts?.last)
        #expect(window.seconds == c.seconds)
        #expect(window.pods == c.pods)
        #expect(window.requestRate == (c.seconds > 0 ? c.requests / c.seconds : nil))
    }

    @Test func demandIsRateAndCurrentInFlight() {
        let window = RevisionMetrics.window(
            baseline: [sample("a", at: 0, ttft: nil, success: 100, aborted: 0, running: 50, waiting: 50)],
            current: [sample("a", at: 20, ttft: nil, success: 160, aborted: 2, running: 6, waiting: 1),
                      sample("b", at: 20, ttft: nil, success: 20, aborted: 0, running: 2)])
        #expect(window.requests == 80)
        #expect(window.requestRate == 4)
        #expect(window.running == 8)
        #expect(window.waiting == 1)
        #expect(window.inFlight == 9)
        #expect(window.errorRate == 2.0 / 80)
        #expect(RevisionWindow().inFlight == nil)
        #expect(RevisionWindow().errorRate == nil)
    }

    @Test func histogramSumDeltaAndQuantile() {
        let before = hist([10, 20, 25, 30], sum: 20)
        let after = hist([10, 20, 45, 50], sum: 60)
        let delta = RevisionMetrics.histogramDelta(before, after)
        #expect(delta.sum == 40)
        #expect(delta.count == 20)
        // All 20 new observations fall in (1, 2.5]: p50 interpolates to the middle of that bucket.
        #expect(delta.quantile(0.5) == 1.75)
        let differentLayout = PrometheusHistogram(
            name: "x", labels: [:], buckets: [HistogramBucket(upperBound: 1, cumulativeCount: 1)])
        #expect(RevisionMetrics.histogramDelta(differentLayout, after) == after)
    }

    @Test func lastSampleOfAPodWins() {
        let window = RevisionMetrics.window(
            baseline: [sample("a", at: 0, ttft: nil, success: 0, aborted: 0)],
            current: [sample("a", at: 5, ttft: nil, success: 5, aborted: 0),
                      sample("a", at: 10, ttft: nil, success: 12, aborted: 0)])
        #expect(window.pods == 1)
        #expect(window.requests == 12)
        #expect(window.seconds == 10)
    }
}
