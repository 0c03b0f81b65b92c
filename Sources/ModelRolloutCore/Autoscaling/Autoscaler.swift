import Foundation

/// The cold-start-aware autoscaling policy: how many replicas the served model's Deployment should have.
/// Pure: the caller gathers the input (metrics, pods, learned cold start, memory) and applies the decision.
///
/// Rules, in order (the rule id of the decision names the one that decided):
/// 1. `no-metrics` — no usable arrival rate, or no per-replica capacity (neither a measured throughput nor
///    `spec.replicaThroughput`), or a non-positive `targetUtilization`: hold at `currentReplicas` and say why
///    in `holdReason`.
/// 2. The recommendation. Throughput per ready replica `μ` (measured, else configured), planning capacity
///    `C = μ × targetUtilization`; horizon `H = coldStartSeconds` (any pod ordered now is routable only after
///    it). Demand at the horizon `λ_H = rate + max(0, trend) × 0.9 H` (`trendHorizonShare`: a ramp is not
///    assumed to go on for a whole cold start more, which bounds the overshoot when it stops) — a falling trend
///    is never extrapolated, so scale-down follows the current rate. Backlog: the waiting requests on ready
///    replicas beyond `targetWaitingPerReplica` each, projected to the horizon (`B_H`: it grows while demand
///    exceeds the ready capacity and shrinks as loading pods arrive at their ETA — a pod ordered now can only
///    help with what is left then), to drain within `D = max(30 s, H / 2)`. The spare of a fleet sized at
///    `targetUtilization`, `λ_H × (1 / targetUtilization − 1)`, drains it first; replicas are added only for
///    the rest, and at most `maxBacklogReplicas` (1) of them:
///    `N = min(ceil(λ_H / C + max(0, B_H / D − spare) / μ), ceil(λ_H / C) + 1)`, at least 1 unless the rate
///    is 0 and nothing is in flight, clamped to `[minReplicas, maxReplicas]`. (A backlog that piled up while
///    pods load is therefore not answered with more pods, as a queue-driven HPA would; ready + loading never
///    exceed the forecast need + 1 because of a backlog.) Loading pods are part of `currentReplicas` and
///    arrive (ETA `max(0, H − age)`) before anything ordered now, so `N` is the whole fleet: pods are never
///    added for demand the loading ones will serve (no overshoot while they load).
/// 3. Scale-up (`N > currentReplicas`): at once, in one step, to `N` — rule `forecast` (demand at the horizon
///    needs it), `backlog` (only the backlog term does) or `bounds` (`minReplicas`/`maxReplicas` decided).
/// 4. `steady` — `N == currentReplicas`.
/// 5. Scale-down (`N < currentReplicas`), each step may hold:
///    - `bounds`: above `maxReplicas` → down to `maxReplicas` at once;
///    - `scale-down-stabilised`: the highest recommendation of the last `scaleDownDelay` seconds (kept in
///      `memory.recommendations`) is not below `currentReplicas`;
///    - `tolerance`: the stabilised target is within 10 % of `currentReplicas` (no flapping);
///    - `hold-loading`: pods are loading (or ordered but not yet listed). A Deployment's scale-down deletes
///      not-ready pods first, so any cut below `ready + loading` would remove a loading pod: the target is
///      never below it, and never zero while a pod loads;
///    - `scale-down`: otherwise, to the stabilised target.
///
/// Every decision lists its inputs (rate, trend, horizon, capacity, backlog, ready, loading, recommendation,
/// ...) compactly for a decision record. `spec.enabled` is the caller's business: `decide` always decides.
public enum Autoscaler {
    /// Scale-down changes within this share of the current replicas are ignored.
    public static let scaleDownTolerance = 0.1
    /// The share of the horizon over which a rising trend is extrapolated (1: the whole cold start, as a ramp
    /// that keeps going needs; lower values trade ramp lead for less overshoot when a ramp stops). Measured on
    /// `bench`'s ramp (5 seeds): 0.6 → SLO 85.2 %, 181.6 GPU-min; 0.8 → 85.8 %, 186.8; 0.9 → 86.1 %, 187.5;
    /// 1.0 → 86.9 %, 192.5 (the oracle: 177.2) — 0.9 keeps the ramp ahead of the peers within 1.06× the
    /// oracle's GPU-minutes.
    public static let trendHorizonShare = 0.9
    /// The most replicas the backlog term adds on top of the forecast need. Pods ordered for a backlog arrive
    /// only after a cold start, when the queue has mostly been drained by the spare of the forecast-sized fleet
    /// (or given up by its clients), and then sit idle for `scaleDownDelay`: one more pod speeds the drain,
    /// more would be the overshoot of a queue-driven HPA.
    public static let maxBacklogReplicas = 1
    /// The shortest horizon over which a backlog is planned to drain, in seconds.
    public static let minimumDrainSeconds = 30.0

