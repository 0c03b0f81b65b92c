import Foundation

/// A failure a simulated vLLM process can be told to have (annotation `sim.modelrollout.io/fail`).
public enum VLLMFailure: String, Sendable, Hashable, CaseIterable {
    /// CUDA out of memory right after the weights are loaded (KV-cache profiling): traceback,
    /// `EngineCore failed to start.`, exit code 1.
    case cudaOutOfMemory = "oom"
    /// The model cannot be downloaded (`401 Client Error: Unauthorized for url: https://huggingface.co/...`).
    case hubUnauthorized = "unauthorized"

    /// Parses the annotation value; accepts a few spellings (`oom`, `cuda-oom`, `unauthorized`, `401`).
    public init?(annotation: String) {
        switch annotation.lowercased().trimmingCharacters(in: .whitespaces) {
        case "oom", "cuda-oom", "cuda_oom", "outofmemory", "out-of-memory": self = .cudaOutOfMemory
        case "unauthorized", "401", "hub-401", "hub": self = .hubUnauthorized
        default: return nil
        }
    }
}

/// The processes of a vLLM server whose output is tagged in newer versions.
enum VLLMProcess: Hashable, Sendable {
    case apiServer
    case engineCore
    case worker(rank: Int)
}

/// One log record of the startup script: the process, level, source location and message. `uvicorn` records use
/// uvicorn's own `INFO:     message` format.
struct VLLMLogRecord: Sendable, Hashable {
    var process: VLLMProcess
    var level: String = "INFO"
    var file: String
    var line: Int
    var message: String
    var uvicorn = false
}

/// A step of the simulated startup: write records, wait simulated seconds, start listening, or exit.
enum VLLMStartupStep: Sendable, Hashable {
    case log([VLLMLogRecord])
    case wait(Double)
    case listen
    case exit(Int32)
}

/// Renders vLLM log records in the format of a given release (see shared/reference/vllm-formats.md).
struct VLLMLogFormatter: Sendable {
    var version: VLLMVersion
    var apiServerPID: Int
    var engineCorePID: Int
    var workerPIDBase: Int
    var tensorParallelSize: Int
    /// The runtime whose line format is written (SGLang and TGI have their own).
    var runtime: SimRuntime = .vllm

    private static let utc: TimeZone = TimeZone(identifier: "UTC") ?? .current

    /// `05-24 22:18:27` in the container's zone (UTC in the simulation).
    static func stamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let c = calendar.dateComponents([.month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%02d-%02d %02d:%02d:%02d", c.month ?? 1, c.day ?? 1, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    func tag(_ process: VLLMProcess) -> String {
        if version.tagsEveryProcess {
            switch process {
            case .apiServer: return "(APIServer pid=\(apiServerPID)) "
            case .engineCore: return "(EngineCore_DP0 pid=\(engineCorePID)) "
            case .worker(let rank): return "(Worker_TP\(rank) pid=\(workerPIDBase + rank)) "
            }
        }
        guard case .worker(let rank) = process else { return "" }
        if version.bracketedSourceLocation {
            return tensorParallelSize > 1 ? "(VllmWorker rank=\(rank) pid=\(workerPIDBase + rank)) " : ""
        }
        return rank > 0 ? "(VllmWorkerProcess pid=\(workerPIDBase + rank)) " : ""
    }

    func format(_ record: VLLMLogRecord, at date: Date) -> String {
        switch runtime {
        case .sglang: return sglangLine(record, at: date)
        case .tgi: return tgiLine(record, at: date)
        case .vllm: break
        }
        if record.uvicorn {
            let level = record.level + ":"
            return tag(record.process) + level.padding(toLength: 10, withPad: " ", startingAt: 0) + record.message
        }
        let location =
            version.bracketedSourceLocation ? "[\(record.file):\(record.line)] " : "\(record.file):\(record.line)] "
        return tag(record.process) + "\(record.level) \(Self.stamp(date)) " + location + record.message
    }
}

/// Builds the startup script of a simulated vLLM server: the lines a real release prints from launch to
/// `Application startup complete.` (or to its failure), with the waits between them in simulated seconds.
struct VLLMStartupScript {
    var options: VLLMLaunchOptions
    var version: VLLMVersion
    var loadSeconds: Double
    var downloadSeconds: Double
    var engineInitSeconds: Double
    var weightsGiB: Double
    var port: Int
    var failure: VLLMFailure?
    /// The runtime imitated; SGLang and TGI print their own lines (``sglangSteps()``, ``tgiSteps()``).
    var runtime: SimRuntime = .vllm

