import Foundation
import KubeCore

// One reconcile round of a ModelRollout as a pure function: what the shell gathered, plus the memory the controller
// keeps between rounds, in; the plan, the new memory and the time of the next round out. The controller's reconciler
// and the benchmark's `modelrollout` policy both run exactly this (`RolloutRound.step`).

/// The timing of rounds (the controller's `--resync-interval`, `--loading-probe-interval` and
/// `--steady-resync-interval`).
public struct RoundSettings: Sendable, Equatable {
    /// Seconds between rounds while a rollout runs or autoscaling is on; the autoscaler evaluates at this cadence.
    public var resyncInterval: Double
    /// Seconds between rounds while a pod loads (its readiness is re-checked at this cadence).
    public var loadingProbeInterval: Double
    /// Seconds between rounds of a ModelRollout with nothing to do (no rollout, no autoscaling, nothing loading):
    /// it is reconciled when something it concerns changes, and otherwise only this often.
    public var steadyResyncInterval: Double

    public init(resyncInterval: Double = 5, loadingProbeInterval: Double = 0.5, steadyResyncInterval: Double = 300) {
        self.resyncInterval = resyncInterval
        self.loadingProbeInterval = loadingProbeInterval
        self.steadyResyncInterval = steadyResyncInterval
    }
}

/// One pod of a revision as gathered this round.
public struct RoundPod: Sendable, Equatable {
    public var name: String
    /// The pod's incarnation (uid and container restart count): a new one starts a new model load.
    public var incarnation: String
    public var readiness: PodReadiness
    public var createdAt: Date?
    /// When the pod's `Ready` condition last turned True (kubelet readiness), if it is True.
    public var readySince: Date?

    public init(name: String, incarnation: String, readiness: PodReadiness, createdAt: Date?, readySince: Date? = nil) {
        self.name = name
        self.incarnation = incarnation
        self.readiness = readiness
        self.createdAt = createdAt
        self.readySince = readySince
    }

    /// Not model-ready and on its way (neither failed nor terminating).
    public var loading: Bool {
        !readiness.modelReady && readiness.phase != .failed && readiness.phase != .terminating
    }
}

/// One revision (a Deployment and the backend the route names) as gathered this round.
public struct RoundRevision: Sendable, Equatable {
    public var deployment: String
    public var service: String
    public var exists: Bool
    /// `spec.replicas` of the Deployment.
    public var desiredReplicas: Int
    /// Whether the readiness probe proves the model is loaded (see ``RevisionObservation/modelGatedEndpoints``).
    public var modelGatedEndpoints: Bool
    public var pods: [RoundPod]

    public init(
        deployment: String, service: String, exists: Bool = true, desiredReplicas: Int = 0,
        modelGatedEndpoints: Bool = true, pods: [RoundPod] = []
    ) {
        self.deployment = deployment
        self.service = service
        self.exists = exists
        self.desiredReplicas = desiredReplicas
        self.modelGatedEndpoints = modelGatedEndpoints
        self.pods = pods
    }

    /// A revision whose Deployment does not exist.
    public static func missing(deployment: String, service: String) -> RoundRevision {
        RoundRevision(deployment: deployment, service: service, exists: false)
    }

    /// The counts the planner works with.
    public var observation: RevisionObservation {
        var observation = RevisionObservation(
            deployment: deployment, service: service, exists: exists, desiredReplicas: exists ? desiredReplicas : 0,
            modelGatedEndpoints: modelGatedEndpoints)
        for pod in pods {
            switch pod.readiness.phase {
            case .modelReady: observation.modelReady += 1
            case .failed:
                observation.failed += 1
                if observation.failureMessage == nil {
                    observation.failureMessage = "pod \(pod.name): \(pod.readiness.message)"
                }
            case .terminating: observation.terminating += 1
            case .scheduling where pod.readiness.reason == "Unschedulable":
                observation.loading += 1
                observation.unschedulable += 1
                if observation.unschedulableMessage == nil {
                    observation.unschedulableMessage = "pod \(pod.name): \(pod.readiness.message)"
                }
            default: observation.loading += 1
            }
        }
        return observation
    }
}

