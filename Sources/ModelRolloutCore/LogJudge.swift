import Foundation

/// What a model server's log says about its state: which runtime, how far startup got, and why it failed.
public struct LogJudgement: Sendable, Equatable, Codable {
    /// The serving runtime recognised from the log.
    public enum Runtime: String, Sendable, Equatable, Codable, CaseIterable {
        case vllm, sglang, tgi, unknown
    }

    /// How far the server's startup got.
    public enum Phase: String, Sendable, Equatable, Codable, CaseIterable {
        case starting = "Starting"
        case loadingModel = "LoadingModel"
        case modelLoaded = "ModelLoaded"
        case serving = "Serving"
        case failed = "Failed"
        /// The HTTP server shut down after serving, without a fatal error (a graceful stop).
        case stopped = "Stopped"
        case unknown = "Unknown"
    }

    /// The runtime; `unknown` also for forks that print vLLM-like lines under another banner.
    public var runtime: Runtime
    /// The furthest startup phase reached, or `Failed` once a fatal error was logged.
    public var phase: Phase
    /// The weights are in memory (a load line was seen).
    public var modelLoaded: Bool
    /// Wall time to load the model (maximum over ranks), when the log states it.
    public var loadSeconds: Double?
    /// The HTTP server finished startup after the load and no fatal error followed.
    public var serverReady: Bool
    /// A fatal error was logged (after the load line or instead of it); sticky.
    public var failed: Bool
    /// A short human text for the first (most specific) fatal error.
    public var failureReason: String?
    /// The normalised log line that proves ``failureReason`` (at most ``LogJudge/maxEvidenceLineLength``
    /// characters).
    public var failureLine: String?
    /// The few normalised lines that decided (at most ``LogJudge/maxEvidence``), in log order.
    public var evidence: [String]

    /// Creates a judgement (mostly for tests and decoding; ``LogJudge/judge(_:)`` builds them).
    public init(
        runtime: Runtime, phase: Phase, modelLoaded: Bool, loadSeconds: Double?, serverReady: Bool,
        failed: Bool, failureReason: String?, failureLine: String? = nil, evidence: [String]
    ) {
        self.runtime = runtime
        self.phase = phase
        self.modelLoaded = modelLoaded
        self.loadSeconds = loadSeconds
        self.serverReady = serverReady
        self.failed = failed
        self.failureReason = failureReason
        self.failureLine = failureLine
        self.evidence = evidence
    }
}

/// Judges a model server's log (vLLM 0.4 … newest, SGLang, TGI). Pure: no I/O, no clock.
public enum LogJudge {
    /// Longest line prefix (in UTF-8 bytes) that is examined; the rest of a longer line is ignored.
    public static let maxLineBytes = 64 * 1024
    /// Upper bound of ``LogJudgement/evidence``.
    public static let maxEvidence = 10
    /// Longest evidence line kept (characters); longer ones are cut and end with `…`.
    public static let maxEvidenceLineLength = 300

    /// Judges a whole log (the last line need not end with a newline).
    public static func judge(_ log: String) -> LogJudgement {
        var state = LogJudgeState()
        state.feed(log)
        return state.judgement
    }
}

/// Incremental log judge: feed chunks as they arrive (chunks may split lines anywhere) and read
/// ``judgement`` at any time. Feeding a log in any chunking gives the same judgement as ``LogJudge/judge(_:)``.
public struct LogJudgeState: Sendable {
    private var pending: [UInt8] = []
    private var discardingRestOfLine = false
    private var core = JudgeCore()

    public init() {}

    /// Adds a chunk of log text.
    public mutating func feed(_ chunk: String) {
        for byte in chunk.utf8 {
            if byte == 0x0A || byte == 0x0D {
                if !pending.isEmpty { core.consume(pending) }
                pending.removeAll(keepingCapacity: true)
                discardingRestOfLine = false
            } else if !discardingRestOfLine {
                pending.append(byte)
                if pending.count >= LogJudge.maxLineBytes { discardingRestOfLine = true }
            }
        }
    }

    /// The judgement so far; an unterminated last line counts as if it were complete.
    public var judgement: LogJudgement {
        var copy = core
        if !pending.isEmpty { copy.consume(pending) }
        return copy.judgement
    }
}

/// The line-by-line state machine behind ``LogJudgeState``.
struct JudgeCore: Sendable {
    enum EvidenceKind: Int, Sendable, CaseIterable {
        case banner, processTag, fork, loadStart, loadLine, loadWeights, engineInit, ready, stopped, failure,
            failureDetail, otherRuntime
    }

    private var lineNumber = 0
    private var evidence: [EvidenceKind: (line: Int, text: String)] = [:]

