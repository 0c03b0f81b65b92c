import Testing

@testable import ModelRolloutBench

@Suite struct BenchRandomTests {
    @Test func sameSeedSameSequence() {
        var a = BenchRandom(seed: 7)
        var b = BenchRandom(seed: 7)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var c = BenchRandom(seed: 7)
        let u = c.unit()
        #expect(u > 0 && u < 1)
    }
}