    public static func decide(_ input: AutoscalerInput) -> AutoscaleDecision {
        let spec = input.spec
        let lower = max(0, spec.minReplicas)
        let upper = max(lower, spec.maxReplicas)
        let current = max(0, input.currentReplicas)
        let fleet = Fleet(input.replicas, currentReplicas: current)
        let delay = spec.scaleDownDelay.seconds
        var memory = input.memory
        memory.recommendations.removeAll { $0.time < input.time - delay || !$0.time.isFinite }

        var inputs: [String: String] = [
            "current": "\(current)", "ready": "\(fleet.ready)", "loading": "\(fleet.coming)",
            "backlog": format(fleet.waiting),
        ]
        if let eta = fleet.latestETA(horizon: horizonSeconds(input)) { inputs["loadingEta"] = format(eta) + "s" }

        func hold(_ reason: String) -> AutoscaleDecision {
            AutoscaleDecision(
                desiredReplicas: current, rule: "no-metrics", inputs: inputs,
                message: "hold at \(current): \(reason)", holdReason: reason, memory: memory)
        }
        guard let rate = input.arrivalRate, rate.isFinite, rate >= 0 else {
            return hold("no arrival-rate estimate (runtime request metrics missing)")
        }
        inputs["rate"] = format(rate)
        guard spec.targetUtilization.isFinite, spec.targetUtilization > 0 else {
            return hold("spec.autoscaling.targetUtilization must be positive")
        }
        guard let throughput = perReplicaThroughput(input) else {
            return hold(
                "no per-replica throughput: none measured on saturated replicas and "
                    + "spec.autoscaling.replicaThroughput is unset")
        }
        let capacity = throughput * spec.targetUtilization
        let horizon = horizonSeconds(input)
        let trend = input.arrivalTrend.flatMap { $0.isFinite ? $0 : nil } ?? 0
        let forecast = rate + max(0, trend) * horizon * trendHorizonShare
        let drainSeconds = max(minimumDrainSeconds, horizon / 2)
        let tolerated = spec.targetWaitingPerReplica.isFinite ? max(0, spec.targetWaitingPerReplica) : 0
        let excessBacklog = max(0, fleet.waiting - tolerated * Double(fleet.ready))
        let forecastReplicas = forecast / capacity
        // The fleet sized for the forecast runs below full load; that spare drains the backlog first.
        let spare = forecast * max(0, 1 / spec.targetUtilization - 1)
        let projectedBacklog = fleet.projectBacklog(
            excessBacklog, rate: rate, growth: max(0, trend), throughput: throughput, horizon: horizon)
        let backlogReplicas = max(0, projectedBacklog / drainSeconds - spare) / throughput
        let idle = rate == 0 && fleet.inFlight == 0
        let forecastCount = replicaCount(forecastReplicas, cap: upper)
        let withBacklog = min(
            replicaCount(forecastReplicas + backlogReplicas, cap: upper), forecastCount + maxBacklogReplicas)
        let needed = max(idle ? 0 : 1, withBacklog)
        let recommendation = min(max(needed, lower), upper)
        memory.recommendations.append(.init(time: input.time, replicas: recommendation))
        inputs["trend"] = format(trend, digits: 4)
        inputs["horizon"] = format(horizon) + "s"
        inputs["capacity"] = format(capacity)
        inputs["forecast"] = format(forecast)
        inputs["recommendation"] = "\(recommendation)"
        if excessBacklog > 0 {
            inputs["drain"] = format(drainSeconds) + "s"
            inputs["backlogAtHorizon"] = format(projectedBacklog)
        }

        let demand =
            "forecast \(format(forecast)) req/s at +\(format(horizon))s (rate \(format(rate)), trend "
            + "\(format(trend, digits: 4))/s), backlog \(format(fleet.waiting)), \(format(capacity)) req/s per "
            + "replica → \(needed) needed; \(fleet.ready) ready, \(fleet.coming) loading"

        func decision(_ desired: Int, _ rule: String, _ message: String) -> AutoscaleDecision {
            if desired != current { memory.lastChangeTime = input.time }
            return AutoscaleDecision(
                desiredReplicas: desired, rule: rule, inputs: inputs, message: message, memory: memory,
                recommendedReplicas: recommendation)
        }

        if recommendation > current {
            let rule: String
            if needed != recommendation {
                rule = "bounds"
            } else if forecastCount >= recommendation {
                rule = "forecast"
            } else {
                rule = "backlog"
            }
            return decision(recommendation, rule, "scale up \(current)→\(recommendation): \(demand)")
        }
        if recommendation == current {
            return decision(current, "steady", "hold at \(current): \(demand)")
        }
        if current > upper {
            return decision(upper, "bounds", "scale down \(current)→\(upper) to maxReplicas: \(demand)")
        }
        let stabilised = memory.recommendations.map(\.replicas).max() ?? recommendation
        inputs["stabilised"] = "\(stabilised)"
        if stabilised >= current {
            return decision(
                current, "scale-down-stabilised",
                "hold at \(current): highest recommendation over the last \(format(delay))s is \(stabilised); "
                    + demand)
        }
        if Double(current - stabilised) <= scaleDownTolerance * Double(current) {
            return decision(
                current, "tolerance", "hold at \(current): \(stabilised) is within 10 % of current; " + demand)
        }
        let floor = fleet.coming > 0 ? fleet.ready + fleet.coming : 0
        if floor >= current {
            return decision(
                current, "hold-loading",
                "hold at \(current): scaling down to \(stabilised) would remove a loading pod; " + demand)
        }
        let target = max(stabilised, floor)
        let note = target > stabilised ? " (not below \(floor) ready + loading)" : ""
        return decision(target, "scale-down", "scale down \(current)→\(target)\(note): " + demand)
    }

