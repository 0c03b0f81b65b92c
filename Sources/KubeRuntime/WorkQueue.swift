import DequeModule
import Foundation
import KubeCore
import HeapModule
import Metrics

/// A work queue with client-go semantics: keys are deduplicated while waiting, and a key is never handed to two
/// workers at once.
///
/// A key added while it is being processed is kept *dirty* and queued again only when ``done(_:)`` is called, so
/// bursts of changes coalesce and each key is processed serially. Keys can be added after a delay (held in a heap
/// on the injected clock) or rate-limited (by a ``RateLimiter``, by default client-go's controller limiter).
/// Metrics use client-go's names (`workqueue_depth`, `workqueue_adds_total`, ...) labelled `name`.
public actor WorkQueue<Key: Hashable & Sendable> {
    /// Ordered by time, then by when it was added.
    private struct DelayedEntry: Comparable {
        var readyAt: Date
        var sequence: UInt64
        var key: Key
        static func < (a: DelayedEntry, b: DelayedEntry) -> Bool { (a.readyAt, a.sequence) < (b.readyAt, b.sequence) }
        static func == (a: DelayedEntry, b: DelayedEntry) -> Bool { a.sequence == b.sequence }
    }

    private struct Getter {
        var id: UInt64
        var continuation: CheckedContinuation<Key?, Never>
    }

    /// The queue's name (the `name` label of its metrics).
    public nonisolated let name: String
    private let clock: any KubeClock
    private var rateLimiter: any RateLimiter<Key>

    private var queue = Deque<Key>()
    private var dirty = Set<Key>()
    private var processing = Set<Key>()
    private var addedAt: [Key: Date] = [:]
    private var startedAt: [Key: Date] = [:]
    private var shuttingDown = false
    private var getters = Deque<Getter>()
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    private var nextID: UInt64 = 0

    private var delayedHeap = Heap<DelayedEntry>()
    private var delayedReadyAt: [Key: Date] = [:]
    private var timerTask: Task<Void, Never>?
    private var timerDeadline: Date?
    private var timerGeneration: UInt64 = 0

    private let depthGauge: Gauge
    private let addsCounter: Counter
    private let retriesCounter: Counter
    private let queueDuration: Recorder
    private let workDuration: Recorder

    public init(
        name: String, clock: any KubeClock = SystemClock(),
        rateLimiter: any RateLimiter<Key> = MaxOfRateLimiter<Key>.controllerDefault()
    ) {
        self.name = name
        self.clock = clock
        self.rateLimiter = rateLimiter
        let dimensions = [("name", name)]
        depthGauge = Gauge(label: "workqueue_depth", dimensions: dimensions)
        addsCounter = Counter(label: "workqueue_adds_total", dimensions: dimensions)
        retriesCounter = Counter(label: "workqueue_retries_total", dimensions: dimensions)
        queueDuration = Recorder(label: "workqueue_queue_duration_seconds", dimensions: dimensions, aggregate: true)
        workDuration = Recorder(label: "workqueue_work_duration_seconds", dimensions: dimensions, aggregate: true)
    }

    // MARK: - Adding

    /// Queues `key` unless it is already waiting; a key being processed is queued again when it is done.
    public func add(_ key: Key) {
        guard !shuttingDown, !dirty.contains(key) else { return }
        dirty.insert(key)
        addsCounter.increment()
        addedAt[key] = clock.now()
        guard !processing.contains(key) else { return }
        queue.append(key)
        depthGauge.record(queue.count)
        dispatch()
    }

    /// Queues `key` after `delay` (at once when `delay` is not positive). A key already waiting keeps the earlier
    /// of the two times.
    public func addAfter(_ key: Key, delay: Duration) {
        guard !shuttingDown else { return }
        guard delay > .zero else {
            add(key)
            return
        }
        let readyAt = clock.now().adding(delay)
        if let existing = delayedReadyAt[key], existing <= readyAt { return }
        delayedReadyAt[key] = readyAt
        nextID += 1
        delayedHeap.insert(DelayedEntry(readyAt: readyAt, sequence: nextID, key: key))
        scheduleTimer()
    }

    /// Queues `key` after the delay the rate limiter assigns (one more failure of `key`).
    public func addRateLimited(_ key: Key) {
        guard !shuttingDown else { return }
        retriesCounter.increment()
        let delay = rateLimiter.when(key, now: clock.now())
        addAfter(key, delay: delay)
    }

    /// Clears the rate limiter's history of `key` (call after a success).
    public func forget(_ key: Key) { rateLimiter.forget(key) }

    /// How many times `key` was rate-limited since it was last forgotten.
    public func numRequeues(_ key: Key) -> Int { rateLimiter.numRequeues(key) }

    // MARK: - Processing

    /// The next key to process, waiting until one is available; `nil` once the queue is shut down and empty (or
    /// the calling task is cancelled). Call ``done(_:)`` when finished with the key.
    public func get() async -> Key? {
        if let key = takeNext() { return key }
        if shuttingDown { return nil }
        nextID += 1
        let id = nextID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Key?, Never>) in
                if Task.isCancelled {
                    continuation.resume(returning: nil)
                } else {
                    getters.append(Getter(id: id, continuation: continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelGetter(id) }
        }
    }

    /// Marks `key` as processed; if it was added meanwhile, it is queued again.
    public func done(_ key: Key) {
        guard processing.remove(key) != nil else { return }
        if let start = startedAt.removeValue(forKey: key) {
            workDuration.record(clock.now().timeIntervalSince(start))
        }
        if dirty.contains(key) {
            queue.append(key)
            depthGauge.record(queue.count)
            dispatch()
        }
        if processing.isEmpty, !drainWaiters.isEmpty {
            let waiters = drainWaiters
            drainWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    /// The number of keys waiting to be processed (not counting delayed or in-flight keys).
    public var len: Int { queue.count }

    /// The number of keys currently being processed.
    public var processingCount: Int { processing.count }

    /// The number of keys waiting for a delay to pass.
    public var delayedCount: Int { delayedReadyAt.count }

    /// Whether ``shutDown()`` was called.
    public var isShuttingDown: Bool { shuttingDown }

    // MARK: - Shutting down

    /// Stops accepting new keys. Keys already queued are still handed out; `get()` returns nil once none are left.
    public func shutDown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        timerTask?.cancel()
        timerTask = nil
        timerDeadline = nil
        delayedHeap = Heap()
        delayedReadyAt = [:]
        dispatch()
    }

    /// Shuts down and waits until no key is being processed any more.
    public func shutDownWithDrain() async {
        shutDown()
        guard !processing.isEmpty else { return }
        await withCheckedContinuation { drainWaiters.append($0) }
    }

    // MARK: - Internals

    private func takeNext() -> Key? {
        guard let key = queue.popFirst() else { return nil }
        depthGauge.record(queue.count)
        processing.insert(key)
        dirty.remove(key)
        let now = clock.now()
        if let added = addedAt.removeValue(forKey: key) {
            queueDuration.record(now.timeIntervalSince(added))
        }
        startedAt[key] = now
        return key
    }

    /// Hands queued keys to waiting getters; after shutdown with nothing left, releases all getters with nil.
    private func dispatch() {
        while !getters.isEmpty, let key = takeNext() {
            getters.removeFirst().continuation.resume(returning: key)
        }
        if shuttingDown, queue.isEmpty {
            while let getter = getters.popFirst() { getter.continuation.resume(returning: nil) }
        }
    }

    private func cancelGetter(_ id: UInt64) {
        guard let index = getters.firstIndex(where: { $0.id == id }) else { return }
        getters.remove(at: index).continuation.resume(returning: nil)
    }

    private func scheduleTimer() {
        guard let earliest = delayedHeap.min?.readyAt else { return }
        if timerTask != nil, let deadline = timerDeadline, deadline <= earliest { return }
        timerTask?.cancel()
        timerGeneration += 1
        let generation = timerGeneration
        timerDeadline = earliest
        let clock = self.clock
        timerTask = Task {
            do { try await clock.sleep(until: earliest) } catch { return }
            self.fireDelayed(generation: generation)
        }
    }

    private func fireDelayed(generation: UInt64) {
        if generation == timerGeneration {
            timerTask = nil
            timerDeadline = nil
        }
        let now = clock.now()
        while let top = delayedHeap.min, top.readyAt <= now {
            let entry = delayedHeap.removeMin()
            // Entries superseded by an earlier time for the same key are stale.
            guard delayedReadyAt[entry.key] == entry.readyAt else { continue }
            delayedReadyAt.removeValue(forKey: entry.key)
            add(entry.key)
        }
        scheduleTimer()
    }
}
