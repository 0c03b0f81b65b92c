import Foundation

/// How a rolled-out revision is worse than the one it replaces.
public struct BadRevision: Sendable, Hashable {
    /// Prefill time relative to the previous revision (3 = three times slower).
    public var prefillFactor: Double
    /// Share of requests the engine fails before their first token.
    public var errorRate: Double

    public init(prefillFactor: Double = 1, errorRate: Double = 0) {
        self.prefillFactor = prefillFactor
        self.errorRate = errorRate
    }
}

/// A recorded trace replayed as a scenario's arrivals, compressed in time by `speed` and scaled in rate by
/// `scale` (see ``Trace/replay(speed:scale:seed:)``).
public struct TraceReplay: Sendable, Hashable {
    public var trace: Trace
    public var speed: Double
    public var scale: Double

    public init(trace: Trace, speed: Double = 1, scale: Double = 1) {
        self.trace = trace
        self.speed = speed
        self.scale = scale
    }

    /// `as recorded`, `×4 speed`, `×4 speed, ×0.5 rate`.
    public var label: String {
        var parts: [String] = []
        parts.append(speed == 1 ? "as recorded" : "×\(BenchFormat.factor(speed)) speed")
        if scale != 1 { parts.append("×\(BenchFormat.factor(scale)) rate") }
        return parts.joined(separator: ", ")
    }
}

/// One way a pod's cold start goes (e.g. a node with the image and weights cached), and its share of pods.
public struct ColdStartPath: Sendable, Hashable {
    public var share: Double
    /// Mean cold start on this path, seconds.
    public var seconds: Double

    public init(share: Double, seconds: Double) {
        self.share = share
        self.seconds = seconds
    }
}

/// One benchmark situation: the demand over time, the event the policies must handle, and the cold start.
public struct Scenario: Sendable, Hashable {
    /// What happens at `eventTime`.
    public enum Event: String, Sendable, Hashable {
        /// A new model revision is rolled out (the Deployment's pod template changes).
        case rollout
        /// The demand changes (ramp, step, the morning rise of a daily shape).
        case demandChange
    }

    public var name: String
    public var summary: String
    public var event: Event
    /// When the event happens; metrics are measured from here to `end`.
    public var eventTime: Double
    /// Arrivals stop here.
    public var end: Double
    public var shape: RateShape
    public var process: ArrivalProcess
    /// Mean actual cold start (pod creation → model served), seconds.
    public var coldStartSeconds: Double
    /// The cold start history the `modelrollout` policy starts with (nil: none, it plans with the spec's
    /// fallback, which is the nominal cold start).
    public var learnedColdStartSeconds: Double?
    /// The nominal cold start an operator configures (`spec.autoscaling.coldStart.fallback`).
    public var nominalColdStartSeconds: Double
    /// Replicas serving (loaded) at time 0.
    public var initialReplicas: Int
    public var minReplicas: Int
    public var maxReplicas: Int
    /// Demand (requests/s) the fleet must carry after the event; time to capacity is measured against it.
    public var demandAfterEvent: Double
    /// Requests arriving before this are a warm-up and not counted in the baseline.
    public var warmup: Double = 120
    /// For a rollout: the new revision is worse than the old one (nil: it serves like the old one).
    public var badRevision: BadRevision?
    /// Arrivals and lengths from a recorded trace instead of `shape` and `process` (nil: synthetic).
    public var replay: TraceReplay?
    /// A mixture of cold-start paths each pod draws from (log-normal around the path's mean); empty: one path
    /// around `coldStartSeconds`.
    public var coldStartPaths: [ColdStartPath] = []
    /// GPUs in the cluster (one per pod); pods beyond them stay pending until a pod ends (nil: unlimited).
    public var gpuCapacity: Int?

    public init(
        name: String, summary: String, event: Event, eventTime: Double, end: Double, shape: RateShape,
        process: ArrivalProcess = .poisson, coldStartSeconds: Double, learnedColdStartSeconds: Double? = nil,
        nominalColdStartSeconds: Double? = nil, initialReplicas: Int, minReplicas: Int, maxReplicas: Int = 16,
        demandAfterEvent: Double
    ) {
        self.name = name
        self.summary = summary
        self.event = event
        self.eventTime = eventTime
        self.end = end
        self.shape = shape
        self.process = process
        self.coldStartSeconds = coldStartSeconds
        self.learnedColdStartSeconds = learnedColdStartSeconds
        self.nominalColdStartSeconds = nominalColdStartSeconds ?? coldStartSeconds
        self.initialReplicas = initialReplicas
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.demandAfterEvent = demandAfterEvent
    }