/// Everything the shell gathered in one round.
public struct RoundSnapshot: Sendable {
    public var now: Date
    /// `metadata.generation` of the ModelRollout.
    public var generation: Int64
    public var spec: ModelRolloutSpec
    /// The status as last written.
    public var status: ModelRolloutStatus
    /// Problems found in the spec (decoding or `validate()`): nothing is gathered or patched.
    public var specProblems: [String]
    /// The route's weights of the managed backends (``RolloutRound/targets(spec:status:routeBackends:)``).
    public var route: RouteState
    public var stable: RoundRevision?
    public var candidate: RoundRevision?
    public var retired: RoundRevision?
    /// The runtime samples of the stable and candidate revisions' model-ready pods, when
    /// ``RolloutRound/needsMetrics(spec:status:targets:memory:now:settings:)`` asked for them (nil: not scraped).
    public var samples: [PodMetricsSample]?

    public init(
        now: Date, generation: Int64, spec: ModelRolloutSpec, status: ModelRolloutStatus, specProblems: [String] = [],
        route: RouteState, stable: RoundRevision? = nil, candidate: RoundRevision? = nil,
        retired: RoundRevision? = nil, samples: [PodMetricsSample]? = nil
    ) {
        self.now = now
        self.generation = generation
        self.spec = spec
        self.status = status
        self.specProblems = specProblems
        self.route = route
        self.stable = stable
        self.candidate = candidate
        self.retired = retired
        self.samples = samples
    }

    /// This round's samples of a revision's pods.
    public func samples(of revision: RoundRevision?) -> [PodMetricsSample] {
        guard let revision, let samples else { return [] }
        let names = Set(revision.pods.map(\.name))
        return samples.filter { names.contains($0.pod) }
    }
}

/// The analysis window of one rollout step: the first scrape after the step started, per revision.
public struct StepBaseline: Sendable, Equatable {
    public var step: Int
    public var startedAt: Date
    public var stable: [PodMetricsSample]
    public var candidate: [PodMetricsSample]

    public init(step: Int, startedAt: Date, stable: [PodMetricsSample], candidate: [PodMetricsSample]) {
        self.step = step
        self.startedAt = startedAt
        self.stable = stable
        self.candidate = candidate
    }
}

/// The autoscaler's state carried between rounds.
public struct AutoscaleMemory: Sendable, Equatable {
    /// The stable revision the rates were learned on (a promotion or rollback starts over).
    public var revision: String
    public var arrivals: ArrivalEstimator
    public var throughput = ThroughputEstimator()
    public var memory = AutoscalerMemory()
    public var lastEvaluation: Date?
    public var lastDecision: AutoscaleDecision?

    /// The arrival rate is smoothed over a quarter of the planning cold start (at most 30 s) but never fewer
    /// than three evaluations: short enough to see a surge well within the horizon it must be served by.
    public init(revision: String, coldStartSeconds: Double, evaluationSeconds: Double) {
        self.revision = revision
        arrivals = ArrivalEstimator(window: max(3 * evaluationSeconds, min(30, coldStartSeconds / 4)))
    }
}

/// The fleet's demand and per-replica throughput as the GPU-budget ladder measures them during a rollout (fed
/// with the same runtime samples and estimators as the autoscaler, whether or not autoscaling is enabled).
public struct FleetMeter: Sendable, Equatable {
    /// The candidate revision the meter was started for (a new rollout starts over).
    public var candidate: String
    public var arrivals: ArrivalEstimator
    public var throughput = ThroughputEstimator()
    public var lastObservation: Date?

    public init(candidate: String, evaluationSeconds: Double) {
        self.candidate = candidate
        arrivals = ArrivalEstimator(window: max(3 * evaluationSeconds, 15))
    }
}

/// What the round remembers of one pod incarnation to measure its model load.
public struct PodLoadTrack: Sendable, Equatable {
    public var incarnation: String
    /// Whether the pod was ever seen not model-ready (only those get a load time measured).
    public var sawLoading = false
    public var modelReadySince: Date?
    public var loadMeasured = false
    public var delayMeasured = false

