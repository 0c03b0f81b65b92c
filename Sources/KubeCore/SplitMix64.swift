/// SplitMix64: the project's one small seedable random generator — the emulator's load generator and fault
/// injector, the benchmark and the fault suite draw from it, so a run replays from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }

    /// A uniform value in (0, 1): never 0, for logarithms.
    public mutating func nextOpenUnit() -> Double { (Double(next() >> 11) + 0.5) / Double(UInt64(1) << 53) }
}
