import Foundation
import KubeCore
import Testing

@testable import ClusterSim

@Suite("Deployment planning")
struct WorkloadPlannerTests {
    static func pods(_ prefix: String, ready: Int, notReady: Int = 0) -> [DeploymentPodView] {
        let t = Date(timeIntervalSince1970: 1_000_000)
        return (0..<ready).map {
            DeploymentPodView(
                name: "\(prefix)\($0)", created: t.addingTimeInterval(Double($0)), scheduled: true, ready: true,
                available: true)
        }
            + (0..<notReady).map {
                DeploymentPodView(
                    name: "\(prefix)u\($0)", created: t.addingTimeInterval(Double(100 + $0)), scheduled: true,
                    ready: false, available: false)
            }
    }

    @Test func templateHashIsStableAndKubeShaped() throws {
        let template: JSONValue = [
            "metadata": ["labels": ["app": "a"]], "spec": ["containers": [["name": "c", "image": "vllm"]]],
        ]
        var labelled = template
        labelled[path: ["metadata", "labels", "pod-template-hash"]] = "xyz"
        let hash = DeploymentPlanner.podTemplateHash(template)
        #expect(hash.count == 10)
        #expect(hash.allSatisfy { $0.isLowercase || $0.isNumber })
        #expect(DeploymentPlanner.podTemplateHash(labelled) == hash)
        var changed = template
        changed[path: ["spec", "containers"]] = [["name": "c", "image": "vllm:v2"]]
        #expect(DeploymentPlanner.podTemplateHash(changed) != hash)
    }

    @Test(arguments: [
        (JSONValue?.none, 4, true, 1), (JSONValue?.none, 4, false, 1), (JSONValue?.none, 3, true, 1),
        (JSONValue?.none, 3, false, 0), (JSONValue.int(2), 10, true, 2), (JSONValue.string("50%"), 3, true, 2),
        (JSONValue.string("50%"), 3, false, 1),
    ])
    func resolveIntOrPercent(value: JSONValue?, total: Int, roundUp: Bool, expected: Int) {
        #expect(DeploymentPlanner.resolve(value, total: total, roundUp: roundUp) == expected)
    }

    @Test func scaleUpAndDownPrefersNotReadyThenNewest() {
        let up = DeploymentPlanner.plan(
            desired: 3, strategy: .rollingUpdate(maxSurge: 1, maxUnavailable: 0), new: Self.pods("n", ready: 1), old: []
        )
        #expect(up == .init(create: 2))
        let down = DeploymentPlanner.plan(
            desired: 1, strategy: .rollingUpdate(maxSurge: 1, maxUnavailable: 0),
            new: Self.pods("n", ready: 2, notReady: 1), old: [])
        #expect(down.delete == ["nu0", "n1"])
    }

    @Test(arguments: [
        // desired, surge, unavailable, new ready, new not ready, old ready → create, deleted count
        (2, 1, 0, 0, 0, 2, 1, 0),  // surge one new pod, keep all old (none may be unavailable)
        (2, 1, 0, 0, 1, 2, 0, 0),  // wait for the new pod to become ready
        (2, 1, 0, 1, 0, 2, 0, 1),  // one new ready: one old goes
        (2, 1, 0, 1, 0, 1, 1, 0),  // then the next new pod
        (4, 1, 1, 0, 0, 4, 1, 1),  // 25 %/25 % of 4: surge one, remove one old
        (2, 0, 1, 0, 0, 2, 0, 1),  // no surge: remove first
    ])
    func rollingUpdateSteps(
        desired: Int, surge: Int, unavailable: Int, newReady: Int, newNotReady: Int, oldReady: Int, create: Int,
        deleted: Int
    ) {
        let plan = DeploymentPlanner.plan(
            desired: desired, strategy: .rollingUpdate(maxSurge: surge, maxUnavailable: unavailable),
            new: Self.pods("n", ready: newReady, notReady: newNotReady), old: Self.pods("o", ready: oldReady))
        #expect(plan.create == create)
        #expect(plan.delete.count == deleted)
        #expect(plan.delete.allSatisfy { $0.hasPrefix("o") })
    }

