import Foundation
import KubeCore
import Testing

@testable import ClusterSim

@Suite("Simulated vLLM")
struct VLLMTests {
    // MARK: Command line

    @Test(arguments: [
        (["vllm", "serve", "Qwen/Qwen3-8B"], [String](), "Qwen/Qwen3-8B", "Qwen/Qwen3-8B", 1),
        (
            ["vllm"], ["serve", "meta/llama", "--served-model-name", "llama", "--tensor-parallel-size", "2"],
            "meta/llama", "llama", 2
        ),
        (["python3", "-m", "vllm.entrypoints.openai.api_server"], ["--model=org/m", "-tp", "4"], "org/m", "org/m", 4),
        (["/bin/sh", "-c"], ["vllm serve org/x --served-model-name=x --port 9000"], "org/x", "x", 1),
        ([String](), [String](), VLLMLaunchOptions.defaultModel, VLLMLaunchOptions.defaultModel, 1),
    ])
    func launchOptions(command: [String], args: [String], model: String, served: String, tp: Int) {
        let options = VLLMLaunchOptions.parse(command: command, args: args)
        #expect(options.model == model)
        #expect(options.servedModelID == served)
        #expect(options.tensorParallelSize == tp)
    }

    // MARK: Log formats

    static let date = Date(timeIntervalSince1970: 1_779_660_000)  // 2026-05-24T22:00:00Z

    func render(_ version: VLLMVersion, tp: Int = 1, failure: VLLMFailure? = nil) -> (
        lines: [String], steps: [VLLMStartupStep]
    ) {
        let options = VLLMLaunchOptions(model: "org/model", servedModelName: "served", tensorParallelSize: tp)
        let script = VLLMStartupScript(
            options: options, version: version, loadSeconds: 170.7, downloadSeconds: 14.5, engineInitSeconds: 3.96,
            weightsGiB: 14.2434, port: 8000, failure: failure)
        let formatter = VLLMLogFormatter(
            version: version, apiServerPID: 1, engineCorePID: 201, workerPIDBase: 301, tensorParallelSize: tp)
        let steps = script.steps()
        var lines: [String] = []
        for case .log(let records) in steps { lines += records.map { formatter.format($0, at: Self.date) } }
        return (lines, steps)
    }

    func matches(_ lines: [String], _ pattern: String) throws -> Int {
        let regex = try Regex(pattern)
        return lines.filter { $0.wholeMatch(of: regex) != nil }.count
    }

    @Test func modernV1Format() throws {
        let (lines, steps) = render(.modern)
        let p = #"\(APIServer pid=1\) INFO 05-24 22:00:00 \[[a-z_]+\.py:\d+\] "#
        let e = #"\(EngineCore_DP0 pid=201\) INFO 05-24 22:00:00 \[[a-z_]+\.py:\d+\] "#
        #expect(try matches(lines, p + #"vLLM API server version 0\.11\.0"#) == 1)
        #expect(try matches(lines, e + #"Starting to load model org/model\.\.\."#) == 1)
        #expect(try matches(lines, e + #"Time spent downloading weights for org/model: 14\.500000 seconds"#) == 1)
        #expect(try matches(lines, e + #"Loading weights took \d+\.\d\d seconds"#) == 1)
        #expect(try matches(lines, e + #"Model loading took 14\.2434 GiB and 170\.700000 seconds"#) == 1)
        #expect(
            try matches(lines, e + #"init engine \(profile, create kv cache, warmup model\) took 3\.96 seconds"#) == 1)
        #expect(try matches(lines, p + #"Starting vLLM API server 0 on http://0\.0\.0\.0:8000"#) == 1)
        #expect(try matches(lines, p + "Available routes are:") == 1)
        #expect(try matches(lines, p + #"Route: /v1/models, Methods: GET"#) == 1)
        #expect(try matches(lines, #"\(APIServer pid=1\) INFO:     Started server process \[1\]"#) == 1)
        #expect(try matches(lines, #"\(APIServer pid=1\) INFO:     Waiting for application startup\."#) == 1)
        #expect(try matches(lines, #"\(APIServer pid=1\) INFO:     Application startup complete\."#) == 1)
        // Listening starts only after the startup-complete line.
        let listen = try #require(steps.firstIndex(of: .listen))
        let complete = try #require(
            steps.firstIndex {
                if case .log(let r) = $0 { return r.contains { $0.message == "Application startup complete." } }
                return false
            })
        #expect(complete < listen)
    }

