import KubeCore
import Logging
import ServiceLifecycle

/// A cache that has synced once its initial list is in (controller-runtime's `WaitForCacheSync`).
public protocol CacheSync: Sendable {
    var isReady: Bool { get }
    /// Returns once the cache holds its initial list.
    func waitUntilReady() async throws
}

/// A thread-safe cache of objects, fed by ``WatcherEvent``s.
///
/// A (re)list is collected in a separate buffer and swapped in atomically on `initDone`, so readers never see a
/// half-listed state; ``waitUntilReady()`` returns once the first list is in.
public final class Store<Object: KeyedObject>: CacheSync, Sendable {
    private struct State {
        var items: [ObjectKey: Object] = [:]
        var buffer: [ObjectKey: Object]?
        var ready = false
        var nextWaiterID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Error>] = [:]
    }

    private let state = LockedValue(State())

    public init() {}

    /// Applies one watcher event.
    public func apply(_ event: WatcherEvent<Object>) {
        let resumed = state.withLock { s -> [CheckedContinuation<Void, Error>] in
            switch event {
            case .initStarted:
                s.buffer = [:]
            case .initApply(let object):
                if s.buffer == nil {
                    s.items[object.objectKey] = object
                } else {
                    s.buffer?[object.objectKey] = object
                }
            case .initDone:
                if let buffer = s.buffer { s.items = buffer }
                s.buffer = nil
                if !s.ready {
                    s.ready = true
                    let waiters = Array(s.waiters.values)
                    s.waiters = [:]
                    return waiters
                }
            case .apply(let object):
                s.items[object.objectKey] = object
            case .delete(let object):
                s.items.removeValue(forKey: object.objectKey)
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
