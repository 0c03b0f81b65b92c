import Foundation
import KubeCore

/// The rollout state machine as a pure function: observed state and the current time in, the new status, the
/// changes to make, events and the next evaluation time out (DESIGN §3).
///
/// Rules, in the order they are applied:
/// 1. An invalid spec patches nothing: `InvalidSpec=True` and a Warning event.
/// 2. The route is the truth for weights. When it is ahead of the status (a weight was written but the status
///    write was lost, e.g. a restart), the status adopts the route's step instead of writing it again.
/// 3. A new rollout scales the candidate to the replicas the next step needs: the step's share of current demand
///    over the per-replica capacity when both are known, else the share of the stable fleet, at least one. A
///    candidate whose endpoints are not model-gated (process-level readiness probe) is brought to full size first.
/// 4. Weight moves to a step only when the candidate's model-ready replicas carry the step's share.
/// 5. During a step's hold the candidate is analysed every `analysis.interval`; the next step needs a passing
///    analysis (inconclusive never passes); `failureLimit` failed analyses roll back.
/// 6. A candidate pod that fails to load, a readiness timeout, or a candidate that lost all model-ready pods while
///    carrying traffic rolls back: stable is scaled back to its size at the start, weight returns as stable
///    model-ready capacity allows (never onto a side with zero model-ready pods), then the candidate is removed
///    from the route and scaled to zero.
/// 7. At the last step the candidate is promoted: it becomes stable, the old revision keeps weight 0 and is scaled
///    to zero and removed from the route after `autoscaling.scaleDownDelay`.
/// 8. `spec.deployment` set back to the stable revision aborts like a rollback (without marking it failed).
/// 9. `paused` holds everything; `mode: Observe` computes the same decisions against the weights in the status and
///    marks the plan observe-only (the controller patches nothing but the status).
/// 10. A manual promotion (`status.promote`, written by `kubectl modelrollout promote`) is honoured only while the
///    rollout is `Progressing` at the step it names: `Step` ends the current hold (and its analysis) and moves to
///    the next step, `Full` goes to the last step and promotes. Capacity gating still applies, so the request stays
///    pending while the candidate's model-ready capacity cannot carry the target share; it is cleared (decision
///    `Promote`, rule `manual-promote-step`/`manual-promote-full`) when the weight moves. In any other state it is
///    cleared with a `promote-ignored` decision saying why.
public enum RolloutPlanner {
    /// Identifies the stable, candidate and retired revisions. A new ModelRollout adopts the route: if the desired
    /// revision's Service has weight (or the rule has no backends), it is stable; otherwise the backend with the
    /// largest weight is stable: its Deployment is `backendDeployments[name]` (an InferencePool's selected
    /// Deployment, resolved by the shell), else the Deployment named like the backend (the Service convention).
    public static func identify(
        spec: ModelRolloutSpec, status: ModelRolloutStatus, routeBackends: [String: Int],
        backendDeployments: [String: String] = [:]
    ) -> RolloutParties {
        var adopted = false
        let stable: RolloutParties.Revision
        if let name = status.stableDeployment, !name.isEmpty {
            stable = .init(deployment: name, service: status.stableService ?? spec.serviceName(forDeployment: name))
        } else {
            adopted = true
            let desiredService = spec.serviceName(forDeployment: spec.deployment)
            let heaviest = routeBackends.filter { $0.value > 0 }.sorted {
                $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key
            }.first
            if let heaviest, heaviest.key != desiredService, (routeBackends[desiredService] ?? 0) <= 0 {
                stable = .init(deployment: backendDeployments[heaviest.key] ?? heaviest.key, service: heaviest.key)
            } else {
                stable = .init(deployment: spec.deployment, service: desiredService)
            }
        }
        var candidate: RolloutParties.Revision?
        if let previous = status.candidateDeployment, !previous.isEmpty, previous != stable.deployment {
            candidate = .init(
                deployment: previous, service: status.candidateService ?? spec.serviceName(forDeployment: previous))
        } else if spec.deployment != stable.deployment {
            candidate = .init(deployment: spec.deployment, service: spec.serviceName(forDeployment: spec.deployment))
        }
        var retired: RolloutParties.Revision?
        if let name = status.retiredDeployment, !name.isEmpty, name != stable.deployment,
            name != candidate?.deployment
        {
            retired = .init(deployment: name, service: status.retiredService ?? name)
        }
        return RolloutParties(stable: stable, candidate: candidate, retired: retired, adopted: adopted)
    }

    /// Plans one reconcile.
    public static func plan(_ observation: RolloutObservation) -> RolloutPlan {
        var builder = PlanBuilder(observation)
        builder.run()
        return builder.finish()
    }
}

/// The mutable working state of one planning round.
struct PlanBuilder {
    let o: RolloutObservation
    var status: ModelRolloutStatus
    var actions: [RolloutAction] = []
    var events: [RolloutEvent] = []
    var decisions: [DecisionRecord] = []
    var requeue: Double?
    /// Current shares (percent) of the managed Services, updated as weight actions are planned.
    var shares: [String: Int]
    var observeOnly: Bool
    var progressing: (status: String, reason: String, message: String) = ("False", "NoRollout", "")
    /// Whether `status.promote` was acted on (applied, or kept pending for capacity) this round.
    var promoteHandled = false

    init(_ observation: RolloutObservation) {
        o = observation
        status = observation.status
        observeOnly = observation.spec.mode == .observe
        shares = [:]
    }

    var spec: ModelRolloutSpec { o.spec }
    var now: Date { o.now }

    mutating func run() {
        runRules()
        if let request = status.promote, !promoteHandled { ignorePromote(request) }
    }

    mutating func runRules() {
        status.observedGeneration = o.generation
        if !o.specProblems.isEmpty {
            invalidSpec(o.specProblems)
            return
        }
        setCondition(RolloutConditionType.invalidSpec, "False", "SpecValid", "the spec is valid")
        guard o.route.found else {
            observeOnly = true
            let message = "HTTPRoute \(spec.route.name) not found"
            warnOnce(reason: "RouteNotFound", message: "\(message); nothing is patched")
            status.message = message
            // Every condition that speaks of the traffic says the route is missing (none keeps a stale True).
            setCondition(RolloutConditionType.progressing, "False", "RouteNotFound", message)
            setCondition(
                RolloutConditionType.trafficShifted, "False", "RouteNotFound", "\(message): no weight is read or set")
            setCondition(
                RolloutConditionType.degraded, "True", "RouteNotFound",
                "\(message): the traffic's backends are unknown until it is back")
            requeue = 10
            return
        }
        guard let stable = o.stable else { return }
        initialiseShares(stable: stable)
        if status.stableDeployment == nil {
            status.stableDeployment = stable.deployment
            status.stableService = stable.service
            record(
                .adopt, rule: "adopt-route", inputs: ["routeWeights": describe(o.route.weights)],
                result: "stable=\(stable.deployment)",
                message: "adopted \(stable.deployment) as the stable revision from the route", event: true)
        }
        retireIfDue()
        if let candidate = o.candidate {
            if candidate.deployment != spec.deployment {
                abort(stable: stable, candidate: candidate)
            } else {
                rollout(stable: stable, candidate: candidate)
            }
        } else {
            steady(stable: stable)
        }
        summarise(stable: stable, candidate: status.candidateDeployment == nil ? nil : o.candidate)
    }

