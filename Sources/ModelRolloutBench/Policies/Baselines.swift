import Foundation

/// The Horizontal Pod Autoscaler's replica calculation and behaviour (kube-controller-manager defaults):
/// 15 s sync, ±10 % tolerance, scale-up by at most max(100 %, 4 pods) per 15 s, scale-down stabilised over
/// the highest recommendation of the last 300 s.
struct HorizontalPodAutoscaler {
    static let syncPeriod = 15.0
    static let tolerance = 0.1
    static let stabilisationWindow = 300.0

    var minReplicas: Int
    var maxReplicas: Int
    var recommendations: [(time: Double, replicas: Int)] = []

    /// The desired replicas from a raw recommendation, applying the behaviour (rate limit, stabilisation).
    mutating func behave(raw: Int, current: Int, now: Double) -> Int {
        recommendations.append((now, raw))
        recommendations.removeAll { now - $0.time > Self.stabilisationWindow }
        var desired = raw
        if raw < current {
            desired = min(current, recommendations.map(\.replicas).max() ?? raw)
        } else if raw > current {
            desired = min(raw, max(2 * current, current + 4))
        }
        return min(max(desired, minReplicas), maxReplicas)
    }

    /// The HPA's usage ratio rule: within tolerance nothing changes, else `ceil(ratio × count)`.
    static func replicas(ratio: Double, count: Int, current: Int) -> Int {
        if abs(ratio - 1) <= tolerance { return current }
        return Int((ratio * Double(count) - 1e-9).rounded(.up))
    }
}

/// The baselines that scale one Deployment (and roll it with the Deployment controller's rolling update):
/// `naive`, `hpa-cpu`, `keda-queue`, `kpa`, `static-peak`.
final class DeploymentPolicy: BenchPolicy {
    enum Scaler {
        case none
        case cpu(HorizontalPodAutoscaler)
        case queue(HorizontalPodAutoscaler)
        case kpa(KnativeAutoscaler)
        case predictive(HorizontalPodAutoscaler, LinearForecast)
    }

    let name: String
    let period: Double
    let firstEvaluation: Double
    let usesDeploymentSync = true
    private let modelGated: Bool
    private let initialReplicas: Int
    private var scaler: Scaler
    private var deployment = RollingDeployment(replicas: 0, current: 0, old: nil)

    /// CPU utilisation of a vLLM pod relative to its request: API server, tokenisation and the scheduler loop
    /// (0.25 idle) plus work that grows with the running batch (0.6 at the concurrency limit). A loading pod
    /// reports 0.3 (reading weights). The HPA target is 55 %, the utilisation at ~70 % load, so the initial
    /// fleet is in equilibrium as an operator would have tuned it.
    static func cpuUtilisation(meanRunning: Double, loaded: Bool, limit: Int) -> Double {
        loaded ? 0.25 + 0.6 * min(1, meanRunning / Double(limit)) : 0.3
    }

    static let cpuTarget = 0.55
    static let waitingTarget = 4.0

    init(_ name: PolicyName, scenario: Scenario, engine: EngineModel) {
        self.name = name.rawValue
        let hpa = HorizontalPodAutoscaler(minReplicas: scenario.minReplicas, maxReplicas: scenario.maxReplicas)
        switch name {
        case .naive, .hpaCPU:
            scaler = .cpu(hpa)
            period = HorizontalPodAutoscaler.syncPeriod
            firstEvaluation = 7.5
        case .kedaQueue:
            scaler = .queue(hpa)
            period = HorizontalPodAutoscaler.syncPeriod
            firstEvaluation = 7.5
        case .aibrixPredictive:
            scaler = .predictive(hpa, LinearForecast())
            period = HorizontalPodAutoscaler.syncPeriod
            firstEvaluation = 7.5
        case .kpa:
            scaler = .kpa(
                KnativeAutoscaler(
                    target: 0.7 * Double(engine.concurrencyLimit), minReplicas: scenario.minReplicas,
                    maxReplicas: scenario.maxReplicas))
            period = 1
            firstEvaluation = 1
        default:
            scaler = .none
            period = 60
            firstEvaluation = 60
        }
        modelGated = name != .naive
        if name == .staticPeak {
            let peak = scenario.shape.maximum
            initialReplicas = max(
                scenario.initialReplicas, Int((peak / (0.8 * engine.saturatedThroughput) - 1e-9).rounded(.up)))
        } else {
            initialReplicas = scenario.initialReplicas
        }
    }

