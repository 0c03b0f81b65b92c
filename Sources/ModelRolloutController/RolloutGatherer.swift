import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import ModelRolloutCore

/// What the gatherer remembers about a pod between reconciles to pace its I/O (in memory; a restart re-learns it).
struct PodMemory: Sendable {
    var uid: String
    var restartCount: Int
    var lastModelsProbe: Date?
    var models: ModelsProbeResult = .notProbed
    /// Whether the pod was model-ready at the last gather (its log is then judged from what was read, not polled).
    var modelReady = false
    /// This incarnation's load was proved before this process started (``ModelRolloutStatus/modelReadyPods``).
    var provenEarlier = false
    /// When a loading pod's log was last read, and the wait before the next read (``LogPollPacing``).
    var lastLogPoll: Date?
    var logPollInterval: Double?
}

/// In-memory state of the gatherer, keyed by pod.
actor GatherMemory {
    private var pods: [String: PodMemory] = [:]

    func pod(_ key: String) -> PodMemory? { pods[key] }
    func setPod(_ key: String, _ memory: PodMemory) { pods[key] = memory }
    func retainPods(_ keys: Set<String>, namespace: String) {
        pods = pods.filter { !$0.key.hasPrefix(namespace + "/") || keys.contains($0.key) }
    }
}

/// The round memory of every ModelRollout (``RoundMemory`` values, read and replaced whole).
actor RoundMemories {
    private var memories: [ObjectKey: RoundMemory] = [:]

    func get(_ key: ObjectKey) -> RoundMemory { memories[key] ?? RoundMemory() }
    func set(_ key: ObjectKey, _ memory: RoundMemory) { memories[key] = memory }
    func forget(_ key: ObjectKey) { memories[key] = nil }
}

/// One cache per namespace (each fed by its own watch), looked up by namespace.
struct StoreSet<Object: KeyedObject>: Sendable {
    let stores: [String: Store<Object>]

    init(
        namespaces: [String], indexers: [String: Store<Object>.Indexer] = [:],
        transform: (@Sendable (Object) -> Object)? = nil
    ) {
        var stores: [String: Store<Object>] = [:]
        for namespace in namespaces { stores[namespace] = Store<Object>(indexers: indexers, transform: transform) }
        self.stores = stores
    }

    func get(_ key: ObjectKey) -> Object? { stores[key.namespace ?? ""]?.get(key) }
    func list(namespace: String) -> [Object] { stores[namespace]?.list() ?? [] }
    func byIndex(namespace: String, _ name: String, _ value: String) -> [Object] {
        stores[namespace]?.byIndex(name, value) ?? []
    }
    func keys(namespace: String) -> [ObjectKey] { stores[namespace]?.keys ?? [] }
    var isReady: Bool { stores.values.allSatisfy(\.isReady) }
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

    /// The pods of a Deployment (``RevisionPods/select(_:from:)``) among those the pod index
    /// (``RevisionPods/ownerIndexValues(_:)``) files under its name or as ownerless: the cost is the revision's
    /// pods, not the namespace's.
    func pods(of deployment: Deployment, namespace: String) -> [Pod] {
        let name = deployment.metadata.name ?? ""
        let candidates =
            pods.byIndex(namespace: namespace, RevisionPods.ownerIndex, name)
            + pods.byIndex(namespace: namespace, RevisionPods.ownerIndex, "")
        return RevisionPods.select(deployment, from: candidates.sorted { $0.objectKey < $1.objectKey })
    }

    /// The indexes of the pod caches the gatherer reads.
    static let podIndexers: [String: Store<Pod>.Indexer] = [RevisionPods.ownerIndex: RevisionPods.ownerIndexValues]

    /// The readiness probe of the Deployment's runtime container (the named one, else the first).
    static func readinessProbe(_ deployment: Deployment, runtime: RuntimeSpec) -> JSONValue? {
        let containers = deployment.spec.template.raw[path: ["spec", "containers"]]?.arrayValue ?? []
        let container =
            containers.first { runtime.container != nil && $0["name"]?.stringValue == runtime.container }
            ?? containers.first
        return container?["readinessProbe"]
    }

