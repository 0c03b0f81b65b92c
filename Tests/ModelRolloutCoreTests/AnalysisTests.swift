import Foundation
import Testing

@testable import ModelRolloutCore

/// A window whose `n` observations all fall in the bucket `(lower, upper]`: p95 = lower + 0.95 × (upper − lower).
private func uniform(_ n: Double, _ lower: Double, _ upper: Double) -> PrometheusHistogram {
    PrometheusHistogram(
        name: "h", labels: [:],
        buckets: [HistogramBucket(upperBound: lower, cumulativeCount: 0),
                  HistogramBucket(upperBound: upper, cumulativeCount: n),
                  HistogramBucket(upperBound: .infinity, cumulativeCount: n)],
        count: n)
}

/// A window with `requests` completed requests, `errors` aborts, TTFT p95 ≈ `ttft` and queue p95 ≈ `queue`.
private func window(_ requests: Double, errors: Double = 0, ttft: Double? = 1.0, queue: Double? = 0.1)
    -> RevisionWindow
{
    RevisionWindow(
        requests: requests, errors: errors,
        ttft: ttft.map { uniform(requests, 0, $0 / 0.95) },
        queueTime: queue.map { uniform(requests, 0, $0 / 0.95) }, seconds: 60, pods: 1)
}

private let spec = AnalysisSpec(
    minSamples: 50, ttftP95: KubeDuration(seconds: 2.5), ttftRatio: 1.2, queueWaitP95: KubeDuration(seconds: 1),
    maxErrorRate: 0.01)