    // MARK: - Shares

    mutating func initialiseShares(stable: RevisionObservation) {
        if observeOnly, let weights = status.weights {
            shares[stable.service] = weights.stable
            if let candidate = o.candidate { shares[candidate.service] = weights.candidate }
        } else {
            for service in o.route.weights.keys { shares[service] = o.route.share(of: service) }
        }
    }

    func share(_ service: String) -> Int { shares[service] ?? 0 }

    mutating func setWeights(_ desired: [String: Int?]) {
        var changed = false
        for (service, weight) in desired {
            if let weight {
                if shares[service] != weight || o.route.weights[service] == nil { changed = true }
                shares[service] = weight
            } else if shares[service] != nil || o.route.weights[service] != nil {
                shares[service] = nil
                changed = true
            }
        }
        if changed { actions.append(.setWeights(desired)) }
    }

    mutating func scale(_ revision: RevisionObservation, to replicas: Int, rule: String, why: String) {
        guard revision.exists, revision.desiredReplicas != replicas else { return }
        actions.append(.scale(deployment: revision.deployment, replicas: replicas))
        record(
            .scale, rule: rule,
            inputs: [
                "deployment": revision.deployment, "from": String(revision.desiredReplicas),
                "modelReady": String(revision.modelReady), "loading": String(revision.loading),
            ], result: "replicas=\(replicas)", message: "scale \(revision.deployment) to \(replicas): \(why)",
            event: true)
    }

    // MARK: - Steady state

    mutating func steady(stable: RevisionObservation) {
        if status.failedDeployment != nil, spec.deployment == stable.deployment { status.failedDeployment = nil }
        if status.phase == nil || status.phase == .progressing || status.phase == .paused
            || status.phase == .rollingBack
        {
            status.phase = .steady
        }
        status.candidateDeployment = nil
        status.candidateService = nil
        clearRollout()
        switch status.phase {
        case .promoted?: progressing = ("False", "RolloutComplete", "\(stable.deployment) is stable")
        case .rolledBack?, .failed?: progressing = ("False", "RolledBack", "\(stable.deployment) serves all traffic")
        default: progressing = ("False", "NoRollout", "\(stable.deployment) serves all traffic")
        }
        status.message = "\(stable.deployment) serves all traffic"
        if status.phase == .failed || status.phase == .rolledBack, let why = status.failureMessage {
            status.message! += "; the last rollout was rolled back: \(why)"
        }
        autoscale(stable: stable)
        if share(stable.service) != 100 || o.route.weights[stable.service] == nil {
            if stable.modelReady > 0 {
                var desired: [String: Int?] = [stable.service: 100]
                for service in shares.keys where service != stable.service { desired[service] = 0 }
                setWeights(desired)
                record(
                    .weight, rule: "steady-all-on-stable",
                    inputs: ["routeWeights": describe(o.route.weights), "stableModelReady": "\(stable.modelReady)"],
                    result: "\(stable.service)=100", message: "route all traffic to the stable revision", event: true)
            }
        }
    }

    /// Applies the autoscaler's decision to the stable revision in steady state (during a rollout
    /// ``autoscaleRollout(stable:candidate:)`` splits it between the two revisions).
    mutating func autoscale(stable: RevisionObservation) {
        guard spec.autoscaling.enabled, stable.exists else {
            status.autoscaling = nil
            status.conditions.removeAll { $0.type == RolloutConditionType.autoscalingActive }
            return
        }
        guard let decision = o.autoscale else { return }
        status.autoscaling = AutoscalingStatus(
            desiredReplicas: decision.desiredReplicas, rule: decision.rule, message: decision.message, time: now)
        if let reason = decision.holdReason {
            setCondition(RolloutConditionType.autoscalingActive, "False", "MetricsMissing", reason)
        } else {
            setCondition(RolloutConditionType.autoscalingActive, "True", "Scaling", decision.message)
        }
        guard decision.desiredReplicas != stable.desiredReplicas else { return }
        actions.append(.scale(deployment: stable.deployment, replicas: decision.desiredReplicas))
        var inputs = decision.inputs
        inputs["deployment"] = stable.deployment
        inputs["from"] = String(stable.desiredReplicas)
        record(
            .scale, rule: "autoscale-" + decision.rule, inputs: inputs, result: "replicas=\(decision.desiredReplicas)",
            message: "scale \(stable.deployment) to \(decision.desiredReplicas): \(decision.message)", event: true)
    }

    // MARK: - Rollout

    mutating func rollout(stable: RevisionObservation, candidate: RevisionObservation) {
        if status.failedDeployment == candidate.deployment, status.phase != .rollingBack {
            if status.phase != .failed { status.phase = .rolledBack }
            status.candidateDeployment = nil
            status.candidateService = nil
            progressing = (
                "False", "RolledBack",
                "\(candidate.deployment) failed and was rolled back; set spec.deployment to another revision"
                    + (status.failureMessage.map { " (\($0))" } ?? "")
            )
            return
        }
        if status.candidateDeployment != candidate.deployment || status.rolloutStartedAt == nil {
            if status.candidateDeployment != candidate.deployment {
                status.failureReason = nil
                status.failureMessage = nil
            }
            status.candidateDeployment = candidate.deployment
            status.candidateService = candidate.service
            clearRollout()
            status.rolloutStartedAt = now
            status.stableReplicasAtStart = max(1, stable.desiredReplicas)
            status.phase = .progressing
            record(
                .hold, rule: "rollout-start",
                inputs: ["stable": stable.deployment, "candidate": candidate.deployment],
                result: "rollout started", message: "rolling out \(candidate.deployment) over \(stable.deployment)",
                event: true)
        }
        guard candidate.exists else {
            if status.phase == .rollingBack {
                rollBack(stable: stable, candidate: candidate, abort: false)
                return
            }
            if share(candidate.service) > 0 {
                startRollback(
                    stable: stable, candidate: candidate, rule: "candidate-deleted",
                    message: "Deployment \(candidate.deployment) was deleted while it carried "
                        + "\(share(candidate.service))% of the traffic")
                return
            }
            progressing = ("False", "DeploymentNotFound", "Deployment \(candidate.deployment) not found")
            warnOnce(reason: "DeploymentNotFound", message: "Deployment \(candidate.deployment) not found")
            status.message = "waiting for Deployment \(candidate.deployment)"
            requeue = 5
            return
        }
        if spec.paused {
            status.phase = .paused
            progressing = ("Unknown", "Paused", "spec.paused is true")
            status.message = "paused"
            return
        }
        if status.phase == .rollingBack {
            rollBack(stable: stable, candidate: candidate, abort: false)
            return
        }
        status.phase = .progressing
        if let reason = failure(candidate: candidate) {
            startRollback(stable: stable, candidate: candidate, rule: reason.rule, message: reason.message)
            return
        }
        alignStep(stable: stable, candidate: candidate)
        adoptRouteStep(candidate: candidate)
        defer { autoscaleRollout(stable: stable, candidate: candidate) }
        if let request = status.promote, case .success(let target) = evaluatePromotion(request) {
            manualPromote(request, to: target, stable: stable, candidate: candidate)
            return
        }
        guard let step = status.currentStep else {
            advance(to: 0, stable: stable, candidate: candidate)
            return
        }
        hold(step: step, stable: stable, candidate: candidate)
    }

