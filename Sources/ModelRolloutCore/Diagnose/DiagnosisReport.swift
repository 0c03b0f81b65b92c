import Foundation
import KubeCore

/// The result of `modelrollout diagnose`: the decision table (one finding per layer, most likely cause first),
/// the TTFT split by route, request class and revision, and what could not be measured.
///
/// Its JSON form (``json``) is a stable schema (version 1); every key is always present, `null` when unknown.
public struct DiagnosisReport: Sendable, Equatable {
    /// The JSON schema version.
    public static let schemaVersion = 1

    public var namespace: String
    /// The `--route` filter, when one was given.
    public var route: String?
    public var generatedAt: Date
    /// One finding per layer, sorted with the most likely cause of a TTFT regression first.
    public var findings: [DiagnosisFinding]
    /// The signals that the findings were computed from, one per route rule backend.
    public var revisions: [RevisionSignals]
    /// Things that could not be read (unreachable pods, missing objects), one line each.
    public var warnings: [String]

    /// Diagnoses `revisions` and builds the report.
    public init(
        namespace: String, route: String? = nil, generatedAt: Date, revisions: [RevisionSignals],
        warnings: [String] = [], thresholds: DiagnosisThresholds = DiagnosisThresholds()
    ) {
        self.namespace = namespace
        self.route = route
        self.generatedAt = generatedAt
        self.revisions = revisions
        self.warnings = warnings
        self.findings = TTFTDiagnosis.diagnose(revisions, thresholds: thresholds)
    }

    /// The most likely cause: the first finding when it is `likely` or `suspect`.
    public var top: DiagnosisFinding? {
        guard let first = findings.first, first.verdict == .likely || first.verdict == .suspect else { return nil }
        return first
    }

    // MARK: - JSON

    /// The machine-readable report (schema version 1).
    public var json: JSONValue {
        [
            "schemaVersion": .int(Int64(Self.schemaVersion)),
            "namespace": .string(namespace),
            "route": route.map(JSONValue.string) ?? .null,
            "generatedAt": .string(KubeTime.format(generatedAt)),
            "top": top.map(Self.json) ?? .null,
            "findings": .array(findings.map(Self.json)),
            "revisions": .array(revisions.map(Self.json)),
            "warnings": .array(warnings.map(JSONValue.string)),
        ]
    }

    static func json(_ finding: DiagnosisFinding) -> JSONValue {
        [
            "layer": .string(finding.layer.rawValue),
            "title": .string(finding.layer.title),
            "verdict": .string(finding.verdict.rawValue),
            "score": number((finding.score * 1000).rounded() / 1000),
            "signal": .string(finding.signal),
            "action": .string(finding.action),
            "route": string(finding.route),
            "class": string(finding.requestClass),
            "revision": string(finding.revision),
        ]
    }

    static func json(_ revision: RevisionSignals) -> JSONValue {
        let runtime = revision.runtime
        let rollout = revision.rollout
        return [
            "route": .string(revision.route),
            "class": .string(revision.requestClass),
            "revision": .string(revision.revision),
            "service": .string(revision.service),
            "weight": .int(Int64(revision.weight)),
            "model": string(revision.model),
            "pods": .int(Int64(rollout.pods)),
            "readyPods": .int(Int64(rollout.ready)),
            "loadingPods": .int(Int64(rollout.loading)),
            "scrapedPods": .int(Int64(runtime.scrapedPods)),
            "requests": number(runtime.ttft.count),
            "ttftP50Seconds": number(runtime.ttft.p50),
            "ttftP95Seconds": number(runtime.ttft.p95),
            "ttftMeanSeconds": number(runtime.ttft.mean),
            "queueWaitP95Seconds": number(runtime.queueTime.p95),
            "queueWaitMeanSeconds": number(runtime.queueTime.mean),
            "prefillMeanSeconds": number(revision.prefillSeconds),
            "promptTokensMean": number(revision.promptTokens),
            "interTokenLatencyMeanSeconds": number(runtime.interTokenLatency.mean ?? runtime.interTokenLatency.p50),
            "waiting": number(runtime.waiting),
            "running": number(runtime.running),
            "kvCacheUsageMax": number(runtime.kvCacheUsageMax),
            "preemptions": number(runtime.preemptions),
            "oldestLoadingSeconds": number(rollout.oldestLoadingSeconds),
            "recentLoadSeconds": .array(rollout.recentLoadSeconds.map { number($0) }),
            "readinessDelaySeconds": .array(rollout.readinessDelaySeconds.map { number($0) }),
            "rolloutPhase": string(rollout.rolloutPhase),
            "gatewayTtftSeconds": number(revision.probe?.gatewayTTFT),
            "directTtftSeconds": number(revision.probe?.directTTFT),
            "probeError": string(revision.probe?.error),
        ]
    }

