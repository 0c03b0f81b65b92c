import Foundation

/// What to run: scenarios × policies × seeds.
public struct BenchmarkSettings: Sendable {
    public var scenarios: [Scenario]
    public var policies: [PolicyName]
    /// Seeds 1...seeds are run for every scenario and policy.
    public var seeds: Int
    public var engine: EngineModel
    public var coldStarts: ColdStartModel
    /// Client timeout for the first token, seconds.
    public var timeout: Double
    /// Run scenario/seed jobs on all cores (results do not depend on it).
    public var parallel: Bool

    public init(
        scenarios: [Scenario] = Scenario.all(), policies: [PolicyName] = PolicyName.allCases, seeds: Int = 5,
        engine: EngineModel = EngineModel(), coldStarts: ColdStartModel = ColdStartModel(), timeout: Double = 60,
        parallel: Bool = true
    ) {
        self.scenarios = scenarios
        self.policies = policies
        self.seeds = seeds
        self.engine = engine
        self.coldStarts = coldStarts
        self.timeout = timeout
        self.parallel = parallel
    }
}

/// One policy's results on one scenario: every seed's run and their averages.
public struct PolicyResult: Sendable, Hashable {
    public var policy: PolicyName
    public var runs: [RunMetrics]

    func mean(_ value: (RunMetrics) -> Double) -> Double {
        runs.isEmpty ? .nan : runs.map(value).reduce(0, +) / Double(runs.count)
    }

    public var ttftP50: Double { mean(\.ttftP50) }
    public var ttftP95: Double { mean(\.ttftP95) }
    public var ttftP99: Double { mean(\.ttftP99) }
    public var sloAttainment: Double { mean(\.sloAttainment) }
    public var gpuMinutes: Double { mean(\.gpuMinutes) }
    public var requestsToUnloadedPods: Double { mean { Double($0.requestsToUnloadedPods) } }
    public var timeouts: Double { mean { Double($0.timeouts) } }
    public var peakReplicas: Double { mean { Double($0.peakReplicas) } }
    public var goodput: Double { mean(\.goodput) }
    public var goodputPerGpuHour: Double { mean(\.goodputPerGpuHour) }
    public var scalingActions: Double { mean { Double($0.scalingActions) } }
    /// Mean over the seeds that reached capacity; nil when none did.
    public var timeToCapacitySeconds: Double? {
        let reached = runs.compactMap(\.timeToCapacitySeconds)
        return reached.isEmpty ? nil : reached.reduce(0, +) / Double(reached.count)
    }
    /// Seeds that reached capacity.
    public var capacityReachedSeeds: Int { runs.filter { $0.timeToCapacitySeconds != nil }.count }
    /// Share of the requests after the rollout started that the new revision served (mean over seeds).
    public var newRevisionShare: Double { mean(\.newRevisionShare) }
    /// Seeds that ended with all traffic back on the previous revision.
    public var backOnPreviousSeeds: Int { runs.filter { $0.backOnPreviousRevisionSeconds != nil }.count }
    /// Mean over those seeds of the seconds from the rollout until the new revision's last request; nil when none.
    public var backOnPreviousRevisionSeconds: Double? {
        let back = runs.compactMap(\.backOnPreviousRevisionSeconds)
        return back.isEmpty ? nil : back.reduce(0, +) / Double(back.count)
    }
}

/// One scenario's results.
public struct ScenarioResult: Sendable, Hashable {
    public var scenario: Scenario
    /// p95 TTFT before the event with the initial fleet (mean over seeds).
    public var baselineTtftP95: Double
    public var policies: [PolicyResult]

    public func result(_ policy: PolicyName) -> PolicyResult? { policies.first { $0.policy == policy } }
}

/// The whole benchmark.
public struct BenchmarkReport: Sendable {
    public var settings: BenchmarkSettings
    public var scenarios: [ScenarioResult]
    /// Wall-clock seconds the run took (not part of the JSON, so the JSON is a pure function of the settings).
    public var wallSeconds: Double

    public func scenario(_ name: String) -> ScenarioResult? { scenarios.first { $0.scenario.name == name } }
}

/// Runs the policy benchmark: a deterministic discrete-event simulation of every policy on every scenario.
public enum PolicyBenchmark {
    /// Runs the matrix; `progress` gets a line per finished scenario (from any thread).
    public static func run(
        _ settings: BenchmarkSettings, progress: (@Sendable (String) -> Void)? = nil
    ) -> BenchmarkReport {
        let started = Date()
        let seeds = max(1, settings.seeds)
        let jobs = settings.scenarios.indices.flatMap { s in (1...seeds).map { (s, UInt64($0)) } }
        let box = JobResults(scenarios: settings.scenarios.count, seeds: seeds)
        let work: @Sendable (Int) -> Void = { index in
            let (s, seed) = jobs[index]
            let scenario = settings.scenarios[s]
            let result = runSeed(scenario: scenario, seed: seed, settings: settings)
            if let finished = box.store(scenario: s, seed: Int(seed) - 1, result: result) {
                let elapsed = Date().timeIntervalSince(started)
                progress?(
                    "scenario \(scenario.name) done (\(finished)/\(settings.scenarios.count), "
                        + String(format: "%.1f s", elapsed) + ")")
            }
        }
        if settings.parallel {
            DispatchQueue.concurrentPerform(iterations: jobs.count, execute: work)
        } else {
            for index in jobs.indices { work(index) }
        }
        let results = box.results()
        var scenarios: [ScenarioResult] = []
        for (s, scenario) in settings.scenarios.enumerated() {
            let perSeed = results[s].compactMap { $0 }
            let baseline = perSeed.map(\.baseline).reduce(0, +) / Double(max(perSeed.count, 1))
            let policies = settings.policies.filter { $0.applies(to: scenario) }.enumerated().map { p, name in
                PolicyResult(policy: name, runs: perSeed.map { $0.runs[p] })
            }
            scenarios.append(ScenarioResult(scenario: scenario, baselineTtftP95: baseline, policies: policies))
        }
        return BenchmarkReport(settings: settings, scenarios: scenarios, wallSeconds: Date().timeIntervalSince(started))
    }

