import Foundation
import Testing

@testable import ModelRolloutBench

/// Runs one policy on a scenario with seed 1 and returns the finished simulation.
func simulate(_ name: PolicyName, _ scenario: Scenario, seed: UInt64 = 1) -> Simulation {
    let settings = BenchmarkSettings(seeds: 1)
    let workload = Workload.generate(
        shape: scenario.shape, process: scenario.process, end: scenario.end, engine: settings.engine, seed: seed)
    let sim = PolicyBenchmark.simulation(name, scenario: scenario, workload: workload, seed: seed, settings: settings)
    sim.run()
    return sim
}

func scenario(_ name: String, end: Double? = nil) -> Scenario {
    var found = Scenario.all().first { $0.name == name } ?? fixedScenario(end: 1)
    if let end { found.end = end }
    return found
}

/// Pods created by the policy during the run (not the initial fleet).
func createdTimes(_ sim: Simulation) -> [Double] {
    sim.replicas.filter { $0.createdAt >= 0 }.map(\.createdAt)
}

@Suite struct HorizontalPodAutoscalerTests {
    @Test(arguments: [
        (1.05, 4, 4, 4), (0.91, 4, 4, 4), (1.2, 4, 4, 5), (0.5, 4, 4, 2), (2.0, 3, 3, 6), (1.11, 10, 10, 12),
    ])
    func toleranceAndRatio(ratio: Double, count: Int, current: Int, expected: Int) {
        #expect(HorizontalPodAutoscaler.replicas(ratio: ratio, count: count, current: current) == expected)
    }

    @Test(arguments: [(6, 4, 6), (20, 4, 8), (15, 10, 15), (30, 10, 16), (0, 4, 4)])
    func scaleUpIsLimitedToDoubleOrFourPods(raw: Int, current: Int, expected: Int) {
        var hpa = HorizontalPodAutoscaler(minReplicas: 1, maxReplicas: 16)
        hpa.recommendations = [(0, current)]
        #expect(hpa.behave(raw: raw, current: current, now: 1) == expected)
    }

    @Test func scaleDownWaitsForTheStabilisationWindow() {
        var hpa = HorizontalPodAutoscaler(minReplicas: 1, maxReplicas: 16)
        #expect(hpa.behave(raw: 4, current: 4, now: 0) == 4)
        #expect(hpa.behave(raw: 2, current: 4, now: 100) == 4)
        #expect(hpa.behave(raw: 2, current: 4, now: 299) == 4)
        #expect(hpa.behave(raw: 2, current: 4, now: 301) == 2)
    }

    @Test func hpaBaselinesSyncEvery15Seconds() {
        for name in [PolicyName.hpaCPU, .kedaQueue, .naive] {
            let sim = simulate(name, scenario("surge", end: 900))
            let created = createdTimes(sim)
            #expect(!created.isEmpty, "\(name.rawValue) never scaled up")
            #expect(created.allSatisfy { abs(($0 - 7.5).truncatingRemainder(dividingBy: 15)) < 1e-9 })
            // Reactive: the first reaction to the surge comes within a scrape and a few syncs.
            #expect(created.filter { $0 >= 600 }.min().map { $0 <= 660 } ?? false)
        }
    }

    @Test func cpuScaleDownHonoursThe300SecondStabilisation() {
        let perReplica = EngineModel().saturatedThroughput
        let drop = Scenario(
            name: "drop", summary: "load drops to a quarter", event: .demandChange, eventTime: 600, end: 1500,
            shape: .step(base: 0.7 * 4 * perReplica, factor: 0.25, at: 600), coldStartSeconds: 240,
            initialReplicas: 4, minReplicas: 1, demandAfterEvent: 0.7 * perReplica)
        let sim = simulate(.hpaCPU, drop)
        let ended = sim.replicas.compactMap(\.endedAt).filter { $0 < sim.scenario.end }
        #expect(!ended.isEmpty)
        #expect(ended.allSatisfy { $0 >= 600 + 300 - 15 })
    }
}