    static func seconds(_ value: Double) -> String { String(format: "%.6f", value) }

    func steps() -> [VLLMStartupStep] {
        switch runtime {
        case .vllm: return vllmSteps()
        case .sglang: return sglangSteps()
        case .tgi: return tgiSteps()
        }
    }

    func vllmSteps() -> [VLLMStartupStep] {
        var steps: [VLLMStartupStep] = []
        let model = options.model
        let tp = options.tensorParallelSize
        let maxLen = options.maxModelLen ?? 8192
        let loaders: [VLLMProcess] =
            (version.tagsEveryProcess && tp == 1) ? [.engineCore] : (0..<tp).map { VLLMProcess.worker(rank: $0) }
        func api(_ file: String, _ line: Int, _ message: String, level: String = "INFO") -> VLLMLogRecord {
            VLLMLogRecord(process: .apiServer, level: level, file: file, line: line, message: message)
        }
        func core(_ file: String, _ line: Int, _ message: String, level: String = "INFO") -> VLLMLogRecord {
            VLLMLogRecord(
                process: version.tagsEveryProcess ? .engineCore : .apiServer, level: level, file: file, line: line,
                message: message)
        }

        // Banner and arguments.
        var banner: [VLLMLogRecord] = []
        if version.atLeast(19) {
            banner.append(api("api_server.py", 1956, "vLLM server version \(version.text), serving model \(model)"))
        } else {
            banner.append(
                api("api_server.py", version.tagsEveryProcess ? 1839 : 528, "vLLM API server version \(version.text)"))
        }
        let served = options.servedModelName.map { "['\($0)']" } ?? "None"
        if version.tagsEveryProcess {
            var args = "'model': '\(model)'"
            if let name = options.servedModelName {
                args = "'model_tag': '\(model)', " + args + ", 'served_model_name': ['\(name)']"
            }
            if tp > 1 { args += ", 'tensor_parallel_size': \(tp)" }
            banner.append(api("utils.py", 233, "non-default args: {\(args)}"))
            banner.append(api("model.py", 547, "Resolved architecture: Qwen3ForCausalLM"))
            banner.append(api("model.py", 1510, "Using max model len \(maxLen)"))
        } else {
            banner.append(
                api(
                    "api_server.py", 529,
                    "args: Namespace(host=None, port=\(port), model='\(model)', served_model_name=\(served), "
                        + "tensor_parallel_size=\(tp), max_model_len=\(options.maxModelLen.map(String.init) ?? "None"))"
                ))
        }
        steps.append(.log(banner))
        steps.append(.wait(1))
        if version.tagsEveryProcess {
            steps.append(
                .log([
                    core("core.py", 644, "Waiting for init message from front-end."),
                    core(
                        "core.py", 77,
                        "Initializing a V1 LLM engine (v\(version.text)) with config: model='\(model)', "
                            + "speculative_config=None, tokenizer='\(model)', max_seq_len=\(maxLen), "
                            + "tensor_parallel_size=\(tp), served_model_name=\(options.servedModelID)"),
                ]))
        } else {
            steps.append(
                .log([
                    api(
                        "llm_engine.py", 237,
                        "Initializing an LLM engine (v\(version.text)) with config: model='\(model)', "
                            + "tokenizer='\(model)', max_seq_len=\(maxLen), tensor_parallel_size=\(tp), "
                            + "served_model_name=\(options.servedModelID)")
                ]))
        }
        steps.append(.wait(1))

        // Weight loading, per rank.
        let runnerFile = version.tagsEveryProcess ? "gpu_model_runner.py" : "model_runner.py"
        steps.append(
            .log(
                loaders.map {
                    VLLMLogRecord(
                        process: $0, file: runnerFile, line: 1056, message: "Starting to load model \(model)...")
                }))
        if failure == .hubUnauthorized {
            steps.append(.wait(1))
            steps.append(.log(hubUnauthorizedTraceback(loaders.first ?? .apiServer)))
            steps.append(.exit(1))
            return steps
        }
        let download = min(max(0, downloadSeconds), max(0, loadSeconds))
        if download > 0 {
            steps.append(.wait(download))
            if version.reportsLoadDuration {
                steps.append(
                    .log(
                        loaders.map {
                            VLLMLogRecord(
                                process: $0, file: "weight_utils.py", line: 392,
                                message:
                                    "Time spent downloading weights for \(model): \(Self.seconds(download)) seconds")
                        }))
            }
        }
        steps.append(.wait(max(0, loadSeconds - download)))
        let perRank = weightsGiB / Double(tp)
        var loadLines: [VLLMLogRecord] = []
        for (index, process) in loaders.enumerated() {
            // Ranks finish slightly apart; the slowest (rank 0 here) defines the load time.
            let took = loadSeconds * (1 - 0.004 * Double(index))
            let weights = max(0.01, took - download)
            if version.reportsLoadDuration {
                loadLines.append(
                    VLLMLogRecord(
                        process: process, file: "default_loader.py", line: 267,
                        message: String(format: "Loading weights took %.2f seconds", weights * 0.9)))
            }
            loadLines.append(
                VLLMLogRecord(process: process, file: runnerFile, line: 1067, message: loadLine(perRank, took)))
        }
        steps.append(.log(loadLines))

        if failure == .cudaOutOfMemory {
            steps.append(.wait(min(3, max(0.5, engineInitSeconds / 3))))
            steps.append(.log(outOfMemoryTraceback(loaders.first ?? .apiServer, perRank: perRank)))
            steps.append(.exit(1))
            return steps
        }

        // Engine init: profiling, KV cache, warm-up.
        steps.append(.wait(max(0, engineInitSeconds)))
        var engine: [VLLMLogRecord] = []
        if version.tagsEveryProcess || version.bracketedSourceLocation {
            engine.append(core("gpu_worker.py", 298, "Available KV cache memory: 52.31 GiB"))
            engine.append(core("kv_cache_utils.py", 1087, "GPU KV cache size: 489,744 tokens"))
            engine.append(
                core(
                    "kv_cache_utils.py", 1091,
                    String(
                        format: "Maximum concurrency for %d tokens per request: %.2fx", maxLen,
                        489_744.0 / Double(maxLen))))
        } else {
            engine.append(api("gpu_executor.py", 122, "# GPU blocks: 27350, # CPU blocks: 2048"))
            engine.append(
                api("model_runner.py", 1383, "Graph capturing finished in \(max(1, Int(engineInitSeconds / 2))) secs."))
        }
        if version.atLeast(7) {
            let took =
                version.atLeast(24)
                ? String(format: "%.2f s", engineInitSeconds) : String(format: "%.2f seconds", engineInitSeconds)
            engine.append(core("core.py", 210, "init engine (profile, create kv cache, warmup model) took \(took)"))
        }
        steps.append(.log(engine))

        // API server and uvicorn.
        let serverLine: String
        if version.atLeast(19) {
            serverLine = "Starting vLLM server on http://0.0.0.0:\(port)"
        } else if version.atLeast(9) {
            serverLine = "Starting vLLM API server 0 on http://0.0.0.0:\(port)"
        } else {
            serverLine = "Starting vLLM API server on http://0.0.0.0:\(port)"
        }
        var server: [VLLMLogRecord] = [
            api("api_server.py", 1912, serverLine), api("launcher.py", 34, "Available routes are:"),
        ]
        for (path, methods) in Self.routes {
            server.append(api("launcher.py", 42, "Route: \(path), Methods: \(methods)"))
        }
        func uvicorn(_ message: String, level: String = "INFO") -> VLLMLogRecord {
            VLLMLogRecord(process: .apiServer, level: level, file: "", line: 0, message: message, uvicorn: true)
        }
        server.append(uvicorn("Started server process [\(1)]"))
        server.append(uvicorn("Waiting for application startup."))
        steps.append(.log(server))
        steps.append(.log([uvicorn("Application startup complete.")]))
        steps.append(.listen)
        if version.major == 0, version.minor == 6 {
            steps.append(.log([uvicorn("Uvicorn running on socket ('0.0.0.0', \(port)) (Press CTRL+C to quit)")]))
        } else if version.major == 0, version.minor <= 5 || version.text.hasPrefix("0.7.0") {
            steps.append(.log([uvicorn("Uvicorn running on http://0.0.0.0:\(port) (Press CTRL+C to quit)")]))
        }
        return steps
    }

