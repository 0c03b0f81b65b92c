import Foundation
import KubeCore

extension ResourceDescriptor {
    /// `modelrollout.io/v1alpha1 ModelRollout` (namespaced, short name `mr`).
    public static let modelRollouts = ResourceDescriptor(
        group: "modelrollout.io", version: "v1alpha1", resource: "modelrollouts", kind: "ModelRollout",
        namespaced: true)
}

/// Decodes a member that may be absent, falling back to a default.
extension KeyedDecodingContainer {
    func value<T: Decodable>(_ key: Key, default fallback: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback()
    }
}

/// `spec` of a `ModelRollout`: which model and revision should serve behind which route, and how to move there.
public struct ModelRolloutSpec: Codable, Sendable, Hashable {
    /// The model id `/v1/models` must list on a pod before it counts as model-ready.
    public var model: String
    /// The desired revision (a Deployment in the same namespace). Changing it starts a rollout.
    public var deployment: String
    /// The Service the route's backendRef points at for `deployment`; defaults to the deployment's name.
    public var service: String?
    /// The InferencePool (Gateway API Inference Extension) the route's backendRef points at for `deployment`.
    /// When set, the route's managed backends are InferencePools instead of Services (``backendKind``).
    public var inferencePool: String?
    /// The HTTPRoute whose backendRef weights the operator owns.
    public var route: RouteReference
    public var runtime: RuntimeSpec
    /// The candidate must be model-ready within this time, else the rollout is rolled back.
    public var readinessTimeout: KubeDuration
    /// Traffic steps; the last one should be 100.
    public var steps: [RolloutStep]
    public var analysis: AnalysisSpec
    public var autoscaling: AutoscalingSpec
    /// How many GPUs a rollout may use beyond the stable fleet, and whether the stable fleet is kept whole.
    public var strategy: StrategySpec
    /// `Active` (act) or `Observe` (decide and report, patch nothing).
    public var mode: RolloutMode
    /// While true nothing is patched; the rollout resumes where it stopped.
    public var paused: Bool

    public static let defaultSteps = [
        RolloutStep(weight: 10, hold: KubeDuration(seconds: 120)), RolloutStep(weight: 50, hold: KubeDuration(seconds: 300)),
        RolloutStep(weight: 100, hold: nil),
    ]

    public init(
        model: String, deployment: String, service: String? = nil, inferencePool: String? = nil,
        route: RouteReference,
        runtime: RuntimeSpec = RuntimeSpec(), readinessTimeout: KubeDuration = KubeDuration(seconds: 1200),
        steps: [RolloutStep] = ModelRolloutSpec.defaultSteps, analysis: AnalysisSpec = AnalysisSpec(),
        autoscaling: AutoscalingSpec = AutoscalingSpec(), strategy: StrategySpec = StrategySpec(),
        mode: RolloutMode = .active, paused: Bool = false
    ) {
        self.model = model
        self.deployment = deployment
        self.service = service
        self.inferencePool = inferencePool
        self.route = route
        self.runtime = runtime
        self.readinessTimeout = readinessTimeout
        self.steps = steps
        self.analysis = analysis
        self.autoscaling = autoscaling
        self.strategy = strategy
        self.mode = mode
        self.paused = paused
    }

    enum CodingKeys: String, CodingKey {
        case model, deployment, service, inferencePool, route, runtime, readinessTimeout, steps, analysis, autoscaling
        case strategy, mode, paused
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.value(.model, default: "")
        deployment = try c.value(.deployment, default: "")
        service = try c.decodeIfPresent(String.self, forKey: .service)
        inferencePool = try c.decodeIfPresent(String.self, forKey: .inferencePool)
        route = try c.value(.route, default: RouteReference(name: ""))
        runtime = try c.value(.runtime, default: RuntimeSpec())
        readinessTimeout = try c.value(.readinessTimeout, default: KubeDuration(seconds: 1200))
        steps = try c.value(.steps, default: Self.defaultSteps)
        analysis = try c.value(.analysis, default: AnalysisSpec())
        autoscaling = try c.value(.autoscaling, default: AutoscalingSpec())
        strategy = try c.value(.strategy, default: StrategySpec())
        mode = try c.value(.mode, default: .active)
        paused = try c.value(.paused, default: false)
    }

