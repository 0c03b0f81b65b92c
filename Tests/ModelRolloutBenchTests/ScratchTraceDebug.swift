import Foundation
import Testing
@testable import ModelRolloutBench

@Suite struct ScratchTraceDebug {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SCRATCH"] != nil)) func dump() throws {
        let trace = try TraceReader.read(path: "/work/shared/traces/azure-llm-inference-2023-conv.csv", skipBad: false)
        let scenario = Scenario.replaying(TraceReplay(trace: trace, speed: 4, scale: 1))
        var settings = BenchmarkSettings(scenarios: [scenario], policies: [.modelrollout, .hpaCPU], seeds: 1)
        settings.engine = scenario.engine(settings.engine)
        let workload = scenario.workload(engine: settings.engine, seed: 1)
        for name in [PolicyName.modelrollout] {
            let sim = PolicyBenchmark.simulation(name, scenario: scenario, workload: workload, seed: 1, settings: settings)
            sim.run()
            let m = sim.metrics()
            var line = ""
            for (i, t) in m.series.replicaTimes.enumerated() where i % 6 == 0 {
                line += String(format: "t=%4.0f d=%5.1f pods=%2.0f ready=%2.0f | ", t, m.series.demand[i], m.series.replicas[i], m.series.modelReady[i])
                if i % 24 == 18 { print(line); line = "" }
            }
            print(line)
            print("initial", scenario.initialReplicas, "thr", settings.engine.saturatedThroughput)
        }
    }
}
