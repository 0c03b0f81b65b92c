import Foundation
import KubeCore
import ModelRolloutCore
import Testing

@testable import ModelRolloutController

/// Whole rollouts through the reconciler (gather → round → act), round by round on a manual clock against a
/// scripted cluster: no network, no sleeps.
@Suite struct ReconcilerStoryTests {
    /// The sample's shape with short holds: 10 % for 60 s, 50 % for 60 s, 100 %; analysis every 15 s.
    static func spec(candidate: String = "vllm-r2") -> ModelRolloutSpec {
        var spec = ModelRolloutSpec(
            model: "meta-llama/Llama-3.1-8B-Instruct", deployment: candidate, route: RouteReference(name: "chat"),
            readinessTimeout: KubeDuration(seconds: 300),
            steps: [
                RolloutStep(weight: 10, hold: KubeDuration(seconds: 60)),
                RolloutStep(weight: 50, hold: KubeDuration(seconds: 60)), RolloutStep(weight: 100),
            ])
        spec.analysis.interval = KubeDuration(seconds: 15)
        spec.analysis.minSamples = 20
        return spec
    }

    static func decisions(_ status: ModelRolloutStatus) -> [String] { status.decisions.map(\.rule) }

    @Test func aHealthyCandidateIsPromotedStepByStepOntoModelReadyCapacity() async throws {
        let cluster = ScriptedCluster(spec: Self.spec(), clock: ManualClock())
        cluster.addDeployment("vllm-r2", profile: .init(loadSeconds: 40, ttft: 0.2))
        let driver = RoundDriver(cluster: cluster)
        let rounds = await driver.run { $0.phase == .promoted }
        #expect(rounds != nil, "not promoted: \(cluster.status.message ?? "")")
        #expect(cluster.weightsWritten(to: "vllm-r2") == [10, 25, 50, 75, 100])
        #expect(cluster.route["vllm-r1"] ?? 0 == 0)
        #expect(cluster.status.stableDeployment == "vllm-r2")
        // Every weight change found model-ready capacity first: the candidate was scaled before its first weight.
        let firstScale = cluster.actions.firstIndex { $0 == .scale(deployment: "vllm-r2", replicas: 1) }
        let firstWeight = cluster.actions.firstIndex {
            if case .setWeights(let w) = $0 { return (w["vllm-r2"] ?? 0) ?? 0 > 0 }
            return false
        }
        #expect(firstScale != nil && firstWeight != nil && firstScale! < firstWeight!)
        #expect(cluster.events.contains { $0.reason == "Promoted" })
        // Analysis ran on the samples and passed at each held step.
        #expect(cluster.status.decisions.contains { $0.rule == "capacity-ready" })
        #expect(!Self.decisions(cluster.status).contains("analysis-failed"))
        // The measured load times of the candidate's pods reach the status.
        #expect((cluster.status.loadTime?.samples ?? 0) >= 1)
        // The status records the model-ready pods (a restarted controller trusts their log proof), sorted, and
        // each once (the scripted pods' incarnation is their name; the retiring vllm-r1 may still have some).
        let recorded = cluster.status.modelReadyPods ?? []
        #expect(recorded == Array(Set(recorded)).sorted())
        #expect(recorded.contains { $0.hasPrefix("vllm-r2-") })
        #expect(recorded.allSatisfy { $0.hasPrefix("vllm-r1-") || $0.hasPrefix("vllm-r2-") })
    }

    @Test func aSlowCandidateFailsAnalysisAndIsRolledBack() async throws {
        let cluster = ScriptedCluster(spec: Self.spec(), clock: ManualClock())
        cluster.addDeployment("vllm-r2", profile: .init(loadSeconds: 40, ttft: 0.9))
        let driver = RoundDriver(cluster: cluster)
        let rounds = await driver.run { $0.phase == .rolledBack }
        #expect(rounds != nil, "not rolled back: \(cluster.status.message ?? "")")
        #expect(cluster.route["vllm-r1"] == 100)
        #expect(cluster.route["vllm-r2"] == nil)
        #expect(cluster.replicas("vllm-r2") == 0)
        #expect(cluster.weightsWritten(to: "vllm-r2").max() == 10, "never past the first step")
        let failed = cluster.status.decisions.filter { $0.rule == "analysis-failed" && $0.result.hasPrefix("failures=") }
        #expect(failed.count == 2, "failureLimit 2")
        #expect(cluster.status.decisions.contains { $0.rule == "analysis-failed" && $0.result == "rolling back" })
        #expect(failed.first?.inputs["ttftRatio"] != nil)
        #expect(cluster.events.contains { $0.warning && $0.reason == "AnalysisFailed" })
    }

