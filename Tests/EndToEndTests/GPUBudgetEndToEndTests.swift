import ClusterSim
import Foundation
import KubeCore
import ModelRolloutCore
import Testing

/// Issue 10's acceptance on the emulated cluster: a rollout with the default GPU budget finishes on one node with
/// one spare GPU and on one node with none, never sending a request to a loading pod.
@Suite("GPU budget end to end", .serialized)
struct GPUBudgetEndToEndTests {
    /// 4 r1 replicas on one node of `gpus` GPUs under steady load; the default strategy (maxSurge 25 %).
    func rolloutOnOneNode(gpus: Int) async throws {
        let harness = try await Harness(gpuNodes: 1, gpusPerNode: gpus)
        defer { Task { await harness.shutdown() } }
        try await harness.createRevision("r1", replicas: 4)
        try await harness.createRevision("r2", replicas: 0)
        try await harness.createRoute(["r1": 100])
        try await harness.waitUntil("r1 serving", seconds: 60) { try await harness.readyPods("r1") == 4 }
        let load = LoadGenerator(
            configuration: .init(
                url: harness.gatewayURL, rate: 20, model: Harness.model, promptTokens: 100, maxTokens: 8, seed: 7))
        await load.start()
        harness.startObservers(candidate: "r2")
        try harness.startController()
        // With no spare GPU a stable pod is retired only against measured demand and a known per-replica
        // throughput: 8 req/s per pod here, so 3 pods carry the 20 req/s at 83 % (≤ maxUtilization 95 %).
        try await harness.createRollout(spec: [
            "deployment": "r1",
            "steps": [["weight": 10, "hold": "3s"], ["weight": 50, "hold": "4s"], ["weight": 100]],
            "analysis": ["interval": "1s", "minSamples": 10, "ttftRatio": 3.0, "ttftP95": "2s"],
            "autoscaling": ["scaleDownDelay": "2s", "replicaThroughput": 8],
        ])
        try await harness.waitUntil("the rollout to adopt r1") {
            try await harness.rollout().status?.stableDeployment == "r1"
        }
        try await Task.sleep(for: .seconds(3))
        let baseline = await load.summary()
        let started = Date()
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("promotion on \(gpus) GPUs", seconds: 150) {
            let phase = try await harness.rollout().status?.phase
            if phase == .rolledBack || phase == .failed {
                throw HarnessError("rolled back: \(try await harness.rollout().status?.message ?? "")")
            }
            return phase == .promoted
        }
        let during = await load.summary(since: started)
        let failed = await load.snapshot(since: started).filter { !$0.ok }
        let failures = failed.prefix(5).map {
            "\($0.status) \($0.revision ?? "-") \($0.pod ?? "-") \($0.error ?? "")"
        }
        await load.stop()
        let status = try #require(try await harness.rollout().status)
        let sequence = await harness.weights.sequence("r2")
        let rules = status.decisions.map(\.rule)
        print(
            "e2e(gpu \(gpus)): promoted after \(String(format: "%.1f", Date().timeIntervalSince(started))) s; r2 "
                + "weights \(sequence); requests \(during.count) ok \(during.ok) toUnloaded "
                + "\(during.requestsToUnloadedPods); TTFT p95 \(during.ttftP95 ?? -1) s vs baseline "
                + "\(baseline.ttftP95 ?? -1) s; rules \(rules); failures \(failures)")
        #expect(Harness.followsSteps(sequence, [10, 50, 100]), "\(sequence)")
        #expect(during.requestsToUnloadedPods == 0)
        #expect(during.count > 100)
        // The emulator ends a deleted pod's streams at once (no terminationGracePeriod drain, which vLLM's server
        // honours on SIGTERM): requests in flight on a retired stable pod are cut. Nothing else may fail.
        #expect(failed.allSatisfy { $0.revision == "r1" && $0.status == 200 }, "\(failures)")
        #expect(Double(during.ok) >= 0.97 * Double(during.count))
        // The stable side shrank as weight left it: the rollout never held more pods than the node has GPUs.
        #expect(rules.contains("ladder-stable") || rules.contains("ladder-retire-for-room"))
        if gpus == 4 { #expect(rules.contains("ladder-retire-for-room")) }
    }

    @Test("(s) 4 replicas on a node with 5 GPUs: the default budget promotes, 0 requests to loading pods")
    func oneSpareGPU() async throws { try await rolloutOnOneNode(gpus: 5) }

    @Test("(t) 4 replicas on a node with 4 GPUs: a stable pod makes room first, 0 requests to loading pods")
    func noSpareGPU() async throws { try await rolloutOnOneNode(gpus: 4) }
}
