import Foundation
import KubeCore

/// Where a `ModelRollout` is in its life.
public enum RolloutPhase: String, Codable, Sendable, Hashable, CaseIterable {
    /// One revision serves; nothing to do.
    case steady = "Steady"
    /// A candidate is being scaled, gated and shifted step by step.
    case progressing = "Progressing"
    /// `spec.paused` holds a rollout where it is.
    case paused = "Paused"
    /// The last rollout finished: the candidate became stable.
    case promoted = "Promoted"
    /// Traffic is moving back to the stable revision.
    case rollingBack = "RollingBack"
    /// The last rollout was rolled back (analysis failed, readiness timeout, lost capacity); the stable revision
    /// serves all traffic. `failureReason`/`failureMessage` say why.
    case rolledBack = "RolledBack"
    /// The last rollout's candidate failed to load the model (a fatal error in its log, a crash) and was rolled
    /// back; the stable revision serves all traffic. `failureMessage` names the pod, the cause and the log line.
    case failed = "Failed"
}

/// Route weights (percent) of the two sides.
public struct RevisionWeights: Codable, Sendable, Hashable {
    public var stable: Int
    public var candidate: Int

    public init(stable: Int, candidate: Int) {
        self.stable = stable
        self.candidate = candidate
    }
}

/// Replica counts of one revision.
public struct RevisionReplicas: Codable, Sendable, Hashable {
    public var desired: Int
    public var modelReady: Int
    public var loading: Int

    public init(desired: Int = 0, modelReady: Int = 0, loading: Int = 0) {
        self.desired = desired
        self.modelReady = modelReady
        self.loading = loading
    }
}

/// Replica counts of both sides.
public struct ReplicaStatus: Codable, Sendable, Hashable {
    public var stable: RevisionReplicas
    public var candidate: RevisionReplicas?

    public init(stable: RevisionReplicas, candidate: RevisionReplicas? = nil) {
        self.stable = stable
        self.candidate = candidate
    }
}

/// Measured model-load times (pod creation → model ready).
public struct LoadTimeStatus: Codable, Sendable, Hashable {
    public var samples: Int
    public var p50: KubeDuration?
    public var p90: KubeDuration?
    public var last: KubeDuration?
    /// The most recent measurements in seconds (newest last, at most `LoadTimeStatus.keep`).
    public var recentSeconds: [Double]
    /// Pods already measured (newest last, bounded), so a restart never counts a pod twice.
    public var measuredPods: [String]

    public static let keep = 32

    public init(
        samples: Int = 0, p50: KubeDuration? = nil, p90: KubeDuration? = nil, last: KubeDuration? = nil,
        recentSeconds: [Double] = [], measuredPods: [String] = []
    ) {
        self.samples = samples
        self.p50 = p50
        self.p90 = p90
        self.last = last
        self.recentSeconds = recentSeconds
        self.measuredPods = measuredPods
    }

    enum CodingKeys: String, CodingKey { case samples, p50, p90, last, recentSeconds, measuredPods }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        samples = try c.value(.samples, default: 0)
        p50 = try c.decodeIfPresent(KubeDuration.self, forKey: .p50)
        p90 = try c.decodeIfPresent(KubeDuration.self, forKey: .p90)
        last = try c.decodeIfPresent(KubeDuration.self, forKey: .last)
        recentSeconds = try c.value(.recentSeconds, default: [])
        measuredPods = try c.value(.measuredPods, default: [])
    }
}

/// The autoscaler's last decision, as reported in the status.
public struct AutoscalingStatus: Codable, Sendable, Hashable {
    public var desiredReplicas: Int
    public var rule: String
    public var message: String
    public var time: Date?

    public init(desiredReplicas: Int, rule: String, message: String, time: Date?) {
        self.desiredReplicas = desiredReplicas
        self.rule = rule
        self.message = message
        self.time = time
    }

    enum CodingKeys: String, CodingKey { case desiredReplicas, rule, message, time }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        desiredReplicas = try c.value(.desiredReplicas, default: 0)
        rule = try c.value(.rule, default: "")
        message = try c.value(.message, default: "")
        time = try c.decodeIfPresent(TimeStamp.self, forKey: .time)?.date
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(desiredReplicas, forKey: .desiredReplicas)
        try c.encode(rule, forKey: .rule)
        try c.encode(message, forKey: .message)
        try c.encodeIfPresent(time.map(TimeStamp.init), forKey: .time)
    }
}

/// The verdict of one analysis.
public enum AnalysisVerdict: String, Codable, Sendable, Hashable {
    case pass = "Pass"
    case fail = "Fail"
    case inconclusive = "Inconclusive"
}

