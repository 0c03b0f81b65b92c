import Foundation

/// A scaling and rollout policy under test: it sets up the initial fleet, evaluates on its own period (its real
/// control-plane timing) and reacts to the scenario's rollout.
protocol BenchPolicy: AnyObject {
    var name: String { get }
    /// Seconds between evaluations.
    var period: Double { get }
    /// Virtual time of the first evaluation.
    var firstEvaluation: Double { get }
    /// Whether the Deployment controller's rolling update must be reconciled every second.
    var usesDeploymentSync: Bool { get }
    func setUp(_ sim: Simulation)
    func evaluate(_ sim: Simulation)
    func rolloutStarted(_ sim: Simulation)
    func deploymentSync(_ sim: Simulation)
    func podModelReady(_ sim: Simulation, pod: Int)
}

extension BenchPolicy {
    var firstEvaluation: Double { period }
    var usesDeploymentSync: Bool { false }
    func deploymentSync(_ sim: Simulation) {}
    func podModelReady(_ sim: Simulation, pod: Int) {}
}

/// The policies of the benchmark, by name.
public enum PolicyName: String, CaseIterable, Sendable, Hashable, Codable {
    case naive
    case hpaCPU = "hpa-cpu"
    case kedaQueue = "keda-queue"
    case kpa
    case aibrixPredictive = "aibrix-predictive"
    case canaryReadiness = "canary-readiness"
    case modelrollout
    case oracle
    case staticPeak = "static-peak"

    /// Whether the policy runs in a scenario (the canary only handles rollouts).
    public func applies(to scenario: Scenario) -> Bool {
        self != .canaryReadiness || scenario.event == .rollout
    }

    /// One line on what the policy is, for the method section.
    public var summary: String {
        switch self {
        case .naive:
            "plain Deployment: rolling update (25 % surge / 25 % unavailable), process-level readiness "
                + "(the pod is Ready when vLLM's process listens), HPA on CPU"
        case .hpaCPU:
            "HPA on CPU utilisation (target 55 %), 15 s sync, ±10 % tolerance, 300 s scale-down stabilisation, "
                + "unready pods counted as 0 % on scale-up; model-level readiness; rolling update"
        case .kedaQueue:
            "KEDA: HPA on vllm:num_requests_waiting, AverageValue 4 per pod, metric refreshed every 15 s (polling), "
                + "15 s sync, ±10 % tolerance, 300 s stabilisation; model-level readiness; rolling update"
        case .kpa:
            "Knative KPA on in-flight concurrency (target 70 % of 64), 60 s stable / 6 s panic windows, "
                + "panic at 2×, 2 s tick, scale-down at most ÷2 per tick; model-level readiness; rolling update"
        case .aibrixPredictive:
            "AIBrix-style predictive autoscaling: every 15 s a reactive target from in-flight concurrency "
                + "(target 70 % of 64 per pod, HPA tolerance and 300 s scale-down stabilisation), and a least-squares "
                + "line over the last 60 s of concurrency samples projected a fixed 120 s ahead, clamped to ≤ 4× the "
                + "window's mean, used only as a floor (it never scales down); model-level readiness; rolling update "
                + "(the predictive mode as AIBrix documents it: linear fit, fixed horizon, floor)"
        case .canaryReadiness:
            "readiness-only canary (Argo Rollouts / Flagger without analysis): 10 % for 2 min, 50 % for 5 min, "
                + "100 %; canary scaled to its step's share of the fleet, weight set once its pods are Ready "
                + "(model-level probe); no autoscaler; rollout scenarios only"
        case .modelrollout:
            "ModelRollout: the controller's reconcile round (RolloutRound.step) every second or at its requeue: "
                + "model readiness gates weight (10/50/100 % steps), TTFT/queue/error analysis of the simulated "
                + "runtime's histograms and counters with rollback, the Autoscaler every 5 s (forecast at now + "
                + "learned cold start, loading pods as arriving capacity)"
        case .oracle:
            "perfect foresight of arrivals and exact cold starts: each pod is created exactly one cold start "
                + "before it is needed at 80 % utilisation, removed when not needed within a cold start"
        case .staticPeak:
            "a fixed fleet sized for the peak demand at 80 % utilisation; model-level readiness; rolling update"
        }
    }
}

/// The Deployment controller's rolling update (defaults: maxSurge 25 % rounded up, maxUnavailable 25 % rounded
/// down) over ReplicaSets `old` → `new`, with `replicas` the Deployment's `spec.replicas`. Availability is the
/// revision's readiness (`RevisionSet.endpoints`), so a process-level probe makes loading pods "available".
struct RollingDeployment {
    var replicas: Int
    var current: Int
    var old: Int?

    /// Reconciles the ReplicaSets' sizes once.
    mutating func sync(_ sim: Simulation) {
        guard let old else {
            if sim.revisions[current].desired != replicas { sim.setDesired(current, replicas) }
            return
        }
        let surge = max(1, Int((Double(replicas) * 0.25).rounded(.up)))
        let unavailable = Int((Double(replicas) * 0.25).rounded(.down))
        var newDesired = sim.revisions[current].desired
        var oldDesired = sim.revisions[old].desired
        let newReady = sim.revisions[current].endpoints.count
        let oldReady = sim.revisions[old].endpoints.count
        // Scale the new ReplicaSet up within the surge.
        if newDesired < replicas, oldDesired + newDesired < replicas + surge {
            newDesired = min(replicas, newDesired + (replicas + surge - oldDesired - newDesired))
        } else if newDesired > replicas {
            newDesired = replicas
        }
        // Scale the old one down while enough pods stay available.
        let minAvailable = replicas - unavailable
        let newUnavailable = max(0, newDesired - newReady)
        let oldUnready = max(0, oldDesired - oldReady)
        let scaleDown = (oldDesired + newDesired) - minAvailable - newUnavailable
        if scaleDown > 0 || oldUnready > 0 {
            oldDesired = max(0, oldDesired - max(oldUnready, min(max(scaleDown, 0), oldDesired)))
        }
        sim.setDesired(current, newDesired)
        sim.setDesired(old, oldDesired)
        if oldDesired == 0 { self.old = nil }
    }

    /// Starts a rolling update to a new ReplicaSet with the same readiness.
    mutating func startRollout(_ sim: Simulation) {
        let modelGated = sim.revisions[current].modelGated
        old = current
        current = sim.addRevision(modelGated: modelGated)
        sync(sim)
    }

    /// Pods of the Deployment (all ReplicaSets).
    func pods(_ sim: Simulation) -> [Int] {
        var ids = sim.revisions[current].pods
        if let old { ids += sim.revisions[old].pods }
        return ids
    }
}
