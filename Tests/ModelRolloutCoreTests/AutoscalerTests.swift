import Foundation
import Testing

@testable import ModelRolloutCore

@Suite struct AutoscalerTests {
    /// 10 req/s per replica at 80 %: 8 req/s of planning capacity per ready replica.
    static func spec(min: Int = 1, max: Int = 10, throughput: Double? = 10, utilization: Double = 0.8)
        -> AutoscalingSpec
    {
        AutoscalingSpec(
            enabled: true, minReplicas: min, maxReplicas: max, targetWaitingPerReplica: 4,
            targetUtilization: utilization, replicaThroughput: throughput,
            coldStart: ColdStartSpec(percentile: 90, fallback: KubeDuration(seconds: 240)),
            scaleDownDelay: KubeDuration(seconds: 300))
    }

    /// One row of the rule table.
    struct RuleCase: Sendable, CustomTestStringConvertible {
        var name: String
        var spec: AutoscalingSpec = AutoscalerTests.spec()
        var current: Int
        var ready: Int = 0
        var waitingPerReady: Double = 0
        var runningPerReady: Double = 0
        var loadingAges: [Double] = []
        var failed: Int = 0
        var rate: Double?
        var trend: Double? = nil
        var measured: Double? = nil
        var coldStart: Double = 240
        var history: [AutoscalerMemory.Recommendation] = []
        var desired: Int
        var rule: String
        var testDescription: String { name }

        var input: AutoscalerInput {
            var replicas: [ReplicaState] = (0..<ready).map {
                ReplicaState(
                    name: "ready-\($0)", phase: .ready, ageSeconds: 3600, running: runningPerReady,
                    waiting: waitingPerReady)
            }
            replicas += loadingAges.enumerated().map {
                ReplicaState(name: "loading-\($0.offset)", phase: .loading, ageSeconds: $0.element)
            }
            replicas += (0..<failed).map { ReplicaState(name: "failed-\($0)", phase: .failed, ageSeconds: 900) }
            return AutoscalerInput(
                time: 1000, spec: spec, currentReplicas: current, replicas: replicas, arrivalRate: rate,
                arrivalTrend: trend, measuredThroughput: measured, coldStartSeconds: coldStart,
                memory: AutoscalerMemory(recommendations: history))
        }
    }

