import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import ModelRolloutCore

/// Errors that end the operator.
public struct OperatorError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// The operator process: caches (ModelRollouts, Deployments, Pods, HTTPRoutes per watched namespace, list + watch),
/// the rollout controller, the metrics and health endpoints, and optional leader election.
///
/// With leader election the caches and endpoints run on every replica (warm standby) but only the leader
/// reconciles; losing the lease ends `run()` with an error so the process restarts, as controller-runtime does.
public final class OperatorManager: Sendable {
    public let options: ControllerOptions
    let kube: KubernetesClient
    let logger: Logger
    let rollouts: StoreSet<DynamicObject>
    let deployments: StoreSet<Deployment>
    let pods: StoreSet<Pod>
    let routes: StoreSet<HTTPRoute>
    let endpoints: PodEndpointClient
    let controller: Controller
    let server: OperatorHTTPServer
    let watcherConfiguration: WatcherConfiguration

    public init(kube: KubernetesClient, options: ControllerOptions, logger: Logger) {
        self.kube = kube
        self.options = options
        self.logger = logger
        rollouts = StoreSet(
            namespaces: options.namespaces,
            indexers: [
                RolloutEventMapping.deploymentIndex: { RolloutEventMapping.deploymentIndexValues($0.raw) },
                RolloutEventMapping.routeIndex: { RolloutEventMapping.routeIndexValues($0.raw) },
            ])
        deployments = StoreSet(namespaces: options.namespaces, transform: CacheTrim.deployment)
        pods = StoreSet(namespaces: options.namespaces, indexers: RolloutGatherer.podIndexers, transform: CacheTrim.pod)
        routes = StoreSet(namespaces: options.namespaces)
        endpoints = PodEndpointClient(kube: kube, access: options.podAccess, timeout: options.podRequestTimeout)
        let gatherer = RolloutGatherer(
            deployments: deployments, pods: pods, endpoints: endpoints,
            logs: PodLogFollower(kube: kube, options: options), memory: GatherMemory(), options: options,
            logger: logger)
        let recorder = EventRecorder(
            sink: KubernetesEventSink(client: kube), reportingController: "modelrollout.io/controller",
            reportingInstance: options.identity, logger: logger)
        let written = WrittenVersions()
        let reconciler = RolloutReconciler(
            source: KubernetesRolloutSource(
                kube: kube, gatherer: gatherer, rollouts: rollouts, routes: routes, written: written),
            actuator: KubernetesRolloutActuator(
                kube: kube, routeWriter: RouteWeightWriter(kube: kube), recorder: recorder, written: written),
            settings: RoundSettings(
                resyncInterval: options.resyncInterval, loadingProbeInterval: options.loadingProbeInterval,
                steadyResyncInterval: options.steadyResyncInterval),
            logger: logger)
        controller = Controller(
            name: "modelrollout", workers: max(1, options.workers), reconciler: reconciler, logger: logger)
        let stores = (rollouts, deployments, pods, routes)
        server = OperatorHTTPServer(
            metricsAddress: options.metricsBindAddress, healthAddress: options.healthBindAddress,
            registry: OperatorMetrics.registry,
            ready: { stores.0.isReady && stores.1.isReady && stores.2.isReady && stores.3.isReady },
            logger: logger)
        watcherConfiguration = WatcherConfiguration(timeoutSeconds: 240...300)
    }

    /// Runs until cancelled; throws when leadership is lost or a component fails for good.
    public func run() async throws {
        logger.info(
            "operator.starting",
            metadata: [
                "namespaces": "\(options.namespaces.joined(separator: ","))", "pod_access": "\(options.podAccess)",
                "leader_election": "\(options.leaderElection)",
            ])
        do {
            try await server.start()
        } catch {
            // A busy or invalid address: one clear error, and the HTTP clients are shut down before they are freed.
            await shutdown()
            throw error
        }
        if let port = await server.metricsPort { logger.info("operator.metrics", metadata: ["port": "\(port)"]) }
        if let port = await server.healthPort { logger.info("operator.health", metadata: ["port": "\(port)"]) }
        do {
            try await runComponents()
        } catch {
            await shutdown()
            throw error
        }
        await shutdown()
    }

    private func shutdown() async {
        await endpoints.shutdown()
        await server.stop()
    }

    /// Waits until every cache has listed its objects once: workers never reconcile against an empty cache (a pod
    /// list still in flight would read as "no model-ready pods" and roll back a healthy candidate).
    func waitForCaches() async throws {
        let stores: [any CacheSync] =
            Array(rollouts.stores.values) + Array(deployments.stores.values) + Array(pods.stores.values)
            + Array(routes.stores.values)
        for store in stores { try await store.waitUntilReady() }
        logger.info("caches.synced", metadata: ["stores": "\(stores.count)"])
    }

