import Foundation

/// One acceptance relation of issue 4, evaluated on a report.
public struct AcceptanceCheck: Sendable, Hashable {
    public var scenario: String
    /// What is required, e.g. `modelrollout ttftP95 ≤ 1.1 × baseline`.
    public var requirement: String
    /// The measured values, e.g. `0.331 s ≤ 0.352 s`.
    public var measured: String
    public var passed: Bool
    /// For a relation that fails: why it is not met yet, when that is understood (``knownGaps``).
    public var gap: String? { passed ? nil : Self.knownGaps["\(scenario)|\(requirement)"] }

    /// Relations the simulation shows failing, and why: not tuned away, reported with the numbers.
    public static let knownGaps: [String: String] = [
        "ramp|modelrollout sloAttainment ≥ oracle − 0.01":
            "the 2-replica fleet at 70 % load saturates ~64 s into the ramp, a 4-minute cold start before any pod "
                + "ordered at the ramp's start can serve; only foresight (or a standing buffer) avoids that overload",
        "ramp|modelrollout sloAttainment ≥ aibrix-predictive":
            "within the seeds' spread: the straight-line projection over-orders during the ramp (peak 16 pods, "
                + "~1.6× the oracle's GPU-minutes) and drains the backlog sooner; with the trend extrapolated over "
                + "0.9 of the cold start modelrollout is ahead on the 5-seed mean over 30 minutes, behind on "
                + "single seeds (seed 1: 0.862 vs 0.896) and in the first 20 minutes (the reduced test run)",
        "surge|modelrollout sloAttainment ≥ naive":
            "until capacity arrives the ready pods' queues hold more than 2 s of work, so every request they "
                + "serve misses the TTFT SLO; naive sends a share of the surge to loading pods where it times out, "
                + "which keeps the ready pods' queues shorter. Matching it takes shedding load, which route weights "
                + "cannot do without weighting a side that has no model-ready pod",
        "surge|modelrollout sloAttainment ≥ aibrix-predictive":
            "the straight-line projection over-orders (peak 16 pods, ~1.6× the oracle's GPU-minutes) and drains "
                + "the backlog of the 4-minute cold start sooner; modelrollout adds one pod for a backlog and stays "
                + "within ~1.05× the oracle's GPU-minutes",
        "seed-revision-full|modelrollout ttftP95 during the revision ≤ 1.2 × baselineTtftP95":
            "with no spare GPU each of the 4 pod swaps runs the 70 % load of 4 replicas on 3 model-ready pods (93 % "
                + "of their saturated throughput) for one cold start; the engine queues at that load. The whole "
                + "window's p95 stays within 1.2× (1.18×); a lower maxUtilization would never start on this cluster",
        "trace-azure-llm-inference-2023-conv|modelrollout goodputPerGpuHour ≥ every causal peer":
            "the trace as recorded peaks at 8.5 req/s, 87 % of one replica's saturated throughput: keda-queue sees "
                + "no queue and runs one replica; modelrollout sizes for targetUtilization 0.8 (the spec default) "
                + "plus the rising trend over a 4-minute horizon and runs two",
        "trace-azure-llm-inference-2023-conv-x4|modelrollout goodputPerGpuHour ≥ every causal peer":
            "aibrix-predictive's concurrency target (70 % of the batch slots) runs replicas nearer saturation than "
                + "modelrollout's 80 % of measured throughput, with the same SLO on this trace; modelrollout also "
                + "keeps pods for scaleDownDelay (5 min)",
    ]