    @Test func recreateDeletesOldFirstAndWaitsForTermination() {
        #expect(
            DeploymentPlanner.plan(desired: 2, strategy: .recreate, new: [], old: Self.pods("o", ready: 2)).delete == [
                "o0", "o1",
            ])
        #expect(DeploymentPlanner.plan(desired: 2, strategy: .recreate, new: [], old: [], terminatingOld: 1) == .init())
        #expect(DeploymentPlanner.plan(desired: 2, strategy: .recreate, new: [], old: []) == .init(create: 2))
    }

    @Test func statusConditions() throws {
        let now = Date(timeIntervalSince1970: 2_000_000)
        let partial = DeploymentPlanner.status(
            counts: .init(desired: 2, replicas: 2, updated: 2, ready: 1, available: 1, oldReplicas: 0), generation: 3,
            maxUnavailable: 0, replicaSetName: "web-abc", progressDeadlineSeconds: 600, previous: nil, now: now)
        #expect(partial["observedGeneration"] == 3)
        #expect(partial["unavailableReplicas"] == 1)
        let conditions = try #require(partial["conditions"]?.arrayValue)
        #expect(conditions[0]["type"] == "Available")
        #expect(conditions[0]["status"] == "False")
        #expect(conditions[0]["reason"] == "MinimumReplicasUnavailable")
        #expect(conditions[1]["reason"] == "ReplicaSetUpdated")
        let later = now.addingTimeInterval(30)
        let done = DeploymentPlanner.status(
            counts: .init(desired: 2, replicas: 2, updated: 2, ready: 2, available: 2, oldReplicas: 0), generation: 3,
            maxUnavailable: 0, replicaSetName: "web-abc", progressDeadlineSeconds: 600, previous: partial, now: later)
        let c2 = try #require(done["conditions"]?.arrayValue)
        #expect(c2[0]["status"] == "True")
        #expect(c2[0]["reason"] == "MinimumReplicasAvailable")
        #expect(c2[0]["lastTransitionTime"] == .string(KubeTime.format(later)))
        #expect(c2[1]["reason"] == "NewReplicaSetAvailable")
        #expect(c2[1]["message"] == "ReplicaSet \"web-abc\" has successfully progressed.")
        #expect(c2[1]["lastTransitionTime"] == .string(KubeTime.format(now)))  // stayed True
        #expect(done["unavailableReplicas"] == nil)
        // Same counts again: identical status, so no write.
        let again = DeploymentPlanner.status(
            counts: .init(desired: 2, replicas: 2, updated: 2, ready: 2, available: 2, oldReplicas: 0), generation: 3,
            maxUnavailable: 0, replicaSetName: "web-abc", progressDeadlineSeconds: 600, previous: done,
            now: later.addingTimeInterval(60))
        #expect(again == done)
    }
}

@Suite("Deployment controller and kubelet")
struct WorkloadControllerTests {
    static func base() -> String { "127.\(Int.random(in: 100...250)).\(Int.random(in: 1...250)).0" }

