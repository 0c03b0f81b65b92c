/// ModelRolloutCore: the pure domain of ModelRollout — deciding from observed state, never doing I/O.
///
/// Time is always passed in; every function here is deterministic and unit-tested with tables.
public enum ModelRolloutCore {
    /// The version of the judgement rules, reported by `modelrollout inspect`.
    public static let rulesVersion = "1"
}