/// Analysis bookkeeping of the current step.
public struct AnalysisStatus: Codable, Sendable, Hashable {
    /// The step the counters belong to.
    public var step: Int
    public var failures: Int
    public var lastVerdict: AnalysisVerdict?
    public var lastTime: Date?
    public var message: String?

    public init(
        step: Int, failures: Int = 0, lastVerdict: AnalysisVerdict? = nil, lastTime: Date? = nil,
        message: String? = nil
    ) {
        self.step = step
        self.failures = failures
        self.lastVerdict = lastVerdict
        self.lastTime = lastTime
        self.message = message
    }

    enum CodingKeys: String, CodingKey { case step, failures, lastVerdict, lastTime, message }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.value(.step, default: 0)
        failures = try c.value(.failures, default: 0)
        lastVerdict = try c.decodeIfPresent(AnalysisVerdict.self, forKey: .lastVerdict)
        lastTime = try c.decodeIfPresent(TimeStamp.self, forKey: .lastTime)?.date
        message = try c.decodeIfPresent(String.self, forKey: .message)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(failures, forKey: .failures)
        try c.encodeIfPresent(lastVerdict, forKey: .lastVerdict)
        try c.encodeIfPresent(lastTime.map(TimeStamp.init), forKey: .lastTime)
        try c.encodeIfPresent(message, forKey: .message)
    }
}

/// What kind of change a decision is about.
public enum DecisionKind: String, Codable, Sendable, Hashable, CaseIterable {
    case scale = "Scale"
    case weight = "Weight"
    case rollback = "Rollback"
    case promote = "Promote"
    case hold = "Hold"
    case abort = "Abort"
    case adopt = "Adopt"
}

/// One explained decision: what was seen, which rule fired, what was done.
public struct DecisionRecord: Codable, Sendable, Hashable {
    public var time: Date
    public var kind: DecisionKind
    /// A stable rule identifier, e.g. `step-capacity-ready`, `analysis-failed`, `readiness-timeout`.
    public var rule: String
    public var inputs: [String: String]
    public var result: String
    public var message: String

    public init(
        time: Date, kind: DecisionKind, rule: String, inputs: [String: String] = [:], result: String,
        message: String
    ) {
        self.time = time
        self.kind = kind
        self.rule = rule
        self.inputs = inputs
        self.result = result
        self.message = message
    }

    enum CodingKeys: String, CodingKey { case time, kind, rule, inputs, result, message }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        time = try c.decodeIfPresent(TimeStamp.self, forKey: .time)?.date ?? Date(timeIntervalSince1970: 0)
        kind = try c.value(.kind, default: .hold)
        rule = try c.value(.rule, default: "")
        inputs = try c.value(.inputs, default: [:])
        result = try c.value(.result, default: "")
        message = try c.value(.message, default: "")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(TimeStamp(time), forKey: .time)
        try c.encode(kind, forKey: .kind)
        try c.encode(rule, forKey: .rule)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(result, forKey: .result)
        try c.encode(message, forKey: .message)
    }
}

/// An RFC 3339 timestamp (whole seconds, like `metav1.Time`) that does not depend on the coder's date strategy.
public struct TimeStamp: Codable, Sendable, Hashable {
    public var date: Date

    public init(_ date: Date) { self.date = date }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = KubeTime.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "invalid time \"\(text)\"")
        }
        self.date = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(KubeTime.format(date))
    }
}

/// How far a manual promotion goes.
public enum PromoteMode: String, Codable, Sendable, Hashable, CaseIterable {
    /// End the current step's hold (and its analysis) and move to the next step.
    case step = "Step"
    /// Skip the remaining steps: straight to 100 % and promotion.
    case full = "Full"
}

/// A manual promotion requested by a person (`kubectl modelrollout promote`), written into the status subresource
/// and consumed by the planner: honoured only while the rollout is `Progressing` at the same step, otherwise
/// cleared with a decision saying why. Capacity gating still applies: weight only moves onto model-ready capacity.
public struct PromoteRequest: Codable, Sendable, Hashable {
    public var mode: PromoteMode
    public var requestedAt: Date?
    /// `status.currentStep` when the request was made (nil: before the first step was applied).
    public var step: Int?

    public init(mode: PromoteMode, requestedAt: Date? = nil, step: Int? = nil) {
        self.mode = mode
        self.requestedAt = requestedAt
        self.step = step
    }

    enum CodingKeys: String, CodingKey { case mode, requestedAt, step }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.value(.mode, default: .step)
        requestedAt = try c.decodeIfPresent(TimeStamp.self, forKey: .requestedAt)?.date
        step = try c.decodeIfPresent(Int.self, forKey: .step)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encodeIfPresent(requestedAt.map(TimeStamp.init), forKey: .requestedAt)
        try c.encodeIfPresent(step, forKey: .step)
    }
}

