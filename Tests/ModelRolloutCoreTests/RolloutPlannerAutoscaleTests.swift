import Foundation
import KubeCore
import Testing

@testable import ModelRolloutCore

/// Autoscaling during a rollout: the autoscaler's recommendation for the whole fleet (both revisions) is met by
/// scaling up the side whose share of the traffic needs it; a candidate pre-scaled for its next step counts as
/// fleet capacity; nothing is scaled down while the rollout runs.
@Suite struct RolloutPlannerAutoscaleTests {
    typealias P = RolloutPlannerTests

    struct Case: CustomTestStringConvertible, Sendable {
        var testDescription: String
        var step: Int
        var stable: Int
        var candidate: Int
        var recommended: Int?
        var holdReason: String? = nil
        var enabled = true
        /// Expected scale actions.
        var scales: [RolloutAction]
    }

    static let cases: [Case] = [
        Case(
            testDescription: "a surge at 10 %: the stable side, carrying 90 %, gets the shortfall", step: 0, stable: 4,
            candidate: 1, recommended: 8, scales: [.scale(deployment: "r1", replicas: 7)]),
        Case(
            testDescription: "a surge at 50 %: the shortfall is shared by both sides", step: 1, stable: 2,
            candidate: 2, recommended: 8,
            scales: [.scale(deployment: "r1", replicas: 4), .scale(deployment: "r2", replicas: 4)]),
        Case(
            testDescription: "a candidate pre-scaled for its next step is fleet capacity: steady demand adds nothing",
            step: 0, stable: 4, candidate: 3, recommended: 5, scales: []),
        Case(
            testDescription: "less demand never scales a side down during the rollout", step: 1, stable: 4,
            candidate: 4, recommended: 2, scales: []),
        Case(
            testDescription: "no metrics: hold", step: 0, stable: 4, candidate: 1, recommended: nil,
            holdReason: "no arrival-rate estimate", scales: []),
        Case(
            testDescription: "autoscaling disabled: the decision is ignored", step: 0, stable: 4, candidate: 1,
            recommended: 8, enabled: false, scales: []),
    ]

    @Test(arguments: cases)
    func splitsTheFleetRecommendation(_ c: Case) {
        var spec = P.spec()
        spec.autoscaling.enabled = c.enabled
        let weight = [10, 50, 100][c.step]
        let route = ["r1": 100 - weight, "r2": weight]
        let decision = AutoscaleDecision(
            desiredReplicas: c.recommended ?? c.stable + c.candidate, rule: c.recommended == nil ? "no-metrics" : "forecast",
            inputs: ["forecast": "40"], message: "forecast 40 req/s", holdReason: c.holdReason,
            memory: AutoscalerMemory(), recommendedReplicas: c.recommended)
        let observation = RolloutObservation(
            now: P.t0.addingTimeInterval(5), generation: 2, spec: spec, status: P.rolling(step: c.step, stableReplicas: c.stable),
            route: RouteState(found: true, weights: route),
            stable: P.revision("r1", desired: c.stable, ready: c.stable),
            candidate: P.revision("r2", desired: c.candidate, ready: c.candidate), autoscale: decision)
        let plan = RolloutPlanner.plan(observation)
        let scales = plan.actions.filter { if case .scale = $0 { return true } else { return false } }
        #expect(scales == c.scales)
        #expect(plan.status.phase == .progressing)
        let recorded = plan.decisions.filter { $0.rule == "autoscale-rollout-share" }
        #expect(recorded.count == c.scales.count)
        for record in recorded {
            #expect(record.inputs["fleetRecommendation"] == c.recommended.map(String.init))
            #expect(record.message.contains("the fleet needs"))
        }
        if !c.enabled {
            #expect(plan.status.autoscaling == nil)
        } else if c.holdReason != nil {
            #expect(plan.status.condition("AutoscalingActive")?.status == "False")
            #expect(plan.status.condition("AutoscalingActive")?.reason == "MetricsMissing")
        } else {
            #expect(plan.status.condition("AutoscalingActive")?.status == "True")
            #expect(plan.status.autoscaling?.desiredReplicas == c.recommended)
        }
    }

    /// Step sizing uses the step's share of the autoscaler's forecast for the fleet when that is larger than the
    /// share of current demand.
    @Test func stepSizingUsesTheFleetForecast() {
        var spec = P.spec()
        spec.autoscaling.enabled = true
        let decision = AutoscaleDecision(
            desiredReplicas: 10, rule: "forecast", inputs: [:], message: "forecast", memory: AutoscalerMemory(),
            recommendedReplicas: 10)
        // Before the first step: 10 % of a fleet of 10 → 1; with the stable fleet of 4, 10 % → 1 as well; at the
        // 50 % step: 5 of the forecast fleet versus 2 of the fleet at the start.
        var status = P.rolling(step: 0, stableReplicas: 4)
        status.stepStartedAt = P.t0.addingTimeInterval(-120)
        let observation = RolloutObservation(
            now: P.t0, generation: 2, spec: spec, status: status,
            route: RouteState(found: true, weights: ["r1": 90, "r2": 10]),
            stable: P.revision("r1", desired: 10, ready: 10), candidate: P.revision("r2", desired: 1, ready: 1),
            analysis: AnalysisOutcome(verdict: .pass, reasons: ["ok"]), autoscale: decision)
        let plan = RolloutPlanner.plan(observation)
        #expect(plan.actions.contains(.scale(deployment: "r2", replicas: 5)))
    }
}
