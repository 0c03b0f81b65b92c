import Foundation

/// A layer of the latency budget that can cause a TTFT regression (DESIGN §1's decision table).
public enum DiagnosisLayer: String, Codable, Sendable, CaseIterable {
    case gateway
    case queue
    case prefill
    case decode
    case kvCache = "kv-cache"
    case rollout

    /// The name shown to people.
    public var title: String {
        switch self {
        case .gateway: return "gateway"
        case .queue: return "queue / capacity"
        case .prefill: return "prefill / prompt length"
        case .decode: return "decode / runtime speed"
        case .kvCache: return "KV cache"
        case .rollout: return "rollout / model loading"
        }
    }

    /// Breaks ties between equal scores: a layer that explains another comes first (loading capacity explains
    /// a queue; a queue explains a gateway's slow stream start).
    var priority: Int {
        switch self {
        case .rollout: return 0
        case .queue: return 1
        case .kvCache: return 2
        case .prefill: return 3
        case .decode: return 4
        case .gateway: return 5
        }
    }
}

/// How strongly the measured signal points at a layer. `noData` is never `ok`: it is ranked above `ok`.
public enum DiagnosisVerdict: String, Codable, Sendable, CaseIterable {
    case likely
    case suspect
    case noData = "no-data"
    case ok

    /// Sort rank: higher first.
    var rank: Int {
        switch self {
        case .likely: return 3
        case .suspect: return 2
        case .noData: return 1
        case .ok: return 0
        }
    }

    /// The text shown to people.
    public var text: String { self == .noData ? "no data" : rawValue }
}

/// One row of the decision table: a layer, what was measured, how it is judged and what to do.
public struct DiagnosisFinding: Codable, Sendable, Equatable {
    public var layer: DiagnosisLayer
    public var verdict: DiagnosisVerdict
    /// 0...1: the share of TTFT the layer explains (or how far the signal is past its threshold); ranks findings
    /// of the same verdict.
    public var score: Double
    /// The measured signal, in words and numbers.
    public var signal: String
    /// What to do about it.
    public var action: String
    /// Where the signal is worst (nil when the layer has no data anywhere).
    public var route: String?
    public var requestClass: String?
    public var revision: String?

    /// Creates a finding.
    public init(
        layer: DiagnosisLayer, verdict: DiagnosisVerdict, score: Double = 0, signal: String, action: String,
        route: String? = nil, requestClass: String? = nil, revision: String? = nil
    ) {
        self.layer = layer
        self.verdict = verdict
        self.score = score.isFinite ? min(1, max(0, score)) : 0
        self.signal = signal
        self.action = action
        self.route = route
        self.requestClass = requestClass
        self.revision = revision
    }

    /// True when `self` should be listed before `other`: stronger verdict, then higher score, then layer priority.
    func ranksBefore(_ other: DiagnosisFinding) -> Bool {
        if verdict.rank != other.verdict.rank { return verdict.rank > other.verdict.rank }
        if abs(score - other.score) > 1e-9 { return score > other.score }
        return layer.priority < other.layer.priority
    }
}

