import Foundation

/// How a pod's runtime endpoints are reached.
public enum PodAccess: String, Sendable, CaseIterable {
    /// `http://podIP:port` — the controller runs inside the cluster network.
    case direct
    /// Through the API server's pod proxy (`/api/v1/namespaces/NS/pods/NAME:PORT/proxy/...`), for running the
    /// controller outside the cluster.
    case proxy
}

/// The operator's run-time settings (the `modelrollout controller` flags).
public struct ControllerOptions: Sendable {
    /// Namespaces whose ModelRollouts (and their Deployments, Pods, HTTPRoutes) are watched.
    public var namespaces: [String]
    public var podAccess: PodAccess
    /// `host:port` of `/metrics`; nil disables it.
    public var metricsBindAddress: String?
    /// `host:port` of `/healthz` and `/readyz`; nil disables them.
    public var healthBindAddress: String?
    public var leaderElection: Bool
    public var leaderElectionNamespace: String
    public var leaderElectionID: String
    /// Lease timing in seconds (controller-runtime's defaults: 15 / 10 / 2).
    public var leaseDuration: Double = 15
    public var renewDeadline: Double = 10
    public var retryPeriod: Double = 2
    /// Identity in the leader-election Lease and in Events.
    public var identity: String
    /// How often pods that are loading are probed (`/v1/models`, log), in seconds.
    public var loadingProbeInterval: Double
    /// How often a rollout in progress is re-evaluated even without watch events, in seconds.
    public var resyncInterval: Double
    /// Seconds between reconciles of a ModelRollout with nothing to do (events wake it sooner).
    public var steadyResyncInterval: Double = 300
    /// Per-request timeout towards pods, in seconds.
    public var podRequestTimeout: Double
    /// ModelRollouts reconciled at once (controller-runtime's `MaxConcurrentReconciles`). Reconciles mostly wait
    /// on pods and the API server, so more workers than cores pay off with many rollouts.
    public var workers: Int = 8
    /// Upper bound of bytes read from a pod log per poll.
    public var logLimitBytes: Int

    public init(
        namespaces: [String] = ["llm-serving"], podAccess: PodAccess = .direct, metricsBindAddress: String? = nil,
        healthBindAddress: String? = nil, leaderElection: Bool = false,
        leaderElectionNamespace: String = "llm-serving", leaderElectionID: String = "modelrollout-controller",
        identity: String = ProcessInfo.processInfo.hostName + "_" + String(ProcessInfo.processInfo.processIdentifier),
        loadingProbeInterval: Double = 0.5, resyncInterval: Double = 5, podRequestTimeout: Double = 2,
        logLimitBytes: Int = 256 * 1024
    ) {
        self.namespaces = namespaces
        self.podAccess = podAccess
        self.metricsBindAddress = metricsBindAddress
        self.healthBindAddress = healthBindAddress
        self.leaderElection = leaderElection
        self.leaderElectionNamespace = leaderElectionNamespace
        self.leaderElectionID = leaderElectionID
        self.identity = identity
        self.loadingProbeInterval = loadingProbeInterval
        self.resyncInterval = resyncInterval
        self.podRequestTimeout = podRequestTimeout
        self.logLimitBytes = logLimitBytes
    }
}