    struct SeedResult: Sendable {
        var baseline: Double
        var runs: [RunMetrics]
    }

    static func runSeed(scenario: Scenario, seed: UInt64, settings base: BenchmarkSettings) -> SeedResult {
        var settings = base
        settings.engine = scenario.engine(base.engine)
        let workload = scenario.workload(engine: settings.engine, seed: seed)
        let baseline = baselineTTFTP95(scenario: scenario, workload: workload, seed: seed, settings: settings)
        let runs = settings.policies.filter { $0.applies(to: scenario) }.map { name in
            let sim = simulation(name, scenario: scenario, workload: workload, seed: seed, settings: settings)
            sim.run()
            return sim.metrics()
        }
        return SeedResult(baseline: baseline, runs: runs)
    }

    /// A simulation of one policy, ready to run.
    static func simulation(
        _ name: PolicyName, scenario: Scenario, workload: Workload, seed: UInt64, settings: BenchmarkSettings
    ) -> Simulation {
        Simulation(
            scenario: scenario, policy: makePolicy(name, scenario: scenario, engine: settings.engine),
            workload: workload, seed: seed, engine: settings.engine, coldStarts: settings.coldStarts,
            timeout: settings.timeout)
    }

    static func makePolicy(_ name: PolicyName, scenario: Scenario, engine: EngineModel) -> BenchPolicy {
        switch name {
        case .modelrollout: ModelRolloutPolicy(scenario: scenario, engine: engine)
        case .canaryReadiness: CanaryReadinessPolicy()
        case .oracle: OraclePolicy()
        default: DeploymentPolicy(name, scenario: scenario, engine: engine)
        }
    }

    /// p95 TTFT of requests arriving between the warm-up and the event with the initial fleet held fixed: the
    /// reference every policy starts from (all start with that fleet and the same arrivals).
    static func baselineTTFTP95(
        scenario: Scenario, workload: Workload, seed: UInt64, settings: BenchmarkSettings
    ) -> Double {
        var before = scenario
        before.end = scenario.eventTime
        before.eventTime = scenario.eventTime + 1
        let cut = workload.firstIndex(atOrAfter: scenario.eventTime)
        let prefix = Workload(
            arrivals: Array(workload.arrivals[..<cut]), promptTokens: Array(workload.promptTokens[..<cut]),
            outputTokens: Array(workload.outputTokens[..<cut]))
        let sim = Simulation(
            scenario: before, policy: FixedFleetPolicy(), workload: prefix, seed: seed, engine: settings.engine,
            coldStarts: settings.coldStarts, timeout: settings.timeout)
        sim.run()
        return sim.ttftPercentile(95, from: scenario.warmup, to: scenario.eventTime)
    }
}

/// The initial fleet held fixed (the baseline reference).
final class FixedFleetPolicy: BenchPolicy {
    let name = "initial-fleet"
    let period = 3600.0
    func setUp(_ sim: Simulation) {
        let revision = sim.addRevision(modelGated: true)
        sim.addLoadedPods(sim.scenario.initialReplicas, revision: revision)
        sim.setRouting(.service)
    }
    func evaluate(_ sim: Simulation) {}
    func rolloutStarted(_ sim: Simulation) {}
}

/// Results of the parallel jobs. `@unchecked Sendable` is safe: every access to `slots` and `remaining` holds
/// `lock`, and the stored values are Sendable.
private final class JobResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [[PolicyBenchmark.SeedResult?]]
    private var remaining: [Int]
    private var finishedScenarios = 0

    init(scenarios: Int, seeds: Int) {
        slots = Array(repeating: Array(repeating: nil, count: seeds), count: scenarios)
        remaining = Array(repeating: seeds, count: scenarios)
    }

    /// Stores a result; returns how many scenarios are finished when this one completed its scenario.
    func store(scenario: Int, seed: Int, result: PolicyBenchmark.SeedResult) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        slots[scenario][seed] = result
        remaining[scenario] -= 1
        guard remaining[scenario] == 0 else { return nil }
        finishedScenarios += 1
        return finishedScenarios
    }

    func results() -> [[PolicyBenchmark.SeedResult?]] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
