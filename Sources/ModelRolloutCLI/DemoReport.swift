import ClusterSim
import Foundation
import KubeCore

/// What one side of the demo (ModelRollout or the naive rolling update) measured. Times are seconds; TTFTs are
/// simulated serving seconds, which equal wall seconds (the demo serves requests in real time).
struct DemoSideResult: Sendable {
    var name: String
    /// p95 TTFT of the steady load before the revision (this side's own baseline).
    var baselineTtftP95: Double?
    /// p95 TTFT of the requests that started during the revision; a request that never got a token counts with
    /// the time the client waited before giving up (as the benchmark counts a timeout at the timeout).
    var ttftP95DuringRevision: Double?
    var ttftP50DuringRevision: Double?
    /// Requests that started during the revision.
    var requests: Int
    /// Attempts (retries included) the gateway sent to pods whose model was still loading.
    var requestsToLoadingPods: Int
    /// Requests that got no token even after retrying.
    var failedRequests: Int
    /// Requests that needed more than one attempt.
    var retriedRequests: Int
    /// Attempts that failed (503, connection refused) and were retried or given up.
    var failedAttempts: Int
    /// Wall seconds from the revision's start to its completion.
    var completedSeconds: Double?
    var completed: Bool
    /// How the revision ended (e.g. `Promoted`, `rolling update complete`).
    var outcome: String

    /// Summarises the records of requests that started during the revision.
    init(
        name: String, baseline: [LoadGenerator.Record], revision: [LoadGenerator.Record], completedSeconds: Double?,
        outcome: String
    ) {
        self.name = name
        baselineTtftP95 = Self.percentile(baseline, 0.95)
        ttftP95DuringRevision = Self.percentile(revision, 0.95)
        ttftP50DuringRevision = Self.percentile(revision, 0.50)
        requests = revision.count
        requestsToLoadingPods = revision.reduce(0) { $0 + $1.attemptsToUnloadedPods }
        failedRequests = revision.filter { $0.ttftSeconds == nil }.count
        retriedRequests = revision.filter { $0.attempts > 1 }.count
        failedAttempts = revision.reduce(0) { $0 + $1.attempts - ($1.ttftSeconds == nil ? 0 : 1) }
        self.completedSeconds = completedSeconds
        completed = completedSeconds != nil
        self.outcome = outcome
    }

    /// The nearest-rank percentile of the TTFTs; a request without a token counts with the seconds the client
    /// waited before giving up (at least as slow as it was for the user). nil without records.
    static func percentile(_ records: [LoadGenerator.Record], _ p: Double) -> Double? {
        Percentile.nearestRank(sorted: records.map { $0.ttftSeconds ?? $0.totalSeconds }.sorted(), p)
    }

    var json: JSONValue {
        [
            "ttftP95DuringRevision": Self.number(ttftP95DuringRevision),
            "ttftP50DuringRevision": Self.number(ttftP50DuringRevision),
            "baselineTtftP95": Self.number(baselineTtftP95),
            "requests": .int(Int64(requests)),
            "requestsToLoadingPods": .int(Int64(requestsToLoadingPods)),
            "failedRequests": .int(Int64(failedRequests)),
            "retriedRequests": .int(Int64(retriedRequests)),
            "failedAttempts": .int(Int64(failedAttempts)),
            "completedSeconds": Self.number(completedSeconds),
            "completed": .bool(completed),
            "outcome": .string(outcome),
        ]
    }

    static func number(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .double((value * 1000).rounded() / 1000)
    }
}

/// The demo's summary: the table for people and the `--json` document.
struct DemoReport: Sendable {
    var scenario: DemoScenario
    var timeScale: Double
    var baselineTtftP95: Double?
    var modelRollout: DemoSideResult
    var naive: DemoSideResult?
    var wallSeconds: Double

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "baselineTtftP95": DemoSideResult.number(baselineTtftP95),
            "ttftUnit": "simulated serving seconds (= wall seconds: requests are served in real time)",
            "modelrollout": modelRollout.json,
            "wallSeconds": DemoSideResult.number(wallSeconds),
            "scenario": [
                "replicas": .int(Int64(scenario.replicas)), "rate": .double(scenario.rate),
                "promptTokens": .int(Int64(scenario.promptTokens)), "maxTokens": .int(Int64(scenario.maxTokens)),
                "maxNumSeqs": .int(Int64(scenario.maxNumSeqs)), "modelLoadSeconds": .double(scenario.loadSeconds),
                "readinessProbe": .string(scenario.probe), "timeScale": .double(timeScale),
            ],
        ]
        if let naive { object["naive"] = naive.json }
        return .object(object)
    }

    /// The summary table.
    var table: String {
        let sides = [modelRollout] + (naive.map { [$0] } ?? [])
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.2f s", $0) } ?? "n/a" }
        func p95(_ side: DemoSideResult) -> String {
            if let value = side.ttftP95DuringRevision { return String(format: "%.2f s", value) }
            return "n/a"
        }
        let rows: [(String, (DemoSideResult) -> String)] = [
            ("baseline p95 TTFT (steady load)", { seconds($0.baselineTtftP95) }),
            ("p95 TTFT during the revision", p95),
            ("p50 TTFT during the revision", { seconds($0.ttftP50DuringRevision) }),
            ("requests during the revision", { String($0.requests) }),
            ("requests sent to loading pods", { String($0.requestsToLoadingPods) }),
            ("requests retried by the client", { String($0.retriedRequests) }),
            ("requests failed after retries", { String($0.failedRequests) }),
            ("time to complete (wall)", { $0.completedSeconds.map { String(format: "%.1f s", $0) } ?? "did not" }),
            ("outcome", { $0.outcome }),
        ]
        let first = 34
        let column = 26
        var lines: [String] = []
        let header = sides.map { $0.name.padding(toLength: column, withPad: " ", startingAt: 0) }.joined()
        lines.append("".padding(toLength: first, withPad: " ", startingAt: 0) + header)
        for (label, cell) in rows {
            lines.append(
                label.padding(toLength: first, withPad: " ", startingAt: 0)
                    + sides.map { cell($0).padding(toLength: column, withPad: " ", startingAt: 0) }.joined())
        }
        return lines.map { $0.trimmingCharacters(in: .whitespaces) == "" ? "" : "  " + $0 }.joined(separator: "\n")
    }
}