    @Test func aCandidateThatNeverLoadsTimesOutAndIsRolledBack() async throws {
        var spec = Self.spec()
        spec.readinessTimeout = KubeDuration(seconds: 120)
        let cluster = ScriptedCluster(spec: spec, clock: ManualClock())
        cluster.addDeployment("vllm-r2", profile: .init(loadSeconds: .infinity))
        let start = cluster.clock.now()
        let driver = RoundDriver(cluster: cluster)
        let rounds = await driver.run { $0.phase == .rolledBack }
        #expect(rounds != nil)
        let elapsed = cluster.clock.now().timeIntervalSince(start)
        #expect(elapsed > 120 && elapsed < 140, "rolled back \(elapsed) s after the start")
        #expect(cluster.weightsWritten(to: "vllm-r2").isEmpty, "no weight ever reached a loading candidate")
        #expect(cluster.route == ["vllm-r1": 100])
        #expect(Self.decisions(cluster.status).contains("readiness-timeout"))
    }

    @Test func aRestartAfterALostStatusWriteAdoptsTheWrittenStepAndNeitherRepeatsNorSkips() async throws {
        let cluster = ScriptedCluster(spec: Self.spec(), clock: ManualClock())
        cluster.addDeployment("vllm-r2", profile: .init(loadSeconds: 40, ttft: 0.2))
        let first = RoundDriver(cluster: cluster)
        // The status write of the round that writes 10 % is lost (the process dies between the two writes).
        cluster.loseStatusAfterNextWeightWrite()
        await first.run { _ in cluster.route["vllm-r2"] == 10 }
        #expect(cluster.status.currentStep == nil, "the status write of the 10 % step was lost")
        // A new process: empty memory, status behind the route.
        let second = RoundDriver(cluster: cluster)
        let rounds = await second.run { $0.phase == .promoted }
        #expect(rounds != nil)
        #expect(cluster.weightsWritten(to: "vllm-r2") == [10, 25, 50, 75, 100])
        #expect(Self.decisions(cluster.status).contains("route-ahead-of-status"))
        #expect(cluster.status.decisions.filter { $0.rule == "capacity-ready" }.count == 2, "10 % was not re-written")
    }

    @Test func aSurgeMidRolloutScalesTheStableSideThroughTheFleetAutoscaler() async throws {
        var spec = Self.spec()
        spec.steps = [RolloutStep(weight: 10, hold: KubeDuration(seconds: 600)), RolloutStep(weight: 100)]
        spec.autoscaling = AutoscalingSpec(
            enabled: true, minReplicas: 4, maxReplicas: 16, targetWaitingPerReplica: 4, targetUtilization: 0.8,
            replicaThroughput: 8, coldStart: ColdStartSpec(percentile: 90, fallback: KubeDuration(seconds: 40)),
            scaleDownDelay: KubeDuration(seconds: 300))
        let cluster = ScriptedCluster(spec: spec, clock: ManualClock())
        cluster.demand = 20
        cluster.addDeployment("vllm-r2", profile: .init(loadSeconds: 40, ttft: 0.2))
        let driver = RoundDriver(cluster: cluster)
        await driver.run { $0.currentStep == 0 }
        #expect(cluster.replicas("vllm-r1") == 4, "steady demand adds nothing")
        cluster.demand = 60
        let rounds = await driver.run(limit: 400) { _ in cluster.replicas("vllm-r1") > 4 }
        #expect(rounds != nil, "the stable side was not scaled for the surge")
        #expect(Self.decisions(cluster.status).contains("autoscale-rollout-share"))
        #expect(cluster.route["vllm-r2"] == 10, "weights stay on the step")
        #expect(cluster.status.phase == .progressing)
    }
}

