import Foundation
import KubeCore
import Testing

@testable import ModelRolloutCore

/// Manual promotion (`status.promote`, written by `kubectl modelrollout promote`): honoured only while Progressing
/// at the requested step, gated on model-ready capacity, otherwise cleared with a decision saying why.
@Suite struct RolloutPlannerPromoteTests {
    typealias P = RolloutPlannerTests

    /// One scenario: the status before the round, what the controller observes, and what must come out.
    struct Case: CustomStringConvertible, Sendable {
        var description: String
        var step: Int?
        var stableReplicas: Int = 2
        var request: PromoteRequest
        var candidateDesired: Int
        var candidateReady: Int
        var paused: Bool = false
        var phase: RolloutPhase = .progressing
        /// Route weight of r2 before the round (nil: the current step's weight).
        var routeCandidate: Int?
        // Expectations.
        var pending: Bool
        var currentStep: Int?
        var expectedPhase: RolloutPhase
        var candidateWeight: Int
        var rule: String?
        var messageContains: String = ""
        var scaleTo: Int?
    }

    static let weights = [10, 50, 100]

    static let cases: [Case] = [
        Case(
            description: "Step ends the hold and moves to the next step when capacity carries it", step: 0,
            request: PromoteRequest(mode: .step, requestedAt: P.t0, step: 0), candidateDesired: 1, candidateReady: 1,
            pending: false, currentStep: 1, expectedPhase: .progressing, candidateWeight: 50,
            rule: "manual-promote-step", messageContains: "moved to step 2/3"),
        Case(
            description: "Step waits for model-ready capacity (stays pending, scales the candidate)", step: 0,
            stableReplicas: 4, request: PromoteRequest(mode: .step, step: 0), candidateDesired: 1, candidateReady: 1,
            pending: true, currentStep: 0, expectedPhase: .progressing, candidateWeight: 10, rule: nil, scaleTo: 2),
        Case(
            description: "Full goes to 100 % and promotes", step: 0,
            request: PromoteRequest(mode: .full, step: 0), candidateDesired: 2, candidateReady: 2, pending: false,
            currentStep: nil, expectedPhase: .promoted, candidateWeight: 100, rule: "manual-promote-full",
            messageContains: "promoted r2"),
        Case(
            description: "Full without capacity stays pending and scales the candidate to the full fleet", step: 0,
            request: PromoteRequest(mode: .full, step: 0), candidateDesired: 1, candidateReady: 1, pending: true,
            currentStep: 0, expectedPhase: .progressing, candidateWeight: 10, rule: nil, scaleTo: 2),
        Case(
            description: "Full before the first step goes straight to 100 % once capacity allows", step: nil,
            request: PromoteRequest(mode: .full, step: nil), candidateDesired: 2, candidateReady: 2,
            routeCandidate: 0, pending: false, currentStep: nil, expectedPhase: .promoted, candidateWeight: 100,
            rule: "manual-promote-full", messageContains: "(Full) before the first step: moved to step 3/3"),
        Case(
            description: "Step at the next-to-last step moves to the last step", step: 1,
            request: PromoteRequest(mode: .step, step: 1), candidateDesired: 2, candidateReady: 2, pending: false,
            currentStep: 2, expectedPhase: .progressing, candidateWeight: 100, rule: "manual-promote-step",
            messageContains: "(Step) at step 2/3: moved to step 3/3 (100%)"),
        Case(
            description: "Step before the first step is ignored", step: nil,
            request: PromoteRequest(mode: .step, step: nil), candidateDesired: 1, candidateReady: 0, routeCandidate: 0,
            pending: false, currentStep: nil, expectedPhase: .progressing, candidateWeight: 0, rule: "promote-ignored",
            messageContains: "waits for capacity"),
        Case(
            description: "a request for an earlier step is ignored (no double skip)", step: 1,
            request: PromoteRequest(mode: .step, step: 0), candidateDesired: 1, candidateReady: 1, pending: false,
            currentStep: 1, expectedPhase: .progressing, candidateWeight: 50, rule: "promote-ignored",
            messageContains: "requested at step 1 but the rollout is now at step 2"),
        Case(
            description: "a paused rollout ignores it", step: 0, request: PromoteRequest(mode: .full, step: 0),
            candidateDesired: 2, candidateReady: 2, paused: true, pending: false, currentStep: 0,
            expectedPhase: .paused, candidateWeight: 10, rule: "promote-ignored", messageContains: "Paused"),
        Case(
            description: "a rollback ignores it", step: 0, request: PromoteRequest(mode: .step, step: 0),
            candidateDesired: 1, candidateReady: 1, phase: .rollingBack, pending: false, currentStep: nil,
            expectedPhase: .rolledBack, candidateWeight: 0, rule: "promote-ignored", messageContains: "RolledBack"),
    ]

