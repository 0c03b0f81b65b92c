import Foundation

/// The numbers one candidate analysis looked at (all `nil` when unknown; never NaN or infinite).
public struct AnalysisMeasurements: Sendable, Equatable, Codable {
    public var candidateSamples: Double
    public var stableSamples: Double
    public var candidateTtftP95: Double?
    public var stableTtftP95: Double?
    /// Candidate TTFT p95 ÷ stable TTFT p95.
    public var ttftRatio: Double?
    public var candidateQueueWaitP95: Double?
    /// Aborted ÷ completed requests of the candidate.
    public var candidateErrorRate: Double?

    /// Creates measurements.
    public init(
        candidateSamples: Double = 0, stableSamples: Double = 0, candidateTtftP95: Double? = nil,
        stableTtftP95: Double? = nil, ttftRatio: Double? = nil, candidateQueueWaitP95: Double? = nil,
        candidateErrorRate: Double? = nil
    ) {
        self.candidateSamples = candidateSamples
        self.stableSamples = stableSamples
        self.candidateTtftP95 = candidateTtftP95
        self.stableTtftP95 = stableTtftP95
        self.ttftRatio = ttftRatio
        self.candidateQueueWaitP95 = candidateQueueWaitP95
        self.candidateErrorRate = candidateErrorRate
    }
}

/// The verdict of one candidate analysis, why, and what it measured.
public struct AnalysisResult: Sendable, Equatable {
    public var verdict: AnalysisVerdict
    /// One sentence per breach (fail), per missing precondition (inconclusive) or per skipped check (pass).
    public var reasons: [String]
    public var measurements: AnalysisMeasurements

    /// Creates a result.
    public init(verdict: AnalysisVerdict, reasons: [String], measurements: AnalysisMeasurements) {
        self.verdict = verdict
        self.reasons = reasons
        self.measurements = measurements
    }

    /// The measurements as compact strings for a ``DecisionRecord`` (`"1.84s"`, `"0.4%"`, `"1.21"`);
    /// unknown values are left out.
    public var inputs: [String: String] {
        var out: [String: String] = [
            "verdict": verdict.rawValue,
            "candidateSamples": AnalysisFormat.count(measurements.candidateSamples),
            "stableSamples": AnalysisFormat.count(measurements.stableSamples),
        ]
        out["candidateTtftP95"] = measurements.candidateTtftP95.map(AnalysisFormat.seconds)
        out["stableTtftP95"] = measurements.stableTtftP95.map(AnalysisFormat.seconds)
        out["ttftRatio"] = measurements.ttftRatio.map(AnalysisFormat.ratio)
        out["candidateQueueWaitP95"] = measurements.candidateQueueWaitP95.map(AnalysisFormat.seconds)
        out["candidateErrorRate"] = measurements.candidateErrorRate.map(AnalysisFormat.percent)
        return out
    }
}