@Suite struct KnativeAutoscalerTests {
    @Test func panicScalesUpAtOnceAndHoldsForAStableWindow() {
        var kpa = KnativeAutoscaler(target: 44.8, minReplicas: 1, maxReplicas: 16)
        var decisions: [(Double, Int)] = []
        for t in stride(from: 1.0, through: 10, by: 1) {
            if let d = kpa.tick(now: t, concurrency: 150, readyPods: 1, current: 1) { decisions.append((t, d)) }
        }
        #expect(decisions.first?.1 == 4)
        #expect(kpa.panicSince != nil)
        var later: [(Double, Int)] = []
        for t in stride(from: 11.0, through: 100, by: 1) {
            if let d = kpa.tick(now: t, concurrency: 10, readyPods: 4, current: 4) { later.append((t, d)) }
        }
        // Panic (the last panic condition at 9 s) never scales down until 60 s without one.
        #expect(later.filter { $0.0 < 69 }.allSatisfy { $0.1 == 4 })
        // Then the stable window decides, scaling down at most to half the ready pods.
        #expect(later.filter { $0.0 >= 70 }.allSatisfy { $0.1 == 2 })
        #expect(kpa.panicSince == nil)
    }

    @Test func stableWindowAveragesSixtySeconds() {
        var kpa = KnativeAutoscaler(target: 10, minReplicas: 1, maxReplicas: 16)
        var decided: [Double: Int] = [:]
        for t in stride(from: 1.0, through: 120, by: 1) {
            // 30 s at 20 in flight (2 pods' worth, no panic), then nothing: the 60 s mean keeps 2 pods until the
            // window holds fewer than 30 busy seconds' worth above one pod.
            let value = t <= 30 ? 20.0 : 0
            if let d = kpa.tick(now: t, concurrency: value, readyPods: 2, current: 2) { decided[t] = d }
        }
        #expect(kpa.panicSince == nil)
        #expect(decided[29] == 2)
        #expect(decided[59] == 2)
        #expect(decided[61] == 1)
        #expect(decided[119] == 1)
    }

    @Test func kpaDecidesEveryTwoSeconds() {
        let sim = simulate(.kpa, scenario("surge", end: 900))
        let created = createdTimes(sim)
        #expect(!created.isEmpty)
        #expect(created.allSatisfy { abs(($0 - 1).truncatingRemainder(dividingBy: 2)) < 1e-9 })
        #expect(created.min().map { $0 >= 600 } ?? false)
    }
}

@Suite struct RolloutBehaviourTests {
    @Test func naiveRoutesToLoadingPodsAndModelGatedPoliciesNever() {
        let rollout = scenario("seed-revision")
        let naive = simulate(.naive, rollout).metrics()
        #expect(naive.requestsToUnloadedPods > 100)
        #expect(naive.timeouts > 0)
        for name in [PolicyName.hpaCPU, .modelrollout, .oracle] {
            #expect(simulate(name, rollout).metrics().requestsToUnloadedPods == 0, "\(name.rawValue)")
        }
    }

    @Test func modelrolloutMovesWeightOnlyToModelReadyCandidatePods() {
        let sim = simulate(.modelrollout, scenario("seed-revision"))
        // The candidate got pods and ended up with all traffic; the old revision was retired.
        #expect(sim.revisions.count == 2)
        #expect(sim.routing == .weighted([0, 100]))
        #expect(sim.revisions[1].pods.count >= 3)
        #expect(sim.revisions[0].pods.isEmpty)
        #expect(sim.metrics().timeouts == 0)
    }

    @Test func oracleHasCapacityWhenTheSurgeArrives() {
        let surge = scenario("surge", end: 1200)
        let sim = simulate(.oracle, surge)
        let metrics = sim.metrics()
        #expect(metrics.timeToCapacitySeconds == 0)
        // Its new pods were created exactly one (known) cold start before they were needed.
        let ready = sim.replicas.filter { $0.createdAt >= 0 }.map(\.modelReadyAt)
        #expect(!ready.isEmpty)
        #expect(ready.min().map { $0 <= 600 && $0 >= 600 - 75 } ?? false)
        #expect(metrics.sloAttainment > 0.95)
    }

    @Test func modelrolloutPlansWithTheLearnedColdStart() {
        let misestimate = scenario("coldstart-misestimate")
        let policy = ModelRolloutPolicy(scenario: misestimate, engine: EngineModel())
        let sim = Simulation(
            scenario: misestimate, policy: policy,
            workload: Workload.generate(
                shape: misestimate.shape, process: .poisson, end: 700, engine: EngineModel(), seed: 1), seed: 1)
        policy.setUp(sim)
        // History learned at 240 s: the p90 plan is below the actual 312 s.
        #expect(policy.planningColdStart < 312)
        #expect(policy.planningColdStart > 240)
    }
}

