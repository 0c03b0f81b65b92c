import Foundation
import KubeCore
import Testing

@testable import ModelRolloutCore

/// A latency histogram summary with a mean (`sum / count`) and percentiles.
private func latency(mean: Double, p50: Double? = nil, p95: Double? = nil, count: Double = 100) -> HistogramSummary {
    HistogramSummary(count: count, sum: mean * count, p50: p50 ?? mean, p95: p95 ?? mean * 1.5)
}

/// A healthy revision: 50 ms TTFT (no queue), 100-token prompts, 12 ms ITL, 20 % KV cache, 2 ready pods.
private func healthy(
    _ revision: String, route: String = "chat", weight: Int = 100, tweak: (inout RevisionSignals) -> Void = { _ in }
) -> RevisionSignals {
    var signals = RevisionSignals(
        route: route, requestClass: "rule-0", revision: revision, weight: weight, model: "llama",
        runtime: RuntimeSignals(
            scrapedPods: 2, ttft: latency(mean: 0.05), queueTime: latency(mean: 0.001),
            interTokenLatency: latency(mean: 0.012), promptTokensMean: 100, waiting: 0, running: 3,
            kvCacheUsageMax: 0.2),
        rollout: RolloutSignals(pods: 2, ready: 2, loading: 0))
    tweak(&signals)
    return signals
}

/// One injected bottleneck and the layer (and where) the diagnosis must name first.
struct DiagnoseCase: CustomTestStringConvertible, Sendable {
    var name: String
    var revisions: [RevisionSignals]
    var layer: DiagnosisLayer
    var verdict: DiagnosisVerdict
    var route: String?
    var revision: String?
    var testDescription: String { name }
}

private let cases: [DiagnoseCase] = [
    DiagnoseCase(
        name: "long prompts on one route → prefill",
        revisions: [
            healthy("r1"),
            healthy("docs-r1", route: "docs") {
                $0.runtime.ttft = latency(mean: 1.25)
                $0.runtime.promptTokensMean = 6000
            },
        ],
        layer: .prefill, verdict: .likely, route: "docs", revision: "docs-r1"),
    DiagnoseCase(
        name: "a revision 4× slower per token → decode",
        revisions: [
            healthy("r1", weight: 50),
            healthy("r2", weight: 50) {
                $0.runtime.ttft = latency(mean: 0.2)
                $0.runtime.interTokenLatency = latency(mean: 0.048)
            },
        ],
        layer: .decode, verdict: .likely, route: "chat", revision: "r2"),
    DiagnoseCase(
        name: "a slow revision with big prefill is still decode, not prompt length",
        revisions: [
            healthy("r1", weight: 50),
            healthy("r2", weight: 50) {
                $0.runtime.ttft = latency(mean: 0.6)
                $0.runtime.interTokenLatency = latency(mean: 0.14)
            },
        ],
        layer: .decode, verdict: .likely, route: "chat", revision: "r2"),
    DiagnoseCase(
        name: "pods loading while traffic queues → rollout",
        revisions: [
            healthy("r1") {
                $0.rollout = RolloutSignals(pods: 1, ready: 1)
                $0.runtime.queueTime = latency(mean: 3, p95: 6)
                $0.runtime.ttft = latency(mean: 3.05, p95: 6.05)
                $0.runtime.waiting = 40
            },
            healthy("r2", weight: 0) {
                $0.rollout = RolloutSignals(pods: 2, ready: 0, loading: 2, oldestLoadingSeconds: 95)
                $0.runtime = RuntimeSignals()
            },
        ],
        layer: .rollout, verdict: .likely, route: "chat", revision: "r2"),
    DiagnoseCase(
        name: "queue without loading capacity → queue",
        revisions: [
            healthy("r1") {
                $0.runtime.queueTime = latency(mean: 2, p95: 4)
                $0.runtime.ttft = latency(mean: 2.05, p95: 4.05)
                $0.runtime.waiting = 20
            }
        ],
        layer: .queue, verdict: .likely, route: "chat", revision: "r1"),
    DiagnoseCase(
        name: "KV cache full with preemptions → kv-cache",
        revisions: [
            healthy("r1") {
                $0.runtime.kvCacheUsageMax = 0.97
                $0.runtime.preemptions = 12
            }
        ],
        layer: .kvCache, verdict: .likely, route: "chat", revision: "r1"),
    DiagnoseCase(
        name: "gateway adds a second → gateway",
        revisions: [
            healthy("r1") { $0.probe = ProbeSignals(gatewayTTFT: 1.1, directTTFT: 0.06) }
        ],
        layer: .gateway, verdict: .likely, route: "chat", revision: nil),
    DiagnoseCase(
        name: "weight on a revision without a ready pod → rollout",
        revisions: [
            healthy("r1", weight: 50),
            healthy("r2", weight: 50) {
                $0.rollout = RolloutSignals(pods: 1, ready: 0, loading: 1)
                $0.runtime = RuntimeSignals()
            },
        ],
        layer: .rollout, verdict: .likely, route: "chat", revision: "r2"),
]

