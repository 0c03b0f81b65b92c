import Foundation

/// Whether a manual promotion (`kubectl modelrollout promote`, `status.promote`) can be honoured, and where it
/// goes. One rule for the plugin (before it writes the request) and the planner (when it acts on it or clears it).
public enum ManualPromotion {
    /// Why a promotion cannot be honoured.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// `spec.paused` or phase Paused.
        case paused
        /// Traffic is moving back to the stable revision.
        case rollingBack(candidate: String?)
        /// No rollout runs (Steady, Promoted, RolledBack, or not reconciled yet).
        case notInProgress(phase: RolloutPhase?)
        /// Progressing, but the status names no candidate yet.
        case noCandidate
        /// Requested at another step than the current one (a stale request must not skip a second step).
        case stale(requested: Int?, current: Int?)
        /// A Step promotion before the first step is applied (the candidate still waits for capacity).
        case noStepYet

        public var description: String {
            func at(_ step: Int?) -> String { step.map { "step \($0 + 1)" } ?? "before the first step" }
            switch self {
            case .paused: return "the rollout is Paused: resume it first"
            case .rollingBack(let candidate):
                return "the rollout is rolling back \(candidate ?? "its candidate"); nothing to promote"
            case .notInProgress(let phase):
                return "no rollout is in progress (phase \(phase?.rawValue ?? "not reconciled yet"))"
            case .noCandidate: return "the status names no candidate revision yet"
            case .stale(let requested, let current):
                return "it was requested at \(at(requested)) but the rollout is now at \(at(current))"
            case .noStepYet:
                return "a Step promotion needs an applied step; the rollout still waits for capacity for step 1"
            }
        }
    }

    /// Where an eligible promotion goes.
    public enum Target: Sendable, Equatable {
        /// Move to this step (index) without waiting for the current hold.
        case step(Int)
        /// Promote the candidate now (the rollout is at its last step).
        case promotion
    }

    /// The verdict for a request of `mode` made at `requestedStep` (nil: before the first step), given the status,
    /// `spec.paused` and the number of steps.
    public static func evaluate(
        mode: PromoteMode, requestedStep: Int?, status: ModelRolloutStatus, paused: Bool, stepCount: Int
    ) -> Result<Target, Refusal> {
        if paused || status.phase == .paused { return .failure(.paused) }
        if status.phase == .rollingBack { return .failure(.rollingBack(candidate: status.candidateDeployment)) }
        guard status.phase == .progressing, stepCount > 0 else { return .failure(.notInProgress(phase: status.phase)) }
        guard status.candidateDeployment != nil else { return .failure(.noCandidate) }
        let current = status.currentStep
        guard requestedStep == current else { return .failure(.stale(requested: requestedStep, current: current)) }
        if mode == .step, current == nil { return .failure(.noStepYet) }
        let last = stepCount - 1
        if let current, current >= last { return .success(.promotion) }
        return .success(.step(mode == .full ? last : (current ?? -1) + 1))
    }
}