    func failure(candidate: RevisionObservation) -> (rule: String, message: String)? {
        if candidate.failed > 0 {
            return ("model-load-failed", candidate.failureMessage ?? "a pod failed to load the model")
        }
        if share(candidate.service) > 0, candidate.modelReady == 0 {
            return ("candidate-lost-capacity", "\(candidate.deployment) carries traffic but has no model-ready pod")
        }
        // A pod without a node is not slow to load: the timeout waits until every candidate pod is scheduled.
        if let since = status.waitingSince, candidate.unschedulable == 0,
            now.timeIntervalSince(since) > spec.readinessTimeout.seconds
        {
            return (
                "readiness-timeout",
                "\(candidate.deployment) did not become model-ready within \(spec.readinessTimeout)"
            )
        }
        return nil
    }

    /// Keeps the current step meaningful when the spec or the route changed under it.
    ///
    /// - `spec.steps` changed during the rollout (a new generation whose steps no longer carry the current weight,
    ///   or fewer steps than the current index): the candidate's current weight is mapped onto the new steps — the
    ///   last step whose weight is at most the current weight, whose weight the route then takes (a decrease for
    ///   the candidate, which the whole stable fleet carries); none: before the first step, the weight stays until
    ///   the first step's capacity is there — and said in a `steps-changed` decision.
    /// - The route's weights were changed by someone else (a hand edit, a re-created route): the step's weights
    ///   are restored — when lowering the candidate, or when its model-ready pods carry the step — with a
    ///   `route-edited` decision and a Warning event. A route one step ahead is left to ``adoptRouteStep(candidate:)``
    ///   when it can be the controller's own write whose status write was lost: this process wrote nothing yet (a
    ///   restart) or wrote exactly what the route has.
    mutating func alignStep(stable: RevisionObservation, candidate: RevisionObservation) {
        guard let current = status.currentStep else { return }
        let steps = spec.steps
        let weight = share(candidate.service)
        let inRange = current >= 0 && current < steps.count
        let aheadByOne =
            current + 1 >= 0 && current + 1 < steps.count && steps[current + 1].weight == weight && routeIsOurs
        let specChanged = o.status.observedGeneration.map { $0 != o.generation } ?? false
        if !inRange || (specChanged && steps[current].weight != weight && !aheadByOne && !isRung(weight, after: current)) {
            let mapped = steps.lastIndex { $0.weight <= weight }
            let from = "step \(current + 1) (\(weight)% on \(candidate.deployment))"
            let to = mapped.map { "step \($0 + 1)/\(steps.count) (\(steps[$0].weight)%)" } ?? "before the first step"
            status.currentStep = mapped
            status.analysis = mapped.map { AnalysisStatus(step: $0) }
            status.stepStartedAt = mapped == nil ? nil : now
            if let mapped, steps[mapped].weight != weight, !observeOnly {
                // Down to the mapped step's weight: the stable fleet is whole during a rollout, so it carries it.
                setWeights([stable.service: 100 - steps[mapped].weight, candidate.service: steps[mapped].weight])
            }
            record(
                .hold, rule: "steps-changed",
                inputs: [
                    "previousStep": "\(current + 1)", "candidateWeight": "\(weight)",
                    "steps": steps.map { "\($0.weight)" }.joined(separator: ","),
                ], result: mapped.map { "step=\($0 + 1)" } ?? "step=none",
                message: "spec.steps changed during the rollout: \(from) continues as \(to)", event: true)
            return
        }
        let stepWeight = steps[current].weight
        guard weight != stepWeight, !aheadByOne, !observeOnly, !isRung(weight, after: current) else { return }
        let needed = neededReplicas(share: stepWeight, stable: stable, candidate: candidate)
        let routeText = describe(o.route.weights)
        guard stepWeight < weight || candidate.modelReady >= needed else {
            status.message = "the route was changed outside the controller (\(routeText)); step \(current + 1) "
                + "(\(stepWeight)%) is restored once \(candidate.deployment) has \(needed) model-ready replicas"
            return
        }
        setWeights([stable.service: 100 - stepWeight, candidate.service: stepWeight])
        record(
            .weight, rule: "route-edited",
            inputs: ["routeWeights": routeText, "step": "\(current + 1)/\(steps.count)", "stepWeight": "\(stepWeight)"],
            result: "\(stable.service)=\(100 - stepWeight) \(candidate.service)=\(stepWeight)",
            message: "the route's weights were changed outside the controller (\(routeText)); restored step "
                + "\(current + 1)/\(steps.count) (\(stepWeight)% on \(candidate.deployment))", event: true,
            warning: true)
    }

    /// Whether the route's managed weights can be this controller's own last write (unknown after a restart).
    var routeIsOurs: Bool { o.lastWrittenWeights.map { $0 == o.route.weights } ?? true }

    /// The route is ahead of the status (a weight write whose status write was lost): take the step from the route.
    mutating func adoptRouteStep(candidate: RevisionObservation) {
        let current = status.currentStep ?? -1
        let next = current + 1
        guard next < spec.steps.count else { return }
        let routeShare = share(candidate.service)
        let currentWeight = current >= 0 && current < spec.steps.count ? spec.steps[current].weight : 0
        guard routeShare == spec.steps[next].weight, routeShare != currentWeight, routeIsOurs else { return }
        status.currentStep = next
        status.stepStartedAt = now
        status.analysis = AnalysisStatus(step: next)
        status.waitingSince = nil
        record(
            .adopt, rule: "route-ahead-of-status", inputs: ["candidateWeight": "\(routeShare)"],
            result: "step=\(next + 1)", message: "the route already carries step \(next + 1); resuming from there",
            event: false)
    }

