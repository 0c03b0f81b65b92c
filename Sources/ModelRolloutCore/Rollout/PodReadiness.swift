import Foundation
import KubeCore

/// Where a serving pod stands on its way to serving the expected model.
public enum ModelPodPhase: String, Sendable, Codable, CaseIterable {
    case scheduling = "Scheduling"
    case pullingImage = "PullingImage"
    case starting = "Starting"
    case loadingModel = "LoadingModel"
    case modelReady = "ModelReady"
    case failed = "Failed"
    case terminating = "Terminating"
}

/// What the runtime's `/v1/models` endpoint answered.
public enum ModelsProbeResult: Sendable, Equatable {
    /// Not asked (e.g. the pod has no IP yet).
    case notProbed
    /// No HTTP answer (connection refused, timeout, ...), with a short description.
    case unreachable(String)
    /// An HTTP status other than 2xx.
    case httpError(Int)
    /// The model ids (`data[].id`) the endpoint listed.
    case listed([String])
}

/// The facts about one pod that model readiness depends on, extracted from the typed `Pod`.
public struct PodFacts: Sendable, Equatable {
    public var name: String
    public var createdAt: Date?
    /// `metadata.deletionTimestamp` is set.
    public var deleting: Bool
    /// `spec.nodeName` is set or the `PodScheduled` condition is `True`.
    public var scheduled: Bool
    /// The `PodScheduled` condition's message when it is not `True` (e.g. `0/3 nodes are available: ...`).
    public var schedulingMessage: String?
    /// `status.phase`: `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    public var podPhase: String?
    /// `status.reason` / `status.message` (e.g. `Evicted`).
    public var podReason: String?
    public var podMessage: String?
    /// The `Ready` condition is `True` (process-level readiness; not model readiness).
    public var ready: Bool
    /// The runtime container's name; `nil` when the pod has no such container.
    public var container: String?
    /// The runtime container has a status entry.
    public var containerStatusKnown: Bool
    public var containerWaitingReason: String?
    public var containerWaitingMessage: String?
    public var containerRunning: Bool
    public var containerStartedAt: Date?
    public var containerTerminatedReason: String?
    public var containerExitCode: Int?
    /// The reason and exit code of the previous instance (`lastState.terminated`), after a restart.
    public var lastTerminatedReason: String?
    public var lastExitCode: Int?
    public var restartCount: Int
    public var podIP: String?

    /// Creates facts directly (tests, other sources).
    public init(
        name: String, createdAt: Date? = nil, deleting: Bool = false, scheduled: Bool = true,
        schedulingMessage: String? = nil, podPhase: String? = "Running", podReason: String? = nil,
        podMessage: String? = nil, ready: Bool = false, container: String? = "vllm",
        containerStatusKnown: Bool = true, containerWaitingReason: String? = nil,
        containerWaitingMessage: String? = nil, containerRunning: Bool = true, containerStartedAt: Date? = nil,
        containerTerminatedReason: String? = nil, containerExitCode: Int? = nil,
        lastTerminatedReason: String? = nil, lastExitCode: Int? = nil, restartCount: Int = 0,
        podIP: String? = nil
    ) {
        self.name = name
        self.createdAt = createdAt
        self.deleting = deleting
        self.scheduled = scheduled
        self.schedulingMessage = schedulingMessage
        self.podPhase = podPhase
        self.podReason = podReason
        self.podMessage = podMessage
        self.ready = ready
        self.container = container
        self.containerStatusKnown = containerStatusKnown
        self.containerWaitingReason = containerWaitingReason
        self.containerWaitingMessage = containerWaitingMessage
        self.containerRunning = containerRunning
        self.containerStartedAt = containerStartedAt
        self.containerTerminatedReason = containerTerminatedReason
        self.containerExitCode = containerExitCode
        self.lastTerminatedReason = lastTerminatedReason
        self.lastExitCode = lastExitCode
        self.restartCount = restartCount
        self.podIP = podIP
    }