/// `status` of a `ModelRollout`: the operator's memory. A restarted controller resumes from it and the live route.
public struct ModelRolloutStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int64?
    public var phase: RolloutPhase?
    public var message: String?
    public var stableDeployment: String?
    public var stableService: String?
    public var candidateDeployment: String?
    public var candidateService: String?
    /// Index into `spec.steps` of the last weight step applied; nil before the first.
    public var currentStep: Int?
    /// When the current step's weight was applied (its hold counts from here).
    public var stepStartedAt: Date?
    /// When the current rollout started (the readiness timeout counts from here).
    public var rolloutStartedAt: Date?
    /// Since when the rollout waits for candidate model-ready capacity (the readiness timeout counts from here).
    public var waitingSince: Date?
    /// Replicas of the stable revision when the rollout started (restored before a rollback moves weight back).
    public var stableReplicasAtStart: Int?
    /// A candidate that failed; it is not retried until `spec.deployment` changes.
    public var failedDeployment: String?
    /// Why the last rollout was rolled back, as a condition-style reason: `ModelLoadFailed` (the phase ends
    /// `Failed`), `AnalysisFailed`, `ReadinessTimeout`, `CandidateLostCapacity` (the phase ends `RolledBack`).
    public var failureReason: String?
    /// The cause in words: for `ModelLoadFailed` the pod, the log judge's cause and the log line that proves it.
    public var failureMessage: String?
    /// The previous revision after a promotion, and when it is scaled to zero.
    public var retiredDeployment: String?
    public var retiredService: String?
    public var retireAt: Date?
    public var weights: RevisionWeights?
    public var replicas: ReplicaStatus?
    /// Model-ready over desired replicas of the serving side(s), e.g. `3/4` (the READY printer column).
    public var ready: String?
    /// The pods this controller proved model-ready (their `/v1/models` and load log line), as `uid/restartCount`,
    /// sorted; nil when none. A restarted controller (or a new leader) trusts these incarnations' proof as if made
    /// at its start — no pod log is read again through the API server and `/v1/models` is asked at the next
    /// re-probe — while the pod stays Ready. A container restart or a new pod is a new incarnation and is proved
    /// from its log again.
    public var modelReadyPods: [String]?
    /// The autoscaler's last decision for the stable revision.
    public var autoscaling: AutoscalingStatus?
    public var loadTime: LoadTimeStatus?
    public var analysis: AnalysisStatus?
    /// A pending manual promotion (see ``PromoteRequest``); the planner clears it when it acts on it or ignores it.
    public var promote: PromoteRequest?
    public var conditions: [Condition]
    /// The most recent decisions, oldest first, at most `ModelRolloutStatus.decisionLimit`.
    public var decisions: [DecisionRecord]

    public static let decisionLimit = 20

    public init() {
        conditions = []
        decisions = []
    }

    enum CodingKeys: String, CodingKey {
        case observedGeneration, phase, message, stableDeployment, stableService, candidateDeployment
        case candidateService, currentStep, stepStartedAt, rolloutStartedAt, waitingSince, stableReplicasAtStart
        case failedDeployment, failureReason, failureMessage, retiredDeployment, retiredService, retireAt, weights
        case replicas, ready, modelReadyPods, autoscaling, loadTime
        case analysis, promote
        case conditions, decisions
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        observedGeneration = try c.decodeIfPresent(Int64.self, forKey: .observedGeneration)
        phase = try c.decodeIfPresent(RolloutPhase.self, forKey: .phase)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        stableDeployment = try c.decodeIfPresent(String.self, forKey: .stableDeployment)
        stableService = try c.decodeIfPresent(String.self, forKey: .stableService)
        candidateDeployment = try c.decodeIfPresent(String.self, forKey: .candidateDeployment)
        candidateService = try c.decodeIfPresent(String.self, forKey: .candidateService)
        currentStep = try c.decodeIfPresent(Int.self, forKey: .currentStep)
        stepStartedAt = try c.decodeIfPresent(TimeStamp.self, forKey: .stepStartedAt)?.date
        rolloutStartedAt = try c.decodeIfPresent(TimeStamp.self, forKey: .rolloutStartedAt)?.date
        waitingSince = try c.decodeIfPresent(TimeStamp.self, forKey: .waitingSince)?.date
        stableReplicasAtStart = try c.decodeIfPresent(Int.self, forKey: .stableReplicasAtStart)
        failedDeployment = try c.decodeIfPresent(String.self, forKey: .failedDeployment)
        failureReason = try c.decodeIfPresent(String.self, forKey: .failureReason)
        failureMessage = try c.decodeIfPresent(String.self, forKey: .failureMessage)
        retiredDeployment = try c.decodeIfPresent(String.self, forKey: .retiredDeployment)
        retiredService = try c.decodeIfPresent(String.self, forKey: .retiredService)
        retireAt = try c.decodeIfPresent(TimeStamp.self, forKey: .retireAt)?.date
        weights = try c.decodeIfPresent(RevisionWeights.self, forKey: .weights)
        replicas = try c.decodeIfPresent(ReplicaStatus.self, forKey: .replicas)
        ready = try c.decodeIfPresent(String.self, forKey: .ready)
        modelReadyPods = try c.decodeIfPresent([String].self, forKey: .modelReadyPods)
        autoscaling = try c.decodeIfPresent(AutoscalingStatus.self, forKey: .autoscaling)
        loadTime = try c.decodeIfPresent(LoadTimeStatus.self, forKey: .loadTime)
        analysis = try c.decodeIfPresent(AnalysisStatus.self, forKey: .analysis)
        promote = try c.decodeIfPresent(PromoteRequest.self, forKey: .promote)
        conditions = try c.value(.conditions, default: [])
        decisions = try c.value(.decisions, default: [])
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(observedGeneration, forKey: .observedGeneration)
        try c.encodeIfPresent(phase, forKey: .phase)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(stableDeployment, forKey: .stableDeployment)
        try c.encodeIfPresent(stableService, forKey: .stableService)
        try c.encodeIfPresent(candidateDeployment, forKey: .candidateDeployment)
        try c.encodeIfPresent(candidateService, forKey: .candidateService)
        try c.encodeIfPresent(currentStep, forKey: .currentStep)
        try c.encodeIfPresent(stepStartedAt.map(TimeStamp.init), forKey: .stepStartedAt)
        try c.encodeIfPresent(rolloutStartedAt.map(TimeStamp.init), forKey: .rolloutStartedAt)
        try c.encodeIfPresent(waitingSince.map(TimeStamp.init), forKey: .waitingSince)
        try c.encodeIfPresent(stableReplicasAtStart, forKey: .stableReplicasAtStart)
        try c.encodeIfPresent(failedDeployment, forKey: .failedDeployment)
        try c.encodeIfPresent(failureReason, forKey: .failureReason)
        try c.encodeIfPresent(failureMessage, forKey: .failureMessage)
        try c.encodeIfPresent(retiredDeployment, forKey: .retiredDeployment)
        try c.encodeIfPresent(retiredService, forKey: .retiredService)
        try c.encodeIfPresent(retireAt.map(TimeStamp.init), forKey: .retireAt)
        try c.encodeIfPresent(weights, forKey: .weights)
        try c.encodeIfPresent(replicas, forKey: .replicas)
        try c.encodeIfPresent(ready, forKey: .ready)
        try c.encodeIfPresent(modelReadyPods, forKey: .modelReadyPods)
        try c.encodeIfPresent(autoscaling, forKey: .autoscaling)
        try c.encodeIfPresent(loadTime, forKey: .loadTime)
        try c.encodeIfPresent(analysis, forKey: .analysis)
        try c.encodeIfPresent(promote, forKey: .promote)
        try c.encode(conditions, forKey: .conditions)
        try c.encode(decisions, forKey: .decisions)
    }

    /// The condition of a type, if set.
    public func condition(_ type: String) -> Condition? { conditions.first { $0.type == type } }
}

/// The `ModelRollout` custom resource.
public struct ModelRollout: KubernetesResource, Hashable {
    public static let resource = ResourceDescriptor.modelRollouts
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ModelRolloutSpec
    public var status: ModelRolloutStatus?

    public init(metadata: ObjectMeta, spec: ModelRolloutSpec, status: ModelRolloutStatus? = nil) {
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.value(.metadata, default: ObjectMeta())
        spec = try c.value(.spec, default: ModelRolloutSpec(model: "", deployment: "", route: RouteReference(name: "")))
        status = try c.decodeIfPresent(ModelRolloutStatus.self, forKey: .status)
    }
}

/// Condition types a `ModelRollout` reports.
public enum RolloutConditionType {
    public static let modelReady = "ModelReady"
    public static let trafficShifted = "TrafficShifted"
    public static let progressing = "Progressing"
    public static let analysisPassing = "AnalysisPassing"
    public static let degraded = "Degraded"
    public static let invalidSpec = "InvalidSpec"
    /// The autoscaler has the metrics it needs (`False` with the reason it holds).
    public static let autoscalingActive = "AutoscalingActive"
}
