import Foundation

/// The serving runtime a simulated server imitates: its startup log lines and its `/metrics` names. The HTTP
/// API (`/health`, `/v1/models`, OpenAI completions) is the same for all three, as the real servers offer it.
public enum SimRuntime: String, Sendable, Hashable, CaseIterable {
    case vllm, sglang, tgi
}

/// SGLang's default histogram buckets (`python/sglang/srt/metrics/collector.py`).
enum SGLangBuckets {
    static let timeToFirstToken: [Double] = [
        0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400,
    ]
    static let interToken: [Double] = [
        0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6,
        0.8, 1, 2, 4, 6, 8,
    ]
    static let queueTime: [Double] = [0, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    static let e2e: [Double] = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200]
}

/// TGI's router buckets for every `*_duration` histogram: 35 values of a geometric series from 0.00015 s by 1.5.
enum TGIBuckets {
    static let duration: [Double] = {
        var value = 0.0001
        return (0..<35).map { _ in
            value *= 1.5
            return value
        }
    }()
}

extension VLLMMetrics {
    /// SGLang's names: `sglang:` gauges and counters labelled `model_name`, TTFT, queue-time, ITL and e2e
    /// histograms; aborted requests in their own counter.
    func renderSGLang() -> String {
        let base = "model_name=\"\(escape(modelName))\""
        var out = ""
        func gauge(_ name: String, _ help: String, _ value: Double) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name){\(base)} \(format(value))\n"
        }
        gauge("sglang:num_running_reqs", "The number of running requests.", Double(running))
        gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue.", Double(waiting))
        gauge("sglang:num_used_tokens", "The number of used tokens.", Double(max(0, tokensInFlight)))
        gauge("sglang:token_usage", "The token usage.", min(1, Double(max(0, tokensInFlight)) / Double(kvCacheTokens)))
        let aborted = successByReason["abort"] ?? 0
        let finished = successByReason.values.reduce(0, +)
        counter("sglang:prompt_tokens", "Number of prefill tokens processed.", [(base, promptTokens)], into: &out)
        counter(
            "sglang:generation_tokens", "Number of generation tokens processed.", [(base, generationTokens)],
            into: &out)
        counter("sglang:num_requests", "Number of requests processed.", [(base, finished)], into: &out)
        counter("sglang:num_aborted_requests", "Number of requests aborted.", [(base, aborted)], into: &out)
        histogram(
            "sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.", ttft, base, &out)
        histogram(
            "sglang:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", itl, base, &out)
        histogram("sglang:queue_time_seconds", "Histogram of queueing time in seconds.", queueTime, base, &out)
        histogram(
            "sglang:e2e_request_latency_seconds", "Histogram of End-to-end request latency in seconds", e2e, base,
            &out)
        return out
    }

    /// TGI's router names as its `metrics` exporter renders them: no model label, counters without `_total`,
    /// failures by `err`, no time-to-first-token histogram.
    func renderTGI() -> String {
        var out = ""
        func line(_ name: String, _ type: String, _ value: Double, _ labels: String = "") {
            out += "# TYPE \(name) \(type)\n\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(plain(value))\n"
        }
        let aborted = successByReason["abort"] ?? 0
        let finished = successByReason.values.reduce(0, +)
        line("tgi_queue_size", "gauge", Double(waiting))
        line("tgi_batch_current_size", "gauge", Double(running))
        line("tgi_batch_current_max_tokens", "gauge", Double(max(0, tokensInFlight)))
        line("tgi_request_count", "counter", Double(finished))
        line("tgi_request_success", "counter", Double(finished - aborted))
        out += "# TYPE tgi_request_failure counter\n"
        out += "tgi_request_failure{err=\"generation\"} \(plain(Double(aborted)))\n"
        line("tgi_request_input_length_sum", "counter", Double(promptTokens))
        line("tgi_request_generated_tokens_sum", "counter", Double(generationTokens))
        tgiHistogram("tgi_request_queue_duration", queueTime, &out)
        tgiHistogram("tgi_request_mean_time_per_token_duration", itl, &out)
        tgiHistogram("tgi_request_duration", e2e, &out)
        return out
    }

    private func tgiHistogram(_ name: String, _ h: PrometheusHistogram, _ out: inout String) {
        out += "# TYPE \(name) histogram\n"
        for (bound, count) in zip(h.bounds, h.cumulative) {
            out += "\(name)_bucket{le=\"\(bound)\"} \(count)\n"
        }
        out += "\(name)_bucket{le=\"+Inf\"} \(h.count)\n\(name)_sum \(h.sum)\n\(name)_count \(h.count)\n"
    }

    /// Rust's `metrics` exporter prints integers without a fraction.
    private func plain(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}

