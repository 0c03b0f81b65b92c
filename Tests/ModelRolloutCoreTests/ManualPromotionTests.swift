import Testing

@testable import ModelRolloutCore

/// One rule for the plugin and the planner: who may promote, and to where.
@Suite struct ManualPromotionTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var mode: PromoteMode
        var requested: Int?
        var phase: RolloutPhase?
        var current: Int?
        var candidate: String? = "r2"
        var paused = false
        var expected: Result<ManualPromotion.Target, ManualPromotion.Refusal>
    }

    static let cases: [Case] = [
        Case(description: "step at step 1 → step 2", mode: .step, requested: 0, phase: .progressing, current: 0,
             expected: .success(.step(1))),
        Case(description: "full at step 1 → the last step", mode: .full, requested: 0, phase: .progressing,
             current: 0, expected: .success(.step(2))),
        Case(description: "full before the first step → the last step", mode: .full, requested: nil,
             phase: .progressing, current: nil, expected: .success(.step(2))),
        Case(description: "at the last step → promotion", mode: .step, requested: 2, phase: .progressing,
             current: 2, expected: .success(.promotion)),
        Case(description: "step before the first step", mode: .step, requested: nil, phase: .progressing,
             current: nil, expected: .failure(.noStepYet)),
        Case(description: "stale request", mode: .step, requested: 0, phase: .progressing, current: 1,
             expected: .failure(.stale(requested: 0, current: 1))),
        Case(description: "spec.paused", mode: .full, requested: 0, phase: .progressing, current: 0, paused: true,
             expected: .failure(.paused)),
        Case(description: "phase Paused", mode: .full, requested: 0, phase: .paused, current: 0,
             expected: .failure(.paused)),
        Case(description: "rolling back", mode: .step, requested: 0, phase: .rollingBack, current: 0,
             expected: .failure(.rollingBack(candidate: "r2"))),
        Case(description: "promoted", mode: .step, requested: nil, phase: .promoted, current: nil,
             expected: .failure(.notInProgress(phase: .promoted))),
        Case(description: "not reconciled yet", mode: .step, requested: nil, phase: nil, current: nil,
             expected: .failure(.notInProgress(phase: nil))),
        Case(description: "no candidate in the status yet", mode: .full, requested: nil, phase: .progressing,
             current: nil, candidate: nil, expected: .failure(.noCandidate)),
    ]

    @Test(arguments: cases)
    func evaluate(_ c: Case) {
        var status = ModelRolloutStatus()
        status.phase = c.phase
        status.currentStep = c.current
        status.candidateDeployment = c.candidate
        let verdict = ManualPromotion.evaluate(
            mode: c.mode, requestedStep: c.requested, status: status, paused: c.paused, stepCount: 3)
        #expect(verdict == c.expected)
    }

    @Test func refusalsReadAsSentences() {
        #expect(ManualPromotion.Refusal.notInProgress(phase: .promoted).description
            == "no rollout is in progress (phase Promoted)")
        #expect(ManualPromotion.Refusal.stale(requested: 0, current: 1).description
            == "it was requested at step 1 but the rollout is now at step 2")
    }
}