@Suite struct DiagnoseTests {
    @Test(arguments: cases)
    func namesTheInjectedBottleneckFirst(_ scenario: DiagnoseCase) {
        let findings = TTFTDiagnosis.diagnose(scenario.revisions)
        let top = findings.first
        #expect(top?.layer == scenario.layer, "\(findings.map { "\($0.layer) \($0.verdict) \($0.score)" })")
        #expect(top?.verdict == scenario.verdict)
        #expect(top?.route == scenario.route)
        #expect(top?.revision == scenario.revision)
        #expect(Set(findings.map(\.layer)) == Set(DiagnosisLayer.allCases))
    }

    @Test func healthyFleetHasNoTopFindingAndNoDataIsNeverOK() throws {
        let report = DiagnosisReport(
            namespace: "llm-serving", generatedAt: Date(timeIntervalSince1970: 0), revisions: [healthy("r1")])
        #expect(report.top == nil)
        let gateway = try #require(report.findings.first { $0.layer == .gateway })
        #expect(gateway.verdict == .noData)
        // "no data" ranks above every "ok".
        #expect(report.findings.first?.layer == .gateway)
        #expect(report.findings.dropFirst().allSatisfy { $0.verdict == .ok })
    }

    /// With no queueing at all, histogram_quantile interpolates inside the first bucket of vLLM's queue-time
    /// histogram (0.95 × 0.3 s = 285 ms) — above the TTFT p95 itself. Seen against the emulator: that is no queue.
    @Test func queueQuantileInflatedByTheFirstBucketIsNotAQueue() {
        let report = DiagnosisReport(
            namespace: "llm-serving", generatedAt: Date(timeIntervalSince1970: 0),
            revisions: [
                healthy("r1") {
                    $0.runtime.ttft = latency(mean: 0.071, p95: 0.079)
                    $0.runtime.queueTime = latency(mean: 0.001, p50: 0.15, p95: 0.285)
                    $0.rollout.recentLoadSeconds = [421]
                }
            ])
        #expect(report.findings.first { $0.layer == .queue }?.verdict == .ok)
        #expect(report.top == nil || report.top?.layer == .rollout)
        #expect(report.findings.first { $0.layer == .rollout }?.signal.contains("traffic queued") == false)
    }

    @Test func unscrapedRevisionIsNoDataForEveryRuntimeLayer() {
        let revision = healthy("r1") { $0.runtime = RuntimeSignals() }
        let findings = TTFTDiagnosis.diagnose([revision])
        for layer in [DiagnosisLayer.queue, .prefill, .decode, .kvCache] {
            let finding = findings.first { $0.layer == layer }
            #expect(finding?.verdict == .noData, "\(layer)")
            #expect(finding?.signal.contains("no metrics scraped") == true)
        }
        #expect(findings.first { $0.layer == .rollout }?.verdict == .ok)
    }

    @Test func noRevisionsAtAllIsNoDataEverywhere() {
        let findings = TTFTDiagnosis.diagnose([])
        #expect(findings.count == DiagnosisLayer.allCases.count)
        #expect(findings.allSatisfy { $0.verdict == .noData })
    }

    @Test(arguments: [
        (usage: 0.5, preemptions: 0.0, verdict: DiagnosisVerdict.ok),
        (usage: 0.85, preemptions: 0.0, verdict: .suspect),
        (usage: 0.5, preemptions: 3.0, verdict: .suspect),
        (usage: 0.85, preemptions: 3.0, verdict: .likely),
        (usage: 0.96, preemptions: 0.0, verdict: .likely),
    ])
    func kvCacheThresholds(usage: Double, preemptions: Double, verdict: DiagnosisVerdict) {
        let revision = healthy("r1") {
            $0.runtime.kvCacheUsageMax = usage
            $0.runtime.preemptions = preemptions
        }
        #expect(TTFTDiagnosis.diagnose([revision]).first { $0.layer == .kvCache }?.verdict == verdict)
    }

