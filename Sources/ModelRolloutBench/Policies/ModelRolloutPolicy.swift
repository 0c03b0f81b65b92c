import Foundation
import ModelRolloutCore

/// The policy under test: the controller's pure code driven by the simulated cluster.
///
/// - Steady state: every 5 s (the controller's resync) it scrapes every pod (running, waiting, completed
///   counters) into `ArrivalEstimator` and `ThroughputEstimator`, and calls `Autoscaler.decide` with the pods'
///   phases, the learned planning cold start (`LoadTimeStatistics.planningLoadTime` over the cold starts it has
///   observed; fallback = the scenario's nominal cold start) and its memory; the decision sets the stable
///   Deployment's replicas.
/// - Rollouts: every second (the controller requeues at 0.5–5 s) it calls `RolloutPlanner.plan` with the
///   observed revisions (model-gated endpoints, per-revision demand from the arrival estimate split by the route's
///   weights, capacity = throughput × target utilisation) and applies its scale and weight actions. As in the
///   controller, the autoscaler then sizes the fleet of both revisions every resync and the planner splits its
///   recommendation by the route weights (each side scaled up to its share, never down during the rollout).
final class ModelRolloutPolicy: BenchPolicy {
    let name = PolicyName.modelrollout.rawValue
    let period = 1.0
    let firstEvaluation = 1.0
    static let resync = 5.0
    private static let epoch = 1_700_000_000.0

    private var spec: ModelRolloutSpec
    private var status = ModelRolloutStatus()
    private var generation: Int64 = 1
    private var routeWeights: [String: Int] = [:]
    private var memory = AutoscalerMemory()
    private var arrivals = ArrivalEstimator(window: 30)
    private var throughput = ThroughputEstimator()
    private var lastResync = -Double.infinity
    private var rolloutInProgress = false
    /// The last fleet-wide decision during a rollout (the controller keeps it between resyncs) and the revisions
    /// it was taken for: when they change (a promotion, a rollback) it no longer applies.
    private var rolloutDecision: AutoscaleDecision?
    private var rolloutDecisionRevisions: [Int] = []
    /// The decisions taken (rule, desired), for tests and reports.
    private(set) var decisions: [(time: Double, rule: String, replicas: Int)] = []

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