    /// The engine of this scenario: `engine`, with the trace's mean prompt and output lengths for a replay (so
    /// the per-replica throughput every policy sizes with is the trace's).
    public func engine(_ engine: EngineModel) -> EngineModel {
        guard let replay else { return engine }
        var tuned = engine
        let prompt = max(1, Int(replay.trace.meanPromptTokens.rounded()))
        let output = max(1, Int(replay.trace.meanOutputTokens.rounded()))
        tuned.promptTokens = prompt...prompt
        tuned.outputTokens = output...output
        return tuned
    }

    /// The arrivals of one seed: the replayed trace, or generated from `shape` and `process`.
    public func workload(engine: EngineModel, seed: UInt64) -> Workload {
        if let replay { return replay.trace.replay(speed: replay.speed, scale: replay.scale, seed: seed) }
        return Workload.generate(shape: shape, process: process, end: end, engine: engine, seed: seed)
    }

    /// A scenario replaying a trace: the fleet starts sized for the first 5 minutes' demand at 80 % of a
    /// replica's throughput (with the trace's lengths), metrics count from the end of those 5 minutes (of the
    /// replayed time), cold start 4 minutes; `maxReplicas` 32.
    public static func replaying(_ replay: TraceReplay, engine base: EngineModel = EngineModel()) -> Scenario {
        let trace = replay.trace
        let speed = replay.speed > 0 ? replay.speed : 1
        let span = max(trace.duration / speed, 1)
        var probe = Scenario(
            name: "", summary: "", event: .demandChange, eventTime: 0, end: span, shape: .constant(0),
            coldStartSeconds: 240, initialReplicas: 1, minReplicas: 1, demandAfterEvent: 0)
        probe.replay = replay
        let engine = probe.engine(base)
        let workload = probe.workload(engine: engine, seed: 1)
        let firstMinutes = min(300, span / 4)
        let early = Double(workload.count(from: 0, to: firstMinutes)) / firstMinutes
        var peak = 0.0
        var t = 0.0
        while t < span {
            peak = max(peak, Double(workload.count(from: t, to: t + 60)) / 60)
            t += 60
        }
        let throughput = engine.saturatedThroughput
        let initial = max(1, Int((early / (0.8 * throughput) - 1e-9).rounded(.up)))
        var scenario = Scenario(
            name: "trace-\(trace.name)" + (speed == 1 ? "" : "-x\(BenchFormat.factor(speed))")
                + (replay.scale == 1 ? "" : "-rate\(BenchFormat.factor(replay.scale))"),
            summary: "\(trace.name) replayed \(replay.label): \(workload.count) requests over "
                + "\(BenchFormat.duration(span)), peak \(BenchFormat.factor(peak)) req/s per minute, mean prompt "
                + "\(Int(trace.meanPromptTokens)) / output \(Int(trace.meanOutputTokens)) tokens "
                + "(\(BenchFormat.factor(throughput)) req/s per saturated replica); cold start 4 min",
            event: .demandChange, eventTime: firstMinutes, end: span + 1e-3, shape: .constant(peak),
            coldStartSeconds: 240, initialReplicas: initial, minReplicas: 1, maxReplicas: 32, demandAfterEvent: peak)
        scenario.warmup = 0
        scenario.replay = replay
        return scenario
    }

