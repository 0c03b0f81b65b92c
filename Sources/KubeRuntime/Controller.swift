import KubeCore
import Logging
import Metrics
import ServiceLifecycle

/// What a reconciler wants to happen next with the key it reconciled.
public enum ReconcileAction: Sendable, Hashable {
    /// Done; reconcile again only when something changes (the key's backoff is forgotten).
    case awaitChange
    /// Reconcile again after this duration (the key's backoff is forgotten).
    case requeue(after: Duration)
    /// Reconcile again after the rate limiter's backoff, without treating it as an error.
    case requeueRateLimited
}

/// Brings the world in line with the desired state of one object, identified by its key.
///
/// Level-based: read the current state, never trust the event that caused the call. A thrown error is retried with
/// the queue's rate-limited backoff.
public protocol Reconciler: Sendable {
    func reconcile(_ key: ObjectKey) async throws -> ReconcileAction
}

/// A ``Reconciler`` made from a closure.
public struct ClosureReconciler: Reconciler {
    private let body: @Sendable (ObjectKey) async throws -> ReconcileAction

    public init(_ body: @escaping @Sendable (ObjectKey) async throws -> ReconcileAction) { self.body = body }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileAction { try await body(key) }
}

/// Runs a reconciler with N workers over a ``WorkQueue`` of object keys, as a ServiceLifecycle `Service`.
///
/// Errors requeue with backoff, success forgets the backoff, `.requeue(after:)` requeues after the delay. On graceful
/// shutdown (or cancellation) the controller stops taking new keys and returns once the in-flight reconciles have
/// finished. Metrics: `controller_runtime_reconcile_total{controller,result}` and
/// `controller_runtime_reconcile_time_seconds{controller}`.
public final class Controller: ServiceLifecycle.Service, Sendable {
    /// The controller's name (the `controller` label of its metrics).
    public let name: String
    /// The queue the workers take keys from; enqueue into it (or use ``enqueue(_:)``).
    public let queue: WorkQueue<ObjectKey>
    public let workers: Int
    private let reconciler: any Reconciler
    private let clock: any KubeClock
    private let logger: Logger
    private let stopping = LockedValue(false)

    private let successCounter: Counter
    private let errorCounter: Counter
    private let requeueCounter: Counter
    private let requeueAfterCounter: Counter
    private let reconcileTime: Recorder

    /// - Parameters:
    ///   - queue: defaults to a queue named after the controller with the default controller rate limiter.
    public init(
        name: String, workers: Int = 1, reconciler: any Reconciler, queue: WorkQueue<ObjectKey>? = nil,
        clock: any KubeClock = SystemClock(), logger: Logger = Logger(label: "kube-runtime.controller")
    ) {
        self.name = name
        self.workers = max(1, workers)
        self.reconciler = reconciler
        self.queue = queue ?? WorkQueue(name: name, clock: clock)
        self.clock = clock
        var logger = logger
        logger[metadataKey: "controller"] = "\(name)"
        self.logger = logger
        func counter(_ result: String) -> Counter {
            Counter(label: "controller_runtime_reconcile_total", dimensions: [("controller", name), ("result", result)])
        }
        successCounter = counter("success")
        errorCounter = counter("error")
        requeueCounter = counter("requeue")
        requeueAfterCounter = counter("requeue_after")
        reconcileTime = Recorder(
            label: "controller_runtime_reconcile_time_seconds", dimensions: [("controller", name)], aggregate: true)
    }

    /// A controller whose reconciler is a closure.
    public convenience init(
        name: String, workers: Int = 1, queue: WorkQueue<ObjectKey>? = nil, clock: any KubeClock = SystemClock(),
        logger: Logger = Logger(label: "kube-runtime.controller"),
        reconcile: @escaping @Sendable (ObjectKey) async throws -> ReconcileAction
    ) {
        self.init(
            name: name, workers: workers, reconciler: ClosureReconciler(reconcile), queue: queue, clock: clock,
            logger: logger)
    }

    // MARK: - Enqueueing

    /// Queues a key for reconciliation.
    public func enqueue(_ key: ObjectKey) async { await queue.add(key) }