    func setUp(_ sim: Simulation) {
        let revision = sim.addRevision(modelGated: modelGated)
        sim.addLoadedPods(initialReplicas, revision: revision)
        sim.setRouting(.service)
        deployment = RollingDeployment(replicas: initialReplicas, current: revision, old: nil)
        switch scaler {
        case .cpu(var hpa):
            hpa.recommendations = [(0, initialReplicas)]
            scaler = .cpu(hpa)
        case .queue(var hpa):
            hpa.recommendations = [(0, initialReplicas)]
            scaler = .queue(hpa)
        case .predictive(var hpa, let forecast):
            hpa.recommendations = [(0, initialReplicas)]
            scaler = .predictive(hpa, forecast)
        default: break
        }
    }

    func rolloutStarted(_ sim: Simulation) { deployment.startRollout(sim) }

    func deploymentSync(_ sim: Simulation) { deployment.sync(sim) }

    func evaluate(_ sim: Simulation) {
        let current = deployment.replicas
        switch scaler {
        case .none: return
        case .cpu(var hpa):
            let raw = cpuRecommendation(sim, current: current)
            deployment.replicas = hpa.behave(raw: raw, current: current, now: sim.now)
            scaler = .cpu(hpa)
        case .queue(var hpa):
            var waiting = 0
            for id in deployment.pods(sim) { waiting += sim.scrapedWaiting[id] }
            let ratio = Double(waiting) / (Self.waitingTarget * Double(max(current, 1)))
            let raw =
                abs(ratio - 1) <= HorizontalPodAutoscaler.tolerance
                ? current : Int((Double(waiting) / Self.waitingTarget - 1e-9).rounded(.up))
            deployment.replicas = hpa.behave(raw: raw, current: current, now: sim.now)
            scaler = .queue(hpa)
        case .predictive(var hpa, var forecast):
            let target = 0.7 * Double(sim.engine.concurrencyLimit)
            let concurrency = Double(sim.inFlight())
            let reactiveRaw = HorizontalPodAutoscaler.replicas(
                ratio: concurrency / (target * Double(max(current, 1))), count: max(current, 1), current: current)
            let reactive = hpa.behave(raw: reactiveRaw, current: current, now: sim.now)
            forecast.record(time: sim.now, value: concurrency)
            var desired = reactive
            if let predicted = forecast.predict(at: sim.now + LinearForecast.horizon) {
                desired = max(desired, Int((predicted / target - 1e-9).rounded(.up)))
            }
            deployment.replicas = min(max(desired, sim.scenario.minReplicas), sim.scenario.maxReplicas)
            scaler = .predictive(hpa, forecast)
        case .kpa(var kpa):
            var ready = 0
            for id in deployment.pods(sim) where sim.replicas[id].modelLoaded { ready += 1 }
            if let desired = kpa.tick(
                now: sim.now, concurrency: Double(sim.inFlight()), readyPods: ready, current: current)
            {
                deployment.replicas = desired
            }
            scaler = .kpa(kpa)
        }
        deployment.sync(sim)
    }