    /// The relations of issues 4, 9 and 12 that the report's scenarios and policies allow to check.
    public static func evaluate(_ report: BenchmarkReport) -> [AcceptanceCheck] {
        var checks: [AcceptanceCheck] = []
        func add(_ scenario: String, _ requirement: String, _ measured: String, _ passed: Bool) {
            checks.append(
                AcceptanceCheck(scenario: scenario, requirement: requirement, measured: measured, passed: passed))
        }
        for result in report.scenarios {
            let name = result.scenario.name
            guard let ours = result.result(.modelrollout) else { continue }
            let baseline = result.baselineTtftP95
            if name.hasPrefix("seed-revision") {
                add(
                    name, "modelrollout routes 0 requests to not-loaded pods",
                    num(ours.requestsToUnloadedPods, 1), ours.requestsToUnloadedPods == 0)
                if result.scenario.gpuCapacity != nil {
                    // Issue 10: on a cluster with one or no spare GPU, the rollout completes in every seed with
                    // p95 TTFT during the revision within 1.2× the baseline, where naive routes to loading pods.
                    let completed = ours.runs.filter { $0.rolloutSeconds != nil }.count
                    add(
                        name, "modelrollout completes the rollout in every seed", "\(completed)/\(ours.runs.count)",
                        completed == ours.runs.count && !ours.runs.isEmpty)
                    let during = ours.mean { $0.rolloutTtftP95 ?? .infinity }
                    add(
                        name, "modelrollout ttftP95 during the revision ≤ 1.2 × baselineTtftP95",
                        "\(sec(during)) vs \(sec(1.2 * baseline))", during <= 1.2 * baseline)
                    if let naive = result.result(.naive) {
                        add(
                            name, "naive routes requests to loading pods", num(naive.requestsToUnloadedPods, 1),
                            naive.requestsToUnloadedPods > 0)
                    }
                } else {
                    add(
                        name, "modelrollout ttftP95 ≤ 1.1 × baselineTtftP95",
                        "\(sec(ours.ttftP95)) vs \(sec(1.1 * baseline))", ours.ttftP95 <= 1.1 * baseline)
                }
                if name == "seed-revision", let rolling = result.result(.hpaCPU) {
                    add(
                        name, "modelrollout gpuMinutes ≤ 1.15 × hpa-cpu (default GPU budget)",
                        "\(num(ours.gpuMinutes, 1)) vs \(num(1.15 * rolling.gpuMinutes, 1))",
                        ours.gpuMinutes <= 1.15 * rolling.gpuMinutes)
                }
                if let naive = result.result(.naive) {
                    add(
                        name, "naive ttftP95 ≥ 5 × baselineTtftP95",
                        "\(sec(naive.ttftP95)) vs \(sec(5 * baseline))", naive.ttftP95 >= 5 * baseline)
                }
            }
            if result.scenario.replay != nil {
                // Real traffic: the best goodput per GPU-hour of the causal policies, and an SLO no worse than
                // theirs minus one point.
                let causal = result.policies.filter { ![.oracle, .staticPeak, .modelrollout].contains($0.policy) }
                if let best = causal.max(by: { $0.goodputPerGpuHour < $1.goodputPerGpuHour }) {
                    add(
                        name, "modelrollout goodputPerGpuHour ≥ every causal peer",
                        "\(num(ours.goodputPerGpuHour, 0)) vs \(best.policy.rawValue) "
                            + num(best.goodputPerGpuHour, 0),
                        ours.goodputPerGpuHour >= best.goodputPerGpuHour)
                }
                if let best = causal.max(by: { $0.sloAttainment < $1.sloAttainment }) {
                    add(
                        name, "modelrollout sloAttainment ≥ best causal peer − 0.01",
                        "\(num(ours.sloAttainment, 4)) vs \(best.policy.rawValue) \(num(best.sloAttainment - 0.01, 4))",
                        ours.sloAttainment >= best.sloAttainment - 0.01)
                }
                continue
            }
            if name == "ramp" || name == "surge" {
                for baseline in [PolicyName.naive, .hpaCPU, .kedaQueue, .kpa, .aibrixPredictive] {
                    guard let other = result.result(baseline) else { continue }
                    add(
                        name, "modelrollout sloAttainment ≥ \(baseline.rawValue)",
                        "\(num(ours.sloAttainment, 4)) vs \(num(other.sloAttainment, 4))",
                        ours.sloAttainment >= other.sloAttainment)
                }
                if name == "surge", let oracle = result.result(.oracle) {
                    add(
                        name, "modelrollout gpuMinutes ≤ 1.15 × oracle",
                        "\(num(ours.gpuMinutes, 1)) vs \(num(1.15 * oracle.gpuMinutes, 1))",
                        ours.gpuMinutes <= 1.15 * oracle.gpuMinutes)
                }
            }
            if name == "ramp" {
                if let oracle = result.result(.oracle) {
                    add(
                        name, "modelrollout sloAttainment ≥ oracle − 0.01",
                        "\(num(ours.sloAttainment, 4)) vs \(num(oracle.sloAttainment - 0.01, 4))",
                        ours.sloAttainment >= oracle.sloAttainment - 0.01)
                    add(
                        name, "modelrollout gpuMinutes ≤ 1.10 × oracle",
                        "\(num(ours.gpuMinutes, 1)) vs \(num(1.1 * oracle.gpuMinutes, 1))",
                        ours.gpuMinutes <= 1.1 * oracle.gpuMinutes)
                }
                if let keda = result.result(.kedaQueue) {
                    add(
                        name, "modelrollout sloAttainment ≥ keda-queue + 0.05",
                        "\(num(ours.sloAttainment, 4)) vs \(num(keda.sloAttainment + 0.05, 4))",
                        ours.sloAttainment >= keda.sloAttainment + 0.05)
                }
            }
            if name == "surge" {
                let limit = result.scenario.coldStartSeconds + 30
                let ttc = ours.timeToCapacitySeconds
                add(
                    name, "modelrollout timeToCapacitySeconds ≤ cold start + 30 s",
                    "\(ttc.map { sec($0) } ?? "never") vs \(sec(limit))"
                        + (ours.capacityReachedSeeds < ours.runs.count
                            ? " (reached in \(ours.capacityReachedSeeds)/\(ours.runs.count) seeds)" : ""),
                    ttc.map { $0 <= limit } ?? false && ours.capacityReachedSeeds == ours.runs.count)
            }
            if result.scenario.badRevision != nil {
                let seeds = ours.runs.count
                add(
                    name, "modelrollout rolls back in every seed", "\(ours.backOnPreviousSeeds)/\(seeds) seeds",
                    ours.backOnPreviousSeeds == seeds)
                add(
                    name, "modelrollout: bad revision serves ≤ 15 % after the rollout",
                    String(format: "%.1f %%", 100 * ours.newRevisionShare), ours.newRevisionShare <= 0.15)
                for other in [PolicyName.naive, .canaryReadiness] {
                    guard let theirs = result.result(other) else { continue }
                    add(
                        name, "\(other.rawValue) promotes the bad revision",
                        "\(theirs.runs.count - theirs.backOnPreviousSeeds)/\(theirs.runs.count) seeds promoted, "
                            + String(format: "%.1f %% served by it", 100 * theirs.newRevisionShare),
                        theirs.backOnPreviousSeeds == 0)
                }
                continue
            }
            // Ramp and surge: GPU-minutes are what users pay, so a larger burst against a backlog is allowed when it
            // pays for itself (issue 12); the peak limit holds elsewhere.
            if name != "ramp", name != "surge", let oracle = result.result(.oracle) {
                add(
                    name, "modelrollout peakReplicas ≤ oracle peak + 1",
                    "\(num(ours.peakReplicas, 1)) vs \(num(oracle.peakReplicas + 1, 1))",
                    ours.peakReplicas <= oracle.peakReplicas + 1)
            }
        }
        return checks
    }
}

