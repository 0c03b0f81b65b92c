import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import ModelRolloutCore

/// What the controller remembers about a pod between reconciles (in memory; a restart re-learns it).
struct PodMemory: Sendable {
    var uid: String
    var restartCount: Int
    var lastModelsProbe: Date?
    var models: ModelsProbeResult = .notProbed
    /// Whether the pod was ever seen not model-ready (only those get a load time measured).
    var sawLoading = false
    var modelReadySince: Date?
    var measured = false
    /// Whether the readiness delay (Ready condition → model ready) of this pod incarnation was recorded.
    var delayMeasured = false
}

/// The analysis window of one rollout step: the first scrape after the step started, per revision.
struct StepBaseline: Sendable {
    var step: Int
    var startedAt: Date
    var stable: [PodMetricsSample]
    var candidate: [PodMetricsSample]
}

/// The autoscaler's carried state for one ModelRollout (in memory: a restarted controller re-learns the rates).
struct AutoscaleMemory: Sendable {
    var revision: String
    var arrivals: ArrivalEstimator
    var throughput = ThroughputEstimator()
    var memory = AutoscalerMemory()
    var lastEvaluation: Date?
    var lastDecision: AutoscaleDecision?

    /// The arrival rate is smoothed over a quarter of the planning cold start (at most 30 s) but never fewer
    /// than three evaluations: short enough to see a surge well within the horizon it must be served by.
    init(revision: String, coldStartSeconds: Double, evaluationSeconds: Double) {
        self.revision = revision
        arrivals = ArrivalEstimator(window: max(3 * evaluationSeconds, min(30, coldStartSeconds / 4)))
    }
}

/// In-memory state of the gatherers, keyed by pod and by ModelRollout.
actor GatherMemory {
    private var pods: [String: PodMemory] = [:]
    private var baselines: [ObjectKey: StepBaseline] = [:]
    private var autoscaling: [ObjectKey: AutoscaleMemory] = [:]

    func autoscale(_ key: ObjectKey) -> AutoscaleMemory? { autoscaling[key] }
    func setAutoscale(_ key: ObjectKey, _ memory: AutoscaleMemory?) { autoscaling[key] = memory }

    func pod(_ key: String) -> PodMemory? { pods[key] }
    func setPod(_ key: String, _ memory: PodMemory) { pods[key] = memory }
    func retainPods(_ keys: Set<String>, namespace: String) {
        pods = pods.filter { !$0.key.hasPrefix(namespace + "/") || keys.contains($0.key) }
    }
    func baseline(_ key: ObjectKey) -> StepBaseline? { baselines[key] }
    func setBaseline(_ key: ObjectKey, _ baseline: StepBaseline?) { baselines[key] = baseline }
    func forget(_ key: ObjectKey) {
        baselines[key] = nil
        autoscaling[key] = nil
    }
}

/// One cache per namespace (each fed by its own watch), looked up by namespace.
struct StoreSet<Object: KeyedObject>: Sendable {
    let stores: [String: Store<Object>]

    init(namespaces: [String]) {
        var stores: [String: Store<Object>] = [:]
        for namespace in namespaces { stores[namespace] = Store<Object>() }
        self.stores = stores
    }

    func get(_ key: ObjectKey) -> Object? { stores[key.namespace ?? ""]?.get(key) }
    func list(namespace: String) -> [Object] { stores[namespace]?.list() ?? [] }
    var isReady: Bool { stores.values.allSatisfy(\.isReady) }
}

/// A pod's model-readiness as gathered in one reconcile.
struct GatheredPod: Sendable {
    var name: String
    var readiness: PodReadiness
    /// Seconds from pod creation to model-ready, when it became ready in this reconcile and was seen loading.
    var newLoadSeconds: Double?
    /// Seconds from the pod's `Ready` condition turning True (kubelet) to model-ready (ours), when it became
    /// model-ready in this reconcile and was seen loading.
    var newReadinessDelaySeconds: Double?
    var podIP: String?
    var createdAt: Date?
}