/// Compares a candidate revision's window with the stable one's against an ``AnalysisSpec``. Pure.
///
/// Rules, in order:
/// 1. A candidate with no TTFT and no queue-time histogram data → `Inconclusive`.
/// 2. Candidate samples < `minSamples` → `Inconclusive` (never `Pass`). Samples are the completed requests
///    of the window, or the TTFT observations when the runtime exports no request counter.
/// 3. Each configured absolute ceiling (`ttftP95`, `queueWaitP95`, `maxErrorRate`) the candidate exceeds is a
///    breach. A ceiling whose measurement is unavailable is skipped with a reason.
/// 4. `ttftRatio` needs the stable side with ≥ `minSamples` samples and a positive TTFT p95; otherwise the
///    check is skipped with a reason (the absolute checks still decide). A ratio above the ceiling is a breach.
/// 5. Any breach → `Fail` (one reason per breach); else `Pass`.
/// Percentiles are `histogram_quantile(0.95, ...)` over the window's bucket deltas.
public enum CandidateAnalysis {
    /// Analyses the candidate; see the rules above.
    public static func analyse(candidate: RevisionWindow, stable: RevisionWindow?, spec: AnalysisSpec)
        -> AnalysisResult
    {
        let minSamples = Double(max(spec.minSamples, 0))
        var m = AnalysisMeasurements(
            candidateSamples: samples(candidate), stableSamples: stable.map(samples) ?? 0,
            candidateTtftP95: p95(candidate.ttft), stableTtftP95: stable.flatMap { p95($0.ttft) },
            candidateQueueWaitP95: p95(candidate.queueTime),
            candidateErrorRate: finite(candidate.errorRate))
        if let c = m.candidateTtftP95, let s = m.stableTtftP95, s > 0 { m.ttftRatio = finite(c / s) }

        let hasHistograms = (candidate.ttft?.observations ?? 0) > 0 || (candidate.queueTime?.observations ?? 0) > 0
        guard hasHistograms else {
            return AnalysisResult(
                verdict: .inconclusive, reasons: ["candidate has no TTFT or queue-time histogram data"],
                measurements: m)
        }
        guard m.candidateSamples >= minSamples else {
            return AnalysisResult(
                verdict: .inconclusive,
                reasons: ["candidate has \(AnalysisFormat.count(m.candidateSamples)) samples, fewer than "
                    + "minSamples \(spec.minSamples)"],
                measurements: m)
        }
        var breaches: [String] = []
        var notes: [String] = []
        if let ceiling = spec.ttftP95 {
            if let value = m.candidateTtftP95 {
                if value > ceiling.seconds {
                    breaches.append("candidate TTFT p95 \(AnalysisFormat.seconds(value)) exceeds "
                        + AnalysisFormat.seconds(ceiling.seconds))
                }
            } else {
                notes.append("TTFT p95 check skipped: candidate TTFT unavailable")
            }
        }
        if let ceiling = spec.queueWaitP95 {
            if let value = m.candidateQueueWaitP95 {
                if value > ceiling.seconds {
                    breaches.append("candidate queue wait p95 \(AnalysisFormat.seconds(value)) exceeds "
                        + AnalysisFormat.seconds(ceiling.seconds))
                }
            } else {
                notes.append("queue wait p95 check skipped: candidate queue time unavailable")
            }
        }
        if let ceiling = spec.maxErrorRate {
            if let value = m.candidateErrorRate {
                if value > ceiling {
                    breaches.append("candidate error rate \(AnalysisFormat.percent(value)) exceeds "
                        + AnalysisFormat.percent(ceiling))
                }
            } else {
                notes.append("error rate check skipped: candidate request counter unavailable")
            }
        }
        if let ceiling = spec.ttftRatio {
            if let skipped = ratioSkipReason(stable: stable, m: m, minSamples: minSamples, spec: spec) {
                notes.append(skipped)
            } else if let ratio = m.ttftRatio, ratio > ceiling {
                breaches.append("candidate/stable TTFT p95 ratio \(AnalysisFormat.ratio(ratio)) exceeds "
                    + AnalysisFormat.ratio(ceiling))
            }
        }
        if !breaches.isEmpty {
            return AnalysisResult(verdict: .fail, reasons: breaches + notes, measurements: m)
        }
        return AnalysisResult(verdict: .pass, reasons: notes, measurements: m)
    }

    /// The samples of a window: completed requests, or TTFT observations without a request counter.
    static func samples(_ window: RevisionWindow) -> Double {
        if window.requests > 0 { return window.requests }
        return finite(window.ttft?.observations) ?? 0
    }

    private static func ratioSkipReason(
        stable: RevisionWindow?, m: AnalysisMeasurements, minSamples: Double, spec: AnalysisSpec
    ) -> String? {
        guard stable != nil else { return "TTFT ratio check skipped: no stable revision to compare with" }
        if m.stableSamples < minSamples {
            return "TTFT ratio check skipped: stable has \(AnalysisFormat.count(m.stableSamples)) samples, "
                + "fewer than minSamples \(spec.minSamples)"
        }
        guard let stableP95 = m.stableTtftP95, stableP95 > 0 else {
            return "TTFT ratio check skipped: stable TTFT p95 unavailable"
        }
        if m.candidateTtftP95 == nil { return "TTFT ratio check skipped: candidate TTFT unavailable" }
        return nil
    }

    private static func p95(_ histogram: PrometheusHistogram?) -> Double? {
        finite(histogram?.quantile(0.95))
    }
}

/// Compact number formats for decision inputs and messages.
public enum AnalysisFormat {
    /// `1.84s`, `14.2s`, `850ms`, `0.5ms`, `0s`.
    public static func seconds(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        if value == 0 { return "0s" }
        if abs(value) >= 10 { return trimmed(value, digits: 1) + "s" }
        if abs(value) >= 1 { return trimmed(value, digits: 2) + "s" }
        return trimmed(value * 1000, digits: 1) + "ms"
    }

    /// A fraction as percent: `0.004` → `0.4%`, `0.0125` → `1.25%`.
    public static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "\(fraction)" }
        return trimmed(fraction * 100, digits: 2) + "%"
    }

    /// A ratio with two decimals: `1.21`, `1`.
    public static func ratio(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        return trimmed(value, digits: 2)
    }

    /// A count: whole numbers without decimals, else one decimal.
    public static func count(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        return trimmed(value, digits: 1)
    }

    static func trimmed(_ value: Double, digits: Int) -> String {
        var text = String(format: "%.\(digits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        if text == "-0" { text = "0" }
        return text
    }
}

private func finite(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}
