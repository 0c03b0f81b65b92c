import Foundation
import KubeCore
import Testing
@testable import KubeRuntime

@Suite struct WatcherTests {
    func makeWatcher(
        _ lw: ScriptedListerWatcher, clock: ManualClock = ManualClock(), pageSize: Int? = 2
    ) -> Watcher<ScriptedListerWatcher> {
        Watcher(
            lw,
            configuration: WatcherConfiguration(
                pageSize: pageSize, timeoutSeconds: 300...600, backoff: BackoffPolicy(jitter: 0), random: { 0.5 }),
            clock: clock)
    }

    /// Takes `count` elements from the watcher.
    func take(_ count: Int, from watcher: Watcher<ScriptedListerWatcher>) async throws -> [String] {
        try await withDeadline {
            var out: [String] = []
            var iterator = watcher.makeAsyncIterator()
            while out.count < count, let element = await iterator.next() { out.append(describe(element)) }
            return out
        } ?? ["timed out"]
    }

    @Test func listsAllPagesThenWatchesFromListResourceVersion() async throws {
        let lw = ScriptedListerWatcher(
            lists: [
                .page(ListPage(items: [Item(name: "a", rv: "1"), Item(name: "b", rv: "2")], resourceVersion: "10",
                    continueToken: "t1")),
                .page(ListPage(items: [Item(name: "c", rv: "3")], resourceVersion: "10")),
            ],
            watches: [.events([.added(Item(name: "d", rv: "11")), .deleted(Item(name: "a", rv: "12"))]), .hang])
        let events = try await take(7, from: makeWatcher(lw))
        #expect(
            events == [
                "initStarted", "initApply(a)", "initApply(b)", "initApply(c)", "initDone", "apply(d@11)", "delete(a)",
            ])
        #expect(
            lw.calls.prefix(3) == [
                .list(continueToken: nil, limit: 2), .list(continueToken: "t1", limit: 2),
                .watch(resourceVersion: "10", timeout: 450, bookmarks: true),
            ])
    }

    @Test func cleanEndResumesFromLastSeenResourceVersionAndBookmarksAdvanceIt() async throws {
        let lw = ScriptedListerWatcher(
            lists: [.page(ListPage(items: [], resourceVersion: "5"))],
            watches: [
                .events([.modified(Item(name: "a", rv: "7"))]),
                .events([.bookmark(resourceVersion: "20", initialEventsEnd: false)]),
                .events([.added(Item(name: "b", rv: "21"))]),
                .hang,
            ])
        let events = try await take(4, from: makeWatcher(lw))
        #expect(events == ["initStarted", "initDone", "apply(a@7)", "apply(b@21)"])
        let watchRVs = lw.calls.compactMap { call -> String? in
            if case .watch(let rv, _, _) = call { return rv } else { return nil }
        }
        #expect(watchRVs.prefix(3) == ["5", "7", "20"])
        #expect(!lw.calls.dropFirst().contains { if case .list = $0 { return true } else { return false } })
    }

    @Test(arguments: ["thrown", "inStream", "thrownMidStream"])
    func goneRelists(kind: String) async throws {
        let gone = APIStatus.gone("too old resource version: 5 (100)")
        let firstWatch: ScriptedListerWatcher.WatchStep
        switch kind {
        case "thrown": firstWatch = .fail(gone)
        case "inStream": firstWatch = .events([.added(Item(name: "x", rv: "6")), .error(gone)])
        default: firstWatch = .events([.added(Item(name: "x", rv: "6"))], endError: gone)
        }
        let lw = ScriptedListerWatcher(
            lists: [
                .page(ListPage(items: [Item(name: "a", rv: "1")], resourceVersion: "5")),
                .page(ListPage(items: [Item(name: "b", rv: "2")], resourceVersion: "100")),
            ],
            watches: [firstWatch, .hang])
        let count = kind == "thrown" ? 6 : 7
        let events = try await take(count, from: makeWatcher(lw))
        var expected = ["initStarted", "initApply(a)", "initDone"]
        if kind != "thrown" { expected.append("apply(x@6)") }
        expected += ["initStarted", "initApply(b)", "initDone"]
        #expect(events == expected)
        // The relist is a fresh list (no continue token), after the watch from the first list's RV.
        #expect(
            lw.calls == [
                .list(continueToken: nil, limit: 2), .watch(resourceVersion: "5", timeout: 450, bookmarks: true),
                .list(continueToken: nil, limit: 2),
            ])
    }

    @Test func errorsAreYieldedThenRetriedWithGrowingBackoff() async throws {
        let clock = ManualClock()
        let lw = ScriptedListerWatcher(
            lists: [
                .fail(APIStatus.internalError("boom")),
                .fail(APIStatus.internalError("boom again")),
                .page(ListPage(items: [], resourceVersion: "3")),
            ],
            watches: [.fail(APIStatus.serviceUnavailable("later")), .hang])
        let watcher = makeWatcher(lw, clock: clock)
        let collected = LockedValue<[String]>([])
        let consumer = Task {
            var iterator = watcher.makeAsyncIterator()
            while let element = await iterator.next() { collected.withLock { $0.append(describe(element)) } }
        }
        defer { consumer.cancel() }
        // First failure, then the watcher sleeps 0.8 s.
        #expect(await clock.waitForSleepers(1))
        #expect(collected.withLock { $0 } == ["initStarted", "failure(list)"])
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(0.8))
        clock.advance(by: .milliseconds(800))
        // Second failure: 1.6 s.
        #expect(await clock.waitForSleepers(1))
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(1.6))
        clock.advance(by: .milliseconds(1600))
        // The list succeeds (backoff resets); the watch fails: 0.8 s again.
        #expect(await clock.waitForSleepers(1))
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(0.8))
        #expect(
            collected.withLock { $0 } == [
                "initStarted", "failure(list)", "failure(list)", "initDone", "failure(watchStart)",
            ])
        clock.advance(by: .milliseconds(800))
        _ = try await withDeadline { while lw.calls.count < 5 { await Task.yield() } }
        #expect(lw.calls.last == .watch(resourceVersion: "3", timeout: 450, bookmarks: true))
    }

    @Test(arguments: [
        (0, 0.8), (1, 1.6), (2, 3.2), (5, 25.6), (6, 30.0), (20, 30.0),
    ])
    func backoffGrowsAndIsCapped(attempt: Int, seconds: Double) {
        var backoff = Backoff(policy: BackoffPolicy(jitter: 0))
        var delay = Duration.zero
        for _ in 0...attempt { delay = backoff.nextDelay(random: 0.3) }
        #expect(abs(delay.timeInterval - seconds) < 1e-6)
    }

    @Test func backoffJitterStaysWithinSpreadAndCap() {
        var low = Backoff(policy: BackoffPolicy(jitter: 0.4))
        var high = Backoff(policy: BackoffPolicy(jitter: 0.4))
        #expect(abs(low.nextDelay(random: 0).timeInterval - 0.64) < 1e-6)
        #expect(abs(high.nextDelay(random: 0.999_999).timeInterval - 0.96) < 1e-3)
        for _ in 0..<10 { _ = high.nextDelay(random: 0.999) }
        #expect(high.nextDelay(random: 0.999).timeInterval <= 30)
    }
}