    /// The kind of the route's managed backends: InferencePools when `inferencePool` is set, else Services.
    public var backendKind: BackendKind {
        if let inferencePool, !inferencePool.isEmpty { return .inferencePool }
        return .service
    }

    /// The backend (Service or InferencePool, see ``backendKind``) for a revision: `inferencePool` or `service`
    /// for the desired deployment, else the deployment's own name.
    public func serviceName(forDeployment name: String) -> String {
        if name == deployment {
            if let inferencePool, !inferencePool.isEmpty { return inferencePool }
            if let service, !service.isEmpty { return service }
        }
        return name
    }
}

/// The HTTPRoute the operator shifts weights on.
public struct RouteReference: Codable, Sendable, Hashable {
    public var name: String
    /// Defaults to the ModelRollout's namespace.
    public var namespace: String?

    public init(name: String, namespace: String? = nil) {
        self.name = name
        self.namespace = namespace
    }
}

/// Which runtime the pods run and how to reach it.
public struct RuntimeSpec: Codable, Sendable, Hashable {
    public var kind: RuntimeKind
    public var port: Int
    /// The container whose log is judged; defaults to the first container.
    public var container: String?
    public var modelsPath: String
    public var metricsPath: String
    /// An optional extra regular expression that must match a log line before the model counts as loaded.
    public var loadedPattern: String?

    public init(
        kind: RuntimeKind = .vllm, port: Int = 8000, container: String? = nil, modelsPath: String = "/v1/models",
        metricsPath: String = "/metrics", loadedPattern: String? = nil
    ) {
        self.kind = kind
        self.port = port
        self.container = container
        self.modelsPath = modelsPath
        self.metricsPath = metricsPath
        self.loadedPattern = loadedPattern
    }

    enum CodingKeys: String, CodingKey { case kind, port, container, modelsPath, metricsPath, loadedPattern }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.value(.kind, default: .vllm)
        port = try c.value(.port, default: 8000)
        container = try c.decodeIfPresent(String.self, forKey: .container)
        modelsPath = try c.value(.modelsPath, default: "/v1/models")
        metricsPath = try c.value(.metricsPath, default: "/metrics")
        loadedPattern = try c.decodeIfPresent(String.self, forKey: .loadedPattern)
    }
}

/// The serving runtime of the pods.
public enum RuntimeKind: String, Codable, Sendable, Hashable, CaseIterable {
    case vllm, sglang, tgi, generic
}

/// `Active` or `Observe`.
public enum RolloutMode: String, Codable, Sendable, Hashable, CaseIterable {
    case active = "Active"
    case observe = "Observe"
}

/// One traffic step: the candidate's weight (percent) and how long to hold and analyse before the next step.
public struct RolloutStep: Codable, Sendable, Hashable {
    public var weight: Int
    public var hold: KubeDuration?

    public init(weight: Int, hold: KubeDuration? = nil) {
        self.weight = weight
        self.hold = hold
    }
}

/// Thresholds of the candidate analysis between steps.
public struct AnalysisSpec: Codable, Sendable, Hashable {
    public var interval: KubeDuration
    /// Completed requests each side needs in a window before a verdict; fewer is "inconclusive".
    public var minSamples: Int
    /// Absolute ceiling of the candidate's TTFT p95.
    public var ttftP95: KubeDuration?
    /// Ceiling of candidate TTFT p95 ÷ stable TTFT p95.
    public var ttftRatio: Double?
    /// Ceiling of the candidate's queue-wait p95.
    public var queueWaitP95: KubeDuration?
    /// Ceiling of the candidate's error (aborted request) rate.
    public var maxErrorRate: Double?
    /// Failed analyses (not necessarily consecutive) before rolling back.
    public var failureLimit: Int

