import Foundation
import Logging

/// The simulated nodes and workloads of the emulated cluster in one piece: a Deployment controller, a kubelet over a
/// GPU node pool, the container log store, all on one (compressible) simulated clock and writing through one
/// `ClusterObjectStore`.
public actor WorkloadSimulator {
    /// Settings of the simulated workloads.
    public struct Configuration: Sendable {
        public var nodeCount: Int
        public var gpusPerNode: Int
        /// Simulated seconds per wall second (100: a 5-minute model load takes 3 s).
        public var timeScale: Double
        public var defaultLoadSeconds: Double
        public var defaultPullSeconds: Double
        /// Pods get consecutive loopback addresses from this base + 2 (`127.1.0.0` → `127.1.0.2`, ...).
        public var baseAddress: String
        public var defaultVLLMVersion: VLLMVersion
        /// Simulated seconds between the controllers' full resyncs.
        public var resyncSeconds: Double
        public var maxLogLinesPerContainer: Int
        /// Simulated serving seconds per wall second for request latencies (prefill, decode), independent of
        /// `timeScale`: with timeScale 60 a 4-minute model load takes 4 s but a 40 ms prefill still takes 40 ms.
        public var servingTimeScale: Double

        public init(
            nodeCount: Int = 2, gpusPerNode: Int = 8, timeScale: Double = 1, defaultLoadSeconds: Double = 120,
            defaultPullSeconds: Double = 20, baseAddress: String = "127.1.0.0",
            defaultVLLMVersion: VLLMVersion = .modern, resyncSeconds: Double = 10,
            maxLogLinesPerContainer: Int = 20_000, servingTimeScale: Double = 1
        ) {
            self.nodeCount = nodeCount
            self.gpusPerNode = gpusPerNode
            self.timeScale = timeScale
            self.defaultLoadSeconds = defaultLoadSeconds
            self.defaultPullSeconds = defaultPullSeconds
            self.baseAddress = baseAddress
            self.defaultVLLMVersion = defaultVLLMVersion
            self.resyncSeconds = resyncSeconds
            self.maxLogLinesPerContainer = maxLogLinesPerContainer
            self.servingTimeScale = servingTimeScale
        }
    }

    public let configuration: Configuration
    public let clock: any WorkloadClock
    /// The logs of all simulated containers; hand it to the API server as its `ContainerLogSource`.
    public let logStore: ContainerLogStore
    public let deploymentController: DeploymentController
    public let kubelet: Kubelet
    private var running = false

    /// - Parameter clock: defaults to a `SimClock` with `configuration.timeScale`.
    public init(
        store: any ClusterObjectStore, configuration: Configuration = Configuration(),
        clock: (any WorkloadClock)? = nil,
        logger: Logger = Logger(label: "clustersim.workloads", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        let clock = clock ?? SimClock(timeScale: configuration.timeScale)
        self.configuration = configuration
        self.clock = clock
        self.logStore = ContainerLogStore(clock: clock, maxLinesPerContainer: configuration.maxLogLinesPerContainer)
        self.deploymentController = DeploymentController(
            store: store, clock: clock, resyncSeconds: configuration.resyncSeconds, logger: logger)
        self.kubelet = Kubelet(
            store: store, clock: clock, logs: logStore,
            configuration: KubeletConfiguration(
                nodeCount: configuration.nodeCount, gpusPerNode: configuration.gpusPerNode,
                baseAddress: configuration.baseAddress, defaultPullSeconds: configuration.defaultPullSeconds,
                defaultLoadSeconds: configuration.defaultLoadSeconds,
                defaultVLLMVersion: configuration.defaultVLLMVersion, resyncSeconds: configuration.resyncSeconds,
                servingTimeScale: configuration.servingTimeScale),
            logger: logger)
    }

    /// Starts the kubelet and the Deployment controller.
    public func start() async {
        guard !running else { return }
        running = true
        await kubelet.start()
        await deploymentController.start()
    }

    /// Whether a pod's model is loaded: `.loaded` when every simulated vLLM container of the pod serves (pods
    /// without vLLM containers count as loaded once all their containers run), `.notLoaded` while any is still
    /// loading or not running, `.unknown` when this simulator does not run the pod.
    public func modelState(namespace: String, pod: String) async -> PodModelState {
        guard let processes = await kubelet.processes(namespace: namespace, name: pod) else { return .unknown }
        for process in processes {
            guard let process else { return .notLoaded }
            if let vllm = process as? SimulatedVLLM, await !vllm.isServing { return .notLoaded }
        }
        return processes.isEmpty ? .unknown : .loaded
    }

    /// The waiting and running requests of a pod's simulated runtime (summed over its runtime containers); nil
    /// for a pod the simulator does not run.
    public func queueState(namespace: String, pod: String) async -> PodQueueState? {
        guard let processes = await kubelet.processes(namespace: namespace, name: pod) else { return nil }
        var total: PodQueueState?
        for case let vllm as SimulatedVLLM in processes.compactMap({ $0 }) {
            let state = await vllm.queueState()
            total = PodQueueState(
                waiting: (total?.waiting ?? 0) + state.waiting, running: (total?.running ?? 0) + state.running)
        }
        return total
    }

    /// Stops both and every simulated process.
    public func stop() async {
        guard running else { return }
        running = false
        await deploymentController.stop()
        await kubelet.stop()
    }
}

/// Whether a simulated pod's model is loaded and served (see `WorkloadSimulator.modelState(namespace:pod:)`).
public enum PodModelState: String, Sendable, Hashable {
    case loaded
    case notLoaded
    case unknown
}