extension VLLMLogFormatter {
    /// SGLang: `[2025-03-27 21:33:30 TP0] message` (the rank only on scheduler lines), uvicorn lines after the
    /// same stamp.
    func sglangLine(_ record: VLLMLogRecord, at date: Date) -> String {
        var rank = ""
        if case .worker(let r) = record.process { rank = " TP\(r)" }
        let message = record.uvicorn ? (record.level + ":").padding(toLength: 10, withPad: " ", startingAt: 0)
            + record.message : record.message
        return "[\(Self.isoStamp(date, separator: " ", fraction: false))\(rank)] \(message)"
    }

    /// TGI (Rust `tracing`): `2024-05-01T10:00:00.123456Z  INFO text_generation_launcher: message`; the record's
    /// `file` is the tracing target.
    func tgiLine(_ record: VLLMLogRecord, at date: Date) -> String {
        let level = String(repeating: " ", count: max(0, 5 - record.level.count)) + record.level
        return "\(Self.isoStamp(date, separator: "T", fraction: true))Z \(level) \(record.file): \(record.message)"
    }

    static func isoStamp(_ date: Date, separator: String, fraction: Bool) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        var text = String(
            format: "%04d-%02d-%02d%@%02d:%02d:%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1, separator,
            c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
        if fraction { text += String(format: ".%06d", (c.nanosecond ?? 0) / 1000) }
        return text
    }
}

/// The startup of a simulated SGLang or TGI server: the lines the real server prints from launch to serving
/// (or to its failure), with the same load and engine-init waits as the vLLM script.
extension VLLMStartupScript {
    private func record(_ process: VLLMProcess, _ message: String, level: String = "INFO", target: String = "")
        -> VLLMLogRecord
    {
        VLLMLogRecord(process: process, level: level, file: target, line: 0, message: message)
    }

    /// SGLang's scheduler dying of `cause` (the exception's line) after `wait` seconds, and the process exiting.
    private func sglangCrash(after wait: Double, _ cause: String) -> [VLLMStartupStep] {
        let scheduler = VLLMProcess.worker(rank: 0)
        return [
            .wait(wait),
            .log([
                record(scheduler, "Scheduler hit an exception: Traceback (most recent call last):", level: "ERROR"),
                record(scheduler, cause, level: "ERROR"),
                record(.apiServer, "Received sigquit from a child process. It usually means the child failed."),
            ]),
            .exit(1),
        ]
    }

    private var ranks: [VLLMProcess] { (0..<max(1, options.tensorParallelSize)).map { .worker(rank: $0) } }

    func sglangSteps() -> [VLLMStartupStep] {
        let model = options.model
        let served = options.servedModelID
        let tp = max(1, options.tensorParallelSize)
        var steps: [VLLMStartupStep] = [
            .log([
                record(
                    .apiServer,
                    "server_args=ServerArgs(model_path='\(model)', tokenizer_path='\(model)', host='0.0.0.0', "
                        + "port=\(port), served_model_name='\(served)', tp_size=\(tp), mem_fraction_static=0.88)")
            ]),
            .wait(1),
            .log(ranks.map { record($0, "Init torch distributed begin.") }),
            .log(ranks.map { record($0, "Load weight begin. avail mem=78.50 GB") }),
        ]
        if failure == .hubUnauthorized {
            return steps
                + sglangCrash(
                    after: 1,
                    "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: "
                        + "https://huggingface.co/\(model)/resolve/main/config.json")
        }
        steps.append(.wait(max(0, loadSeconds)))
        let perRank = weightsGiB / Double(tp)
        steps.append(.log(ranks.enumerated().map { index, rank in
            let took = loadSeconds * (1 - 0.004 * Double(index))
            return record(
                rank,
                String(
                    format: "Load weight end. elapsed=%.2f s, type=Qwen3ForCausalLM, dtype=torch.bfloat16, "
                        + "avail mem=%.2f GB, mem usage=%.2f GB.", took, 78.5 - perRank, perRank))
        }))
        if failure == .cudaOutOfMemory {
            return steps
                + sglangCrash(
                    after: min(3, max(0.5, engineInitSeconds / 3)),
                    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total "
                        + "capacity of 79.19 GiB of which 1.21 GiB is free.")
        }
        steps.append(.wait(max(0, engineInitSeconds)))
        steps.append(.log([
            record(.worker(rank: 0), "KV Cache is allocated. #tokens: 489744, K size: 26.16 GB, V size: 26.16 GB"),
            record(
                .worker(rank: 0),
                String(format: "Capture cuda graph end. Time elapsed: %.2f s. mem usage=3.10 GB.", engineInitSeconds)),
            VLLMLogRecord(process: .apiServer, file: "", line: 0, message: "Started server process [1]", uvicorn: true),
            VLLMLogRecord(
                process: .apiServer, file: "", line: 0, message: "Waiting for application startup.", uvicorn: true),
            VLLMLogRecord(
                process: .apiServer, file: "", line: 0, message: "Application startup complete.", uvicorn: true),
            VLLMLogRecord(
                process: .apiServer, file: "", line: 0,
                message: "Uvicorn running on http://0.0.0.0:\(port) (Press CTRL+C to quit)", uvicorn: true),
        ]))
        steps.append(.listen)
        steps.append(.log([record(.apiServer, "The server is fired up and ready to roll!")]))
        return steps
    }