/// The thresholds of the diagnosis; the defaults suit interactive chat traffic with a TTFT target of seconds.
public struct DiagnosisThresholds: Codable, Sendable, Equatable {
    /// Gateway overhead (gateway TTFT − direct TTFT) that is suspect / likely, seconds.
    public var gatewaySuspectSeconds = 0.2
    public var gatewayLikelySeconds = 0.5
    /// Queue wait p95 that is suspect / likely, seconds (likely also needs `queueLikelyShare` of TTFT p95).
    public var queueSuspectSeconds = 0.2
    public var queueLikelySeconds = 0.5
    public var queueLikelyShare = 0.4
    /// Waiting requests per ready pod that make the queue likely on their own.
    public var waitingPerPodLikely = 4.0
    /// Mean prefill that is suspect / likely, seconds (likely also needs `prefillLikelyShare` of mean TTFT).
    public var prefillSuspectSeconds = 0.25
    public var prefillLikelySeconds = 0.5
    public var prefillLikelyShare = 0.5
    /// Mean prompt length that is suspect on its own, tokens.
    public var longPromptTokens = 2000.0
    /// A revision this many times slower (per output token or per prompt token) than a sibling revision of the
    /// same route is likely the cause; `decodeSuspectRatio` makes it suspect.
    public var decodeLikelyRatio = 1.5
    public var decodeSuspectRatio = 1.2
    /// Mean inter-token latency that is suspect without a baseline, seconds.
    public var decodeSuspectSeconds = 0.1
    /// KV-cache usage (0...1) that is suspect / likely.
    public var kvSuspectUsage = 0.8
    public var kvLikelyUsage = 0.95
    /// A model load or readiness delay longer than this makes the cold-start budget suspect, seconds.
    public var coldStartSuspectSeconds = 300.0

    /// The defaults.
    public init() {}
}

/// The diagnosis of a TTFT regression: per-revision signals in, the decision table out — one finding per layer
/// (its worst route/revision), the most likely cause first. Pure: no I/O, no clock.
public enum TTFTDiagnosis {
    /// One finding per layer, sorted with the most likely cause of a TTFT regression first.
    public static func diagnose(
        _ revisions: [RevisionSignals], thresholds: DiagnosisThresholds = DiagnosisThresholds()
    ) -> [DiagnosisFinding] {
        let context = Context(revisions: revisions, thresholds: thresholds)
        let findings: [DiagnosisFinding] = [
            worst(.gateway, routeGroups(revisions).map { context.gateway($0) }),
            worst(.queue, revisions.map { context.queue($0) }),
            worst(.prefill, revisions.map { context.prefill($0) }),
            worst(.decode, revisions.map { context.decode($0) }),
            worst(.kvCache, revisions.map { context.kvCache($0) }),
            worst(.rollout, routeGroups(revisions).map { context.rollout($0) }),
        ]
        return findings.sorted { $0.ranksBefore($1) }
    }

    /// The revisions grouped by route, in order of first appearance.
    static func routeGroups(_ revisions: [RevisionSignals]) -> [[RevisionSignals]] {
        var order: [String] = []
        var groups: [String: [RevisionSignals]] = [:]
        for revision in revisions {
            if groups[revision.route] == nil { order.append(revision.route) }
            groups[revision.route, default: []].append(revision)
        }
        return order.compactMap { groups[$0] }
    }

    /// The strongest of a layer's candidate findings; "no data" when there is none at all.
    static func worst(_ layer: DiagnosisLayer, _ candidates: [DiagnosisFinding]) -> DiagnosisFinding {
        let sorted = candidates.sorted { $0.ranksBefore($1) }
        if let first = sorted.first(where: { $0.verdict != .noData }) { return first }
        if let first = sorted.first { return first }
        return DiagnosisFinding(
            layer: layer, verdict: .noData, signal: "no route or revision to measure", action: Action.noData(layer))
    }

    /// Shared inputs of the layer rules.
    struct Context {
        let revisions: [RevisionSignals]
        let thresholds: DiagnosisThresholds

        func finding(
            _ layer: DiagnosisLayer, _ verdict: DiagnosisVerdict, _ score: Double, _ signal: String, _ action: String,
            _ revision: RevisionSignals, revisionScoped: Bool = true
        ) -> DiagnosisFinding {
            DiagnosisFinding(
                layer: layer, verdict: verdict, score: score, signal: signal, action: action, route: revision.route,
                requestClass: revision.requestClass, revision: revisionScoped ? revision.revision : nil)
        }

        /// Sibling revisions (same route and class) that have a measurement.
        func siblings(of revision: RevisionSignals) -> [RevisionSignals] {
            revisions.filter {
                $0.route == revision.route && $0.requestClass == revision.requestClass
                    && $0.revision != revision.revision
            }
        }

