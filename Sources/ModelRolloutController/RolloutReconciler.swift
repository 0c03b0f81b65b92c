import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import ModelRolloutCore

/// What a reconcile reads: the ModelRollout, its route, each revision with its pods' readiness, and the pods'
/// runtime samples. ``KubernetesRolloutSource`` reads the API server, the caches and the pods; tests script it.
protocol RolloutSource: Sendable {
    /// The ModelRollout, nil when it does not exist.
    func rollout(_ key: ObjectKey) async throws -> DynamicObject?
    /// The HTTPRoute, nil when it does not exist.
    func route(_ key: ObjectKey) async throws -> HTTPRoute?
    /// One revision's Deployment and pods; `proven` holds the pod incarnations the status records as model-ready
    /// (``ModelRolloutStatus/modelReadyPods``), whose logs need not be read again.
    func revision(
        _ party: RolloutParties.Revision, namespace: String, spec: ModelRolloutSpec, proven: Set<String>, now: Date
    ) async -> RoundRevision
    /// The runtime samples of the revisions' model-ready pods.
    func samples(of revisions: [RoundRevision], namespace: String, spec: ModelRolloutSpec, now: Date) async
        -> [PodMetricsSample]
    /// Forgets per-pod gathering state of pods that are gone.
    func forgetGonePods(namespace: String) async
    /// The named InferencePools that exist (pool-based rollouts only), by name.
    func inferencePools(_ names: [String], namespace: String) async throws -> [String: InferencePool]
    /// The namespace's Deployments (to tell which Deployment's pods each pool selects).
    func deployments(namespace: String) async -> [Deployment]
}

/// What a reconcile changes: Deployments' scale, the route's weights, Events and the status.
/// ``KubernetesRolloutActuator`` writes through the API server; tests record.
protocol RolloutActuator: Sendable {
    func scale(namespace: String, deployment: String, replicas: Int) async throws
    /// Sets the managed backends' weights; returns a short description of the outcome for the log.
    func setWeights(route: ObjectKey, desired: [String: Int?], kind: BackendKind) async throws -> String
    func event(_ object: DynamicObject, warning: Bool, reason: String, note: String) async
    /// Writes the status (optimistic concurrency on the object's resourceVersion); false on a conflict.
    func updateStatus(_ object: DynamicObject) async throws -> Bool
}

/// The resourceVersions this controller last wrote, per object, until its caches show them: a cached object is
/// read only once the cache has caught up with our own last write (else a reconcile right after a write would act
/// on the state before it). Other writers' changes arrive through the same watch that wakes the reconcile.
final class WrittenVersions: Sendable {
    private let versions = LockedValue<[String: String]>([:])

    static func key(_ kind: String, _ key: ObjectKey) -> String { "\(kind)/\(key.namespace ?? "")/\(key.name)" }

    func wrote(_ kind: String, _ key: ObjectKey, resourceVersion: String?) {
        guard let resourceVersion else { return }
        versions.withLock { $0[Self.key(kind, key)] = resourceVersion }
    }

    /// Whether a cached copy with `resourceVersion` reflects our last write (or we wrote nothing since it).
    func isCurrent(_ kind: String, _ key: ObjectKey, resourceVersion: String?) -> Bool {
        versions.withLock { written in
            let id = Self.key(kind, key)
            guard let last = written[id] else { return true }
            guard let resourceVersion, resourceVersion == last else { return false }
            written[id] = nil
            return true
        }
    }
}

/// The API server, caches and pods behind a ``RolloutSource``. The ModelRollout and its route come from the
/// informer caches once they reflect our last write (see ``WrittenVersions``); otherwise, and for objects outside
/// the watched namespaces, from a GET.
struct KubernetesRolloutSource: RolloutSource {
    let kube: KubernetesClient
    let gatherer: RolloutGatherer
    var rollouts: StoreSet<DynamicObject>?
    var routes: StoreSet<HTTPRoute>?
    var written = WrittenVersions()

