import Foundation
import ModelRolloutCore
import Testing

@testable import ClusterSim

/// The emulated cluster's SGLang and TGI dialects are judged by the operator's own readers: the log judge names
/// the runtime, the load and the readiness (or the failure), and the runtime dialect reads the metrics.
@Suite struct SimulatedRuntimeDialectTests {
    static let date = Date(timeIntervalSince1970: 1_779_660_000)

    static func log(_ runtime: SimRuntime, failure: VLLMFailure? = nil, tp: Int = 1) -> (String, [VLLMStartupStep]) {
        let options = VLLMLaunchOptions(model: "org/model", servedModelName: "served", tensorParallelSize: tp)
        let steps = VLLMStartupScript(
            options: options, version: .modern, loadSeconds: 90, downloadSeconds: 30, engineInitSeconds: 5,
            weightsGiB: 15, port: 8000, failure: failure, runtime: runtime
        ).steps()
        let formatter = VLLMLogFormatter(
            version: .modern, apiServerPID: 1, engineCorePID: 201, workerPIDBase: 301, tensorParallelSize: tp,
            runtime: runtime)
        var lines: [String] = []
        for case .log(let records) in steps { lines += records.map { formatter.format($0, at: date) } }
        return (lines.joined(separator: "\n"), steps)
    }

    @Test(arguments: [SimRuntime.sglang, .tgi], [1, 2])
    func healthyStartupIsJudgedServingWithItsLoadTime(_ runtime: SimRuntime, tp: Int) {
        let (text, steps) = Self.log(runtime, tp: tp)
        let judgement = LogJudge.judge(text)
        #expect(judgement.runtime.rawValue == runtime.rawValue)
        #expect(judgement.phase == .serving)
        #expect(judgement.modelLoaded)
        #expect(abs((judgement.loadSeconds ?? 0) - 90) < 0.01)
        #expect(steps.contains(.listen))
        // Before the ready line (the last step), the server is not yet judged ready.
        let (partial, _) = Self.log(runtime, tp: tp)
        let withoutReady = partial.split(separator: "\n").dropLast().joined(separator: "\n")
        #expect(!LogJudge.judge(withoutReady).serverReady)
    }

    @Test(arguments: [SimRuntime.sglang, .tgi, .vllm], [VLLMFailure.cudaOutOfMemory, .hubUnauthorized])
    func injectedFailuresAreJudgedWithTheirCause(_ runtime: SimRuntime, failure: VLLMFailure) {
        let (text, steps) = Self.log(runtime, failure: failure)
        let judgement = LogJudge.judge(text)
        #expect(judgement.runtime.rawValue == runtime.rawValue)
        #expect(judgement.phase == .failed)
        let expected = failure == .cudaOutOfMemory ? "CUDA out of memory" : "model hub access denied (HTTP 401)"
        #expect(judgement.failureReason == expected)
        #expect(judgement.failureLine?.isEmpty == false)
        #expect(!steps.contains(.listen))
        #expect(steps.last == .exit(1))
    }

    @Test(arguments: SimRuntime.allCases)
    func metricsAreReadInEveryDialect(_ runtime: SimRuntime) async throws {
        let metrics = VLLMMetrics(
            modelName: "served", version: .modern, maxConcurrency: 4, kvCacheTokens: 1000, createdAt: Self.date,
            runtime: runtime)
        for index in 0..<10 {
            await metrics.admit(tokens: 10)
            await metrics.finish(
                promptTokens: 8, generatedTokens: 2, tokens: 10, queueSeconds: 0.05, ttftSeconds: 0.15,
                itlSamples: [0.02], e2eSeconds: 0.3, finishReason: index == 0 ? "abort" : "stop")
        }
        await metrics.admit(tokens: 10)
        let scrape = PrometheusText.parse(await metrics.render())
        #expect(RuntimeDialect.detect(scrape)?.runtime == runtime.rawValue)
        let sample = try #require(PodMetricsSample.from(scrape: scrape, model: "served", pod: "p", time: Self.date))
        #expect(sample.successTotal == 10)
        #expect(sample.abortedTotal == 1)
        #expect(sample.running == 1)
        #expect(sample.waiting == 0)
        #expect(sample.queueTime?.observations == 10)
        if runtime == .tgi {
            #expect(sample.ttft == nil)
        } else {
            #expect(sample.ttft?.observations == 10)
            #expect((sample.ttft?.quantile(0.95) ?? 0) > 0.1)
            #expect((sample.ttft?.quantile(0.95) ?? 1) <= 0.25)
        }
    }
}