    @Test(arguments: [
        (gateway: 0.08, direct: 0.06, verdict: DiagnosisVerdict.ok),
        (gateway: 0.35, direct: 0.06, verdict: .suspect),
        (gateway: 1.2, direct: 0.06, verdict: .likely),
    ])
    func gatewayThresholds(gateway: Double, direct: Double, verdict: DiagnosisVerdict) {
        let revision = healthy("r1") { $0.probe = ProbeSignals(gatewayTTFT: gateway, directTTFT: direct) }
        #expect(TTFTDiagnosis.diagnose([revision]).first { $0.layer == .gateway }?.verdict == verdict)
    }

    @Test func loadingPodsWithoutQueueAreOnlySuspect() {
        let revisions = [
            healthy("r1"),
            healthy("r2", weight: 0) {
                $0.rollout = RolloutSignals(pods: 1, ready: 0, loading: 1)
                $0.runtime = RuntimeSignals()
            },
        ]
        let rollout = TTFTDiagnosis.diagnose(revisions).first { $0.layer == .rollout }
        #expect(rollout?.verdict == .suspect)
        #expect(rollout?.revision == "r2")
    }

    @Test func longColdStartIsSuspect() {
        let revision = healthy("r1") { $0.rollout.recentLoadSeconds = [90, 420] }
        let rollout = TTFTDiagnosis.diagnose([revision]).first { $0.layer == .rollout }
        #expect(rollout?.verdict == .suspect)
        #expect(rollout?.signal.contains("model load up to 420 s") == true)
    }

    @Test func prefillFallsBackToTTFTMinusQueue() {
        let revision = healthy("r1") {
            $0.runtime.ttft = latency(mean: 1.5)
            $0.runtime.queueTime = latency(mean: 0.5)
        }
        #expect(abs((revision.prefillSeconds ?? 0) - 1.0) < 1e-9)
        var withHistogram = revision
        withHistogram.runtime.prefillTime = latency(mean: 0.8)
        #expect(abs((withHistogram.prefillSeconds ?? 0) - 0.8) < 1e-9)
    }
}

@Suite struct DiagnoseSignalsTests {
    static let bounds = ["0.01", "0.025", "0.05", "0.1", "0.5", "1.0", "2.5", "+Inf"]

    static func pod(engineLabel: Bool, waiting: Int, kv: Double, ttftSum: Double, v0: Bool = false) -> String {
        let labels = engineLabel ? "model_name=\"llama\",engine=\"0\"" : "model_name=\"llama\""
        let kvName = v0 ? "vllm:gpu_cache_usage_perc" : "vllm:kv_cache_usage_perc"
        let itlName = v0 ? "vllm:time_per_output_token_seconds" : "vllm:inter_token_latency_seconds"
        var lines = [
            "vllm:num_requests_waiting{\(labels)} \(waiting)",
            "vllm:num_requests_running{\(labels)} 2",
            "\(kvName){\(labels)} \(kv)",
            "vllm:prompt_tokens_total{\(labels)} 5000",
            "vllm:request_success_total{\(labels),finished_reason=\"length\"} 8",
            "vllm:request_success_total{\(labels),finished_reason=\"stop\"} 2",
            "vllm:request_success_total_created{\(labels),finished_reason=\"stop\"} 1.7e9",
        ]
        for (index, bound) in bounds.enumerated() {
            let count = index >= 4 ? 10 : 0
            lines.append("vllm:time_to_first_token_seconds_bucket{\(labels),le=\"\(bound)\"} \(count)")
            lines.append("\(itlName)_bucket{\(labels),le=\"\(bound)\"} \(index >= 1 ? 100 : 0)")
        }
        lines.append("vllm:time_to_first_token_seconds_sum{\(labels)} \(ttftSum)")
        lines.append("vllm:time_to_first_token_seconds_count{\(labels)} 10")
        lines.append("\(itlName)_sum{\(labels)} 2")
        lines.append("\(itlName)_count{\(labels)} 100")
        return lines.joined(separator: "\n")
    }