    // vLLM
    private var vllmSeen = false
    private var vllmStarted = false
    private var vllmLoadStarted = false
    private var vllmLoaded = false
    private var vllmReady = false
    /// A vLLM process tag (`(APIServer pid=N)`, `(EngineCore_DP0 pid=N)`, …) or engine line was seen: the log is
    /// vLLM's even when the excerpt starts after the banner.
    private var vllmProcessSeen = false
    private var modelLoadingSeconds: Double?
    private var loadingWeightsSeconds: Double?
    private var forkSeen = false
    // SGLang
    private var sglangSeen = false
    private var sglangLoadStarted = false
    private var sglangLoaded = false
    private var sglangReady = false
    private var sglangSeconds: Double?
    // TGI
    private var tgiSeen = false
    private var tgiLoadStarted = false
    private var tgiLoaded = false
    private var tgiReady = false
    private var tgiSeconds: Double?
    // The HTTP server shut down after it was ready (uvicorn `Shutting down` / `Finished server process`).
    private var serverStopped = false
    // Failures
    private var failed = false
    private var failureReason: String?
    private var failureLine: String?
    private var failureRank = FailureRank.generic

    mutating func consume(_ bytes: [UInt8]) {
        lineNumber += 1
        let raw = String(decoding: bytes, as: UTF8.self)
        let (line, tags) = LogLineNormalizer.split(raw)
        guard !line.isEmpty else { return }
        if !vllmProcessSeen, tags.contains(where: Self.isVLLMProcess) {
            vllmProcessSeen = true
            vllmSeen = true
            note(.processTag, line)
        }
        let msg = LogLineNormalizer.message(line)
        classify(line: line, msg: msg)
    }

    /// vLLM's process names in tags: `APIServer`, `ApiServer_1`, `EngineCore`, `EngineCore_0`, `EngineCore_DP0`,
    /// `VllmWorker`, `VllmWorkerProcess`, `Worker`, `Worker_TP0`, `Worker_PP1_TP0`, `RayWorkerWrapper`,
    /// `RayWorkerProc`.
    static func isVLLMProcess(_ name: String) -> Bool {
        if name == "Worker" { return true }
        let prefixes = [
            "APIServer", "ApiServer", "EngineCore", "VllmWorker", "Worker_TP", "Worker_PP", "Worker_DP",
            "Worker_EP", "RayWorkerWrapper", "RayWorkerProc",
        ]
        return prefixes.contains { name.hasPrefix($0) }
    }

    private mutating func note(_ kind: EvidenceKind, _ line: String, replace: Bool = false) {
        if evidence[kind] == nil || replace {
            evidence[kind] = (lineNumber, Self.capped(line))
        }
    }