    /// Queues a key after a delay.
    public func enqueue(_ key: ObjectKey, after delay: Duration) async { await queue.addAfter(key, delay: delay) }

    /// Queues the keys `map` derives from the object of a watcher event (e.g. the object's own key, or its owner's).
    /// `initStarted`/`initDone` carry no object and queue nothing.
    public func enqueue<Object: Sendable>(
        for event: WatcherEvent<Object>, map: (Object) -> [ObjectKey]
    ) async {
        guard let object = event.object else { return }
        for key in map(object) { await queue.add(key) }
    }

    /// Queues the object's own key for every event that carries an object.
    public func enqueueSelf<Object: KeyedObject>(for event: WatcherEvent<Object>) async {
        await enqueue(for: event) { [$0.objectKey] }
    }

    // MARK: - Running

    /// Runs the workers until graceful shutdown or cancellation, then waits for in-flight reconciles.
    public func run() async throws {
        logger.info("controller.starting", metadata: ["controller.workers": "\(workers)"])
        let queue = self.queue
        let stopping = self.stopping
        await withTaskCancellationOrGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask { await self.workerLoop() }
                }
            }
        } onCancelOrGracefulShutdown: {
            stopping.withLock { $0 = true }
            Task { await queue.shutDown() }
        }
        await queue.shutDownWithDrain()
        logger.info("controller.stopped")
    }

    private func workerLoop() async {
        while !stopping.withLock({ $0 }) {
            // Shutdown wakes idle workers with nil; a key taken after the stop is handed back unprocessed.
            guard let key = await queue.get() else { return }
            if stopping.withLock({ $0 }) {
                await queue.done(key)
                return
            }
            await process(key)
        }
    }

    /// Reconciles one key and applies the outcome to the queue.
    func process(_ key: ObjectKey) async {
        let start = clock.now()
        var keyLogger = logger
        keyLogger[metadataKey: "k8s.namespace"] = key.namespace.map { "\($0)" }
        keyLogger[metadataKey: "k8s.name"] = "\(key.name)"
        do {
            let action = try await reconciler.reconcile(key)
            switch action {
            case .awaitChange:
                await queue.forget(key)
                successCounter.increment()
            case .requeue(let delay):
                await queue.forget(key)
                await queue.addAfter(key, delay: delay)
                requeueAfterCounter.increment()
            case .requeueRateLimited:
                await queue.addRateLimited(key)
                requeueCounter.increment()
            }
        } catch {
            errorCounter.increment()
            await queue.addRateLimited(key)
            let requeues = await queue.numRequeues(key)
            keyLogger.info(
                "controller.reconcile_failed", metadata: ["error": "\(error)", "reconcile.requeues": "\(requeues)"])
        }
        reconcileTime.record(clock.now().timeIntervalSince(start))
        await queue.done(key)
    }
}

/// Maps related objects to the keys of the objects that should be reconciled because of them.
public enum ObjectMappers {
    /// The keys of the owners of `object` (from `metadata.ownerReferences`) of the given kind, optionally limited to
    /// one API group (the group part of `apiVersion`, "" for the core group). Owners live in the object's namespace.
    public static func ownerKeys(of object: JSONValue, kind: String, apiGroup: String? = nil) -> [ObjectKey] {
        let namespace = object[path: ["metadata", "namespace"]]?.stringValue
        let references = object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
        return references.compactMap { reference in
            guard reference["kind"]?.stringValue == kind, let name = reference["name"]?.stringValue, !name.isEmpty
            else { return nil }
            if let apiGroup {
                let apiVersion = reference["apiVersion"]?.stringValue ?? ""
                let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
                guard group == apiGroup else { return nil }
            }
            return ObjectKey(namespace: namespace, name: name)
        }
    }

    /// The key of the controlling owner (`controller: true`) of `object`, if it is of the given kind.
    public static func controllerKey(of object: JSONValue, kind: String) -> ObjectKey? {
        let references = object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
        guard let reference = references.first(where: { $0["controller"]?.boolValue == true }),
            reference["kind"]?.stringValue == kind, let name = reference["name"]?.stringValue
        else { return nil }
        return ObjectKey(namespace: object[path: ["metadata", "namespace"]]?.stringValue, name: name)
    }
}