/// Rollouts whose route's backends are InferencePools (`spec.inferencePool`), through the reconciler.
@Suite struct ReconcilerInferencePoolTests {
    /// A pool per scripted revision, named like it, selecting its pods (`revision: <name>`).
    static func pool(_ name: String, port: Int32 = 8000) -> InferencePool {
        InferencePool(
            metadata: ObjectMeta(name: name, namespace: "llm-serving"),
            spec: InferencePoolSpec(
                matchLabels: ["app": "llama", "revision": name], targetPorts: [port], endpointPicker: "\(name)-epp",
                port: 9002))
    }

    static func cluster(pools: [InferencePool]) -> ScriptedCluster {
        var spec = ReconcilerStoryTests.spec()
        spec.inferencePool = "vllm-r2"
        let cluster = ScriptedCluster(spec: spec, clock: ManualClock())
        cluster.backendKind = .inferencePool
        cluster.pools = Dictionary(uniqueKeysWithValues: pools.map { ($0.metadata.name ?? "", $0) })
        cluster.addDeployment("vllm-r2", profile: .init(loadSeconds: 40, ttft: 0.2))
        return cluster
    }

    @Test func aPoolCandidateIsPromotedOntoModelReadyCapacityWithPoolWeights() async throws {
        let cluster = Self.cluster(pools: [Self.pool("vllm-r1"), Self.pool("vllm-r2")])
        let driver = RoundDriver(cluster: cluster)
        let rounds = await driver.run { $0.phase == .promoted }
        #expect(rounds != nil, "not promoted: \(cluster.status.message ?? "")")
        #expect(cluster.weightsWritten(to: "vllm-r2") == [10, 25, 50, 75, 100])
        #expect(cluster.route["vllm-r1"] == 0, "the old pool keeps a weight-0 backendRef until it is retired")
        let retired = await driver.run { $0.retiredDeployment == nil }
        #expect(retired != nil)
        #expect(cluster.route["vllm-r1"] == nil, "the old pool's backendRef is removed once retired")
        #expect(!cluster.weightKinds.isEmpty && cluster.weightKinds.allSatisfy { $0 == .inferencePool })
        #expect(cluster.status.stableService == "vllm-r2" && cluster.status.stableDeployment == "vllm-r2")
    }

    @Test func aMissingCandidatePoolPatchesNothingUntilItExists() async throws {
        let cluster = Self.cluster(pools: [Self.pool("vllm-r1")])
        let driver = RoundDriver(cluster: cluster)
        await driver.run(limit: 20) { _ in false }
        #expect(cluster.actions.isEmpty, "\(cluster.actions)")
        let invalid = cluster.status.conditions.first { $0.type == "InvalidSpec" }
        #expect(invalid?.status == "True")
        #expect((invalid?.message ?? "").contains("InferencePool vllm-r2 (spec.inferencePool) not found"))
        #expect(cluster.events.contains { $0.warning && $0.reason == "InvalidSpec" })

        cluster.pools["vllm-r2"] = Self.pool("vllm-r2")
        let rounds = await driver.run { $0.phase == .promoted }
        #expect(rounds != nil, "not promoted once the pool exists: \(cluster.status.message ?? "")")
    }

    @Test func aCandidatePoolOnTheWrongPortPatchesNothing() async throws {
        let cluster = Self.cluster(pools: [Self.pool("vllm-r1"), Self.pool("vllm-r2", port: 9000)])
        await RoundDriver(cluster: cluster).run(limit: 20) { _ in false }
        #expect(cluster.actions.isEmpty)
        let message = cluster.status.conditions.first { $0.type == "InvalidSpec" }?.message ?? ""
        #expect(message.contains("targets port 9000, not the runtime port 8000"), "\(message)")
    }

    @Test func aFailingPoolCandidateIsRolledBackWithTheRouteOnTheStablePool() async throws {
        let cluster = Self.cluster(pools: [Self.pool("vllm-r1"), Self.pool("vllm-r2")])
        cluster.addDeployment("vllm-r2", profile: .init(loadSeconds: 40, ttft: 0.9))
        let rounds = await RoundDriver(cluster: cluster).run { $0.phase == .rolledBack }
        #expect(rounds != nil, "not rolled back: \(cluster.status.message ?? "")")
        #expect(cluster.route["vllm-r1"] == 100)
        #expect(cluster.route["vllm-r2"] == nil)
        #expect(cluster.weightKinds.allSatisfy { $0 == .inferencePool })
    }
}
