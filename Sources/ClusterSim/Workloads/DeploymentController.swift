import Foundation
import KubeCore
import Logging

/// The simulated Deployment controller: owns pods directly (no ReplicaSet objects), labelled with
/// `pod-template-hash` and named `<deployment>-<hash>-<5 chars>`; scales, rolls out template changes honouring
/// maxSurge/maxUnavailable with pod readiness, writes Deployment status through `/status`, and deletes the pods of
/// deleted Deployments. Level-based: every trigger (a change or the periodic resync) reconciles from the current
/// state.
public actor DeploymentController {
    private let store: any ClusterObjectStore
    private let clock: any WorkloadClock
    private let resyncSeconds: Double
    private let logger: Logger
    private var tasks: [Task<Void, Never>] = []
    private var trigger: AsyncStream<Void>.Continuation?
    private var generator = SystemRandomNumberGenerator()

    /// - Parameters:
    ///   - resyncSeconds: simulated seconds between full reconciles without any change.
    public init(
        store: any ClusterObjectStore, clock: any WorkloadClock, resyncSeconds: Double = 10,
        logger: Logger = Logger(label: "clustersim.deployments", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.store = store
        self.clock = clock
        self.resyncSeconds = max(0.1, resyncSeconds)
        self.logger = logger
    }

    /// Starts watching and reconciling. Calling it twice does nothing.
    public func start() async {
        guard tasks.isEmpty else { return }
        let (triggers, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        trigger = continuation
        let deployments = await store.changes(.deployments)
        let pods = await store.changes(.pods)
        let clock = self.clock
        let resync = resyncSeconds
        tasks.append(Task { for await _ in deployments { continuation.yield() } })
        tasks.append(Task { for await _ in pods { continuation.yield() } })
        tasks.append(
            Task {
                while !Task.isCancelled {
                    continuation.yield()
                    do { try await clock.sleep(simulatedSeconds: resync) } catch { return }
                }
            })
        tasks.append(
            Task {
                for await _ in triggers {
                    if Task.isCancelled { return }
                    await self.reconcileAll()
                }
            })
    }

    /// Stops all watching and reconciling.
    public func stop() {
        for task in tasks { task.cancel() }
        tasks = []
        trigger?.finish()
        trigger = nil
    }

    private func requeue() { trigger?.yield() }

    /// Reconciles every Deployment once (and garbage-collects pods of Deployments that no longer exist).
    public func reconcileAll() async {
        let deployments = await store.list(.deployments, namespace: nil)
        let pods = await store.list(.pods, namespace: nil)
        var podsByOwner: [String: [JSONValue]] = [:]
        for pod in pods {
            guard let uid = Self.deploymentOwnerUID(pod) else { continue }
            podsByOwner[uid, default: []].append(pod)
        }
        var liveUIDs: Set<String> = []
        for deployment in deployments {
            guard let uid = deployment[path: ["metadata", "uid"]]?.stringValue else { continue }
            if deployment[path: ["metadata", "deletionTimestamp"]] == nil { liveUIDs.insert(uid) }
            await reconcile(deployment, pods: podsByOwner[uid] ?? [])
        }
        for (uid, owned) in podsByOwner where !liveUIDs.contains(uid) {
            for pod in owned where pod[path: ["metadata", "deletionTimestamp"]] == nil {
                await deletePod(pod)
            }
        }
    }

    static func deploymentOwnerUID(_ pod: JSONValue) -> String? {
        for ref in pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
        where ref["kind"]?.stringValue == "Deployment" && ref["controller"]?.boolValue == true {
            return ref["uid"]?.stringValue
        }
        return nil
    }

    /// The view of a pod the planner uses.
    static func view(_ pod: JSONValue, minReadySeconds: Int, now: Date) -> DeploymentPodView {
        let name = pod[path: ["metadata", "name"]]?.stringValue ?? ""
        let created = pod[path: ["metadata", "creationTimestamp"]]?.stringValue.flatMap(KubeTime.parse) ?? now
        let ready = pod[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }
        let isReady = ready?["status"]?.stringValue == "True"
        var available = isReady
        if isReady, minReadySeconds > 0 {
            let since = ready?["lastTransitionTime"]?.stringValue.flatMap(KubeTime.parse) ?? now
            available = now.timeIntervalSince(since) >= Double(minReadySeconds)
        }
        let scheduled = (pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty == false
        return DeploymentPodView(
            name: name, created: created, scheduled: scheduled, ready: isReady, available: available)
    }

    private func reconcile(_ deployment: JSONValue, pods: [JSONValue]) async {
        let name = deployment[path: ["metadata", "name"]]?.stringValue ?? ""
        let namespace = deployment[path: ["metadata", "namespace"]]?.stringValue ?? "default"
        if deployment[path: ["metadata", "deletionTimestamp"]] != nil {
            for pod in pods where pod[path: ["metadata", "deletionTimestamp"]] == nil { await deletePod(pod) }
            return
        }
        guard let template = deployment[path: ["spec", "template"]], template.objectValue != nil else { return }
        let now = clock.now()
        let spec = deployment["spec"]
        let desired = Int(spec?["replicas"]?.intValue ?? 1)
        let minReady = Int(spec?["minReadySeconds"]?.intValue ?? 0)
        let hash = DeploymentPlanner.podTemplateHash(template)
        let live = pods.filter { $0[path: ["metadata", "deletionTimestamp"]] == nil }
        let isNew: (JSONValue) -> Bool = { $0[path: ["metadata", "labels", "pod-template-hash"]]?.stringValue == hash }
        let new = live.filter(isNew).map { Self.view($0, minReadySeconds: minReady, now: now) }
        let old = live.filter { !isNew($0) }.map { Self.view($0, minReadySeconds: minReady, now: now) }
        let terminatingOld = pods.filter { $0[path: ["metadata", "deletionTimestamp"]] != nil && !isNew($0) }.count
        let strategy = DeploymentPlanner.strategy(spec, desired: desired)

        let paused = spec?["paused"]?.boolValue ?? false
        if !paused {
            let plan = DeploymentPlanner.plan(
                desired: desired, strategy: strategy, new: new, old: old, terminatingOld: terminatingOld)
            for _ in 0..<plan.create {
                await createPod(deployment: deployment, template: template, hash: hash)
            }
            for podName in plan.delete {
                if let pod = live.first(where: { $0[path: ["metadata", "name"]]?.stringValue == podName }) {
                    await deletePod(pod)
                }
            }
        }

        let maxUnavailable: Int
        if case .rollingUpdate(_, let unavailable) = strategy {
            maxUnavailable = unavailable
        } else {
            maxUnavailable = 0
        }
        let counts = DeploymentPlanner.Counts(
            desired: desired, replicas: live.count, updated: new.count, ready: (new + old).filter(\.ready).count,
            available: (new + old).filter(\.available).count, oldReplicas: old.count)
        let status = DeploymentPlanner.status(
            counts: counts, generation: deployment[path: ["metadata", "generation"]]?.intValue ?? 1,
            maxUnavailable: maxUnavailable, replicaSetName: "\(name)-\(hash)",
            progressDeadlineSeconds: Int(spec?["progressDeadlineSeconds"]?.intValue ?? 600),
            previous: deployment["status"], now: now)
        if let previous = deployment["status"], previous.semanticallyEquals(status) { return }
        var updated = deployment
        updated["status"] = status
        do {
            _ = try await store.update(.deployments, updated, subresource: "status")
        } catch let error as APIStatus where error.isConflict {
            requeue()
        } catch {
            logger.debug(
                "deployment.status.write-failed",
                metadata: ["k8s.namespace": "\(namespace)", "k8s.name": "\(name)", "error": "\(error)"])
            requeue()
        }
    }

    private func createPod(deployment: JSONValue, template: JSONValue, hash: String) async {
        let name = deployment[path: ["metadata", "name"]]?.stringValue ?? "deployment"
        let namespace = deployment[path: ["metadata", "namespace"]]?.stringValue ?? "default"
        var metadata = template["metadata"]?.objectValue ?? [:]
        var labels = metadata["labels"]?.objectValue ?? [:]
        labels["pod-template-hash"] = .string(hash)
        metadata["labels"] = .object(labels)
        metadata["name"] = .string("\(name)-\(hash)-\(DeploymentPlanner.randomSuffix(using: &generator))")
        metadata["generateName"] = .string("\(name)-\(hash)-")
        metadata["namespace"] = .string(namespace)
        metadata["creationTimestamp"] = nil
        metadata["ownerReferences"] = [
            [
                "apiVersion": "apps/v1", "kind": "Deployment", "name": .string(name),
                "uid": deployment[path: ["metadata", "uid"]] ?? "", "controller": true, "blockOwnerDeletion": true,
            ]
        ]
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata), "spec": template["spec"] ?? [:],
            "status": ["phase": "Pending", "qosClass": "BestEffort"],
        ]
        do {
            _ = try await store.create(.pods, pod)
        } catch {
            logger.debug("deployment.pod.create-failed", metadata: ["k8s.name": "\(name)", "error": "\(error)"])
            requeue()
        }
    }

    private func deletePod(_ pod: JSONValue) async {
        guard let name = pod[path: ["metadata", "name"]]?.stringValue else { return }
        do {
            try await store.delete(.pods, namespace: pod[path: ["metadata", "namespace"]]?.stringValue, name: name)
        } catch let error as APIStatus where error.isNotFound {
        } catch {
            requeue()
        }
    }
}
