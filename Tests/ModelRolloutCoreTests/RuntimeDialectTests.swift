import Foundation
import Testing

@testable import ModelRolloutCore

private let t0 = Date(timeIntervalSince1970: 1_736_510_400)

/// An SGLang scrape shaped like `python/sglang/srt/metrics/collector.py` renders it with prometheus_client:
/// gauges and counters labelled `model_name`, TTFT and queue-time histograms, `_created` gauges.
private let sglangScrape = """
    # HELP sglang:num_running_reqs The number of running requests.
    # TYPE sglang:num_running_reqs gauge
    sglang:num_running_reqs{model_name="qwen"} 12.0
    # HELP sglang:num_queue_reqs The number of requests in the waiting queue.
    # TYPE sglang:num_queue_reqs gauge
    sglang:num_queue_reqs{model_name="qwen"} 3.0
    sglang:token_usage{model_name="qwen"} 0.41
    # TYPE sglang:num_requests_total counter
    sglang:num_requests_total{model_name="qwen"} 200.0
    sglang:num_requests_created{model_name="qwen"} 1.7e9
    # TYPE sglang:num_aborted_requests_total counter
    sglang:num_aborted_requests_total{model_name="qwen"} 4.0
    # TYPE sglang:time_to_first_token_seconds histogram
    sglang:time_to_first_token_seconds_bucket{le="0.1",model_name="qwen"} 20.0
    sglang:time_to_first_token_seconds_bucket{le="0.2",model_name="qwen"} 150.0
    sglang:time_to_first_token_seconds_bucket{le="0.4",model_name="qwen"} 196.0
    sglang:time_to_first_token_seconds_bucket{le="+Inf",model_name="qwen"} 200.0
    sglang:time_to_first_token_seconds_count{model_name="qwen"} 200.0
    sglang:time_to_first_token_seconds_sum{model_name="qwen"} 35.0
    # TYPE sglang:queue_time_seconds histogram
    sglang:queue_time_seconds_bucket{le="0.0",model_name="qwen"} 100.0
    sglang:queue_time_seconds_bucket{le="0.1",model_name="qwen"} 190.0
    sglang:queue_time_seconds_bucket{le="+Inf",model_name="qwen"} 200.0
    sglang:queue_time_seconds_count{model_name="qwen"} 200.0
    sglang:queue_time_seconds_sum{model_name="qwen"} 9.0
    """

/// A TGI router scrape as the `metrics` crate's Prometheus exporter renders it: no model label, counters without
/// `_total`, failures by `err`.
private let tgiScrape = """
    # TYPE tgi_queue_size gauge
    tgi_queue_size 5
    # TYPE tgi_batch_current_size gauge
    tgi_batch_current_size 16
    # TYPE tgi_request_count counter
    tgi_request_count 120
    # TYPE tgi_request_success counter
    tgi_request_success 110
    # TYPE tgi_request_failure counter
    tgi_request_failure{err="validation"} 7
    tgi_request_failure{err="generation"} 2
    tgi_request_failure{err="overloaded"} 1
    # TYPE tgi_request_queue_duration histogram
    tgi_request_queue_duration_bucket{le="0.01"} 80
    tgi_request_queue_duration_bucket{le="0.1"} 110
    tgi_request_queue_duration_bucket{le="1"} 120
    tgi_request_queue_duration_bucket{le="+Inf"} 120
    tgi_request_queue_duration_sum 6.5
    tgi_request_queue_duration_count 120
    """