    public init(incarnation: String) { self.incarnation = incarnation }
}

/// The controller's memory of one ModelRollout between rounds (in memory: a restarted controller re-learns it).
public struct RoundMemory: Sendable, Equatable {
    public var baseline: StepBaseline?
    public var autoscale: AutoscaleMemory?
    /// The ladder's measure of demand during a rollout (``FleetMeter``).
    public var fleet: FleetMeter?
    /// By pod name, for the pods of the revisions gathered last round.
    public var pods: [String: PodLoadTrack] = [:]
    /// The route's managed weights after this process's last successful weight write (``recordWrites(_:onto:)``).
    public var routeWritten: [String: Int]?

    public init(baseline: StepBaseline? = nil, autoscale: AutoscaleMemory? = nil, pods: [String: PodLoadTrack] = [:]) {
        self.baseline = baseline
        self.autoscale = autoscale
        self.pods = pods
    }

    /// Records the weights the shell wrote: call after the plan's actions succeeded, with the route as gathered.
    public mutating func recordWrites(_ actions: [RolloutAction], onto route: RouteState) {
        var weights = route.weights
        var wrote = false
        for case .setWeights(let desired) in actions {
            wrote = true
            for (service, weight) in desired { weights[service] = weight }
        }
        if wrote { routeWritten = weights }
    }
}

/// A measurement the round made (for logs and metrics).
public struct PodMeasurement: Sendable, Equatable {
    public var revision: String
    public var pod: String
    public var seconds: Double

    public init(revision: String, pod: String, seconds: Double) {
        self.revision = revision
        self.pod = pod
        self.seconds = seconds
    }
}

/// The outcome of one round.
public struct RoundOutcome: Sendable {
    public var plan: RolloutPlan
    public var memory: RoundMemory
    /// Seconds until the next round.
    public var requeueAfter: Double
    /// The candidate analysis this round, when one was computed.
    public var analysis: AnalysisOutcome?
    /// The autoscaler's decision in force (evaluated this round or the last one still standing).
    public var autoscale: AutoscaleDecision?
    /// Whether the autoscaler evaluated this round.
    public var autoscaleEvaluated: Bool
    /// Pod creation → model-ready, for pods that became model-ready this round after being seen loading.
    public var modelLoads: [PodMeasurement]
    /// Pod `Ready` condition → model-ready, for the same pods.
    public var readinessDelays: [PodMeasurement]
    /// The revisions as the planner saw them (with the request rates the analysis measured).
    public var observations: [RevisionObservation]
}

/// Which revisions a round concerns and the route as the planner reads it.
public struct RoundTargets: Sendable, Equatable {
    public var parties: RolloutParties
    public var route: RouteState
}

/// The reconcile round. Pure: time and everything observed come in; nothing is read or written.
///
/// 1. ``targets(spec:status:route:)``: which revisions to gather (stable, candidate, retired) from the spec,
///    the status and the route.
/// 2. ``needsMetrics(spec:status:targets:memory:now:settings:)``: whether this round needs the pods' runtime
///    samples (the step's analysis is due, or the autoscaler's evaluation is).
/// 3. ``step(_:memory:settings:)``: model-load times, the analysis window (baseline, then the verdict every
///    `analysis.interval`), the arrival and throughput estimators and the autoscaler (every `resyncInterval`),
///    ``RolloutPlanner/plan(_:)``, and the requeue time.
public enum RolloutRound {
    /// The targets from a live HTTPRoute (nil: the route does not exist). `backendDeployments` maps a backend
    /// name to the Deployment it serves where the shell knows it (an InferencePool's selector picks a Deployment's
    /// pods); a backend not in it serves the Deployment of the same name, the convention for Services.
    public static func targets(
        spec: ModelRolloutSpec, status: ModelRolloutStatus, route: HTTPRoute?,
        backendDeployments: [String: String] = [:]
    ) -> RoundTargets {
        guard let route else {
            return targets(spec: spec, status: status, routeBackends: nil, backendDeployments: backendDeployments)
        }
        let kind = spec.backendKind
        let known = Set(
            [
                spec.serviceName(forDeployment: spec.deployment), status.stableService, status.candidateService,
                status.retiredService,
            ].compactMap { $0 })
        var backends: [String: Int] = [:]
        let observed = RouteWeights.observe(route, services: known, kind: kind)
        if observed.ruleIndex != nil {
            backends = observed.weights
        } else {
            // A new ModelRollout: the first rule's backends of the managed kind, to adopt the stable one.
            backends = RouteWeights.firstRuleBackends(route, kind: kind)
        }
        let parties = RolloutPlanner.identify(
            spec: spec, status: status, routeBackends: backends, backendDeployments: backendDeployments)
        return RoundTargets(
            parties: parties,
            route: RouteState(
                found: true, weights: RouteWeights.observe(route, services: parties.services, kind: kind).weights))
    }