        // MARK: Gateway

        func gateway(_ route: [RevisionSignals]) -> DiagnosisFinding {
            guard let first = route.first else {
                return DiagnosisFinding(
                    layer: .gateway, verdict: .noData, signal: "no route", action: Action.noData(.gateway))
            }
            let gatewayTTFT = route.compactMap { $0.probe?.gatewayTTFT }.first
            let served = route.filter { $0.weight > 0 }
            var weighted = 0.0
            var weightSum = 0.0
            for revision in (served.isEmpty ? route : served) {
                guard let direct = revision.probe?.directTTFT else { continue }
                let weight = Double(max(revision.weight, 1))
                weighted += direct * weight
                weightSum += weight
            }
            guard let gatewayTTFT, weightSum > 0 else {
                let reason = route.compactMap { $0.probe?.error }.first.map { ": \($0)" } ?? ""
                let signal = route.contains { $0.probe != nil } ? "probe gave no timing\(reason)"
                    : "not probed (run with --probe URL)"
                return finding(.gateway, .noData, 0, signal, Action.noData(.gateway), first, revisionScoped: false)
            }
            let direct = weighted / weightSum
            let overhead = gatewayTTFT - direct
            let share = gatewayTTFT > 0 ? max(0, overhead) / gatewayTTFT : 0
            let signal = "TTFT via gateway \(DiagnosisFormat.seconds(gatewayTTFT)) "
                + "vs direct to pod \(DiagnosisFormat.seconds(direct)) "
                + "(overhead \(DiagnosisFormat.seconds(overhead)))"
            let t = thresholds
            let verdict: DiagnosisVerdict
            if overhead >= t.gatewayLikelySeconds && share >= 0.3 {
                verdict = .likely
            } else if overhead >= t.gatewaySuspectSeconds || (share >= 0.3 && overhead >= 0.05) {
                verdict = .suspect
            } else {
                verdict = .ok
            }
            return finding(.gateway, verdict, share, signal, Action.gateway, first, revisionScoped: false)
        }

        // MARK: Queue

        func queue(_ revision: RevisionSignals) -> DiagnosisFinding {
            let runtime = revision.runtime
            let ttftP95 = runtime.ttft.p95
            // The queue wait is part of the TTFT, so its p95 cannot exceed the TTFT's. A bucket quantile can (with
            // no queueing at all, histogram_quantile interpolates inside the first bucket, e.g. 0.95 × 0.3 s):
            // cap it, and judge the share of TTFT spent queued by the means, which buckets do not distort.
            let queueP95 = runtime.queueTime.p95.map { p95 in ttftP95.map { min(p95, $0) } ?? p95 }
            guard queueP95 != nil || runtime.waiting != nil else {
                return finding(.queue, .noData, 0, noRuntimeSignal(revision), Action.noData(.queue), revision)
            }
            let pods = Double(max(1, revision.rollout.ready > 0 ? revision.rollout.ready : runtime.scrapedPods))
            let waitingPerPod = (runtime.waiting ?? 0) / pods
            var share = 0.0
            if let queueMean = runtime.queueTime.mean, let ttftMean = runtime.ttft.mean, ttftMean > 0 {
                share = min(1, max(0, queueMean / ttftMean))
            } else if let queueP95, let ttftP95, ttftP95 > 0 {
                share = min(1, queueP95 / ttftP95)
            }
            var parts: [String] = []
            if let queueP95 { parts.append("queue wait p95 \(DiagnosisFormat.seconds(queueP95))") }
            if let ttftP95 { parts.append("TTFT p95 \(DiagnosisFormat.seconds(ttftP95))") }
            if let waiting = runtime.waiting {
                let running = DiagnosisFormat.number(runtime.running ?? 0)
                parts.append("\(DiagnosisFormat.number(waiting)) waiting, \(running) running")
            }
            let t = thresholds
            let q = queueP95 ?? 0
            let verdict: DiagnosisVerdict
            if (q >= t.queueLikelySeconds && share >= t.queueLikelyShare) || waitingPerPod >= t.waitingPerPodLikely {
                verdict = .likely
            } else if q >= t.queueSuspectSeconds || (share >= 0.25 && q >= 0.05) || waitingPerPod >= 1 {
                verdict = .suspect
            } else {
                verdict = .ok
            }
            var score = queueP95 == nil ? min(1, waitingPerPod / t.waitingPerPodLikely) : share
            var action = Action.queue
            if loadingPods(onRoute: revision.route) > 0 {
                // Capacity is on its way: the rollout layer explains this queue.
                score *= 0.9
                action = "capacity is still loading (see rollout); " + action
            }
            return finding(.queue, verdict, score, parts.joined(separator: ", "), action, revision)
        }

