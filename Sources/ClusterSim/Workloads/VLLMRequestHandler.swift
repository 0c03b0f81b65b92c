import Foundation
import Hummingbird
import KubeCore
import NIOCore

/// The HTTP endpoints of a simulated vLLM server, with the batching latency model of `ServingLatencyModel`:
/// prefill ≈ 30 ms + 0.2 ms per prompt token, then an inter-token latency that grows with the running batch.
/// Latencies run on `servingClock` (its own time scale); timestamps in responses use `clock`.
struct VLLMRequestHandler: Sendable {
    /// `owned_by` of the model card: what each runtime answers on `/v1/models`.
    static func owner(_ runtime: SimRuntime) -> String {
        switch runtime {
        case .vllm: return "vllm"
        case .sglang: return "sglang"
        case .tgi: return "tgi"
        }
    }

    let configuration: SimulatedVLLM.Configuration
    let clock: any WorkloadClock
    /// Sleeps and measures request latencies (simulated serving seconds).
    let servingClock: any WorkloadClock
    let metrics: VLLMMetrics
    let formatter: VLLMLogFormatter
    let log: @Sendable (String) async -> Void

    var latency: ServingLatencyModel {
        ServingLatencyModel(maxConcurrency: configuration.maxConcurrency, slowdown: configuration.slowdown)
    }
    static let vocabulary = [
        " The", " model", " is", " ready", " to", " serve", " requests", " with", " low", " latency", ",", " and",
        " every", " token", " counts", ".",
    ]

    func register(on router: Router<VLLMRequestContext>) {
        router.get("/health") { _, _ in Response(status: .ok) }
        router.get("/ping") { _, _ in Response(status: .ok) }
        router.get("/version") { _, _ in
            json(["version": .string(configuration.version.text)])
        }
        router.get("/v1/models") { _, _ in json(modelList()) }
        router.get("/metrics") { _, _ in
            let text = await metrics.render()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("/v1/completions") { request, _ in
            try await complete(request, chat: false)
        }
        router.post("/v1/chat/completions") { request, _ in
            try await complete(request, chat: true)
        }
    }

    func modelList() -> JSONValue {
        let created = JSONValue.int(Int64(clock.now().timeIntervalSince1970))
        let id = configuration.options.servedModelID
        let permission: JSONValue = [
            "id": .string("modelperm-\(Self.randomHex(16))"), "object": "model_permission", "created": created,
            "allow_create_engine": false, "allow_sampling": true, "allow_logprobs": true,
            "allow_search_indices": false, "allow_view": true, "allow_fine_tuning": false, "organization": "*",
            "group": nil, "is_blocking": false,
        ]
        let card: JSONValue = [
            "id": .string(id), "object": "model", "created": created,
            "owned_by": .string(Self.owner(configuration.runtime)),
            "root": .string(configuration.options.model), "parent": nil,
            "max_model_len": .int(Int64(configuration.options.maxModelLen ?? 8192)), "permission": [permission],
        ]
        return ["object": "list", "data": [card]]
    }

    /// An OpenAI-style error body as vLLM returns it.
    func error(_ status: HTTPResponse.Status, _ type: String, _ message: String) -> Response {
        let body: JSONValue = [
            "object": "error", "message": .string(message), "type": .string(type), "param": nil,
            "code": .int(Int64(status.code)),
        ]
        var response = json(body)
        response.status = status
        return response
    }

    func complete(_ request: Request, chat: Bool) async throws -> Response {
        let bytes = try await request.body.collect(upTo: 8 << 20)
        guard let body = try? JSONValue.parse(Array(bytes.readableBytesView)), body.objectValue != nil else {
            return error(.badRequest, "BadRequestError", "The request body is not a valid JSON object.")
        }
        let id = configuration.options.servedModelID
        if let model = body["model"]?.stringValue, model != id {
            return error(.notFound, "NotFoundError", "The model `\(model)` does not exist.")
        }
        let promptTokens: Int
        if chat {
            guard let messages = body["messages"]?.arrayValue, !messages.isEmpty else {
                return error(.badRequest, "BadRequestError", "messages: field required")
            }
            promptTokens = messages.reduce(0) { sum, message in
                sum + 4 + Self.tokenCount(message["content"]?.stringValue ?? "")
            }
        } else {
            guard let prompt = body["prompt"] else {
                return error(.badRequest, "BadRequestError", "prompt: field required")
            }
            if let text = prompt.stringValue {
                promptTokens = Self.tokenCount(text)
            } else if let parts = prompt.arrayValue {
                promptTokens = parts.reduce(0) { $0 + ($1.stringValue.map(Self.tokenCount) ?? 1) }
            } else {
                return error(.badRequest, "BadRequestError", "prompt must be a string or a list")
            }
        }
        let requested = (body["max_completion_tokens"] ?? body["max_tokens"])?.intValue ?? 16
        let outputTokens = Int(min(max(1, requested), 4096))
        let stream = body["stream"]?.boolValue ?? false
        let includeUsage = body[path: ["stream_options", "include_usage"]]?.boolValue ?? false
        let generation = Generation(
            id: (chat ? "chatcmpl-" : "cmpl-") + Self.randomHex(32), created: Int64(clock.now().timeIntervalSince1970),
            model: id, chat: chat, promptTokens: promptTokens, outputTokens: outputTokens)

        let model = latency
        let admittedAt = servingClock.now()
        await metrics.admit(tokens: promptTokens + outputTokens)
        let queue = servingClock.now().timeIntervalSince(admittedAt)
        let prefill = model.prefillSeconds(promptTokens: promptTokens)

        if !stream {
            var itls: [Double] = []
            do {
                try await servingClock.sleep(simulatedSeconds: prefill)
                for _ in 1..<max(1, outputTokens) {
                    let itl = model.interTokenSeconds(running: await metrics.running)
                    try await servingClock.sleep(simulatedSeconds: itl)
                    itls.append(itl)
                }
            } catch {
                await metrics.abandon(tokens: promptTokens + outputTokens)
                throw error
            }
            await record(generation, queue: queue, prefill: prefill, itls: itls, admittedAt: admittedAt)
            return json(generation.fullResponse())
        }

        let handler = self
        let responseBody = ResponseBody { writer in
            var finished = false
            defer {
                if !finished {
                    Task { await handler.metrics.abandon(tokens: promptTokens + outputTokens) }
                }
            }
            try await handler.servingClock.sleep(simulatedSeconds: prefill)
            if chat { try await writer.write(Self.event(generation.chatRoleChunk())) }
            var itls: [Double] = []
            for index in 0..<outputTokens {
                if index > 0 {
                    let itl = model.interTokenSeconds(running: await handler.metrics.running)
                    try await handler.servingClock.sleep(simulatedSeconds: itl)
                    itls.append(itl)
                }
                try await writer.write(Self.event(generation.chunk(index: index)))
            }
            try await writer.write(Self.event(generation.finalChunk()))
            if includeUsage { try await writer.write(Self.event(generation.usageChunk())) }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            finished = true
            await handler.record(generation, queue: queue, prefill: prefill, itls: itls, admittedAt: admittedAt)
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
            body: responseBody)
    }

    func record(_ generation: Generation, queue: Double, prefill: Double, itls: [Double], admittedAt: Date) async {
        await metrics.finish(
            promptTokens: generation.promptTokens, generatedTokens: generation.outputTokens,
            tokens: generation.promptTokens + generation.outputTokens, queueSeconds: queue,
            ttftSeconds: queue + prefill, itlSamples: itls,
            e2eSeconds: servingClock.now().timeIntervalSince(admittedAt), finishReason: "length")
    }

    static func event(_ value: JSONValue) -> ByteBuffer { ByteBuffer(string: "data: \(value.serialized())\n\n") }

    /// About four characters per token, at least one.
    static func tokenCount(_ text: String) -> Int { max(1, (text.utf8.count + 3) / 4) }

    static func randomHex(_ count: Int) -> String {
        String((0..<count).map { _ in "0123456789abcdef".randomElement() ?? "0" })
    }

    func json(_ value: JSONValue) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: value.jsonBytes)))
    }
}

