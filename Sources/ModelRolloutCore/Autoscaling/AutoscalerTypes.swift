import Foundation

/// Where one replica of the served model stands, as the autoscaler sees it.
public struct ReplicaState: Sendable, Hashable, Codable {
    public enum Phase: String, Sendable, Hashable, Codable {
        /// The model is loaded and listed: routable capacity.
        case ready
        /// Scheduling, pulling, starting or loading: capacity on its way, never routable.
        case loading
        /// Being removed.
        case terminating
        /// Failed to start or load.
        case failed
    }

    public var name: String
    public var phase: Phase
    /// Seconds since the pod was created (loading pods: how far into the cold start they are).
    public var ageSeconds: Double
    /// Requests being decoded and waiting on this replica (ready replicas), when measured.
    public var running: Double?
    public var waiting: Double?

    public init(name: String, phase: Phase, ageSeconds: Double, running: Double? = nil, waiting: Double? = nil) {
        self.name = name
        self.phase = phase
        self.ageSeconds = ageSeconds
        self.running = running
        self.waiting = waiting
    }
}

/// State the autoscaler carries from one decision to the next (kept by the caller: in memory in the bench, in
/// the controller's memory and `status` in the cluster). All times are seconds on the caller's clock.
public struct AutoscalerMemory: Sendable, Hashable, Codable {
    /// Recent recommendations (time, replicas), newest last, for scale-down stabilisation.
    public var recommendations: [Recommendation]
    /// When the replicas last changed, and to what.
    public var lastChangeTime: Double?

    public struct Recommendation: Sendable, Hashable, Codable {
        public var time: Double
        public var replicas: Int

        public init(time: Double, replicas: Int) {
            self.time = time
            self.replicas = replicas
        }
    }

    public init(recommendations: [Recommendation] = [], lastChangeTime: Double? = nil) {
        self.recommendations = recommendations
        self.lastChangeTime = lastChangeTime
    }
}

/// Everything one autoscaling decision looks at.
public struct AutoscalerInput: Sendable {
    /// Seconds on the caller's clock (virtual time in the bench, Unix time in the controller).
    public var time: Double
    public var spec: AutoscalingSpec
    /// The Deployment's current `spec.replicas`.
    public var currentReplicas: Int
    public var replicas: [ReplicaState]
    /// Estimated arrivals per second now (nil: no metrics).
    public var arrivalRate: Double?
    /// Estimated change of the arrival rate, requests per second per second (nil: unknown, treated as 0).
    public var arrivalTrend: Double?
    /// Requests per second one ready replica completes when saturated, as measured; nil: use the fallback
    /// `spec.replicaThroughput`.
    public var measuredThroughput: Double?
    /// The planning cold start in seconds (pod creation → model ready), e.g. `LoadTimeStatistics.planningLoadTime`.
    public var coldStartSeconds: Double
    public var memory: AutoscalerMemory

    public init(
        time: Double, spec: AutoscalingSpec, currentReplicas: Int, replicas: [ReplicaState], arrivalRate: Double?,
        arrivalTrend: Double? = nil, measuredThroughput: Double? = nil, coldStartSeconds: Double,
        memory: AutoscalerMemory = AutoscalerMemory()
    ) {
        self.time = time
        self.spec = spec
        self.currentReplicas = currentReplicas
        self.replicas = replicas
        self.arrivalRate = arrivalRate
        self.arrivalTrend = arrivalTrend
        self.measuredThroughput = measuredThroughput
        self.coldStartSeconds = coldStartSeconds
        self.memory = memory
    }
}

/// One autoscaling decision with its explanation.
public struct AutoscaleDecision: Sendable, Hashable {
    /// The replicas the Deployment should have.
    public var desiredReplicas: Int
    /// A stable rule identifier: `forecast`, `backlog`, `hold-loading`, `scale-down-stabilised`, `bounds`,
    /// `no-metrics`, ...
    public var rule: String
    /// The inputs that mattered, compactly formatted, for a DecisionRecord.
    public var inputs: [String: String]
    public var message: String
    /// When metrics are missing the autoscaler holds and says why here (the controller reports a condition).
    public var holdReason: String?
    /// The memory to pass to the next decision.
    public var memory: AutoscalerMemory
    /// The replicas the whole fleet needs now (forecast plus backlog, within bounds) before scale-down
    /// stabilisation; nil when the autoscaler holds for lack of metrics. During a rollout the planner splits it
    /// between the two revisions by their route weights.
    public var recommendedReplicas: Int?

    public init(
        desiredReplicas: Int, rule: String, inputs: [String: String], message: String, holdReason: String? = nil,
        memory: AutoscalerMemory, recommendedReplicas: Int? = nil
    ) {
        self.recommendedReplicas = recommendedReplicas
        self.desiredReplicas = desiredReplicas
        self.rule = rule
        self.inputs = inputs
        self.message = message
        self.holdReason = holdReason
        self.memory = memory
    }
}