    /// The measured throughput when usable, else the configured fallback; nil when neither is.
    static func perReplicaThroughput(_ input: AutoscalerInput) -> Double? {
        if let measured = input.measuredThroughput, measured.isFinite, measured > 0 { return measured }
        if let configured = input.spec.replicaThroughput, configured.isFinite, configured > 0 { return configured }
        return nil
    }

    /// The planning cold start; the spec's fallback when the given one is unusable.
    static func horizonSeconds(_ input: AutoscalerInput) -> Double {
        let given = input.coldStartSeconds
        return given.isFinite && given >= 0 ? given : input.spec.coldStart.fallback.seconds
    }

    /// `ceil(value)` as a replica count, tolerant of floating-point noise just above an integer and bounded
    /// so that absurd inputs cannot overflow.
    static func replicaCount(_ value: Double, cap: Int) -> Int {
        guard value.isFinite else { return value > 0 ? cap + 1 : 0 }
        let rounded = (value - 1e-9).rounded(.up)
        return Int(min(max(rounded, 0), Double(cap) + 1))
    }

    /// A number with at most `digits` decimals and no trailing zeros.
    static func format(_ value: Double, digits: Int = 2) -> String {
        var text = String(format: "%.\(digits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// The replicas by phase, as the policy counts them.
    struct Fleet {
        var ready = 0
        /// Loading pods plus pods the Deployment has but that are not listed yet (ordered, not yet created).
        var coming = 0
        /// Waiting requests on ready replicas.
        var waiting = 0.0
        /// Running + waiting on ready replicas.
        var inFlight = 0.0
        var loadingAges: [Double] = []

        init(_ replicas: [ReplicaState], currentReplicas: Int) {
            var failed = 0
            var loading = 0
            for replica in replicas {
                switch replica.phase {
                case .ready:
                    ready += 1
                    let waitingNow = nonNegative(replica.waiting)
                    waiting += waitingNow
                    inFlight += waitingNow + nonNegative(replica.running)
                case .loading:
                    loading += 1
                    loadingAges.append(replica.ageSeconds.isFinite ? max(0, replica.ageSeconds) : 0)
                case .failed:
                    failed += 1
                case .terminating:
                    break
                }
            }
            coming = loading + max(0, currentReplicas - ready - loading - failed)
        }

        /// When the last loading pod is expected to be ready, in seconds from now.
        func latestETA(horizon: Double) -> Double? {
            loadingAges.map { max(0, horizon - $0) }.max()
        }

        /// The backlog left at `horizon`: it grows by demand (`rate + growth × t`) beyond the capacity of the
        /// ready replicas plus the loading ones that have arrived by `t` (pods ordered but not listed arrive at
        /// the horizon), never below zero. Integrated in at most 60 steps.
        func projectBacklog(
            _ backlog: Double, rate: Double, growth: Double, throughput: Double, horizon: Double
        ) -> Double {
            guard horizon > 0, backlog > 0 else { return backlog }
            let unlisted = max(0, coming - loadingAges.count)
            let etas = loadingAges.map { max(0, horizon - $0) } + Array(repeating: horizon, count: unlisted)
            let step = horizon / 60
            var left = backlog
            for index in 0..<60 {
                let middle = (Double(index) + 0.5) * step
                let serving = Double(ready + etas.filter { $0 <= middle }.count)
                left = max(0, left + (rate + growth * middle - serving * throughput) * step)
            }
            return left
        }

        private func nonNegative(_ value: Double?) -> Double {
            guard let value, value.isFinite, value > 0 else { return 0 }
            return value
        }
    }
}
