import ClusterSim
import Foundation
import KubeCore
import ModelRolloutCore
import Testing

/// The ModelRollout controller end to end: the emulated cluster (compressed model loads, real-time serving, the
/// gateway and an open-loop load generator) and the real `modelrollout controller` binary.
@Suite("ModelRollout end to end", .serialized)
struct RolloutEndToEndTests {
    /// Starts r1 (2 replicas) behind the route, waits until it serves, starts load, the controller and the
    /// ModelRollout on r1 (adopted as stable).
    static func steadyFleet(
        _ harness: Harness, probe: Harness.Probe = .model, candidateAnnotations: [String: String] = [:],
        fleetAnnotations: [String: String] = [:], spec: [String: JSONValue] = [:], rate: Double = 40
    ) async throws -> LoadGenerator {
        try await harness.createRevision("r1", replicas: 2, probe: probe, annotations: fleetAnnotations)
        try await harness.createRevision(
            "r2", replicas: 0, probe: probe,
            annotations: fleetAnnotations.merging(candidateAnnotations) { _, candidate in candidate })
        try await harness.createRoute(["r1": 100])
        try await harness.waitUntil("r1 serving", seconds: 60) { try await harness.readyPods("r1") == 2 }
        // A TCP-probed pod is Ready while loading: wait until both actually serve.
        try await Task.sleep(for: .seconds(probe == .process ? 3 : 0))
        let load = LoadGenerator(
            configuration: .init(
                url: harness.gatewayURL, rate: rate, model: Harness.model, promptTokens: 100, maxTokens: 8,
                seed: 42))
        await load.start()
        harness.startObservers(candidate: "r2")
        try harness.startController()
        var initial = spec
        initial["deployment"] = "r1"
        try await harness.createRollout(spec: initial)
        try await harness.waitUntil("the rollout to adopt r1") {
            let rollout = try await harness.rollout()
            return rollout.status?.stableDeployment == "r1" && rollout.status?.observedGeneration == 1
        }
        return load
    }

    @Test("(a) a revision rollout under load follows the steps, never routes to loading pods, and promotes")
    func rolloutUnderLoad() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyFleet(harness)
        let started = Date()
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("promotion", seconds: 90) {
            try await harness.rollout().status?.phase == .promoted
        }
        let promotedAfter = Date().timeIntervalSince(started)
        // The old revision leaves the route and scales to zero after scaleDownDelay (2 s).
        try await harness.waitUntil("r1 retired", seconds: 30) {
            let weights = try await harness.routeWeights()
            let replicas = try await harness.replicas("r1")
            return weights["r1"] == nil && replicas == 0
        }
        await load.stop()
        let summary = await load.summary()
        let status = try #require(try await harness.rollout().status)
        let sequence = await harness.weights.sequence("r2")
        let latencies = await harness.gateLatencies(candidate: "r2")
        print(
            "e2e(a): promoted after \(String(format: "%.1f", promotedAfter)) s; r2 weights \(sequence); "
                + "requests \(summary.count) ok \(summary.ok) toUnloaded \(summary.requestsToUnloadedPods); "
                + "gate latencies \(latencies.map { String(format: "%.3f", $0) })")
        GateLatencyLog.shared.append(latencies)