    /// The targets from the weights of the route's backends by name (nil: the route does not exist).
    public static func targets(
        spec: ModelRolloutSpec, status: ModelRolloutStatus, routeBackends: [String: Int]?,
        backendDeployments: [String: String] = [:]
    ) -> RoundTargets {
        let parties = RolloutPlanner.identify(
            spec: spec, status: status, routeBackends: routeBackends ?? [:], backendDeployments: backendDeployments)
        let managed = (routeBackends ?? [:]).filter { parties.services.contains($0.key) }
        return RoundTargets(parties: parties, route: RouteState(found: routeBackends != nil, weights: managed))
    }

    /// Whether the round needs runtime samples of the stable and candidate pods.
    public static func needsMetrics(
        spec: ModelRolloutSpec, status: ModelRolloutStatus, targets: RoundTargets, memory: RoundMemory, now: Date,
        settings: RoundSettings
    ) -> Bool {
        if analysisStep(spec: spec, status: status, hasCandidate: targets.parties.candidate != nil) != nil {
            let (baselineValid, due) = analysisDue(spec: spec, status: status, memory: memory, now: now)
            if !baselineValid || due { return true }
        }
        if let candidate = targets.parties.candidate, ladderMeasures(spec: spec),
            status.failedDeployment != candidate.deployment, status.phase != .paused,
            fleetMeterDue(memory.fleet, candidate: candidate.deployment, now: now, settings: settings)
        {
            return true
        }
        if spec.autoscaling.enabled {
            return autoscaleDue(
                memory.autoscale, stable: targets.parties.stable.deployment, now: now, settings: settings)
        }
        return false
    }