    /// The HPA's CPU calculation: average utilisation over Ready pods with a sample; on scale-up, unready pods
    /// and pods without a sample count as 0 %, on scale-down pods without a sample count as 100 %; a changed
    /// direction or a ratio within tolerance keeps the current size.
    private func cpuRecommendation(_ sim: Simulation, current: Int) -> Int {
        var readyUsage = 0.0
        var readyCount = 0
        var unready = 0
        var missing = 0
        let endpoints = Set(sim.revisions.flatMap(\.endpoints))
        for id in deployment.pods(sim) {
            let pod = sim.replicas[id]
            guard endpoints.contains(id) else {
                unready += 1
                continue
            }
            guard pod.createdAt <= sim.lastScrapeTime - Simulation.scrapeInterval else {
                missing += 1
                continue
            }
            readyUsage += Self.cpuUtilisation(
                meanRunning: sim.scrapedMeanRunning[id], loaded: pod.modelLoaded, limit: sim.engine.concurrencyLimit)
            readyCount += 1
        }
        guard readyCount > 0 else { return current }
        let ratio = readyUsage / Double(readyCount) / Self.cpuTarget
        if abs(ratio - 1) <= HorizontalPodAutoscaler.tolerance { return current }
        if unready + missing == 0 {
            return HorizontalPodAutoscaler.replicas(ratio: ratio, count: readyCount, current: current)
        }
        let total = readyCount + unready + missing
        let adjusted: Double
        if ratio > 1 {
            adjusted = readyUsage / Double(total) / Self.cpuTarget
        } else {
            adjusted = (readyUsage + Double(missing)) / Double(readyCount + missing) / Self.cpuTarget
        }
        if (ratio > 1) != (adjusted > 1) || abs(adjusted - 1) <= HorizontalPodAutoscaler.tolerance { return current }
        let count = ratio > 1 ? total : readyCount + missing
        return Int((adjusted * Double(count) - 1e-9).rounded(.up))
    }
}

/// A straight line fitted (least squares) to the samples of the last ``window`` seconds, read at a fixed
/// ``horizon`` ahead and clamped to [0, ``clamp`` × the window's mean].
struct LinearForecast {
    static let window = 60.0
    static let horizon = 120.0
    static let clamp = 4.0

    var samples: [(time: Double, value: Double)] = []

    mutating func record(time: Double, value: Double) {
        samples.append((time, value))
        samples.removeAll { time - $0.time > Self.window }
    }

    /// The fitted value at `time`; nil with fewer than two samples.
    func predict(at time: Double) -> Double? {
        guard samples.count >= 2 else { return nil }
        let n = Double(samples.count)
        let meanT = samples.reduce(0) { $0 + $1.time } / n
        let meanV = samples.reduce(0) { $0 + $1.value } / n
        var covariance = 0.0
        var variance = 0.0
        for sample in samples {
            covariance += (sample.time - meanT) * (sample.value - meanV)
            variance += (sample.time - meanT) * (sample.time - meanT)
        }
        let slope = variance > 0 ? covariance / variance : 0
        let value = meanV + slope * (time - meanT)
        return min(max(0, value), Self.clamp * meanV)
    }
}

/// Knative's KPA on concurrency: per-second samples of in-flight requests averaged over a 60 s stable and a
/// 6 s panic window; decisions every 2 s; panic when the panic window wants ≥ 2 × the ready pods, and in panic
/// never scale down until a stable window passed without panic; scale-down at most to half the ready pods.
struct KnativeAutoscaler {
    static let stableWindow = 60.0
    static let panicWindow = 6.0
    static let panicThreshold = 2.0
    static let tickInterval = 2.0
    static let maxScaleDownRate = 2.0

    /// Target in-flight requests per pod.
    var target: Double
    var minReplicas: Int
    var maxReplicas: Int
    var samples: [(time: Double, value: Double)] = []
    var panicSince: Double?
    var lastPanicCondition: Double?
    var lastDecision: Double = -.infinity
    var desired: Int?

