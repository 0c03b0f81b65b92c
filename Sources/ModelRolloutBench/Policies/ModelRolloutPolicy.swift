import Foundation
import ModelRolloutCore

/// The policy under test: the controller's reconcile round (``RolloutRound``) driven by the simulated cluster.
///
/// Every second of virtual time — or later, when the round's requeue says so, and at once when a pod's model
/// becomes ready (the controller's watch) — it gathers what the controller gathers: the ModelRollout's spec and
/// status, the route's weights, each revision's pods with their model readiness, and, when the round asks
/// (`RolloutRound.needsMetrics`), every model-ready pod's runtime sample built from the simulated engine's
/// counters and vLLM-bucketed TTFT and queue-time histograms. It calls `RolloutRound.step` with the memory the
/// last round returned and applies the plan's scale and weight actions. Analysis, autoscaling, load-time learning
/// and requeue timing are all the round's: nothing here decides.
final class ModelRolloutPolicy: BenchPolicy {
    let name = PolicyName.modelrollout.rawValue
    let period = 1.0
    let firstEvaluation = 1.0
    /// The controller's default `--resync-interval` and `--loading-probe-interval`.
    static let settings = RoundSettings(resyncInterval: 5, loadingProbeInterval: 0.5)
    private static let epoch = 1_700_000_000.0
    /// `MR_BENCH_TRACE` set: every round's decisions go to stderr (read once, not per round).
    private static let tracing = ProcessInfo.processInfo.environment["MR_BENCH_TRACE"] != nil

    private(set) var spec: ModelRolloutSpec
    private(set) var status = ModelRolloutStatus()
    private var generation: Int64 = 1
    private(set) var routeWeights: [String: Int] = [:]
    private var memory = RoundMemory()
    private var nextRound = 0.0
    private var podBecameReady = false
    /// Every round's snapshot and outcome, when recording (tests compare them with the controller's).
    var recorder: ((RoundSnapshot, RoundOutcome) -> Void)?

    init(scenario: Scenario, engine: EngineModel) {
        let autoscaling = AutoscalingSpec(
            enabled: true, minReplicas: scenario.minReplicas, maxReplicas: scenario.maxReplicas,
            targetWaitingPerReplica: 4, targetUtilization: 0.8, replicaThroughput: engine.saturatedThroughput,
            coldStart: ColdStartSpec(percentile: 90, fallback: KubeDuration(seconds: scenario.nominalColdStartSeconds)),
            scaleDownDelay: KubeDuration(seconds: 300))
        spec = ModelRolloutSpec(
            model: "meta-llama/Llama-3.1-8B-Instruct", deployment: Self.deploymentName(0),
            route: RouteReference(name: "llama"), autoscaling: autoscaling)
    }

    static func deploymentName(_ revision: Int) -> String { "llama-r\(revision + 1)" }

    static func revisionIndex(_ deployment: String) -> Int? {
        guard deployment.hasPrefix("llama-r"), let n = Int(deployment.dropFirst("llama-r".count)) else { return nil }
        return n - 1
    }

    func setUp(_ sim: Simulation) {
        let revision = sim.addRevision(modelGated: true)
        sim.addLoadedPods(sim.scenario.initialReplicas, revision: revision)
        routeWeights = [Self.deploymentName(revision): 100]
        applyRouting(sim)
        status.stableDeployment = Self.deploymentName(revision)
        status.stableService = Self.deploymentName(revision)
        if let learned = sim.scenario.learnedColdStartSeconds {
            // History from earlier loads: what the operator learned before this run, drawn like real loads.
            var random = BenchRandom(seed: sim.seed ^ 0x1EA2_4ED)
            var history = LoadTimeStatus()
            let sigma = sim.coldStarts.sigma
            for i in 0..<8 {
                let seconds = random.logNormal(median: learned * exp(-sigma * sigma / 2), sigma: sigma)
                history = LoadTimeStatistics.record(seconds, pod: "history-\(i)", into: history)
            }
            status.loadTime = history
        }
    }

    /// The planning cold start as the controller computes it from the load times it measured.
    var planningColdStart: Double {
        LoadTimeStatistics.planningLoadTime(status.loadTime, spec: spec.autoscaling.coldStart)
    }

    func podModelReady(_ sim: Simulation, pod: Int) { podBecameReady = true }

    /// A new revision: the user edits `spec.deployment` (the controller sees a new generation).
    func rolloutStarted(_ sim: Simulation) {
        let next = sim.addRevision(modelGated: true)
        spec.deployment = Self.deploymentName(next)
        generation += 1
        nextRound = sim.now
    }

    func evaluate(_ sim: Simulation) {
        guard sim.now >= nextRound - 1e-9 || podBecameReady else { return }
        podBecameReady = false
        let snapshot = gather(sim)
        let outcome = RolloutRound.step(snapshot, memory: memory, settings: Self.settings)
        recorder?(snapshot, outcome)
        if Self.tracing { trace(outcome.plan, sim) }
        memory = outcome.memory
        status = outcome.plan.status
        nextRound = sim.now + outcome.requeueAfter
        guard !outcome.plan.observeOnly else { return }
        memory.recordWrites(outcome.plan.actions, onto: snapshot.route)
        for action in outcome.plan.actions {
            switch action {
            case .scale(let deployment, let replicas):
                if let index = Self.revisionIndex(deployment) { sim.setDesired(index, replicas) }
            case .setWeights(let weights):
                for (service, weight) in weights { routeWeights[service] = weight }
                applyRouting(sim)
            }
        }
    }

