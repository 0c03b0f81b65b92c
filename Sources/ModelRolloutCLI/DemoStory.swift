import ClusterSim
import Foundation
import KubeClient
import KubeCore
import Logging
import ModelRolloutController
import ModelRolloutCore

/// The two phases of `modelrollout demo` against one emulated cluster: the revision by the ModelRollout controller
/// (in this process) and the same revision as a plain Deployment rolling update. Used from one task only.
struct DemoStory {
    let cluster: EmulatedCluster
    let kube: KubernetesClient
    let scenario: DemoScenario
    let gatewayURL: String
    let phaseTimeout: Double
    let baselineSeconds: Double
    let kubeconfigPath: String

    static let warmupSeconds = 2.0
    static let timelineInterval = 2.5

    /// The ModelRollout side's result and the running controller (cancel it to stop).
    struct OursOutcome {
        var result: DemoSideResult
        var controller: DemoController
    }

    // MARK: Phase 1

    func runModelRollout() async throws -> OursOutcome {
        let namespace = DemoCommand.namespace
        Console.line("")
        Console.line(
            "== Phase 1: ModelRollout — \(scenario.replicas) replicas of vllm-llama-r1, "
                + "\(DemoCommand.format(scenario.rate)) req/s, then revision vllm-llama-r2 "
                + "(\(scenario.probe) readiness probe) ==")
        let timeline = DemoTimeline(
            cluster: cluster, kube: kube, namespace: namespace, rolloutName: "chat", interval: Self.timelineInterval)
        let deadline = Date().addingTimeInterval(phaseTimeout)
        for (name, revision, replicas) in [("vllm-llama-r1", "r1", scenario.replicas), ("vllm-llama-r2", "r2", 0)] {
            try await create(
                .deployments,
                scenario.deployment(name: name, namespace: namespace, revision: revision, replicas: replicas))
            let selector: JSONValue = ["app": "vllm-llama", "modelrollout.io/revision": .string(revision)]
            if scenario.usesPools {
                try await create(
                    .inferencePools,
                    DemoScenario.inferencePool(
                        name: scenario.backendName(deployment: name), namespace: namespace, selector: selector))
            } else {
                try await create(.services, DemoScenario.service(name: name, namespace: namespace, selector: selector))
            }
        }
        let stableBackend = scenario.backendName(deployment: "vllm-llama-r1")
        try await create(
            .httpRoutes,
            DemoScenario.route(
                namespace: namespace, hostname: "chat.llm.example.com", backend: stableBackend,
                pool: scenario.usesPools))
        timeline.note(
            "created Deployments vllm-llama-r1 (\(scenario.replicas) replicas) and vllm-llama-r2 (0), their "
                + (scenario.usesPools ? "InferencePools" : "Services") + ", HTTPRoute llm-chat -> "
                + (scenario.usesPools ? "InferencePool " : "") + stableBackend)
        try await waitUntil("vllm-llama-r1 to serve", timeline: timeline, deadline: deadline) {
            await servingPods(timeline, revision: "r1") == scenario.replicas
        }

        let controller = try startController(namespace: namespace)
        try await create(
            ModelRollout.resource, scenario.modelRollout(namespace: namespace, deployment: "vllm-llama-r1"))
        timeline.note("started the ModelRollout controller in-process; created ModelRollout chat (steps 10/50/100 %)")
        do {
            try await waitUntil("the ModelRollout to adopt vllm-llama-r1", timeline: timeline, deadline: deadline) {
                if let failure = controller.failure { throw CLIError("the controller stopped: \(failure)") }
                return await rollout()?.status?.stableDeployment == "vllm-llama-r1"
            }
        } catch {
            controller.cancel()
            throw error
        }

        let load = makeLoad(host: "chat.llm.example.com")
        await load.start()
        timeline.load = load
        timeline.note(
            "load: \(DemoCommand.format(scenario.rate)) req/s, \(scenario.promptTokens)-token prompts, "
                + "\(scenario.maxTokens) output tokens, through the gateway")
        let (baselineStart, revisionStart) = try await measureBaseline(timeline: timeline, deadline: deadline)

        _ = try await kube.dynamic(ModelRollout.resource, namespace: namespace).patch(
            "chat", type: .merge, patch: scenario.revisionPatch(to: "vllm-llama-r2"))
        timeline.note(
            "revision: spec.deployment of ModelRollout chat set to vllm-llama-r2"
                + (scenario.usesPools
                    ? ", spec.inferencePool to \(scenario.backendName(deployment: "vllm-llama-r2"))" : ""))
        var ended: Date?
        var outcome = "timed out after \(Int(phaseTimeout)) s"
        do {
            try await waitUntil("the rollout to end", timeline: timeline, deadline: deadline, throwing: false) {
                if let failure = controller.failure { throw CLIError("the controller stopped: \(failure)") }
                guard let status = await rollout()?.status else { return false }
                switch status.phase {
                case .promoted?:
                    ended = Date()
                    outcome = "Promoted"
                    return true
                case .rolledBack?, .failed?:
                    outcome = "\(status.phase?.rawValue ?? "?"): \(status.message ?? "")"
                    return true
                default:
                    if Date() >= deadline { outcome = "timed out in phase \(status.phase?.rawValue ?? "-")" }
                    return false
                }
            }
        } catch {
            await load.stop()
            controller.cancel()
            throw error
        }
        let end = Date()
        await timeline.tick()
        timeline.note("ModelRollout chat: \(outcome)")
        await settle(timeline: timeline)
        await stopLoad(load, timeline: timeline)
        let records = await load.snapshot()
        let result = DemoSideResult(
            name: "ModelRollout",
            baseline: records.filter {
                $0.start >= baselineStart && $0.start.addingTimeInterval($0.totalSeconds) < revisionStart
            },
            revision: records.filter { $0.start >= revisionStart && $0.start <= end },
            completedSeconds: ended.map { $0.timeIntervalSince(revisionStart) }, outcome: outcome)
        return OursOutcome(result: result, controller: controller)
    }

