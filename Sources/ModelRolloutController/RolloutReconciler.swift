import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import ModelRolloutCore

/// Reconciles one `ModelRollout`: gather (route, Deployments, pods, logs, `/v1/models`, `/metrics`) → decide
/// (``RolloutPlanner``, pure) → act (scale, route weights, events, status).
///
/// Level-based: the ModelRollout and its HTTPRoute are read fresh from the API server on every call (the caches
/// serve Deployments and Pods); nothing is trusted from the event that caused the call. Actions run before the
/// status write; a failed action leaves the status as it was and the reconcile is retried, and the planner
/// re-derives progress from the live route, so a crash at any point neither repeats nor skips a step.
final class RolloutReconciler: Reconciler, Sendable {
    let kube: KubernetesClient
    let gatherer: RolloutGatherer
    let routeWriter: RouteWeightWriter
    let recorder: EventRecorder
    let options: ControllerOptions
    let logger: Logger
    let clock: @Sendable () -> Date
    let metrics: RolloutMetrics
    /// The `controller` key of log records and the name of the controller in KubeRuntime's metrics.
    static let controllerName = "modelrollout"

    init(
        kube: KubernetesClient, gatherer: RolloutGatherer, routeWriter: RouteWeightWriter, recorder: EventRecorder,
        options: ControllerOptions, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() },
        metrics: RolloutMetrics = RolloutMetrics()
    ) {
        self.kube = kube
        self.gatherer = gatherer
        self.routeWriter = routeWriter
        self.recorder = recorder
        self.options = options
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
    }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileAction {
        let namespace = key.namespace ?? "default"
        let client = kube.dynamic(.modelRollouts, namespace: namespace)
        guard let object = try await client.getIfExists(key.name) else {
            await gatherer.memory.forget(key)
            metrics.forget(namespace: namespace, rollout: key.name)
            return .awaitChange
        }
        // controller-runtime's structured keys, plus ours.
        var log = logger
        log[metadataKey: "controller"] = "\(Self.controllerName)"
        log[metadataKey: "controllerGroup"] = "modelrollout.io"
        log[metadataKey: "controllerKind"] = "ModelRollout"
        log[metadataKey: "k8s.namespace"] = "\(namespace)"
        log[metadataKey: "k8s.name"] = "\(key.name)"
        log[metadataKey: "k8s.modelrollout"] = "\(key.name)"
        log[metadataKey: "reconcileID"] = "\(UUID().uuidString.lowercased())"
        let now = clock()

        // Decode and validate; an undecodable object still gets a status explaining why.
        var problems: [String] = []
        let rollout: ModelRollout
        switch ModelRollout.decode(object.raw) {
        case .success(let decoded):
            rollout = decoded
            problems = decoded.spec.validate().map(\.description)
        case .failure(let error):
            problems = [error.description]
            var fallback = ModelRollout(
                metadata: object.metadata,
                spec: ModelRolloutSpec(model: "", deployment: "", route: RouteReference(name: "")))
            fallback.status = object.raw["status"].flatMap { try? KubeJSON.fromJSONValue(ModelRolloutStatus.self, $0) }
            rollout = fallback
        }
        let spec = rollout.spec
        let status = rollout.status ?? ModelRolloutStatus()
        let generation = object.metadata.generation ?? 0

        // The route: fresh, for its weights and resourceVersion.
        let routeNamespace = spec.route.namespace ?? namespace
        var route: HTTPRoute?
        if problems.isEmpty {
            route = try await kube.resources(HTTPRoute.self, namespace: routeNamespace).getIfExists(spec.route.name)
        }
        let known = Set(
            [
                spec.serviceName(forDeployment: spec.deployment), status.stableService, status.candidateService,
                status.retiredService,
            ].compactMap { $0 })
        var routeBackends: [String: Int] = [:]
        if let route {
            let observed = RouteWeights.observe(route, services: known)
            if observed.ruleIndex != nil {
                routeBackends = observed.weights
            } else if let rule = route.spec.rules.first {
                for ref in rule.backendRefs where ref.kind == nil || ref.kind == "Service" {
                    routeBackends[ref.name] = Int(ref.effectiveWeight)
                }
            }
        }
        let parties = RolloutPlanner.identify(spec: spec, status: status, routeBackends: routeBackends)
        let requestClass = RolloutMetrics.requestClass(routeLabels: route?.metadata.labels)
        var routeState = RouteState(found: route != nil)
        if let route { routeState.weights = RouteWeights.observe(route, services: parties.services).weights }

        // Revisions.
        var stable: RevisionObservation?
        var candidate: RevisionObservation?
        var retired: RevisionObservation?
        var stablePods: [GatheredPod] = []
        var candidatePods: [GatheredPod] = []
        var loadTime = status.loadTime ?? LoadTimeStatus()
        var anyLoading = false
        if problems.isEmpty {
            let s = await gatherer.observe(
                deployment: parties.stable.deployment, service: parties.stable.service, namespace: namespace,
                spec: spec, now: now)
            stable = s.0
            stablePods = s.1
            if let party = parties.candidate {
                let c = await gatherer.observe(
                    deployment: party.deployment, service: party.service, namespace: namespace, spec: spec, now: now)
                candidate = c.0
                candidatePods = c.1
            }
            if let party = parties.retired {
                retired = await gatherer.observe(
                    deployment: party.deployment, service: party.service, namespace: namespace, spec: spec, now: now
                ).0
            }
            for (revision, pods) in [(stable, stablePods), (candidate, candidatePods)] {
                for pod in pods {
                    if let seconds = pod.newLoadSeconds {
                        loadTime = LoadTimeStatistics.record(seconds, pod: pod.name, into: loadTime)
                        metrics.recordModelLoad(
                            namespace: namespace, rollout: key.name, model: spec.model,
                            revision: revision?.deployment ?? "", seconds: seconds)
                        log.info(
                            "pod.model_ready",
                            metadata: ["k8s.pod": "\(pod.name)", "load_seconds": "\(String(format: "%.1f", seconds))"])
                    }
                    if let delay = pod.newReadinessDelaySeconds {
                        metrics.recordReadinessDelay(
                            namespace: namespace, rollout: key.name, model: spec.model,
                            revision: revision?.deployment ?? "", seconds: delay)
                    }
                    if !pod.readiness.modelReady, pod.readiness.phase != .failed, pod.readiness.phase != .terminating {
                        anyLoading = true
                    }
                }
            }
        }

        // Forget pods that are gone (log state and probe memory are per pod).
        let present = Set(gatherer.pods.list(namespace: namespace).compactMap(\.metadata.name))
        await gatherer.logs.retainOnly(namespace: namespace, pods: present)
        await gatherer.memory.retainPods(Set(present.map { "\(namespace)/\($0)" }), namespace: namespace)

        // Analysis of the current step's window.
        // Samples scraped by the analysis this round (both revisions): the autoscaler reuses them.
        var scrapedThisRound: [PodMetricsSample]?
        var analysis: AnalysisOutcome?
        if let step = status.currentStep, let started = status.stepStartedAt, let candidateParty = parties.candidate,
            candidate != nil, step < spec.steps.count, (spec.steps[step].hold?.seconds ?? 0) > 0
        {
            let due = status.analysis.flatMap { $0.step == step ? $0.lastTime : nil }.map {
                now.timeIntervalSince($0) >= spec.analysis.interval.seconds
            } ?? true
            var baseline = await gatherer.memory.baseline(key)
            if baseline?.step != step || baseline?.startedAt != started { baseline = nil }
            if baseline == nil || due {
                let stableSamples = await gatherer.scrape(stablePods, namespace: namespace, spec: spec, now: now)
                let candidateSamples = await gatherer.scrape(candidatePods, namespace: namespace, spec: spec, now: now)
                scrapedThisRound = stableSamples + candidateSamples
                for (revision, samples) in [
                    (parties.stable.deployment, stableSamples), (candidateParty.deployment, candidateSamples),
                ] {
                    metrics.observeRuntime(
                        namespace: namespace, rollout: key.name, model: spec.model, route: spec.route.name,
                        requestClass: requestClass, revision: revision, samples: samples)
                }
                if let baseline {
                    let candidateWindow = RevisionMetrics.window(
                        baseline: baseline.candidate, current: candidateSamples)
                    let stableWindow = RevisionMetrics.window(baseline: baseline.stable, current: stableSamples)
                    let result = CandidateAnalysis.analyse(
                        candidate: candidateWindow, stable: stableWindow, spec: spec.analysis)
                    analysis = AnalysisOutcome(verdict: result.verdict, reasons: result.reasons, inputs: result.inputs)
                    stable?.requestRate = stableWindow.requestRate
                    candidate?.requestRate = candidateWindow.requestRate
                    log.debug(
                        "analysis",
                        metadata: [
                            "verdict": "\(result.verdict.rawValue)", "candidate": "\(candidateParty.deployment)",
                        ])
                } else {
                    await gatherer.memory.setBaseline(
                        key,
                        StepBaseline(
                            step: step, startedAt: started, stable: stableSamples, candidate: candidateSamples))
                }
            }
        } else {
            await gatherer.memory.setBaseline(key, nil)
        }

        var capacity: Double?
        if let throughput = spec.autoscaling.replicaThroughput, throughput > 0 {
            capacity = throughput * spec.autoscaling.targetUtilization
        }
        var autoscale: AutoscaleDecision?
        if problems.isEmpty, spec.autoscaling.enabled, let stable, stable.exists {
            // Steady state: the stable revision. During a rollout: the fleet of both revisions (the planner splits
            // the recommendation by the route weights).
            var fleet = [(stable, stablePods)]
            if let candidate, candidate.exists { fleet.append((candidate, candidatePods)) }
            autoscale = await autoscaleFleet(
                key: key, fleet: fleet, scraped: scrapedThisRound, namespace: namespace, spec: spec, status: status,
                now: now, requestClass: requestClass)
            if let measured = await gatherer.memory.autoscale(key)?.throughput.throughput {
                capacity = measured * spec.autoscaling.targetUtilization
            }
        }
        let observation = RolloutObservation(
            now: now, generation: generation, spec: spec, status: status, specProblems: problems, route: routeState,
            stable: stable, candidate: candidate, retired: retired, analysis: analysis, replicaCapacity: capacity,
            autoscale: autoscale)
        var plan = RolloutPlanner.plan(observation)
        if problems.isEmpty { plan.status.loadTime = loadTime.samples > 0 ? loadTime : status.loadTime }

        // Act.
        if !plan.observeOnly {
            for action in plan.actions {
                do {
                    try await execute(action, namespace: namespace, routeKey: ObjectKey(
                        namespace: routeNamespace, name: spec.route.name), log: log)
                } catch {
                    log.warning("action.failed", metadata: ["action": "\(action)", "error": "\(error)"])
                    await event(object, warning: true, reason: "ActionFailed", note: "\(describe(action)): \(error)")
                    throw error
                }
            }
        }
        for event in plan.events {
            await self.event(object, warning: event.warning, reason: event.reason, note: event.message)
        }
        for decision in plan.decisions {
            metrics.recordDecision(
                namespace: namespace, rollout: key.name, kind: decision.kind.rawValue, rule: decision.rule)
            log.info(
                "decision",
                metadata: [
                    "decision.kind": "\(decision.kind.rawValue)", "decision.rule": "\(decision.rule)",
                    "decision.result": "\(decision.result)", "observe": "\(plan.observeOnly)",
                ])
        }
        metrics.update(
            Self.metricsSnapshot(
                namespace: namespace, name: key.name, spec: spec, requestClass: requestClass,
                phase: plan.status.phase, weights: plan.status.weights,
                stableDeployment: plan.status.stableDeployment ?? parties.stable.deployment,
                candidateDeployment: plan.status.candidateDeployment ?? parties.candidate?.deployment,
                observations: [stable, candidate, retired].compactMap { $0 }))

        // Status (optimistic concurrency on the object we read).
        let newStatus = try KubeJSON.toJSONValue(plan.status)
        if object.raw["status"] != newStatus {
            var updated = object.raw
            updated["status"] = newStatus
            do {
                _ = try await client.updateStatus(DynamicObject(raw: updated))
            } catch let error as KubeAPIError where error.isConflict {
                return .requeue(after: .milliseconds(20))
            }
        }

        var next = plan.requeueAfter
        if anyLoading { next = min(next ?? options.loadingProbeInterval, options.loadingProbeInterval) }
        if plan.status.phase == .progressing || plan.status.phase == .rollingBack || autoscale != nil {
            next = min(next ?? options.resyncInterval, options.resyncInterval)
        }
        let seconds = next ?? options.resyncInterval * 6
        return .requeue(after: .milliseconds(Int64(max(0.05, seconds) * 1000)))
    }

    /// Scrapes the fleet's pods (the stable revision's; during a rollout the candidate's too) at most every
    /// `resyncInterval`, feeds the arrival and throughput estimators and asks the pure ``Autoscaler`` for the
    /// replicas of the whole fleet. Between evaluations the last decision stands.
    func autoscaleFleet(
        key: ObjectKey, fleet: [(RevisionObservation, [GatheredPod])], scraped: [PodMetricsSample]? = nil,
        namespace: String, spec: ModelRolloutSpec, status: ModelRolloutStatus, now: Date,
        requestClass: String = RolloutMetrics.defaultClass
    ) async -> AutoscaleDecision? {
        guard let stable = fleet.first?.0 else { return nil }
        let pods = fleet.flatMap(\.1)
        let coldStart = LoadTimeStatistics.planningLoadTime(status.loadTime, spec: spec.autoscaling.coldStart)
        let fresh = AutoscaleMemory(
            revision: stable.deployment, coldStartSeconds: coldStart, evaluationSeconds: options.resyncInterval)
        var state = await gatherer.memory.autoscale(key) ?? fresh
        if state.revision != stable.deployment { state = fresh }
        if let last = state.lastEvaluation, now.timeIntervalSince(last) < options.resyncInterval * 0.9,
            let decision = state.lastDecision
        {
            return decision
        }
        let time = now.timeIntervalSince1970
        // The analysis may have scraped every pod of the fleet this round (and exported their metrics): reuse it.
        let samples: [PodMetricsSample]
        if let scraped {
            samples = scraped
        } else {
            samples = await gatherer.scrape(pods, namespace: namespace, spec: spec, now: now)
            for (revision, revisionPods) in fleet {
                let names = Set(revisionPods.map(\.name))
                metrics.observeRuntime(
                    namespace: namespace, rollout: key.name, model: spec.model, route: spec.route.name,
                    requestClass: requestClass, revision: revision.deployment,
                    samples: samples.filter { names.contains($0.pod) })
            }
        }
        let byPod = Dictionary(samples.map { ($0.pod, $0) }, uniquingKeysWith: { $1 })
        if !samples.isEmpty {
            let completed = samples.reduce(0) { $0 + ($1.successTotal ?? 0) }
            let inFlight = samples.reduce(0) { $0 + ($1.running ?? 0) + ($1.waiting ?? 0) }
            state.arrivals.observe(time: time, completedTotal: completed, inFlight: inFlight)
            for sample in samples {
                // Throughput counts served requests only: aborted ones (client timeouts) left without being served.
                let served = max(0, (sample.successTotal ?? 0) - (sample.abortedTotal ?? 0))
                state.throughput.observe(
                    time: time, replica: sample.pod, completedTotal: served,
                    running: sample.running ?? 0, waiting: sample.waiting ?? 0, maxConcurrency: nil)
            }
        }
        let replicas: [ReplicaState] = pods.map { pod in
            let phase: ReplicaState.Phase
            switch pod.readiness.phase {
            case .modelReady: phase = .ready
            case .failed: phase = .failed
            case .terminating: phase = .terminating
            default: phase = .loading
            }
            let sample = byPod[pod.name]
            return ReplicaState(
                name: pod.name, phase: phase, ageSeconds: pod.createdAt.map { now.timeIntervalSince($0) } ?? 0,
                running: sample?.running, waiting: sample?.waiting)
        }
        let input = AutoscalerInput(
            time: time, spec: spec.autoscaling, currentReplicas: fleet.reduce(0) { $0 + $1.0.desiredReplicas },
            replicas: replicas,
            arrivalRate: samples.isEmpty ? nil : state.arrivals.rate, arrivalTrend: state.arrivals.trend,
            measuredThroughput: state.throughput.throughput,
            coldStartSeconds: coldStart, memory: state.memory)
        let decision = Autoscaler.decide(input)
        state.memory = decision.memory
        state.lastEvaluation = now
        state.lastDecision = decision
        await gatherer.memory.setAutoscale(key, state)
        metrics.setDesiredReplicas(
            namespace: namespace, rollout: key.name, revision: stable.deployment, replicas: decision.desiredReplicas)
        return decision
    }

    /// What the metrics show after a plan: each observed revision's replicas, and the planned weights of the
    /// stable and candidate Deployments. A revision that is neither observed nor weighted is not shown (its
    /// series are dropped).
    static func metricsSnapshot(
        namespace: String, name: String, spec: ModelRolloutSpec, requestClass: String, phase: RolloutPhase?,
        weights: RevisionWeights?, stableDeployment: String, candidateDeployment: String?,
        observations: [RevisionObservation]
    ) -> RolloutMetricsSnapshot {
        var revisions: [RevisionMetricsSnapshot] = []
        func index(_ deployment: String) -> Int {
            if let found = revisions.firstIndex(where: { $0.revision == deployment }) { return found }
            revisions.append(RevisionMetricsSnapshot(revision: deployment))
            return revisions.count - 1
        }
        for observation in observations where !observation.deployment.isEmpty {
            let i = index(observation.deployment)
            revisions[i].desired = observation.exists ? observation.desiredReplicas : 0
            revisions[i].ready = observation.modelReady
            revisions[i].loading = observation.loading
        }
        if let weights {
            if !stableDeployment.isEmpty { revisions[index(stableDeployment)].weight = weights.stable }
            if let candidateDeployment, !candidateDeployment.isEmpty {
                revisions[index(candidateDeployment)].weight = weights.candidate
            }
        }
        return RolloutMetricsSnapshot(
            namespace: namespace, name: name, model: spec.model, route: spec.route.name, requestClass: requestClass,
            phase: phase?.rawValue, revisions: revisions)
    }

    func execute(_ action: RolloutAction, namespace: String, routeKey: ObjectKey, log: Logger) async throws {
        switch action {
        case .scale(let deployment, let replicas):
            _ = try await kube.resources(Deployment.self, namespace: namespace).scale(
                deployment, replicas: Int32(replicas))
            log.info("scaled", metadata: ["k8s.deployment": "\(deployment)", "replicas": "\(replicas)"])
        case .setWeights(let desired):
            let outcome = try await routeWriter.write(route: routeKey, desired: desired)
            log.info("route.weights", metadata: ["weights": "\(describe(action))", "outcome": "\(outcome)"])
        }
    }

    func describe(_ action: RolloutAction) -> String {
        switch action {
        case .scale(let deployment, let replicas): return "scale \(deployment) to \(replicas)"
        case .setWeights(let desired):
            return "weights "
                + desired.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.map(String.init) ?? "removed")" }
                .joined(separator: " ")
        }
    }

    func event(_ object: DynamicObject, warning: Bool, reason: String, note: String) async {
        guard let reference = ObjectReference(object: object.raw) else { return }
        await recorder.record(
            regarding: reference, type: warning ? .warning : .normal, reason: reason, action: reason, note: note)
    }
}