    /// Records one sample; every `tickInterval` returns the desired replicas.
    mutating func tick(now: Double, concurrency: Double, readyPods: Int, current: Int) -> Int? {
        samples.append((now, concurrency))
        if let first = samples.first, now - first.time > Self.stableWindow + 1 {
            samples.removeAll { now - $0.time > Self.stableWindow }
        }
        guard now - lastDecision >= Self.tickInterval - 1e-9 else { return nil }
        lastDecision = now
        var stableSum = 0.0
        var stableCount = 0
        var panicSum = 0.0
        var panicCount = 0
        for sample in samples where now - sample.time < Self.stableWindow {
            stableSum += sample.value
            stableCount += 1
            if now - sample.time < Self.panicWindow {
                panicSum += sample.value
                panicCount += 1
            }
        }
        let stable = stableCount > 0 ? stableSum / Double(stableCount) : 0
        let panic = panicCount > 0 ? panicSum / Double(panicCount) : 0
        let ready = max(readyPods, 1)
        let desiredStable = Int((stable / target - 1e-9).rounded(.up))
        let desiredPanic = Int((panic / target - 1e-9).rounded(.up))
        if Double(desiredPanic) / Double(ready) >= Self.panicThreshold {
            if panicSince == nil { panicSince = now }
            lastPanicCondition = now
        } else if let last = lastPanicCondition, now - last >= Self.stableWindow {
            panicSince = nil
            lastPanicCondition = nil
        }
        var result: Int
        if panicSince != nil {
            result = max(desiredPanic, desired ?? current, current)
        } else {
            result = desiredStable
        }
        let floor = Int((Double(ready) / Self.maxScaleDownRate).rounded(.up))
        result = max(result, min(floor, current))
        result = min(max(result, minReplicas), maxReplicas)
        desired = result
        return result
    }
}

/// Perfect foresight: knows every future arrival and every pod's exact cold start. Every 5 s it keeps the fleet
/// at the replicas needed (80 % of the saturated throughput) over the next cold start plus the period, so each
/// pod becomes model-ready exactly when the demand needs it and leaves as soon as it is not needed within a
/// cold start. Rollouts create the whole candidate fleet at once and move all traffic when it is model-ready.
final class OraclePolicy: BenchPolicy {
    let name = PolicyName.oracle.rawValue
    let period = 5.0
    let firstEvaluation = 0.0
    private let utilisation = 0.8
    private let window = 60.0
    private var stable = 0
    private var candidate: Int?

    func setUp(_ sim: Simulation) {
        stable = sim.addRevision(modelGated: true)
        sim.addLoadedPods(sim.scenario.initialReplicas, revision: stable)
        sim.setRouting(.weighted([100]))
    }

    /// Replicas needed for the arrivals of the 60 s window starting at `t`.
    private func needed(_ sim: Simulation, at t: Double) -> Int {
        let rate = Double(sim.workload.count(from: t, to: t + window)) / window
        return Int((rate / (utilisation * sim.engine.saturatedThroughput) - 1e-9).rounded(.up))
    }

    private func desired(_ sim: Simulation) -> Int {
        let horizon = sim.coldStart(ofPod: sim.nextPodIndex) + period
        var t = sim.now
        var most = 0
        while t <= sim.now + horizon {
            most = max(most, needed(sim, at: t))
            t += 10
        }
        return min(max(most, sim.scenario.minReplicas), sim.scenario.maxReplicas)
    }

    func evaluate(_ sim: Simulation) {
        let target = desired(sim)
        if let candidate {
            if sim.revisions[candidate].desired < target { sim.setDesired(candidate, target) }
            if sim.modelReadyCount(revision: candidate) >= min(target, sim.revisions[candidate].desired) {
                sim.setRouting(.weighted([0, 100]))
                sim.setDesired(stable, 0)
                stable = candidate
                self.candidate = nil
            }
            return
        }
        // Pods that are not needed within the horizon go; the ones needed later are created when due.
        sim.setDesired(stable, target)
    }

    func rolloutStarted(_ sim: Simulation) {
        let next = sim.addRevision(modelGated: true)
        candidate = next
        sim.setDesired(next, max(desired(sim), sim.revisions[stable].desired))
    }
}