    public init(
        interval: KubeDuration = KubeDuration(seconds: 30), minSamples: Int = 50,
        ttftP95: KubeDuration? = KubeDuration(seconds: 2.5), ttftRatio: Double? = 1.2,
        queueWaitP95: KubeDuration? = KubeDuration(seconds: 1), maxErrorRate: Double? = 0.01, failureLimit: Int = 2
    ) {
        self.interval = interval
        self.minSamples = minSamples
        self.ttftP95 = ttftP95
        self.ttftRatio = ttftRatio
        self.queueWaitP95 = queueWaitP95
        self.maxErrorRate = maxErrorRate
        self.failureLimit = failureLimit
    }

    enum CodingKeys: String, CodingKey {
        case interval, minSamples, ttftP95, ttftRatio, queueWaitP95, maxErrorRate, failureLimit
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        interval = try c.value(.interval, default: KubeDuration(seconds: 30))
        minSamples = try c.value(.minSamples, default: 50)
        // Absent ceilings take the same defaults as `init` and the CRD schema, so a spec decoded without the API
        // server's defaulting means the same as one that went through it.
        ttftP95 = try c.value(.ttftP95, default: KubeDuration(seconds: 2.5))
        ttftRatio = try c.value(.ttftRatio, default: 1.2)
        queueWaitP95 = try c.value(.queueWaitP95, default: KubeDuration(seconds: 1))
        maxErrorRate = try c.value(.maxErrorRate, default: 0.01)
        failureLimit = try c.value(.failureLimit, default: 2)
    }
}

/// Bounds and targets of the cold-start-aware autoscaler, and the capacity model rollout steps use.
public struct AutoscalingSpec: Codable, Sendable, Hashable {
    public var enabled: Bool
    public var minReplicas: Int
    public var maxReplicas: Int
    public var targetWaitingPerReplica: Double
    public var targetUtilization: Double
    /// Requests per second one replica sustains, used until it has been measured on saturated pods.
    public var replicaThroughput: Double?
    public var coldStart: ColdStartSpec
    /// How long an old revision (and surplus replicas) are kept before being scaled down.
    public var scaleDownDelay: KubeDuration

    public init(
        enabled: Bool = false, minReplicas: Int = 1, maxReplicas: Int = 16, targetWaitingPerReplica: Double = 4,
        targetUtilization: Double = 0.8, replicaThroughput: Double? = nil, coldStart: ColdStartSpec = ColdStartSpec(),
        scaleDownDelay: KubeDuration = KubeDuration(seconds: 300)
    ) {
        self.enabled = enabled
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.targetWaitingPerReplica = targetWaitingPerReplica
        self.targetUtilization = targetUtilization
        self.replicaThroughput = replicaThroughput
        self.coldStart = coldStart
        self.scaleDownDelay = scaleDownDelay
    }

    enum CodingKeys: String, CodingKey {
        case enabled, minReplicas, maxReplicas, targetWaitingPerReplica, targetUtilization, replicaThroughput
        case coldStart, scaleDownDelay
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.value(.enabled, default: false)
        minReplicas = try c.value(.minReplicas, default: 1)
        maxReplicas = try c.value(.maxReplicas, default: 16)
        targetWaitingPerReplica = try c.value(.targetWaitingPerReplica, default: 4)
        targetUtilization = try c.value(.targetUtilization, default: 0.8)
        replicaThroughput = try c.decodeIfPresent(Double.self, forKey: .replicaThroughput)
        coldStart = try c.value(.coldStart, default: ColdStartSpec())
        scaleDownDelay = try c.value(.scaleDownDelay, default: KubeDuration(seconds: 300))
    }
}

