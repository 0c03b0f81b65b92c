import KubeCore

/// The benchmark's random source: SplitMix64 (``SplitMix64`` in KubeCore), so every run with the same seed is
/// identical.
public typealias BenchRandom = SplitMix64

extension SplitMix64 {
    /// A uniform value in (0, 1).
    @inlinable
    public mutating func unit() -> Double { nextOpenUnit() }
}