    private func runComponents() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for namespace in options.namespaces {
                startReflectors(namespace: namespace, group: &group)
            }
            if options.leaderElection {
                let elector = try LeaderElector(
                    configuration: LeaderElectionConfiguration(
                        leaseName: options.leaderElectionID, identity: options.identity,
                        leaseDuration: .milliseconds(Int64(options.leaseDuration * 1000)),
                        renewDeadline: .milliseconds(Int64(options.renewDeadline * 1000)),
                        retryPeriod: .milliseconds(Int64(options.retryPeriod * 1000))),
                    store: KubernetesLeaseStore(client: kube, namespace: options.leaderElectionNamespace),
                    logger: logger)
                group.addTask { try await elector.run() }
                let controller = self.controller
                let logger = self.logger
                group.addTask {
                    var controllerTask: Task<Void, Error>?
                    for await event in elector.events {
                        switch event {
                        case .startedLeading:
                            logger.info("leader.started", metadata: ["identity": "\(elector.configuration.identity)"])
                            controllerTask = Task {
                                try await self.waitForCaches()
                                try await controller.run()
                            }
                        case .stoppedLeading:
                            controllerTask?.cancel()
                            if controllerTask != nil { throw OperatorError("leader election lost") }
                        case .newLeader(let name):
                            logger.info("leader.observed", metadata: ["leader": "\(name)"])
                        }
                    }
                    controllerTask?.cancel()
                }
            } else {
                let controller = self.controller
                group.addTask {
                    try await self.waitForCaches()
                    try await controller.run()
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    func startReflectors(namespace: String, group: inout ThrowingTaskGroup<Void, Error>) {
        let controller = self.controller
        let rolloutStore = rollouts.stores[namespace] ?? Store()
        let allRolloutStores = Array(rollouts.stores.values)
        // Events of related objects wake only the ModelRollouts they concern (RolloutEventMapping), not every one
        // of the namespace: a pod change costs one reconcile, not one per ModelRollout. The rollout caches are
        // indexed by the Deployments and the route each ModelRollout names, so finding them costs the answer.
        let rolloutsOf: @Sendable (String) -> [ObjectKey] = { deployment in
            rolloutStore.byIndex(RolloutEventMapping.deploymentIndex, deployment).map(\.objectKey)
        }
        let eventLogger = logger
        let enqueueAll: @Sendable () async -> Void = {
            for object in rolloutStore.list() { await controller.enqueue(object.objectKey) }
        }
        let enqueueKeys: @Sendable ([ObjectKey]) async -> Void = { keys in
            for key in keys { await controller.enqueue(key) }
        }
        let configuration = watcherConfiguration
        let rolloutReflector = Reflector(
            watcher: Watcher(
                ResourceListerWatcher(kube.dynamic(.modelRollouts, namespace: namespace)),
                configuration: configuration, logger: logger),
            store: rolloutStore, logger: logger
        ) { event in await controller.enqueueSelf(for: event) }
        let deploymentReflector = Reflector(
            watcher: Watcher(
                ResourceListerWatcher(kube.resources(Deployment.self, namespace: namespace)),
                configuration: configuration, logger: logger),
            store: deployments.stores[namespace] ?? Store(), logger: logger
        ) { event in
            guard let name = event.object?.metadata.name else { return }
            await enqueueKeys(rolloutsOf(name))
        }
        let podReflector = Reflector(
            watcher: Watcher(
                ResourceListerWatcher(kube.resources(Pod.self, namespace: namespace)),
                configuration: configuration, logger: logger),
            store: pods.stores[namespace] ?? Store(), logger: logger
        ) { event in
            guard let metadata = event.object?.metadata else { return }
            switch RolloutEventMapping.targets(forPod: metadata, rolloutsOf: rolloutsOf) {
            case .rollouts(let keys): await enqueueKeys(keys)
            case .namespace:
                eventLogger.debug(
                    "event.unattributed_pod",
                    metadata: ["k8s.pod": "\(metadata.name ?? "")", "owners": "\(metadata.ownerReferences ?? [])"])
                await enqueueAll()
            }
        }
        let routeReflector = Reflector(
            watcher: Watcher(
                ResourceListerWatcher(kube.resources(HTTPRoute.self, namespace: namespace)),
                configuration: configuration, logger: logger),
            store: routes.stores[namespace] ?? Store(), logger: logger
        ) { event in
            guard let name = event.object?.metadata.name else { return }
            // A ModelRollout may name a route of another watched namespace.
            await enqueueKeys(
                allRolloutStores.flatMap {
                    $0.byIndex(RolloutEventMapping.routeIndex, "\(namespace)/\(name)").map(\.objectKey)
                })
        }
        group.addTask { try await rolloutReflector.run() }
        group.addTask { try await deploymentReflector.run() }
        group.addTask { try await podReflector.run() }
        group.addTask { try await routeReflector.run() }
    }
}