    // MARK: Phase 2

    func runNaive() async throws -> DemoSideResult {
        let namespace = DemoCommand.naiveNamespace
        Console.line("")
        Console.line(
            "== Phase 2: naive — the same fleet and load in \(namespace), the same revision as a plain Deployment "
                + "rolling update ==")
        let timeline = DemoTimeline(
            cluster: cluster, kube: kube, namespace: namespace, rolloutName: nil, interval: Self.timelineInterval)
        let deadline = Date().addingTimeInterval(phaseTimeout)
        try await create(.namespaces, DemoScenario.namespace(namespace))
        try await create(
            .deployments,
            scenario.deployment(
                name: "vllm-llama", namespace: namespace, revision: "r1", replicas: scenario.replicas,
                selectRevision: false))
        try await create(
            .services, DemoScenario.service(name: "vllm-llama", namespace: namespace, selector: ["app": "vllm-llama"]))
        try await create(
            .httpRoutes,
            DemoScenario.route(namespace: namespace, hostname: "naive.llm.example.com", backend: "vllm-llama"))
        timeline.note("created Deployment vllm-llama (r1, \(scenario.replicas) replicas), Service, HTTPRoute llm-chat")
        try await waitUntil("vllm-llama (r1) to serve", timeline: timeline, deadline: deadline) {
            await servingPods(timeline, revision: "r1") == scenario.replicas
        }
        let load = makeLoad(host: "naive.llm.example.com")
        await load.start()
        timeline.load = load
        let (baselineStart, revisionStart) = try await measureBaseline(timeline: timeline, deadline: deadline)

        let labels: JSONValue = ["app": "vllm-llama", "modelrollout.io/revision": "r2"]
        _ = try await kube.dynamic(.deployments, namespace: namespace).patch(
            "vllm-llama", type: .merge,
            patch: ["spec": ["template": scenario.podTemplate(revision: "r2", labels: labels)]])
        timeline.note("revision: the pod template of Deployment vllm-llama now runs r2 (rolling update)")
        var ended: Date?
        var outcome = "timed out after \(Int(phaseTimeout)) s"
        do {
            try await waitUntil(
                "the rolling update to finish", timeline: timeline, deadline: deadline, throwing: false
            ) {
                let pods = await timeline.pods()
                let old = pods.filter { $0.revision != "r2" }.count
                let serving = pods.filter { $0.revision == "r2" && $0.serving && $0.ready && !$0.terminating }.count
                let deployment = await cluster.storage.get(.deployments, namespace: namespace, name: "vllm-llama")
                let updated = deployment?[path: ["status", "updatedReplicas"]]?.intValue ?? 0
                if old == 0, serving == scenario.replicas, updated == Int64(scenario.replicas) {
                    ended = Date()
                    outcome = "complete"
                    return true
                }
                return false
            }
        } catch {
            await load.stop()
            throw error
        }
        let end = Date()
        timeline.note("Deployment vllm-llama: \(outcome)")
        await settle(timeline: timeline)
        await stopLoad(load, timeline: timeline)
        let records = await load.snapshot()
        return DemoSideResult(
            name: "rolling update (naive)",
            baseline: records.filter {
                $0.start >= baselineStart && $0.start.addingTimeInterval($0.totalSeconds) < revisionStart
            },
            revision: records.filter { $0.start >= revisionStart && $0.start <= end },
            completedSeconds: ended.map { $0.timeIntervalSince(revisionStart) }, outcome: outcome)
    }

    // MARK: Helpers

    func create(_ resource: ResourceDescriptor, _ object: JSONValue) async throws {
        let namespace = object[path: ["metadata", "namespace"]]?.stringValue
        do {
            _ = try await kube.dynamic(resource, namespace: namespace).create(DynamicObject(raw: object))
        } catch {
            let name = object[path: ["metadata", "name"]]?.stringValue ?? "?"
            throw CLIError("cannot create \(resource.resource)/\(name): \(error)")
        }
    }

