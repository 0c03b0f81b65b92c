import Foundation
import KubeCore
import Testing
@testable import KubeRuntime

@Suite struct StoreTests {
    @Test func relistSwapsAtomicallyOnInitDone() {
        let store = Store<Item>()
        store.apply(.initStarted)
        store.apply(.initApply(Item(name: "a", rv: "1")))
        #expect(store.count == 0)
        #expect(!store.isReady)
        store.apply(.initDone)
        #expect(store.isReady)
        #expect(store.get(ObjectKey(namespace: "ns", name: "a"))?.rv == "1")
        store.apply(.apply(Item(name: "b", rv: "2")))
        store.apply(.delete(Item(name: "a", rv: "3")))
        #expect(store.list().map(\.name) == ["b"])
        // A relist: readers keep seeing the old contents until initDone.
        store.apply(.initStarted)
        store.apply(.initApply(Item(name: "c", rv: "4")))
        #expect(store.list().map(\.name) == ["b"])
        store.apply(.initDone)
        #expect(store.list().map(\.name) == ["c"])
    }

    @Test func indexesFollowEveryEventAndARelist() {
        // Index items by the parity of their value.
        let store = Store<Item>(indexers: ["parity": { [$0.value % 2 == 0 ? "even" : "odd"] }])
        store.apply(.initStarted)
        store.apply(.initApply(Item(name: "a", rv: "1", value: 1)))
        store.apply(.initApply(Item(name: "b", rv: "1", value: 2)))
        #expect(store.byIndex("parity", "odd").isEmpty, "the buffer is not indexed before initDone")
        store.apply(.initDone)
        #expect(store.byIndex("parity", "odd").map(\.name) == ["a"])
        #expect(store.byIndex("parity", "even").map(\.name) == ["b"])
        // An update moves the object between values; a delete removes it; unknown indexes answer nothing.
        store.apply(.apply(Item(name: "a", rv: "2", value: 4)))
        store.apply(.apply(Item(name: "c", rv: "2", value: 3)))
        #expect(store.byIndex("parity", "even").map(\.name) == ["a", "b"])
        #expect(store.byIndex("parity", "odd").map(\.name) == ["c"])
        store.apply(.delete(Item(name: "b", rv: "3", value: 2)))
        #expect(store.byIndex("parity", "even").map(\.name) == ["a"])
        #expect(store.byIndex("other", "even").isEmpty)
        // A relist rebuilds the indexes from the new contents.
        store.apply(.initStarted)
        store.apply(.initApply(Item(name: "d", rv: "4", value: 5)))
        store.apply(.initDone)
        #expect(store.byIndex("parity", "even").isEmpty)
        #expect(store.byIndex("parity", "odd").map(\.name) == ["d"])
        #expect(store.keys == [ObjectKey(namespace: "ns", name: "d")])
    }

    @Test func keysOrderAsTheirDescription() {
        let keys = [
            ObjectKey(namespace: "a-b", name: "x"), ObjectKey(namespace: "a", name: "y"),
            ObjectKey(namespace: nil, name: "z"), ObjectKey(namespace: "a", name: "b"), ObjectKey(namespace: nil, name: "c"),
        ]
        #expect(keys.sorted() == keys.sorted { $0.description < $1.description })
    }

    @Test func waitUntilReadyReturnsAfterFirstInitDone() async throws {
        let store = Store<Item>()
        let waiter = Task { try await store.waitUntilReady() }
        store.apply(.initStarted)
        store.apply(.initApply(Item(name: "a", rv: "1")))
        store.apply(.initDone)
        let done: Void? = try await withDeadline { try await waiter.value }
        #expect(done != nil)
        // Already ready: returns at once.
        try await store.waitUntilReady()
    }

    @Test func waitUntilReadyThrowsWhenCancelled() async {
        let store = Store<Item>()
        let waiter = Task { try await store.waitUntilReady() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }

    @Test func reflectorFeedsStoreAndForwardsEvents() async throws {
        let lw = ScriptedListerWatcher(
            lists: [.page(ListPage(items: [Item(name: "a", rv: "1")], resourceVersion: "1"))],
            watches: [.events([.added(Item(name: "b", rv: "2"))]), .hang])
        let seen = LockedValue<[String]>([])
        let reflector = Reflector(
            watcher: Watcher(lw, configuration: WatcherConfiguration(random: { 0 }), clock: ManualClock()),
            onEvent: { event in seen.withLock { $0.append(describe(.success(event))) } })
        let task = Task { try await reflector.run() }
        defer { task.cancel() }
        try await reflector.store.waitUntilReady()
        _ = try await withDeadline { while seen.withLock({ $0.count }) < 4 { await Task.yield() } }
        #expect(seen.withLock { $0 } == ["initStarted", "initApply(a)", "initDone", "apply(b@2)"])
        #expect(reflector.store.list().map(\.name) == ["a", "b"])
    }

    @Test func jsonObjectsAreKeyed() throws {
        let pod = try JSONValue.parse(#"{"metadata":{"name":"p","namespace":"ns","resourceVersion":"9"}}"#)
        #expect(pod.objectKey == ObjectKey(namespace: "ns", name: "p"))
        #expect(pod.resourceVersion == "9")
    }
}