        #expect(Harness.followsSteps(sequence, [10, 50, 100]), "\(sequence)")
        #expect(summary.requestsToUnloadedPods == 0)
        #expect(summary.count > 100)
        #expect(Double(summary.ok) >= 0.99 * Double(summary.count))
        #expect((summary.byRevision["r2"] ?? 0) > 0)
        #expect(status.stableDeployment == "r2")
        #expect(status.weights == RevisionWeights(stable: 100, candidate: 0))
        #expect(status.loadTime?.samples ?? 0 >= 2)
        #expect(status.condition("Progressing")?.reason == "RolloutComplete")
        #expect(status.conditions.allSatisfy { $0.observedGeneration == 2 })
        let kinds = status.decisions.map(\.kind)
        #expect(kinds.filter { $0 == .weight }.count == 3)
        #expect(kinds.contains(.promote))
        // The old revision is scaled to zero: after scaleDownDelay, or already by the ladder as the weight left it.
        #expect(
            status.decisions.contains {
                $0.kind == .scale && ($0.rule == "retire-after-delay" || $0.rule == "ladder-stable")
                    && $0.result == "replicas=0"
            })
        let reasons = try await harness.events().compactMap { $0["reason"]?.stringValue }
        #expect(reasons.contains("WeightsChanged"))
        #expect(reasons.contains("Scaled"))
        #expect(reasons.contains("Promoted"))
        #expect(!latencies.isEmpty)
        #expect(latencies.allSatisfy { $0 < 1.0 })

        // The operator's own endpoints: caches synced, controller-runtime and ModelRollout metrics.
        let health = try #require(harness.controllerPort("operator.health"))
        let metricsPort = try #require(harness.controllerPort("operator.metrics"))
        #expect(try await harness.controllerGet(port: health, path: "/readyz").status == 200)
        #expect(try await harness.controllerGet(port: health, path: "/healthz").status == 200)
        let metrics = try await harness.controllerGet(port: metricsPort, path: "/metrics").body
        #expect(metrics.contains("controller_runtime_reconcile_total"))
        #expect(metrics.contains("modelrollout_decisions_total"))
        #expect(metrics.contains("modelrollout_model_load_seconds"))
        #expect(metrics.contains("workqueue_adds_total"))
    }

    @Test("(b) process-level probes: a plain rolling update hits loading pods, the ModelRollout does not")
    func processLevelProbes() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyFleet(harness, probe: .process)
        let started = Date()
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("promotion", seconds: 90) {
            try await harness.rollout().status?.phase == .promoted
        }
        let ours = await load.summary(since: started)
        let status = try #require(try await harness.rollout().status)
        // The candidate's pods are Ready while loading, so it is brought to full size before any weight.
        #expect(status.decisions.contains { $0.rule == "full-before-traffic" })
        #expect(ours.requestsToUnloadedPods == 0)
        #expect((ours.byRevision["r2"] ?? 0) > 0)
        GateLatencyLog.shared.append(await harness.gateLatencies(candidate: "r2"))

        // The same model revision as a plain Deployment rolling update of r2 (what Kubernetes alone does).
        try await harness.waitUntil("r1 retired", seconds: 30) { try await harness.replicas("r1") == 0 }
        let naiveStart = Date()
        _ = try await harness.kube.resources(Deployment.self, namespace: Harness.namespace).patch(
            "r2", type: .merge,
            patch: ["spec": ["template": ["metadata": ["annotations": ["modelrollout.io/revision": "r3"]]]]])
        try await harness.waitUntil("the rolling update to finish", seconds: 60) {
            let deployment = try await harness.kube.resources(Deployment.self, namespace: Harness.namespace).get("r2")
            let updated = deployment.status?.raw["updatedReplicas"]?.intValue ?? 0
            let replicas = deployment.status?.raw["replicas"]?.intValue ?? 0
            return updated == 2 && replicas == 2
        }
        try await Task.sleep(for: .seconds(3))
        await load.stop()
        let naive = await load.summary(since: naiveStart)
        print(
            "e2e(b): ModelRollout requests \(ours.count) toUnloaded \(ours.requestsToUnloadedPods) p95 "
                + "\(ours.ttftP95 ?? -1); rolling update requests \(naive.count) toUnloaded "
                + "\(naive.requestsToUnloadedPods) errors \(naive.errors)")
        #expect(naive.requestsToUnloadedPods > 0)
    }

    @Test("(c) a candidate that fails to load is rolled back and ends Failed with the log's cause; traffic stays on stable")
    func candidateFailsToLoad() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyFleet(harness, candidateAnnotations: [SimAnnotations.fail: "oom"])
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("the rollback", seconds: 60) {
            try await harness.rollout().status?.phase == .failed
        }
        try await harness.waitUntil("r2 scaled to zero", seconds: 20) { try await harness.replicas("r2") == 0 }
        await load.stop()
        let summary = await load.summary()
        let status = try #require(try await harness.rollout().status)
        #expect(status.failedDeployment == "r2")
        // The log judge's cause and the line that proves it, in the status, the decision, an Event and `why`.
        let cause = "the vllm log shows a fatal error: CUDA out of memory (line: \""
        print("e2e(c): status.message \(status.message ?? "")")
        #expect(status.failureReason == "ModelLoadFailed")
        #expect(status.failureMessage?.contains(cause) == true)
        #expect(status.failureMessage?.contains("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate") == true)
        #expect(status.message?.contains("it failed to load the model: pod r2-") == true)
        #expect(status.decisions.contains { $0.rule == "model-load-failed" && $0.message.contains(cause) })
        let events = try await harness.events()
        #expect(events.contains {
            $0["reason"]?.stringValue == "RolloutFailed"
                && ($0["note"]?.stringValue ?? $0["message"]?.stringValue ?? "").contains(cause)
        })
        let why = try await PluginEndToEndTests.plugin(harness, ["why", "chat", "--limit", "3"])
        #expect(why.code == 0, "\(why.all)")
        #expect(why.stdout.contains("phase Failed"), "\(why.stdout)")
        #expect(why.stdout.contains("cause (ModelLoadFailed): pod r2-"), "\(why.stdout)")
        #expect(why.stdout.contains("torch.OutOfMemoryError"), "\(why.stdout)")
        #expect(status.condition("ModelReady")?.status == "False")
        #expect(status.condition("ModelReady")?.reason == "ModelLoadFailed")
        #expect(status.condition("Progressing")?.reason == "RolledBack")
        #expect(status.decisions.contains { $0.kind == .rollback && $0.rule == "model-load-failed" })
        #expect(try await harness.routeWeights() == ["r1": 100])
        #expect(summary.requestsToUnloadedPods == 0)
        #expect((summary.byRevision["r2"] ?? 0) == 0)
        let warnings = try await harness.events().filter { $0["type"]?.stringValue == "Warning" }
        #expect(warnings.contains { $0["reason"]?.stringValue == "RollingBack" })
        #expect(await harness.weights.sequence("r2").allSatisfy { $0 == 0 })
    }

    @Test("(d) a slower candidate fails the TTFT analysis and is rolled back")
    func slowerCandidateRollsBack() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyFleet(
            harness, candidateAnnotations: ["sim.modelrollout.io/slowdown": "8"],
            spec: [
                "steps": [["weight": 50, "hold": "6s"], ["weight": 100]],
                "analysis": ["interval": "1s", "minSamples": 15, "ttftRatio": 1.5, "failureLimit": 2],
            ])
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("the rollback", seconds: 60) {
            try await harness.rollout().status?.phase == .rolledBack
        }
        await load.stop()
        let status = try #require(try await harness.rollout().status)
        let failed = status.decisions.filter { $0.rule == "analysis-failed" }
        print("e2e(d): analysis decisions \(failed.map { $0.inputs })")
        #expect(failed.contains { $0.kind == .rollback })
        #expect(status.condition("AnalysisPassing")?.status == "False" || status.analysis == nil)
        #expect(await harness.weights.sequence("r2").contains(50))
        #expect(!(await harness.weights.sequence("r2").contains(100)))
        #expect(try await harness.routeWeights() == ["r1": 100])
        #expect(await load.summary().requestsToUnloadedPods == 0)
    }

    @Test("(e) the controller killed mid-rollout resumes without repeating or skipping a step")
    func restartMidRollout() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyFleet(harness)
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("step 1", seconds: 60) { try await harness.routeWeights()["r2"] == 10 }
        harness.killController()
        try await Task.sleep(for: .seconds(1))
        // The second run reaches pods through the API server's pod proxy, as an out-of-cluster operator does.
        try harness.startController(extraArguments: ["--pod-access", "proxy"])
        try await harness.waitUntil("step 2", seconds: 60) { try await harness.routeWeights()["r2"] == 50 }
        try await Task.sleep(for: .milliseconds(700))
        harness.killController()
        try await Task.sleep(for: .seconds(1))
        try harness.startController()
        try await harness.waitUntil("promotion", seconds: 90) {
            try await harness.rollout().status?.phase == .promoted
        }
        await load.stop()
        let status = try #require(try await harness.rollout().status)
        let weightDecisions = status.decisions.filter { $0.kind == .weight && $0.rule == "capacity-ready" }
        print("e2e(e): r2 weights \(await harness.weights.sequence("r2")); weight decisions \(weightDecisions.map(\.result))")
        #expect(Harness.followsSteps(await harness.weights.sequence("r2"), [10, 50, 100]))
        // A weight written just before a kill (its status write lost) is adopted from the route after the
        // restart, not written again: each step is either a Weight decision or a route-ahead Adopt, once.
        let adopted = status.decisions.filter { $0.kind == .adopt && $0.rule == "route-ahead-of-status" }
        print("e2e(e): decisions \(status.decisions.map { "\($0.kind.rawValue)/\($0.rule)" })")
        if status.decisions.count < ModelRolloutStatus.decisionLimit {
            #expect(weightDecisions.count + adopted.count == 3)
        } else {
            #expect(weightDecisions.count + adopted.count <= 3)
        }
        #expect(Set(weightDecisions.map(\.result)).count == weightDecisions.count)
        #expect(await load.summary().requestsToUnloadedPods == 0)
        GateLatencyLog.shared.append(await harness.gateLatencies(candidate: "r2"))
    }

    @Test("(k) a restart while the pod list is slow waits for its caches and does not roll back a healthy candidate")
    func restartWithASlowPodList() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyFleet(harness)
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("step 1", seconds: 60) { try await harness.routeWeights()["r2"] == 10 }
        harness.killController()
        // The restarted controller's Pod list takes 2 s: its Deployment cache is synced long before the Pod cache.
        await harness.cluster.apiServer.setFaults(FaultSpec(rules: [
            FaultRule(verb: "list", resource: "pods", latency: .seconds(2))
        ]))
        try harness.startController()
        try await Task.sleep(for: .seconds(4))
        await harness.cluster.apiServer.setFaults(FaultSpec())
        try await harness.waitUntil("promotion", seconds: 90) {
            try await harness.rollout().status?.phase == .promoted
        }
        await load.stop()
        let status = try #require(try await harness.rollout().status)
        let rollbacks = status.decisions.filter { $0.kind == .rollback }
        #expect(rollbacks.isEmpty, "\(rollbacks.map(\.rule))")
        #expect(Harness.followsSteps(await harness.weights.sequence("r2"), [10, 50, 100]))
        #expect(harness.controllerLog().contains("caches.synced"))
        #expect(await load.summary().requestsToUnloadedPods == 0)
    }

    @Test("(f) invalid specs are rejected by the CRD or reported as InvalidSpec without patching anything")
    func invalidSpecs() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        try await harness.createRevision("r1", replicas: 1)
        try await harness.createRevision("r2", replicas: 0)
        try await harness.createRoute(["r1": 100])
        try harness.startController()
        // The schema refuses what it can express: a weight above 100.
        await #expect(throws: (any Error).self) {
            try await harness.createRollout(
                "bad-weight", spec: ["deployment": "r2", "steps": [["weight": 150]]])
        }
        let routeBefore = try await harness.kube.resources(HTTPRoute.self, namespace: Harness.namespace).get("llm-chat")
        // Decreasing steps pass the schema; the controller reports them and patches nothing.
        try await harness.createRollout(
            "bad-steps", spec: ["deployment": "r2", "steps": [["weight": 50], ["weight": 10], ["weight": 100]]])
        try await harness.waitUntil("InvalidSpec", seconds: 30) {
            try await harness.rollout("bad-steps").status?.condition("InvalidSpec")?.status == "True"
        }
        try await Task.sleep(for: .seconds(1))
        let status = try #require(try await harness.rollout("bad-steps").status)
        #expect(status.condition("InvalidSpec")?.message?.contains("spec.steps[1].weight") == true)
        let routeAfter = try await harness.kube.resources(HTTPRoute.self, namespace: Harness.namespace).get("llm-chat")
        #expect(routeAfter.metadata.resourceVersion == routeBefore.metadata.resourceVersion)
        #expect(try await harness.replicas("r2") == 0)
        let warnings = try await harness.events().filter {
            $0["type"]?.stringValue == "Warning" && $0["reason"]?.stringValue == "InvalidSpec"
        }
        #expect(warnings.count == 1)
    }

    @Test("(g) with leader election only the leader acts; a killed leader is replaced and the rollout completes")
    func leaderElection() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let election = [
            "--leader-elect", "--leader-election-lease-duration", "3", "--leader-election-renew-deadline", "2",
            "--leader-election-retry-period", "0.5",
        ]
        try await harness.createRevision("r1", replicas: 2)
        try await harness.createRevision("r2", replicas: 0)
        try await harness.createRoute(["r1": 100])
        try await harness.waitUntil("r1 serving", seconds: 60) { try await harness.readyPods("r1") == 2 }
        harness.startObservers(candidate: "r2")
        // Without traffic the analysis stays inconclusive and the rollout holds (never passes on no data).
        let load = LoadGenerator(
            configuration: .init(url: harness.gatewayURL, rate: 40, model: Harness.model, promptTokens: 100, maxTokens: 8))
        await load.start()
        let first = try harness.startController(extraArguments: election + ["--identity", "first"])
        try await harness.waitUntil("a leader", seconds: 20) {
            let lease = try await harness.kube.resources(Lease.self, namespace: Harness.namespace).get(
                "modelrollout-controller")
            return lease.spec.holderIdentity == "first"
        }
        let second = try harness.startController(extraArguments: election + ["--identity", "second"], additional: true)
        try await harness.createRollout(spec: ["deployment": "r1"])
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("step 1", seconds: 60) { try await harness.routeWeights()["r2"] == 10 }
        #expect(!harness.controllerLog(run: 2).contains("\"decision\""))
        harness.kill(first)
        try await harness.waitUntil("promotion by the new leader", seconds: 90) {
            try await harness.rollout().status?.phase == .promoted
        }
        let lease = try await harness.kube.resources(Lease.self, namespace: Harness.namespace).get(
            "modelrollout-controller")
        #expect(lease.spec.holderIdentity == "second")
        #expect(harness.controllerLog(run: 2).contains("leader.started"))
        #expect(Harness.followsSteps(await harness.weights.sequence("r2"), [10, 50, 100]))
        #expect(second.isRunning)
        await load.stop()
        #expect(await load.summary().requestsToUnloadedPods == 0)
    }

    @Test("(h) mode Observe decides and reports but patches nothing; abort returns traffic to stable")
    func observeThenAbort() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyFleet(harness, spec: ["mode": "Observe"])
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("an observe decision", seconds: 30) {
            try await harness.rollout().status?.decisions.contains { $0.result.hasPrefix("observe: would") } == true
        }
        try await Task.sleep(for: .seconds(1))
        #expect(try await harness.routeWeights() == ["r1": 100])
        #expect(try await harness.replicas("r2") == 0)
        // Active: the rollout runs; back to r1 during step 2 aborts it.
        try await harness.patchRollout(spec: ["mode": "Active"])
        try await harness.waitUntil("step 2", seconds: 60) { try await harness.routeWeights()["r2"] == 50 }
        try await harness.patchRollout(spec: ["deployment": "r1"])
        try await harness.waitUntil("the abort", seconds: 30) {
            let status = try await harness.rollout().status
            let weights = try await harness.routeWeights()
            return status?.phase == .steady && weights == ["r1": 100]
        }
        await load.stop()
        let status = try #require(try await harness.rollout().status)
        #expect(status.failedDeployment == nil)
        #expect(status.decisions.contains { $0.kind == .abort && $0.rule == "abort-complete" })
        try await harness.waitUntil("r2 scaled to zero", seconds: 20) { try await harness.replicas("r2") == 0 }
        #expect(await load.summary().requestsToUnloadedPods == 0)
    }

    @Test("(i) autoscaling: a surge gets its capacity within the cold start, no overshoot, no flapping")
    func autoscalingSurge() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        try await harness.createRevision("r1", replicas: 1)
        try await harness.createRoute(["r1": 100])
        try await harness.waitUntil("r1 serving", seconds: 60) { try await harness.readyPods("r1") == 1 }
        let load = LoadGenerator(
            configuration: .init(
                url: harness.gatewayURL, rate: 4, model: Harness.model, promptTokens: 100, maxTokens: 8, seed: 7))
        await load.start()
        try harness.startController()
        try await harness.createRollout(
            spec: [
                "deployment": "r1",
                "autoscaling": [
                    "enabled": true, "minReplicas": 1, "maxReplicas": 8, "replicaThroughput": 10,
                    "targetUtilization": 0.8, "coldStart": ["percentile": 90, "fallback": "3s"],
                    "scaleDownDelay": "60s",
                ],
            ])
        try await harness.waitUntil("the autoscaler to run", seconds: 30) {
            try await harness.rollout().status?.autoscaling != nil
        }
        try await Task.sleep(for: .seconds(4))
        #expect(try await harness.replicas("r1") == 1)
        // Demand ×5: 20 req/s needs ceil(20 / (10 × 0.8)) = 3 replicas.
        let surge = Date()
        await load.setRate(20)
        var history: [Int] = []
        var readyAt: Double?
        while Date().timeIntervalSince(surge) < 20 {
            history.append(try await harness.replicas("r1"))
            if readyAt == nil, try await harness.readyPods("r1") >= 3 { readyAt = Date().timeIntervalSince(surge) }
            try await Task.sleep(for: .milliseconds(250))
        }
        await load.stop()
        let status = try #require(try await harness.rollout().status)
        let changes = history.enumerated().filter { $0.offset == 0 || history[$0.offset - 1] != $0.element }.map(\.element)
        print("e2e(i): replicas \(changes); 3 ready after \(readyAt.map { String(format: "%.1f s", $0) } ?? "never"); "
            + "last decision \(status.autoscaling?.rule ?? "-"): \(status.autoscaling?.message ?? "")")
        #expect(readyAt != nil)
        #expect((history.max() ?? 0) <= 3 + 1)
        // No flapping: the replica count only goes up during the surge.
        #expect(zip(history, history.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(status.decisions.contains { $0.kind == .scale && $0.rule.hasPrefix("autoscale-") })
        #expect(status.condition("AutoscalingActive")?.status == "True")
        #expect(await load.summary().requestsToUnloadedPods == 0)
    }

    @Test("(j) autoscaling during a rollout: a surge mid-hold scales the stable side, weights stay on the step")
    func autoscalingDuringARollout() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        try await harness.createRevision("r1", replicas: 2)
        try await harness.createRevision("r2", replicas: 0)
        try await harness.createRoute(["r1": 100])
        try await harness.waitUntil("r1 serving", seconds: 60) { try await harness.readyPods("r1") == 2 }
        let load = LoadGenerator(
            configuration: .init(
                url: harness.gatewayURL, rate: 6, model: Harness.model, promptTokens: 100, maxTokens: 8, seed: 11))
        await load.start()
        try harness.startController()
        let autoscaling: JSONValue = [
            "enabled": true, "minReplicas": 1, "maxReplicas": 8, "replicaThroughput": 10, "targetUtilization": 0.8,
            "coldStart": ["percentile": 90, "fallback": "3s"], "scaleDownDelay": "60s",
        ]
        try await harness.createRollout(spec: ["deployment": "r1", "autoscaling": autoscaling])
        try await harness.waitUntil("the autoscaler to run", seconds: 30) {
            try await harness.rollout().status?.autoscaling != nil
        }
        // The rollout holds at 10 % for ten minutes: long enough for the surge to happen mid-step.
        try await harness.patchRollout(
            spec: ["deployment": "r2", "steps": [["weight": 10, "hold": "10m"], ["weight": 100]]])
        try await harness.waitUntil("step 1 on the route", seconds: 60) {
            try await harness.routeWeights()["r2"] == 10
        }
        let stableBefore = try await harness.replicas("r1")
        let candidateBefore = try await harness.replicas("r2")
        // Demand ×6: 36 req/s needs ceil(36 / (10 × 0.8)) = 5 replicas for the fleet.
        await load.setRate(36)
        var stableHistory: [Int] = []
        var candidateHistory: [Int] = []
        let surge = Date()
        while Date().timeIntervalSince(surge) < 20 {
            stableHistory.append(try await harness.replicas("r1"))
            candidateHistory.append(try await harness.replicas("r2"))
            try await Task.sleep(for: .milliseconds(250))
        }
        let weights = try await harness.routeWeights()
        await load.stop()
        let status = try #require(try await harness.rollout().status)
        print(
            "e2e(j): r1 \(stableBefore) → \(stableHistory.last ?? 0) (max \(stableHistory.max() ?? 0)), r2 "
                + "\(candidateBefore) → \(candidateHistory.last ?? 0); weights \(weights); last autoscaling "
                + "\(status.autoscaling?.rule ?? "-"): \(status.autoscaling?.message ?? "")")
        #expect(status.phase == .progressing)
        #expect(weights["r2"] == 10)
        #expect((stableHistory.last ?? 0) > stableBefore)
        // The fleet's need (5, plus at most one for a backlog) is not overshot, and nothing flaps or shrinks.
        #expect((stableHistory.max() ?? 0) + (candidateHistory.max() ?? 0) <= 6 + 1)
        #expect(zip(stableHistory, stableHistory.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(candidateHistory.allSatisfy { $0 >= candidateBefore })
        #expect(status.decisions.contains { $0.rule == "autoscale-rollout-share" })
        #expect(await load.summary().requestsToUnloadedPods == 0)
    }

    @Test("(u) a restarted controller trusts the model-ready pods its status records: no pod log is read again")
    func restartTrustsRecordedProof() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        try await harness.createRevision("r1", replicas: 3)
        try await harness.createRoute(["r1": 100])
        try await harness.waitUntil("r1 serving", seconds: 60) { try await harness.readyPods("r1") == 3 }
        try harness.startController()
        try await harness.createRollout(spec: ["deployment": "r1"])
        try await harness.waitUntil("three pods recorded as model-ready", seconds: 60) {
            try await harness.rollout().status?.modelReadyPods?.count == 3
        }
        let recorded = try #require(try await harness.rollout().status?.modelReadyPods)
        func logReads(since: Date) async -> Int {
            await harness.cluster.apiServer.requestLog().filter {
                $0.date >= since && $0.path.hasSuffix("/log") && ($0.userAgent ?? "").hasPrefix("modelrollout")
            }.count
        }
        func readyInMetrics() async -> Bool {
            guard let port = harness.controllerPort("operator.metrics"),
                let body = try? await harness.controllerGet(port: port, path: "/metrics").body
            else { return false }
            return PrometheusText.parse(body).samples(named: "modelrollout_replicas").contains {
                $0.labels["state"] == "ready" && $0.value == 3
            }
        }
        #expect(await logReads(since: .distantPast) >= 3, "the first run proved each pod from its log")

        harness.killController()
        let restarted = Date()
        try harness.startController()
        try await harness.waitUntil("the restarted controller sees 3 model-ready pods", seconds: 30) {
            await readyInMetrics()
        }
        try await Task.sleep(for: .seconds(2))
        #expect(await logReads(since: restarted) == 0, "no log is read for a recorded incarnation")
        let status = try #require(try await harness.rollout().status)
        #expect(status.modelReadyPods == recorded)
        #expect(status.replicas?.stable.modelReady == 3)
        #expect(try await harness.routeWeights() == ["r1": 100])

        // A new incarnation (a replaced pod) is proved from its log again.
        let pods = try await harness.kube.resources(Pod.self, namespace: Harness.namespace).list(
            ListOptions(labelSelector: "revision=r1"))
        let victim = try #require(pods.items.first?.metadata.name)
        let deleted = Date()
        _ = try await harness.kube.resources(Pod.self, namespace: Harness.namespace).delete(victim)
        try await harness.waitUntil("the replacement recorded", seconds: 60) {
            let now = try await harness.rollout().status?.modelReadyPods ?? []
            return now.count == 3 && now != recorded
        }
        #expect(await logReads(since: deleted) >= 1, "the replacement's log proved its load")
        print("e2e(u): recorded \(recorded.count) pods; log reads after the restart: 0; after a replacement: \(await logReads(since: deleted))")
    }

    @Test("gate latency p95 across the scenarios is under one second")
    func gateLatencySummary() async throws {
        let values = GateLatencyLog.shared.all.sorted()
        let p95 = values.isEmpty ? nil : values[min(values.count - 1, Int((0.95 * Double(values.count)).rounded(.up)) - 1)]
        print("e2e gate latency: n=\(values.count) p95=\(p95.map { String(format: "%.3f s", $0) } ?? "n/a") all=\(values.map { String(format: "%.3f", $0) })")
        #expect(p95 ?? 0 < 1.0)
    }
}

/// Gate latencies collected across scenarios (printed as a p95 by the last test that runs).
final class GateLatencyLog: @unchecked Sendable {
    // Safe: guarded by `lock`.
    static let shared = GateLatencyLog()
    private let lock = NSLock()
    private var values: [Double] = []

    func append(_ more: [Double]) {
        lock.lock()
        values += more
        lock.unlock()
    }

    var all: [Double] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}
