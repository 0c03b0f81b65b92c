import Foundation
import Testing

@testable import ModelRolloutCore

private let ttftBounds = ["0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5", "0.75",
                          "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0", "160.0", "640.0", "2560.0",
                          "+Inf"]

/// Bucket lines over the real vLLM TTFT boundaries; `steps` maps a bound to the cumulative count from there on.
private func buckets(_ name: String, _ labels: String, _ steps: [Double: Double]) -> String {
    ttftBounds.map { le in
        let bound = PrometheusText.parseValue(le) ?? 0
        let count = steps.filter { $0.key <= bound }.max { $0.key < $1.key }?.value ?? 0
        return "\(name)_bucket{\(labels),le=\"\(le)\"} \(count)"
    }.joined(separator: "\n")
}

private func v1Engine(_ engine: String, waiting: Double, running: Double, kv: Double, scale: Double) -> String {
    let labels = "engine=\"\(engine)\",model_name=\"qwen\""
    return """
        vllm:num_requests_running{\(labels)} \(running)
        vllm:num_requests_waiting{\(labels)} \(waiting)
        vllm:kv_cache_usage_perc{\(labels)} \(kv)
        \(buckets("vllm:time_to_first_token_seconds", labels,
                  [0.25: 10 * scale, 0.5: 60 * scale, 0.75: 90 * scale, 1: 100 * scale]))
        vllm:time_to_first_token_seconds_sum{\(labels)} \(25 * scale)
        vllm:time_to_first_token_seconds_count{\(labels)} \(100 * scale)
        vllm:time_to_first_token_seconds_created{\(labels)} 1.7e9
        """
}

private let header = """
    # HELP vllm:num_requests_running Number of requests in model execution batches.
    # TYPE vllm:num_requests_running gauge
    # HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
    # TYPE vllm:time_to_first_token_seconds histogram
    """

@Suite struct RuntimeMetricsTests {
    @Test func twoEnginesAreSummed() {
        let text = [header, v1Engine("0", waiting: 2, running: 5, kv: 0.2, scale: 0.4),
                    v1Engine("1", waiting: 1, running: 3, kv: 0.4, scale: 0.6)].joined(separator: "\n")
        let summary = RuntimeMetrics.summarise(PrometheusText.parse(text))
        #expect(summary.runtime == "vllm")
        #expect(!summary.noData)
        #expect(summary.models.count == 1)
        guard let model = summary.models.first else { return }
        #expect(model.model == "qwen")
        #expect(model.engines == 2)
        #expect(model.waiting == 3)
        #expect(model.running == 8)
        #expect(abs((model.kvCacheUsage ?? 0) - 0.3) < 1e-9)
        #expect(abs((model.ttft.count ?? 0) - 100) < 1e-9)
        #expect(abs((model.ttft.sum ?? 0) - 25) < 1e-9)
        #expect(abs((model.ttft.p50 ?? 0) - 0.45) < 1e-9)
        #expect(abs((model.ttft.p95 ?? 0) - 0.875) < 1e-9)
        #expect(model.queueTime == HistogramSummary())
    }

