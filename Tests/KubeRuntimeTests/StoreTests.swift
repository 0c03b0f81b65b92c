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