    func rollout(_ key: ObjectKey) async throws -> DynamicObject? {
        if let cached = rollouts?.get(key),
            written.isCurrent(
                "modelrollout", key, resourceVersion: cached.raw[path: ["metadata", "resourceVersion"]]?.stringValue)
        {
            return cached
        }
        let fresh = try await kube.dynamic(.modelRollouts, namespace: key.namespace ?? "default").getIfExists(key.name)
        // The cache counts as current again once it shows this version (or a later write of ours).
        if rollouts?.get(key) != nil {
            written.wrote(
                "modelrollout", key, resourceVersion: fresh?.raw[path: ["metadata", "resourceVersion"]]?.stringValue)
        }
        return fresh
    }

    func route(_ key: ObjectKey) async throws -> HTTPRoute? {
        if let cached = routes?.get(key),
            written.isCurrent("httproute", key, resourceVersion: cached.metadata.resourceVersion)
        {
            return cached
        }
        let fresh = try await kube.resources(HTTPRoute.self, namespace: key.namespace ?? "default").getIfExists(key.name)
        if routes?.get(key) != nil { written.wrote("httproute", key, resourceVersion: fresh?.metadata.resourceVersion) }
        return fresh
    }

    func revision(
        _ party: RolloutParties.Revision, namespace: String, spec: ModelRolloutSpec, proven: Set<String>, now: Date
    ) async -> RoundRevision {
        await gatherer.revision(party, namespace: namespace, spec: spec, proven: proven, now: now)
    }

    func samples(of revisions: [RoundRevision], namespace: String, spec: ModelRolloutSpec, now: Date) async
        -> [PodMetricsSample]
    {
        await gatherer.scrape(revisions, namespace: namespace, spec: spec, now: now)
    }

    func forgetGonePods(namespace: String) async { await gatherer.forgetGonePods(namespace: namespace) }

    /// A GET per pool: pools are read only by pool-based rollouts, and a cluster without the Inference Extension
    /// CRDs has nothing to watch (a 404 reads as "not found").
    func inferencePools(_ names: [String], namespace: String) async throws -> [String: InferencePool] {
        let client = kube.resources(InferencePool.self, namespace: namespace)
        var pools: [String: InferencePool] = [:]
        for name in names {
            if let pool = try await client.getIfExists(name, namespace: namespace) { pools[name] = pool }
        }
        return pools
    }

    func deployments(namespace: String) async -> [Deployment] { gatherer.deployments.list(namespace: namespace) }
}

/// The API server behind a ``RolloutActuator``.
struct KubernetesRolloutActuator: RolloutActuator {
    let kube: KubernetesClient
    let routeWriter: RouteWeightWriter
    let recorder: EventRecorder
    /// Shared with the source: what we wrote, so it reads the caches only once they show it.
    var written = WrittenVersions()

    func scale(namespace: String, deployment: String, replicas: Int) async throws {
        _ = try await kube.resources(Deployment.self, namespace: namespace).scale(
            deployment, replicas: Int32(clamping: replicas))
    }

    func setWeights(route: ObjectKey, desired: [String: Int?], kind: BackendKind) async throws -> String {
        let outcome = try await routeWriter.write(route: route, desired: desired, kind: kind)
        if case .updated(let written, _) = outcome {
            self.written.wrote("httproute", route, resourceVersion: written.metadata.resourceVersion)
        }
        return "\(outcome)"
    }

    func event(_ object: DynamicObject, warning: Bool, reason: String, note: String) async {
        guard let reference = ObjectReference(object: object.raw) else { return }
        await recorder.record(
            regarding: reference, type: warning ? .warning : .normal, reason: reason, action: reason, note: note)
    }

    func updateStatus(_ object: DynamicObject) async throws -> Bool {
        do {
            let updated = try await kube.dynamic(.modelRollouts, namespace: object.metadata.namespace ?? "default")
                .updateStatus(object)
            written.wrote(
                "modelrollout", object.objectKey,
                resourceVersion: updated.raw[path: ["metadata", "resourceVersion"]]?.stringValue)
            return true
        } catch let error as KubeAPIError where error.isConflict {
            return false
        }
    }
}