    static func deployment(
        name: String, replicas: Int, image: String = "vllm/vllm-openai:v0.11.0", probe: JSONValue?,
        annotations: JSONValue = [:],
        gpus: Int = 0
    ) -> JSONValue {
        var container: JSONValue = [
            "name": "vllm", "image": .string(image),
            "args": ["--model", "org/model", "--served-model-name", .string(name)],
            "ports": [["containerPort": 8000, "name": "http"]],
        ]
        if let probe { container["readinessProbe"] = probe }
        if gpus > 0 { container["resources"] = ["limits": ["nvidia.com/gpu": .int(Int64(gpus))]] }
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(name), "namespace": "ns"],
            "spec": [
                "replicas": .int(Int64(replicas)), "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)], "annotations": annotations],
                    "spec": ["containers": [container]],
                ],
            ],
        ]
    }

    static let modelsProbe: JSONValue = ["httpGet": ["path": "/v1/models", "port": 8000], "periodSeconds": 5]
    static let tcpProbe: JSONValue = ["tcpSocket": ["port": 8000], "periodSeconds": 5]

    func makeSimulator(_ store: WorkloadTestStore, nodes: Int = 2, gpus: Int = 8) -> WorkloadSimulator {
        WorkloadSimulator(
            store: store,
            configuration: .init(
                nodeCount: nodes, gpusPerNode: gpus, timeScale: 1000, defaultLoadSeconds: 60, defaultPullSeconds: 20,
                baseAddress: Self.base()))
    }

    func pods(_ store: WorkloadTestStore, _ app: String) async -> [JSONValue] {
        await store.list(.pods, namespace: "ns").filter { $0[path: ["metadata", "labels", "app"]]?.stringValue == app }
    }

    static func isReady(_ pod: JSONValue) -> Bool {
        pod[path: ["status", "conditions"]]?.arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" }
            ?? false
    }

    func deploymentStatus(_ store: WorkloadTestStore, _ name: String) async -> JSONValue? {
        await store.get(.deployments, namespace: "ns", name: name)?["status"]
    }

    func settled(_ store: WorkloadTestStore, _ name: String, replicas: Int) async -> Bool {
        guard let d = await store.get(.deployments, namespace: "ns", name: name), let s = d["status"] else {
            return false
        }
        let pods = await pods(store, name)
        let available = s["conditions"]?.arrayValue?.first { $0["type"] == "Available" }
        return s["observedGeneration"] == d[path: ["metadata", "generation"]]
            && (s["availableReplicas"]?.intValue ?? 0) == Int64(replicas)
            && (s["updatedReplicas"]?.intValue ?? 0) == Int64(replicas)
            && (s["replicas"]?.intValue ?? 0) == Int64(replicas) && available?["status"] == "True"
            && pods.count == replicas && pods.allSatisfy(Self.isReady)
    }

    @Test(.timeLimit(.minutes(1)))
    func deploymentLifecycle() async throws {
        let store = WorkloadTestStore()
        let sim = makeSimulator(store)
        await sim.start()
        defer { Task { await sim.stop() } }
        _ = try await store.create(.deployments, Self.deployment(name: "web", replicas: 2, probe: Self.modelsProbe))
        #expect(await eventually { await settled(store, "web", replicas: 2) })

        let initial = await pods(store, "web")
        let hash = try #require(initial.first?[path: ["metadata", "labels", "pod-template-hash"]]?.stringValue)
        #expect(hash.count == 10)
        for pod in initial {
            let name = pod[path: ["metadata", "name"]]?.stringValue ?? ""
            #expect(name.hasPrefix("web-\(hash)-") && name.count == "web-".count + 10 + 1 + 5)
            #expect(pod[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["kind"] == "Deployment")
            #expect(pod[path: ["spec", "nodeName"]]?.stringValue?.hasPrefix("gpu-node-") == true)
            let ip = try #require(pod[path: ["status", "podIP"]]?.stringValue)
            #expect(ip.hasPrefix("127."))
            #expect(pod[path: ["status", "phase"]] == "Running")
            // The pod really serves its model on its own address.
            let reply = try await LoopbackHTTP.request(host: ip, port: 8000, path: "/v1/models")
            #expect(reply.body.contains("\"id\":\"web\""))
            let logs = await sim.logStore.lines(namespace: "ns", pod: name, container: "vllm")?.map(\.text) ?? []
            #expect(logs.contains { $0.hasSuffix("Application startup complete.") })
        }
        let status = try #require(await deploymentStatus(store, "web"))
        let progressing = status["conditions"]?.arrayValue?.first { $0["type"] == "Progressing" }
        #expect(progressing?["reason"] == "NewReplicaSetAvailable")

        // Scale up and down.
        try await store.modify(.deployments, namespace: "ns", name: "web") { $0[path: ["spec", "replicas"]] = 3 }
        #expect(await eventually { await settled(store, "web", replicas: 3) })
        try await store.modify(.deployments, namespace: "ns", name: "web") { $0[path: ["spec", "replicas"]] = 1 }
        #expect(await eventually { await settled(store, "web", replicas: 1) })

        // Template change: a rolling update to a new hash.
        try await store.modify(.deployments, namespace: "ns", name: "web") {
            $0[path: ["spec", "replicas"]] = 2
            $0[path: ["spec", "template", "metadata", "annotations", "revision"]] = "2"
        }
        #expect(
            await eventually {
                let current = await pods(store, "web")
                let hashes = Set(
                    current.compactMap { $0[path: ["metadata", "labels", "pod-template-hash"]]?.stringValue })
                return await settled(store, "web", replicas: 2) && hashes.count == 1 && !hashes.contains(hash)
            })

        // Deleting the Deployment deletes its pods.
        try await store.delete(.deployments, namespace: "ns", name: "web")
        #expect(await eventually { await pods(store, "web").isEmpty })
        await sim.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func processProbeIsReadyWhileTheModelLoads() async throws {
        let store = WorkloadTestStore()
        let sim = makeSimulator(store)
        await sim.start()
        let slow: JSONValue = [SimAnnotations.loadSeconds: "1000000"]
        _ = try await store.create(
            .deployments, Self.deployment(name: "tcp", replicas: 1, probe: Self.tcpProbe, annotations: slow))
        _ = try await store.create(
            .deployments, Self.deployment(name: "models", replicas: 1, probe: Self.modelsProbe, annotations: slow))
        #expect(await eventually { await pods(store, "tcp").first.map(Self.isReady) ?? false })
        // Give the /v1/models probe many periods (5 s each, 5 ms of wall time): it must keep failing.
        try await Task.sleep(for: .milliseconds(300))
        let models = try #require(await pods(store, "models").first)
        #expect(!Self.isReady(models))
        #expect(models[path: ["status", "phase"]] == "Running")
        let status = models[path: ["status", "containerStatuses"]]?.arrayValue?.first
        #expect(status?["started"] == true)
        #expect(status?["ready"] == false)
        let name = models[path: ["metadata", "name"]]?.stringValue ?? ""
        let logs = await sim.logStore.lines(namespace: "ns", pod: name, container: "vllm")?.map(\.text) ?? []
        #expect(logs.contains { $0.contains("Starting to load model org/model...") })
        #expect(!logs.contains { $0.contains("Application startup complete.") })
        let tcpStatus = await deploymentStatus(store, "tcp")
        #expect(tcpStatus?["availableReplicas"] == 1)
        await sim.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func gpuCapacityLeavesPodsUnschedulable() async throws {
        let store = WorkloadTestStore()
        let sim = makeSimulator(store, nodes: 1, gpus: 1)
        await sim.start()
        _ = try await store.create(.deployments, Self.deployment(name: "big", replicas: 2, probe: nil, gpus: 1))
        #expect(
            await eventually {
                let all = await pods(store, "big")
                let pending = all.filter {
                    $0[path: ["status", "conditions"]]?.arrayValue?.contains {
                        $0["type"] == "PodScheduled" && $0["status"] == "False" && $0["reason"] == "Unschedulable"
                    } ?? false
                }
                return all.count == 2 && pending.count == 1 && all.filter(Self.isReady).count == 1
            })
        #expect(await sim.kubelet.gpuUsage() == ["gpu-node-1": 1])
        // Deleting the running pod frees its GPU at once for the pending one (the scheduler's retry), while the
        // ReplicaSet's replacement waits in turn.
        let running = try #require(await pods(store, "big").first(where: Self.isReady))
        let runningName = try #require(running[path: ["metadata", "name"]]?.stringValue)
        let pendingName = try #require(
            await pods(store, "big").first(where: { !Self.isReady($0) })?[path: ["metadata", "name"]]?.stringValue)
        try await store.delete(.pods, namespace: "ns", name: runningName)
        #expect(
            await eventually {
                let ready = await pods(store, "big").filter(Self.isReady)
                return ready.map { $0[path: ["metadata", "name"]]?.stringValue } == [pendingName]
            })
        #expect(await sim.kubelet.gpuUsage() == ["gpu-node-1": 1])
        await sim.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func failedVLLMRestartsWithBackoff() async throws {
        let store = WorkloadTestStore()
        let sim = makeSimulator(store)
        await sim.start()
        let annotations: JSONValue = [SimAnnotations.fail: "oom", SimAnnotations.vllmVersion: "0.6.3.post1"]
        _ = try await store.create(
            .deployments, Self.deployment(name: "oom", replicas: 1, probe: Self.modelsProbe, annotations: annotations))
        #expect(
            await eventually {
                guard
                    let status = await pods(store, "oom").first?[path: ["status", "containerStatuses"]]?.arrayValue?
                        .first
                else { return false }
                return (status["restartCount"]?.intValue ?? 0) >= 1
                    && status[path: ["lastState", "terminated", "exitCode"]] == 1 && status["ready"] == false
            })
        let pod = try #require(await pods(store, "oom").first)
        let name = pod[path: ["metadata", "name"]]?.stringValue ?? ""
        #expect(
            await eventually {
                let previous = await sim.logStore.lines(namespace: "ns", pod: name, container: "vllm", previous: true)
                return previous?.contains { $0.text.contains("CUDA out of memory") } ?? false
            })
        await sim.stop()
    }
}
