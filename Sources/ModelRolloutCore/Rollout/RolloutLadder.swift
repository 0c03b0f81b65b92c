import Foundation

/// The arithmetic of the GPU-budget ladder (``StrategySpec``) for one round: how many model-ready pods carry a share
/// of the traffic, and what share a number of pods carries. Pure and table-tested.
///
/// With a measured demand (the fleet's arrival rate) and a replica's throughput, a share `p` % needs
/// `ceil(p/100 × demand × (1 + margin) / (throughput × utilisation))` pods; during a rollout with autoscaling the
/// share of the autoscaler's fleet recommendation (its forecast at now + the cold start) is a floor. Without them
/// the fleet at the start of the rollout is taken to have been sized for the demand, as a Deployment's rolling
/// update assumes: `p` % needs `ceil(p/100 × startFleet)` pods.
public struct LadderSizing: Sendable, Equatable {
    /// Stable pods at the start of the rollout.
    public var startFleet: Int
    /// Requests per second arriving at both revisions, when measured.
    public var demand: Double?
    /// Requests per second one replica sustains at saturation, when measured or configured.
    public var throughput: Double?
    /// The autoscaler's recommendation for the whole fleet, when autoscaling runs.
    public var recommendedFleet: Int?

    /// Headroom on top of a share's demand when the stable side is scaled down as weight leaves it.
    public static let margin = 0.05

    public init(startFleet: Int, demand: Double?, throughput: Double?, recommendedFleet: Int? = nil) {
        self.startFleet = max(1, startFleet)
        self.demand = demand.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
        self.throughput = throughput.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        self.recommendedFleet = recommendedFleet
    }

    /// Whether demand and throughput are known (else the start fleet stands for the demand).
    public var measured: Bool { demand != nil && throughput != nil }

    /// Model-ready pods that carry `share` percent of the traffic at `utilization` of a replica's throughput.
    /// `forecast: false` leaves out the autoscaler's recommendation (which plans at the target utilisation).
    public func pods(share: Int, utilization: Double, margin: Double = 0, forecast: Bool = true) -> Int {
        guard share > 0 else { return 0 }
        let fraction = Double(min(share, 100)) / 100
        var needed: Int
        if let demand, let throughput {
            needed = Self.ceil(fraction * demand * (1 + margin) / (throughput * max(0.01, utilization)))
        } else {
            needed = Self.ceil(fraction * Double(startFleet))
        }
        if forecast, let recommendedFleet { needed = max(needed, Self.ceil(fraction * Double(recommendedFleet))) }
        return max(1, needed)
    }

    /// The share (percent, at most 100) of the traffic `pods` model-ready pods carry at `utilization`.
    public func share(carriedBy pods: Int, utilization: Double) -> Int {
        guard pods > 0 else { return 0 }
        if let demand, let throughput {
            guard demand > 0 else { return 100 }
            return min(100, Int((Double(pods) * throughput * utilization / demand * 100 + 1e-9).rounded(.down)))
        }
        return min(100, Int((Double(pods) * 100 / Double(startFleet) + 1e-9).rounded(.down)))
    }

    /// `demand` as a share of `pods` replicas' throughput (nil when not measured).
    public func utilization(of pods: Int, share: Int = 100) -> Double? {
        guard let demand, let throughput, pods > 0 else { return nil }
        return Double(share) / 100 * demand / (Double(pods) * throughput)
    }

    static func ceil(_ value: Double) -> Int {
        guard value.isFinite else { return Int.max / 4 }
        return Int((value - 1e-9).rounded(.up))
    }
}

/// What one round of the ladder decided (for the caller's status message).
struct LadderRound {
    /// The candidate's share after this round.
    var weight: Int
    /// Why the ladder cannot go on (nothing loads, nothing can be retired, no weight can move), if so.
    var blocked: String?
}

// The ladder inside the planner: rules 3–6 of `RolloutPlanner` for a rollout with a GPU budget.
extension PlanBuilder {
    /// Whether this rollout moves as a capacity-conserving ladder: the default, unless `keepStableFleet` is set or
    /// the candidate's endpoints are not model-gated (it then needs its full size before any weight).
    func ladderOn(_ candidate: RevisionObservation) -> Bool {
        !spec.strategy.keepStableFleet && candidate.modelGatedEndpoints
    }

    var sizing: LadderSizing {
        LadderSizing(
            startFleet: status.stableReplicasAtStart ?? max(1, o.stable?.desiredReplicas ?? 1), demand: o.demandRate,
            throughput: o.replicaThroughput,
            recommendedFleet: spec.autoscaling.enabled ? o.autoscale?.recommendedReplicas : nil)
    }