    /// V0 name, V1 name, or both (the new one wins): KV usage and inter-token latency.
    @Test(arguments: [
        (["vllm:gpu_cache_usage_perc"], "vllm:time_per_output_token_seconds", 0.5),
        (["vllm:kv_cache_usage_perc"], "vllm:inter_token_latency_seconds", 0.7),
        (["vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc"], "vllm:inter_token_latency_seconds", 0.7),
    ])
    func v0AndV1Names(kvNames: [String], itlName: String, kv: Double) {
        var lines = kvNames.map { name in
            "\(name){model_name=\"m\"} \(name.contains("gpu_cache") ? 0.5 : 0.7)"
        }
        lines.append("vllm:num_requests_swapped{model_name=\"m\"} 0.0")
        lines.append("vllm:time_per_output_token_seconds_bucket{model_name=\"m\",le=\"0.05\"} 10")
        lines.append("vllm:time_per_output_token_seconds_bucket{model_name=\"m\",le=\"+Inf\"} 10")
        if itlName == "vllm:inter_token_latency_seconds" {
            lines.append("vllm:inter_token_latency_seconds_bucket{model_name=\"m\",le=\"0.1\"} 4")
            lines.append("vllm:inter_token_latency_seconds_bucket{model_name=\"m\",le=\"+Inf\"} 4")
        }
        let summary = RuntimeMetrics.summarise(PrometheusText.parse(lines.joined(separator: "\n")))
        guard let model = summary.models.first else {
            Issue.record("no model")
            return
        }
        #expect(model.engines == 1)
        #expect(model.kvCacheUsage == kv)
        let newName = itlName == "vllm:inter_token_latency_seconds"
        #expect(model.interTokenLatency.count == (newName ? 4 : 10))
        #expect(model.interTokenLatency.p50 == (newName ? 0.05 : 0.025))
        #expect(model.interTokenLatency.sum == nil)
    }

    @Test func twoModelsSortedAndSeparate() {
        let text = """
            vllm:num_requests_waiting{model_name="b"} 4
            vllm:num_requests_waiting{model_name="a"} 1
            vllm:cache_config_info{block_size="16"} 1
            vllm:num_requests_running{model_name="a"} NaN
            """
        let summary = RuntimeMetrics.summarise(PrometheusText.parse(text))
        #expect(summary.models.map(\.model) == ["a", "b"])
        #expect(summary.models.map(\.waiting) == [1, 4])
        #expect(summary.models.first?.running == nil)
        #expect(summary.models.last?.kvCacheUsage == nil)
    }

    @Test(arguments: ["", header, "# some comment\n\n", "http_requests_total{status=\"200\"} 5"])
    func noSamplesMeansNoData(text: String) {
        let summary = RuntimeMetrics.summarise(PrometheusText.parse(text))
        #expect(summary.noData)
        #expect(summary.models.isEmpty)
        #expect(summary.runtime == (text == header ? "vllm" : "unknown"))
    }

    @Test func sglangBasics() {
        let text = """
            sglang:num_running_reqs{name="llama"} 7
            sglang:num_queue_reqs{name="llama"} 2
            sglang:token_usage{name="llama"} 0.25
            sglang:time_to_first_token_seconds_bucket{name="llama",le="0.5"} 5
            sglang:time_to_first_token_seconds_bucket{name="llama",le="+Inf"} 10
            sglang:time_to_first_token_seconds_sum{name="llama"} 6.5
            sglang:time_to_first_token_seconds_count{name="llama"} 10
            """
        let summary = RuntimeMetrics.summarise(PrometheusText.parse(text))
        #expect(summary.runtime == "sglang")
        #expect(summary.models == [ModelMetrics(model: "llama", engines: 1, waiting: 2, running: 7,
                                                kvCacheUsage: 0.25,
                                                ttft: HistogramSummary(count: 10, sum: 6.5, p50: 0.5, p95: 0.5))])
    }

    @Test func jsonFieldNames() throws {
        let metrics = ModelMetrics(model: "m", engines: 2, waiting: 1, running: 2, kvCacheUsage: 0.5,
                                   ttft: HistogramSummary(count: 1, sum: 2, p50: 3, p95: 4))
        let summary = RuntimeMetricsSummary(runtime: "vllm", noData: false, models: [metrics])
        let data = try JSONEncoder().encode(summary)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["runtime", "noData", "models"])
        let model = try #require((object["models"] as? [[String: Any]])?.first)
        #expect(Set(model.keys) == ["model", "engines", "waiting", "running", "kvCacheUsage", "ttft", "queueTime",
                                    "interTokenLatency"])
        #expect(Set((model["ttft"] as? [String: Any])?.keys ?? [:].keys) == ["count", "sum", "p50", "p95"])
        #expect(try JSONDecoder().decode(RuntimeMetricsSummary.self, from: data) == summary)
    }
}
