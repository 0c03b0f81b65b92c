import Foundation
import KubeCore
import Testing

@testable import ModelRolloutCore

/// Tables for the GPU-budget ladder (`spec.strategy`): sizing arithmetic, and planner rounds on clusters with and
/// without spare GPUs.
@Suite struct RolloutLadderTests {
    typealias P = RolloutPlannerTests

    struct SizingCase: CustomTestStringConvertible, Sendable {
        var demand: Double?
        var throughput: Double?
        var share: Int
        var utilization: Double
        var pods: Int
        var carried: Int
        var testDescription: String { "\(share)% at demand \(demand.map { "\($0)" } ?? "?")" }
    }

    @Test(arguments: [
        // Measured: 10 req/s, 5 req/s per replica at 80 % → 4 per pod.
        SizingCase(demand: 10, throughput: 5, share: 100, utilization: 0.8, pods: 3, carried: 40),
        SizingCase(demand: 10, throughput: 5, share: 50, utilization: 0.8, pods: 2, carried: 40),
        SizingCase(demand: 10, throughput: 5, share: 100, utilization: 0.95, pods: 3, carried: 47),
        // No demand at all: one pod carries everything.
        SizingCase(demand: 0, throughput: 5, share: 100, utilization: 0.8, pods: 1, carried: 100),
        // Not measured: the start fleet of 4 stands for the demand (25 % per pod).
        SizingCase(demand: nil, throughput: 5, share: 50, utilization: 0.8, pods: 2, carried: 25),
        SizingCase(demand: 10, throughput: nil, share: 10, utilization: 0.8, pods: 1, carried: 25),
    ])
    func sizing(_ c: SizingCase) {
        let sizing = LadderSizing(startFleet: 4, demand: c.demand, throughput: c.throughput)
        #expect(sizing.pods(share: c.share, utilization: c.utilization) == c.pods)
        #expect(sizing.share(carriedBy: 1, utilization: c.utilization) == c.carried)
        #expect(sizing.pods(share: 0, utilization: c.utilization) == 0)
    }

    @Test func surgeBudgetsRoundUpLikeADeployment() {
        #expect(ReplicaBudget.percent(25).pods(of: 4) == 1)
        #expect(ReplicaBudget.percent(25).pods(of: 5) == 2)
        #expect(ReplicaBudget.percent(0).pods(of: 8) == 0)
        #expect(ReplicaBudget.replicas(2).pods(of: 8) == 2)
    }

    static func spec(maxSurge: ReplicaBudget = .percent(25), keep: Bool = false) -> ModelRolloutSpec {
        var spec = P.spec(keepStableFleet: keep)
        spec.strategy.maxSurge = maxSurge
        return spec
    }

    /// A rollout in progress at step `step` (nil: before the first), started with 4 stable pods.
    static func status(step: Int?) -> ModelRolloutStatus {
        var status = ModelRolloutStatus()
        status.stableDeployment = "r1"
        status.stableService = "r1"
        status.candidateDeployment = "r2"
        status.candidateService = "r2"
        status.phase = .progressing
        status.rolloutStartedAt = P.t0
        status.stableReplicasAtStart = 4
        status.currentStep = step
        status.observedGeneration = 2
        if let step {
            status.stepStartedAt = P.t0
            status.analysis = AnalysisStatus(step: step)
            status.analysis?.lastVerdict = .pass
            status.analysis?.lastTime = P.t0.addingTimeInterval(55)
        }
        return status
    }

    static func plan(
        spec: ModelRolloutSpec, status: ModelRolloutStatus, route: [String: Int], stable: RevisionObservation,
        candidate: RevisionObservation, demand: Double? = 10, throughput: Double? = 5, at seconds: Double = 100
    ) -> RolloutPlan {
        RolloutPlanner.plan(
            RolloutObservation(
                now: P.t0.addingTimeInterval(seconds), generation: 2, spec: spec, status: status,
                route: RouteState(found: true, weights: route), stable: stable, candidate: candidate,
                replicaThroughput: throughput, demandRate: demand))
    }

    static func pending(_ desired: Int, ready: Int, loading: Int = 0, unschedulable: Int) -> RevisionObservation {
        var revision = P.revision("r2", desired: desired, ready: ready, loading: loading + unschedulable)
        revision.unschedulable = unschedulable
        revision.unschedulableMessage = "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
        return revision
    }

    @Test func noSpareGPURetiresAStablePodWhileTheRestCarriesDemand() {
        // 4 GPUs, 4 stable pods at 10 req/s (5 req/s each at saturation): 3 pods carry it at 67 % ≤ 95 %.
        let plan = Self.plan(
            spec: Self.spec(), status: Self.status(step: nil), route: ["r1": 100],
            stable: P.revision("r1", desired: 4, ready: 4), candidate: Self.pending(1, ready: 0, unschedulable: 1))
        #expect(plan.actions == [.scale(deployment: "r1", replicas: 3)])
        #expect(plan.decisions.contains { $0.rule == "ladder-retire-for-room" })
        #expect(plan.status.condition("Progressing")?.reason == "InsufficientCapacity")
        #expect(plan.status.waitingSince == P.t0.addingTimeInterval(100))  // no readiness timeout while pending
    }