/// Reconciles one `ModelRollout`: gather → round → act.
///
/// - Gather (``RolloutSource``): the ModelRollout and its route (from the caches once they show our last write);
///   the revisions the round names, with their
///   pods' model readiness; the pods' runtime samples when the round asks for them.
/// - Round: ``RolloutRound/step(_:memory:settings:)``, pure, with this ModelRollout's ``RoundMemory``.
/// - Act (``RolloutActuator``): scale and route weights (unless the plan only observes), Events, the status.
///
/// Level-based: nothing is trusted from the event that caused the call. Actions run before the status write; a
/// failed action leaves the status as it was and the reconcile is retried, and the round re-derives progress from
/// the live route, so a crash at any point neither repeats nor skips a step.
final class RolloutReconciler: Reconciler, Sendable {
    let source: any RolloutSource
    let actuator: any RolloutActuator
    let memories: RoundMemories
    let settings: RoundSettings
    let logger: Logger
    let clock: any KubeClock
    let metrics: RolloutMetrics
    /// The `controller` key of log records and the name of the controller in KubeRuntime's metrics.
    static let controllerName = "modelrollout"

    init(
        source: any RolloutSource, actuator: any RolloutActuator, settings: RoundSettings, logger: Logger,
        clock: any KubeClock = SystemClock(), metrics: RolloutMetrics = RolloutMetrics(),
        memories: RoundMemories = RoundMemories()
    ) {
        self.source = source
        self.actuator = actuator
        self.settings = settings
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
        self.memories = memories
    }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileAction {
        let namespace = key.namespace ?? "default"
        guard let object = try await source.rollout(key) else {
            await memories.forget(key)
            metrics.forget(namespace: namespace, rollout: key.name)
            return .awaitChange
        }
        let log = Self.logger(logger, key: key)
        let now = clock.now()

        // Gather.
        let (rollout, specProblems) = Self.decode(object)
        var problems = specProblems
        let spec = rollout.spec
        let status = rollout.status ?? ModelRolloutStatus()
        let routeKey = ObjectKey(namespace: spec.route.namespace ?? namespace, name: spec.route.name)
        let route = problems.isEmpty ? try await source.route(routeKey) : nil
        var backendDeployments: [String: String] = [:]
        if problems.isEmpty, spec.backendKind == .inferencePool {
            let names = InferencePoolCheck.involvedPools(spec: spec, status: status, route: route)
            let check = InferencePoolCheck.evaluate(
                spec: spec, status: status, route: route,
                pools: try await source.inferencePools(names, namespace: routeKey.namespace ?? namespace),
                deployments: await source.deployments(namespace: namespace), namespace: namespace)
            problems += check.problems
            backendDeployments = check.backendDeployments
        }
        let targets = RolloutRound.targets(
            spec: spec, status: status, route: route, backendDeployments: backendDeployments)
        if problems.isEmpty, let route,
            let mixed = RouteWeights.mixedBackends(route, services: targets.parties.services, kind: spec.backendKind)
        {
            problems.append(mixed.description)
        }
        var memory = await memories.get(key)
        var snapshot = RoundSnapshot(
            now: now, generation: object.metadata.generation ?? 0, spec: spec, status: status, specProblems: problems,
            route: problems.isEmpty ? targets.route : RouteState(found: route != nil))
        if problems.isEmpty {
            let proven = Set(status.modelReadyPods ?? [])
            snapshot.stable = await source.revision(
                targets.parties.stable, namespace: namespace, spec: spec, proven: proven, now: now)
            if let party = targets.parties.candidate {
                snapshot.candidate = await source.revision(
                    party, namespace: namespace, spec: spec, proven: proven, now: now)
            }
            if let party = targets.parties.retired {
                snapshot.retired = await source.revision(
                    party, namespace: namespace, spec: spec, proven: proven, now: now)
            }
            if RolloutRound.needsMetrics(
                spec: spec, status: status, targets: targets, memory: memory, now: now, settings: settings)
            {
                snapshot.samples = await source.samples(
                    of: [snapshot.stable, snapshot.candidate].compactMap { $0 }, namespace: namespace, spec: spec,
                    now: now)
            }
        }
        await source.forgetGonePods(namespace: namespace)

        // Round.
        let outcome = RolloutRound.step(snapshot, memory: memory, settings: settings)
        memory = outcome.memory
        await memories.set(key, memory)
        let plan = outcome.plan
        report(outcome, snapshot: snapshot, key: key, route: route, log: log)

        // Act.
        if !plan.observeOnly {
            for action in plan.actions {
                do {
                    try await execute(
                        action, namespace: namespace, routeKey: routeKey, kind: spec.backendKind, log: log)
                } catch {
                    log.warning("action.failed", metadata: ["action": "\(action)", "error": "\(error)"])
                    await actuator.event(
                        object, warning: true, reason: "ActionFailed", note: "\(Self.describe(action)): \(error)")
                    throw error
                }
            }
        }
        if !plan.observeOnly {
            memory.recordWrites(plan.actions, onto: snapshot.route)
            await memories.set(key, memory)
        }
        for event in plan.events {
            await actuator.event(object, warning: event.warning, reason: event.reason, note: event.message)
        }
        let newStatus = try KubeJSON.toJSONValue(plan.status)
        if object.raw["status"] != newStatus {
            var updated = object.raw
            updated["status"] = newStatus
            guard try await actuator.updateStatus(DynamicObject(raw: updated)) else {
                return .requeue(after: .milliseconds(20))
            }
        }
        return .requeue(after: .milliseconds(Int64(outcome.requeueAfter * 1000)))
    }

