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
    /// The few normalised lines that decided (at most ``LogJudge/maxEvidence``), in log order.
    public var evidence: [String]

    /// Creates a judgement (mostly for tests and decoding; ``LogJudge/judge(_:)`` builds them).
    public init(
        runtime: Runtime, phase: Phase, modelLoaded: Bool, loadSeconds: Double?, serverReady: Bool,
        failed: Bool, failureReason: String?, evidence: [String]
    ) {
        self.runtime = runtime
        self.phase = phase
        self.modelLoaded = modelLoaded
        self.loadSeconds = loadSeconds
        self.serverReady = serverReady
        self.failed = failed
        self.failureReason = failureReason
        self.evidence = evidence
    }
}

/// Judges a model server's log (vLLM 0.4 … newest, SGLang, TGI). Pure: no I/O, no clock.
public enum LogJudge {
    /// Longest line prefix (in UTF-8 bytes) that is examined; the rest of a longer line is ignored.
    public static let maxLineBytes = 64 * 1024
    /// Upper bound of ``LogJudgement/evidence``.
    public static let maxEvidence = 10

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
        case banner, fork, loadStart, loadLine, loadWeights, ready, failure, failureDetail, otherRuntime
    }

    private var lineNumber = 0
    private var evidence: [EvidenceKind: (line: Int, text: String)] = [:]

    // vLLM
    private var vllmSeen = false
    private var vllmStarted = false
    private var vllmLoadStarted = false
    private var vllmLoaded = false
    private var vllmReady = false
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
    // Failures
    private var failed = false
    private var failureReason: String?
    private var failureSpecific = false

    mutating func consume(_ bytes: [UInt8]) {
        lineNumber += 1
        let raw = String(decoding: bytes, as: UTF8.self)
        let line = LogLineNormalizer.normalize(raw)
        guard !line.isEmpty else { return }
        let msg = LogLineNormalizer.message(line)
        classify(line: line, msg: msg)
    }

    private mutating func note(_ kind: EvidenceKind, _ line: String, replace: Bool = false) {
        if evidence[kind] == nil || replace {
            let capped = line.count > 300 ? String(line.prefix(300)) + "…" : line
            evidence[kind] = (lineNumber, capped)
        }
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
        if msg.contains("Application startup complete") || msg.contains("Uvicorn running on") {
            if vllmLoaded && !vllmReady {
                vllmReady = true
                note(.ready, line)
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

    private static let failureMarkers: [(marker: String, reason: String, specific: Bool)] = [
        ("torch.OutOfMemoryError", "CUDA out of memory", true),
        ("CUDA out of memory", "CUDA out of memory", true),
        ("CUDA error: no kernel image", "CUDA kernel image not available for this GPU", true),
        ("401 Client Error: Unauthorized for url", "model hub access denied (HTTP 401)", true),
        ("is not a local folder and is not a valid model identifier", "model not found (invalid model identifier)",
            true),
        ("ShardCannotStart", "TGI shard failed to start", false),
        ("EngineCore failed to start", "engine core failed to start", false),
        ("WorkerProc failed to start", "worker process failed to start", false),
        ("Engine core initialization failed", "engine core initialization failed", false),
        ("Application startup failed", "HTTP server startup failed", false),
        ("Traceback (most recent call last):", "Python traceback", false),
        ("Killing local vLLM worker processes", "vLLM worker processes killed", false),
    ]

    private mutating func checkFailure(line: String, msg: String) {
        for entry in Self.failureMarkers where msg.contains(entry.marker) {
            if !failed {
                failed = true
                failureReason = entry.reason
                failureSpecific = entry.specific
                note(.failure, line)
            } else if entry.specific && !failureSpecific {
                failureReason = entry.reason
                failureSpecific = true
                note(.failureDetail, line)
            }
            return
        }
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
        ready = ready && !failed
        let phase: LogJudgement.Phase
        if failed {
            phase = .failed
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
        let lines = evidence.values.sorted { $0.line < $1.line }.prefix(LogJudge.maxEvidence).map(\.text)
        return LogJudgement(
            runtime: runtime, phase: phase, modelLoaded: loaded, loadSeconds: seconds, serverReady: ready,
            failed: failed, failureReason: failureReason, evidence: Array(lines)
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