    /// During a rollout the autoscaler's fleet-wide recommendation (demand forecast at now + the learned cold
    /// start, plus the backlog; both revisions' pods counted, loading ones as arriving capacity) is compared with
    /// the replicas both revisions have: when the fleet falls short (a surge in the middle of a rollout), the
    /// shortfall is added where the route weights need it — first to the side whose share of the recommendation
    /// exceeds its replicas, the stable side first (it carries most of the traffic until the last step). A
    /// candidate pre-scaled for its next step counts as fleet capacity, so steady demand never adds replicas.
    /// Neither side is scaled down here: the stable fleet is the rollback capacity and the candidate grows step by
    /// step; promotion and the steady-state autoscaler shrink afterwards. A side this round already scales (a step,
    /// a rollback) is left to that decision.
    mutating func autoscaleRollout(stable: RevisionObservation, candidate: RevisionObservation) {
        guard spec.autoscaling.enabled, status.phase == .progressing,
            status.candidateDeployment == candidate.deployment, let decision = o.autoscale
        else { return }
        status.autoscaling = AutoscalingStatus(
            desiredReplicas: decision.recommendedReplicas ?? decision.desiredReplicas, rule: "rollout-" + decision.rule,
            message: decision.message, time: now)
        if let reason = decision.holdReason {
            setCondition(RolloutConditionType.autoscalingActive, "False", "MetricsMissing", reason)
            return
        }
        setCondition(RolloutConditionType.autoscalingActive, "True", "Scaling", decision.message)
        guard let total = decision.recommendedReplicas, total > 0 else { return }
        func planned(_ revision: RevisionObservation) -> Int {
            for action in actions {
                if case .scale(let deployment, let replicas) = action, deployment == revision.deployment {
                    return replicas
                }
            }
            return revision.desiredReplicas
        }
        var shortfall = total - planned(stable) - planned(candidate)
        guard shortfall > 0 else { return }
        let candidateShare = min(100, max(0, share(candidate.service)))
        let upper = max(1, spec.autoscaling.maxReplicas)
        func need(_ percent: Int) -> Int {
            percent <= 0 ? 0 : min(upper, Int((Double(total) * Double(percent) / 100 - 1e-9).rounded(.up)))
        }
        for (revision, percent) in [(stable, 100 - candidateShare), (candidate, candidateShare)] {
            guard shortfall > 0, revision.exists, planned(revision) == revision.desiredReplicas else { continue }
            let added = min(shortfall, need(percent) - revision.desiredReplicas)
            guard added > 0 else { continue }
            let target = revision.desiredReplicas + added
            shortfall -= added
            actions.append(.scale(deployment: revision.deployment, replicas: target))
            var inputs = decision.inputs
            inputs["deployment"] = revision.deployment
            inputs["from"] = String(revision.desiredReplicas)
            inputs["fleetRecommendation"] = String(total)
            inputs["share"] = "\(percent)%"
            record(
                .scale, rule: "autoscale-rollout-share", inputs: inputs, result: "replicas=\(target)",
                message: "scale \(revision.deployment) to \(target): the fleet needs \(total) replicas and it carries "
                    + "\(percent) % of the traffic (\(decision.message))",
                event: true)
        }
    }

    /// Replicas the candidate needs to carry `share` percent of current demand (and, with autoscaling, of the
    /// autoscaler's forecast for the fleet).
    func neededReplicas(share: Int, stable: RevisionObservation, candidate: RevisionObservation) -> Int {
        let fraction = Double(share) / 100
        let demand = (stable.requestRate ?? 0) + (candidate.requestRate ?? 0)
        var needed: Int
        if let capacity = o.replicaCapacity, capacity > 0, stable.requestRate != nil, demand > 0 {
            needed = Int((fraction * demand / capacity).rounded(.up))
        } else {
            let fleet = Double(status.stableReplicasAtStart ?? max(1, stable.desiredReplicas))
            needed = Int((fraction * fleet - 1e-9).rounded(.up))
        }
        if spec.autoscaling.enabled, let total = o.autoscale?.recommendedReplicas {
            // The autoscaler's forecast (at now + cold start) for the whole fleet: the step's share of it.
            needed = max(needed, Int((fraction * Double(total) - 1e-9).rounded(.up)))
        }
        return min(max(1, needed), max(1, spec.autoscaling.maxReplicas))
    }

    mutating func advance(to index: Int, stable: RevisionObservation, candidate: RevisionObservation) {
        let weight = spec.steps[index].weight
        if ladderOn(candidate) {
            ladderAdvance(to: index, stable: stable, candidate: candidate)
            return
        }
        let forShare = neededReplicas(share: weight, stable: stable, candidate: candidate)
        let full = neededReplicas(share: 100, stable: stable, candidate: candidate)
        let target = candidate.modelGatedEndpoints ? forShare : max(full, forShare)
        if candidate.desiredReplicas < target {
            scale(
                candidate, to: target, rule: candidate.modelGatedEndpoints ? "step-capacity" : "full-before-traffic",
                why: candidate.modelGatedEndpoints
                    ? "step \(index + 1) (\(weight)%) needs \(target) model-ready replicas"
                    : "its readiness probe does not prove the model is loaded, so it gets all \(target) replicas "
                        + "before any traffic")
            status.waitingSince = now
        } else if status.waitingSince == nil, candidate.modelReady < target {
            status.waitingSince = now
        }
        if candidate.unschedulable > 0 {
            // The readiness timeout counts from when the pods could be scheduled: a pod without a node is not
            // slow to load, the cluster lacks GPUs (the scheduler says which).
            status.waitingSince = now
        }
        let ready =
            candidate.modelReady >= forShare
            && (candidate.modelGatedEndpoints || (candidate.loading == 0 && candidate.modelReady >= target))
        guard ready else {
            progressing = (
                "True", "WaitingForCapacity",
                "step \(index + 1): \(candidate.modelReady)/\(target) candidate replicas model-ready"
            )
            status.message = "waiting for \(candidate.deployment): \(candidate.modelReady)/\(target) model-ready"
            reportShortage(
                step: index, candidate: candidate, then: "the readiness timeout waits until they are scheduled")
            waitForCapacity(step: index, candidate: candidate, needed: target)
            return
        }
        applyStep(index, needed: forShare, stable: stable, candidate: candidate)
    }

    /// Candidate pods the scheduler cannot place: the `InsufficientCapacity` reason with the scheduler's message,
    /// appended to the status message with what happens `then`, and one Warning event when it starts.
    mutating func reportShortage(step index: Int, candidate: RevisionObservation, then: String) {
        guard candidate.unschedulable > 0 else { return }
        let why = candidate.unschedulableMessage ?? "the scheduler found no node for it"
        let pods = candidate.unschedulable == 1 ? "1 pod" : "\(candidate.unschedulable) pods"
        let shortage = "\(pods) of \(candidate.deployment) cannot be scheduled (\(why))"
        progressing = ("True", "InsufficientCapacity", "step \(index + 1): \(shortage)")
        status.message = (status.message ?? "") + "; \(shortage); \(then)"
        if status.condition(RolloutConditionType.progressing)?.reason != "InsufficientCapacity" {
            events.append(RolloutEvent(warning: true, reason: "InsufficientCapacity", message: shortage))
        }
    }