/// A number of pods or a percentage of a fleet (`2` or `"25%"`), as a Deployment's `maxSurge` is written.
public enum ReplicaBudget: Codable, Sendable, Hashable, CustomStringConvertible {
    case replicas(Int)
    case percent(Int)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            self = .replicas(n)
            return
        }
        let text = try c.decode(String.self)
        if text.hasSuffix("%"), let n = Int(text.dropLast()) {
            self = .percent(n)
        } else if let n = Int(text) {
            self = .replicas(n)
        } else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "must be an integer or a percentage such as \"25%\", not \"\(text)\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .replicas(let n): try c.encode(n)
        case .percent(let n): try c.encode("\(n)%")
        }
    }

    public var description: String {
        switch self {
        case .replicas(let n): "\(n)"
        case .percent(let n): "\(n)%"
        }
    }

    /// Pods for a fleet of `fleet` pods: a percentage rounds up (as a Deployment's `maxSurge` does).
    public func pods(of fleet: Int) -> Int {
        switch self {
        case .replicas(let n): return max(0, n)
        case .percent(let n): return max(0, Int((Double(max(0, fleet)) * Double(n) / 100 - 1e-9).rounded(.up)))
        }
    }
}

/// `spec.strategy`: the GPU budget of a rollout (DESIGN §3, "the ladder").
///
/// With the default (`keepStableFleet: false`) a rollout moves as a capacity-conserving ladder: candidate pods
/// come up within `maxSurge` pods beyond the stable fleet's size at the start; once model-ready, weight moves in
/// proportion to the capacity they carry; the stable side is scaled down to what its remaining share of current
/// demand needs; the freed GPUs take the next candidate pods. With no GPU to spare (the budget is used up, or
/// candidate pods cannot be scheduled), a stable pod is retired first, but only while the model-ready fleet that
/// remains carries current demand at or below `maxUtilization` of a replica's throughput.
/// `keepStableFleet: true` keeps the whole stable fleet until promotion (a rollback is then instant, at the cost
/// of up to a second fleet of GPUs).
public struct StrategySpec: Codable, Sendable, Hashable {
    /// Pods beyond the stable fleet's size at the start of the rollout (an integer or a percentage of it).
    public var maxSurge: ReplicaBudget
    /// Keep the whole stable fleet until promotion (no ladder; `maxSurge` is not applied).
    public var keepStableFleet: Bool
    /// The highest load, as a share of a replica's throughput, the model-ready fleet may carry while a stable pod
    /// is retired to make room for a candidate pod.
    public var maxUtilization: Double

    public static let defaultMaxSurge = ReplicaBudget.percent(25)
    public static let defaultMaxUtilization = 0.95

    public init(
        maxSurge: ReplicaBudget = StrategySpec.defaultMaxSurge, keepStableFleet: Bool = false,
        maxUtilization: Double = StrategySpec.defaultMaxUtilization
    ) {
        self.maxSurge = maxSurge
        self.keepStableFleet = keepStableFleet
        self.maxUtilization = maxUtilization
    }

    enum CodingKeys: String, CodingKey { case maxSurge, keepStableFleet, maxUtilization }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxSurge = try c.value(.maxSurge, default: Self.defaultMaxSurge)
        keepStableFleet = try c.value(.keepStableFleet, default: false)
        maxUtilization = try c.value(.maxUtilization, default: Self.defaultMaxUtilization)
    }
}

/// Which percentile of the learned model-load times to plan with, and the value to use until samples exist.
public struct ColdStartSpec: Codable, Sendable, Hashable {
    public var percentile: Int
    public var fallback: KubeDuration

    public init(percentile: Int = 90, fallback: KubeDuration = KubeDuration(seconds: 300)) {
        self.percentile = percentile
        self.fallback = fallback
    }

    enum CodingKeys: String, CodingKey { case percentile, fallback }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        percentile = try c.value(.percentile, default: 90)
        fallback = try c.value(.fallback, default: KubeDuration(seconds: 300))
    }
}