    /// Plans one round.
    public static func step(_ snapshot: RoundSnapshot, memory previous: RoundMemory, settings: RoundSettings)
        -> RoundOutcome
    {
        let now = snapshot.now
        let spec = snapshot.spec
        let status = snapshot.status
        let valid = snapshot.specProblems.isEmpty
        var memory = previous

        // Model-load times of the pods that became model-ready.
        var loadTime = status.loadTime ?? LoadTimeStatus()
        var loads: [PodMeasurement] = []
        var delays: [PodMeasurement] = []
        var tracks: [String: PodLoadTrack] = [:]
        for revision in [snapshot.stable, snapshot.candidate, snapshot.retired].compactMap({ $0 }) {
            let measures = revision.deployment != snapshot.retired?.deployment
            for pod in revision.pods {
                var track = memory.pods[pod.name] ?? PodLoadTrack(incarnation: pod.incarnation)
                if track.incarnation != pod.incarnation { track = PodLoadTrack(incarnation: pod.incarnation) }
                if pod.readiness.modelReady {
                    if track.modelReadySince == nil {
                        track.modelReadySince = now
                        if measures, track.sawLoading, !track.loadMeasured, let created = pod.createdAt {
                            let seconds = now.timeIntervalSince(created)
                            loadTime = LoadTimeStatistics.record(seconds, pod: pod.name, into: loadTime)
                            loads.append(PodMeasurement(revision: revision.deployment, pod: pod.name, seconds: seconds))
                            track.loadMeasured = true
                        }
                        if measures, track.sawLoading, !track.delayMeasured, let ready = pod.readySince {
                            delays.append(
                                PodMeasurement(
                                    revision: revision.deployment, pod: pod.name,
                                    seconds: max(0, now.timeIntervalSince(ready))))
                            track.delayMeasured = true
                        }
                    }
                } else {
                    if pod.readiness.phase != .terminating { track.sawLoading = true }
                    track.modelReadySince = nil
                }
                tracks[pod.name] = track
            }
        }
        memory.pods = tracks

        var stable = snapshot.stable?.observation
        var candidate = snapshot.candidate?.observation
        let retired = snapshot.retired?.observation

        // The analysis of the current step's window.
        var analysis: AnalysisOutcome?
        if valid, candidate != nil,
            let step = analysisStep(spec: spec, status: status, hasCandidate: true),
            let started = status.stepStartedAt
        {
            let (baselineValid, due) = analysisDue(spec: spec, status: status, memory: memory, now: now)
            if !baselineValid { memory.baseline = nil }
            if let baseline = memory.baseline, due {
                let candidateWindow = RevisionMetrics.window(
                    baseline: baseline.candidate, current: snapshot.samples(of: snapshot.candidate))
                let stableWindow = RevisionMetrics.window(
                    baseline: baseline.stable, current: snapshot.samples(of: snapshot.stable))
                let result = CandidateAnalysis.analyse(
                    candidate: candidateWindow, stable: stableWindow, spec: spec.analysis)
                analysis = AnalysisOutcome(verdict: result.verdict, reasons: result.reasons, inputs: result.inputs)
                stable?.requestRate = stableWindow.requestRate
                candidate?.requestRate = candidateWindow.requestRate
            } else if memory.baseline == nil {
                memory.baseline = StepBaseline(
                    step: step, startedAt: started, stable: snapshot.samples(of: snapshot.stable),
                    candidate: snapshot.samples(of: snapshot.candidate))
            }
        } else {
            memory.baseline = nil
        }

        // The autoscaler: the stable revision, and during a rollout the fleet of both revisions (the planner splits
        // the recommendation by the route weights).
        var capacity: Double?
        if let throughput = spec.autoscaling.replicaThroughput, throughput > 0 {
            capacity = throughput * spec.autoscaling.targetUtilization
        }
        var autoscale: AutoscaleDecision?
        var evaluated = false
        if valid, spec.autoscaling.enabled, let stableRevision = snapshot.stable, stableRevision.exists {
            var fleet = [stableRevision]
            if let candidateRevision = snapshot.candidate, candidateRevision.exists { fleet.append(candidateRevision) }
            (autoscale, evaluated) = autoscaleFleet(
                fleet, snapshot: snapshot, loadTime: status.loadTime, memory: &memory.autoscale, settings: settings)
            if let measured = memory.autoscale?.throughput.throughput {
                capacity = measured * spec.autoscaling.targetUtilization
            }
        }

        // The GPU-budget ladder's measure of demand: the fleet's arrival rate and a replica's throughput.
        var demandRate: Double?
        var throughput = memory.autoscale?.throughput.throughput
        if valid, let candidateRevision = snapshot.candidate, ladderMeasures(spec: spec) {
            let pods = (snapshot.stable?.pods ?? []) + candidateRevision.pods
            if let samples = snapshot.samples {
                observeFleet(
                    &memory.fleet, candidate: candidateRevision.deployment, pods: pods, samples: samples, now: now,
                    settings: settings)
            }
            if let meter = memory.fleet, meter.candidate == candidateRevision.deployment {
                demandRate = meter.arrivals.rate
                throughput = throughput ?? meter.throughput.throughput
            }
        } else if snapshot.candidate == nil {
            memory.fleet = nil
        }
        throughput = throughput ?? spec.autoscaling.replicaThroughput

        let observation = RolloutObservation(
            now: now, generation: snapshot.generation, spec: spec, status: status,
            specProblems: snapshot.specProblems, route: snapshot.route, stable: stable, candidate: candidate,
            retired: retired, analysis: analysis, replicaCapacity: capacity, autoscale: autoscale,
            lastWrittenWeights: memory.routeWritten, replicaThroughput: throughput, demandRate: demandRate)
        var plan = RolloutPlanner.plan(observation)
        if valid {
            plan.status.loadTime = loadTime.samples > 0 ? loadTime : status.loadTime
            plan.status.modelReadyPods = modelReadyIncarnations(snapshot)
        }

        // When to look again: soon while pods load, at the resync while a rollout or the autoscaler runs, else at a
        // long resync.
        var next = plan.requeueAfter
        let anyLoading = [snapshot.stable, snapshot.candidate].contains {
            $0?.pods.contains(where: \.loading) ?? false
        }
        if anyLoading { next = min(next ?? settings.loadingProbeInterval, settings.loadingProbeInterval) }
        if plan.status.phase == .progressing || plan.status.phase == .rollingBack || autoscale != nil {
            next = min(next ?? settings.resyncInterval, settings.resyncInterval)
        }
        let requeue = max(0.05, next ?? settings.steadyResyncInterval)
        return RoundOutcome(
            plan: plan, memory: memory, requeueAfter: requeue, analysis: analysis, autoscale: autoscale,
            autoscaleEvaluated: evaluated, modelLoads: loads, readinessDelays: delays,
            observations: [stable, candidate, retired].compactMap { $0 })
    }