        // MARK: Prefill

        func prefill(_ revision: RevisionSignals) -> DiagnosisFinding {
            guard let prefill = revision.prefillSeconds else {
                return finding(.prefill, .noData, 0, noRuntimeSignal(revision), Action.noData(.prefill), revision)
            }
            let ttft = revision.runtime.ttft.mean ?? revision.runtime.ttft.p50
            let share = ttft.map { $0 > 0 ? min(1, prefill / $0) : 0 } ?? 0
            let tokens = revision.promptTokens
            var signal = "prefill ≈ \(DiagnosisFormat.seconds(prefill)) mean"
            if let ttft { signal += " of TTFT \(DiagnosisFormat.seconds(ttft)) mean" }
            signal += tokens.map { ", prompts \(DiagnosisFormat.number($0)) tokens mean" } ?? ", prompt length unknown"
            let t = thresholds
            var verdict: DiagnosisVerdict
            if prefill >= t.prefillLikelySeconds && share >= t.prefillLikelyShare {
                verdict = .likely
            } else if prefill >= t.prefillSuspectSeconds || (tokens ?? 0) >= t.longPromptTokens {
                verdict = .suspect
            } else {
                verdict = .ok
            }
            var score = share
            // A revision that is slow per prompt token is a runtime problem (decode layer), not prompt length.
            if let ratio = prefillSpeedRatio(revision), ratio >= t.decodeLikelyRatio {
                if verdict == .likely { verdict = .suspect }
                score /= ratio
                signal += ", but \(DiagnosisFormat.ratio(ratio)) slower per token than a sibling revision"
            }
            return finding(.prefill, verdict, score, signal, Action.prefill, revision)
        }

        /// How much slower per prompt token this revision prefills than its fastest sibling.
        func prefillSpeedRatio(_ revision: RevisionSignals) -> Double? {
            guard let own = revision.prefillSecondsPerThousandTokens, own > 0 else { return nil }
            let others = siblings(of: revision).compactMap(\.prefillSecondsPerThousandTokens).filter { $0 > 0 }
            guard let fastest = others.min() else { return nil }
            return own / fastest
        }

        // MARK: Decode

        func decode(_ revision: RevisionSignals) -> DiagnosisFinding {
            guard let itl = itlSeconds(revision) else {
                return finding(.decode, .noData, 0, noRuntimeSignal(revision), Action.noData(.decode), revision)
            }
            let baselines = siblings(of: revision).compactMap { sibling in
                itlSeconds(sibling).map { (sibling.revision, $0) }
            }.filter { $0.1 > 0 }
            var signal = "inter-token latency \(DiagnosisFormat.seconds(itl)) mean"
            var ratio = 1.0
            if let baseline = baselines.min(by: { $0.1 < $1.1 }), itl > 0 {
                ratio = itl / baseline.1
                signal += " vs \(DiagnosisFormat.seconds(baseline.1)) on \(baseline.0)"
                    + " (\(DiagnosisFormat.ratio(ratio)))"
            }
            if let prefillRatio = prefillSpeedRatio(revision), prefillRatio > ratio {
                ratio = prefillRatio
                signal += ", prefill \(DiagnosisFormat.ratio(prefillRatio)) slower per token"
            }
            let t = thresholds
            let verdict: DiagnosisVerdict
            if ratio >= t.decodeLikelyRatio {
                verdict = .likely
            } else if ratio >= t.decodeSuspectRatio || itl >= t.decodeSuspectSeconds {
                verdict = .suspect
            } else {
                verdict = .ok
            }
            let score = ratio > 1 ? 1 - 1 / ratio : min(1, itl / max(t.decodeSuspectSeconds, 1e-9) / 4)
            return finding(.decode, verdict, score, signal, Action.decode, revision)
        }

