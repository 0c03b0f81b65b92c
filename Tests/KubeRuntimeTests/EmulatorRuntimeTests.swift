import ClusterSim
import Foundation
import KubeClient
import KubeCore
import Testing

@testable import KubeRuntime

/// The runtime (Watcher/Store, LeaderElector, EventRecorder) through the client adapters against the emulated
/// API server over loopback.
@Suite("KubeRuntimeTests.Emulator")
struct EmulatorRuntimeTests {
    // MARK: - Support

    static func withServer<T: Sendable>(
        _ configuration: APIServer.Configuration = APIServer.Configuration(),
        _ body: (APIServer, KubernetesClient) async throws -> T
    ) async throws -> T {
        let server = APIServer(configuration: configuration)
        let address = try await server.start()
        let client: KubernetesClient
        do {
            client = try KubernetesClient(
                configuration: ClientConfiguration(server: address.url, requestTimeout: 5, maxRetryWait: 1))
        } catch {
            await server.stop()
            throw error
        }
        let result: Result<T, Error>
        do {
            result = .success(try await body(server, client))
        } catch {
            result = .failure(error)
        }
        try? await client.shutdown()
        await server.stop()
        return try result.get()
    }

    /// Polls `condition` every 10 ms until it holds; fails after `seconds`.
    static func eventually(
        _ what: String, seconds: Double = 30, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out after \(seconds) s waiting for: \(what)")
        throw CancellationError()
    }

    /// What the consumer of a watcher saw.
    final class WatchLog: Sendable {
        private let state = LockedValue<[String]>([])
        func append(_ s: String) { state.withLock { $0.append(s) } }
        var entries: [String] { state.withLock { $0 } }
        func count(_ s: String) -> Int { entries.filter { $0 == s }.count }
    }

    /// Runs a watcher into a store in a task; returns the store, the log and the task.
    static func startWatcher(
        _ client: KubernetesClient, labelSelector: String, configuration: WatcherConfiguration
    ) -> (Store<ConfigMap>, WatchLog, Task<Void, Never>) {
        let lw = ResourceListerWatcher(client.resources(ConfigMap.self, namespace: "default"), labelSelector: labelSelector)
        let store = Store<ConfigMap>()
        let log = WatchLog()
        let task = Task {
            for await element in Watcher(lw, configuration: configuration) {
                switch element {
                case .success(let event):
                    store.apply(event)
                    switch event {
                    case .initStarted: log.append("initStarted")
                    case .initDone: log.append("initDone")
                    case .initApply(let o): log.append("initApply \(o.metadata.name ?? "")")
                    case .apply(let o): log.append("apply \(o.metadata.name ?? "") \(o.metadata.resourceVersion ?? "")")
                    case .delete(let o): log.append("delete \(o.metadata.name ?? "") \(o.metadata.resourceVersion ?? "")")
                    }
                case .failure(let error):
                    log.append("failure \(error.stage)")
                }
            }
        }
        return (store, log, task)
    }

    static let fastWatcher = WatcherConfiguration(
        pageSize: 2, timeoutSeconds: nil, allowBookmarks: false,
        backoff: BackoffPolicy(initial: .milliseconds(20), maximum: .milliseconds(200)), random: { 0.5 })