@Suite struct RuntimeDialectTests {
    @Test func detectsEachRuntimeByPrefix() {
        #expect(RuntimeDialect.detect(PrometheusText.parse(sglangScrape))?.runtime == "sglang")
        #expect(RuntimeDialect.detect(PrometheusText.parse(tgiScrape))?.runtime == "tgi")
        #expect(RuntimeDialect.detect(PrometheusText.parse("vllm:num_requests_running{model_name=\"m\"} 1"))?
            .runtime == "vllm")
        #expect(RuntimeDialect.detect(PrometheusText.parse("process_cpu_seconds_total 3")) == nil)
    }

    @Test func sglangSampleCarriesEverySignal() throws {
        let sample = try #require(
            PodMetricsSample.from(scrape: PrometheusText.parse(sglangScrape), model: "qwen", pod: "p", time: t0))
        #expect(sample.running == 12)
        #expect(sample.waiting == 3)
        #expect(sample.successTotal == 200)
        #expect(sample.abortedTotal == 4)
        #expect(sample.ttft?.observations == 200)
        #expect(sample.ttft?.quantile(0.95) ?? 0 > 0.2)
        #expect(sample.queueTime?.observations == 200)
        #expect(PodMetricsSample.from(scrape: PrometheusText.parse(sglangScrape), model: "other", pod: "p", time: t0)
            == nil)
    }

    @Test func oldSGLangNameLabelAndMissingAbortCounter() throws {
        let scrape = PrometheusText.parse("""
            sglang:num_running_reqs{name="gemma"} 2
            sglang:num_queue_reqs{name="gemma"} 0
            """)
        let sample = try #require(PodMetricsSample.from(scrape: scrape, model: "gemma", pod: "p", time: t0))
        #expect(sample.running == 2)
        #expect(sample.successTotal == nil)
        #expect(sample.abortedTotal == nil)
        #expect(sample.ttft == nil)
    }

    @Test func tgiSampleHasNoTTFTAndCountsFailuresExceptValidation() throws {
        let sample = try #require(
            PodMetricsSample.from(scrape: PrometheusText.parse(tgiScrape), model: "any/model", pod: "p", time: t0))
        #expect(sample.running == 16)
        #expect(sample.waiting == 5)
        #expect(sample.successTotal == 120)
        #expect(sample.abortedTotal == 3)
        #expect(sample.ttft == nil)
        #expect(sample.queueTime?.observations == 120)
    }

    @Test func analysisOnTGIDecidesOnQueueWaitAndErrorsAndSaysTTFTIsUnavailable() throws {
        let parse = { (text: String) in
            try #require(PodMetricsSample.from(scrape: PrometheusText.parse(text), model: "m", pod: "p", time: t0))
        }
        let base = try parse(tgiScrape)
        var later = try parse(tgiScrape.replacingOccurrences(of: "tgi_request_count 120", with: "tgi_request_count 300")
            .replacingOccurrences(of: "le=\"+Inf\"} 120", with: "le=\"+Inf\"} 300")
            .replacingOccurrences(of: "le=\"1\"} 120", with: "le=\"1\"} 300")
            .replacingOccurrences(of: "le=\"0.1\"} 110", with: "le=\"0.1\"} 290")
            .replacingOccurrences(of: "le=\"0.01\"} 80", with: "le=\"0.01\"} 250")
            .replacingOccurrences(of: "_count 120", with: "_count 300"))
        later.time = t0.addingTimeInterval(30)
        let window = RevisionMetrics.window(baseline: [base], current: [later])
        #expect(window.requests == 180)
        #expect(window.errors == 0)
        let result = CandidateAnalysis.analyse(candidate: window, stable: window, spec: AnalysisSpec(minSamples: 50))
        #expect(result.verdict == .pass)
        #expect(result.reasons.contains("TTFT p95 check skipped: candidate TTFT unavailable"))
        #expect(result.measurements.candidateQueueWaitP95 != nil)
    }

    @Test func diagnoseSignalsReadSGLang() {
        let signals = RuntimeSignals.from(scrapes: [PrometheusText.parse(sglangScrape)], model: "qwen")
        #expect(signals.scrapedPods == 1)
        #expect(signals.waiting == 3)
        #expect(signals.running == 12)
        #expect(signals.kvCacheUsageMax == 0.41)
        #expect(signals.ttft.count == 200)
    }

    @Test func inspectSummaryNamesTheRuntime() {
        let summary = RuntimeMetrics.summarise(PrometheusText.parse(tgiScrape))
        #expect(summary.runtime == "tgi")
        #expect(summary.models.map(\.model) == [RuntimeDialect.defaultModelName])
        #expect(summary.models.first?.queueTime.count == 120)
    }
}