    @Test func tensorParallelRanksLogTheirOwnLoadLines() throws {
        let (lines, _) = render(.modern, tp: 2)
        #expect(
            try matches(
                lines, #"\(Worker_TP0 pid=301\) INFO .* Model loading took 7\.1217 GiB and 170\.700000 seconds"#) == 1)
        #expect(
            try matches(lines, #"\(Worker_TP1 pid=302\) INFO .* Model loading took 7\.1217 GiB and \d+\.\d{6} seconds"#)
                == 1)
    }

    @Test func legacyFormat() throws {
        let (lines, _) = render(.legacy, tp: 2)
        #expect(
            try matches(lines, #"INFO 05-24 22:00:00 api_server\.py:528\] vLLM API server version 0\.6\.3\.post1"#) == 1
        )
        #expect(
            try matches(lines, #"INFO 05-24 22:00:00 model_runner\.py:\d+\] Loading model weights took 7\.1217 GB"#)
                == 1)
        #expect(
            try matches(lines, #"\(VllmWorkerProcess pid=302\) INFO .* Loading model weights took 7\.1217 GB"#) == 1)
        #expect(try matches(lines, #"INFO .* Starting vLLM API server on http://0\.0\.0\.0:8000"#) == 1)
        #expect(try matches(lines, #"INFO:     Application startup complete\."#) == 1)
        #expect(
            try matches(lines, #"INFO:     Uvicorn running on socket \('0\.0\.0\.0', 8000\) \(Press CTRL\+C to quit\)"#)
                == 1)
        #expect(try matches(lines, #".*Model loading took.*"#) == 0)
    }

    @Test(arguments: [
        ("0.8.2", "Model loading took 7.1217 GB and 170.700000 seconds"),
        ("0.10.2", "Model loading took 7.1217 GiB and 170.700000 seconds"),
        ("0.12.0", "Model loading took 7.1217 GiB memory and 170.700000 seconds"),
        ("0.14.1", "Model loading took 7.12 GiB memory and 170.700000 seconds"),
    ])
    func loadLinePerVersion(version: String, expected: String) throws {
        let (lines, _) = render(try #require(VLLMVersion(version)), tp: 2)
        #expect(lines.contains { $0.hasSuffix(expected) })
    }

    @Test func cudaOutOfMemoryFailsAfterTheLoadLine() throws {
        let (lines, steps) = render(.modern, failure: .cudaOutOfMemory)
        let load = try #require(lines.firstIndex { $0.contains("Model loading took") })
        let failed = try #require(lines.firstIndex { $0.hasSuffix("EngineCore failed to start.") })
        #expect(load < failed)
        #expect(lines.contains { $0.hasSuffix("Traceback (most recent call last):") })
        #expect(lines.contains { $0.contains("torch.OutOfMemoryError: CUDA out of memory.") })
        #expect(!steps.contains(.listen))
        #expect(steps.last == .exit(1))
        #expect(!lines.contains { $0.contains("Application startup complete.") })
    }

    // MARK: End to end on loopback

    final class LineSink: Sendable {
        let store = ContainerLogStore(clock: SimClock())
        init() {}
        func start() async { await store.containerStarted(namespace: "ns", pod: "p", container: "vllm") }
        func append(_ line: String) async {
            await store.append(namespace: "ns", pod: "p", container: "vllm", line: line)
        }
        func lines() async -> [String] {
            (await store.lines(namespace: "ns", pod: "p", container: "vllm") ?? []).map(\.text)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func servesOnlyAfterStartupThenAnswersOpenAI() async throws {
        let host = uniqueLoopbackHost()
        let sink = LineSink()
        await sink.start()
        let clock = SimClock(timeScale: 1000)
        let options = VLLMLaunchOptions(model: "org/model", servedModelName: "served-model")
        let vllm = SimulatedVLLM(
            configuration: .init(host: host, port: 8000, options: options, loadSeconds: 300), clock: clock,
            log: { await sink.append($0) })
        await vllm.start()
        // Loading: the socket is not listening.
        do {
            _ = try await LoopbackHTTP.request(host: host, port: 8000, path: "/health")
            Issue.record("connected while loading")
        } catch let error as LoopbackHTTP.Failure {
            #expect(error.isConnectionRefused)
        }
        #expect(await vllm.phase == .loading)
        #expect(await vllm.waitUntilServing())

        let health = try await LoopbackHTTP.request(host: host, port: 8000, path: "/health")
        #expect(health.status == 200)
        #expect(health.body.isEmpty)

        let models = try await LoopbackHTTP.request(host: host, port: 8000, path: "/v1/models")
        let modelsJSON = try JSONValue.parse(models.body)
        #expect(modelsJSON["object"] == "list")
        #expect(modelsJSON["data"]?.arrayValue?.first?["id"] == "served-model")
        #expect(modelsJSON["data"]?.arrayValue?.first?["owned_by"] == "vllm")

        let body = #"{"model":"served-model","prompt":"Hello there","max_tokens":5,"stream":true}"#
        let stream = try await LoopbackHTTP.request(
            host: host, port: 8000, method: "POST", path: "/v1/completions", body: body)
        #expect(stream.status == 200)
        #expect(stream.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        let events = stream.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.last == "data: [DONE]")
        #expect(events.allSatisfy { $0.hasPrefix("data: ") })
        let chunks = try events.dropLast().map { try JSONValue.parse(String($0.dropFirst(6))) }
        #expect(chunks.count == 6)  // five tokens and the finish chunk
        #expect(chunks.last?["choices"]?.arrayValue?.first?["finish_reason"] == "length")

        let chat = #"{"model":"served-model","messages":[{"role":"user","content":"hi"}],"max_tokens":3}"#
        let chatReply = try await LoopbackHTTP.request(
            host: host, port: 8000, method: "POST", path: "/v1/chat/completions", body: chat)
        let chatJSON = try JSONValue.parse(chatReply.body)
        #expect(chatJSON["object"] == "chat.completion")
        #expect(chatJSON[path: ["usage", "completion_tokens"]] == 3)

        let wrongModel = #"{"model":"nope","prompt":"x"}"#
        let notFound = try await LoopbackHTTP.request(
            host: host, port: 8000, method: "POST", path: "/v1/completions", body: wrongModel)
        #expect(notFound.status == 404)

        let metrics = try await LoopbackHTTP.request(host: host, port: 8000, path: "/metrics")
        #expect(metrics.status == 200)
        let samples = Self.parsePrometheus(metrics.body)
        let labels = #"model_name="served-model",engine="0""#
        #expect(samples["vllm:num_requests_running{\(labels)}"] == 0)
        #expect(samples["vllm:num_requests_waiting{\(labels)}"] == 0)
        #expect(samples["vllm:kv_cache_usage_perc{\(labels)}"] == 0)
        #expect(samples["vllm:request_success_total{\(labels),finished_reason=\"length\"}"] == 2)
        #expect(samples["vllm:generation_tokens_total{\(labels)}"] == 8)
        #expect(samples["vllm:prompt_tokens_total{\(labels)}"] == 8)
        #expect(samples["vllm:time_to_first_token_seconds_count{\(labels)}"] == 2)
        #expect(samples["vllm:time_to_first_token_seconds_bucket{\(labels),le=\"2560.0\"}"] == 2)
        #expect(samples["vllm:inter_token_latency_seconds_bucket{\(labels),le=\"0.025\"}"] == 6)
        #expect(samples["vllm:request_queue_time_seconds_bucket{\(labels),le=\"+Inf\"}"] == 2)

        let lines = await sink.lines()
        let complete = try #require(lines.firstIndex { $0.hasSuffix("Application startup complete.") })
        let access = try #require(lines.firstIndex { $0.hasSuffix(#""GET /v1/models HTTP/1.1" 200 OK"#) })
        #expect(complete < access)
        #expect(
            try matches(
                [lines[access]], #"\(APIServer pid=1\) INFO:     127\.0\.0\.1:\d+ - "GET /v1/models HTTP/1\.1" 200 OK"#)
                == 1)

        await vllm.stop()
        #expect(await vllm.phase == .stopped)
        do {
            _ = try await LoopbackHTTP.request(host: host, port: 8000, path: "/health")
            Issue.record("connected after stop")
        } catch let error as LoopbackHTTP.Failure {
            #expect(error.isConnectionRefused)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func injectedOutOfMemoryExitsWithoutListening() async throws {
        let host = uniqueLoopbackHost()
        let sink = LineSink()
        await sink.start()
        let vllm = SimulatedVLLM(
            configuration: .init(
                host: host, options: VLLMLaunchOptions(model: "m"), loadSeconds: 100, failure: .cudaOutOfMemory),
            clock: SimClock(timeScale: 1000), log: { await sink.append($0) })
        await vllm.start()
        #expect(await vllm.waitUntilServing() == false)
        #expect(await vllm.waitForExit() == 1)
        let lines = await sink.lines()
        #expect(lines.contains { $0.hasSuffix("EngineCore failed to start.") })
        await #expect(throws: LoopbackHTTP.Failure.self) { try await LoopbackHTTP.request(host: host, port: 8000, path: "/health") }
    }

    /// `name{labels} value` → value (comments skipped).
    static func parsePrometheus(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }
}