    static let ruleCases: [RuleCase] = [
        RuleCase(name: "no rate: hold", current: 3, ready: 3, rate: nil, desired: 3, rule: "no-metrics"),
        RuleCase(name: "NaN rate: hold", current: 3, ready: 3, rate: .nan, desired: 3, rule: "no-metrics"),
        RuleCase(
            name: "no throughput at all: hold", spec: spec(throughput: nil), current: 2, ready: 2, rate: 50,
            desired: 2, rule: "no-metrics"),
        RuleCase(
            name: "zero utilisation: hold", spec: spec(utilization: 0), current: 2, ready: 2, rate: 50, desired: 2,
            rule: "no-metrics"),
        RuleCase(name: "20/8 → 3", current: 2, ready: 2, rate: 20, desired: 3, rule: "forecast"),
        RuleCase(name: "rate + trend × 0.9 H: 16 + 0.1 × 216 = 37.6 → 5", current: 2, ready: 2, rate: 16,
                 trend: 0.1, desired: 5, rule: "forecast"),
        RuleCase(name: "trend over 0.9 H only: 16 + 0.07 × 216 = 31.1 → 4 (over the whole H: 32.8 → 5)", current: 2,
                 ready: 2, rate: 16, trend: 0.07, desired: 4, rule: "forecast"),
        RuleCase(name: "falling trend not extrapolated", current: 2, ready: 2, rate: 16, trend: -0.05, desired: 2,
                 rule: "steady"),
        RuleCase(name: "measured throughput wins over fallback", current: 1, ready: 1, rate: 40, measured: 20,
                 desired: 3, rule: "forecast"),
        RuleCase(name: "unusable measurement falls back", current: 1, ready: 1, rate: 40, measured: 0,
                 desired: 5, rule: "forecast"),
        RuleCase(
            name: "backlog beyond spare: 304 waiting over 30 s", current: 1, ready: 1, waitingPerReady: 304, rate: 8,
            coldStart: 60, desired: 2, rule: "backlog"),
        RuleCase(
            name: "backlog the spare drains: no extra pod", current: 1, ready: 1, waitingPerReady: 60, rate: 8,
            coldStart: 60, desired: 1, rule: "steady"),
        RuleCase(
            name: "backlog still there when a new pod would arrive", current: 2, ready: 2, waitingPerReady: 1000,
            rate: 16, desired: 3, rule: "backlog"),
        RuleCase(
            name: "a huge backlog adds one pod at most: 16 → 2, + 1", current: 2, ready: 2, waitingPerReady: 20_000,
            rate: 16, desired: 3, rule: "backlog"),
        RuleCase(
            name: "backlog cap counts from the forecast need: 40 → 5, + 1", current: 2, ready: 2,
            waitingPerReady: 20_000, rate: 40, desired: 6, rule: "backlog"),
        RuleCase(
            name: "backlog a loading pod will drain: no extra pod", current: 3, ready: 2, waitingPerReady: 1000,
            loadingAges: [200], rate: 16, desired: 3, rule: "hold-loading"),
        RuleCase(
            name: "loading pods count: 2 ready + 2 loading carry 28", current: 4, ready: 2, waitingPerReady: 40,
            loadingAges: [100, 200], rate: 28, desired: 4, rule: "steady"),
        RuleCase(name: "capped at maxReplicas", current: 4, ready: 4, rate: 200, desired: 10, rule: "bounds"),
        RuleCase(name: "raised to minReplicas", spec: spec(min: 3), current: 1, ready: 1, rate: 1, desired: 3,
                 rule: "bounds"),
        RuleCase(name: "above maxReplicas", current: 12, ready: 12, rate: 8, desired: 10, rule: "bounds"),
        RuleCase(name: "steady", current: 3, ready: 3, rate: 20, desired: 3, rule: "steady"),
        RuleCase(name: "scale down, no history", current: 4, ready: 4, rate: 8, desired: 1, rule: "scale-down"),
        RuleCase(
            name: "recent higher recommendation holds", current: 4, ready: 4, rate: 8,
            history: [.init(time: 800, replicas: 4)], desired: 4, rule: "scale-down-stabilised"),
        RuleCase(
            name: "down to the highest recent recommendation", current: 5, ready: 5, rate: 8,
            history: [.init(time: 750, replicas: 3), .init(time: 900, replicas: 2)], desired: 3, rule: "scale-down"),
        RuleCase(
            name: "recommendations older than the delay are forgotten", current: 4, ready: 4, rate: 8,
            history: [.init(time: 650, replicas: 4)], desired: 1, rule: "scale-down"),
        RuleCase(name: "within 10 %", current: 10, ready: 10, rate: 72, desired: 10, rule: "tolerance"),
        RuleCase(
            name: "surplus only loading pods: hold", current: 4, ready: 2, loadingAges: [100, 10], rate: 8,
            desired: 4, rule: "hold-loading"),
        RuleCase(
            name: "ordered pods not yet listed count as loading", current: 4, ready: 2, rate: 8, desired: 4,
            rule: "hold-loading"),
        RuleCase(
            name: "failed pods may go, loading may not", current: 5, ready: 2, loadingAges: [30], failed: 2, rate: 8,
            desired: 3, rule: "scale-down"),
        RuleCase(name: "to zero when idle", spec: spec(min: 0), current: 2, ready: 2, rate: 0, desired: 0,
                 rule: "scale-down"),
        RuleCase(
            name: "not to zero with requests in flight", spec: spec(min: 0), current: 1, ready: 1,
            runningPerReady: 2, rate: 0, desired: 1, rule: "steady"),
        RuleCase(
            name: "not to zero while a pod loads", spec: spec(min: 0), current: 1, loadingAges: [30], rate: 0,
            desired: 1, rule: "hold-loading"),
        RuleCase(
            name: "not to zero with a trickle of requests", spec: spec(min: 0), current: 0, rate: 0.01, desired: 1,
            rule: "forecast"),
    ]

