import Foundation
import KubeCore
import Testing
@testable import KubeRuntime

@Suite struct WorkQueueTests {
    func makeQueue(
        _ clock: ManualClock = ManualClock(),
        rateLimiter: any RateLimiter<String> = ItemExponentialFailureRateLimiter<String>(base: .seconds(1))
    ) -> WorkQueue<String> {
        WorkQueue(name: "test", clock: clock, rateLimiter: rateLimiter)
    }

    func get(_ queue: WorkQueue<String>) async throws -> String? {
        try await withDeadline { await queue.get() } ?? nil
    }

    @Test func duplicatesCoalesce() async throws {
        let queue = makeQueue()
        await queue.add("a")
        await queue.add("b")
        await queue.add("a")
        #expect(await queue.len == 2)
        #expect(try await get(queue) == "a")
        #expect(try await get(queue) == "b")
        #expect(await queue.len == 0)
    }

    @Test func keyAddedWhileProcessingIsRequeuedOnlyWhenDone() async throws {
        let queue = makeQueue()
        await queue.add("a")
        #expect(try await get(queue) == "a")
        await queue.add("a")
        await queue.add("a")
        #expect(await queue.len == 0)
        #expect(await queue.processingCount == 1)
        await queue.done("a")
        #expect(await queue.len == 1)
        #expect(try await get(queue) == "a")
        await queue.done("a")
        #expect(await queue.len == 0)
    }

    @Test func blockedGetterReceivesLaterAdd() async throws {
        let queue = makeQueue()
        let getter = Task { await queue.get() }
        await Task.yield()
        await queue.add("x")
        #expect(try await withDeadline { await getter.value } == "x")
    }

    @Test func delayedAddArrivesWhenTheClockReachesIt() async throws {
        let clock = ManualClock()
        let queue = makeQueue(clock)
        await queue.addAfter("late", delay: .seconds(10))
        await queue.addAfter("late", delay: .seconds(3))  // the earlier time wins
        #expect(await queue.len == 0)
        #expect(await queue.delayedCount == 1)
        #expect(await clock.waitForSleepers(1))
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(3))
        clock.advance(by: .seconds(2))
        #expect(await queue.len == 0)
        clock.advance(by: .seconds(1))
        #expect(try await get(queue) == "late")
        #expect(await queue.delayedCount == 0)
    }

    @Test func rateLimitedRequeuesGrowUntilForgotten() async throws {
        let clock = ManualClock()
        let queue = makeQueue(clock)
        var expected = 1.0
        for attempt in 1...3 {
            await queue.addRateLimited("k")
            #expect(await queue.numRequeues("k") == attempt)
            #expect(await clock.waitForSleepers(1))
            #expect(clock.nextDeadline == clock.now().addingTimeInterval(expected))
            clock.advance(by: .interval(expected))
            #expect(try await get(queue) == "k")
            await queue.done("k")
            expected *= 2
        }
        await queue.forget("k")
        #expect(await queue.numRequeues("k") == 0)
    }

    @Test func shutDownWithDrainWaitsForInFlightKeys() async throws {
        let queue = makeQueue()
        await queue.add("a")
        #expect(try await get(queue) == "a")
        let drained = LockedValue(false)
        let drain = Task {
            await queue.shutDownWithDrain()
            drained.withLock { $0 = true }
        }
        for _ in 0..<20 { await Task.yield() }
        #expect(!drained.withLock { $0 })
        await queue.add("b")  // ignored after shutdown
        #expect(await queue.len == 0)
        await queue.done("a")
        _ = try await withDeadline { await drain.value }
        #expect(drained.withLock { $0 })
        #expect(try await get(queue) == nil)
    }

    @Test func shutDownReleasesIdleGettersButHandsOutQueuedKeys() async throws {
        let queue = makeQueue()
        await queue.add("queued")
        await queue.shutDown()
        #expect(try await get(queue) == "queued")
        let idle = Task { await queue.get() }
        #expect(try await withDeadline { await idle.value } == .some(nil))
    }

    @Test(arguments: [
        (1, 0.005), (2, 0.01), (3, 0.02), (11, 5.12), (30, 1000.0), (200, 1000.0),
    ])
    func exponentialLimiterDelays(failures: Int, seconds: Double) {
        var limiter = ItemExponentialFailureRateLimiter<String>()
        var delay = Duration.zero
        for _ in 0..<failures { delay = limiter.when("k", now: Date(timeIntervalSince1970: 0)) }
        #expect(abs(delay.timeInterval - seconds) < 1e-6)
        #expect(limiter.numRequeues("k") == failures)
        limiter.forget("k")
        #expect(limiter.numRequeues("k") == 0)
    }

    @Test func tokenBucketAllowsBurstThenSpacesByQPS() {
        var bucket = BucketRateLimiter<String>(qps: 10, burst: 2)
        let t0 = Date(timeIntervalSince1970: 0)
        #expect(bucket.when("a", now: t0) == .zero)
        #expect(bucket.when("b", now: t0) == .zero)
        #expect(abs(bucket.when("c", now: t0).timeInterval - 0.1) < 1e-6)
        #expect(abs(bucket.when("d", now: t0).timeInterval - 0.2) < 1e-6)
        // One second later the bucket has refilled (capped at the burst).
        #expect(bucket.when("e", now: t0.addingTimeInterval(1)) == .zero)
    }

    @Test func controllerDefaultTakesTheLongerDelay() {
        var limiter = MaxOfRateLimiter<String>.controllerDefault(qps: 1, burst: 1)
        let t0 = Date(timeIntervalSince1970: 0)
        #expect(abs(limiter.when("a", now: t0).timeInterval - 0.005) < 1e-6)  // per-item wins
        #expect(abs(limiter.when("b", now: t0).timeInterval - 1) < 1e-6)  // bucket wins
        #expect(limiter.numRequeues("a") == 1)
    }
}