    @Test func sumsPodsOfMixedVersions() {
        let scrapes = [
            PrometheusText.parse(Self.pod(engineLabel: true, waiting: 3, kv: 0.4, ttftSum: 3)),
            PrometheusText.parse(Self.pod(engineLabel: false, waiting: 1, kv: 0.7, ttftSum: 5, v0: true)),
        ]
        let signals = RuntimeSignals.from(scrapes: scrapes, model: "llama")
        #expect(signals.scrapedPods == 2)
        #expect(signals.waiting == 4)
        #expect(signals.running == 4)
        #expect(signals.kvCacheUsageMax == 0.7)
        #expect(signals.ttft.count == 20)
        #expect(signals.ttft.mean == 0.4)
        #expect(signals.interTokenLatency.mean == 0.02)
        #expect(signals.promptTokensMean == 500)
        #expect(signals.queueTime == HistogramSummary())
        #expect(signals.preemptions == nil)
    }

    @Test func scrapeWithoutSamplesIsNoData() {
        let empty = PrometheusText.parse("""
            # HELP vllm:num_requests_waiting Number of requests waiting.
            # TYPE vllm:num_requests_waiting gauge
            """)
        let other = PrometheusText.parse(Self.pod(engineLabel: true, waiting: 3, kv: 0.4, ttftSum: 3))
        let signals = RuntimeSignals.from(scrapes: [empty], model: nil)
        #expect(signals == RuntimeSignals())
        #expect(RuntimeSignals.from(scrapes: [other], model: "mistral") == RuntimeSignals())
    }
}

@Suite struct DiagnosisReportTests {
    @Test func jsonHasEveryKeyEvenWhenUnknown() throws {
        let revision = healthy("r1") { $0.runtime = RuntimeSignals() }
        let report = DiagnosisReport(
            namespace: "llm-serving", route: "chat", generatedAt: Date(timeIntervalSince1970: 0),
            revisions: [revision], warnings: ["pod x: unreachable"])
        let json = report.json
        #expect(json["schemaVersion"] == 1)
        #expect(json["route"] == "chat")
        #expect(json["generatedAt"] == "1970-01-01T00:00:00Z")
        #expect(json["warnings"] == ["pod x: unreachable"])
        let row = try #require(json["revisions"]?.arrayValue?.first?.objectValue)
        let expectedKeys: Set<String> = [
            "route", "class", "revision", "service", "weight", "model", "pods", "readyPods", "loadingPods",
            "scrapedPods", "requests", "ttftP50Seconds", "ttftP95Seconds", "ttftMeanSeconds", "queueWaitP95Seconds",
            "queueWaitMeanSeconds", "prefillMeanSeconds", "promptTokensMean", "interTokenLatencyMeanSeconds",
            "waiting", "running", "kvCacheUsageMax", "preemptions", "oldestLoadingSeconds", "recentLoadSeconds",
            "readinessDelaySeconds", "rolloutPhase", "gatewayTtftSeconds", "directTtftSeconds", "probeError",
        ]
        #expect(Set(row.keys) == expectedKeys)
        #expect(row["ttftP95Seconds"] == .null)
        let finding = try #require(json["findings"]?.arrayValue?.first?.objectValue)
        #expect(Set(finding.keys) == ["layer", "title", "verdict", "score", "signal", "action", "route", "class",
                                      "revision"])
        // Every runtime layer is "no-data" and the rollout is ok: no top finding.
        #expect(json["top"] == .null)
        let verdicts = json["findings"]?.arrayValue?.compactMap { $0["verdict"]?.stringValue } ?? []
        #expect(verdicts == ["no-data", "no-data", "no-data", "no-data", "no-data", "ok"])
    }

    @Test func textLeadsWithTheTopFindingAndItsAction() {
        let revisions = [
            healthy("r1"),
            healthy("docs-r1", route: "docs") {
                $0.runtime.ttft = latency(mean: 1.25)
                $0.runtime.promptTokensMean = 6000
            },
        ]
        let report = DiagnosisReport(namespace: "llm-serving", generatedAt: Date(), revisions: revisions)
        let lines = report.text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("Most likely cause: prefill / prompt length (likely)") })
        #expect(lines.contains { $0.contains("do:") && $0.contains("separate long-context traffic") })
        #expect(lines.contains { $0.hasPrefix("docs ") && $0.contains("docs-r1") })
    }
}