    func rollout() async -> ModelRollout? {
        guard
            let raw = await cluster.storage.get(ModelRollout.resource, namespace: DemoCommand.namespace, name: "chat"),
            case .success(let rollout) = ModelRollout.decode(raw)
        else { return nil }
        return rollout
    }

    func servingPods(_ timeline: DemoTimeline, revision: String) async -> Int {
        await timeline.pods().filter { $0.revision == revision && $0.serving && $0.ready && !$0.terminating }.count
    }

    /// A load generator through the gateway for the route with `hostname`. Clients retry failed requests for up to
    /// 30 s with back-off 0.25 s → 2 s, as SDKs with retries do.
    func makeLoad(host: String) -> LoadGenerator {
        var configuration = LoadGenerator.Configuration(
            url: gatewayURL, rate: scenario.rate, model: DemoScenario.model, promptTokens: scenario.promptTokens,
            maxTokens: scenario.maxTokens, maxInFlight: 4096, stopGraceSeconds: 35, requestTimeoutSeconds: 60,
            seed: 42, host: host)
        configuration.retryDeadlineSeconds = 30
        configuration.retryBackoffSeconds = 0.25
        configuration.retryMaxBackoffSeconds = 2
        return LoadGenerator(configuration: configuration)
    }

    /// Warm-up, then `baselineSeconds` of steady load; returns (baseline start, baseline end = revision start).
    func measureBaseline(timeline: DemoTimeline, deadline: Date) async throws -> (Date, Date) {
        let warmupEnd = Date().addingTimeInterval(Self.warmupSeconds)
        try await waitUntil("the warm-up", timeline: timeline, deadline: deadline) { Date() >= warmupEnd }
        let baselineStart = Date()
        let baselineEnd = baselineStart.addingTimeInterval(baselineSeconds)
        timeline.note("measuring the baseline for \(DemoCommand.format(baselineSeconds)) s")
        try await waitUntil("the baseline", timeline: timeline, deadline: deadline) { Date() >= baselineEnd }
        return (baselineStart, Date())
    }

    /// Stops the load, saying so when requests are still in flight (stopping waits for them, up to 35 s).
    func stopLoad(_ load: LoadGenerator, timeline: DemoTimeline) async {
        let inFlight = await load.inFlightCount
        if inFlight > 0 { timeline.note("stopping the load; waiting for \(inFlight) requests in flight") }
        await load.stop()
    }

    /// A few more timeline ticks after the revision so the last requests finish and show.
    func settle(timeline: DemoTimeline) async {
        let end = Date().addingTimeInterval(1.5)
        while Date() < end {
            await timeline.tick()
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Polls `condition` (ticking the timeline) until it holds. Past `deadline` it throws a clear error, or with
    /// `throwing: false` returns (the caller records the timeout).
    func waitUntil(
        _ what: String, timeline: DemoTimeline, deadline: Date, throwing: Bool = true,
        _ condition: () async throws -> Bool
    ) async throws {
        while true {
            if try await condition() { return }
            await timeline.tick()
            if Date() >= deadline {
                if throwing {
                    throw CLIError(
                        "timed out after \(Int(phaseTimeout)) s waiting for \(what); try a larger --phase-timeout")
                }
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    // MARK: Controller

    /// Starts the operator in this process: direct pod access, no leader election, no HTTP endpoints, quiet logs
    /// (errors only, on stderr).
    func startController(namespace: String) throws -> DemoController {
        let logger = Logger(label: "modelrollout.demo.controller") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }
        _ = OperatorMetrics.bootstrapOnce()
        let client: KubernetesClient
        do {
            client = try KubernetesClient(
                configuration: ClientConfiguration.fromKubeconfig(paths: [kubeconfigPath]), logger: logger)
        } catch {
            throw CLIError("cannot use the demo kubeconfig for the controller: \(error)")
        }
        let options = ControllerOptions(
            namespaces: [namespace], podAccess: .direct, metricsBindAddress: nil, healthBindAddress: nil,
            leaderElection: false, identity: "modelrollout-demo", loadingProbeInterval: 0.1, resyncInterval: 1)
        let manager = OperatorManager(kube: client, options: options, logger: logger)
        let controller = DemoController()
        controller.task = Task {
            defer { Task { try? await client.shutdown() } }
            do {
                try await manager.run()
                controller.ended("the controller ended")
            } catch is CancellationError {
                controller.ended("cancelled")
            } catch {
                controller.ended("\(error)")
                throw error
            }
        }
        return controller
    }

}

/// The in-process controller's task and, once it ended, why.
final class DemoController: @unchecked Sendable {
    // Safe: `reason` is guarded by `lock`; `task` is set once right after init, before it is shared.
    private let lock = NSLock()
    private var reason: String?
    var task: Task<Void, any Error>?

    func ended(_ why: String) {
        lock.lock()
        reason = why
        lock.unlock()
    }

    var failure: String? {
        lock.lock()
        defer { lock.unlock() }
        return reason
    }

    func cancel() { task?.cancel() }

    func wait() async { _ = await task?.result }
}