    /// The server's objects with this label in `default`, as name → data.
    static func serverState(_ server: APIServer, label: String) async -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for object in await server.storage.list(.configMaps, namespace: "default")
        where object[path: ["metadata", "labels", "app"]]?.stringValue == label {
            let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
            var data: [String: String] = [:]
            for (k, v) in object["data"]?.objectValue ?? [:] { data[k] = v.stringValue }
            out[name] = data
        }
        return out
    }

    static func storeState(_ store: Store<ConfigMap>) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for cm in store.list() { out[cm.metadata.name ?? ""] = cm.data ?? [:] }
        return out
    }

    static func watchRequests(_ server: APIServer) async -> [RequestLogEntry] {
        await server.requestLog().filter { $0.path.hasSuffix("/configmaps") && $0.query.contains("watch=") }
    }

    static func queryValue(_ entry: RequestLogEntry, _ name: String) -> String? {
        for pair in entry.query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2, kv[0] == name { return kv[1].removingPercentEncoding ?? kv[1] }
        }
        return nil
    }

    // MARK: - Watcher

    @Test func watcherListsWatchesResumesAndRelistsAfterCompaction() async throws {
        try await Self.withServer { server, client in
            let api = client.resources(ConfigMap.self, namespace: "default")
            for i in 0..<3 {
                _ = try await api.create(
                    ConfigMap(metadata: ObjectMeta(name: "cm-\(i)", labels: ["app": "w"]), data: ["v": "0"]))
            }
            // Every watch ends cleanly after 0.3 s: the watcher must resume from the last resourceVersion.
            await server.setFaults(try FaultSpec(parsing: "watch:configmaps:drop=0.3s"))
            let (store, log, task) = Self.startWatcher(client, labelSelector: "app=w", configuration: Self.fastWatcher)
            defer { task.cancel() }
            try await withTimeout(seconds: 20) { try await store.waitUntilReady() }
            #expect(Self.storeState(store) == ["cm-0": ["v": "0"], "cm-1": ["v": "0"], "cm-2": ["v": "0"]])
            // pageSize 2 → two list pages.
            let lists = await server.requestLog().filter {
                $0.method == "GET" && $0.path.hasSuffix("/configmaps") && !$0.query.contains("watch=")
            }
            #expect(lists.count == 2)

            _ = try await api.create(ConfigMap(metadata: ObjectMeta(name: "cm-3", labels: ["app": "w"]), data: ["v": "1"]))
            _ = try await api.patch("cm-0", type: .merge, patch: ["data": ["v": "2"]])
            try await api.delete("cm-1")
            let want = await Self.serverState(server, label: "w")
            try await Self.eventually("store has the changes") { Self.storeState(store) == want }
            let lastRV = try #require(log.entries.last?.split(separator: " ").last.map(String.init))
            #expect(log.entries.last?.hasPrefix("delete cm-1") == true)

            // After the watch is dropped, the next one resumes from the last resourceVersion seen.
            try await Self.eventually("a watch resumed from \(lastRV)") {
                await Self.watchRequests(server).contains { Self.queryValue($0, "resourceVersion") == lastRV }
            }
            #expect(log.count("initStarted") == 1)

            #expect(!log.entries.contains { $0.hasPrefix("failure") })

            // Watches fail (503) for a while; meanwhile cm-2 changes unseen and the history is compacted. When
            // watches work again, resuming from lastRV answers 410 (an in-stream ERROR) and the watcher relists.
            await server.setFaults(try FaultSpec(parsing: "watch:configmaps:status=503"))
            try await Self.eventually("a watch failed with 503") {
                await server.requestLog().contains { $0.query.contains("watch=") && $0.status == 503 }
            }
            _ = try await api.patch("cm-2", type: .merge, patch: ["data": ["v": "3"]])
            await server.compact()
            await server.setFaults(try FaultSpec(parsing: "watch:configmaps:drop=0.3s"))
            try await Self.eventually("relisted") { log.count("initDone") == 2 }
            #expect(log.count("initStarted") == 2)
            let final = await Self.serverState(server, label: "w")
            #expect(final["cm-2"] == ["v": "3"])
            try await Self.eventually("store converges after relist") { Self.storeState(store) == final }
            #expect(!log.entries.contains { $0.hasPrefix("apply cm-2") })  // only the relist brought it
            // The adapter's watch stream sends its request on the first pull, so an HTTP error opening the watch is
            // reported at the watchStream stage.
            let failures = log.entries.filter { $0.hasPrefix("failure") }
            #expect(!failures.isEmpty)
            #expect(failures.allSatisfy { $0 == "failure watchStart" || $0 == "failure watchStream" })
        }
    }

    @Test func bookmarksAdvanceTheResumeResourceVersion() async throws {
        let configuration = APIServer.Configuration(bookmarkInterval: .milliseconds(100))
        try await Self.withServer(configuration) { server, client in
            let api = client.resources(ConfigMap.self, namespace: "default")
            _ = try await api.create(ConfigMap(metadata: ObjectMeta(name: "seen", labels: ["app": "b"])))
            await server.setFaults(try FaultSpec(parsing: "watch:configmaps:drop=0.6s"))
            var watcherConfiguration = Self.fastWatcher
            watcherConfiguration.allowBookmarks = true
            let (store, log, task) = Self.startWatcher(client, labelSelector: "app=b", configuration: watcherConfiguration)
            defer { task.cancel() }
            try await withTimeout(seconds: 20) { try await store.waitUntilReady() }
            try await Self.eventually("first watch open") { await Self.watchRequests(server).count >= 1 }
            // A configmap outside the selector: the watcher never gets it as an event, only through a bookmark.
            let hidden = try await api.create(ConfigMap(metadata: ObjectMeta(name: "hidden", labels: ["app": "other"])))
            let hiddenRV = try #require(hidden.metadata.resourceVersion)
            try await Self.eventually("a watch resumed from the bookmark's resourceVersion \(hiddenRV)") {
                await Self.watchRequests(server).contains { Self.queryValue($0, "resourceVersion") == hiddenRV }
            }
            #expect(await Self.watchRequests(server).allSatisfy { Self.queryValue($0, "allowWatchBookmarks") == "true" })
            #expect(store.list().compactMap(\.metadata.name) == ["seen"])
            #expect(log.count("initStarted") == 1)
        }
    }
}
