import AsyncHTTPClient
import Foundation
import KubeCore
import NIOCore
import Testing

@testable import ClusterSim

/// Reads one sample (`name{...labels containing `labelPart`...} value`) from Prometheus text.
func promValue(_ text: String, _ name: String, labelPart: String = "") -> Double? {
    for line in text.split(separator: "\n")
    where line.hasPrefix(name + "{") && (labelPart.isEmpty || line.contains(labelPart)) {
        if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
    }
    return nil
}

/// Sends a POST with a JSON body and collects the reply.
func postJSON(
    _ client: HTTPClient, _ url: String, _ body: JSONValue
) async throws -> (status: Int, headers: [String: String], body: String) {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    request.body = .bytes(ByteBuffer(bytes: body.jsonBytes))
    let response = try await client.execute(request, timeout: .seconds(10))
    let bytes = try await response.body.collect(upTo: 1 << 22)
    var headers: [String: String] = [:]
    for (name, value) in response.headers { headers[name.lowercased()] = value }
    return (Int(response.status.code), headers, String(buffer: bytes))
}

@Suite("Serving latency model")
struct ServingModelTests {
    @Test(arguments: [
        // running, maxConcurrency, slowdown, expected ITL seconds
        (1, 256, 1.0, 0.012), (256, 256, 1.0, 0.030), (0, 256, 1.0, 0.012), (999, 256, 1.0, 0.030),
        (3, 5, 1.0, 0.021), (5, 5, 1.0, 0.030), (1, 1, 1.0, 0.012), (4, 1, 1.0, 0.012), (1, 8, 4.0, 0.048),
        (8, 8, 4.0, 0.120),
    ])
    func interTokenLatencyGrowsWithTheBatch(running: Int, maxConcurrency: Int, slowdown: Double, expected: Double) {
        let model = ServingLatencyModel(maxConcurrency: maxConcurrency, slowdown: slowdown)
        #expect(abs(model.interTokenSeconds(running: running) - expected) < 1e-9)
    }

    @Test(arguments: [(0, 1.0, 0.030), (100, 1.0, 0.050), (1000, 1.0, 0.230), (100, 4.0, 0.200), (-5, 1.0, 0.030)])
    func prefill(promptTokens: Int, slowdown: Double, expected: Double) {
        let model = ServingLatencyModel(maxConcurrency: 16, slowdown: slowdown)
        #expect(abs(model.prefillSeconds(promptTokens: promptTokens) - expected) < 1e-9)
    }

    @Test func invalidSlowdownFallsBack() {
        #expect(ServingLatencyModel(maxConcurrency: 0, slowdown: .nan).slowdown == 1)
        #expect(ServingLatencyModel(maxConcurrency: 0, slowdown: -3).slowdown == 0)
        #expect(ServingLatencyModel(maxConcurrency: 0).maxConcurrency == 1)
    }

    /// A simulated vLLM whose startup is compressed 1000× but whose requests run in real serving time.
    func startVLLM(
        maxConcurrency: Int = 256, slowdown: Double = 1, servingTimeScale: Double = 1
    ) async throws -> (SimulatedVLLM, String) {
        let host = uniqueLoopbackHost()
        let vllm = SimulatedVLLM(
            configuration: .init(
                host: host, port: 8000, options: VLLMLaunchOptions(model: "org/m", servedModelName: "m"),
                loadSeconds: 5, engineInitSeconds: 1, maxConcurrency: maxConcurrency, slowdown: slowdown,
                servingTimeScale: servingTimeScale),
            clock: SimClock(timeScale: 1000), log: { _ in })
        await vllm.start()
        #expect(await vllm.waitUntilServing())
        return (vllm, "http://\(host):8000")
    }

