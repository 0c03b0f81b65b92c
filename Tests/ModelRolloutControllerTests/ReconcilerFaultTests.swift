import Foundation
import KubeCore
import ModelRolloutCore
import Testing

@testable import ModelRolloutController

/// Edits, deletions and hostile specs in the middle of a rollout (issue 13), round by round against a scripted
/// cluster: each failed before its fix (a crash, a weight left on a backend without pods, a stale condition).
@Suite struct ReconcilerFaultTests {
    typealias Stories = ReconcilerStoryTests

    static func cluster() -> ScriptedCluster {
        let cluster = ScriptedCluster(spec: Stories.spec(), clock: ManualClock())
        cluster.addDeployment("vllm-r2", profile: .init(loadSeconds: 40, ttft: 0.2))
        return cluster
    }

    static func condition(_ status: ModelRolloutStatus, _ type: String) -> String? {
        status.condition(type).map { "\($0.status) \($0.reason ?? "")" }
    }

    @Test func stepsShrinkingMidRolloutAreReMappedInsteadOfCrashing() async throws {
        let cluster = Self.cluster()
        let driver = RoundDriver(cluster: cluster)
        await driver.run { $0.currentStep == 1 }
        #expect(cluster.route["vllm-r2"] == 50)
        try cluster.editSpec { $0.steps = [RolloutStep(weight: 100)] }
        let rounds = await driver.run(limit: 200) { $0.phase == .promoted }
        #expect(rounds != nil, "\(cluster.status.message ?? "")")
        let remap = try #require(cluster.status.decisions.first { $0.rule == "steps-changed" })
        #expect(remap.message.contains("step 2 (50% on vllm-r2) continues as before the first step"))
        #expect(cluster.weightsWritten(to: "vllm-r2") == [10, 25, 50, 75, 100])
        #expect(cluster.events.contains { $0.reason == "StepsChanged" })
    }

    @Test func changedStepWeightsMapTheCurrentWeightOntoTheNewSteps() async throws {
        let cluster = Self.cluster()
        let driver = RoundDriver(cluster: cluster)
        await driver.run { $0.currentStep == 1 }
        try cluster.editSpec {
            $0.steps = [
                RolloutStep(weight: 20, hold: KubeDuration(seconds: 60)),
                RolloutStep(weight: 60, hold: KubeDuration(seconds: 60)), RolloutStep(weight: 100),
            ]
        }
        await driver.run(limit: 3) { _ in false }
        #expect(cluster.status.currentStep == 0, "50 % lies between 20 % and 60 %: step 1 of the new steps")
        #expect(cluster.route["vllm-r2"] == 20, "down to the mapped step's weight")
        let rounds = await driver.run { $0.phase == .promoted }
        #expect(rounds != nil)
        #expect(cluster.weightsWritten(to: "vllm-r2") == [10, 25, 50, 20, 60, 75, 100])
    }

    @Test func aCandidateDeploymentDeletedWhileCarryingWeightIsRolledBack() async throws {
        let cluster = Self.cluster()
        let driver = RoundDriver(cluster: cluster)
        await driver.run { $0.currentStep == 0 }
        #expect(cluster.route["vllm-r2"] == 10)
        cluster.deleteDeployment("vllm-r2")
        let rounds = await driver.run(limit: 20) { $0.phase == .rolledBack }
        #expect(rounds != nil && rounds! <= 3, "traffic leaves the deleted backend within a few rounds")
        #expect(cluster.route == ["vllm-r1": 100])
        #expect(Stories.decisions(cluster.status).contains("candidate-deleted"))
        #expect(cluster.events.contains { $0.warning && $0.reason == "RollingBack" })
    }

    @Test func aMissingRouteSaysSoInEveryTrafficConditionAndARecreatedRouteGetsTheStepBack() async throws {
        let cluster = Self.cluster()
        let driver = RoundDriver(cluster: cluster)
        await driver.run { $0.currentStep == 0 && $0.decisions.contains { $0.rule == "capacity-ready" } }
        #expect(Self.condition(cluster.status, RolloutConditionType.trafficShifted) == "True StepApplied")
        cluster.setRoute(nil)
        await driver.run(limit: 2) { _ in false }
        let status = cluster.status
        #expect(Self.condition(status, RolloutConditionType.progressing) == "False RouteNotFound")
        #expect(Self.condition(status, RolloutConditionType.trafficShifted) == "False RouteNotFound")
        #expect(Self.condition(status, RolloutConditionType.degraded) == "True RouteNotFound")
        // Re-created as it was before the rollout: the step's weight is put back and the rollout goes on.
        cluster.setRoute(["vllm-r1": 100])
        await driver.run(limit: 2) { _ in false }
        #expect(cluster.route["vllm-r2"] == 10)
        #expect(Stories.decisions(cluster.status).contains("route-edited"))
        #expect(cluster.events.contains { $0.warning && $0.reason == "RouteEdited" })
        let rounds = await driver.run { $0.phase == .promoted }
        #expect(rounds != nil)
    }

    @Test func aHandEditOfTheWeightsIsNamedAndTheStepRestored() async throws {
        let cluster = Self.cluster()
        let driver = RoundDriver(cluster: cluster)
        await driver.run { $0.currentStep == 0 }
        cluster.setRoute(["vllm-r1": 70, "vllm-r2": 30])
        await driver.run(limit: 2) { _ in false }
        #expect(cluster.route == ["vllm-r1": 90, "vllm-r2": 10])
        let edit = try #require(cluster.status.decisions.last { $0.rule == "route-edited" })
        #expect(edit.inputs["routeWeights"] == "vllm-r1=70,vllm-r2=30")
    }

    @Test func aHandEditToTheNextStepsWeightIsNotTakenForTheControllersOwnWrite() async throws {
        let cluster = Self.cluster()
        let driver = RoundDriver(cluster: cluster)
        await driver.run { $0.currentStep == 0 }
        cluster.setRoute(["vllm-r1": 50, "vllm-r2": 50])
        await driver.run(limit: 2) { _ in false }
        #expect(cluster.status.currentStep == 0, "the step's hold and analysis are not skipped")
        #expect(cluster.route["vllm-r2"] == 10)
        #expect(Stories.decisions(cluster.status).contains("route-edited"))
        #expect(!Stories.decisions(cluster.status).contains("route-ahead-of-status"))
    }
}