/// One completion being generated: builds the OpenAI response objects.
struct Generation: Sendable {
    var id: String
    var created: Int64
    var model: String
    var chat: Bool
    var promptTokens: Int
    var outputTokens: Int

    func token(_ index: Int) -> String { VLLMRequestHandler.vocabulary[index % VLLMRequestHandler.vocabulary.count] }

    var text: String { (0..<outputTokens).map(token).joined() }

    var usage: JSONValue {
        [
            "prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(outputTokens)),
            "total_tokens": .int(Int64(promptTokens + outputTokens)),
        ]
    }

    func envelope(_ choices: [JSONValue], chunk: Bool) -> JSONValue {
        let object = chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion"
        return [
            "id": .string(id), "object": .string(object), "created": .int(created), "model": .string(model),
            "choices": .array(choices),
        ]
    }

    func fullResponse() -> JSONValue {
        let choice: JSONValue =
            chat
            ? [
                "index": 0, "message": ["role": "assistant", "content": .string(text)], "logprobs": nil,
                "finish_reason": "length", "stop_reason": nil,
            ]
            : ["index": 0, "text": .string(text), "logprobs": nil, "finish_reason": "length", "stop_reason": nil]
        var response = envelope([choice], chunk: false)
        response["usage"] = usage
        return response
    }

    func chatRoleChunk() -> JSONValue {
        envelope(
            [["index": 0, "delta": ["role": "assistant", "content": ""], "logprobs": nil, "finish_reason": nil]],
            chunk: true)
    }

    func chunk(index: Int) -> JSONValue {
        let choice: JSONValue =
            chat
            ? ["index": 0, "delta": ["content": .string(token(index))], "logprobs": nil, "finish_reason": nil]
            : ["index": 0, "text": .string(token(index)), "logprobs": nil, "finish_reason": nil]
        return envelope([choice], chunk: true)
    }

    func finalChunk() -> JSONValue {
        let choice: JSONValue =
            chat
            ? ["index": 0, "delta": [:], "logprobs": nil, "finish_reason": "length", "stop_reason": nil]
            : ["index": 0, "text": "", "logprobs": nil, "finish_reason": "length", "stop_reason": nil]
        return envelope([choice], chunk: true)
    }

    func usageChunk() -> JSONValue {
        var chunk = envelope([], chunk: true)
        chunk["usage"] = usage
        return chunk
    }
}