    /// Moves the weight to step `index` (its capacity is there) and starts the step's hold.
    mutating func applyStep(
        _ index: Int, needed: Int, stable: RevisionObservation, candidate: RevisionObservation
    ) {
        let weight = spec.steps[index].weight
        let stableShare = 100 - weight
        if share(candidate.service) != weight || share(stable.service) != stableShare {
            setWeights([stable.service: stableShare, candidate.service: weight])
        }
        status.currentStep = index
        status.stepStartedAt = now
        status.analysis = AnalysisStatus(step: index)
        status.waitingSince = nil
        record(
            .weight, rule: "capacity-ready",
            inputs: [
                "step": "\(index + 1)/\(spec.steps.count)", "candidateModelReady": "\(candidate.modelReady)",
                "needed": "\(needed)", "stableModelReady": "\(stable.modelReady)",
            ], result: "\(stable.service)=\(stableShare) \(candidate.service)=\(weight)",
            message: "step \(index + 1): \(weight)% to \(candidate.deployment) (model-ready capacity carries it)",
            event: true)
        progressing = ("True", "StepApplied", "step \(index + 1)/\(spec.steps.count): \(weight)% on candidate")
        status.message = "step \(index + 1)/\(spec.steps.count): \(weight)% on \(candidate.deployment)"
        requeue = 0.5
    }

    /// ``advance(to:stable:candidate:)`` for a rollout with a GPU budget: one round of the ladder toward the step,
    /// which applies once the weight reaches the step's.
    mutating func ladderAdvance(to index: Int, stable: RevisionObservation, candidate: RevisionObservation) {
        let weight = spec.steps[index].weight
        let round = ladderRound(toward: weight, stable: stable, candidate: candidate, moveWeight: true)
        if round.weight >= weight {
            applyStep(
                index, needed: sizing.pods(share: weight, utilization: targetUtilization), stable: stable,
                candidate: candidate)
            return
        }
        if candidate.unschedulable > 0 || candidate.loading == 0 {
            // The readiness timeout counts while candidate pods load, not while they wait for a GPU or for demand.
            status.waitingSince = now
        } else if status.waitingSince == nil {
            status.waitingSince = now
        }
        let here = share(candidate.service)
        let wanted = sizing.pods(share: weight, utilization: targetUtilization)
        progressing = (
            "True", "WaitingForCapacity",
            "step \(index + 1) (\(weight)%): \(candidate.modelReady)/\(wanted) candidate replicas model-ready, "
                + "\(here)% on the candidate"
        )
        status.message = "toward step \(index + 1)/\(spec.steps.count) (\(weight)%): \(here)% on "
            + "\(candidate.deployment), \(candidate.modelReady)/\(wanted) model-ready, \(candidate.loading) loading; "
            + "\(stable.deployment) \(stable.modelReady) model-ready"
        reportShortage(step: index, candidate: candidate, then: "stable pods make room as demand allows")
        if let blocked = round.blocked {
            if candidate.unschedulable == 0 { progressing = ("True", "WaitingForDemand", "step \(index + 1): \(blocked)") }
            status.message! += "; \(blocked)"
            record(
                .hold, rule: "ladder-blocked", inputs: ladderInputs(sizing, stable: stable, candidate: candidate),
                result: "hold", message: blocked, event: false)
            requeue = 5
            return
        }
        waitForCapacity(step: index, candidate: candidate, needed: wanted)
    }

    /// Holds before step `index` until the candidate has `needed` model-ready pods (looked at again in 0.5 s).
    mutating func waitForCapacity(step index: Int, candidate: RevisionObservation, needed: Int) {
        record(
            .hold, rule: "waiting-for-capacity",
            inputs: [
                "modelReady": "\(candidate.modelReady)", "loading": "\(candidate.loading)", "needed": "\(needed)",
            ], result: "hold", message: "waiting for candidate model-ready capacity before step \(index + 1)",
            event: false)
        requeue = 0.5
    }

    mutating func hold(step: Int, stable: RevisionObservation, candidate: RevisionObservation) {
        guard step >= 0, step < spec.steps.count else { return }  // alignStep keeps it in range
        let holdSeconds = spec.steps[step].hold?.seconds ?? 0
        let started = status.stepStartedAt ?? now
        let elapsed = now.timeIntervalSince(started)
        let last = step == spec.steps.count - 1
        var analysis = status.analysis ?? AnalysisStatus(step: step)
        if analysis.step != step { analysis = AnalysisStatus(step: step) }
        progressing = ("True", "Holding", "step \(step + 1)/\(spec.steps.count): holding")
        status.message = "step \(step + 1)/\(spec.steps.count): \(spec.steps[step].weight)% on \(candidate.deployment)"
        if holdSeconds > 0 {
            // Once the hold is over with a passing analysis the next step is decided: the verdict stands while the
            // next step's capacity comes up (the next step's hold analyses the candidate at its weight).
            let decided = elapsed >= holdSeconds && analysis.lastVerdict == .pass
            let due = !decided
                && (analysis.lastTime.map { now.timeIntervalSince($0) >= spec.analysis.interval.seconds } ?? true)
            if due, let outcome = o.analysis {
                analysis.lastTime = now
                analysis.lastVerdict = outcome.verdict
                analysis.message = outcome.reasons.joined(separator: "; ")
                if outcome.verdict == .fail {
                    analysis.failures += 1
                    status.analysis = analysis
                    record(
                        .hold, rule: "analysis-failed", inputs: outcome.inputs,
                        result: "failures=\(analysis.failures)/\(spec.analysis.failureLimit)",
                        message: "analysis failed: \(analysis.message ?? "")", event: true, warning: true)
                    if analysis.failures >= spec.analysis.failureLimit {
                        startRollback(
                            stable: stable, candidate: candidate, rule: "analysis-failed",
                            message: "analysis failed \(analysis.failures) times: \(analysis.message ?? "")")
                        return
                    }
                }
            }
            status.analysis = analysis
            if elapsed < holdSeconds {
                requeue = min(max(0.2, holdSeconds - elapsed), spec.analysis.interval.seconds)
                prescaleDuringHold(step: step, stable: stable, candidate: candidate)
                return
            }
            guard analysis.lastVerdict == .pass else {
                prescaleDuringHold(step: step, stable: stable, candidate: candidate)
                let verdict = analysis.lastVerdict?.rawValue ?? "not run"
                progressing = ("True", "AwaitingAnalysis", "step \(step + 1): analysis \(verdict)")
                record(
                    .hold, rule: "analysis-not-passed", inputs: ["verdict": verdict],
                    result: "hold", message: "holding step \(step + 1) until the analysis passes (\(verdict))",
                    event: false)
                requeue = min(spec.analysis.interval.seconds, 5)
                return
            }
        } else {
            status.analysis = analysis
        }
        if last {
            promote(stable: stable, candidate: candidate)
        } else {
            advance(to: step + 1, stable: stable, candidate: candidate)
        }
    }