    @Test(arguments: ruleCases)
    func rules(_ c: RuleCase) {
        let decision = Autoscaler.decide(c.input)
        #expect(decision.desiredReplicas == c.desired)
        #expect(decision.rule == c.rule)
        #expect(!decision.message.isEmpty)
        #expect((decision.holdReason != nil) == (c.rule == "no-metrics"))
        if c.rule == "no-metrics" {
            #expect(decision.memory == c.input.memory)
        } else {
            #expect(decision.memory.recommendations.last?.time == 1000)
        }
        #expect(decision.memory.lastChangeTime == (c.desired == c.current ? nil : 1000))
    }

    @Test func explainsItsInputs() {
        let input = RuleCase(
            name: "", current: 2, ready: 2, waitingPerReady: 3, loadingAges: [60], rate: 16.5, trend: 0.0125,
            desired: 0, rule: ""
        ).input
        let decision = Autoscaler.decide(input)
        #expect(decision.inputs["rate"] == "16.5")
        #expect(decision.inputs["trend"] == "0.0125")
        #expect(decision.inputs["horizon"] == "240s")
        #expect(decision.inputs["capacity"] == "8")
        #expect(decision.inputs["forecast"] == "19.2")
        #expect(decision.inputs["backlog"] == "6")
        #expect(decision.inputs["ready"] == "2")
        #expect(decision.inputs["loading"] == "1")
        #expect(decision.inputs["loadingEta"] == "180s")
        #expect(decision.inputs["recommendation"] == "3")
        #expect(decision.message.contains("forecast 19.2 req/s"))
    }

    @Test func holdReasonsSayWhatIsMissing() {
        let noRate = Autoscaler.decide(RuleCase(name: "", current: 2, rate: nil, desired: 0, rule: "").input)
        #expect(noRate.holdReason?.contains("arrival-rate") == true)
        let noThroughput = Autoscaler.decide(
            RuleCase(name: "", spec: Self.spec(throughput: nil), current: 2, rate: 3, desired: 0, rule: "").input)
        #expect(noThroughput.holdReason?.contains("replicaThroughput") == true)
    }

    struct FormatCase: Sendable, CustomTestStringConvertible {
        var value: Double
        var digits: Int
        var text: String
        var testDescription: String { "\(value) → \(text)" }
    }

    @Test(arguments: [
        FormatCase(value: 3, digits: 2, text: "3"), FormatCase(value: 2.5, digits: 2, text: "2.5"),
        FormatCase(value: 0.12345, digits: 4, text: "0.1235"), FormatCase(value: -0.0001, digits: 2, text: "0"),
        FormatCase(value: 240, digits: 2, text: "240"), FormatCase(value: 9.599, digits: 2, text: "9.6"),
    ])
    func compactNumbers(_ c: FormatCase) {
        #expect(Autoscaler.format(c.value, digits: c.digits) == c.text)
    }

    @Test func absurdInputsDoNotOverflow() {
        let huge = RuleCase(name: "", current: 1, ready: 1, rate: 1e300, trend: 1e300, desired: 0, rule: "").input
        #expect(Autoscaler.decide(huge).desiredReplicas == 10)
        var inverted = huge
        inverted.spec = Self.spec(min: 5, max: 2)
        inverted.arrivalRate = 1
        #expect(Autoscaler.decide(inverted).desiredReplicas == 5)
    }
}

/// Scenario tests: a tiny fluid-model fleet stepped through virtual time, scraped every 15 s, fed to the real
/// estimator and autoscaler. A Deployment scale-down removes not-ready pods first, as Kubernetes does.
@Suite struct AutoscalerScenarioTests {
    struct Pod {
        var name: String
        var created: Double
    }

    struct Step {
        var time: Double
        var demand: Double
        var decision: AutoscaleDecision
        var ready: Int
        var loading: Int
    }

    /// What one run saw.
    struct Run {
        var steps: [Step] = []
        var loadingPodsRemoved = 0

        var desired: [Int] { steps.map(\.decision.desiredReplicas) }
        /// Times at which the replica count went up.
        var scaleUps: [Double] {
            zip(steps.dropFirst(), steps).filter { $0.decision.desiredReplicas > $1.decision.desiredReplicas }
                .map(\.0.time)
        }
        var scaleDowns: [Step] {
            zip(steps.dropFirst(), steps).filter { $0.decision.desiredReplicas < $1.decision.desiredReplicas }
                .map(\.0)
        }
    }

