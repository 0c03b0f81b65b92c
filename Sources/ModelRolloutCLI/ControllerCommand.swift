import ArgumentParser
import Foundation
import KubeClient
import Logging
import ModelRolloutController

/// `modelrollout controller`: runs the operator against a cluster until SIGINT/SIGTERM.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run the ModelRollout operator (watches ModelRollouts and gates traffic on model readiness).",
        discussion: """
            Connects with --kubeconfig (else $KUBECONFIG, ~/.kube/config, or the in-cluster service account) and \
            watches ModelRollouts, Deployments, Pods and HTTPRoutes in the given namespaces (list + watch, never \
            polling the API server). For every pod of a managed Deployment it proves model readiness — the \
            runtime's /v1/models lists spec.model and the pod log shows the model loaded with no fatal error \
            after it — and moves HTTPRoute weights step by step only when the candidate's model-ready capacity \
            carries the next share, analysing TTFT, queue wait and errors between steps and rolling back \
            automatically.

            Pods are reached at podIP:port (--pod-access direct, inside the cluster) or through the API \
            server's pod proxy (--pod-access proxy, for running the operator on a workstation).

            Serves Prometheus metrics on --metrics-bind-address (/metrics) and probes on \
            --health-probe-bind-address (/healthz, /readyz = caches synced). An empty address disables it.
            """
    )

    @Option(help: ArgumentHelp("Path of a kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster).",
        valueName: "file"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context to use (default: its current-context).", valueName: "name"))
    var context: String?

    @Option(name: .customLong("namespace"), help: ArgumentHelp(
        "A namespace to watch; repeat for several (default: llm-serving).", valueName: "name"))
    var namespaces: [String] = []

    @Option(help: ArgumentHelp("How pods are reached: direct (podIP:port) or proxy (API server pod proxy).",
        valueName: "direct|proxy"))
    var podAccess: String = "direct"

    @Option(help: ArgumentHelp("host:port of /metrics (port 0 picks a free one; empty disables).", valueName: "addr"))
    var metricsBindAddress: String = ":8080"

    @Option(help: ArgumentHelp("host:port of /healthz and /readyz (empty disables).", valueName: "addr"))
    var healthProbeBindAddress: String = ":8081"

    @Flag(help: "Use a Lease so that only one replica reconciles (the others keep warm caches).")
    var leaderElect = false

    @Option(help: ArgumentHelp("Namespace of the leader-election Lease.", valueName: "name"))
    var leaderElectionNamespace: String = "llm-serving"

    @Option(help: ArgumentHelp("Seconds a non-leader waits before taking over an unrenewed Lease.", valueName: "s"))
    var leaderElectionLeaseDuration: Double = 15

    @Option(help: ArgumentHelp("Seconds the leader keeps retrying a failing renewal before giving up.",
        valueName: "s"))
    var leaderElectionRenewDeadline: Double = 10

    @Option(help: ArgumentHelp("Seconds between leader-election attempts.", valueName: "s"))
    var leaderElectionRetryPeriod: Double = 2

    @Option(help: ArgumentHelp("Identity in the Lease and in Events (default: hostname_pid).", valueName: "id"))
    var identity: String?

    @Option(help: ArgumentHelp("Log format: text or json (one JSON object per line, k8s.* metadata).",
        valueName: "text|json"))
    var logFormat: String = "text"

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"

    @Option(help: ArgumentHelp("Seconds between probes of pods that are loading their model.", valueName: "s"))
    var loadingProbeInterval: Double = 0.5

    @Option(help: ArgumentHelp("Seconds between re-evaluations of a rollout in progress.", valueName: "s"))
    var resyncInterval: Double = 5

    @Option(
        help: ArgumentHelp(
            "Seconds between re-evaluations of a ModelRollout with nothing to do (no rollout, autoscaling off, "
                + "nothing loading); a change of the ModelRollout, its route, Deployments or pods wakes it sooner.",
            valueName: "s"))
    var steadyResyncInterval: Double = 300

    @Option(help: ArgumentHelp("ModelRollouts reconciled at once (1–64).", valueName: "n"))
    var workers: Int = 8

    @Option(
        name: .customLong("kube-api-qps"),
        help: ArgumentHelp(
            "Sustained requests per second to the API server (client-side limit; pod probes are not counted).",
            valueName: "qps"))
    var kubeAPIQPS: Double = 100

    @Option(
        name: .customLong("kube-api-burst"),
        help: ArgumentHelp("Requests allowed at once above --kube-api-qps.", valueName: "n"))
    var kubeAPIBurst: Int = 200

    @Option(help: ArgumentHelp("Seconds each request to a pod (/v1/models, /metrics, its log) may take.", valueName: "s"))
    var podRequestTimeout: Double = 2

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be between 1 and 64") }
        guard kubeAPIQPS > 0, kubeAPIQPS.isFinite, kubeAPIBurst >= 1 else {
            throw ValidationError("--kube-api-qps must be positive and --kube-api-burst at least 1")
        }
        guard podRequestTimeout > 0, podRequestTimeout <= 60 else {
            throw ValidationError("--pod-request-timeout must be in (0, 60] seconds")
        }
        guard PodAccess(rawValue: podAccess) != nil else {
            throw ValidationError("--pod-access must be direct or proxy, not \(podAccess)")
        }
        guard ["text", "json"].contains(logFormat) else {
            throw ValidationError("--log-format must be text or json, not \(logFormat)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
        }
        guard loadingProbeInterval > 0, resyncInterval > 0, steadyResyncInterval > 0 else {
            throw ValidationError(
                "--loading-probe-interval, --resync-interval and --steady-resync-interval must be positive")
        }
        guard leaderElectionLeaseDuration > leaderElectionRenewDeadline,
            leaderElectionRenewDeadline > 1.2 * leaderElectionRetryPeriod, leaderElectionRetryPeriod > 0
        else {
            throw ValidationError(
                "leader election needs lease-duration > renew-deadline > 1.2 × retry-period > 0 "
                    + "(got \(leaderElectionLeaseDuration), \(leaderElectionRenewDeadline), \(leaderElectionRetryPeriod))")
        }
        for namespace in namespaces where namespace.isEmpty {
            throw ValidationError("--namespace must not be empty")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        OperatorLogging.bootstrap(format: logFormat, level: level)
        let logger = Logger(label: "modelrollout.controller")
        _ = OperatorMetrics.bootstrapOnce()
        var configuration: ClientConfiguration = try .forCommand(kubeconfig: kubeconfig, context: context)
        configuration.qps = kubeAPIQPS
        configuration.burst = kubeAPIBurst
        let kube = try KubernetesClient(configuration: configuration, logger: logger)
        var options = ControllerOptions(
            namespaces: namespaces.isEmpty ? ["llm-serving"] : namespaces,
            podAccess: PodAccess(rawValue: podAccess) ?? .direct,
            metricsBindAddress: metricsBindAddress.isEmpty ? nil : metricsBindAddress,
            healthBindAddress: healthProbeBindAddress.isEmpty ? nil : healthProbeBindAddress,
            leaderElection: leaderElect, leaderElectionNamespace: leaderElectionNamespace,
            loadingProbeInterval: loadingProbeInterval, resyncInterval: resyncInterval,
            podRequestTimeout: podRequestTimeout)
        options.steadyResyncInterval = steadyResyncInterval
        options.workers = workers
        options.leaseDuration = leaderElectionLeaseDuration
        options.renewDeadline = leaderElectionRenewDeadline
        options.retryPeriod = leaderElectionRetryPeriod
        if let identity, !identity.isEmpty { options.identity = identity }
        let manager = OperatorManager(kube: kube, options: options, logger: logger)
        let task = Task { try await manager.run() }
        let signals = Task {
            let signal = await TerminationSignal.wait()
            logger.info("operator.stopping", metadata: ["signal": "\(signal)"])
            task.cancel()
        }
        var failure: String?
        do {
            try await task.value
        } catch is CancellationError {
        } catch {
            failure = "\(error)"
        }
        signals.cancel()
        try? await kube.shutdown()
        if let failure { throw CLIError("controller stopped: \(failure)") }
    }
}
