import KubeCore
import Testing

@Suite struct PercentileTests {
    struct Case: Sendable {
        var values: [Double]
        var q: Double
        var expected: Double?
    }

    static let cases: [Case] = [
        Case(values: [], q: 0.5, expected: nil), Case(values: [3], q: 0.95, expected: 3),
        Case(values: [1, 2, 3, 4], q: 0.5, expected: 2), Case(values: [1, 2, 3, 4], q: 0.95, expected: 4),
        Case(values: Array(stride(from: 1.0, through: 100, by: 1)), q: 0.95, expected: 95),
        Case(values: [1, 2, 3], q: 0.5, expected: 2), Case(values: [1, 2, 3], q: 0, expected: 1),
        Case(values: [1, 2, 3], q: 1, expected: 3), Case(values: [1, 2, 3], q: 1.5, expected: nil),
        Case(values: [1, 2, 3], q: -0.1, expected: nil), Case(values: [1, 2, 3], q: .nan, expected: nil),
    ]

    @Test(arguments: cases)
    func nearestRankOfSortedValues(_ c: Case) {
        #expect(Percentile.nearestRank(sorted: c.values, c.q) == c.expected)
    }

    @Test func unsortedValuesAreSortedAndNonFiniteOnesIgnored() {
        #expect(Percentile.nearestRank([4, .nan, 1, .infinity, 3, 2], 0.5) == 2)
        #expect(Percentile.nearestRank([.nan], 0.5) == nil)
    }

    @Test func floatsUseTheSameRank() {
        #expect(Percentile.nearestRank(sorted: [Float(1), 2, 3, 4], 0.95) == 4)
    }
}