/// Reads the signals of one revision: its Deployment and pods from the caches, each pod's log (only while it
/// loads) and `/v1/models`, and — during analysis — its pods' `/metrics`.
struct RolloutGatherer: Sendable {
    let deployments: StoreSet<Deployment>
    let pods: StoreSet<Pod>
    let endpoints: PodEndpointClient
    let logs: PodLogFollower
    let memory: GatherMemory
    let options: ControllerOptions
    let logger: Logger

    /// How often a model-ready pod's `/v1/models` is re-checked (a crash or a model swap shows up within this).
    static let readyReprobeSeconds = 10.0

    /// The pods of a Deployment: matching its selector and owned by it (directly, or by one of its ReplicaSets).
    func pods(of deployment: Deployment, namespace: String) -> [Pod] {
        let name = deployment.metadata.name ?? ""
        guard let selectorJSON = deployment.spec.selector?.json,
            let selector = try? LabelSelector(json: selectorJSON), !selector.requirements.isEmpty
        else { return [] }
        return pods.list(namespace: namespace).filter { pod in
            let labels = pod.metadata.labels ?? [:]
            guard selector.matches(labels) else { return false }
            let owners = pod.metadata.ownerReferences ?? []
            if owners.isEmpty { return true }
            return owners.contains { owner in
                if owner.kind == "Deployment" { return owner.name == name }
                if owner.kind == "ReplicaSet" {
                    if let hash = labels["pod-template-hash"] { return owner.name == "\(name)-\(hash)" }
                    return owner.name.hasPrefix(name + "-")
                }
                return false
            }
        }
    }

    /// The readiness probe of the Deployment's runtime container (the named one, else the first).
    static func readinessProbe(_ deployment: Deployment, runtime: RuntimeSpec) -> JSONValue? {
        let containers = deployment.spec.template.raw[path: ["spec", "containers"]]?.arrayValue ?? []
        let container =
            containers.first { runtime.container != nil && $0["name"]?.stringValue == runtime.container }
            ?? containers.first
        return container?["readinessProbe"]
    }

    /// Observes one revision.
    func observe(
        deployment name: String, service: String, namespace: String, spec: ModelRolloutSpec, now: Date
    ) async -> (RevisionObservation, [GatheredPod]) {
        guard let deployment = deployments.get(ObjectKey(namespace: namespace, name: name)) else {
            return (.missing(deployment: name, service: service), [])
        }
        var observation = RevisionObservation(
            deployment: name, service: service, exists: true,
            desiredReplicas: Int(deployment.spec.replicas ?? 1),
            modelGatedEndpoints: PodReadinessPolicy.probeProvesModelLoaded(
                Self.readinessProbe(deployment, runtime: spec.runtime), runtime: spec.runtime))
        var gathered: [GatheredPod] = []
        for pod in pods(of: deployment, namespace: namespace) {
            let result = await gather(pod: pod, namespace: namespace, spec: spec, now: now)
            gathered.append(result)
            switch result.readiness.phase {
            case .modelReady: observation.modelReady += 1
            case .failed:
                observation.failed += 1
                if observation.failureMessage == nil {
                    observation.failureMessage = "pod \(result.name): \(result.readiness.message)"
                }
            case .terminating: break
            default: observation.loading += 1
            }
        }
        return (observation, gathered)
    }

