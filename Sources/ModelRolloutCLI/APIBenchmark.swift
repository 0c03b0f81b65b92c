import ClusterSim
import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// What `modelrollout bench api` measures and how hard.
struct APIBenchmarkSettings: Sendable, Codable {
    /// ConfigMaps created, listed and modified (and watched: one MODIFIED event per object).
    var objects: Int = 2000
    /// Concurrent watches of the fan-out measurement.
    var watchers: Int = 50
    /// Sequential patches of the latency measurements.
    var iterations: Int = 1000
    /// Requests in flight during creates and concurrent patches.
    var concurrency: Int = 16
    /// `limit` of the paged list.
    var pageSize: Int = 500
    /// Store sizes of the memory measurement.
    var memoryCounts: [Int] = [2000, 10_000]
    /// Longest time one phase may take before the run fails (bounds a hang, e.g. a lost watch event).
    var phaseTimeoutSeconds: Double = 300
}

/// One measured number, with the unit and a one-line description of how it was measured.
struct BenchmarkMetric: Sendable, Codable {
    var name: String
    var value: Double
    var unit: String
    var method: String
}

/// The result of one run: the environment, the settings and every metric.
struct APIBenchmarkReport: Sendable, Codable {
    var benchmark = "api"
    var build: String
    var cores: Int
    var date: String
    var settings: APIBenchmarkSettings
    var durationSeconds: Double
    var metrics: [BenchmarkMetric]
}

/// Measures the emulated API server and our client together, in one process over loopback HTTP:
/// create/list/watch throughput, patch and watch-delivery latency, and the client cache's memory per object.
struct APIBenchmark: Sendable {
    var settings: APIBenchmarkSettings
    /// Receives one progress line at a time.
    var progress: @Sendable (String) -> Void

    static let namespace = "bench"
    func run() async throws -> APIBenchmarkReport {
        let started = ContinuousClock.now
        let cluster = EmulatedCluster(configuration: EmulatedCluster.Configuration(workloads: false))
        let address = try await cluster.start()
        progress("bench: emulated API server on \(address.url) (API only, no workloads)")
        var clients: [KubernetesClient] = []
        do {
            let client = try Self.makeClient(address.url)
            clients.append(client)
            var metrics: [BenchmarkMetric] = []
            let configMaps = client.resources(ConfigMap.self, namespace: Self.namespace)
            _ = try await client.resources(Namespace.self).create(Namespace(metadata: ObjectMeta(name: Self.namespace)))

            metrics += try await phase("create") { try await measureCreate(configMaps) }
            let (listMetrics, resourceVersion) = try await phase("list") { try await measureList(configMaps) }
            metrics += listMetrics
            let (patchThroughput, afterPatches) = try await phase("concurrent patches") {
                try await measureConcurrentPatches(configMaps)
            }
            metrics.append(patchThroughput)
            metrics.append(try await phase("watch (one watcher)") {
                try await measureWatch(configMaps, from: resourceVersion, expecting: afterPatches)
            })
            metrics.append(try await phase("watch (\(settings.watchers) watchers)") {
                try await measureWatchFanOut(configMaps, from: resourceVersion, expecting: afterPatches)
            })
            metrics += try await phase("patch latency") { try await measurePatchLatency(configMaps) }
            metrics += try await phase("watch delivery latency") { try await measureDeliveryLatency(configMaps) }
            for count in settings.memoryCounts {
                metrics += try await phase("memory (\(count) objects)") {
                    try await measureMemory(client: client, storage: cluster.storage, count: count)
                }
            }
            for c in clients { try? await c.shutdown() }
            await cluster.stop()
            let elapsed = ContinuousClock.now - started
            return APIBenchmarkReport(
                build: Self.buildConfiguration, cores: ProcessInfo.processInfo.activeProcessorCount,
                date: KubeTime.format(Date()), settings: settings, durationSeconds: elapsed.inSeconds, metrics: metrics)
        } catch {
            for c in clients { try? await c.shutdown() }
            await cluster.stop()
            throw error
        }
    }

    static var buildConfiguration: String {
        #if DEBUG
            return "debug"
        #else
            return "release"
        #endif
    }

    /// A client without client-side rate limiting or retries: the benchmark measures the server and the wire.
    static func makeClient(_ server: String) throws -> KubernetesClient {
        let configuration = ClientConfiguration(
            server: server, namespace: namespace, qps: 1e9, burst: 1_000_000, requestTimeout: 120, maxRetries: 0)
        return try KubernetesClient(configuration: configuration)
    }

    /// The reflectors' logger: their cancellation at the end of a phase is not worth a line.
    static var quietLogger: Logger {
        var logger = Logger(label: "modelrollout.bench")
        logger.logLevel = .error
        return logger
    }