    /// The scenarios of issue 4, in report order.
    public static func all(engine: EngineModel = EngineModel()) -> [Scenario] {
        let perReplica = engine.saturatedThroughput
        func seedRevision(_ name: String, cold: Double) -> Scenario {
            let rate = 0.7 * 4 * perReplica
            return Scenario(
                name: name,
                summary: "steady load at 70 % of a 4-replica fleet; a model revision is rolled out at 10 min "
                    + "(cold start \(BenchFormat.duration(cold)))",
                event: .rollout, eventTime: 600, end: 600 + 3 * cold + 900, shape: .constant(rate),
                coldStartSeconds: cold, initialReplicas: 4, minReplicas: 4, demandAfterEvent: rate)
        }
        let rampBase = 0.7 * 2 * perReplica
        let surgeBase = 0.7 * 3 * perReplica
        let dailyMean = 2.2 * perReplica
        let daily: [DailyPoint] = [
            .init(hour: 0, multiplier: 0.35), .init(hour: 6, multiplier: 0.35), .init(hour: 9, multiplier: 1.25),
            .init(hour: 12, multiplier: 1.4), .init(hour: 14, multiplier: 1.15), .init(hour: 17, multiplier: 1.35),
            .init(hour: 21, multiplier: 0.6), .init(hour: 24, multiplier: 0.35),
        ]
        let dailyPeriod = 3 * 3600.0
        func badRevision(_ name: String, _ bad: BadRevision, _ what: String) -> Scenario {
            var scenario = seedRevision(name, cold: 90)
            scenario.summary = "the seed revision (cold start 90s), but the new revision \(what)"
            scenario.badRevision = bad
            return scenario
        }
        return [
            seedRevision("seed-revision", cold: 90),
            seedRevision("seed-revision-4m", cold: 240),
            seedRevision("seed-revision-10m", cold: 600),
            Scenario(
                name: "ramp", summary: "load ×3 over 5 minutes from 70 % of 2 replicas at 10 min (cold start 4 min)",
                event: .demandChange, eventTime: 600, end: 600 + 1800,
                shape: .ramp(base: rampBase, factor: 3, start: 600, duration: 300), coldStartSeconds: 240,
                initialReplicas: 2, minReplicas: 2, demandAfterEvent: 3 * rampBase),
            Scenario(
                name: "surge", summary: "load steps ×2 from 70 % of 3 replicas at 10 min (cold start 4 min)",
                event: .demandChange, eventTime: 600, end: 600 + 1800,
                shape: .step(base: surgeBase, factor: 2, at: 600), coldStartSeconds: 240, initialReplicas: 3,
                minReplicas: 3, demandAfterEvent: 2 * surgeBase),
            Scenario(
                name: "bursty",
                summary: "gamma arrivals (CV 2) with a daily shape compressed into 3 h (1 h = 7.5 min), "
                    + "peak 1.4 × mean; the event is the morning rise (cold start 4 min)",
                event: .demandChange, eventTime: dailyPeriod * 6 / 24, end: dailyPeriod,
                shape: .daily(mean: dailyMean, period: dailyPeriod, points: daily), process: .gamma(shape: 0.25),
                coldStartSeconds: 240, initialReplicas: 1, minReplicas: 1, demandAfterEvent: dailyMean * 1.4),
            Scenario(
                name: "coldstart-misestimate",
                summary: "the surge, but the actual cold start (5m12s) is 30 % longer than the learned 4 min",
                event: .demandChange, eventTime: 600, end: 600 + 1800,
                shape: .step(base: surgeBase, factor: 2, at: 600), coldStartSeconds: 312,
                learnedColdStartSeconds: 240, nominalColdStartSeconds: 240, initialReplicas: 3, minReplicas: 3,
                demandAfterEvent: 2 * surgeBase),
            gpuBound("seed-revision-tight", seedRevision("seed-revision-tight", cold: 90), spare: 1),
            gpuBound("seed-revision-full", seedRevision("seed-revision-full", cold: 90), spare: 0),
            badRevision("bad-revision-slow", BadRevision(prefillFactor: 3), "has 3× slower prefill"),
            badRevision("bad-revision-errors", BadRevision(errorRate: 0.05), "fails 5 % of requests"),
            coldStartMixture(surgeBase: surgeBase),
        ]
    }
}

extension Scenario {
    /// A scenario on a cluster with the initial fleet's GPUs plus `spare` (one GPU per pod).
    static func gpuBound(_ name: String, _ base: Scenario, spare: Int) -> Scenario {
        var scenario = base
        scenario.name = name
        scenario.gpuCapacity = base.initialReplicas + spare
        scenario.summary = base.summary + " on \(base.initialReplicas + spare) GPUs ("
            + (spare == 0 ? "no spare GPU" : spare == 1 ? "one spare GPU" : "\(spare) spare GPUs") + ")"
        return scenario
    }

    /// The surge with bimodal cold starts: 80 % of pods land on a node with the image and weights cached
    /// (~60 s), 20 % on a cold node (~5 min).
    static func coldStartMixture(surgeBase: Double) -> Scenario {
        let paths = [ColdStartPath(share: 0.8, seconds: 60), ColdStartPath(share: 0.2, seconds: 300)]
        let mean = paths.reduce(0) { $0 + $1.share * $1.seconds }
        var scenario = Scenario(
            name: "coldstart-mixture",
            summary: "the surge (load ×2 at 10 min), cold starts bimodal: 80 % warm node ~60s, 20 % cold node ~5m",
            event: .demandChange, eventTime: 600, end: 600 + 1800, shape: .step(base: surgeBase, factor: 2, at: 600),
            coldStartSeconds: mean, initialReplicas: 3, minReplicas: 3, demandAfterEvent: 2 * surgeBase)
        scenario.coldStartPaths = paths
        return scenario
    }
}

/// Small formatting helpers shared by the reports.
enum BenchFormat {
    /// `4`, `0.5`, `2.25`: a factor without trailing zeros.
    static func factor(_ value: Double) -> String {
        var text = String(format: "%.2f", value)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// `90s`, `4m`, `5m12s`, `1h30m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return s % 60 == 0 ? "\(s / 60)m" : "\(s / 60)m\(s % 60)s" }
        let m = (s % 3600) / 60
        return m == 0 ? "\(s / 3600)h" : "\(s / 3600)h\(m)m"
    }
}
