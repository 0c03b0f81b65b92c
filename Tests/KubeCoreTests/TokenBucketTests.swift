import Foundation
import KubeCore
import Testing

@Suite struct TokenBucketTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aFullBucketServesItsBurstThenReservesAtTheRate() {
        var bucket = TokenBucket(qps: 10, burst: 3)
        var first: [Double] = []
        for _ in 0..<3 { first.append(bucket.reserve(now: t0)) }
        #expect(first == [0, 0, 0])
        #expect(abs(bucket.reserve(now: t0) - 0.1) < 1e-9)
        #expect(abs(bucket.reserve(now: t0) - 0.2) < 1e-9, "a second waiter queues behind the first")
        #expect(bucket.reserve(now: t0.addingTimeInterval(0.4)) < 1e-6, "refilled at 10/s, debt paid")
    }

    @Test func takeNeverGoesIntoDebt() {
        var bucket = TokenBucket(qps: 1, burst: 1)
        var taken: [Bool] = []
        for offset in [0, 0, 0.5, 1.0] { taken.append(bucket.take(now: t0.addingTimeInterval(offset))) }
        #expect(taken == [true, false, false, true])
    }

    @Test func refillIsCappedAtTheBurstAndTimeGoingBackIsIgnored() {
        var bucket = TokenBucket(qps: 100, burst: 2)
        _ = bucket.reserve(now: t0)
        var taken: [Bool] = []
        for _ in 0..<3 { taken.append(bucket.take(now: t0.addingTimeInterval(3600))) }
        #expect(taken == [true, true, false], "no more than the burst after a long idle")
        let earlier = bucket.take(now: t0)
        #expect(!earlier, "an earlier instant refills nothing")
    }

    @Test func absurdSettingsAreClamped() {
        let bucket = TokenBucket(qps: -5, burst: 0)
        #expect(bucket.qps > 0 && bucket.burst == 1)
        #expect(TokenBucket(qps: .nan, burst: 1).qps > 0)
    }
}