    static func objectName(_ index: Int) -> String { "cm-" + String(format: "%05d", index) }

    /// A ConfigMap of a realistic small size: two labels, an annotation and three data entries (~100 bytes).
    static func configMap(_ index: Int, namespace: String) -> ConfigMap {
        let meta = ObjectMeta(
            name: objectName(index), namespace: namespace,
            labels: ["app.kubernetes.io/name": "bench", "bench.modelrollout.io/shard": String(index % 8)],
            annotations: ["bench.modelrollout.io/created-by": "modelrollout bench api"])
        let payload = String(repeating: "abcdefghijklmnop", count: 4)
        return ConfigMap(metadata: meta, data: ["index": String(index), "seq": "0", "payload": payload])
    }

    // MARK: - Phases

    /// Runs one phase with a progress line at start and end, failing it after `phaseTimeoutSeconds`.
    private func phase<T: Sendable>(
        _ name: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        progress("bench: \(name) ...")
        let start = ContinuousClock.now
        let timeout = settings.phaseTimeoutSeconds
        let result = try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw CLIError("bench: \(name) did not finish within \(Int(timeout)) s")
            }
            return value
        }
        progress("bench: \(name) done in \(Self.formatSeconds((ContinuousClock.now - start).inSeconds))")
        return result
    }

    /// Runs `operation(0..<count)` with at most `concurrency` calls in flight.
    private func forEachConcurrently(
        _ count: Int, _ operation: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < min(settings.concurrency, count) {
                let index = next
                group.addTask { try await operation(index) }
                next += 1
            }
            while try await group.next() != nil {
                if next < count {
                    let index = next
                    group.addTask { try await operation(index) }
                    next += 1
                }
            }
        }
    }

    private func measureCreate(_ configMaps: ResourceClient<ConfigMap>) async throws -> [BenchmarkMetric] {
        let n = settings.objects
        let start = ContinuousClock.now
        try await forEachConcurrently(n) { i in
            _ = try await configMaps.create(Self.configMap(i, namespace: Self.namespace))
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        return [
            BenchmarkMetric(
                name: "create throughput", value: Double(n) / seconds, unit: "objects/s",
                method: "POST \(n) ConfigMaps (~100 B of data each), \(settings.concurrency) requests in flight "
                    + "(one client)")
        ]
    }

    /// Full and paged lists, repeated for at least 3 rounds and about 1.5 s; returns the list's resourceVersion.
    private func measureList(_ configMaps: ResourceClient<ConfigMap>) async throws -> ([BenchmarkMetric], String) {
        let n = settings.objects
        var resourceVersion = ""
        let full = try await repeatTimed {
            let list = try await configMaps.list()
            guard list.items.count == n else {
                throw CLIError("bench: list returned \(list.items.count) ConfigMaps, expected \(n)")
            }
            resourceVersion = list.metadata.resourceVersion ?? ""
        }
        let pageSize = settings.pageSize
        let paged = try await repeatTimed {
            let list = try await configMaps.listAll(ListOptions(limit: pageSize))
            guard list.items.count == n else {
                throw CLIError("bench: paged list returned \(list.items.count) ConfigMaps, expected \(n)")
            }
        }
        let pages = (n + pageSize - 1) / pageSize
        let requests = pages == 1 ? "1 request" : "\(pages) requests"
        let metrics = [
            BenchmarkMetric(
                name: "list throughput (full)", value: full, unit: "lists/s",
                method: "GET all \(n) ConfigMaps in one response, decoded to typed objects; sequential, repeated"),
            BenchmarkMetric(
                name: "list throughput (full)", value: full * Double(n), unit: "objects/s",
                method: "the same, counted in objects"),
            BenchmarkMetric(
                name: "list throughput (paged)", value: paged, unit: "lists/s",
                method: "all \(n) ConfigMaps with limit=\(pageSize) and continue tokens (\(requests) per list)"),
            BenchmarkMetric(
                name: "list throughput (paged)", value: paged * Double(n), unit: "objects/s",
                method: "the same, counted in objects"),
        ]
        return (metrics, resourceVersion)
    }

    /// Runs `body` at least 3 times and until about 1.5 s have passed (at most 200 times); returns runs per second.
    private func repeatTimed(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        var rounds = 0
        var elapsed = 0.0
        repeat {
            try await body()
            rounds += 1
            elapsed = (ContinuousClock.now - start).inSeconds
        } while rounds < 3 || (elapsed < 1.5 && rounds < 200)
        return Double(rounds) / elapsed
    }

    /// Patches every object once (`data.seq` = "1"), `concurrency` in flight; these are the events the watch
    /// measurements replay. Returns the throughput and the number of patches.
    private func measureConcurrentPatches(
        _ configMaps: ResourceClient<ConfigMap>
    ) async throws -> (BenchmarkMetric, Int) {
        let n = settings.objects
        let start = ContinuousClock.now
        try await forEachConcurrently(n) { i in
            _ = try await configMaps.patch(Self.objectName(i), type: .merge, patch: ["data": ["seq": "1"]])
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        let metric = BenchmarkMetric(
            name: "patch throughput", value: Double(n) / seconds, unit: "patches/s",
            method: "merge patch of one data key on each of the \(n) ConfigMaps, \(settings.concurrency) in flight")
        return (metric, n)
    }

    /// Reads one watch from `resourceVersion` until `expected` MODIFIED events arrived.
    private static func consumeWatch(
        _ configMaps: ResourceClient<ConfigMap>, from resourceVersion: String, expecting expected: Int
    ) async throws {
        let options = WatchOptions(resourceVersion: resourceVersion, allowWatchBookmarks: false)
        var received = 0
        for try await event in configMaps.watch(options) {
            switch event {
            case .modified: received += 1
            case .error(let status): throw CLIError("bench: watch failed: \(status.message)")
            case .added, .deleted, .bookmark: continue
            }
            if received == expected { return }
        }
        throw CLIError("bench: watch ended after \(received) of \(expected) events")
    }

    private func measureWatch(
        _ configMaps: ResourceClient<ConfigMap>, from resourceVersion: String, expecting expected: Int
    ) async throws -> BenchmarkMetric {
        let start = ContinuousClock.now
        try await Self.consumeWatch(configMaps, from: resourceVersion, expecting: expected)
        let seconds = (ContinuousClock.now - start).inSeconds
        return BenchmarkMetric(
            name: "watch throughput (1 watcher)", value: Double(expected) / seconds, unit: "events/s",
            method: "watch from the resourceVersion before the \(expected) patches: the server replays them as "
                + "MODIFIED events; time until the last one is decoded")
    }

    private func measureWatchFanOut(
        _ configMaps: ResourceClient<ConfigMap>, from resourceVersion: String, expecting expected: Int
    ) async throws -> BenchmarkMetric {
        let watchers = settings.watchers
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<watchers {
                group.addTask { try await Self.consumeWatch(configMaps, from: resourceVersion, expecting: expected) }
            }
            try await group.waitForAll()
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        return BenchmarkMetric(
            name: "watch throughput (\(watchers) watchers)", value: Double(watchers * expected) / seconds,
            unit: "events/s",
            method: "\(watchers) concurrent watches over one client (one connection each), each receiving all "
                + "\(expected) replayed events; total events delivered per second")
    }

    private func measurePatchLatency(_ configMaps: ResourceClient<ConfigMap>) async throws -> [BenchmarkMetric] {
        let iterations = settings.iterations
        let name = Self.objectName(0)
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        for i in 0..<iterations {
            let start = ContinuousClock.now
            _ = try await configMaps.patch(name, type: .merge, patch: ["data": ["seq": .string("p\(i)")]])
            samples.append((ContinuousClock.now - start).inSeconds)
        }
        let method = "\(iterations) sequential merge patches of one ConfigMap, request sent to response decoded"
        return Self.latencyMetrics("patch round-trip latency", samples, method: method)
    }

    /// A Reflector over ResourceListerWatcher (field selector on one object) forwards each MODIFIED object's
    /// `data.seq`; sequential patches set a fresh value, so every delivery is attributable to its patch.
    private func measureDeliveryLatency(_ configMaps: ResourceClient<ConfigMap>) async throws -> [BenchmarkMetric] {
        let iterations = settings.iterations
        let name = Self.objectName(1 % max(settings.objects, 1))
        let (deliveries, continuation) = AsyncStream<String>.makeStream()
        let listerWatcher = ResourceListerWatcher(configMaps, fieldSelector: "metadata.name=\(name)")
        let watcher = Watcher(listerWatcher, configuration: WatcherConfiguration(allowBookmarks: false))
        let reflector = Reflector(watcher: watcher, logger: Self.quietLogger) { event in
            if case .apply(let object) = event, let seq = object.data?["seq"] { continuation.yield(seq) }
        }
        let task = Task { try await reflector.run() }
        defer {
            task.cancel()
            continuation.finish()
        }
        try await reflector.store.waitUntilReady()
        var iterator = deliveries.makeAsyncIterator()
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        for i in 0..<iterations {
            let tag = "d\(i)"
            let start = ContinuousClock.now
            _ = try await configMaps.patch(name, type: .merge, patch: ["data": ["seq": .string(tag)]])
            while true {
                guard let seq = await iterator.next() else { throw CLIError("bench: the reflector stopped") }
                if seq == tag { break }
            }
            samples.append((ContinuousClock.now - start).inSeconds)
        }
        let method = "patch sent until a Reflector (Watcher over ResourceListerWatcher) delivers the MODIFIED "
            + "event; \(iterations) sequential patches"
        return Self.latencyMetrics("watch event-to-delivery latency", samples, method: method)
    }

    /// Resident memory per object of a Reflector's Store; see `ProcessMemory` for the method.
    private func measureMemory(
        client: KubernetesClient, storage: ObjectStorage, count: Int
    ) async throws -> [BenchmarkMetric] {
        let namespace = "bench-memory-\(count)"
        _ = try await client.resources(Namespace.self).create(Namespace(metadata: ObjectMeta(name: namespace)))
        // The server's copies are written in-process (no HTTP): they exist before the baseline is taken.
        for i in 0..<count {
            let object = try KubeJSON.toJSONValue(Self.configMap(i, namespace: namespace))
            _ = try await storage.create(.configMaps, object)
        }
        let configMaps = client.resources(ConfigMap.self, namespace: namespace)
        // Warm-up: one full paged list decoded and dropped, so transient buffers of that size were used once.
        let warmup = try await configMaps.listAll(ListOptions(limit: settings.pageSize))
        let objectJSONBytes = try warmup.items.first.map { try KubeJSON.encode($0).count } ?? 0
        _ = consume warmup
        guard let before = ProcessMemory.residentBytes(trimming: true) else {
            progress("bench: memory per object skipped: /proc/self/statm cannot be read on this system")
            return []
        }
        let filled = try await fillStore(configMaps, count: count)
        // Everything the Store referenced is gone now; what RSS drops by is what the cached objects held.
        let released = ProcessMemory.residentBytes(trimming: true) ?? before
        let perObject = Double(filled - released) / Double(count)
        progress(
            "bench: RSS \(before / 1024) KiB before, \(filled / 1024) KiB with the store, "
                + "\(released / 1024) KiB after releasing it")
        return [
            BenchmarkMetric(
                name: "client memory per cached object (\(count))", value: perObject, unit: "bytes/object",
                method: "RSS (/proc/self/statm, after malloc_trim) with a Reflector's Store of \(count) ConfigMaps "
                    + "minus RSS once it is released, / \(count); \(objectJSONBytes) B of JSON each")
        ]
    }

    /// Fills a Store through a Reflector, stops the Reflector and returns the RSS while the Store is alive.
    private func fillStore(_ configMaps: ResourceClient<ConfigMap>, count: Int) async throws -> Int {
        let store = Store<ConfigMap>()
        let watcher = Watcher(
            ResourceListerWatcher(configMaps),
            configuration: WatcherConfiguration(pageSize: settings.pageSize, allowBookmarks: false))
        let reflector = Reflector(watcher: watcher, store: store, logger: Self.quietLogger)
        let task = Task { try await reflector.run() }
        try await store.waitUntilReady()
        task.cancel()
        _ = try? await task.value
        guard store.count == count else {
            throw CLIError("bench: the store holds \(store.count) ConfigMaps, expected \(count)")
        }
        let rss = ProcessMemory.residentBytes(trimming: true) ?? 0
        withExtendedLifetime(store) {}
        return rss
    }

    // MARK: - Formatting

    static func latencyMetrics(_ name: String, _ samples: [Double], method: String) -> [BenchmarkMetric] {
        let sorted = samples.sorted()
        return [
            BenchmarkMetric(name: "\(name) p50", value: percentile(sorted, 0.50) * 1000, unit: "ms", method: method),
            BenchmarkMetric(name: "\(name) p99", value: percentile(sorted, 0.99) * 1000, unit: "ms", method: method),
        ]
    }

    /// Nearest-rank percentile of sorted samples (0 when there are none).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        Percentile.nearestRank(sorted: sorted, p) ?? 0
    }

    static func formatSeconds(_ seconds: Double) -> String { String(format: "%.2f s", seconds) }
}

/// The process's resident memory, for the per-object cache measurement.
///
/// Method: RSS is the second field of `/proc/self/statm` (pages) times the page size. Before reading, freed heap
/// memory is handed back to the kernel with `malloc_trim(0)` (glibc), so the difference of two readings is what is
/// still referenced — here the Store's objects, the whole process (server included) being otherwise idle.
enum ProcessMemory {
    static func residentBytes(trimming: Bool) -> Int? {
        #if canImport(Glibc)
            if trimming { trimHeap() }
            guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
            let fields = text.split(separator: " ")
            guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
            return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
            return nil
        #endif
    }

    #if canImport(Glibc)
        /// Calls glibc's `malloc_trim(0)` (looked up at run time: the Glibc module does not export it).
        private static func trimHeap() {
            typealias MallocTrim = @convention(c) (Int) -> Int32
            guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "malloc_trim") else { return }
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        }
    #endif
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    var inSeconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
