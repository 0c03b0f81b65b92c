import Foundation
import ModelRolloutCore

/// A readiness-only canary, as Argo Rollouts or Flagger run one with Gateway API traffic routing and no metric
/// analysis: the steps of a ModelRollout's default (10 % for 2 min, 50 % for 5 min, 100 %), the canary scaled to
/// its step's share of the fleet (Argo's `setCanaryScale: matchTrafficWeight`), a step's weight set once that many
/// canary pods are Ready, the stable fleet kept at full size until the last step, then promoted. Readiness is
/// model-level (a `/health` probe, which vLLM answers once the engine serves): the comparison isolates what
/// analysis is worth. The fleet is not autoscaled (the initial size).
final class CanaryReadinessPolicy: BenchPolicy {
    let name = PolicyName.canaryReadiness.rawValue
    let period = 1.0
    private let steps = ModelRolloutSpec.defaultSteps
    private var fleet = 0
    private var stable = 0
    private var canary: Int?
    private var step = 0
    /// When the current step's weight was set (nil: waiting for its pods).
    private var stepAppliedAt: Double?

    func setUp(_ sim: Simulation) {
        fleet = sim.scenario.initialReplicas
        stable = sim.addRevision(modelGated: true)
        sim.addLoadedPods(fleet, revision: stable)
        sim.setRouting(.weighted([100]))
    }

    func rolloutStarted(_ sim: Simulation) {
        canary = sim.addRevision(modelGated: true)
        step = 0
        stepAppliedAt = nil
    }

    func evaluate(_ sim: Simulation) {
        guard let canary else { return }
        let weight = steps[step].weight
        guard let applied = stepAppliedAt else {
            let needed = max(1, Int((Double(weight * fleet) / 100 - 1e-9).rounded(.up)))
            if sim.revisions[canary].desired < needed { sim.setDesired(canary, needed) }
            guard sim.revisions[canary].endpoints.count >= needed else { return }
            setWeights(sim, canary: canary, weight: weight)
            stepAppliedAt = sim.now
            return
        }
        guard sim.now - applied >= (steps[step].hold?.seconds ?? 0) else { return }
        if step + 1 < steps.count {
            step += 1
            stepAppliedAt = nil
            return
        }
        // Promoted: the canary is the stable revision; the old one is scaled down.
        sim.setDesired(stable, 0)
        stable = canary
        self.canary = nil
    }

    private func setWeights(_ sim: Simulation, canary: Int, weight: Int) {
        var weights = [Int](repeating: 0, count: sim.revisions.count)
        weights[stable] = 100 - weight
        weights[canary] = weight
        sim.setRouting(.weighted(weights))
    }
}