    // MARK: - Parts

    /// The incarnations of every gathered pod that is model-ready, sorted (``ModelRolloutStatus/modelReadyPods``);
    /// nil when there are none.
    static func modelReadyIncarnations(_ snapshot: RoundSnapshot) -> [String]? {
        let incarnations = [snapshot.stable, snapshot.candidate, snapshot.retired].compactMap { $0 }
            .flatMap(\.pods).filter(\.readiness.modelReady).map(\.incarnation)
        return incarnations.isEmpty ? nil : Array(Set(incarnations)).sorted()
    }

    /// The step whose hold is analysed now, if any.
    static func analysisStep(spec: ModelRolloutSpec, status: ModelRolloutStatus, hasCandidate: Bool) -> Int? {
        guard hasCandidate, let step = status.currentStep, status.stepStartedAt != nil, step >= 0,
            step < spec.steps.count, (spec.steps[step].hold?.seconds ?? 0) > 0
        else { return nil }
        return step
    }

    /// Whether the remembered baseline belongs to the current step, and whether an analysis is due.
    static func analysisDue(spec: ModelRolloutSpec, status: ModelRolloutStatus, memory: RoundMemory, now: Date)
        -> (baselineValid: Bool, due: Bool)
    {
        let step = status.currentStep
        let baselineValid = memory.baseline.map { $0.step == step && $0.startedAt == status.stepStartedAt } ?? false
        let due = status.analysis.flatMap { $0.step == step ? $0.lastTime : nil }.map {
            now.timeIntervalSince($0) >= spec.analysis.interval.seconds
        } ?? true
        return (baselineValid, due)
    }

    /// Whether a rollout measures the fleet's demand for its GPU-budget ladder (every rollout but one that keeps
    /// the whole stable fleet).
    static func ladderMeasures(spec: ModelRolloutSpec) -> Bool { !spec.strategy.keepStableFleet }

    /// Whether the fleet meter observes this round (every resync during a rollout).
    static func fleetMeterDue(_ meter: FleetMeter?, candidate: String, now: Date, settings: RoundSettings) -> Bool {
        guard let meter, meter.candidate == candidate, let last = meter.lastObservation else { return true }
        return now.timeIntervalSince(last) >= settings.resyncInterval * 0.9
    }

    /// Feeds the fleet meter with this round's samples of both revisions' pods.
    static func observeFleet(
        _ meter: inout FleetMeter?, candidate: String, pods: [RoundPod], samples: [PodMetricsSample], now: Date,
        settings: RoundSettings
    ) {
        guard fleetMeterDue(meter, candidate: candidate, now: now, settings: settings) else { return }
        var state = meter ?? FleetMeter(candidate: candidate, evaluationSeconds: settings.resyncInterval)
        if state.candidate != candidate {
            state = FleetMeter(candidate: candidate, evaluationSeconds: settings.resyncInterval)
        }
        let names = Set(pods.map(\.name))
        let mine = samples.filter { names.contains($0.pod) }
        guard !mine.isEmpty else { return }
        feed(&state.arrivals, &state.throughput, samples: mine, time: now.timeIntervalSince1970)
        state.lastObservation = now
        meter = state
    }