    private static func revisionIndex(_ deployment: String) -> Int? {
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

    func podModelReady(_ sim: Simulation, pod: Int) {
        let seconds = sim.replicas[pod].coldStart
        status.loadTime = LoadTimeStatistics.record(
            seconds, pod: "pod-\(pod)", into: status.loadTime ?? LoadTimeStatus())
    }

    /// The planning cold start as the controller computes it.
    var planningColdStart: Double {
        LoadTimeStatistics.planningLoadTime(status.loadTime, spec: spec.autoscaling.coldStart)
    }

    func rolloutStarted(_ sim: Simulation) {
        let next = sim.addRevision(modelGated: true)
        spec.deployment = Self.deploymentName(next)
        generation += 1
        rolloutInProgress = true
    }

    func evaluate(_ sim: Simulation) {
        if sim.now - lastResync >= Self.resync - 1e-9 {
            lastResync = sim.now
            observe(sim)
            if rolloutInProgress { rolloutDecision = fleetDecision(sim) } else { autoscale(sim) }
        }
        if rolloutInProgress { plan(sim) }
    }

    private func observe(_ sim: Simulation) {
        var completed = 0
        var inFlight = 0
        for pod in sim.replicas where pod.active {
            // Every request that left the engine, aborted ones included (all finished_reasons of
            // vllm:request_success_total), as ArrivalEstimator requires; throughput counts served ones only.
            completed += pod.completed + pod.aborted
            inFlight += pod.inFlight
            if pod.modelLoaded {
                throughput.observe(
                    time: sim.now, replica: "pod-\(pod.id)", completedTotal: Double(pod.completed),
                    running: Double(pod.running), waiting: Double(pod.waiting),
                    maxConcurrency: Double(sim.engine.concurrencyLimit))
            }
        }
        arrivals.observe(time: sim.now, completedTotal: Double(completed), inFlight: Double(inFlight))
    }

    private var stableRevision: Int? { status.stableDeployment.flatMap(Self.revisionIndex) }

    private func autoscale(_ sim: Simulation) {
        guard let stable = stableRevision, sim.revisions.indices.contains(stable),
            let decision = decide(sim, revisions: [stable])
        else { return }
        if decision.desiredReplicas != sim.revisions[stable].desired {
            decisions.append((sim.now, decision.rule, decision.desiredReplicas))
            sim.setDesired(stable, decision.desiredReplicas)
        }
    }

    /// The autoscaler over the stable and candidate revisions' pods, as the controller asks it during a rollout.
    private func fleetDecision(_ sim: Simulation) -> AutoscaleDecision? {
        let revisions = fleetRevisions(sim)
        rolloutDecisionRevisions = revisions
        return decide(sim, revisions: revisions)
    }

    private func fleetRevisions(_ sim: Simulation) -> [Int] {
        let parties = RolloutPlanner.identify(spec: spec, status: status, routeBackends: routeWeights)
        return [parties.stable.deployment, parties.candidate?.deployment].compactMap {
            $0.flatMap(Self.revisionIndex)
        }.filter { sim.revisions.indices.contains($0) }
    }

    private func decide(_ sim: Simulation, revisions: [Int]) -> AutoscaleDecision? {
        guard !revisions.isEmpty else { return nil }
        var states: [ReplicaState] = []
        for revision in revisions {
            for id in sim.revisions[revision].pods {
                let pod = sim.replicas[id]
                states.append(
                    ReplicaState(
                        name: "pod-\(id)", phase: pod.modelLoaded ? .ready : .loading,
                        ageSeconds: sim.now - pod.createdAt, running: Double(pod.running),
                        waiting: Double(pod.waiting)))
            }
        }
        let input = AutoscalerInput(
            time: sim.now, spec: spec.autoscaling,
            currentReplicas: revisions.reduce(0) { $0 + sim.revisions[$1].desired }, replicas: states,
            arrivalRate: arrivals.rate, arrivalTrend: arrivals.trend, measuredThroughput: throughput.throughput,
            coldStartSeconds: planningColdStart, memory: memory)
        let decision = Autoscaler.decide(input)
        memory = decision.memory
        return decision
    }

    private func revisionObservation(_ sim: Simulation, deployment: String, service: String) -> RevisionObservation {
        guard let index = Self.revisionIndex(deployment), sim.revisions.indices.contains(index) else {
            return .missing(deployment: deployment, service: service)
        }
        let total = routeWeights.values.reduce(0) { $0 + max(0, $1) }
        let share = total > 0 ? Double(max(0, routeWeights[service] ?? 0)) / Double(total) : 0
        return RevisionObservation(
            deployment: deployment, service: service, desiredReplicas: sim.revisions[index].desired,
            modelReady: sim.modelReadyCount(revision: index), loading: sim.loadingCount(revision: index),
            modelGatedEndpoints: true, requestRate: arrivals.rate.map { $0 * share })
    }

    private func plan(_ sim: Simulation) {
        if rolloutDecision != nil, fleetRevisions(sim) != rolloutDecisionRevisions { rolloutDecision = nil }
        let parties = RolloutPlanner.identify(spec: spec, status: status, routeBackends: routeWeights)
        let capacity =
            (throughput.throughput ?? spec.autoscaling.replicaThroughput ?? 0)
            * spec.autoscaling.targetUtilization
        let observation = RolloutObservation(
            now: Date(timeIntervalSince1970: Self.epoch + sim.now), generation: generation, spec: spec, status: status,
            route: RouteState(found: true, weights: routeWeights),
            stable: revisionObservation(sim, deployment: parties.stable.deployment, service: parties.stable.service),
            candidate: parties.candidate.map {
                revisionObservation(sim, deployment: $0.deployment, service: $0.service)
            },
            retired: parties.retired.map { revisionObservation(sim, deployment: $0.deployment, service: $0.service) },
            analysis: AnalysisOutcome(verdict: .pass, reasons: ["the candidate serves like the stable revision"]),
            replicaCapacity: capacity > 0 ? capacity : nil, autoscale: rolloutDecision)
        let plan = RolloutPlanner.plan(observation)
        status = plan.status
        for action in plan.actions {
            switch action {
            case .scale(let deployment, let replicas):
                if let index = Self.revisionIndex(deployment) { sim.setDesired(index, replicas) }
            case .setWeights(let weights):
                for (service, weight) in weights { routeWeights[service] = weight }
                applyRouting(sim)
            }
        }
        if status.candidateDeployment == nil, status.retiredDeployment == nil,
            status.stableDeployment == spec.deployment
        {
            rolloutInProgress = false
        }
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
