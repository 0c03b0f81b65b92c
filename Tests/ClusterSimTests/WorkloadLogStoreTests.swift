import Foundation
import KubeCore
import Testing

@testable import ClusterSim

/// A clock standing still at a given date (the log store only reads `now()`).
struct StillClock: WorkloadClock {
    var date: Date
    var timeScale: Double { 1 }
    func now() -> Date { date }
    func sleep(until deadline: Date) async throws {
        try await Task.sleep(for: .interval(deadline.timeIntervalSince(date)))
    }
}

@Suite("ContainerLogStore")
struct WorkloadLogStoreTests {
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21T...Z

    /// Five lines `line 0` ... `line 4`, ten seconds apart from t0; the clock stands at t0 + 45 s.
    func filledStore() async -> ContainerLogStore {
        let store = ContainerLogStore(clock: StillClock(date: Self.t0.addingTimeInterval(45)))
        await store.containerStarted(namespace: "ns", pod: "p", container: "c")
        for i in 0..<5 {
            await store.append(
                namespace: "ns", pod: "p", container: "c", line: "line \(i)",
                at: Self.t0.addingTimeInterval(Double(i * 10)))
        }
        return store
    }

    func read(_ store: ContainerLogStore, _ query: LogQuery, container: String = "c") async -> String? {
        guard let stream = await store.logStream(namespace: "ns", pod: "p", container: container, query: query) else {
            return nil
        }
        var bytes: [UInt8] = []
        for await chunk in stream { bytes += chunk }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(arguments: [
        (LogQuery(), "line 0\nline 1\nline 2\nline 3\nline 4\n"),
        (LogQuery(tailLines: 2), "line 3\nline 4\n"),
        (LogQuery(tailLines: 0), ""),
        (LogQuery(sinceTime: t0.addingTimeInterval(20)), "line 2\nline 3\nline 4\n"),
        (LogQuery(sinceSeconds: 15), "line 3\nline 4\n"),
        (LogQuery(sinceSeconds: 35, tailLines: 2), "line 3\nline 4\n"),
        (LogQuery(tailLines: 3, limitBytes: 10), "line 2\nlin"),
        (LogQuery(limitBytes: 0), ""),
        (LogQuery(tailLines: 1, timestamps: true), "\(KubeTime.formatNano(t0.addingTimeInterval(40))) line 4\n"),
    ])
    func queries(query: LogQuery, expected: String) async {
        let store = await filledStore()
        #expect(await read(store, query) == expected)
    }

    @Test func timestampPrefixIsRFC3339NanoUTC() async throws {
        let store = await filledStore()
        let text = try #require(await read(store, LogQuery(tailLines: 1, timestamps: true)))
        let regex = try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 4\n$"#)
        #expect(text.wholeMatch(of: regex) != nil)
    }

    @Test func unknownContainerHasNoLog() async {
        let store = await filledStore()
        #expect(await read(store, LogQuery(), container: "other") == nil)
        #expect(await read(store, LogQuery(previous: true)) == nil)
    }

    @Test func followYieldsNewLinesUntilTheContainerStops() async {
        let store = await filledStore()
        let stream = await store.logStream(
            namespace: "ns", pod: "p", container: "c", query: LogQuery(tailLines: 1, follow: true))
        guard let stream else {
            Issue.record("no stream")
            return
        }
        await store.append(namespace: "ns", pod: "p", container: "c", line: "line 5")
        await store.append(namespace: "ns", pod: "p", container: "c", line: "line 6")
        await store.containerStopped(namespace: "ns", pod: "p", container: "c")
        var text = ""
        for await chunk in stream { text += String(decoding: chunk, as: UTF8.self) }
        #expect(text == "line 4\nline 5\nline 6\n")
    }

    @Test func followRespectsLimitBytesAcrossNewLines() async {
        let store = await filledStore()
        let query = LogQuery(tailLines: 1, limitBytes: 10, follow: true)
        guard let stream = await store.logStream(namespace: "ns", pod: "p", container: "c", query: query) else {
            Issue.record("no stream")
            return
        }
        await store.append(namespace: "ns", pod: "p", container: "c", line: "line 5")
        var text = ""
        for await chunk in stream { text += String(decoding: chunk, as: UTF8.self) }  // ends at the limit
        #expect(text == "line 4\nlin")
    }

    @Test func followOfAStoppedContainerReturnsTheBacklogAndEnds() async {
        let store = await filledStore()
        await store.containerStopped(namespace: "ns", pod: "p", container: "c")
        #expect(await read(store, LogQuery(tailLines: 1, follow: true)) == "line 4\n")
    }

    @Test func restartKeepsThePreviousInstance() async {
        let store = await filledStore()
        await store.containerStopped(namespace: "ns", pod: "p", container: "c")
        await store.containerStarted(namespace: "ns", pod: "p", container: "c")
        await store.append(namespace: "ns", pod: "p", container: "c", line: "again")
        #expect(await read(store, LogQuery()) == "again\n")
        #expect(await read(store, LogQuery(tailLines: 1, previous: true)) == "line 4\n")
    }

    @Test func podRemovalEndsFollowersAndForgetsTheLog() async {
        let store = await filledStore()
        let stream = await store.logStream(
            namespace: "ns", pod: "p", container: "c", query: LogQuery(tailLines: 0, follow: true))
        await store.removePod(namespace: "ns", pod: "p")
        var count = 0
        if let stream { for await _ in stream { count += 1 } }
        #expect(count == 0)
        #expect(await read(store, LogQuery()) == nil)
    }

    @Test func linesAreBounded() async {
        let store = ContainerLogStore(clock: StillClock(date: Self.t0), maxLinesPerContainer: 3)
        await store.containerStarted(namespace: "ns", pod: "p", container: "c")
        for i in 0..<10 { await store.append(namespace: "ns", pod: "p", container: "c", line: "\(i)") }
        #expect(await store.lines(namespace: "ns", pod: "p", container: "c")?.map(\.text) == ["7", "8", "9"])
    }
}