    /// During a step's hold the ladder scales the stable side to its share and brings up, within the budget, the
    /// candidate pods the next step needs (nothing is retired to make room and no weight moves).
    mutating func prescaleDuringHold(step: Int, stable: RevisionObservation, candidate: RevisionObservation) {
        guard ladderOn(candidate), step + 1 < spec.steps.count, !isRung(share(candidate.service), after: step) else {
            return
        }
        _ = ladderRound(toward: spec.steps[step + 1].weight, stable: stable, candidate: candidate, moveWeight: false)
    }

    // MARK: - Manual promotion

    /// Acts on a matching promotion request: moves to the next (or last) step as soon as model-ready capacity
    /// carries it, skipping the current hold and its analysis. The request stays pending while capacity is missing.
    mutating func manualPromote(
        _ request: PromoteRequest, to destination: ManualPromotion.Target, stable: RevisionObservation,
        candidate: RevisionObservation
    ) {
        promoteHandled = true
        let from = status.currentStep
        let fromText = from.map { "at step \($0 + 1)/\(spec.steps.count)" } ?? "before the first step"
        var inputs = [
            "mode": request.mode.rawValue, "step": from.map { "\($0 + 1)/\(spec.steps.count)" } ?? "none",
            "candidateModelReady": "\(candidate.modelReady)", "candidateWeight": "\(share(candidate.service))",
        ]
        if let at = request.requestedAt { inputs["requestedAt"] = KubeTime.format(at) }
        if let from, let hold = spec.steps[from].hold, let started = status.stepStartedAt {
            inputs["holdRemaining"] = "\(KubeDuration(seconds: hold.seconds - now.timeIntervalSince(started)))"
        }
        let rule = request.mode == .full ? "manual-promote-full" : "manual-promote-step"
        guard case .step(let target) = destination else {
            status.promote = nil
            record(
                .promote, rule: rule, inputs: inputs, result: "promote",
                message: "manual promotion (\(request.mode.rawValue)) \(fromText): promoting \(candidate.deployment)",
                event: true)
            promote(stable: stable, candidate: candidate, rule: rule)
            return
        }
        advance(to: target, stable: stable, candidate: candidate)
        guard status.currentStep == target else {
            status.message = (status.message ?? "") + " (manual promotion pending)"
            return
        }
        status.promote = nil
        record(
            .promote, rule: rule, inputs: inputs, result: "step=\(target + 1)",
            message: "manual promotion (\(request.mode.rawValue)) \(fromText): moved to step \(target + 1)/"
                + "\(spec.steps.count) (\(spec.steps[target].weight)%) without waiting for the hold", event: true)
        if request.mode == .full, spec.steps[target].weight >= 100 {
            promote(stable: stable, candidate: candidate, rule: rule)
        }
    }

    /// ``ManualPromotion/evaluate(mode:requestedStep:status:paused:stepCount:)`` for this round's status.
    func evaluatePromotion(_ request: PromoteRequest) -> Result<ManualPromotion.Target, ManualPromotion.Refusal> {
        ManualPromotion.evaluate(
            mode: request.mode, requestedStep: request.step, status: status, paused: spec.paused,
            stepCount: spec.steps.count)
    }

    /// Clears a promotion request the rollout cannot honour, recording why.
    mutating func ignorePromote(_ request: PromoteRequest) {
        status.promote = nil
        let why: String
        if o.candidate == nil {
            why = ManualPromotion.Refusal.notInProgress(phase: status.phase).description
        } else if case .failure(let refusal) = evaluatePromotion(request) {
            why = refusal.description
        } else {
            why = "the round could not act on it (\(status.message ?? "no capacity yet"))"
        }
        var inputs = ["mode": request.mode.rawValue, "requestedStep": request.step.map { "\($0 + 1)" } ?? "none"]
        if let at = request.requestedAt { inputs["requestedAt"] = KubeTime.format(at) }
        record(
            .promote, rule: "promote-ignored", inputs: inputs, result: "ignored",
            message: "manual promotion (\(request.mode.rawValue)) ignored: \(why)", event: true, warning: true)
    }

    mutating func promote(
        stable: RevisionObservation, candidate: RevisionObservation, rule: String = "last-step-passed"
    ) {
        setWeights([candidate.service: 100, stable.service: 0])
        status.retiredDeployment = stable.deployment
        status.retiredService = stable.service
        status.retireAt = now.addingTimeInterval(spec.autoscaling.scaleDownDelay.seconds)
        status.stableDeployment = candidate.deployment
        status.stableService = candidate.service
        status.candidateDeployment = nil
        status.candidateService = nil
        status.failedDeployment = nil
        clearRollout()
        status.phase = .promoted
        if ladderOn(candidate) {
            // Under a GPU budget the new stable revision may still lack pods the old one's GPUs are for: it gets
            // its full size, and the old revision (weight 0) goes at once instead of after scaleDownDelay.
            let full = min(max(1, spec.autoscaling.maxReplicas), sizing.pods(share: 100, utilization: targetUtilization))
            if candidate.desiredReplicas < full {
                scale(candidate, to: full, rule: "ladder-promote", why: "it now carries all traffic")
            }
            if candidate.modelReady < full || candidate.unschedulable > 0 {
                status.retireAt = now
            }
        }
        status.message = "\(candidate.deployment) promoted; \(stable.deployment) scales to zero at "
            + KubeTime.format(status.retireAt ?? now)
        progressing = ("False", "RolloutComplete", "\(candidate.deployment) is stable")
        record(
            .promote, rule: rule,
            inputs: ["candidateModelReady": "\(candidate.modelReady)", "previous": stable.deployment],
            result: "stable=\(candidate.deployment)",
            message: "promoted \(candidate.deployment); \(stable.deployment) kept at weight 0 for "
                + "\(spec.autoscaling.scaleDownDelay)", event: true)
        requeue = spec.autoscaling.scaleDownDelay.seconds
    }

    // MARK: - Rollback and abort

    mutating func startRollback(
        stable: RevisionObservation, candidate: RevisionObservation, rule: String, message: String
    ) {
        status.phase = .rollingBack
        status.failedDeployment = candidate.deployment
        status.failureReason = Self.failureReasons[rule] ?? "RolledBack"
        status.failureMessage = Self.bounded(message)
        status.message = message
        record(
            .rollback, rule: rule,
            inputs: [
                "candidateModelReady": "\(candidate.modelReady)", "candidateFailed": "\(candidate.failed)",
                "candidateWeight": "\(share(candidate.service))",
            ], result: "rolling back", message: "rolling back \(candidate.deployment): \(message)", event: true,
            warning: true)
        rollBack(stable: stable, candidate: candidate, abort: false)
    }