    static func capped(_ line: String) -> String {
        let limit = LogJudge.maxEvidenceLineLength
        return line.count > limit ? String(line.prefix(limit)) + "…" : line
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private mutating func classify(line: String, msg: String) {
        // Forks print vLLM-like lines under another banner.
        // (A lowercase model name such as `org/aphrodite-7b` is not a banner.)
        if msg.contains("Aphrodite") || msg.contains("APHRODITE") || msg.contains("aphrodite.")
            || msg.contains("aphrodite-engine")
        {
            forkSeen = true
            note(.fork, line)
        }
        // vLLM start markers.
        if msg.contains("vLLM API server version") || msg.contains("vLLM server version")
            || msg.contains("Starting vLLM API server") || msg.contains("Starting vLLM server")
            || msg.contains("non-default args:") || msg.contains("Initializing a V1 LLM engine")
            || msg.contains("Initializing an LLM engine") || msg.hasPrefix("args: Namespace(")
        {
            vllmSeen = true
            vllmStarted = true
            note(.banner, line)
        }
        if msg.contains("Starting to load model") || msg.contains("Loading model from scratch") {
            vllmSeen = true
            vllmLoadStarted = true
            note(.loadStart, line)
        }
        if msg.contains("Model loading took") {
            vllmSeen = true
            vllmLoaded = true
            let seconds = Self.number(before: " seconds", after: " and ", in: msg, from: "Model loading took")
            if let s = seconds, s > (modelLoadingSeconds ?? -1) {
                modelLoadingSeconds = s
                note(.loadLine, line, replace: true)
            } else {
                note(.loadLine, line)
            }
        } else if msg.contains("Loading model weights took") {
            vllmSeen = true
            vllmLoaded = true
            note(.loadLine, line)
        } else if msg.contains("Loading weights took") {
            vllmSeen = true
            vllmLoaded = true
            if let s = Self.number(before: " seconds", after: "Loading weights took ", in: msg, from: nil),
                s > (loadingWeightsSeconds ?? -1)
            {
                loadingWeightsSeconds = s
                note(.loadWeights, line, replace: true)
            } else {
                note(.loadWeights, line)
            }
        }
        // Engine set-up after the weights (profiling, KV cache, warm-up, CUDA graphs): the model is in memory.
        if msg.contains("init engine (profile, create kv cache, warmup model) took") || msg.contains("# GPU blocks:")
            || msg.contains("GPU KV cache size:") || msg.contains("Maximum concurrency for")
            || msg.contains("Graph capturing finished")
        {
            vllmSeen = true
            vllmProcessSeen = true
            vllmLoaded = true
            note(.engineInit, line)
        }
        // vLLM starts its HTTP server only once the engine is built, so the ASGI server's own lines prove it
        // serves: after a load line, or after vLLM's banner or process tags when no load is pending (vLLM 0.2/0.3
        // prints no load line; excerpts may start after the banner).
        if msg.contains("Application startup complete") || msg.contains("Uvicorn running on") {
            let engineKnown = vllmStarted || vllmProcessSeen
            if !vllmReady || serverStopped, vllmLoaded || (engineKnown && !vllmLoadStarted) {
                vllmReady = true
                vllmLoaded = true
                serverStopped = false
                note(.ready, line)
            }
        }
        let asgi = Self.asgiMessage(msg)
        if asgi == "Shutting down" || asgi.hasPrefix("Finished server process") {
            if (vllmReady || sglangReady) && !serverStopped {
                serverStopped = true
                note(.stopped, line)
            }
        }
        // SGLang.
        if msg.contains("server_args=ServerArgs(") || msg.contains("Load weight begin") {
            sglangSeen = true
            sglangLoadStarted = true
            note(.otherRuntime, line)
        }
        if msg.contains("Load weight end.") {
            sglangSeen = true
            sglangLoaded = true
            if let s = Self.number(before: nil, after: "elapsed=", in: msg, from: "Load weight end."),
                s > (sglangSeconds ?? -1)
            {
                sglangSeconds = s
                note(.loadLine, line, replace: true)
            } else {
                note(.loadLine, line)
            }
        }
        if msg.contains("The server is fired up and ready to roll!") {
            sglangSeen = true
            sglangReady = true
            note(.ready, line)
        }
        // TGI.
        if msg.contains("text_generation_launcher") || msg.contains("text_generation_router")
            || msg.contains("Waiting for shard to be ready") || msg.contains("Starting shard")
        {
            tgiSeen = true
            if msg.contains("shard") { tgiLoadStarted = true }
            note(.otherRuntime, line)
        }
        if let r = msg.range(of: "Shard ready in ") {
            tgiSeen = true
            tgiLoaded = true
            if let s = Self.rustDuration(String(msg[r.upperBound...])), s > (tgiSeconds ?? -1) {
                tgiSeconds = s
                note(.loadLine, line, replace: true)
            } else {
                note(.loadLine, line)
            }
        }
        if tgiSeen, msg == "Connected" || msg.hasSuffix(": Connected") || msg.hasSuffix(" Connected") {
            tgiReady = true
            note(.ready, line)
        }
        checkFailure(line: line, msg: msg)
    }

    /// How much a failure marker explains: a later marker replaces the reason only when it ranks higher.
    enum FailureRank: Int, Sendable, Comparable {
        /// Something failed (a traceback).
        case generic
        /// A component failed or died (engine core, worker, HTTP server).
        case component
        /// The root cause (CUDA out of memory, hub access denied, …).
        case cause

        static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Fatal markers: every string of `all` must occur in the message; the first matching entry decides.
    private static let failureMarkers: [(all: [String], reason: String, rank: FailureRank)] = [
        (["torch.OutOfMemoryError"], "CUDA out of memory", .cause),
        (["CUDA out of memory"], "CUDA out of memory", .cause),
        (["CUDA error: no kernel image"], "CUDA kernel image not available for this GPU", .cause),
        (["401 Client Error: Unauthorized for url"], "model hub access denied (HTTP 401)", .cause),
        (["is not a local folder and is not a valid model identifier"], "model not found (invalid model identifier)",
            .cause),
        (["ShardCannotStart"], "TGI shard failed to start", .component),
        (["EngineCore failed to start"], "engine core failed to start", .component),
        (["WorkerProc failed to start"], "worker process failed to start", .component),
        (["Engine core initialization failed"], "engine core initialization failed", .component),
        // The engine dies after the server started: V0 multiprocess engine (0.6.x), V0 async engine, V1.
        (["Engine process", "died"], "engine process died", .component),
        (["is already dead, terminating server process"], "engine died; the API server is terminating", .component),
        (["has failed, terminating server process"], "engine failed; the API server is terminating", .component),
        (["AsyncEngineDeadError"], "engine background loop died", .component),
        (["EngineDeadError"], "engine core died", .component),
        (["EngineCore encountered"], "engine core died", .component),
        (["Engine core proc", "died unexpectedly"], "engine core process died", .component),
        (["Worker proc", "died unexpectedly"], "worker process died", .component),
        (["WorkerProc hit an exception"], "worker process failed", .component),
        (["Application startup failed"], "HTTP server startup failed", .component),
        (["Killing local vLLM worker processes"], "vLLM worker processes killed", .component),
        (["Traceback (most recent call last):"], "Python traceback", .generic),
    ]

    private mutating func checkFailure(line: String, msg: String) {
        for entry in Self.failureMarkers where entry.all.allSatisfy({ msg.contains($0) }) {
            if !failed {
                failed = true
                failureReason = entry.reason
                failureLine = Self.capped(line)
                failureRank = entry.rank
                note(.failure, line)
            } else if entry.rank > failureRank {
                failureReason = entry.reason
                failureLine = Self.capped(line)
                failureRank = entry.rank
                note(.failureDetail, line, replace: true)
            }
            return
        }
    }

    /// The message of an ASGI server line (`INFO:     Shutting down` → `Shutting down`, also after SGLang's
    /// `[date time] ` prefix); other messages unchanged.
    static func asgiMessage(_ msg: String) -> Substring {
        guard let r = msg.range(of: "INFO:") else { return msg[...] }
        let before = msg[..<r.lowerBound]
        guard before.isEmpty || before.hasSuffix("] ") else { return msg[...] }
        let rest = msg[r.upperBound...]
        guard rest.first == " " else { return msg[...] }
        return rest.drop { $0 == " " }
    }

    var runtime: LogJudgement.Runtime {
        if forkSeen { return .unknown }
        if sglangSeen { return .sglang }
        if tgiSeen { return .tgi }
        if vllmSeen { return .vllm }
        return .unknown
    }

    var judgement: LogJudgement {
        let runtime = self.runtime
        var loaded = false
        var loadStarted = false
        var started = false
        var ready = false
        var seconds: Double?
        switch runtime {
        case .vllm:
            (started, loadStarted, loaded, ready) = (vllmStarted, vllmLoadStarted, vllmLoaded, vllmReady)
            seconds = modelLoadingSeconds ?? loadingWeightsSeconds
        case .sglang:
            (started, loadStarted, loaded, ready) = (true, sglangLoadStarted, sglangLoaded, sglangReady)
            seconds = sglangSeconds
        case .tgi:
            (started, loadStarted, loaded, ready) = (true, tgiLoadStarted, tgiLoaded, tgiReady)
            seconds = tgiSeconds
        case .unknown:
            // A fork or an unrecognised server: report the load it states, never readiness.
            (started, loadStarted, loaded) = (vllmStarted, vllmLoadStarted, vllmLoaded || sglangLoaded)
            seconds = modelLoadingSeconds ?? loadingWeightsSeconds
        }
        let stopped = ready && serverStopped && !failed
        ready = ready && !failed && !serverStopped
        let phase: LogJudgement.Phase
        if failed {
            phase = .failed
        } else if stopped {
            phase = .stopped
        } else if ready {
            phase = .serving
        } else if loaded {
            phase = .modelLoaded
        } else if loadStarted {
            phase = .loadingModel
        } else if started {
            phase = .starting
        } else {
            phase = .unknown
        }
        var seen = Set<Int>()
        let lines = evidence.values.sorted { $0.line < $1.line }.filter { seen.insert($0.line).inserted }
            .prefix(LogJudge.maxEvidence).map(\.text)
        return LogJudgement(
            runtime: runtime, phase: phase, modelLoaded: loaded, loadSeconds: seconds, serverReady: ready,
            failed: failed, failureReason: failureReason, failureLine: failureLine, evidence: Array(lines)
        )
    }

    // MARK: - Number parsing

    /// The number following `after` (searched after `from` when given), optionally followed by `before`.
    static func number(before: String?, after: String, in msg: String, from anchor: String?) -> Double? {
        var search = msg[...]
        if let anchor, let r = msg.range(of: anchor) { search = msg[r.upperBound...] }
        guard let r = search.range(of: after) else { return nil }
        let rest = search[r.upperBound...]
        let token = rest.prefix { $0.isNumber || $0 == "." }
        if let before, !rest.dropFirst(token.count).hasPrefix(before) { return nil }
        guard let value = Double(token), value.isFinite, value >= 0 else { return nil }
        return value
    }

    /// A Rust `Duration` debug text at the start: `12.3s`, `500ms`, `1.5µs`, `2m`.
    static func rustDuration(_ text: String) -> Double? {
        let token = text.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(token), value.isFinite, value >= 0 else { return nil }
        let unit = text.dropFirst(token.count).prefix { $0.isLetter }
        switch unit {
        case "s", "": return value
        case "ms": return value / 1000
        case "µs", "us": return value / 1_000_000
        case "ns": return value / 1_000_000_000
        case "m": return value * 60
        default: return nil
        }
    }
}