    /// Gathers one revision: its Deployment and pods from the caches, and each pod's model readiness. `proven`:
    /// the pod incarnations (`uid/restartCount`) the status records as model-ready (see ``gather(pod:namespace:spec:proven:now:)``).
    func revision(
        _ party: RolloutParties.Revision, namespace: String, spec: ModelRolloutSpec, proven: Set<String> = [],
        now: Date
    ) async -> RoundRevision {
        guard let deployment = deployments.get(ObjectKey(namespace: namespace, name: party.deployment)) else {
            return .missing(deployment: party.deployment, service: party.service)
        }
        var revision = RoundRevision(
            deployment: party.deployment, service: party.service, exists: true,
            desiredReplicas: Int(deployment.spec.replicas ?? 1),
            modelGatedEndpoints: PodReadinessPolicy.probeProvesModelLoaded(
                Self.readinessProbe(deployment, runtime: spec.runtime), runtime: spec.runtime))
        revision.pods = await Self.concurrently(pods(of: deployment, namespace: namespace)) { pod in
            await gather(pod: pod, namespace: namespace, spec: spec, proven: proven, now: now)
        }
        return revision
    }

    /// Requests to pods in flight at once per revision (probes, log reads, scrapes), each with its own timeout.
    static let podFanOut = 8

    /// `work` on every element, at most ``podFanOut`` at a time; results in the input's order.
    static func concurrently<Input: Sendable, Output: Sendable>(
        _ inputs: [Input], _ work: @escaping @Sendable (Input) async -> Output
    ) async -> [Output] {
        guard inputs.count > 1 else { return await inputs.asyncMap(work) }
        return await withTaskGroup(of: (Int, Output).self) { group in
            var results: [Output?] = Array(repeating: nil, count: inputs.count)
            var next = 0
            func start() {
                let index = next
                next += 1
                group.addTask { (index, await work(inputs[index])) }
            }
            while next < min(podFanOut, inputs.count) { start() }
            for await (index, output) in group {
                results[index] = output
                if next < inputs.count { start() }
            }
            return results.compactMap { $0 }
        }
    }

    /// One pod's model readiness: its log (followed only while it loads), `/v1/models` (re-checked every
    /// ``readyReprobeSeconds`` once ready) and its status. A pod this process has no memory of (after a restart or
    /// a leader change) whose incarnation is in `proven` starts as proved: its log is not read again, and it counts
    /// as probed at the restart, so a restarted controller re-proves a fleet it knows without pod traffic; it stays
    /// model-ready while the pod is Ready and, from ``readyReprobeSeconds`` on, while `/v1/models` lists the model.
    func gather(pod: Pod, namespace: String, spec: ModelRolloutSpec, proven: Set<String> = [], now: Date) async
        -> RoundPod
    {
        let name = pod.metadata.name ?? ""
        let key = "\(namespace)/\(name)"
        let container =
            spec.runtime.container
            ?? pod.spec.raw["containers"]?.arrayValue?.first?["name"]?.stringValue
        let facts = PodFacts(pod: pod, container: container)
        let uid = pod.metadata.uid ?? ""
        let incarnation = "\(uid)/\(facts.restartCount)"
        let remembered = await memory.pod(key)
        var memory = remembered ?? PodMemory(uid: uid, restartCount: facts.restartCount)
        if memory.uid != uid || memory.restartCount != facts.restartCount {
            memory = PodMemory(uid: uid, restartCount: facts.restartCount)
        }
        // Proved before this process started: the record stands in for the log, and for a `/v1/models` answer as
        // fresh as the restart — the next probe is due ``readyReprobeSeconds`` later, as for a pod this process
        // proved itself. The pod must still be Ready (its Kubernetes status is read as always).
        let provenEarlier = remembered == nil && !uid.isEmpty && proven.contains(incarnation)
        if provenEarlier {
            memory.modelReady = true
            memory.provenEarlier = true
            memory.models = .listed([spec.model])
            memory.lastModelsProbe = now
        }
        var judgement: LogJudgement?
        var patternMatched: Bool?
        let pattern = spec.runtime.loadedPattern.flatMap { $0.isEmpty ? nil : $0 }
        let wasReady = memory.modelReady
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
        var modelsListed = false
        if case .listed = memory.models { modelsListed = true }
        if !facts.deleting, facts.containerRunning || facts.containerTerminated, let container {
            // What the log has proved so far (cached, no request): kept when no read is due.
            let cached = await logs.judgement(namespace: namespace, pod: name, container: container)
            let pollDue = LogPollPacing.due(
                lastPoll: memory.lastLogPoll, interval: memory.logPollInterval ?? 0, now: now,
                modelsListed: modelsListed,
                logProvesReady: cached.map { $0.modelLoaded && $0.serverReady } ?? false)
            if wasReady || (!pollDue && facts.containerRunning) {
                judgement = cached
            } else {
                memory.lastLogPoll = now
                memory.logPollInterval = LogPollPacing.next(
                    after: memory.logPollInterval, probeInterval: options.loadingProbeInterval)
                let poll = await logs.poll(
                    namespace: namespace, pod: name, container: container, restartCount: facts.restartCount,
                    loadedPattern: pattern)
                judgement = poll.error == nil || poll.bytesRead > 0 || poll.linesFed > 0 ? poll.judgement : nil
                if poll.error != nil, poll.linesFed == 0 {
                    judgement = cached
                }
            }
        } else if facts.containerWaitingReason == "CrashLoopBackOff", let container {
            // Between crashes: what the log of the crashed instance said (cached, no request).
            judgement = await logs.judgement(namespace: namespace, pod: name, container: container)
        }
        // A crash the followed log does not explain (it crashed between two polls): read the crashed instance's
        // log once, so the status names the runtime's cause rather than only the kubelet's exit code.
        let crashed =
            facts.containerWaitingReason == "CrashLoopBackOff"
            || (facts.containerTerminated && (facts.containerExitCode ?? 0) != 0)
        if crashed, judgement?.failed != true, !facts.deleting, let container,
            let crash = await logs.crashJudgement(
                namespace: namespace, pod: name, container: container, restartCount: facts.restartCount)
        {
            judgement = crash
        }
        if pattern != nil, let container {
            patternMatched = await logs.patternMatched(namespace: namespace, pod: name, container: container)
            if wasReady, patternMatched == nil { patternMatched = true }
        }
        let readiness = PodReadinessPolicy.evaluate(
            PodReadinessInput(
                facts: facts, judgement: judgement, models: memory.models, expectedModel: spec.model,
                runtime: spec.runtime.kind, loadedPatternMatched: patternMatched,
                provenEarlier: memory.provenEarlier && judgement == nil))
        memory.modelReady = readiness.modelReady
        await self.memory.setPod(key, memory)
        return RoundPod(
            name: name, incarnation: incarnation, readiness: readiness,
            createdAt: pod.metadata.creationTimestamp, readySince: Self.readySince(pod))
    }