    /// The ModelRollout and the problems of its spec; an undecodable object still gets a status explaining why.
    static func decode(_ object: DynamicObject) -> (ModelRollout, [String]) {
        switch ModelRollout.decode(object.raw) {
        case .success(let decoded):
            return (decoded, decoded.spec.validate().map(\.description))
        case .failure(let error):
            var fallback = ModelRollout(
                metadata: object.metadata,
                spec: ModelRolloutSpec(model: "", deployment: "", route: RouteReference(name: "")))
            fallback.status = object.raw["status"].flatMap { try? KubeJSON.fromJSONValue(ModelRolloutStatus.self, $0) }
            return (fallback, [error.description])
        }
    }

    /// controller-runtime's structured keys, plus ours.
    static func logger(_ base: Logger, key: ObjectKey) -> Logger {
        var log = base
        log[metadataKey: "controller"] = "\(controllerName)"
        log[metadataKey: "controllerGroup"] = "modelrollout.io"
        log[metadataKey: "controllerKind"] = "ModelRollout"
        log[metadataKey: "k8s.namespace"] = "\(key.namespace ?? "default")"
        log[metadataKey: "k8s.name"] = "\(key.name)"
        log[metadataKey: "k8s.modelrollout"] = "\(key.name)"
        log[metadataKey: "reconcileID"] = "\(UUID().uuidString.lowercased())"
        return log
    }

