import Testing

@testable import ModelRolloutCore

/// A quantile case: buckets as (le, cumulative count), q, and the hand-computed result.
struct QuantileCase: Sendable, CustomStringConvertible {
    var label: String
    var buckets: [(Double, Double)]
    var q: Double
    var expected: Double?
    var description: String { label }
}

private let typical: [(Double, Double)] = [(0.1, 0), (0.25, 10), (0.5, 60), (0.75, 90), (1, 100), (.infinity, 100)]

private let quantileCases: [QuantileCase] = [
    QuantileCase(label: "p50 interpolates 0.25..0.5", buckets: typical, q: 0.5, expected: 0.45),
    QuantileCase(label: "p95 interpolates 0.75..1", buckets: typical, q: 0.95, expected: 0.875),
    QuantileCase(label: "unsorted input", buckets: typical.reversed(), q: 0.5, expected: 0.45),
    QuantileCase(label: "lowest bucket starts at 0", buckets: [(0.5, 4), (.infinity, 4)], q: 0.5, expected: 0.25),
    QuantileCase(label: "rank in +Inf bucket", buckets: [(0.1, 0), (0.25, 10), (.infinity, 100)], q: 0.5,
                 expected: 0.25),
    QuantileCase(label: "only +Inf bucket", buckets: [(.infinity, 5)], q: 0.5, expected: nil),
    QuantileCase(label: "single finite bucket, no +Inf", buckets: [(1, 4)], q: 0.5, expected: 0.5),
    QuantileCase(label: "missing +Inf p50", buckets: [(0.5, 2), (1, 4)], q: 0.5, expected: 0.5),
    QuantileCase(label: "missing +Inf p95", buckets: [(0.5, 2), (1, 4)], q: 0.95, expected: 0.95),
    QuantileCase(label: "no observations", buckets: [(0.5, 0), (1, 0), (.infinity, 0)], q: 0.5, expected: nil),
    QuantileCase(label: "no buckets", buckets: [], q: 0.5, expected: nil),
    QuantileCase(label: "monotonicity fixed", buckets: [(0.5, 5), (1, 3), (.infinity, 10)], q: 0.5,
                 expected: 0.5),
    QuantileCase(label: "monotonicity fixed, rank beyond", buckets: [(0.5, 5), (1, 3), (.infinity, 10)], q: 0.6,
                 expected: 1),
    QuantileCase(label: "non-positive lowest bound", buckets: [(-1, 2), (0, 4), (.infinity, 4)], q: 0.25,
                 expected: -1),
    QuantileCase(label: "TTFT ≈ 0: every bucket equal",
                 buckets: [(0.001, 50), (0.005, 50), (0.01, 50), (.infinity, 50)], q: 0.5, expected: 0.0005),
    QuantileCase(label: "duplicate bounds merged", buckets: [(1, 2), (1, 2), (2, 8), (.infinity, 8)], q: 0.5,
                 expected: 1),
    QuantileCase(label: "q below 0", buckets: typical, q: -0.1, expected: -.infinity),
    QuantileCase(label: "q above 1", buckets: typical, q: 1.5, expected: .infinity),
    QuantileCase(label: "q NaN", buckets: typical, q: .nan, expected: nil),
    QuantileCase(label: "q 1 in last finite bucket", buckets: typical, q: 1, expected: 1),
]

/// Counter rate cases: previous and current readings, expected per-second rate.
struct RateCase: Sendable, CustomStringConvertible {
    var previous: (value: Double, time: Double)
    var current: (value: Double, time: Double)
    var expected: Double?
    var description: String { "\(previous) -> \(current)" }
}

private let rateCases: [RateCase] = [
    RateCase(previous: (10, 0), current: (20, 10), expected: 1),
    RateCase(previous: (5, 100), current: (5, 130), expected: 0),
    RateCase(previous: (100, 0), current: (30, 10), expected: 3),
    RateCase(previous: (100, 0), current: (0, 10), expected: 0),
    RateCase(previous: (10, 10), current: (20, 10), expected: nil),
    RateCase(previous: (10, 20), current: (20, 10), expected: nil),
    RateCase(previous: (.nan, 0), current: (20, 10), expected: nil),
]

@Suite struct PrometheusHistogramTests {
    @Test(arguments: quantileCases)
    func quantile(_ testCase: QuantileCase) {
        let buckets = testCase.buckets.map { HistogramBucket(upperBound: $0.0, cumulativeCount: $0.1) }
        let result = histogramQuantile(testCase.q, buckets: buckets)
        switch (result, testCase.expected) {
        case (nil, nil):
            break
        case let (got?, want?) where want.isInfinite:
            #expect(got == want)
        case let (got?, want?):
            #expect(abs(got - want) < 1e-9, "got \(got), want \(want)")
        default:
            Issue.record("got \(String(describing: result)), want \(String(describing: testCase.expected))")
        }
    }

    @Test(arguments: rateCases)
    func counterRate(_ testCase: RateCase) {
        #expect(CounterRate.rate(previous: testCase.previous, current: testCase.current) == testCase.expected)
    }

    @Test func gathersSeriesPerLabelSetWithoutLe() {
        let text = """
            # TYPE h histogram
            h_bucket{m="a",le="0.5"} 1
            h_bucket{m="a",le="+Inf"} 2
            h_sum{m="a"} 1.25
            h_count{m="a"} 2
            h_created{m="a"} 1.7e9
            h_bucket{m="b",le="1.0"} 3
            h_bucket{m="b",le="bogus"} 9
            h_count{m="b"} 3
            """
        let series = PrometheusText.parse(text).histograms(named: "h")
        #expect(series.map(\.labels) == [["m": "a"], ["m": "b"]])
        #expect(series.first?.buckets == [HistogramBucket(upperBound: 0.5, cumulativeCount: 1),
                                          HistogramBucket(upperBound: .infinity, cumulativeCount: 2)])
        #expect(series.first?.sum == 1.25)
        #expect(series.first?.count == 2)
        #expect(series.last?.sum == nil)
        #expect(series.last?.observations == 3)
        #expect(series.last?.quantile(0.5) == 0.5)
    }

    @Test func addingSumsBucketsByBound() {
        let lhs = PrometheusHistogram(name: "h", labels: ["engine": "0", "m": "a"],
                                      buckets: [.init(upperBound: 1, cumulativeCount: 1),
                                                .init(upperBound: .infinity, cumulativeCount: 2)], sum: 1, count: 2)
        let rhs = PrometheusHistogram(name: "h", labels: ["engine": "1", "m": "a"],
                                      buckets: [.init(upperBound: 1, cumulativeCount: 3),
                                                .init(upperBound: .infinity, cumulativeCount: 4)], sum: nil, count: 4)
        let total = lhs.adding(rhs)
        #expect(total.buckets.map(\.cumulativeCount) == [4, 6])
        #expect(total.sum == nil)
        #expect(total.count == 6)
        #expect(total.labels == ["m": "a"])
    }
}
