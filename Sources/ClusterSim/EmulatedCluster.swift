import Foundation
import KubeCore

/// The whole emulated cluster in one process: the API server and the simulated workloads (Deployment
/// controller, kubelet, simulated vLLM processes), all writing through the same storage.
///
/// Used by `modelrollout sim`, the demo, and the integration tests of the client, the runtime and the controller.
public actor EmulatedCluster {
    /// How the emulated cluster is built.
    public struct Configuration: Sendable {
        public var api: APIServer.Configuration
        /// Simulated seconds per wall-clock second for the workloads (model loads, image pulls).
        public var timeScale: Double
        public var gpuNodes: Int
        public var gpusPerNode: Int
        /// Simulated model-load seconds of pods that do not set `sim.modelrollout.io/load-seconds`.
        public var defaultLoadSeconds: Double
        /// Simulated image-pull seconds of pods that do not set `sim.modelrollout.io/pull-seconds`.
        public var defaultPullSeconds: Double
        /// Run the Deployment controller and kubelet; without them the cluster is "apiserver semantics only".
        public var workloads: Bool
        /// Pod IPs are allocated upwards from this loopback address. The default is a random /16 inside
        /// 127.0.0.0/8, so several emulated clusters on one machine (tests, a demo, CI) do not collide on
        /// `podIP:8000`.
        public var podAddressBase: String
        /// Simulated serving seconds per wall second for request latencies (prefill, decode), independent of
        /// `timeScale`, so compressed model loads do not make requests instantaneous.
        public var servingTimeScale: Double
        /// Serve the HTTPRoute gateway on this `HOST:PORT` (port 0: a free port); nil: no gateway.
        public var gatewayAddress: String?
        /// Only HTTPRoutes in these namespaces are served by the gateway; nil: all.
        public var gatewayNamespaces: Set<String>?
        /// Install the CRDs of `crds/` (ModelRollout, HTTPRoute and InferencePool subsets) at start, as a
        /// platform team would before installing the operator.
        public var installCRDs: Bool = true

        public init(
            api: APIServer.Configuration = APIServer.Configuration(), timeScale: Double = 30, gpuNodes: Int = 4,
            gpusPerNode: Int = 8, defaultLoadSeconds: Double = 120, defaultPullSeconds: Double = 20,
            workloads: Bool = true,
            podAddressBase: String = "127.\(Int.random(in: 2...250)).\(Int.random(in: 0...255)).0",
            servingTimeScale: Double = 1, gatewayAddress: String? = nil, gatewayNamespaces: Set<String>? = nil
        ) {
            self.api = api
            self.timeScale = timeScale
            self.gpuNodes = gpuNodes
            self.gpusPerNode = gpusPerNode
            self.defaultLoadSeconds = defaultLoadSeconds
            self.defaultPullSeconds = defaultPullSeconds
            self.workloads = workloads
            self.podAddressBase = podAddressBase
            self.servingTimeScale = servingTimeScale
            self.gatewayAddress = gatewayAddress
            self.gatewayNamespaces = gatewayNamespaces
        }
    }

    public nonisolated let configuration: Configuration
    public nonisolated let apiServer: APIServer
    public nonisolated let workloads: WorkloadSimulator
    /// The HTTPRoute gateway, when `configuration.gatewayAddress` is set.
    public nonisolated let gateway: Gateway?
    private var workloadsRunning = false

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        let storage = ObjectStorage()
        let workloads = WorkloadSimulator(
            store: storage,
            configuration: WorkloadSimulator.Configuration(
                nodeCount: configuration.gpuNodes, gpusPerNode: configuration.gpusPerNode,
                timeScale: configuration.timeScale, defaultLoadSeconds: configuration.defaultLoadSeconds,
                defaultPullSeconds: configuration.defaultPullSeconds, baseAddress: configuration.podAddressBase,
                servingTimeScale: configuration.servingTimeScale))
        self.workloads = workloads
        if let address = configuration.gatewayAddress {
            var gatewayConfiguration = Gateway.Configuration(address: address) ?? Gateway.Configuration()
            gatewayConfiguration.namespaces = configuration.gatewayNamespaces
            self.gateway = Gateway(
                store: storage, configuration: gatewayConfiguration,
                modelState: { namespace, pod in await workloads.modelState(namespace: namespace, pod: pod) },
                queueState: { namespace, pod in await workloads.queueState(namespace: namespace, pod: pod) })
        } else {
            self.gateway = nil
        }
        var api = configuration.api
        api.logSource = workloads.logStore
        self.apiServer = APIServer(configuration: api, storage: storage)
    }

    /// The cluster's storage, for in-process access (tests, the demo).
    public nonisolated var storage: ObjectStorage { apiServer.storage }

    /// Starts the API server, then the simulated workloads and the gateway; returns the API server's address.
    public func start() async throws -> APIServer.BoundAddress {
        let address = try await apiServer.start()
        if configuration.installCRDs { try await BundledCRDs.install(into: storage) }
        if configuration.workloads, !workloadsRunning {
            await workloads.start()
            workloadsRunning = true
        }
        if let gateway { _ = try await gateway.start() }
        return address
    }

    /// The gateway's URL (`http://HOST:PORT`) once started; nil without a gateway.
    public func gatewayURL() async -> String? { await gateway?.url }

    /// Stops the gateway, the workloads (every simulated process) and then the API server.
    public func stop() async {
        await gateway?.stop()
        if workloadsRunning {
            await workloads.stop()
            workloadsRunning = false
        }
        await apiServer.stop()
    }

    /// A kubeconfig for this cluster (https with the CA embedded in TLS mode; the first token as the user).
    public func kubeconfig(namespace: String = "llm-serving") async -> String {
        await apiServer.kubeconfig(namespace: namespace)
    }

    /// Mints a bearer token for the service account `namespace/name`, governed by RBAC (see
    /// `APIServer.serviceAccountToken`). The ServiceAccount object must exist when the token is used.
    public func serviceAccountToken(namespace: String, name: String) async -> String {
        await apiServer.serviceAccountToken(namespace: namespace, name: name)
    }

    /// A kubeconfig that authenticates as the service account `serviceAccountNamespace/serviceAccount` with a
    /// freshly minted token (https only: build the cluster with `api.tls = true`).
    public func serviceAccountKubeconfig(
        serviceAccountNamespace: String, serviceAccount: String, namespace: String = "llm-serving"
    ) async -> String {
        let token = await serviceAccountToken(namespace: serviceAccountNamespace, name: serviceAccount)
        return await apiServer.kubeconfig(
            token: token, namespace: namespace, contextName: "\(serviceAccount)@clustersim")
    }
}