    static let routes: [(String, String)] = [
        ("/openapi.json", "GET, HEAD"), ("/docs", "GET, HEAD"), ("/health", "GET"), ("/load", "GET"),
        ("/tokenize", "POST"), ("/detokenize", "POST"), ("/v1/models", "GET"), ("/version", "GET"),
        ("/v1/chat/completions", "POST"), ("/v1/completions", "POST"), ("/metrics", "GET"),
    ]

    func loadLine(_ gib: Double, _ seconds: Double) -> String {
        if !version.reportsLoadDuration { return String(format: "Loading model weights took %.4f GB", gib) }
        if version.major == 0, version.minor == 8, version.patch < 5 {
            return String(format: "Model loading took %.4f GB and %.6f seconds", gib, seconds)
        }
        if version.atLeast(14) {
            return String(format: "Model loading took %.2f GiB memory and %.6f seconds", gib, seconds)
        }
        if version.atLeast(12) {
            return String(format: "Model loading took %.4f GiB memory and %.6f seconds", gib, seconds)
        }
        return String(format: "Model loading took %.4f GiB and %.6f seconds", gib, seconds)
    }

    func outOfMemoryTraceback(_ process: VLLMProcess, perRank: Double) -> [VLLMLogRecord] {
        let oom = String(
            format: "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total "
                + "capacity of 79.19 GiB of which 1.21 GiB is free. Of the allocated memory %.2f GiB is allocated by "
                + "PyTorch.", perRank + 60)
        let body = [
            "Traceback (most recent call last):",
            "  File \"/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py\", line 699, in run_engine_core",
            "    engine_core = EngineCoreProc(*args, **kwargs)",
            "  File \"/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py\", line 498, in __init__",
            "    super().__init__(vllm_config, executor_class, log_stats,",
            "  File \"/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py\", line 92, in __init__",
            "    self._initialize_kv_caches(vllm_config)",
            "  File \"/usr/local/lib/python3.12/dist-packages/vllm/v1/worker/gpu_worker.py\", line 243, in "
                + "determine_available_memory",
            "    self.model_runner.profile_run()",
            oom,
        ]
        if version.tagsEveryProcess {
            var records = [
                VLLMLogRecord(
                    process: .engineCore, level: "ERROR", file: "core.py", line: 708,
                    message: "EngineCore failed to start.")
            ]
            records += body.map {
                VLLMLogRecord(process: .engineCore, level: "ERROR", file: "core.py", line: 708, message: $0)
            }
            records.append(
                VLLMLogRecord(
                    process: .apiServer, level: "ERROR", file: "api_server.py", line: 1483,
                    message:
                        "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}"
                ))
            return records
        }
        var records = body.map {
            VLLMLogRecord(process: process, level: "ERROR", file: "engine.py", line: 160, message: $0)
        }
        records.append(
            VLLMLogRecord(
                process: .apiServer, level: "ERROR", file: "engine.py", line: 389,
                message: "RuntimeError: Engine process failed to start."))
        return records
    }

    func hubUnauthorizedTraceback(_ process: VLLMProcess) -> [VLLMLogRecord] {
        let proc: VLLMProcess = version.tagsEveryProcess ? .engineCore : .apiServer
        var records: [VLLMLogRecord] = []
        if version.tagsEveryProcess {
            records.append(
                VLLMLogRecord(
                    process: proc, level: "ERROR", file: "core.py", line: 708, message: "EngineCore failed to start."))
        }
        let body = [
            "Traceback (most recent call last):",
            "  File \"/usr/local/lib/python3.12/dist-packages/huggingface_hub/utils/_http.py\", line 409, in "
                + "hf_raise_for_status",
            "    response.raise_for_status()",
            "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: "
                + "https://huggingface.co/\(options.model)/resolve/main/config.json",
        ]
        records += body.map { VLLMLogRecord(process: proc, level: "ERROR", file: "core.py", line: 708, message: $0) }
        if version.tagsEveryProcess {
            records.append(
                VLLMLogRecord(
                    process: .apiServer, level: "ERROR", file: "api_server.py", line: 1483,
                    message:
                        "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}"
                ))
        }
        _ = process
        return records
    }
}