    /// Extracts the facts of `pod`; `container` names the runtime container (`nil`: the first container of
    /// the spec, else the first container status).
    public init(pod: Pod, container: String?) {
        let status = pod.status
        let conditions = status?.conditions ?? []
        let scheduledCondition = conditions.first { $0.type == "PodScheduled" }
        let nodeName = pod.spec.nodeName ?? ""
        let statuses = status?.containerStatuses ?? []
        let wanted = container ?? pod.spec.containers.first?.name ?? statuses.first?.name
        let containerStatus = statuses.first { $0.name == wanted }
        let state = containerStatus?.state
        let last = containerStatus?.raw[path: ["lastState", "terminated"]]
        self.init(
            name: pod.metadata.name ?? "",
            createdAt: pod.metadata.creationTimestamp,
            deleting: pod.metadata.deletionTimestamp != nil,
            scheduled: !nodeName.isEmpty || scheduledCondition?.status == "True",
            schedulingMessage: scheduledCondition?.status == "True" ? nil : scheduledCondition?.message,
            podPhase: status?.phase,
            podReason: status?.raw["reason"]?.stringValue,
            podMessage: status?.raw["message"]?.stringValue,
            ready: status?.isReady ?? false,
            container: wanted,
            containerStatusKnown: containerStatus != nil,
            containerWaitingReason: state?[path: ["waiting", "reason"]]?.stringValue,
            containerWaitingMessage: state?[path: ["waiting", "message"]]?.stringValue,
            containerRunning: state?["running"]?.objectValue != nil,
            containerStartedAt: containerStatus?.runningStartedAt,
            containerTerminatedReason: state?[path: ["terminated", "reason"]]?.stringValue,
            containerExitCode: state?[path: ["terminated", "exitCode"]]?.intValue.map { Int(clamping: $0) },
            lastTerminatedReason: last?["reason"]?.stringValue,
            lastExitCode: last?["exitCode"]?.intValue.map { Int(clamping: $0) },
            restartCount: Int(containerStatus?.restartCount ?? 0),
            podIP: status?.podIP.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The container was terminated (current state), with any exit code.
    public var containerTerminated: Bool { containerTerminatedReason != nil || containerExitCode != nil }
}

/// Everything the readiness policy looks at for one pod.
public struct PodReadinessInput: Sendable {
    public var facts: PodFacts
    /// The log judgement of the runtime container; `nil` when the log is unavailable.
    public var judgement: LogJudgement?
    public var models: ModelsProbeResult
    /// The id `/v1/models` must list (exact match).
    public var expectedModel: String
    public var runtime: RuntimeKind
    /// Whether `runtime.loadedPattern` matched a log line; `nil` when no pattern is configured.
    public var loadedPatternMatched: Bool?
    /// This incarnation (pod uid and container restart count) is in `status.modelReadyPods`: its log already
    /// proved the load before the controller restarted, so a missing judgement is not a missing proof.
    public var provenEarlier: Bool

    /// Creates an input.
    public init(
        facts: PodFacts, judgement: LogJudgement?, models: ModelsProbeResult, expectedModel: String,
        runtime: RuntimeKind = .vllm, loadedPatternMatched: Bool? = nil, provenEarlier: Bool = false
    ) {
        self.facts = facts
        self.judgement = judgement
        self.models = models
        self.expectedModel = expectedModel
        self.runtime = runtime
        self.loadedPatternMatched = loadedPatternMatched
        self.provenEarlier = provenEarlier
    }
}

/// The model readiness of one pod: its phase, whether it may receive traffic, and why.
public struct PodReadiness: Sendable, Equatable {
    public var phase: ModelPodPhase
    /// True only in ``ModelPodPhase/modelReady``.
    public var modelReady: Bool
    /// A CamelCase machine word (`ModelListed`, `WrongModel`, `ModelLoadFailed`, `CrashLoopBackOff`, ...).
    public var reason: String
    /// A short human explanation.
    public var message: String

    /// Creates a readiness; `modelReady` follows the phase.
    public init(phase: ModelPodPhase, reason: String, message: String) {
        self.phase = phase
        self.modelReady = phase == .modelReady
        self.reason = reason
        self.message = message
    }
}
