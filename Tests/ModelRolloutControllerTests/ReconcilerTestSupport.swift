import Foundation
import KubeCore
import KubeRuntime
import Logging
import ModelRolloutCore

@testable import ModelRolloutController

/// A scripted cluster behind the reconciler's ``RolloutSource`` and ``RolloutActuator``: Deployments whose pods
/// load for a set time (or fail, or never finish), a route, Events, the ModelRollout's status, and runtime samples
/// made from each revision's latency profile and the traffic the route sends it. Everything happens in the test's
/// virtual time (``ManualClock``); nothing sleeps, nothing touches the network.
final class ScriptedCluster: RolloutSource, RolloutActuator, @unchecked Sendable {
    struct Profile {
        /// Seconds from pod creation to model-ready (infinity: never).
        var loadSeconds: Double = 30
        /// The pod fails to load the model after `loadSeconds`.
        var failsToLoad = false
        /// Every request's time to first token, seconds.
        var ttft: Double = 0.2
        var errorRate: Double = 0
    }

    struct ScriptedPod {
        var name: String
        var createdAt: Date
        var requests: Double = 0
        var aborted: Double = 0
        var ttftCounts: [Double]
        var ttftSum: Double = 0
    }

    struct Revision {
        var profile: Profile
        var desired: Int
        var pods: [ScriptedPod] = []
    }