    @Test(.timeLimit(.minutes(1)))
    func servingTimeScaleIsIndependentOfTheProcessClock() async throws {
        let (vllm, url) = try await startVLLM()
        let client = HTTPClient.shared
        let began = ContinuousClock.now
        let reply = try await postJSON(
            client, url + "/v1/completions", ["model": "m", "prompt": "hello", "max_tokens": 10])
        let wall = ContinuousClock.now - began
        #expect(reply.status == 200)
        // 30 ms + 9 × 12 ms of serving time, although the process clock runs 1000× faster.
        #expect(wall >= .milliseconds(130))
        let metrics = await vllm.metricsText()
        #expect(promValue(metrics, "vllm:time_to_first_token_seconds_count") == 1)
        #expect(promValue(metrics, "vllm:inter_token_latency_seconds_count") == 9)
        let itlSum = try #require(promValue(metrics, "vllm:inter_token_latency_seconds_sum"))
        #expect(abs(itlSum - 9 * 0.012) < 1e-6)
        #expect(promValue(metrics, "vllm:request_success_total", labelPart: "finished_reason=\"length\"") == 1)
        _ = client
        await vllm.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func interTokenLatencyGrowsUnderConcurrentLoad() async throws {
        let (vllm, url) = try await startVLLM(maxConcurrency: 4, servingTimeScale: 2)
        let client = HTTPClient.shared
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await postJSON(
                        client, url + "/v1/completions",
                        ["model": "m", "prompt": "hi", "max_tokens": 20, "stream": true]
                    ).status
                }
            }
            for try await status in group { #expect(status == 200) }
        }
        let metrics = await vllm.metricsText()
        #expect(promValue(metrics, "vllm:time_to_first_token_seconds_count") == 8)
        #expect(promValue(metrics, "vllm:e2e_request_latency_seconds_count") == 8)
        let count = try #require(promValue(metrics, "vllm:inter_token_latency_seconds_count"))
        let sum = try #require(promValue(metrics, "vllm:inter_token_latency_seconds_sum"))
        #expect(count == 8 * 19)
        // With up to 4 requests sharing the batch the mean step is well above the 12 ms of a lone request.
        #expect(sum / count > 0.016)
        // 8 requests over 4 slots: half of them queued, so the queue-time histogram saw real waits.
        let queueSum = try #require(promValue(metrics, "vllm:request_queue_time_seconds_sum"))
        #expect(queueSum > 0.1)
        #expect(promValue(metrics, "vllm:num_requests_running") == 0)
        #expect(promValue(metrics, "vllm:num_requests_waiting") == 0)
        _ = client
        await vllm.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func slowdownMultipliesLatency() async throws {
        let (fast, fastURL) = try await startVLLM(servingTimeScale: 4)
        let (slow, slowURL) = try await startVLLM(slowdown: 4, servingTimeScale: 4)
        let client = HTTPClient.shared
        let body: JSONValue = ["model": "m", "prompt": .string(String(repeating: "a", count: 400)), "max_tokens": 5]
        #expect(try await postJSON(client, fastURL + "/v1/completions", body).status == 200)
        #expect(try await postJSON(client, slowURL + "/v1/completions", body).status == 200)
        let fastText = await fast.metricsText()
        let slowText = await slow.metricsText()
        let fastITL = try #require(promValue(fastText, "vllm:inter_token_latency_seconds_sum"))
        let slowITL = try #require(promValue(slowText, "vllm:inter_token_latency_seconds_sum"))
        #expect(abs(slowITL - 4 * fastITL) < 1e-6)
        let fastTTFT = try #require(promValue(fastText, "vllm:time_to_first_token_seconds_sum"))
        let slowTTFT = try #require(promValue(slowText, "vllm:time_to_first_token_seconds_sum"))
        // Prefill of 100 tokens: 50 ms vs 200 ms (plus a negligible queue wait).
        #expect(fastTTFT >= 0.05 && fastTTFT < 0.06)
        #expect(slowTTFT >= 0.2 && slowTTFT < 0.21)
        _ = client
        await fast.stop()
        await slow.stop()
    }
}