    static func number(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .double((value * 1_000_000).rounded() / 1_000_000)
    }

    static func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    // MARK: - Text

    /// The report for people: the most likely cause and what to do, the decision table, the TTFT split.
    public var text: String {
        var lines: [String] = []
        let scope = route.map { "route \($0) in namespace \(namespace)" } ?? "namespace \(namespace)"
        lines.append("TTFT diagnosis for \(scope)")
        lines.append("")
        if let top {
            let location = [top.route.map { "route \($0)" }, top.revision.map { "revision \($0)" }]
                .compactMap { $0 }.joined(separator: ", ")
            lines.append("Most likely cause: \(top.layer.title) (\(top.verdict.text))"
                + (location.isEmpty ? "" : " — \(location)"))
            lines.append("  signal: \(top.signal)")
            lines.append("  do:     \(top.action)")
        } else {
            lines.append("No layer stands out: every measured signal is within its threshold.")
        }
        lines.append("")
        var table: [[String]] = [["LAYER", "VERDICT", "WHERE", "SIGNAL"]]
        for finding in findings {
            let location = [finding.route, finding.revision].compactMap { $0 }.joined(separator: "/")
            table.append([finding.layer.title, finding.verdict.text, location.isEmpty ? "-" : location,
                          finding.signal])
        }
        lines += Self.columns(table)
        lines.append("")
        lines.append("Actions:")
        for finding in findings where finding.verdict != .ok {
            lines.append("  \(finding.layer.title): \(finding.action)")
        }
        lines.append("")
        var split: [[String]] = [["ROUTE", "CLASS", "REVISION", "WEIGHT", "READY", "TTFT P50", "TTFT P95",
                                  "QUEUE P95", "PREFILL", "PROMPT", "ITL", "KV"]]
        for revision in revisions {
            let runtime = revision.runtime
            split.append([
                revision.route, revision.requestClass, revision.revision, String(revision.weight),
                "\(revision.rollout.ready)/\(revision.rollout.pods)",
                Self.seconds(runtime.ttft.p50), Self.seconds(runtime.ttft.p95), Self.seconds(runtime.queueTime.p95),
                Self.seconds(revision.prefillSeconds),
                revision.promptTokens.map { DiagnosisFormat.number($0.rounded()) } ?? "-",
                Self.seconds(runtime.interTokenLatency.mean ?? runtime.interTokenLatency.p50),
                runtime.kvCacheUsageMax.map(DiagnosisFormat.percent) ?? "-",
            ])
        }
        lines.append("TTFT by route, class and revision:")
        lines += Self.columns(split)
        if !warnings.isEmpty {
            lines.append("")
            lines.append("Warnings:")
            lines += warnings.map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    static func seconds(_ value: Double?) -> String { value.map(DiagnosisFormat.seconds) ?? "-" }

    /// Left-aligned columns separated by three spaces (the last column is not padded).
    static func columns(_ rows: [[String]]) -> [String] {
        let count = rows.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "   ")
        }
    }
}