    var targetUtilization: Double {
        let u = spec.autoscaling.targetUtilization
        return u.isFinite && u > 0 ? min(1, u) : 0.8
    }

    var budgetPods: Int {
        spec.strategy.maxSurge.pods(of: status.stableReplicasAtStart ?? max(1, o.stable?.desiredReplicas ?? 1))
    }

    /// Is `weight` on the candidate a rung of the ladder between step `current` and the next one?
    func isRung(_ weight: Int, after current: Int) -> Bool {
        guard let candidate = o.candidate, ladderOn(candidate), routeIsOurs else { return false }
        let steps = spec.steps
        let lower = current >= 0 && current < steps.count ? steps[current].weight : 0
        let upper = current + 1 < steps.count ? steps[current + 1].weight : 100
        return weight > lower && weight < upper
    }

    /// One round of the ladder toward `target` percent on the candidate:
    /// 1. the stable side is scaled down to the fewest pods that, with the candidate's model-ready pods and the
    ///    weights split in proportion to model-ready pods (the candidate at most `target`), carry current demand
    ///    at the target utilisation plus a margin — only once the candidate has model-ready pods to take the
    ///    weight. When the candidate lacks GPUs for the pods `target` needs (the budget is used up, or its pods
    ///    cannot be scheduled), a stable pod is retired to make room, but only while the model-ready fleet that
    ///    remains carries demand at `maxUtilization` or below;
    /// 2. weight moves in proportion to the model-ready pods of both sides (after this round's retirement), so a
    ///    pod of either revision carries the same load (the analysis compares like with like), at most `target`;
    /// 3. the candidate grows toward the pods `target` needs within `startFleet + maxSurge` pods (or within what is
    ///    scheduled, when pods are pending for lack of GPUs); it never shrinks here.
    /// `moveWeight` is false during a step's hold: the candidate is pre-scaled within the budget; nothing is
    /// retired for room and no weight moves.
    mutating func ladderRound(
        toward target: Int, stable: RevisionObservation, candidate: RevisionObservation, moveWeight: Bool
    ) -> LadderRound {
        let sizing = self.sizing
        let u = targetUtilization
        let maxU = max(u, spec.strategy.maxUtilization)
        let before = share(candidate.service)
        let startFleet = sizing.startFleet
        let upper = max(1, spec.autoscaling.maxReplicas)
        let wanted = min(upper, sizing.pods(share: target, utilization: u))
        // Pods the cluster runs for us: when some are pending for lack of GPUs, that is the budget in fact.
        let pending = stable.unschedulable + candidate.unschedulable
        let scheduled = stable.desiredReplicas + candidate.desiredReplicas - pending
        let ceiling = pending > 0 ? min(startFleet + budgetPods, scheduled) : startFleet + budgetPods
        let candidateScheduled = candidate.desiredReplicas - candidate.unschedulable
        let room = max(0, ceiling - stable.desiredReplicas - candidate.desiredReplicas)
        // GPUs of stable pods being deleted free soon: the pending candidate pods take them.
        let freeing = stable.terminating
        let shortage = moveWeight ? max(0, wanted - candidateScheduled - room - freeing) : 0
        let k = candidate.modelReady

        /// The candidate's share with `m` stable pods: in proportion to model-ready pods, at most `target`, never
        /// less than it has.
        func rung(_ m: Int) -> Int {
            let ready = min(stable.modelReady, m)
            guard k > 0, moveWeight else { return before }
            let proportional = ready == 0 ? 100 : Int((100 * Double(k) / Double(k + ready) + 1e-9).rounded(.down))
            // In proportion to model-ready pods, or more when the candidate's pods carry more at the target
            // utilisation (a step the candidate carries is never held back for balance).
            let carried = sizing.share(carriedBy: k, utilization: u)
            return max(before, min(target, max(proportional, carried)))
        }
        /// Whether `m` stable pods and the candidate carry their shares at utilisation `util`.
        func fits(_ m: Int, _ util: Double, margin: Double, forecast: Bool) -> Bool {
            let share = rung(m)
            let ready = min(stable.modelReady, m)
            let stableNeeds = sizing.pods(share: 100 - share, utilization: util, margin: margin, forecast: forecast)
            let candidateNeeds = sizing.pods(share: share, utilization: util, margin: margin, forecast: forecast)
            return (share >= 100 || ready >= stableNeeds) && (share <= 0 || k >= candidateNeeds)
        }

        // 1. The stable side.
        var stableTarget = stable.desiredReplicas
        var retiredForRoom = false
        // The last stable pod goes only when the candidate takes all the traffic (the step to 100 %).
        let floor = target >= 100 ? 0 : 1
        if k > 0 {
            var m = stableTarget
            while m > floor, fits(m - 1, u, margin: LadderSizing.margin, forecast: true) { m -= 1 }
            stableTarget = min(stableTarget, m)
        }
        if shortage > 0 {
            var m = stableTarget
            let lowest = max(floor, stable.desiredReplicas - shortage)
            while m > lowest, fits(m - 1, maxU, margin: 0, forecast: false) { m -= 1 }
            if m < stableTarget {
                stableTarget = m
                retiredForRoom = true
            }
        }
        // 2. Weight in proportion to model-ready pods.
        var weight = before
        if moveWeight {
            let next = rung(stableTarget)
            if next > before {
                weight = next
                setWeights([stable.service: 100 - next, candidate.service: next])
                if next < target {
                    var inputs = ladderInputs(sizing, stable: stable, candidate: candidate)
                    inputs["target"] = "\(target)"
                    record(
                        .weight, rule: "ladder-rung", inputs: inputs,
                        result: "\(stable.service)=\(100 - next) \(candidate.service)=\(next)",
                        message: "\(next)% to \(candidate.deployment) on the way to \(target)%, in proportion to "
                            + "model-ready pods (\(k) of \(candidate.deployment), "
                            + "\(min(stable.modelReady, stableTarget)) of \(stable.deployment))",
                        event: true)
                }
            }
        }

        // The weight first, then the stable pods it no longer needs (the shell applies actions in order).
        if stableTarget < stable.desiredReplicas {
            let share = 100 - rung(stableTarget)
            let why: String
            if retiredForRoom {
                let load = sizing.utilization(of: min(stable.modelReady, stableTarget) + k).map {
                    "; the model-ready fleet then runs at \(Int(($0 * 100).rounded())) % of its throughput"
                } ?? ""
                why = "no GPU for the candidate's next pod, so a stable pod makes room (at most "
                    + "\(Int(maxU * 100)) % utilisation\(load))"
            } else {
                why = "with \(k) model-ready \(candidate.deployment) pods it carries \(share)% of the traffic, which "
                    + "needs \(stableTarget) pods at \(Int(u * 100)) % utilisation"
            }
            scale(stable, to: stableTarget, rule: retiredForRoom ? "ladder-retire-for-room" : "ladder-stable", why: why)
        }

        // 3. The candidate: toward what the target needs, within the budget.
        let allowed = ceiling - stableTarget
        let candidateTarget = max(candidate.desiredReplicas, min(wanted, allowed))
        if candidateTarget > candidate.desiredReplicas {
            scale(
                candidate, to: candidateTarget, rule: moveWeight ? "ladder-candidate" : "ladder-prescale",
                why: "\(target)% needs \(wanted) model-ready pods; \(startFleet) + \(budgetPods) (maxSurge "
                    + "\(spec.strategy.maxSurge)) pods at most"
                    + (pending > 0 ? ", fewer while pods cannot be scheduled" : ""))
            status.waitingSince = now
        }

        // Blocked: no weight moved, nothing scaled, nothing loading, and the target not reached.
        var blocked: String?
        let changed = weight != before || stableTarget != stable.desiredReplicas
            || candidateTarget != candidate.desiredReplicas
        if moveWeight, !changed, weight < target, candidate.loading - candidate.unschedulable == 0,
            stable.terminating == 0
        {
            if let load = sizing.utilization(of: stable.modelReady + k - 1) {
                blocked = "no GPU for another \(candidate.deployment) pod, and one stable pod fewer would leave the "
                    + "model-ready fleet at \(Int((load * 100).rounded())) % of its throughput (demand "
                    + String(format: "%.1f", sizing.demand ?? 0) + " req/s; maxUtilization "
                    + "\(Int(maxU * 100)) %): the rollout waits for demand to allow it"
            } else {
                blocked = "no GPU for another \(candidate.deployment) pod, and the demand per replica is not known "
                    + "(no runtime metrics yet, or no replica throughput: set spec.autoscaling.replicaThroughput): "
                    + "no stable pod is retired without it"
            }
        }
        return LadderRound(weight: weight, blocked: blocked)
    }

    func ladderInputs(_ sizing: LadderSizing, stable: RevisionObservation, candidate: RevisionObservation)
        -> [String: String]
    {
        var inputs = [
            "stableModelReady": "\(stable.modelReady)", "candidateModelReady": "\(candidate.modelReady)",
            "candidateWeight": "\(share(candidate.service))", "budget": "\(budgetPods)",
        ]
        if let demand = sizing.demand { inputs["demand"] = String(format: "%.2f", demand) }
        if let throughput = sizing.throughput { inputs["replicaThroughput"] = String(format: "%.2f", throughput) }
        return inputs
    }
}
