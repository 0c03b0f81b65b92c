import ClusterSim
import Foundation
import KubeCore
import ModelRolloutCore
import Testing

/// Model revisions behind InferencePools (Gateway API Inference Extension) end to end: r1 and r2 each behind a
/// pool of its own, the route's backendRefs are the pools, the gateway picks the endpoint within the chosen pool
/// (as an endpoint picker does), and the real controller binary moves the weights from pool to pool.
@Suite("InferencePool backends end to end", .serialized)
struct InferencePoolEndToEndTests {
    /// r1 (2 replicas) behind pool-r1 at 100 %, r2 (0 replicas) behind pool-r2, load, the controller and a
    /// ModelRollout adopting r1 through its pool.
    static func steadyPools(_ harness: Harness, candidateAnnotations: [String: String] = [:]) async throws
        -> LoadGenerator
    {
        try await harness.createRevision("r1", replicas: 2)
        try await harness.createRevision("r2", replicas: 0, annotations: candidateAnnotations)
        try await harness.createPool("pool-r1", revision: "r1")
        try await harness.createPool("pool-r2", revision: "r2")
        try await harness.createRoute(["pool-r1": 100], pools: true)
        try await harness.waitUntil("r1 serving", seconds: 60) { try await harness.readyPods("r1") == 2 }
        let load = LoadGenerator(
            configuration: .init(
                url: harness.gatewayURL, rate: 40, model: Harness.model, promptTokens: 100, maxTokens: 8, seed: 42))
        await load.start()
        harness.startObservers(candidate: "r2")
        // The scale flags, set explicitly (the defaults are 8 workers, 100 QPS, burst 200, 2 s).
        try harness.startController(extraArguments: [
            "--workers", "2", "--kube-api-qps", "80", "--kube-api-burst", "150", "--pod-request-timeout", "1.5",
        ])
        try await harness.createRollout(spec: ["deployment": "r1", "inferencePool": "pool-r1"])
        try await harness.waitUntil("the rollout to adopt r1 through pool-r1") {
            let status = try await harness.rollout().status
            return status?.stableDeployment == "r1" && status?.stableService == "pool-r1"
                && status?.observedGeneration == 1
        }
        return load
    }

    @Test("(p) pools: the rollout moves 10 → 50 → 100 % from pool r1 to pool r2 onto model-ready capacity and promotes")
    func poolRolloutPromotes() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyPools(harness)
        let started = Date()
        try await harness.patchRollout(spec: ["deployment": "r2", "inferencePool": "pool-r2"])
        try await harness.waitUntil("promotion", seconds: 90) {
            try await harness.rollout().status?.phase == .promoted
        }
        let promotedAfter = Date().timeIntervalSince(started)
        try await harness.waitUntil("pool-r1 removed from the route and r1 scaled to zero", seconds: 30) {
            let weights = try await harness.routeWeights()
            let replicas = try await harness.replicas("r1")
            return weights == ["pool-r2": 100] && replicas == 0
        }
        await load.stop()
        let summary = await load.summary()
        let status = try #require(try await harness.rollout().status)
        let sequence = await harness.weights.sequence("pool-r2")
        let latencies = await harness.gateLatencies(candidate: "pool-r2")
        print(
            "e2e(p): promoted after \(String(format: "%.1f", promotedAfter)) s; pool-r2 weights \(sequence); "
                + "requests \(summary.count) ok \(summary.ok) toUnloaded \(summary.requestsToUnloadedPods) "
                + "by revision \(summary.byRevision)")
        #expect(Harness.followsSteps(sequence, [10, 50, 100]), "\(sequence)")
        #expect(summary.requestsToUnloadedPods == 0)
        #expect(summary.count > 100)
        #expect(Double(summary.ok) >= 0.99 * Double(summary.count))
        #expect((summary.byRevision["r2"] ?? 0) > 0)
        #expect(status.stableDeployment == "r2" && status.stableService == "pool-r2")
        #expect(status.condition("InvalidSpec")?.status != "True")
        // Every backendRef the controller wrote is a pool, without a port.
        let route = try await harness.kube.resources(HTTPRoute.self, namespace: Harness.namespace).get("llm-chat")
        #expect(route.spec.rules[0].backendRefs.allSatisfy { $0.isInferencePool && $0.port == nil })
        #expect(latencies.allSatisfy { $0 < 1.0 }, "\(latencies)")
        GateLatencyLog.shared.append(latencies)
    }

    @Test("(q) pools: a candidate that fails to load is rolled back with the route on pool r1")
    func poolCandidateFailsToLoad() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyPools(harness, candidateAnnotations: [SimAnnotations.fail: "oom"])
        try await harness.patchRollout(spec: ["deployment": "r2", "inferencePool": "pool-r2"])
        try await harness.waitUntil("the rollback", seconds: 60) {
            try await harness.rollout().status?.phase == .failed
        }
        try await harness.waitUntil("r2 scaled to zero", seconds: 20) { try await harness.replicas("r2") == 0 }
        await load.stop()
        let summary = await load.summary()
        let status = try #require(try await harness.rollout().status)
        #expect(status.failureReason == "ModelLoadFailed")
        #expect(try await harness.routeWeights() == ["pool-r1": 100])
        #expect(summary.requestsToUnloadedPods == 0)
        #expect((summary.byRevision["r2"] ?? 0) == 0)
        #expect(await harness.weights.sequence("pool-r2").allSatisfy { $0 == 0 })
    }

    @Test("(r) pools: a candidate pool that selects the stable revision's pods is InvalidSpec and nothing is patched")
    func poolSelectingBothRevisionsIsRefused() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyPools(harness)
        await load.stop()
        // pool-shared selects every vllm-llama pod, r1's included.
        _ = try await harness.kube.resources(InferencePool.self, namespace: Harness.namespace).create(
            InferencePool(
                metadata: ObjectMeta(name: "pool-shared", namespace: Harness.namespace),
                spec: InferencePoolSpec(matchLabels: ["app": "vllm-llama"], targetPorts: [8000])))
        try await harness.patchRollout(spec: ["deployment": "r2", "inferencePool": "pool-shared"])
        try await harness.waitUntil("InvalidSpec", seconds: 30) {
            try await harness.rollout().status?.condition("InvalidSpec")?.status == "True"
        }
        let status = try #require(try await harness.rollout().status)
        let message = status.condition("InvalidSpec")?.message ?? ""
        #expect(message.contains("InferencePool pool-shared selects the pods of several Deployments (r1, r2)"), "\(message)")
        try await Task.sleep(for: .seconds(2))
        #expect(try await harness.routeWeights() == ["pool-r1": 100])
        #expect(try await harness.replicas("r2") == 0)
    }
}