    @Test(arguments: cases)
    func promotion(_ c: Case) throws {
        var status = P.rolling(step: c.step, stableReplicas: c.stableReplicas)
        status.stepStartedAt = P.t0
        status.phase = c.phase
        status.promote = c.request
        let candidateWeight = c.routeCandidate ?? c.step.map { Self.weights[$0] } ?? 0
        let route = ["r1": 100 - candidateWeight, "r2": candidateWeight]
        let plan = P.round(
            spec: P.spec(paused: c.paused), status: status, route: route, at: 5,
            revisions: [
                "r1": P.revision("r1", desired: c.stableReplicas, ready: c.stableReplicas),
                "r2": P.revision("r2", desired: c.candidateDesired, ready: c.candidateReady),
            ])
        #expect((plan.status.promote != nil) == c.pending)
        #expect(plan.status.currentStep == c.currentStep)
        #expect(plan.status.phase == c.expectedPhase)
        #expect(P.applied(plan, to: route)["r2"] ?? 0 == c.candidateWeight)
        let promotes = plan.decisions.filter { $0.kind == .promote }
        if let rule = c.rule {
            #expect(promotes.contains { $0.rule == rule })
            let messages = promotes.map(\.message).joined(separator: " | ")
            #expect(c.messageContains.isEmpty || messages.contains(c.messageContains), "\(messages)")
        } else {
            #expect(promotes.isEmpty)
        }
        if let scaleTo = c.scaleTo {
            #expect(plan.actions.contains(.scale(deployment: "r2", replicas: scaleTo)))
        }
    }

    @Test func steadyStateIgnoresAPromotionWithAWarning() {
        var status = P.steadyStatus
        status.promote = PromoteRequest(mode: .step, step: 0)
        let plan = P.round(
            spec: P.spec(deployment: "r1"), status: status, route: ["r1": 100], at: 0,
            revisions: ["r1": P.revision("r1", desired: 2, ready: 2)])
        #expect(plan.status.promote == nil)
        #expect(plan.decisions.last?.rule == "promote-ignored")
        #expect(plan.decisions.last?.message.contains("no rollout is in progress") == true)
        #expect(plan.events.contains { $0.warning && $0.reason == "PromoteIgnored" })
    }

    /// A pending Step promotion is applied in the round where capacity arrives, long before the hold would end,
    /// and the hold of the new step starts then.
    @Test func pendingStepPromotionAppliesWhenCapacityArrives() {
        var status = P.rolling(step: 0, stableReplicas: 4)
        status.promote = PromoteRequest(mode: .step, step: 0)
        var route = ["r1": 90, "r2": 10]
        let spec = P.spec()
        var plan = P.round(
            spec: spec, status: status, route: route, at: 5,
            revisions: ["r1": P.revision("r1", desired: 4, ready: 4), "r2": P.revision("r2", desired: 1, ready: 1)])
        #expect(plan.status.promote != nil)
        #expect(plan.status.message?.contains("manual promotion pending") == true)
        route = P.applied(plan, to: route)
        plan = P.round(
            spec: spec, status: plan.status, route: route, at: 8,
            revisions: ["r1": P.revision("r1", desired: 4, ready: 4), "r2": P.revision("r2", desired: 2, ready: 2)])
        #expect(plan.status.promote == nil)
        #expect(plan.status.currentStep == 1)
        #expect(plan.status.stepStartedAt == P.t0.addingTimeInterval(8))
        #expect(P.applied(plan, to: route)["r2"] == 50)
        #expect(plan.events.contains { $0.reason == "ManualPromotion" })
        let decision = plan.decisions.first { $0.kind == .promote }
        #expect(decision?.inputs["holdRemaining"] == "52s")
    }

    @Test func promoteRequestRoundTripsThroughJSON() throws {
        var status = ModelRolloutStatus()
        status.promote = PromoteRequest(mode: .full, requestedAt: P.t0, step: 1)
        let json = try KubeJSON.toJSONValue(status)
        #expect(json["promote"]?["mode"]?.stringValue == "Full")
        #expect(json["promote"]?["requestedAt"]?.stringValue == KubeTime.format(P.t0))
        let decoded = try KubeJSON.fromJSONValue(ModelRolloutStatus.self, json)
        #expect(decoded.promote == status.promote)
    }
}
