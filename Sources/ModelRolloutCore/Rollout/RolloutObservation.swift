import Foundation
import KubeCore

/// What the controller observed about one revision (a Deployment and the Service the route points at).
public struct RevisionObservation: Sendable, Equatable {
    public var deployment: String
    public var service: String
    /// Whether the Deployment exists.
    public var exists: Bool
    /// `spec.replicas` of the Deployment.
    public var desiredReplicas: Int
    /// Pods whose model is loaded and listed by the runtime (PodReadinessPolicy: ModelReady).
    public var modelReady: Int
    /// Pods on their way (scheduling, pulling, starting, loading).
    public var loading: Int
    /// Of those, pods the scheduler cannot place (`PodScheduled=False`, reason `Unschedulable`: no node has the
    /// GPUs they request).
    public var unschedulable: Int
    /// The scheduler's message for the first unschedulable pod (e.g. `0/1 nodes are available: 1 Insufficient
    /// nvidia.com/gpu.`).
    public var unschedulableMessage: String?
    /// Pods being deleted (their GPUs free once they are gone).
    public var terminating: Int = 0
    /// Pods that failed to start or load the model.
    public var failed: Int
    /// Why the first failed pod failed.
    public var failureMessage: String?
    /// Whether the Service only ever contains model-ready pods (a model-level readiness probe such as `/health`
    /// or `/v1/models`). When false (a process-level probe), a loading pod is a Ready endpoint and would receive
    /// traffic, so the candidate is brought to full size before it gets any weight.
    public var modelGatedEndpoints: Bool
    /// Completed requests per second on this revision over the last window, if measured.
    public var requestRate: Double?

    public init(
        deployment: String, service: String, exists: Bool = true, desiredReplicas: Int = 0, modelReady: Int = 0,
        loading: Int = 0, failed: Int = 0, failureMessage: String? = nil, modelGatedEndpoints: Bool = true,
        requestRate: Double? = nil, unschedulable: Int = 0, unschedulableMessage: String? = nil
    ) {
        self.deployment = deployment
        self.service = service
        self.exists = exists
        self.desiredReplicas = desiredReplicas
        self.modelReady = modelReady
        self.loading = loading
        self.unschedulable = unschedulable
        self.unschedulableMessage = unschedulableMessage
        self.failed = failed
        self.failureMessage = failureMessage
        self.modelGatedEndpoints = modelGatedEndpoints
        self.requestRate = requestRate
    }

    /// A revision whose Deployment does not exist.
    public static func missing(deployment: String, service: String) -> RevisionObservation {
        RevisionObservation(deployment: deployment, service: service, exists: false)
    }
}

/// The live HTTPRoute as the planner needs it.
public struct RouteState: Sendable, Equatable {
    /// Whether the HTTPRoute exists.
    public var found: Bool
    /// Weights of the backendRefs of the rule the operator manages, by Service name (absent = no backendRef).
    public var weights: [String: Int]

    public init(found: Bool, weights: [String: Int] = [:]) {
        self.found = found
        self.weights = weights
    }

    /// The share (percent, rounded) of a Service among the rule's backends.
    public func share(of service: String) -> Int {
        let total = weights.values.reduce(0) { $0 + max(0, $1) }
        guard total > 0, let weight = weights[service] else { return 0 }
        return Int((Double(max(0, weight)) * 100 / Double(total)).rounded())
    }
}

/// The analysis of the candidate over the current step's window, as the planner consumes it.
public struct AnalysisOutcome: Sendable, Equatable {
    public var verdict: AnalysisVerdict
    public var reasons: [String]
    /// Measured values for the decision record (e.g. `candidateTtftP95: 1.84s`).
    public var inputs: [String: String]

    public init(verdict: AnalysisVerdict, reasons: [String] = [], inputs: [String: String] = [:]) {
        self.verdict = verdict
        self.reasons = reasons
        self.inputs = inputs
    }
}