    /// The `status.failureReason` of each rollback rule.
    static let failureReasons = [
        "model-load-failed": "ModelLoadFailed", "analysis-failed": "AnalysisFailed",
        "readiness-timeout": "ReadinessTimeout", "candidate-lost-capacity": "CandidateLostCapacity",
    ]

    /// At most 1,024 characters (status stays small; the judge already caps a log line at 300).
    static func bounded(_ text: String) -> String {
        text.count > 1024 ? String(text.prefix(1023)) + "…" : text
    }

    mutating func abort(stable: RevisionObservation, candidate: RevisionObservation) {
        if status.phase != .rollingBack {
            record(
                .abort, rule: "spec-deployment-changed",
                inputs: ["specDeployment": spec.deployment, "candidate": candidate.deployment],
                result: "aborting", message: "spec.deployment no longer names \(candidate.deployment); moving traffic back",
                event: true)
            status.phase = .rollingBack
        }
        rollBack(stable: stable, candidate: candidate, abort: true)
    }

    mutating func rollBack(stable: RevisionObservation, candidate: RevisionObservation, abort: Bool) {
        progressing = ("True", abort ? "Aborting" : "RollingBack", "moving traffic back to \(stable.deployment)")
        let target = max(1, status.stableReplicasAtStart ?? stable.desiredReplicas)
        if stable.desiredReplicas < target {
            scale(stable, to: target, rule: "rollback-prescale-stable", why: "restore the stable fleet before traffic returns")
        }
        let candidateShare = share(candidate.service)
        let ladder = ladderOn(candidate)
        if ladder, candidateShare > 0, candidate.exists {
            // Under a GPU budget the stable pods come back only as the candidate frees GPUs: the candidate keeps
            // what its remaining share needs (at maxUtilization) and gives back the rest.
            let keep = sizing.pods(
                share: candidateShare, utilization: max(targetUtilization, spec.strategy.maxUtilization),
                forecast: false)
            if keep < candidate.desiredReplicas, candidate.modelReady > 0 {
                scale(
                    candidate, to: keep, rule: "rollback-ladder-candidate",
                    why: "its \(candidateShare)% of the traffic needs \(keep) pods; the others' GPUs go to "
                        + "\(stable.deployment) as it comes back")
            }
        }
        if candidateShare > 0 {
            var stableShare: Int
            if candidate.modelReady == 0 || stable.modelReady >= target {
                stableShare = 100
            } else if ladder {
                let carried = sizing.share(
                    carriedBy: stable.modelReady, utilization: max(targetUtilization, spec.strategy.maxUtilization))
                stableShare = max(share(stable.service), carried)
            } else {
                let carried = Int((100 * Double(stable.modelReady) / Double(target)).rounded(.down))
                stableShare = max(share(stable.service), min(100, carried))
            }
            if stable.modelReady == 0 {
                stableShare = candidate.modelReady == 0 ? share(stable.service) : 0
            }
            if stableShare != share(stable.service) {
                setWeights([stable.service: stableShare, candidate.service: 100 - stableShare])
                record(
                    .weight, rule: "rollback-stable-capacity",
                    inputs: [
                        "stableModelReady": "\(stable.modelReady)", "stableNeeded": "\(target)",
                        "candidateModelReady": "\(candidate.modelReady)",
                    ], result: "\(stable.service)=\(stableShare) \(candidate.service)=\(100 - stableShare)",
                    message: "moving traffic back to \(stable.deployment) as its capacity allows", event: true,
                    warning: !abort)
            }
        }
        guard share(candidate.service) == 0 else {
            requeue = 0.5
            return
        }
        setWeights([candidate.service: nil, stable.service: 100])
        scale(candidate, to: 0, rule: abort ? "abort-complete" : "rollback-complete", why: "it no longer carries traffic")
        let failed = status.failedDeployment
        status.candidateDeployment = nil
        status.candidateService = nil
        clearRollout()
        if abort {
            status.phase = .steady
            status.failedDeployment = nil
            requeue = 0.2
            status.message = "aborted; \(stable.deployment) serves all traffic"
            progressing = ("False", "Aborted", "rollout of \(candidate.deployment) aborted")
            record(
                .abort, rule: "abort-complete", result: "stable=\(stable.deployment)",
                message: "rollout of \(candidate.deployment) aborted; \(stable.deployment) serves all traffic",
                event: true)
        } else {
            let loadFailed = status.failureReason == "ModelLoadFailed"
            status.phase = loadFailed ? .failed : .rolledBack
            status.failedDeployment = failed ?? candidate.deployment
            let why = status.failureMessage.map { " (\(loadFailed ? "it failed to load the model: " : "")\($0))" } ?? ""
            status.message = "rolled back \(candidate.deployment)\(why); \(stable.deployment) serves all traffic"
            progressing = ("False", "RolledBack", "rollout of \(candidate.deployment) rolled back\(why)")
            record(
                .rollback, rule: "rollback-complete",
                inputs: ["failureReason": status.failureReason ?? "", "phase": status.phase?.rawValue ?? ""],
                result: "stable=\(stable.deployment)", message: status.message ?? "", event: true, warning: true)
        }
    }

    mutating func clearRollout() {
        status.currentStep = nil
        status.stepStartedAt = nil
        status.rolloutStartedAt = nil
        status.waitingSince = nil
        status.analysis = nil
    }

    // MARK: - Retirement

    mutating func retireIfDue() {
        guard let retired = o.retired else {
            if status.retiredDeployment != nil, o.retired == nil, status.retiredDeployment == spec.deployment {
                status.retiredDeployment = nil
                status.retiredService = nil
                status.retireAt = nil
            }
            return
        }
        guard let at = status.retireAt, now >= at else {
            if let at = status.retireAt { requeue = min(requeue ?? .infinity, max(0.2, at.timeIntervalSince(now))) }
            return
        }
        if share(retired.service) > 0 { return }
        if o.route.weights[retired.service] != nil || shares[retired.service] != nil {
            setWeights([retired.service: nil])
        }
        scale(retired, to: 0, rule: "retire-after-delay", why: "scaleDownDelay passed after promotion")
        status.retiredDeployment = nil
        status.retiredService = nil
        status.retireAt = nil
    }

    // MARK: - Invalid spec

    mutating func invalidSpec(_ problems: [String]) {
        observeOnly = true
        let message = problems.joined(separator: "; ")
        let previous = status.condition(RolloutConditionType.invalidSpec)
        if previous?.status != "True" || previous?.message != message {
            events.append(RolloutEvent(warning: true, reason: "InvalidSpec", message: message))
        }
        setCondition(RolloutConditionType.invalidSpec, "True", "InvalidSpec", message)
        status.message = "invalid spec: \(message)"
    }

    // MARK: - Summary