    func tgiSteps() -> [VLLMStartupStep] {
        let model = options.model
        let launcher = "text_generation_launcher"
        let shards = ranks.indices
        var steps: [VLLMStartupStep] = [
            .log([
                record(
                    .apiServer,
                    "Args { model_id: \"\(model)\", revision: None, sharded: None, num_shard: Some(\(shards.count)), "
                        + "hostname: \"0.0.0.0\", port: \(port), max_concurrent_requests: 128 }", target: launcher),
                record(.apiServer, "Starting check and download process for \(model)", target: "download: " + launcher),
            ]),
        ]
        if failure == .hubUnauthorized {
            steps.append(.wait(1))
            steps.append(.log([
                record(
                    .apiServer,
                    "Download encountered an error: requests.exceptions.HTTPError: 401 Client Error: Unauthorized for "
                        + "url: https://huggingface.co/\(model)/resolve/main/config.json",
                    level: "ERROR", target: "download: " + launcher),
                record(.apiServer, "Error: DownloadError", level: "ERROR", target: launcher),
            ]))
            steps.append(.exit(1))
            return steps
        }
        let download = min(max(0, downloadSeconds), max(0, loadSeconds))
        steps.append(.wait(download))
        steps.append(.log(
            [record(.apiServer, "Successfully downloaded weights for \(model)", target: "download: " + launcher)]
                + shards.map { record(.apiServer, "Starting shard rank=\($0)", target: "shard-manager: " + launcher) }
                + shards.map {
                    record(
                        .apiServer, "Waiting for shard to be ready... rank=\($0)", target: "shard-manager: " + launcher)
                }))
        steps.append(.wait(max(0, loadSeconds - download)))
        if failure == .cudaOutOfMemory {
            steps.append(.log([
                record(
                    .apiServer, "Shard complete standard error output:", level: "ERROR",
                    target: "shard-manager: " + launcher),
                record(
                    .apiServer,
                    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total "
                        + "capacity of 79.19 GiB of which 1.21 GiB is free.", level: "ERROR",
                    target: "shard-manager: " + launcher),
                record(.apiServer, "Shard 0 failed to start", level: "ERROR", target: launcher),
                record(.apiServer, "Error: ShardCannotStart", level: "ERROR", target: launcher),
            ]))
            steps.append(.exit(1))
            return steps
        }
        steps.append(.log(shards.map { rank in
            let took = loadSeconds * (1 - 0.004 * Double(rank))
            return record(
                .apiServer, String(format: "Shard ready in %.3fs rank=%d", took, rank),
                target: "shard-manager: " + launcher)
        } + [
            record(.apiServer, "Starting Webserver", target: launcher),
            record(.apiServer, "Warming up model", target: "text_generation_router_v3: backends/v3/src/lib.rs:125"),
        ]))
        steps.append(.wait(max(0, engineInitSeconds)))
        steps.append(.log([
            record(
                .apiServer, "Setting max batch total tokens to 489744",
                target: "text_generation_router_v3: backends/v3/src/lib.rs:137"),
        ]))
        steps.append(.listen)
        steps.append(.log([
            record(.apiServer, "Connected", target: "text_generation_router::server: router/src/server.rs:2400")
        ]))
        return steps
    }
}