    @Test func noSpareGPUAndNoHeadroomWaitsSayingWhy() {
        // 18 req/s on 4 pods of 5 req/s: 3 pods would run at 120 %. Nothing is retired; the rollout says why.
        var status = Self.status(step: nil)
        status.message = "earlier"
        let plan = Self.plan(
            spec: Self.spec(maxSurge: .replicas(0)), status: status, route: ["r1": 100],
            stable: P.revision("r1", desired: 4, ready: 4), candidate: P.revision("r2", desired: 0, ready: 0),
            demand: 18)
        #expect(plan.actions.isEmpty)
        #expect(plan.status.condition("Progressing")?.reason == "WaitingForDemand")
        #expect(plan.status.message?.contains("120 % of its throughput") == true, "\(plan.status.message ?? "")")
        #expect(plan.decisions.contains { $0.rule == "ladder-blocked" })
    }

    @Test func unknownDemandNeverRetiresAStablePod() {
        let plan = Self.plan(
            spec: Self.spec(maxSurge: .replicas(0)), status: Self.status(step: nil), route: ["r1": 100],
            stable: P.revision("r1", desired: 4, ready: 4), candidate: P.revision("r2", desired: 0, ready: 0),
            demand: nil)
        #expect(plan.actions.isEmpty)
        #expect(plan.status.message?.contains("replicaThroughput") == true)
    }

    @Test func weightMovesInProportionThenTheStableSideShrinks() {
        // Step 1 (10 %) held and passed; toward 50 %: one model-ready candidate pod (the budget's one), four
        // stable pods, 14 req/s of demand (5 req/s per pod at saturation, 4 at 80 %). The candidate's pod carries
        // 28 %; weight moves to it, written before the stable side is scaled to what its share needs, and the
        // freed GPU takes a second candidate pod (50 % needs 2).
        let plan = Self.plan(
            spec: Self.spec(), status: Self.status(step: 0), route: ["r1": 90, "r2": 10],
            stable: P.revision("r1", desired: 4, ready: 4), candidate: P.revision("r2", desired: 1, ready: 1),
            demand: 14)
        guard case .setWeights(let weights)? = plan.actions.first else {
            Issue.record("weights first: \(plan.actions)")
            return
        }
        #expect(weights == ["r1": 72, "r2": 28], "\(weights)")
        // 72 % of 14 req/s is 10.1 req/s: 3 pods at 80 % of 5 req/s with the 5 % margin.
        #expect(Array(plan.actions.dropFirst()) == [.scale(deployment: "r1", replicas: 3), .scale(deployment: "r2", replicas: 2)])
        #expect(plan.decisions.contains { $0.rule == "ladder-rung" })
        #expect(plan.status.currentStep == 0)  // a rung, not the next step
    }

    @Test func aRungOnTheRouteIsNotTakenForAHandEdit() {
        let plan = Self.plan(
            spec: Self.spec(), status: Self.status(step: 0), route: ["r1": 75, "r2": 25],
            stable: P.revision("r1", desired: 3, ready: 3), candidate: P.revision("r2", desired: 2, ready: 1, loading: 1),
            demand: 8)
        #expect(!plan.decisions.contains { $0.rule == "route-edited" })
        #expect(P.applied(plan, to: ["r1": 75, "r2": 25])["r2"] ?? 0 >= 25)
    }

    @Test func keepingTheStableFleetNeverScalesItDown() {
        let plan = Self.plan(
            spec: Self.spec(keep: true), status: Self.status(step: 0), route: ["r1": 90, "r2": 10],
            stable: P.revision("r1", desired: 4, ready: 4), candidate: P.revision("r2", desired: 1, ready: 1),
            demand: 8)
        #expect(!plan.actions.contains { if case .scale("r1", _) = $0 { return true } else { return false } })
        #expect(plan.actions.contains(.scale(deployment: "r2", replicas: 2)))
    }

    @Test func rollbackUnderABudgetGivesTheCandidatesGPUsBackAsStableReturns() {
        // Rolling back at 50 %: stable 2 pods (of 4 at the start), candidate 3. Stable is scaled back to 4 (its
        // pods wait for GPUs); the candidate keeps what its 50 % needs at 95 % and gives back the rest; weight
        // moves to stable as far as its model-ready pods carry.
        var status = Self.status(step: 1)
        status.phase = .rollingBack
        status.failedDeployment = "r2"
        status.failureReason = "AnalysisFailed"
        let plan = Self.plan(
            spec: Self.spec(), status: status, route: ["r1": 50, "r2": 50],
            stable: P.revision("r1", desired: 2, ready: 2), candidate: P.revision("r2", desired: 3, ready: 3),
            demand: 8)
        #expect(plan.actions.contains(.scale(deployment: "r1", replicas: 4)))
        #expect(plan.actions.contains(.scale(deployment: "r2", replicas: 1)))
        // 2 stable pods carry 2 × 5 × 0.95 / 8 = 118 % → all traffic back at once.
        #expect(P.applied(plan, to: ["r1": 50, "r2": 50])["r1"] == 100)
    }
}