    /// When the pod's `Ready` condition last turned True (nil when it is not True or has no transition time).
    static func readySince(_ pod: Pod) -> Date? {
        guard let ready = pod.status?.conditions?.first(where: { $0.type == "Ready" }), ready.status == "True"
        else { return nil }
        return ready.lastTransitionTime
    }

    /// Scrapes the model-ready pods of the revisions.
    func scrape(_ revisions: [RoundRevision], namespace: String, spec: ModelRolloutSpec, now: Date) async
        -> [PodMetricsSample]
    {
        let ready = revisions.flatMap(\.pods).filter(\.readiness.modelReady).map(\.name)
        let samples = await Self.concurrently(ready) { name -> PodMetricsSample? in
            let podIP = pods.get(ObjectKey(namespace: namespace, name: name))?.status?.podIP.flatMap {
                $0.isEmpty ? nil : $0
            }
            let result = await endpoints.scrape(
                namespace: namespace, pod: name, podIP: podIP, port: spec.runtime.port, path: spec.runtime.metricsPath)
            guard case .success(let scrape) = result else { return nil }
            return PodMetricsSample.from(scrape: scrape, model: spec.model, pod: name, time: now)
        }
        return samples.compactMap { $0 }
    }

    /// Forgets the per-pod state (log followers, probe memory) of pods no longer in the namespace's cache.
    func forgetGonePods(namespace: String) async {
        let present = Set(pods.keys(namespace: namespace).map(\.name))
        await logs.retainOnly(namespace: namespace, pods: present)
        await memory.retainPods(Set(present.map { "\(namespace)/\($0)" }), namespace: namespace)
    }
}

extension Array where Element: Sendable {
    /// `transform` on each element in order, one at a time.
    func asyncMap<Output>(_ transform: (Element) async -> Output) async -> [Output] {
        var out: [Output] = []
        out.reserveCapacity(count)
        for element in self { out.append(await transform(element)) }
        return out
    }
}