    /// TTFT buckets of the scripted runtime (the queue-time histogram has every request in its first bucket).
    static let buckets: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, .infinity]

    private let lock = NSLock()
    let clock: ManualClock
    let key = ObjectKey(namespace: "llm-serving", name: "chat")
    private var object: JSONValue
    private var weights: [String: Int]?
    private var revisions: [String: Revision] = [:]
    private var lastTick: Date
    private var podCounter = 0
    /// Requests per second arriving at the route.
    var demand: Double {
        get { lock.withLock { _demand } }
        set { lock.withLock { _demand = newValue } }
    }
    private var _demand = 20.0
    /// The kind of the scripted route's backendRefs (a pool per revision, named like it, for `.inferencePool`).
    var backendKind: BackendKind {
        get { lock.withLock { _backendKind } }
        set { lock.withLock { _backendKind = newValue } }
    }
    private var _backendKind = BackendKind.service
    /// The InferencePools that exist, by name.
    var pools: [String: InferencePool] {
        get { lock.withLock { _pools } }
        set { lock.withLock { _pools = newValue } }
    }
    private var _pools: [String: InferencePool] = [:]
    /// When set, the next status write fails (a crash between the route write and the status write).
    private var failNextStatusWrite = false
    private(set) var actions: [RolloutAction] = []
    private(set) var events: [(warning: Bool, reason: String, note: String)] = []
    /// Every route state after a weight write.
    private(set) var routeHistory: [[String: Int]] = []
    /// The backend kind of every weight write.
    private(set) var weightKinds: [BackendKind] = []

    init(spec: ModelRolloutSpec, stable: String = "vllm-r1", stableReplicas: Int = 4, clock: ManualClock) {
        self.clock = clock
        lastTick = clock.now()
        let metadata = ObjectMeta(name: key.name, namespace: key.namespace, uid: "uid-chat", generation: 1)
        object = (try? KubeJSON.toJSONValue(ModelRollout(metadata: metadata, spec: spec))) ?? .object([:])
        object["apiVersion"] = .string(ResourceDescriptor.modelRollouts.apiVersion)
        object["kind"] = .string("ModelRollout")
        weights = [stable: 100]
        addDeployment(stable, replicas: stableReplicas, profile: Profile(loadSeconds: 0), loaded: true)
    }

    // MARK: - The test's hand

    func addDeployment(_ name: String, replicas: Int = 0, profile: Profile, loaded: Bool = false) {
        lock.withLock {
            var revision = Revision(profile: profile, desired: 0)
            let created = loaded ? clock.now().addingTimeInterval(-3600) : clock.now()
            for _ in 0..<replicas { revision.pods.append(newPod(name, createdAt: created)) }
            revision.desired = replicas
            revisions[name] = revision
        }
    }

    /// Edits the spec as `kubectl edit` would (a new generation).
    func editSpec(_ edit: (inout ModelRolloutSpec) -> Void) throws {
        try lock.withLock {
            var rollout = try KubeJSON.fromJSONValue(ModelRollout.self, object)
            edit(&rollout.spec)
            let status = object["status"]
            var metadata = rollout.metadata
            metadata.generation = (metadata.generation ?? 1) + 1
            rollout.metadata = metadata
            var raw = try KubeJSON.toJSONValue(rollout)
            raw["status"] = status
            raw["apiVersion"] = object["apiVersion"]
            raw["kind"] = object["kind"]
            object = raw
        }
    }

    func deleteDeployment(_ name: String) { lock.withLock { revisions[name] = nil } }

    /// Deletes the route (nil) or writes its backends' weights by hand, as `kubectl` would.
    func setRoute(_ weights: [String: Int]?) { lock.withLock { self.weights = weights } }

    /// The status write after the next route write fails (a crash between the route write and the status write).
    func loseStatusAfterNextWeightWrite() { lock.withLock { loseStatusAfterWeightWrite = true } }
    private var loseStatusAfterWeightWrite = false

    var status: ModelRolloutStatus {
        lock.withLock { object["status"].flatMap { try? KubeJSON.fromJSONValue(ModelRolloutStatus.self, $0) } }
            ?? ModelRolloutStatus()
    }

    var route: [String: Int] { lock.withLock { weights ?? [:] } }

    func replicas(_ deployment: String) -> Int { lock.withLock { revisions[deployment]?.desired ?? 0 } }

    /// The weights written to a backend, in order (a repeated value is a repeated step).
    func weightsWritten(to service: String) -> [Int] {
        lock.withLock {
            var out: [Int] = []
            for state in routeHistory {
                if let weight = state[service], out.last != weight { out.append(weight) }
            }
            return out
        }
    }

    /// Moves the cluster to the clock's time: traffic served since the last tick by the model-ready pods.
    func tick() {
        lock.withLock {
            let now = clock.now()
            let dt = now.timeIntervalSince(lastTick)
            lastTick = now
            guard dt > 0, let weights else { return }
            let total = Double(weights.values.reduce(0) { $0 + max(0, $1) })
            guard total > 0 else { return }
            for (name, weight) in weights where weight > 0 {
                guard var revision = revisions[name] else { continue }
                let ready = revision.pods.indices.filter { isReady(revision.pods[$0], revision.profile, now) }
                guard !ready.isEmpty else { continue }
                let perPod = _demand * Double(weight) / total * dt / Double(ready.count)
                let bucket = Self.buckets.firstIndex { revision.profile.ttft <= $0 } ?? Self.buckets.count - 1
                for i in ready {
                    revision.pods[i].requests += perPod
                    revision.pods[i].aborted += perPod * revision.profile.errorRate
                    revision.pods[i].ttftCounts[bucket] += perPod
                    revision.pods[i].ttftSum += perPod * revision.profile.ttft
                }
                revisions[name] = revision
            }
        }
    }

    // MARK: - RolloutSource

    func rollout(_ key: ObjectKey) async throws -> DynamicObject? {
        lock.withLock { key == self.key ? DynamicObject(raw: object) : nil }
    }

    func route(_ key: ObjectKey) async throws -> HTTPRoute? {
        lock.withLock {
            guard let weights else { return nil }
            return HTTPRoute(
                metadata: ObjectMeta(name: key.name, namespace: key.namespace),
                spec: HTTPRouteSpec(
                    parentRefs: [ParentReference(name: "gw")],
                    rules: [
                        HTTPRouteRule(
                            backendRefs: weights.sorted { $0.key < $1.key }.map {
                                _backendKind == .inferencePool
                                    ? HTTPBackendRef(
                                        name: $0.key, weight: Int32($0.value), group: InferencePool.group,
                                        kind: "InferencePool")
                                    : HTTPBackendRef(name: $0.key, port: 8000, weight: Int32($0.value))
                            })
                    ]))
        }
    }

    func revision(
        _ party: RolloutParties.Revision, namespace: String, spec: ModelRolloutSpec, proven: Set<String>, now: Date
    ) async -> RoundRevision {
        lock.withLock {
            guard let revision = revisions[party.deployment] else {
                return .missing(deployment: party.deployment, service: party.service)
            }
            return RoundRevision(
                deployment: party.deployment, service: party.service, desiredReplicas: revision.desired,
                pods: revision.pods.map { pod in
                    RoundPod(
                        name: pod.name, incarnation: pod.name, readiness: readiness(pod, revision.profile, now),
                        createdAt: pod.createdAt)
                })
        }
    }

    func samples(of revisions: [RoundRevision], namespace: String, spec: ModelRolloutSpec, now: Date) async
        -> [PodMetricsSample]
    {
        lock.withLock {
            let wanted = Set(revisions.flatMap(\.pods).filter(\.readiness.modelReady).map(\.name))
            return self.revisions.values.flatMap(\.pods).filter { wanted.contains($0.name) }.map { pod in
                var cumulative = 0.0
                let buckets = zip(Self.buckets, pod.ttftCounts).map { bound, count in
                    cumulative += count
                    return HistogramBucket(upperBound: bound, cumulativeCount: cumulative.rounded())
                }
                let count = pod.requests.rounded()
                return PodMetricsSample(
                    pod: pod.name, time: now,
                    ttft: PrometheusHistogram(
                        name: "vllm:time_to_first_token_seconds", labels: [:], buckets: buckets, sum: pod.ttftSum,
                        count: count),
                    queueTime: PrometheusHistogram(
                        name: "vllm:request_queue_time_seconds", labels: [:],
                        buckets: [
                            HistogramBucket(upperBound: 0.3, cumulativeCount: count),
                            HistogramBucket(upperBound: .infinity, cumulativeCount: count),
                        ], sum: 0, count: count),
                    successTotal: count, abortedTotal: pod.aborted.rounded(), running: 1, waiting: 0)
            }
        }
    }

    func forgetGonePods(namespace: String) async {}

    func inferencePools(_ names: [String], namespace: String) async throws -> [String: InferencePool] {
        lock.withLock { _pools.filter { names.contains($0.key) } }
    }

    /// Each scripted revision as a Deployment whose pod template is labelled `app: llama, revision: <name>`.
    func deployments(namespace: String) async -> [Deployment] {
        lock.withLock {
            revisions.keys.sorted().map { name in
                Deployment(
                    metadata: ObjectMeta(name: name, namespace: namespace),
                    spec: DeploymentSpec(
                        replicas: Int32(revisions[name]?.desired ?? 0),
                        selector: LabelSelectorSpec(matchLabels: ["app": "llama", "revision": name]),
                        template: PodTemplateSpec(
                            metadata: ObjectMeta(labels: ["app": "llama", "revision": name]),
                            spec: PodSpec(containers: []))))
            }
        }
    }

    // MARK: - RolloutActuator

    func scale(namespace: String, deployment: String, replicas: Int) async throws {
        lock.withLock {
            actions.append(.scale(deployment: deployment, replicas: replicas))
            guard var revision = revisions[deployment] else { return }
            revision.desired = replicas
            while revision.pods.count < replicas { revision.pods.append(newPod(deployment, createdAt: clock.now())) }
            while revision.pods.count > replicas { revision.pods.removeLast() }
            revisions[deployment] = revision
        }
    }

    func setWeights(route: ObjectKey, desired: [String: Int?], kind: BackendKind) async throws -> String {
        lock.withLock {
            actions.append(.setWeights(desired))
            weightKinds.append(kind)
            var current = weights ?? [:]
            for (service, weight) in desired { current[service] = weight }
            weights = current
            routeHistory.append(current)
            if loseStatusAfterWeightWrite {
                loseStatusAfterWeightWrite = false
                failNextStatusWrite = true
            }
            return "updated"
        }
    }

    func event(_ object: DynamicObject, warning: Bool, reason: String, note: String) async {
        lock.withLock { events.append((warning, reason, note)) }
    }

    func updateStatus(_ updated: DynamicObject) async throws -> Bool {
        try lock.withLock {
            if failNextStatusWrite {
                failNextStatusWrite = false
                throw ScriptedFailure.statusWrite
            }
            object["status"] = updated.raw["status"]
            return true
        }
    }

    enum ScriptedFailure: Error { case statusWrite }

    // MARK: - Pods

    private func newPod(_ deployment: String, createdAt: Date) -> ScriptedPod {
        podCounter += 1
        return ScriptedPod(
            name: "\(deployment)-\(podCounter)", createdAt: createdAt,
            ttftCounts: [Double](repeating: 0, count: Self.buckets.count))
    }

    private func isReady(_ pod: ScriptedPod, _ profile: Profile, _ now: Date) -> Bool {
        !profile.failsToLoad && now.timeIntervalSince(pod.createdAt) >= profile.loadSeconds
    }

    private func readiness(_ pod: ScriptedPod, _ profile: Profile, _ now: Date) -> PodReadiness {
        if isReady(pod, profile, now) {
            return PodReadiness(phase: .modelReady, reason: "ModelListed", message: "the model is listed")
        }
        if profile.failsToLoad, now.timeIntervalSince(pod.createdAt) >= profile.loadSeconds {
            return PodReadiness(
                phase: .failed, reason: "ModelLoadFailed", message: "CUDA out of memory while loading weights")
        }
        return PodReadiness(phase: .loadingModel, reason: "LoadingWeights", message: "loading the model")
    }
}

