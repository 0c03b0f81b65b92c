import KubeCore
import Logging
import ServiceLifecycle

/// A cache that has synced once its initial list is in (controller-runtime's `WaitForCacheSync`).
public protocol CacheSync: Sendable {
    var isReady: Bool { get }
    /// Returns once the cache holds its initial list.
    func waitUntilReady() async throws
}

/// A thread-safe cache of objects, fed by ``WatcherEvent``s, with optional indexes (client-go's `Indexer`).
///
/// A (re)list is collected in a separate buffer and swapped in atomically on `initDone`, so readers never see a
/// half-listed state; ``waitUntilReady()`` returns once the first list is in.
///
/// Each indexer maps an object to the values it is found under; the indexes are kept up to date on every event,
/// so ``byIndex(_:_:)`` costs the size of its answer, not of the cache.
public final class Store<Object: KeyedObject>: CacheSync, Sendable {
    /// The values an object is indexed under (none: not in that index).
    public typealias Indexer = @Sendable (Object) -> [String]

    private struct State {
        var items: [ObjectKey: Object] = [:]
        var buffer: [ObjectKey: Object]?
        var ready = false
        var nextWaiterID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Error>] = [:]
        /// Index name → value → keys.
        var indices: [String: [String: Set<ObjectKey>]] = [:]
    }

    private let state = LockedValue(State())
    private let indexers: [String: Indexer]
    private let transform: (@Sendable (Object) -> Object)?

    /// - Parameters:
    ///   - indexers: index name → the values an object is found under.
    ///   - transform: applied to every object on its way in (controller-runtime's cache `TransformFunc`): keep only
    ///     the fields the readers need.
    public init(indexers: [String: Indexer] = [:], transform: (@Sendable (Object) -> Object)? = nil) {
        self.indexers = indexers
        self.transform = transform
    }

    private func index(_ object: Object, key: ObjectKey, in s: inout State) {
        for (name, indexer) in indexers {
            for value in indexer(object) { s.indices[name, default: [:]][value, default: []].insert(key) }
        }
    }

    private func unindex(_ object: Object, key: ObjectKey, in s: inout State) {
        for (name, indexer) in indexers {
            for value in indexer(object) {
                s.indices[name]?[value]?.remove(key)
                if s.indices[name]?[value]?.isEmpty == true { s.indices[name]?[value] = nil }
            }
        }
    }

    private func store(_ object: Object, in s: inout State) {
        let key = object.objectKey
        if !indexers.isEmpty, let old = s.items[key] { unindex(old, key: key, in: &s) }
        s.items[key] = object
        if !indexers.isEmpty { index(object, key: key, in: &s) }
    }

    /// Applies one watcher event.
    public func apply(_ event: WatcherEvent<Object>) {
        var event = event
        if let transform {
            switch event {
            case .initApply(let object): event = .initApply(transform(object))
            case .apply(let object): event = .apply(transform(object))
            case .initStarted, .initDone, .delete: break
            }
        }
        let resumed = state.withLock { s -> [CheckedContinuation<Void, Error>] in
            switch event {
            case .initStarted:
                s.buffer = [:]
            case .initApply(let object):
                if s.buffer == nil {
                    store(object, in: &s)
                } else {
                    s.buffer?[object.objectKey] = object
                }
            case .initDone:
                if let buffer = s.buffer {
                    s.items = buffer
                    s.indices = [:]
                    if !indexers.isEmpty { for (key, object) in buffer { index(object, key: key, in: &s) } }
                }
                s.buffer = nil
                if !s.ready {
                    s.ready = true
                    let waiters = Array(s.waiters.values)
                    s.waiters = [:]
                    return waiters
                }
            case .apply(let object):
                store(object, in: &s)
            case .delete(let object):
                if let old = s.items.removeValue(forKey: object.objectKey), !indexers.isEmpty {
                    unindex(old, key: object.objectKey, in: &s)
                }
            }
            return []
        }
        for waiter in resumed { waiter.resume() }
    }

    /// The cached object with this key.
    public func get(_ key: ObjectKey) -> Object? { state.withLock { $0.items[key] } }

    /// All cached objects, ordered by key.
    public func list() -> [Object] {
        state.withLock { s in s.items.sorted { $0.key < $1.key }.map(\.value) }
    }

    /// The cached objects in one namespace, ordered by key.
    public func list(namespace: String) -> [Object] {
        list().filter { $0.objectKey.namespace == namespace }
    }

    /// The cached objects indexed under `value` by the indexer `name`, ordered by key (none for an unknown
    /// index).
    public func byIndex(_ name: String, _ value: String) -> [Object] {
        state.withLock { s in
            (s.indices[name]?[value] ?? []).sorted().compactMap { s.items[$0] }
        }
    }

    /// The keys of the cached objects, unordered (no object is copied).
    public var keys: [ObjectKey] { state.withLock { Array($0.items.keys) } }

    /// The number of cached objects.
    public var count: Int { state.withLock { $0.items.count } }

    /// Whether the first list has completed.
    public var isReady: Bool { state.withLock { $0.ready } }

    /// Returns once the first list has completed; throws `CancellationError` if the task is cancelled first.
    public func waitUntilReady() async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                let outcome = state.withLock { s -> Result<Void, Error>? in
                    if s.ready { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters[id] = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }
}

/// Drives a ``Watcher`` into a ``Store`` and forwards every event (after the store saw it) to a callback.
///
/// Runs as a `Service` until cancelled or until graceful shutdown; watcher failures are logged and retried by the
/// watcher itself.
public struct Reflector<LW: ListerWatcher>: ServiceLifecycle.Service where LW.Object: KeyedObject {
    public typealias Object = LW.Object

    public let watcher: Watcher<LW>
    public let store: Store<Object>
    private let onEvent: (@Sendable (WatcherEvent<Object>) async -> Void)?
    private let logger: Logger

    public init(
        watcher: Watcher<LW>, store: Store<Object> = Store(), logger: Logger = Logger(label: "kube-runtime.reflector"),
        onEvent: (@Sendable (WatcherEvent<Object>) async -> Void)? = nil
    ) {
        self.watcher = watcher
        self.store = store
        self.logger = logger
        self.onEvent = onEvent
    }

    /// Consumes the watcher until the task is cancelled or a graceful shutdown begins.
    public func run() async throws {
        let watcher = self.watcher
        let store = self.store
        let onEvent = self.onEvent
        let logger = self.logger
        await cancelWhenGracefulShutdown {
            for await result in watcher {
                switch result {
                case .success(let event):
                    store.apply(event)
                    await onEvent?(event)
                case .failure(let error):
                    logger.info(
                        "reflector.watch_failed",
                        metadata: ["watcher.stage": "\(error.stage)", "error": "\(error.underlying)"])
                }
            }
        }
    }
}