    /// Per-pod throughput 12 req/s (planning capacity 9.6 at 80 %), `coldStart` seconds from creation to ready.
    static func simulate(
        readyAtStart: Int, loadingAtStart: [Double] = [], coldStart: Double, until: Double,
        scaleDownDelay: Double = 300, demand: (Double) -> Double
    ) -> Run {
        let throughput = 12.0
        let step = 15.0
        let spec = AutoscalingSpec(
            enabled: true, minReplicas: 1, maxReplicas: 30, targetWaitingPerReplica: 4, targetUtilization: 0.8,
            replicaThroughput: throughput, coldStart: ColdStartSpec(fallback: KubeDuration(seconds: coldStart)),
            scaleDownDelay: KubeDuration(seconds: scaleDownDelay))
        var pods = (0..<readyAtStart).map { Pod(name: "p\($0)", created: -10_000) }
        pods += loadingAtStart.enumerated().map { Pod(name: "l\($0.offset)", created: $0.element) }
        var nextName = pods.count
        var estimator = ArrivalEstimator()
        var memory = AutoscalerMemory()
        var queue = 0.0
        var completed = 0.0
        var run = Run()
        var time = 0.0
        func isReady(_ pod: Pod, _ now: Double) -> Bool { now - pod.created >= coldStart }
        while time <= until {
            let readyCount = pods.filter { isReady($0, time) }.count
            var served = 0.0
            if time > 0 {
                let arrivals = demand(time - step / 2) * step
                served = min(queue + arrivals, Double(readyCount) * throughput * step)
                queue += arrivals - served
                completed += served
            }
            // Little's law with ~2 s per request for the running ones.
            let running = served / step * 2
            estimator.observe(time: time, completedTotal: completed, inFlight: queue + running)
            let replicas = pods.map { pod in
                isReady(pod, time)
                    ? ReplicaState(
                        name: pod.name, phase: .ready, ageSeconds: time - pod.created,
                        running: running / Double(max(readyCount, 1)), waiting: queue / Double(max(readyCount, 1)))
                    : ReplicaState(name: pod.name, phase: .loading, ageSeconds: time - pod.created)
            }
            let decision = Autoscaler.decide(
                AutoscalerInput(
                    time: time, spec: spec, currentReplicas: pods.count, replicas: replicas,
                    arrivalRate: estimator.rate, arrivalTrend: estimator.trend, coldStartSeconds: coldStart,
                    memory: memory))
            memory = decision.memory
            while pods.count < decision.desiredReplicas {
                pods.append(Pod(name: "p\(nextName)", created: time))
                nextName += 1
            }
            while pods.count > decision.desiredReplicas {
                if let loading = pods.lastIndex(where: { !isReady($0, time) }) {
                    pods.remove(at: loading)
                    run.loadingPodsRemoved += 1
                } else {
                    pods.removeLast()
                }
            }
            run.steps.append(
                Step(
                    time: time, demand: demand(time), decision: decision, ready: readyCount,
                    loading: pods.count - readyCount))
            time += step
        }
        return run
    }

    @Test func stepDoublingScalesOnceAndDoesNotOvershootWhilePodsLoad() {
        // 20 → 40 req/s at t = 600 with a 4-minute cold start; 40 / 9.6 → 5 replicas.
        let run = Self.simulate(readyAtStart: 3, coldStart: 240, until: 1800) { $0 < 600 ? 20 : 40 }
        #expect(run.steps.filter { $0.time < 600 }.allSatisfy { $0.decision.desiredReplicas == 3 })
        #expect(run.scaleUps.count == 1)
        let scaleUp = run.scaleUps.first ?? .infinity
        #expect(scaleUp <= 630, "scaled up at \(scaleUp)")
        #expect(run.desired.max() == 5)
        #expect(run.scaleDowns.isEmpty)
        #expect(run.loadingPodsRemoved == 0)
        // Capacity arrives one cold start after the scale-up, then the policy holds.
        let after = run.steps.filter { $0.time >= scaleUp + 240 }
        #expect(after.allSatisfy { $0.ready == 5 && $0.decision.desiredReplicas == 5 })
        let holding = run.steps.filter { $0.time > scaleUp && $0.time < scaleUp + 240 }
        #expect(holding.allSatisfy { $0.decision.rule == "steady" && $0.loading == 2 })
    }