/// Drives a reconciler round by round on the manual clock: tick the cluster, reconcile, move the clock by the
/// requeue the reconciler asked for (at most `maxStep` seconds, as a watch event would come sooner).
struct RoundDriver {
    let cluster: ScriptedCluster
    var reconciler: RolloutReconciler
    var maxStep = 5.0

    init(cluster: ScriptedCluster, memories: RoundMemories = RoundMemories()) {
        self.cluster = cluster
        reconciler = RoundDriver.reconciler(cluster, memories: memories)
    }

    static func reconciler(_ cluster: ScriptedCluster, memories: RoundMemories = RoundMemories()) -> RolloutReconciler {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let clock = cluster.clock
        return RolloutReconciler(
            source: cluster, actuator: cluster, settings: RoundSettings(), logger: logger, clock: clock,
            memories: memories)
    }

    /// Runs rounds until `done` holds for the status; returns the rounds run, nil when `limit` was reached.
    @discardableResult
    func run(limit: Int = 5000, until done: (ModelRolloutStatus) -> Bool) async -> Int? {
        for round in 1...limit {
            cluster.tick()
            var after = maxStep
            do {
                switch try await reconciler.reconcile(cluster.key) {
                case .requeue(let duration):
                    let (seconds, attoseconds) = duration.components
                    after = min(maxStep, Double(seconds) + Double(attoseconds) / 1e18)
                case .awaitChange, .requeueRateLimited: break
                }
            } catch {
                after = 1  // a failed action or status write: the work queue retries with backoff
            }
            if done(cluster.status) { return round }
            cluster.clock.advance(by: max(after, 0.05))
        }
        return nil
    }
}