    func gather(pod: Pod, namespace: String, spec: ModelRolloutSpec, now: Date) async -> GatheredPod {
        let name = pod.metadata.name ?? ""
        let key = "\(namespace)/\(name)"
        let container =
            spec.runtime.container
            ?? pod.spec.raw["containers"]?.arrayValue?.first?["name"]?.stringValue
        let facts = PodFacts(pod: pod, container: container)
        var memory = await memory.pod(key) ?? PodMemory(uid: pod.metadata.uid ?? "", restartCount: facts.restartCount)
        if memory.uid != (pod.metadata.uid ?? "") || memory.restartCount != facts.restartCount {
            memory = PodMemory(uid: pod.metadata.uid ?? "", restartCount: facts.restartCount)
        }
        var judgement: LogJudgement?
        var patternMatched: Bool?
        let pattern = spec.runtime.loadedPattern.flatMap { $0.isEmpty ? nil : $0 }
        let wasReady = memory.modelReadySince != nil
        if !facts.deleting, facts.containerRunning || facts.containerTerminated, let container {
            if wasReady {
                judgement = await logs.judgement(namespace: namespace, pod: name, container: container)
            } else {
                let poll = await logs.poll(
                    namespace: namespace, pod: name, container: container, restartCount: facts.restartCount,
                    loadedPattern: pattern)
                judgement = poll.error == nil || poll.bytesRead > 0 || poll.linesFed > 0 ? poll.judgement : nil
                if poll.error != nil, poll.linesFed == 0 {
                    judgement = await logs.judgement(namespace: namespace, pod: name, container: container)
                }
            }
        }
        if pattern != nil, let container {
            patternMatched = await logs.patternMatched(namespace: namespace, pod: name, container: container)
            if wasReady, patternMatched == nil { patternMatched = true }
        }
        let probeDue =
            !wasReady || memory.lastModelsProbe.map { now.timeIntervalSince($0) >= Self.readyReprobeSeconds } ?? true
        if facts.containerRunning, !facts.deleting, probeDue {
            memory.models = await endpoints.models(
                namespace: namespace, pod: name, podIP: facts.podIP, port: spec.runtime.port,
                path: spec.runtime.modelsPath)
            memory.lastModelsProbe = now
        } else if !facts.containerRunning {
            memory.models = .notProbed
        }
        let readiness = PodReadinessPolicy.evaluate(
            PodReadinessInput(
                facts: facts, judgement: judgement, models: memory.models, expectedModel: spec.model,
                runtime: spec.runtime.kind, loadedPatternMatched: patternMatched))
        var newLoad: Double?
        var newDelay: Double?
        if readiness.modelReady {
            if memory.modelReadySince == nil {
                memory.modelReadySince = now
                if memory.sawLoading, !memory.measured, let created = pod.metadata.creationTimestamp {
                    newLoad = now.timeIntervalSince(created)
                    memory.measured = true
                }
                if memory.sawLoading, !memory.delayMeasured, let readySince = Self.readySince(pod) {
                    newDelay = max(0, now.timeIntervalSince(readySince))
                    memory.delayMeasured = true
                }
            }
        } else {
            if readiness.phase != .terminating { memory.sawLoading = true }
            memory.modelReadySince = nil
        }
        await self.memory.setPod(key, memory)
        return GatheredPod(
            name: name, readiness: readiness, newLoadSeconds: newLoad, newReadinessDelaySeconds: newDelay,
            podIP: facts.podIP,
            createdAt: pod.metadata.creationTimestamp)
    }

    /// When the pod's `Ready` condition last turned True (nil when it is not True or has no transition time).
    static func readySince(_ pod: Pod) -> Date? {
        guard let ready = pod.status?.conditions?.first(where: { $0.type == "Ready" }), ready.status == "True"
        else { return nil }
        return ready.lastTransitionTime
    }

    /// Scrapes the model-ready pods of a revision.
    func scrape(_ pods: [GatheredPod], namespace: String, spec: ModelRolloutSpec, now: Date) async
        -> [PodMetricsSample]
    {
        var samples: [PodMetricsSample] = []
        for pod in pods where pod.readiness.modelReady {
            let result = await endpoints.scrape(
                namespace: namespace, pod: pod.name, podIP: pod.podIP, port: spec.runtime.port,
                path: spec.runtime.metricsPath)
            if case .success(let scrape) = result,
                let sample = PodMetricsSample.from(scrape: scrape, model: spec.model, pod: pod.name, time: now)
            {
                samples.append(sample)
            }
        }
        return samples
    }
}