    @Test func rampIsMetAheadByAboutTheColdStart() {
        // ×3 over 5 minutes (20 → 60 req/s from t = 600 to 900) with a 4-minute cold start.
        let demand: (Double) -> Double = { min(60, max(20, 20 + ($0 - 600) * 40 / 300)) }
        let run = Self.simulate(readyAtStart: 3, coldStart: 240, until: 2400, demand: demand)
        #expect(run.loadingPodsRemoved == 0)
        let capacity = 9.6
        // Once the trend is learned, the fleet ordered covers the demand at least 2 minutes ahead (the trend is
        // extrapolated over 0.9 of the 4-minute cold start).
        for step in run.steps where step.time >= 720 && step.time <= 900 {
            let ahead = Int((demand(step.time + 120) / capacity).rounded(.up))
            #expect(step.decision.desiredReplicas >= ahead, "t=\(step.time)")
        }
        // The peak fleet (ceil(60 / 9.6) = 7) is ordered at least 2 minutes before the ramp ends...
        let fullFleet = run.steps.first { $0.decision.desiredReplicas >= 7 }?.time ?? .infinity
        #expect(fullFleet <= 780, "7 replicas ordered at \(fullFleet)")
        // ...and the overshoot is bounded by the trend extrapolation at the ramp's end: (60 + 0.133 × 216) / 9.6.
        #expect((run.desired.max() ?? 0) <= 10)
        // Pods ordered in time arrive in time: capacity meets demand from a cold start plus 90 s after the ramp
        // began (the first ~75 s of a ramp cannot be told from noise, so those orders are reactive).
        for step in run.steps where step.time >= 600 + 240 + 90 {
            #expect(Double(step.ready) * 12 >= step.demand, "t=\(step.time): \(step.ready) ready")
        }
        // Long after, the surplus is given back, to the 7 the flat demand needs.
        #expect(run.steps.last?.decision.desiredReplicas == 7)
    }

    @Test func dropScalesDownOnlyAfterTheDelay() {
        // 40 → 10 req/s at t = 600: 5 replicas, then 2 once 300 s of lower recommendations have passed.
        let run = Self.simulate(readyAtStart: 5, coldStart: 240, until: 1500) { $0 < 600 ? 40 : 10 }
        let downs = run.scaleDowns
        #expect(downs.count == 1)
        #expect(downs.first.map { $0.time > 900 && $0.time <= 930 } == true)
        #expect(downs.first?.decision.desiredReplicas == 2)
        #expect(downs.first?.decision.rule == "scale-down")
        let waiting = run.steps.filter { $0.time > 615 && $0.time <= 900 }
        #expect(waiting.allSatisfy { $0.decision.rule == "scale-down-stabilised" })
    }

    @Test func dropNeverRemovesALoadingPod() {
        // A pod ordered before the drop has a 10-minute cold start: it is kept until ready, then removed.
        let run = Self.simulate(readyAtStart: 5, loadingAtStart: [550], coldStart: 600, until: 2100) {
            $0 < 600 ? 40 : 10
        }
        #expect(run.loadingPodsRemoved == 0)
        let holds = run.steps.filter { $0.decision.rule == "hold-loading" }
        #expect(!holds.isEmpty)
        #expect(holds.allSatisfy { $0.time < 1150 && $0.loading == 1 })
        let firstDown = run.scaleDowns.first
        #expect(firstDown.map { $0.time >= 1150 } == true)
        #expect(firstDown?.decision.desiredReplicas == 2)
    }

    @Test func missingMetricsHold() {
        var input = AutoscalerInput(
            time: 0, spec: AutoscalerTests.spec(), currentReplicas: 4,
            replicas: (0..<4).map { ReplicaState(name: "p\($0)", phase: .ready, ageSeconds: 900) }, arrivalRate: nil,
            coldStartSeconds: 240)
        for time in stride(from: 0.0, through: 600, by: 15) {
            input.time = time
            let decision = Autoscaler.decide(input)
            #expect(decision.desiredReplicas == 4 && decision.rule == "no-metrics" && decision.holdReason != nil)
            input.memory = decision.memory
        }
    }
}