    /// Logs and exports what the round measured and decided (no decision is made here).
    func report(_ outcome: RoundOutcome, snapshot: RoundSnapshot, key: ObjectKey, route: HTTPRoute?, log: Logger) {
        let namespace = key.namespace ?? "default"
        let spec = snapshot.spec
        let plan = outcome.plan
        let requestClass = RequestClass.name(
            routeLabels: route?.metadata.labels,
            ruleIndex: route.flatMap {
                RouteWeights.observe($0, services: Set(snapshot.route.weights.keys), kind: spec.backendKind).ruleIndex
            }
                ?? 0,
            ruleCount: route?.spec.rules.count ?? 1)
        for load in outcome.modelLoads {
            metrics.recordModelLoad(
                namespace: namespace, rollout: key.name, model: spec.model, revision: load.revision,
                seconds: load.seconds)
            log.info(
                "pod.model_ready",
                metadata: ["k8s.pod": "\(load.pod)", "load_seconds": "\(String(format: "%.1f", load.seconds))"])
        }
        for delay in outcome.readinessDelays {
            metrics.recordReadinessDelay(
                namespace: namespace, rollout: key.name, model: spec.model, revision: delay.revision,
                seconds: delay.seconds)
        }
        if snapshot.samples != nil {
            for revision in [snapshot.stable, snapshot.candidate].compactMap({ $0 }) where revision.exists {
                metrics.observeRuntime(
                    namespace: namespace, rollout: key.name, model: spec.model, route: spec.route.name,
                    requestClass: requestClass, revision: revision.deployment,
                    samples: snapshot.samples(of: revision))
            }
        }
        if let analysis = outcome.analysis {
            log.debug("analysis", metadata: ["verdict": "\(analysis.verdict.rawValue)"])
        }
        if outcome.autoscaleEvaluated, let decision = outcome.autoscale, let stable = snapshot.stable {
            metrics.setDesiredReplicas(
                namespace: namespace, rollout: key.name, revision: stable.deployment,
                replicas: decision.desiredReplicas)
        }
        for decision in plan.decisions {
            metrics.recordDecision(
                namespace: namespace, rollout: key.name, kind: decision.kind.rawValue, rule: decision.rule)
            log.info(
                "decision",
                metadata: [
                    "decision.kind": "\(decision.kind.rawValue)", "decision.rule": "\(decision.rule)",
                    "decision.result": "\(decision.result)", "observe": "\(plan.observeOnly)",
                ])
        }
        metrics.update(
            Self.metricsSnapshot(
                namespace: namespace, name: key.name, spec: spec, requestClass: requestClass,
                phase: plan.status.phase, weights: plan.status.weights,
                stableDeployment: plan.status.stableDeployment ?? snapshot.stable?.deployment ?? "",
                candidateDeployment: plan.status.candidateDeployment ?? snapshot.candidate?.deployment,
                observations: outcome.observations,
                backends: Dictionary(
                    [snapshot.stable, snapshot.candidate, snapshot.retired].compactMap { $0 }.map {
                        ($0.deployment, $0.service)
                    }, uniquingKeysWith: { first, _ in first })))
    }

    /// What the metrics show after a plan: each observed revision's replicas, and the planned weights of the
    /// stable and candidate Deployments. A revision that is neither observed nor weighted is not shown (its
    /// series are dropped).
    static func metricsSnapshot(
        namespace: String, name: String, spec: ModelRolloutSpec, requestClass: String, phase: RolloutPhase?,
        weights: RevisionWeights?, stableDeployment: String, candidateDeployment: String?,
        observations: [RevisionObservation], backends: [String: String] = [:]
    ) -> RolloutMetricsSnapshot {
        var revisions: [RevisionMetricsSnapshot] = []
        func index(_ deployment: String) -> Int {
            if let found = revisions.firstIndex(where: { $0.revision == deployment }) { return found }
            revisions.append(RevisionMetricsSnapshot(revision: deployment, backend: backends[deployment]))
            return revisions.count - 1
        }
        for observation in observations where !observation.deployment.isEmpty {
            let i = index(observation.deployment)
            revisions[i].desired = observation.exists ? observation.desiredReplicas : 0
            revisions[i].ready = observation.modelReady
            revisions[i].loading = observation.loading
        }
        if let weights {
            if !stableDeployment.isEmpty { revisions[index(stableDeployment)].weight = weights.stable }
            if let candidateDeployment, !candidateDeployment.isEmpty {
                revisions[index(candidateDeployment)].weight = weights.candidate
            }
        }
        return RolloutMetricsSnapshot(
            namespace: namespace, name: name, model: spec.model, route: spec.route.name, requestClass: requestClass,
            phase: phase?.rawValue, revisions: revisions)
    }

    func execute(
        _ action: RolloutAction, namespace: String, routeKey: ObjectKey, kind: BackendKind, log: Logger
    ) async throws {
        switch action {
        case .scale(let deployment, let replicas):
            try await actuator.scale(namespace: namespace, deployment: deployment, replicas: replicas)
            log.info("scaled", metadata: ["k8s.deployment": "\(deployment)", "replicas": "\(replicas)"])
        case .setWeights(let desired):
            let outcome = try await actuator.setWeights(route: routeKey, desired: desired, kind: kind)
            log.info("route.weights", metadata: ["weights": "\(Self.describe(action))", "outcome": "\(outcome)"])
        }
    }

    static func describe(_ action: RolloutAction) -> String {
        switch action {
        case .scale(let deployment, let replicas): return "scale \(deployment) to \(replicas)"
        case .setWeights(let desired):
            return "weights "
                + desired.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.map(String.init) ?? "removed")" }
                .joined(separator: " ")
        }
    }
}