        func itlSeconds(_ revision: RevisionSignals) -> Double? {
            revision.runtime.interTokenLatency.mean ?? revision.runtime.interTokenLatency.p50
        }

        // MARK: KV cache

        func kvCache(_ revision: RevisionSignals) -> DiagnosisFinding {
            guard let usage = revision.runtime.kvCacheUsageMax else {
                return finding(.kvCache, .noData, 0, noRuntimeSignal(revision), Action.noData(.kvCache), revision)
            }
            let preemptions = revision.runtime.preemptions ?? 0
            var signal = "KV-cache usage \(DiagnosisFormat.percent(usage)) (busiest pod)"
            if let count = revision.runtime.preemptions { signal += ", \(DiagnosisFormat.number(count)) preemptions" }
            let t = thresholds
            let verdict: DiagnosisVerdict
            if usage >= t.kvLikelyUsage || (preemptions > 0 && usage >= t.kvSuspectUsage) {
                verdict = .likely
            } else if usage >= t.kvSuspectUsage || preemptions > 0 {
                verdict = .suspect
            } else {
                verdict = .ok
            }
            return finding(.kvCache, verdict, usage, signal, Action.kvCache, revision)
        }

        // MARK: Rollout

        func loadingPods(onRoute route: String) -> Int {
            revisions.filter { $0.route == route }.reduce(0) { $0 + $1.rollout.loading }
        }

        func rollout(_ route: [RevisionSignals]) -> DiagnosisFinding {
            guard let first = route.first else {
                return DiagnosisFinding(
                    layer: .rollout, verdict: .noData, signal: "no route", action: Action.noData(.rollout))
            }
            let t = thresholds
            let loading = route.reduce(0) { $0 + $1.rollout.loading }
            let loadingRevisions = route.filter { $0.rollout.loading > 0 }
            let starved = route.filter { $0.weight > 0 && $0.rollout.ready == 0 }
            let queueFindings = route.filter { $0.weight > 0 }.map { queue($0) }
            let queued = queueFindings.filter { $0.verdict == .likely || $0.verdict == .suspect }
            let queueScore = queued.map(\.score).max() ?? 0
            let loads = route.flatMap(\.rollout.recentLoadSeconds)
            let delays = route.flatMap(\.rollout.readinessDelaySeconds)
            let longestLoad = (loads + delays).max()
            let target = loadingRevisions.first ?? starved.first ?? first

            var parts: [String] = []
            let podCount = route.reduce(0) { $0 + $1.rollout.pods }
            let ready = route.reduce(0) { $0 + $1.rollout.ready }
            parts.append("\(ready)/\(podCount) pods ready")
            for revision in loadingRevisions {
                var text = "\(revision.rollout.loading) loading on \(revision.revision)"
                if let age = revision.rollout.oldestLoadingSeconds {
                    text += " (oldest \(DiagnosisFormat.seconds(age)))"
                }
                parts.append(text)
            }
            for revision in starved {
                parts.append("\(revision.revision) has weight \(revision.weight) but no ready pod")
            }
            if let maximum = loads.max() { parts.append("model load up to \(DiagnosisFormat.seconds(maximum))") }
            if let maximum = delays.max() { parts.append("pod ready after up to \(DiagnosisFormat.seconds(maximum))") }
            if let phase = route.compactMap(\.rollout.rolloutPhase).first { parts.append("ModelRollout \(phase)") }
            if !queued.isEmpty { parts.append("traffic queued") }
            let signal = parts.joined(separator: ", ")

            if !starved.isEmpty {
                return finding(.rollout, .likely, 1, signal, Action.rolloutStarved, target, revisionScoped: true)
            }
            if loading > 0 && !queued.isEmpty {
                let score = min(1, queueScore + 0.15)
                return finding(.rollout, .likely, score, signal, Action.rolloutLoading, target)
            }
            if loading > 0 {
                return finding(.rollout, .suspect, 0.3, signal, Action.rolloutLoading, target)
            }
            if let longestLoad, longestLoad >= t.coldStartSuspectSeconds {
                return finding(.rollout, .suspect, 0.2, signal, Action.rolloutColdStart, target, revisionScoped: false)
            }
            if podCount == 0 {
                return finding(.rollout, .noData, 0, "no pods found behind the route", Action.noData(.rollout), first)
            }
            return finding(.rollout, .ok, 0, signal, Action.rolloutOK, first, revisionScoped: false)
        }