    /// Writes the round's decisions (and every 30 s of a quiet rollout its status message) to stderr.
    private func trace(_ plan: RolloutPlan, _ sim: Simulation) {
        var lines = plan.decisions.map { "[\($0.rule)] \($0.message)" }
        if lines.isEmpty, Int(sim.now) % 30 == 0, sim.now >= sim.scenario.eventTime {
            lines = ["status: \(plan.status.message ?? "")"]
        }
        for line in lines { FileHandle.standardError.write(Data("s\(sim.seed) t=\(Int(sim.now)) \(line)\n".utf8)) }
    }

    // MARK: - Gathering, as the controller does

    func gather(_ sim: Simulation) -> RoundSnapshot {
        let now = Date(timeIntervalSince1970: Self.epoch + sim.now)
        let targets = RolloutRound.targets(spec: spec, status: status, routeBackends: routeWeights)
        var snapshot = RoundSnapshot(
            now: now, generation: generation, spec: spec, status: status, route: targets.route,
            stable: revision(sim, targets.parties.stable),
            candidate: targets.parties.candidate.map { revision(sim, $0) },
            retired: targets.parties.retired.map { revision(sim, $0) })
        if RolloutRound.needsMetrics(
            spec: spec, status: status, targets: targets, memory: memory, now: now, settings: Self.settings)
        {
            snapshot.samples = [snapshot.stable, snapshot.candidate].compactMap { $0 }.flatMap { revision in
                revision.pods.filter(\.readiness.modelReady).compactMap { pod in
                    Self.podIndex(pod.name).map { sim.runtimeSample(pod: $0, time: now) }
                }
            }
        }
        return snapshot
    }

    private func revision(_ sim: Simulation, _ party: RolloutParties.Revision) -> RoundRevision {
        guard let index = Self.revisionIndex(party.deployment), sim.revisions.indices.contains(index) else {
            return .missing(deployment: party.deployment, service: party.service)
        }
        let set = sim.revisions[index]
        // Pods the scheduler cannot place (no GPU free), as the controller sees them: Pending, Unschedulable.
        let pending = (0..<set.pending).map { k in
            RoundPod(
                name: "pending-\(index)-\(k)", incarnation: "pending-\(index)-\(k)",
                readiness: PodReadiness(
                    phase: .scheduling, reason: "Unschedulable",
                    message: "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."),
                createdAt: nil)
        }
        return RoundRevision(
            deployment: party.deployment, service: party.service, desiredReplicas: set.desired,
            modelGatedEndpoints: set.modelGated,
            pods: pending + (set.pods + set.draining).map { id in
                let pod = sim.replicas[id]
                let readiness: PodReadiness
                if pod.terminating {
                    readiness = PodReadiness(phase: .terminating, reason: "Deleting", message: "pod is being deleted")
                } else if pod.modelLoaded {
                    readiness = PodReadiness(phase: .modelReady, reason: "ModelListed", message: "model served")
                } else {
                    readiness = PodReadiness(phase: .loadingModel, reason: "Loading", message: "loading the model")
                }
                return RoundPod(
                    name: "pod-\(id)", incarnation: "pod-\(id)", readiness: readiness,
                    createdAt: Date(timeIntervalSince1970: Self.epoch + pod.createdAt))
            })
    }

    static func podIndex(_ name: String) -> Int? {
        name.hasPrefix("pod-") ? Int(name.dropFirst(4)) : nil
    }

    private func applyRouting(_ sim: Simulation) {
        var weights = [Int](repeating: 0, count: sim.revisions.count)
        for (service, weight) in routeWeights {
            if let index = Self.revisionIndex(service), weights.indices.contains(index) {
                weights[index] = max(0, weight)
            }
        }
        sim.setRouting(.weighted(weights))
    }
}

extension Simulation {
    /// What a scrape of the pod's `/metrics` reads, as ``PodMetricsSample/from(scrape:model:pod:time:)`` extracts
    /// it: cumulative TTFT and queue-time histograms, finished requests (aborts included), aborts, and the gauges.
    func runtimeSample(pod id: Int, time: Date) -> PodMetricsSample {
        let pod = replicas[id]
        func histogram(_ name: String, _ bounds: [Double], _ counts: [Int32], _ sum: Double) -> PrometheusHistogram {
            var cumulative = 0.0
            var buckets: [HistogramBucket] = []
            buckets.reserveCapacity(counts.count)
            for (i, count) in counts.enumerated() {
                cumulative += Double(count)
                buckets.append(HistogramBucket(upperBound: i < bounds.count ? bounds[i] : .infinity,
                                               cumulativeCount: cumulative))
            }
            return PrometheusHistogram(name: name, labels: [:], buckets: buckets, sum: sum, count: cumulative)
        }
        return PodMetricsSample(
            pod: "pod-\(id)", time: time,
            ttft: histogram(
                "vllm:time_to_first_token_seconds", RuntimeBuckets.timeToFirstToken, pod.ttftCounts, pod.ttftSum),
            queueTime: histogram(
                "vllm:request_queue_time_seconds", RuntimeBuckets.requestPhase, pod.queueCounts, pod.queueSum),
            successTotal: Double(pod.completed + pod.aborted), abortedTotal: Double(pod.aborted),
            running: Double(pod.running), waiting: Double(pod.waiting))
    }
}