/// Everything one reconcile of a `ModelRollout` observed.
public struct RolloutObservation: Sendable {
    public var now: Date
    /// `metadata.generation` of the ModelRollout.
    public var generation: Int64
    public var spec: ModelRolloutSpec
    /// The status as last written (empty for a new object).
    public var status: ModelRolloutStatus
    /// Problems found in the spec (decoding or `validate()`); any problem means nothing is patched.
    public var specProblems: [String]
    public var route: RouteState
    public var stable: RevisionObservation?
    public var candidate: RevisionObservation?
    /// The previous revision after a promotion, waiting to be scaled down.
    public var retired: RevisionObservation?
    /// The analysis of the candidate over the current step's window, when the controller could compute one.
    public var analysis: AnalysisOutcome?
    /// Requests per second one replica can carry at the target utilisation, when measured or configured.
    public var replicaCapacity: Double?
    /// Requests per second one replica sustains at saturation (measured, else `spec.autoscaling.replicaThroughput`),
    /// for the GPU-budget ladder; nil when unknown.
    public var replicaThroughput: Double?
    /// Requests per second arriving at both revisions (the fleet's measured arrival rate), during a rollout whose
    /// ladder needs it; nil when not measured.
    public var demandRate: Double?
    /// The autoscaler's decision for the stable revision (when `spec.autoscaling.enabled` and no rollout runs).
    public var autoscale: AutoscaleDecision?
    /// The managed weights as this controller process last wrote them (nil: it wrote none since it started). A
    /// route that differs was changed by someone else.
    public var lastWrittenWeights: [String: Int]?

    public init(
        now: Date, generation: Int64, spec: ModelRolloutSpec, status: ModelRolloutStatus, specProblems: [String] = [],
        route: RouteState, stable: RevisionObservation?, candidate: RevisionObservation? = nil,
        retired: RevisionObservation? = nil, analysis: AnalysisOutcome? = nil, replicaCapacity: Double? = nil,
        autoscale: AutoscaleDecision? = nil, lastWrittenWeights: [String: Int]? = nil,
        replicaThroughput: Double? = nil, demandRate: Double? = nil
    ) {
        self.replicaThroughput = replicaThroughput
        self.demandRate = demandRate
        self.autoscale = autoscale
        self.lastWrittenWeights = lastWrittenWeights
        self.now = now
        self.generation = generation
        self.spec = spec
        self.status = status
        self.specProblems = specProblems
        self.route = route
        self.stable = stable
        self.candidate = candidate
        self.retired = retired
        self.analysis = analysis
        self.replicaCapacity = replicaCapacity
    }
}

/// A change the controller must make.
public enum RolloutAction: Sendable, Equatable {
    /// Set `spec.replicas` of a Deployment through its scale subresource.
    case scale(deployment: String, replicas: Int)
    /// Set the weights of managed backendRefs by Service name; nil removes the backendRef.
    case setWeights([String: Int?])
}

/// A Kubernetes Event to record on the ModelRollout.
public struct RolloutEvent: Sendable, Equatable {
    public var warning: Bool
    public var reason: String
    public var message: String

    public init(warning: Bool, reason: String, message: String) {
        self.warning = warning
        self.reason = reason
        self.message = message
    }
}

/// The outcome of planning: the status to write, the changes to make (in order), events, and when to look again.
public struct RolloutPlan: Sendable {
    public var status: ModelRolloutStatus
    public var actions: [RolloutAction]
    public var events: [RolloutEvent]
    /// Decisions made in this round (also appended to `status.decisions`).
    public var decisions: [DecisionRecord]
    /// Seconds until the next evaluation is needed (nil: only on change).
    public var requeueAfter: Double?
    /// Whether the actions must only be reported (`mode: Observe`, or the spec is invalid).
    public var observeOnly: Bool
}

/// Which revisions play which part, derived from the spec, the status and the route.
public struct RolloutParties: Sendable, Equatable {
    public struct Revision: Sendable, Equatable {
        public var deployment: String
        public var service: String

        public init(deployment: String, service: String) {
            self.deployment = deployment
            self.service = service
        }
    }

    public var stable: Revision
    /// The revision being rolled out, or being aborted when it is no longer `spec.deployment`.
    public var candidate: Revision?
    public var retired: Revision?
    /// Whether the stable revision was adopted from the route in this round (a new ModelRollout).
    public var adopted: Bool

    /// All Services whose weights the operator manages.
    public var services: Set<String> {
        var names: Set<String> = [stable.service]
        if let candidate { names.insert(candidate.service) }
        if let retired { names.insert(retired.service) }
        return names
    }
}