        func noRuntimeSignal(_ revision: RevisionSignals) -> String {
            revision.runtime.scrapedPods == 0 ? "no metrics scraped from \(revision.revision)"
                : "the runtime does not export this signal"
        }
    }

    /// The actions of the decision table.
    enum Action {
        static let gateway = "keep gateway latency separate from runtime latency: check gateway timeouts, "
            + "buffering of streamed responses and the gateway's own capacity"
        static let queue = "scale on inference signals (waiting requests, queue wait), not CPU: add model-ready "
            + "replicas, or raise max-num-seqs if the KV cache allows"
        static let prefill = "separate long-context traffic from short interactive traffic (own route, class and "
            + "replicas); enable chunked prefill and prefix caching; cap the prompt length"
        static let decode = "compare runtime flags (dtype, quantization, tensor parallel, max-num-seqs, CUDA graphs) "
            + "and the GPU profile of this revision against the baseline; roll back if it regressed"
        static let kvCache = "KV cache is full (requests wait for blocks or are preempted): lower max-num-seqs or "
            + "max-model-len, add replicas, or match the revision to a GPU with more memory"
        static let rolloutLoading = "gate traffic on model readiness, not process readiness, and scale ahead by "
            + "the measured model-load time: loading pods are capacity on its way, not capacity"
        static let rolloutStarved = "a backend with weight has no ready pod: shift its weight to model-ready "
            + "capacity (a ModelRollout does this) until it loads"
        static let rolloutColdStart = "the cold start is long: pre-pull images, cache weights on the node, and "
            + "start scaling earlier (ModelRollout uses the measured load time as lead time)"
        static let rolloutOK = "nothing to do: every pod behind the route is ready"

        static func noData(_ layer: DiagnosisLayer) -> String {
            switch layer {
            case .gateway: return "run with --probe URL to split gateway from runtime TTFT"
            case .rollout: return "check that the route's Services select the Deployments' pods"
            default: return "check that the pods' /metrics is reachable and exports vLLM metrics"
            }
        }
    }
}

/// Number formatting shared by the diagnosis text.
enum DiagnosisFormat {
    static func seconds(_ value: Double) -> String {
        if !value.isFinite { return "?" }
        if abs(value) < 1 { return String(format: "%.0f ms", value * 1000) }
        if abs(value) < 120 { return String(format: "%.2f s", value) }
        return String(format: "%.0f s", value)
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e12 ? String(Int64(value)) : String(format: "%.1f", value)
    }

    static func percent(_ value: Double) -> String { String(format: "%.0f%%", value * 100) }

    static func ratio(_ value: Double) -> String { String(format: "%.1f×", value) }
}