/// Number formatting without locale: `digits` decimals, trailing zeros removed.
func num(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var text = String(format: "%.\(digits)f", value)
    if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text == "-0" ? "0" : text
}

/// Seconds for people: `0.312 s`, `14.2 s`.
func sec(_ value: Double) -> String {
    guard value.isFinite else { return "n/a" }
    return value < 10 ? String(format: "%.3f s", value) : String(format: "%.1f s", value)
}

extension BenchmarkReport {
    /// The JSON of issue 4: `{"scenarios": [{"name", "coldStartSeconds", "baselineTtftP95", "policies": [{"name",
    /// "seeds", "ttftP50", "ttftP95", "ttftP99", "sloAttainment", "gpuMinutes", "requestsToUnloadedPods",
    /// "timeouts", "peakReplicas", "timeToCapacitySeconds"}]}]}`, averaged over seeds (times in seconds;
    /// `timeToCapacitySeconds` is the mean over seeds that reached capacity, null when none did).
    public func json() -> String {
        func number(_ value: Double, _ digits: Int) -> String { value.isFinite ? num(value, digits) : "null" }
        func string(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default:
                    if scalar.value < 0x20 {
                        out += String(format: "\\u%04x", scalar.value)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
        var lines = ["{", "  \"scenarios\": ["]
        for (s, result) in scenarios.enumerated() {
            lines.append("    {")
            lines.append("      \"name\": \(string(result.scenario.name)),")
            lines.append("      \"coldStartSeconds\": \(number(result.scenario.coldStartSeconds, 1)),")
            lines.append("      \"baselineTtftP95\": \(number(result.baselineTtftP95, 4)),")
            lines.append("      \"policies\": [")
            for (p, policy) in result.policies.enumerated() {
                let fields = [
                    "\"name\": \(string(policy.policy.rawValue))",
                    "\"seeds\": \(policy.runs.count)",
                    "\"ttftP50\": \(number(policy.ttftP50, 4))",
                    "\"ttftP95\": \(number(policy.ttftP95, 4))",
                    "\"ttftP99\": \(number(policy.ttftP99, 4))",
                    "\"sloAttainment\": \(number(policy.sloAttainment, 5))",
                    "\"gpuMinutes\": \(number(policy.gpuMinutes, 2))",
                    "\"requestsToUnloadedPods\": \(number(policy.requestsToUnloadedPods, 1))",
                    "\"timeouts\": \(number(policy.timeouts, 1))",
                    "\"peakReplicas\": \(number(policy.peakReplicas, 1))",
                    "\"timeToCapacitySeconds\": \(policy.timeToCapacitySeconds.map { number($0, 1) } ?? "null")",
                    "\"goodput\": \(number(policy.goodput, 4))",
                    "\"goodputPerGpuHour\": \(number(policy.goodputPerGpuHour, 1))",
                    "\"scalingActions\": \(number(policy.scalingActions, 1))",
                ]
                let badFields =
                    result.scenario.badRevision == nil
                    ? []
                    : [
                        "\"badRevisionShare\": \(number(policy.newRevisionShare, 5))",
                        "\"rollbackSeeds\": \(policy.backOnPreviousSeeds)",
                        "\"secondsUntilBackOnGoodRevision\": "
                            + (policy.backOnPreviousRevisionSeconds.map { number($0, 1) } ?? "null"),
                    ]
                lines.append(
                    "        {" + (fields + badFields).joined(separator: ", ") + "}"
                        + (p < result.policies.count - 1 ? "," : ""))
            }
            lines.append("      ]")
            lines.append("    }" + (s < scenarios.count - 1 ? "," : ""))
        }
        lines.append("  ]")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private static let columns = [
        "policy", "TTFT p50", "TTFT p95", "TTFT p99", "SLO ≤2s", "GPU-min", "goodput/s", "good/GPU-h",
        "to unloaded", "timeouts", "peak", "scalings", "time to capacity", "rollout done", "TTFT p95 in rollout",
    ]

    private func cells(_ policy: PolicyResult) -> [String] {
        let ttc: String
        if let value = policy.timeToCapacitySeconds {
            ttc =
                String(format: "%.0f s", value)
                + (policy.capacityReachedSeeds < policy.runs.count
                    ? " (\(policy.capacityReachedSeeds)/\(policy.runs.count))" : "")
        } else {
            ttc = "never"
        }
        return [
            policy.policy.rawValue, sec(policy.ttftP50), sec(policy.ttftP95), sec(policy.ttftP99),
            String(format: "%.1f %%", 100 * policy.sloAttainment), num(policy.gpuMinutes, 1), num(policy.goodput, 2),
            num(policy.goodputPerGpuHour, 0), num(policy.requestsToUnloadedPods, 1), num(policy.timeouts, 1),
            num(policy.peakReplicas, 1), num(policy.scalingActions, 1), ttc, rolloutDone(policy),
            policy.runs.contains { $0.rolloutTtftP95 != nil }
                ? sec(policy.mean { $0.rolloutTtftP95 ?? .nan }) : "–",
        ]
    }

    /// Mean seconds from the rollout event until every request went to the new revision (with the seeds that got
    /// there when not all did); "–" without a rollout.
    private func rolloutDone(_ policy: PolicyResult) -> String {
        guard policy.runs.contains(where: { $0.rolloutTtftP95 != nil }) else { return "–" }
        let done = policy.runs.compactMap(\.rolloutSeconds)
        guard !done.isEmpty else { return "never" }
        return String(format: "%.0f s", done.reduce(0, +) / Double(done.count))
            + (done.count < policy.runs.count ? " (\(done.count)/\(policy.runs.count))" : "")
    }

    private static let badRevisionColumns = [
        "policy", "served by the bad revision", "SLO ≤2s", "back on the good revision", "time until back",
    ]

    /// The bad revision's part: share of the requests after the rollout it served, SLO, and whether (in how many
    /// seeds) and when the traffic was back on the good revision.
    private func badRevisionCells(_ policy: PolicyResult) -> [String] {
        [
            policy.policy.rawValue, String(format: "%.1f %%", 100 * policy.newRevisionShare),
            String(format: "%.1f %%", 100 * policy.sloAttainment),
            "\(policy.backOnPreviousSeeds)/\(policy.runs.count) seeds",
            policy.backOnPreviousRevisionSeconds.map { String(format: "%.0f s", $0) } ?? "never",
        ]
    }

    private func heading(_ result: ScenarioResult) -> String {
        "\(result.scenario.name) — \(result.scenario.summary); baseline TTFT p95 \(sec(result.baselineTtftP95))"
    }

    /// Tables for people (one per scenario), then the acceptance relations.
    public func table() -> String {
        var lines = [
            "modelrollout bench: \(scenarios.count) scenarios × \(settings.policies.count) policies × "
                + "\(settings.seeds) seeds (means over seeds), metrics from each event to the end; "
                + String(format: "%.1f s", wallSeconds)
        ]
        func append(_ rows: [[String]]) {
            let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
            for (r, row) in rows.enumerated() {
                let text = row.enumerated().map { c, cell in
                    let pad = String(repeating: " ", count: max(0, widths[c] - cell.count))
                    return c == 0 ? cell + pad : pad + cell
                }
                lines.append(text.joined(separator: "  "))
                if r == 0 { lines.append(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))) }
            }
        }
        for result in scenarios {
            lines += ["", heading(result)]
            append([Self.columns] + result.policies.map(cells))
            if result.scenario.badRevision != nil {
                lines.append("")
                append([Self.badRevisionColumns] + result.policies.map(badRevisionCells))
            }
        }
        let checks = AcceptanceCheck.evaluate(self)
        if !checks.isEmpty {
            lines += ["", "acceptance (issues 4, 9 and 12):"]
            for check in checks {
                lines.append(
                    "  \(check.passed ? "PASS" : "FAIL")  \(check.scenario): \(check.requirement): \(check.measured)"
                        + (check.gap.map { " — not met yet: \($0)" } ?? ""))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The method, a table per scenario and the acceptance relations, for the README.
    public func markdown() -> String {
        let engine = settings.engine
        let cold = settings.coldStarts
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var lines = [
            "Measured by `modelrollout bench` (\(settings.seeds) seeds, means over seeds): a deterministic "
                + "discrete-event simulation in virtual time of every policy on every scenario; the `modelrollout` "
                + "policy runs the controller's own reconcile round, `RolloutRound.step` (the code the reconciler "
                + "calls between gathering and acting: model-load times, the step's analysis window and verdict, "
                + "the arrival and throughput estimators, `Autoscaler.decide`, `RolloutPlanner.plan` and the "
                + "requeue), on snapshots gathered from the simulation: pods with their model readiness, the "
                + "route's weights and, when the round asks, every model-ready pod's runtime sample "
                + "(`vllm:time_to_first_token_seconds` and `vllm:request_queue_time_seconds` histograms with "
                + "vLLM's buckets, `vllm:request_success_total` with aborts, running and waiting). No verdict is "
                + "hard-coded: a bad revision is judged on its samples.",
            "",
            "**Method.** Engine per replica (8B-class model on one H100, vLLM continuous batching): concurrency "
                + "limit \(engine.concurrencyLimit); TTFT = queue wait + prefill "
                + "(\(num(engine.prefillBase * 1000, 1)) ms + \(num(engine.prefillPerToken * 1000, 2)) ms/prompt "
                + "token); "
                + "inter-token latency \(num(engine.itlBatchOne * 1000, 1)) ms at batch 1 rising linearly to "
                + "\(num(engine.itlGrowthAtLimit, 2))× at the limit; prompts \(engine.promptTokens.lowerBound)–"
                + "\(engine.promptTokens.upperBound) and outputs \(engine.outputTokens.lowerBound)–"
                + "\(engine.outputTokens.upperBound) tokens (uniform), so one saturated replica completes "
                + "\(num(engine.saturatedThroughput, 2)) req/s. Cold start log-normal around the scenario mean "
                + "(σ = \(num(cold.sigma, 2))), the process listens (a process-level probe passes) after "
                + "\(num(cold.scheduling, 0)) s + \(num(cold.processShare * 100, 0)) % of the rest. Clients give up "
                + "after \(num(settings.timeout, 0)) s without a first token (a timeout, counted at the timeout in "
                + "the percentiles). Metrics cover requests arriving from the event to the end of the scenario; "
                + "SLO = TTFT ≤ \(num(sloTTFTSeconds, 0)) s; GPU-minutes count every pod from creation (the GPU "
                + "is held while pulling and loading); baseline TTFT p95 = before the event with the initial fleet; "
                + "time to capacity = until model-ready pods (of the new revision, for rollouts) can carry the "
                + "demand after the event at saturation. Gateway: weighted split between revisions, round robin "
                + "over endpoints. Seeds 1–\(settings.seeds); same seed → identical results. Bad-revision "
                + "scenarios: the new revision's prefill is slower or it fails a share of requests before the "
                + "first token (counted as aborts, and as SLO misses); 'served by the bad revision' is the share "
                + "of requests arriving after the rollout that it got, and the traffic is 'back on the good "
                + "revision' when the bad one got no request in the last "
                + "\(num(RunMetrics.backOnPreviousQuietSeconds, 0)) s (time until back = to its last request).",
            "",
            "**Policies.**",
            "",
        ]
        for policy in settings.policies {
            lines.append("- `\(policy.rawValue)`: \(policy.summary)")
        }
        let replays = scenarios.compactMap(\.scenario.replay)
        if !replays.isEmpty {
            var seen = Set<String>()
            let notes = replays.map(\.trace).filter { seen.insert($0.name).inserted }.map(TraceAttribution.note)
            lines += [
                "",
                "**Traces.** Arrivals and each request's prompt and output lengths come from the trace (replayed as "
                    + "stated per scenario: compressed in time by the speed factor, arrivals thinned or duplicated by "
                    + "the rate factor with the seed); per-replica throughput is computed from the trace's mean "
                    + "lengths. Goodput counts requests with TTFT ≤ \(num(sloTTFTSeconds, 0)) s and mean inter-token "
                    + "latency ≤ \(num(sloMeanITLSeconds * 1000, 0)) ms, per second of the window and per GPU-hour. "
                    + "The engine model does not make prefill compete with decoding for compute, so prefill-heavy "
                    + "traffic (the code trace: long prompts, short outputs) needs fewer replicas here than on real "
                    + "GPUs. " + Set(notes).sorted().joined(separator: " "),
            ]
        }
        for result in scenarios {
            lines += [
                "",
                "**\(result.scenario.name)** — \(cell(result.scenario.summary)); baseline TTFT p95 "
                    + "\(sec(result.baselineTtftP95))", "",
            ]
            lines.append("| " + Self.columns.joined(separator: " | ") + " |")
            lines.append("| --- " + String(repeating: "| ---: ", count: Self.columns.count - 1) + "|")
            for policy in result.policies {
                lines.append("| " + cells(policy).map(cell).joined(separator: " | ") + " |")
            }
            if result.scenario.badRevision != nil {
                lines += ["", "| " + Self.badRevisionColumns.joined(separator: " | ") + " |"]
                lines.append("| --- " + String(repeating: "| ---: ", count: Self.badRevisionColumns.count - 1) + "|")
                for policy in result.policies {
                    lines.append("| " + badRevisionCells(policy).map(cell).joined(separator: " | ") + " |")
                }
            }
        }
        let checks = AcceptanceCheck.evaluate(self)
        if !checks.isEmpty {
            lines += [
                "", "**Acceptance (issues 4, 9 and 12)**", "", "| scenario | requirement | measured | | why not yet |",
                "| --- | --- | --- | --- | --- |",
            ]
            for check in checks {
                lines.append(
                    "| \(check.scenario) | \(cell(check.requirement)) | \(cell(check.measured)) | "
                        + "\(check.passed ? "pass" : "**fail**") | \(cell(check.gap ?? "")) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
