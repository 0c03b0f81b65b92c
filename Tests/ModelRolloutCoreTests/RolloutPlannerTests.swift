import Foundation
import KubeCore
import Testing

@testable import ModelRolloutCore

/// Scenario tables for the pure rollout state machine: each test feeds observations round by round, carrying the
/// planned status forward like the controller does.
@Suite struct RolloutPlannerTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func spec(
        deployment: String = "r2", steps: [RolloutStep] = [
            RolloutStep(weight: 10, hold: KubeDuration(seconds: 60)),
            RolloutStep(weight: 50, hold: KubeDuration(seconds: 60)), RolloutStep(weight: 100),
        ], mode: RolloutMode = .active, paused: Bool = false, keepStableFleet: Bool = true
    ) -> ModelRolloutSpec {
        // These tables cover the steps, analysis and rollback with the whole stable fleet kept (the ladder of a
        // GPU budget has its own tables, RolloutLadderTests).
        var spec = ModelRolloutSpec(
            model: "llama", deployment: deployment, route: RouteReference(name: "chat"), steps: steps, mode: mode,
            paused: paused)
        spec.strategy.keepStableFleet = keepStableFleet
        spec.analysis.interval = KubeDuration(seconds: 10)
        spec.autoscaling.scaleDownDelay = KubeDuration(seconds: 300)
        spec.readinessTimeout = KubeDuration(seconds: 600)
        return spec
    }

    static func revision(
        _ name: String, desired: Int, ready: Int, loading: Int = 0, failed: Int = 0, gated: Bool = true
    ) -> RevisionObservation {
        RevisionObservation(
            deployment: name, service: name, desiredReplicas: desired, modelReady: ready, loading: loading,
            failed: failed, failureMessage: failed > 0 ? "CUDA out of memory" : nil, modelGatedEndpoints: gated)
    }

    /// Runs one round: identifies parties from the status and route, builds the observation, plans.
    static func round(
        spec: ModelRolloutSpec, status: ModelRolloutStatus, route: [String: Int], at seconds: Double,
        revisions: [String: RevisionObservation], analysis: AnalysisOutcome? = nil, problems: [String] = []
    ) -> RolloutPlan {
        let parties = RolloutPlanner.identify(spec: spec, status: status, routeBackends: route)
        func observe(_ party: RolloutParties.Revision?) -> RevisionObservation? {
            guard let party else { return nil }
            return revisions[party.deployment]
                ?? .missing(deployment: party.deployment, service: party.service)
        }
        let observation = RolloutObservation(
            now: t0.addingTimeInterval(seconds), generation: 2, spec: spec, status: status, specProblems: problems,
            route: RouteState(found: true, weights: route), stable: observe(parties.stable),
            candidate: observe(parties.candidate), retired: observe(parties.retired), analysis: analysis)
        return RolloutPlanner.plan(observation)
    }

    /// Applies weight actions to a route map the way the route writer would.
    static func applied(_ plan: RolloutPlan, to route: [String: Int]) -> [String: Int] {
        var route = route
        for case .setWeights(let desired) in plan.actions {
            for (service, weight) in desired { route[service] = weight }
        }
        return route
    }

    static let steadyStatus: ModelRolloutStatus = {
        var status = ModelRolloutStatus()
        status.stableDeployment = "r1"
        status.stableService = "r1"
        status.phase = .steady
        return status
    }()

    /// A status in the middle of rolling r1 → r2: started at t0, at `step` (nil: before the first weight).
    static func rolling(step: Int?, stableReplicas: Int = 2) -> ModelRolloutStatus {
        var status = steadyStatus
        status.candidateDeployment = "r2"
        status.candidateService = "r2"
        status.rolloutStartedAt = t0
        status.stableReplicasAtStart = stableReplicas
        status.currentStep = step
        status.stepStartedAt = step == nil ? nil : t0
        status.phase = .progressing
        return status
    }

    @Test func adoptsTheRouteAndStaysSteady() {
        let plan = Self.round(
            spec: Self.spec(deployment: "r1"), status: ModelRolloutStatus(), route: ["r1": 1], at: 0,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2)])
        #expect(plan.status.stableDeployment == "r1")
        #expect(plan.status.phase == .steady)
        // A lone backend with the default weight 1 already carries 100 %: nothing to write.
        #expect(plan.decisions.map(\.kind) == [.adopt])
        #expect(plan.actions.isEmpty)
        #expect(plan.status.weights == RevisionWeights(stable: 100, candidate: 0))
        #expect(plan.status.condition("InvalidSpec")?.status == "False")
        #expect(plan.status.observedGeneration == 2)
    }

    @Test func adoptsTheHeaviestBackendWhenTheDesiredRevisionHasNoWeight() {
        let parties = RolloutPlanner.identify(
            spec: Self.spec(deployment: "r2"), status: ModelRolloutStatus(), routeBackends: ["r1": 100, "r0": 0])
        #expect(parties.stable == .init(deployment: "r1", service: "r1"))
        #expect(parties.candidate == .init(deployment: "r2", service: "r2"))
        #expect(parties.adopted)
    }

    @Test func fullRolloutFollowsTheStepsAndPromotes() {
        let spec = Self.spec()
        var route = ["r1": 100]
        // Round 1: the rollout starts and scales the candidate for the first step (10% of 2 replicas → 1).
        var plan = Self.round(
            spec: spec, status: Self.steadyStatus, route: route, at: 0,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 0, ready: 0)])
        #expect(plan.actions == [.scale(deployment: "r2", replicas: 1)])
        #expect(plan.status.phase == .progressing)
        #expect(plan.status.candidateDeployment == "r2")
        #expect(plan.status.condition("TrafficShifted")?.status == "False")
        // Round 2: the pod is loading: no weight.
        plan = Self.round(
            spec: spec, status: plan.status, route: route, at: 30,
            revisions: [
                "r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 0, loading: 1),
            ])
        #expect(plan.actions.isEmpty)
        #expect(plan.status.condition("ModelReady")?.reason == "CandidateLoading")
        #expect(plan.requeueAfter == 0.5)
        // Round 3: model-ready → 10 %.
        plan = Self.round(
            spec: spec, status: plan.status, route: route, at: 40,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1)])
        #expect(plan.actions == [.setWeights(["r1": 90, "r2": 10])])
        #expect(plan.status.currentStep == 0)
        #expect(plan.events.contains { $0.reason == "WeightsChanged" && !$0.warning })
        route = Self.applied(plan, to: route)
        #expect(plan.status.weights == RevisionWeights(stable: 90, candidate: 10))
        // Round 4: holding, analysis passes but the hold is not over.
        let pass = AnalysisOutcome(verdict: .pass, inputs: ["candidateTtftP95": "0.4s"])
        plan = Self.round(
            spec: spec, status: plan.status, route: route, at: 70,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1)],
            analysis: pass)
        #expect(plan.actions.isEmpty)
        #expect(plan.status.analysis?.lastVerdict == .pass)
        #expect(plan.status.condition("AnalysisPassing")?.status == "True")
        // Round 5: hold over and passed → 50 % (needs 1 replica: 50 % of 2).
        plan = Self.round(
            spec: spec, status: plan.status, route: route, at: 101,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1)],
            analysis: pass)
        #expect(plan.actions == [.setWeights(["r1": 50, "r2": 50])])
        route = Self.applied(plan, to: route)
        // Round 6: hold over with a pass → 100 % needs 2 candidate replicas: scale first.
        var status = plan.status
        plan = Self.round(
            spec: spec, status: status, route: route, at: 140,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1)],
            analysis: pass)
        status = plan.status
        plan = Self.round(
            spec: spec, status: status, route: route, at: 175,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1)],
            analysis: pass)
        #expect(plan.actions == [.scale(deployment: "r2", replicas: 2)])
        plan = Self.round(
            spec: spec, status: plan.status, route: route, at: 200,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 2, ready: 2)],
            analysis: pass)
        #expect(plan.actions == [.setWeights(["r1": 0, "r2": 100])])
        route = Self.applied(plan, to: route)
        // Round: last step has no hold → promote.
        plan = Self.round(
            spec: spec, status: plan.status, route: route, at: 201,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 2, ready: 2)])
        #expect(plan.status.phase == .promoted)
        #expect(plan.status.stableDeployment == "r2")
        #expect(plan.status.retiredDeployment == "r1")
        #expect(plan.events.contains { $0.reason == "Promoted" })
        #expect(plan.status.condition("Progressing")?.reason == "RolloutComplete")
        // Before scaleDownDelay nothing happens to r1; after it, r1 leaves the route and scales to zero.
        let promoted = plan.status
        plan = Self.round(
            spec: spec, status: promoted, route: route, at: 300,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 2, ready: 2)])
        #expect(plan.actions.isEmpty)
        plan = Self.round(
            spec: spec, status: promoted, route: route, at: 502,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 2, ready: 2)])
        #expect(plan.actions == [.setWeights(["r1": nil]), .scale(deployment: "r1", replicas: 0)])
        #expect(plan.status.retiredDeployment == nil)
        #expect(plan.status.decisions.count <= ModelRolloutStatus.decisionLimit)
    }

    @Test func inconclusiveAnalysisNeverPasses() {
        let status = Self.rolling(step: 0)
        let plan = Self.round(
            spec: Self.spec(), status: status, route: ["r1": 90, "r2": 10], at: 500,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1)],
            analysis: AnalysisOutcome(verdict: .inconclusive, reasons: ["12 < 50 samples"]))
        #expect(plan.actions.isEmpty)
        #expect(plan.status.condition("AnalysisPassing")?.reason == "Inconclusive")
        #expect(plan.decisions.last?.rule == "analysis-not-passed")
    }

    @Test func failedAnalysesRollBackAndRemoveTheCandidate() {
        let status = Self.rolling(step: 1)
        let route = ["r1": 50, "r2": 50]
        let revisions = [
            "r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1),
        ]
        let fail = AnalysisOutcome(verdict: .fail, reasons: ["ttft p95 4.1s > 2.5s"])
        var plan = Self.round(spec: Self.spec(), status: status, route: route, at: 10, revisions: revisions, analysis: fail)
        #expect(plan.actions.isEmpty)
        #expect(plan.status.analysis?.failures == 1)
        #expect(plan.events.contains { $0.warning && $0.reason == "AnalysisFailed" })
        plan = Self.round(spec: Self.spec(), status: plan.status, route: route, at: 21, revisions: revisions, analysis: fail)
        // Stable has its full fleet model-ready: all weight returns at once, the candidate leaves the route.
        #expect(
            plan.actions == [
                .setWeights(["r1": 100, "r2": 0]), .setWeights(["r2": nil, "r1": 100]),
                .scale(deployment: "r2", replicas: 0),
            ])
        #expect(plan.status.phase == .rolledBack)
        #expect(plan.status.failedDeployment == "r2")
        #expect(plan.events.contains { $0.warning && $0.reason == "RolledBack" })
        #expect(plan.status.condition("Progressing")?.reason == "RolledBack")
        // The failed candidate is not retried while spec.deployment names it.
        let after = Self.round(
            spec: Self.spec(), status: plan.status, route: ["r1": 100], at: 30,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 0, ready: 0)])
        #expect(after.actions.isEmpty)
        #expect(after.status.phase == .rolledBack)
    }

    @Test func rollbackPrescalesStableAndMovesWeightAsCapacityReturns() {
        let status = Self.rolling(step: 1, stableReplicas: 4)
        let route = ["r1": 50, "r2": 50]
        // Someone scaled stable down to 1; the candidate's analysis fails (failureLimit 1).
        var spec = Self.spec()
        spec.analysis.failureLimit = 1
        let plan = Self.round(
            spec: spec, status: status, route: route, at: 10,
            revisions: ["r1": Self.revision("r1", desired: 1, ready: 1), "r2": Self.revision("r2", desired: 2, ready: 2)],
            analysis: AnalysisOutcome(verdict: .fail))
        #expect(plan.actions.first == .scale(deployment: "r1", replicas: 4))
        // 1 of 4 stable replicas is model-ready: stable keeps max(current 50, 25) → no weight change yet.
        #expect(plan.actions.count == 1)
        #expect(plan.status.phase == .rollingBack)
        let later = Self.round(
            spec: spec, status: plan.status, route: route, at: 60,
            revisions: ["r1": Self.revision("r1", desired: 4, ready: 3), "r2": Self.revision("r2", desired: 2, ready: 2)])
        #expect(later.actions == [.setWeights(["r1": 75, "r2": 25])])
        #expect(later.status.phase == .rollingBack)
    }

    @Test func aFailedCandidatePodRollsBackBeforeAnyTraffic() {
        let status = Self.rolling(step: nil)
        let plan = Self.round(
            spec: Self.spec(), status: status, route: ["r1": 100], at: 20,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 0, failed: 1)])
        #expect(plan.actions == [.scale(deployment: "r2", replicas: 0)])
        // A candidate that could not load the model ends Failed, and every record names the cause.
        #expect(plan.status.phase == .failed)
        #expect(plan.status.failureReason == "ModelLoadFailed")
        #expect(plan.status.failureMessage == "CUDA out of memory")
        #expect(plan.status.message == "rolled back r2 (it failed to load the model: CUDA out of memory); r1 serves all "
            + "traffic")
        #expect(plan.status.condition("ModelReady")?.reason == "ModelLoadFailed")
        #expect(plan.decisions.first?.rule == "model-load-failed")
        #expect(plan.decisions.first?.message == "rolling back r2: CUDA out of memory")
        #expect(plan.decisions.last?.rule == "rollback-complete")
        #expect(plan.decisions.last?.inputs["failureReason"] == "ModelLoadFailed")
        #expect(plan.events.last?.reason == "RolloutFailed")
        #expect(plan.events.last?.message.contains("CUDA out of memory") == true)
        // The next rounds keep the phase and the cause while spec.deployment still names the failed revision.
        let next = Self.round(
            spec: Self.spec(), status: plan.status, route: ["r1": 100], at: 30,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 0, ready: 0)])
        #expect(next.status.phase == .failed)
        #expect(next.status.condition("Progressing")?.message?.contains("CUDA out of memory") == true)
        // Pointing spec.deployment back at the stable revision keeps the explanation of the last rollout.
        var back = Self.spec()
        back.deployment = "r1"
        let reverted = Self.round(
            spec: back, status: next.status, route: ["r1": 100], at: 40,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2)])
        #expect(reverted.status.phase == .failed)
        #expect(reverted.status.message?.contains("the last rollout was rolled back: CUDA out of memory") == true)
    }

    @Test func anUnschedulableCandidateIsReportedAndDoesNotTimeOut() {
        var status = Self.rolling(step: 0, stableReplicas: 4)
        status.stepStartedAt = Self.t0
        status.analysis = AnalysisStatus(step: 0, lastVerdict: .pass, lastTime: Self.t0)
        status.waitingSince = Self.t0
        let message = "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
        var candidate = Self.revision("r2", desired: 2, ready: 1, loading: 1)
        candidate.unschedulable = 1
        candidate.unschedulableMessage = "pod r2-b: \(message)"
        let revisions = ["r1": Self.revision("r1", desired: 4, ready: 4), "r2": candidate]
        // Long past the readiness timeout since waiting began: still no rollback, the pod never got a node.
        let plan = Self.round(
            spec: Self.spec(), status: status, route: ["r1": 90, "r2": 10], at: 3000, revisions: revisions)
        #expect(plan.status.phase == .progressing)
        #expect(!plan.decisions.contains { $0.kind == .rollback })
        let progressing = plan.status.condition("Progressing")
        #expect(progressing?.reason == "InsufficientCapacity")
        #expect(progressing?.message?.contains(message) == true)
        #expect(plan.status.message?.contains("1 pod of r2 cannot be scheduled (pod r2-b: \(message))") == true)
        #expect(plan.events.filter { $0.reason == "InsufficientCapacity" && $0.warning }.count == 1)
        #expect(plan.status.waitingSince == Self.t0.addingTimeInterval(3000))
        // The next round says the same without a second event.
        let next = Self.round(
            spec: Self.spec(), status: plan.status, route: ["r1": 90, "r2": 10], at: 3001, revisions: revisions)
        #expect(next.events.filter { $0.reason == "InsufficientCapacity" }.isEmpty)
        #expect(next.status.condition("Progressing")?.reason == "InsufficientCapacity")
        // Scheduled at last: the readiness clock runs from then.
        candidate.unschedulable = 0
        candidate.unschedulableMessage = nil
        let scheduled = Self.round(
            spec: Self.spec(), status: next.status, route: ["r1": 90, "r2": 10], at: 3002,
            revisions: ["r1": Self.revision("r1", desired: 4, ready: 4), "r2": candidate])
        #expect(scheduled.status.condition("Progressing")?.reason == "WaitingForCapacity")
        #expect(scheduled.status.waitingSince == Self.t0.addingTimeInterval(3001))
    }

    @Test func readinessTimeoutRollsBack() {
        var status = Self.rolling(step: nil)
        status.waitingSince = Self.t0
        let plan = Self.round(
            spec: Self.spec(), status: status, route: ["r1": 100], at: 601,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 0, loading: 1)])
        #expect(plan.decisions.first?.rule == "readiness-timeout")
        #expect(plan.status.phase == .rolledBack)
        #expect(plan.status.failureReason == "ReadinessTimeout")
        #expect(plan.status.failureMessage?.contains("did not become model-ready") == true)
        #expect(plan.events.last?.reason == "RolledBack")
    }

    @Test func theRouteAheadOfTheStatusIsAdoptedNotRewritten() {
        let status = Self.rolling(step: 0)
        // The 50 % write landed but its status write was lost.
        let plan = Self.round(
            spec: Self.spec(), status: status, route: ["r1": 50, "r2": 50], at: 200,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1)])
        #expect(plan.actions.isEmpty)
        #expect(plan.status.currentStep == 1)
        #expect(plan.decisions.first?.rule == "route-ahead-of-status")
    }

    @Test func abortMovesTrafficBackAndEndsSteady() {
        let status = Self.rolling(step: 1)
        let plan = Self.round(
            spec: Self.spec(deployment: "r1"), status: status, route: ["r1": 50, "r2": 50], at: 30,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1)])
        #expect(plan.actions.contains(.setWeights(["r1": 100, "r2": 0])))
        #expect(plan.actions.contains(.scale(deployment: "r2", replicas: 0)))
        #expect(plan.status.phase == .steady)
        #expect(plan.status.failedDeployment == nil)
        #expect(plan.decisions.map(\.kind).contains(.abort))
    }

    @Test func processLevelProbesGetTheFullFleetBeforeAnyWeight() {
        let status = Self.steadyStatus
        var plan = Self.round(
            spec: Self.spec(), status: status, route: ["r1": 100], at: 0,
            revisions: [
                "r1": Self.revision("r1", desired: 2, ready: 2),
                "r2": Self.revision("r2", desired: 0, ready: 0, gated: false),
            ])
        #expect(plan.actions == [.scale(deployment: "r2", replicas: 2)])
        #expect(plan.decisions.contains { $0.rule == "full-before-traffic" })
        plan = Self.round(
            spec: Self.spec(), status: plan.status, route: ["r1": 100], at: 20,
            revisions: [
                "r1": Self.revision("r1", desired: 2, ready: 2),
                "r2": Self.revision("r2", desired: 2, ready: 1, loading: 1, gated: false),
            ])
        #expect(plan.actions.isEmpty)
        plan = Self.round(
            spec: Self.spec(), status: plan.status, route: ["r1": 100], at: 30,
            revisions: [
                "r1": Self.revision("r1", desired: 2, ready: 2),
                "r2": Self.revision("r2", desired: 2, ready: 2, gated: false),
            ])
        #expect(plan.actions == [.setWeights(["r1": 90, "r2": 10])])
    }

    @Test func invalidSpecPatchesNothingAndWarnsOnce() {
        let problems = ["spec.steps[1].weight: Invalid value: 5: must be greater than the previous step's weight (10)"]
        let first = Self.round(
            spec: Self.spec(), status: Self.steadyStatus, route: ["r1": 100], at: 0,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2)], problems: problems)
        #expect(first.observeOnly)
        #expect(first.status.condition("InvalidSpec")?.status == "True")
        #expect(first.events.count == 1 && first.events[0].warning)
        let second = Self.round(
            spec: Self.spec(), status: first.status, route: ["r1": 100], at: 5,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2)], problems: problems)
        #expect(second.events.isEmpty)
    }

    @Test func observeModeDecidesOnTheStatusWeights() {
        var status = Self.steadyStatus
        status.weights = RevisionWeights(stable: 100, candidate: 0)
        let plan = Self.round(
            spec: Self.spec(mode: .observe), status: status, route: ["r1": 100], at: 0,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1)])
        #expect(plan.observeOnly)
        #expect(plan.actions == [.setWeights(["r1": 90, "r2": 10])])
        #expect(plan.status.weights == RevisionWeights(stable: 90, candidate: 10))
        #expect(plan.decisions.contains { $0.result.hasPrefix("observe: would") })
    }

    @Test func pausedHoldsEverything() {
        let status = Self.rolling(step: nil)
        let plan = Self.round(
            spec: Self.spec(paused: true), status: status, route: ["r1": 100], at: 0,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 2), "r2": Self.revision("r2", desired: 1, ready: 1)])
        #expect(plan.actions.isEmpty)
        #expect(plan.status.phase == .paused)
        #expect(plan.status.condition("Progressing")?.status == "Unknown")
    }

    @Test func degradedWhenAWeightedBackendHasNoModelReadyPod() {
        let plan = Self.round(
            spec: Self.spec(deployment: "r1"), status: Self.steadyStatus, route: ["r1": 100], at: 0,
            revisions: ["r1": Self.revision("r1", desired: 2, ready: 0, loading: 2)])
        #expect(plan.actions.isEmpty)
        #expect(plan.status.condition("Degraded")?.status == "True")
        #expect(plan.status.ready == "0/2")
    }

    @Test func demandAndCapacitySizeTheStep() {
        var spec = Self.spec()
        spec.autoscaling.maxReplicas = 8
        var stable = Self.revision("r1", desired: 4, ready: 4)
        stable.requestRate = 40
        let candidate = Self.revision("r2", desired: 0, ready: 0)
        let parties = RolloutPlanner.identify(spec: spec, status: Self.steadyStatus, routeBackends: ["r1": 100])
        #expect(parties.candidate?.deployment == "r2")
        let observation = RolloutObservation(
            now: Self.t0, generation: 1, spec: spec, status: Self.steadyStatus, route: RouteState(found: true, weights: ["r1": 100]),
            stable: stable, candidate: candidate, replicaCapacity: 8)
        // 50 % step would need ceil(0.1 × 40 / 8) = 1 for the first step (10 %).
        let plan = RolloutPlanner.plan(observation)
        #expect(plan.actions == [.scale(deployment: "r2", replicas: 1)])
    }

    @Test func steadyStateAppliesTheAutoscalerDecision() {
        var spec = Self.spec(deployment: "r1")
        spec.autoscaling.enabled = true
        let decision = AutoscaleDecision(
            desiredReplicas: 4, rule: "forecast", inputs: ["rate": "30/s"], message: "forecast needs 4",
            memory: AutoscalerMemory())
        let observation = RolloutObservation(
            now: Self.t0, generation: 1, spec: spec, status: Self.steadyStatus,
            route: RouteState(found: true, weights: ["r1": 100]), stable: Self.revision("r1", desired: 2, ready: 2),
            autoscale: decision)
        let plan = RolloutPlanner.plan(observation)
        #expect(plan.actions == [.scale(deployment: "r1", replicas: 4)])
        #expect(plan.decisions.first?.rule == "autoscale-forecast")
        #expect(plan.status.autoscaling?.desiredReplicas == 4)
        #expect(plan.status.condition("AutoscalingActive")?.status == "True")
        // Missing metrics: hold and say so; disabled: nothing.
        var hold = decision
        hold.desiredReplicas = 2
        hold.rule = "no-metrics"
        hold.holdReason = "no arrival rate yet"
        var held = observation
        held.autoscale = hold
        let heldPlan = RolloutPlanner.plan(held)
        #expect(heldPlan.actions.isEmpty)
        #expect(heldPlan.status.condition("AutoscalingActive")?.reason == "MetricsMissing")
        var disabled = observation
        disabled.spec.autoscaling.enabled = false
        #expect(RolloutPlanner.plan(disabled).actions.isEmpty)
    }
}