    /// Feeds the arrival and throughput estimators with one round's samples: arrivals count every request that left
    /// the engine (aborts included), throughput the served ones.
    static func feed(
        _ arrivals: inout ArrivalEstimator, _ throughput: inout ThroughputEstimator, samples: [PodMetricsSample],
        time: Double
    ) {
        let completed = samples.reduce(0) { $0 + ($1.successTotal ?? 0) }
        let inFlight = samples.reduce(0) { $0 + ($1.running ?? 0) + ($1.waiting ?? 0) }
        arrivals.observe(time: time, completedTotal: completed, inFlight: inFlight)
        for sample in samples {
            let served = max(0, (sample.successTotal ?? 0) - (sample.abortedTotal ?? 0))
            throughput.observe(
                time: time, replica: sample.pod, completedTotal: served, running: sample.running ?? 0,
                waiting: sample.waiting ?? 0, maxConcurrency: nil)
        }
    }

    /// Whether the autoscaler evaluates this round (every resync; a new stable revision starts over).
    static func autoscaleDue(_ memory: AutoscaleMemory?, stable: String, now: Date, settings: RoundSettings) -> Bool {
        guard let memory, memory.revision == stable, memory.lastDecision != nil,
            let last = memory.lastEvaluation
        else { return true }
        return now.timeIntervalSince(last) >= settings.resyncInterval * 0.9
    }

    /// Feeds the estimators with this round's samples and asks the pure ``Autoscaler`` for the fleet's replicas;
    /// between evaluations the last decision stands.
    static func autoscaleFleet(
        _ fleet: [RoundRevision], snapshot: RoundSnapshot, loadTime: LoadTimeStatus?, memory: inout AutoscaleMemory?,
        settings: RoundSettings
    ) -> (AutoscaleDecision?, Bool) {
        guard let stable = fleet.first else { return (nil, false) }
        let now = snapshot.now
        let spec = snapshot.spec
        if !autoscaleDue(memory, stable: stable.deployment, now: now, settings: settings) {
            return (memory?.lastDecision, false)
        }
        let coldStart = LoadTimeStatistics.planningLoadTime(loadTime, spec: spec.autoscaling.coldStart)
        var state = memory ?? AutoscaleMemory(
            revision: stable.deployment, coldStartSeconds: coldStart, evaluationSeconds: settings.resyncInterval)
        if state.revision != stable.deployment {
            state = AutoscaleMemory(
                revision: stable.deployment, coldStartSeconds: coldStart, evaluationSeconds: settings.resyncInterval)
        }
        let time = now.timeIntervalSince1970
        let pods = fleet.flatMap(\.pods)
        let names = Set(pods.map(\.name))
        let samples = (snapshot.samples ?? []).filter { names.contains($0.pod) }
        if !samples.isEmpty { feed(&state.arrivals, &state.throughput, samples: samples, time: time) }
        let byPod = Dictionary(samples.map { ($0.pod, $0) }, uniquingKeysWith: { $1 })
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
        let current = fleet.reduce(0) { $0 + $1.desiredReplicas }
        if state.lastEvaluation == nil, state.memory.recommendations.isEmpty {
            // The first evaluation (the controller started, or the stable revision changed): the current size
            // counts as a recommendation, so nothing is scaled down before `scaleDownDelay` of evidence, whatever
            // the first, noisy rate estimate says (as the HPA seeds its stabilisation window).
            state.memory.recommendations.append(.init(time: time, replicas: current))
        }
        let input = AutoscalerInput(
            time: time, spec: spec.autoscaling, currentReplicas: current,
            replicas: replicas, arrivalRate: samples.isEmpty ? nil : state.arrivals.rate,
            arrivalTrend: state.arrivals.trend, measuredThroughput: state.throughput.throughput,
            coldStartSeconds: coldStart, memory: state.memory)
        let decision = Autoscaler.decide(input)
        state.memory = decision.memory
        state.lastEvaluation = now
        state.lastDecision = decision
        memory = state
        return (decision, true)
    }
}