@Suite struct AnalysisTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var candidate: RevisionWindow
        var stable: RevisionWindow?
        var spec: AnalysisSpec = AnalysisTests.defaultSpec
        var verdict: AnalysisVerdict
        var reasonCount: Int
        var reasonContains: [String] = []
        var testDescription: String { name }
    }

    static let defaultSpec = spec

    static let cases: [Case] = [
        Case(name: "healthy candidate passes", candidate: window(200, ttft: 1.0), stable: window(400, ttft: 1.0),
             verdict: .pass, reasonCount: 0),
        Case(name: "too few candidate samples is inconclusive even when fine", candidate: window(49),
             stable: window(400), verdict: .inconclusive, reasonCount: 1, reasonContains: ["49 samples"]),
        Case(name: "too few samples is inconclusive even with a breach", candidate: window(10, ttft: 9),
             stable: window(400), verdict: .inconclusive, reasonCount: 1),
        Case(name: "no histogram data at all is inconclusive",
             candidate: window(500, ttft: nil, queue: nil), stable: window(400), verdict: .inconclusive,
             reasonCount: 1, reasonContains: ["histogram"]),
        Case(name: "absolute TTFT ceiling breached", candidate: window(200, ttft: 3.0),
             stable: window(400, ttft: 2.9), verdict: .fail, reasonCount: 1, reasonContains: ["TTFT p95 3s"]),
        Case(name: "queue wait ceiling breached", candidate: window(200, queue: 1.5), stable: window(400),
             verdict: .fail, reasonCount: 1, reasonContains: ["queue wait p95 1.5s exceeds 1s"]),
        Case(name: "error rate ceiling breached", candidate: window(200, errors: 4), stable: window(400),
             verdict: .fail, reasonCount: 1, reasonContains: ["error rate 2% exceeds 1%"]),
        Case(name: "error rate at the ceiling passes", candidate: window(200, errors: 2), stable: window(400),
             verdict: .pass, reasonCount: 0),
        Case(name: "ratio breached", candidate: window(200, ttft: 1.3), stable: window(400, ttft: 1.0),
             verdict: .fail, reasonCount: 1, reasonContains: ["ratio 1.3 exceeds 1.2"]),
        Case(name: "every breach is reported", candidate: window(200, errors: 20, ttft: 5, queue: 3),
             stable: window(400, ttft: 1), verdict: .fail, reasonCount: 4),
        Case(name: "ratio skipped without a stable side, absolute checks pass", candidate: window(200),
             stable: nil, verdict: .pass, reasonCount: 1, reasonContains: ["no stable revision"]),
        Case(name: "ratio skipped when stable has too few samples", candidate: window(200, ttft: 2.0),
             stable: window(20, ttft: 0.5), verdict: .pass, reasonCount: 1, reasonContains: ["stable has 20"]),
        Case(name: "ratio skipped but absolute check still fails", candidate: window(200, ttft: 4.0),
             stable: window(20), verdict: .fail, reasonCount: 2),
        Case(name: "no thresholds configured passes",
             candidate: window(200, errors: 100, ttft: 30, queue: 30), stable: window(400),
             spec: AnalysisSpec(minSamples: 50, ttftP95: nil, ttftRatio: nil, queueWaitP95: nil,
                                maxErrorRate: nil),
             verdict: .pass, reasonCount: 0),
        Case(name: "missing queue histogram skips that check", candidate: window(200, queue: nil),
             stable: window(400), verdict: .pass, reasonCount: 1, reasonContains: ["queue wait p95 check skipped"]),
        Case(name: "minSamples 0 with data passes", candidate: window(1), stable: window(1),
             spec: AnalysisSpec(minSamples: 0), verdict: .pass, reasonCount: 0),
    ]

    @Test(arguments: cases)
    func rules(_ c: Case) {
        let result = CandidateAnalysis.analyse(candidate: c.candidate, stable: c.stable, spec: c.spec)
        #expect(result.verdict == c.verdict)
        #expect(result.reasons.count == c.reasonCount, "\(result.reasons)")
        for text in c.reasonContains {
            #expect(result.reasons.contains { $0.contains(text) }, "\(result.reasons)")
        }
    }

    @Test func measurementsAndInputs() {
        let result = CandidateAnalysis.analyse(
            candidate: window(250, errors: 1, ttft: 1.84, queue: 0.25), stable: window(400, ttft: 1.60),
            spec: spec)
        let m = result.measurements
        #expect(m.candidateSamples == 250)
        #expect(m.stableSamples == 400)
        #expect(abs((m.candidateTtftP95 ?? 0) - 1.84) < 1e-9)
        #expect(abs((m.stableTtftP95 ?? 0) - 1.60) < 1e-9)
        #expect(abs((m.ttftRatio ?? 0) - 1.84 / 1.60) < 1e-9)
        #expect(abs((m.candidateQueueWaitP95 ?? 0) - 0.25) < 1e-9)
        #expect(m.candidateErrorRate == 0.004)
        #expect(result.verdict == .pass)
        #expect(result.inputs == [
            "verdict": "Pass", "candidateSamples": "250", "stableSamples": "400", "candidateTtftP95": "1.84s",
            "stableTtftP95": "1.6s", "ttftRatio": "1.15", "candidateQueueWaitP95": "250ms",
            "candidateErrorRate": "0.4%",
        ])
    }

    @Test func samplesFallBackToTtftObservationsWithoutACounter() {
        let noCounter = RevisionWindow(requests: 0, ttft: uniform(80, 0, 1), seconds: 30, pods: 1)
        let result = CandidateAnalysis.analyse(candidate: noCounter, stable: nil, spec: spec)
        #expect(result.measurements.candidateSamples == 80)
        #expect(result.measurements.candidateErrorRate == nil)
        #expect(result.verdict == .pass)
        #expect(result.reasons.contains { $0.contains("error rate check skipped") })
    }

    @Test func stableWithZeroTtftSkipsTheRatio() {
        let zero = RevisionWindow(
            requests: 400,
            ttft: PrometheusHistogram(name: "h", labels: [:], buckets: [
                HistogramBucket(upperBound: 0, cumulativeCount: 400),
                HistogramBucket(upperBound: .infinity, cumulativeCount: 400),
            ]),
            seconds: 60, pods: 1)
        let result = CandidateAnalysis.analyse(candidate: window(200), stable: zero, spec: spec)
        #expect(result.measurements.ttftRatio == nil)
        #expect(result.verdict == .pass)
        #expect(result.reasons.contains { $0.contains("stable TTFT p95 unavailable") })
    }

    @Test func measurementsEncodeAsJSON() throws {
        let result = CandidateAnalysis.analyse(candidate: window(200), stable: nil, spec: spec)
        let data = try JSONEncoder().encode(result.measurements)
        let decoded = try JSONDecoder().decode(AnalysisMeasurements.self, from: data)
        #expect(decoded == result.measurements)
    }

    struct FormatCase: Sendable, CustomTestStringConvertible {
        var value: Double
        var kind: String
        var text: String
        var testDescription: String { "\(kind) \(value) → \(text)" }
    }

    @Test(arguments: [
        FormatCase(value: 1.8423, kind: "seconds", text: "1.84s"),
        FormatCase(value: 14.23, kind: "seconds", text: "14.2s"),
        FormatCase(value: 2, kind: "seconds", text: "2s"),
        FormatCase(value: 0.85, kind: "seconds", text: "850ms"),
        FormatCase(value: 0.00049, kind: "seconds", text: "0.5ms"),
        FormatCase(value: 0, kind: "seconds", text: "0s"),
        FormatCase(value: 0.004, kind: "percent", text: "0.4%"),
        FormatCase(value: 0.0125, kind: "percent", text: "1.25%"),
        FormatCase(value: 0, kind: "percent", text: "0%"),
        FormatCase(value: 1.2105, kind: "ratio", text: "1.21"),
        FormatCase(value: 1, kind: "ratio", text: "1"),
        FormatCase(value: 250, kind: "count", text: "250"),
        FormatCase(value: 12.34, kind: "count", text: "12.3"),
    ])
    func formats(_ c: FormatCase) {
        let text: String
        switch c.kind {
        case "seconds": text = AnalysisFormat.seconds(c.value)
        case "percent": text = AnalysisFormat.percent(c.value)
        case "ratio": text = AnalysisFormat.ratio(c.value)
        default: text = AnalysisFormat.count(c.value)
        }
        #expect(text == c.text)
    }
}