    mutating func summarise(stable: RevisionObservation, candidate: RevisionObservation?) {
        let stableShare = share(stable.service)
        let candidateShare = candidate.map { share($0.service) } ?? 0
        status.weights = RevisionWeights(stable: stableShare, candidate: candidateShare)
        let stableReplicas = RevisionReplicas(
            desired: desired(stable), modelReady: stable.modelReady, loading: stable.loading)
        let candidateReplicas = candidate.map {
            RevisionReplicas(desired: desired($0), modelReady: $0.modelReady, loading: $0.loading)
        }
        status.replicas = ReplicaStatus(stable: stableReplicas, candidate: candidateReplicas)
        let ready = stable.modelReady + (candidate?.modelReady ?? 0)
        let wanted = stableReplicas.desired + (candidateReplicas?.desired ?? 0)
        status.ready = "\(ready)/\(wanted)"

        if let candidate {
            if candidate.failed > 0 {
                setCondition(
                    RolloutConditionType.modelReady, "False", "ModelLoadFailed",
                    candidate.failureMessage ?? "a candidate pod failed to load the model")
            } else if candidate.modelReady > 0, candidate.loading == 0 {
                setCondition(
                    RolloutConditionType.modelReady, "True", "CandidateModelReady",
                    "\(candidate.modelReady) candidate pods serve \(spec.model)")
            } else {
                setCondition(
                    RolloutConditionType.modelReady, "False", "CandidateLoading",
                    "\(candidate.modelReady) model-ready, \(candidate.loading) loading")
            }
            if let step = status.currentStep {
                setCondition(
                    RolloutConditionType.trafficShifted, "True", "StepApplied",
                    "step \(step + 1)/\(spec.steps.count): \(candidateShare)% on \(candidate.deployment)")
            } else {
                setCondition(
                    RolloutConditionType.trafficShifted, "False", "WaitingForCapacity",
                    "no traffic on \(candidate.deployment) yet")
            }
        } else {
            if status.failedDeployment != nil {
                setCondition(
                    RolloutConditionType.modelReady, "False", "ModelLoadFailed",
                    "rolled back \(status.failedDeployment ?? ""): \(status.message ?? "")")
            } else if stable.modelReady > 0 {
                setCondition(
                    RolloutConditionType.modelReady, "True", "StableModelReady",
                    "\(stable.modelReady) pods serve \(spec.model)")
            } else {
                setCondition(
                    RolloutConditionType.modelReady, "False", "NoModelReadyPods",
                    "no pod of \(stable.deployment) serves \(spec.model)")
            }
            setCondition(
                RolloutConditionType.trafficShifted, "True", "AllOnStable", "\(stable.deployment) carries all traffic")
        }
        setCondition(RolloutConditionType.progressing, progressing.status, progressing.reason, progressing.message)
        switch status.analysis?.lastVerdict {
        case .pass?:
            setCondition(RolloutConditionType.analysisPassing, "True", "Passed", status.analysis?.message ?? "")
        case .fail?:
            setCondition(RolloutConditionType.analysisPassing, "False", "Failed", status.analysis?.message ?? "")
        case .inconclusive?:
            setCondition(
                RolloutConditionType.analysisPassing, "Unknown", "Inconclusive", status.analysis?.message ?? "")
        case nil:
            setCondition(RolloutConditionType.analysisPassing, "Unknown", "NotRun", "no analysis in this step")
        }
        var empty: [String] = []
        if stableShare > 0, stable.modelReady == 0 { empty.append(stable.deployment) }
        if let candidate, candidateShare > 0, candidate.modelReady == 0 { empty.append(candidate.deployment) }
        if empty.isEmpty {
            setCondition(RolloutConditionType.degraded, "False", "Serving", "every weighted backend has model-ready pods")
        } else {
            setCondition(
                RolloutConditionType.degraded, "True", "NoModelReadyPods",
                "weighted backends without a model-ready pod: \(empty.joined(separator: ", "))")
        }
    }

    /// Desired replicas after the planned scale actions.
    func desired(_ revision: RevisionObservation) -> Int {
        for action in actions.reversed() {
            if case .scale(let deployment, let replicas) = action, deployment == revision.deployment { return replicas }
        }
        return revision.desiredReplicas
    }

    // MARK: - Records, events, conditions

    mutating func record(
        _ kind: DecisionKind, rule: String, inputs: [String: String] = [:], result: String, message: String,
        event: Bool, warning: Bool = false
    ) {
        let resultText = observeOnly && kind != .hold && kind != .adopt ? "observe: would \(result)" : result
        if let last = status.decisions.last, last.kind == kind, last.rule == rule, last.result == resultText,
            kind == .hold
        {
            return
        }
        let decision = DecisionRecord(
            time: now, kind: kind, rule: rule, inputs: inputs, result: resultText, message: message)
        decisions.append(decision)
        status.decisions.append(decision)
        if status.decisions.count > ModelRolloutStatus.decisionLimit {
            status.decisions.removeFirst(status.decisions.count - ModelRolloutStatus.decisionLimit)
        }
        if event {
            let reason: String
            switch kind {
            case .scale: reason = "Scaled"
            case .weight: reason = rule == "route-edited" ? "RouteEdited" : "WeightsChanged"
            case .rollback:
                if rule == "rollback-complete" {
                    reason = status.phase == .failed ? "RolloutFailed" : "RolledBack"
                } else {
                    reason = "RollingBack"
                }
            case .promote:
                switch rule {
                case "promote-ignored": reason = "PromoteIgnored"
                case "last-step-passed": reason = "Promoted"
                default: reason = result == "stable=\(status.stableDeployment ?? "")" ? "Promoted" : "ManualPromotion"
                }
            case .abort: reason = "Aborted"
            case .adopt: reason = "Adopted"
            case .hold:
                switch rule {
                case "analysis-failed": reason = "AnalysisFailed"
                case "steps-changed": reason = "StepsChanged"
                default: reason = "RolloutStarted"
                }
            }
            events.append(
                RolloutEvent(
                    warning: warning, reason: reason, message: observeOnly ? "observe: \(message)" : message))
        }
    }

    mutating func warnOnce(reason: String, message: String) {
        if status.message != message {
            events.append(RolloutEvent(warning: true, reason: reason, message: message))
        }
    }

    mutating func setCondition(_ type: String, _ value: String, _ reason: String, _ message: String) {
        var condition = Condition(
            type: type, status: value, observedGeneration: o.generation, lastTransitionTime: now, reason: reason,
            message: message)
        if let index = status.conditions.firstIndex(where: { $0.type == type }) {
            if status.conditions[index].status == value {
                condition.lastTransitionTime = status.conditions[index].lastTransitionTime ?? now
            }
            status.conditions[index] = condition
        } else {
            status.conditions.append(condition)
        }
    }

    func describe(_ weights: [String: Int]) -> String {
        weights.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    func finish() -> RolloutPlan {
        RolloutPlan(
            status: status, actions: actions, events: events, decisions: decisions,
            requeueAfter: requeue.flatMap { $0.isFinite ? $0 : nil }, observeOnly: observeOnly)
    }
}
