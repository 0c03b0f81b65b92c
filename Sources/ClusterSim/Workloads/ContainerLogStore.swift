import DequeModule
import Foundation
import KubeCore

/// The container logs of the simulated kubelet: per namespace/pod/container a bounded list of timestamped lines,
/// queried the way `GET pods/NAME/log` is (sinceTime/sinceSeconds, tailLines, limitBytes, timestamps, follow,
/// previous).
///
/// A container's log exists from `containerStarted` on; a restart keeps the last instance's lines for
/// `previous=true`. Following streams stay open until the container stops or the consumer goes away.
public actor ContainerLogStore: ContainerLogSource {
    /// One log line with the (simulated) time it was written.
    public struct Line: Sendable, Hashable {
        public var timestamp: Date
        public var text: String
        public init(timestamp: Date, text: String) {
            self.timestamp = timestamp
            self.text = text
        }
    }

    struct Key: Hashable {
        var namespace: String
        var pod: String
        var container: String
    }

    struct Follower {
        var continuation: AsyncStream<[UInt8]>.Continuation
        var timestamps: Bool
        var remainingBytes: Int?
    }

    struct ContainerLog {
        var lines: Deque<Line> = []
        var previous: [Line]?
        var running = true
        var followers: [UInt64: Follower] = [:]
    }

    private var logs: [Key: ContainerLog] = [:]
    private var nextFollowerID: UInt64 = 0
    private let clock: any WorkloadClock
    /// Lines kept per container instance; older lines are dropped.
    public let maxLinesPerContainer: Int

    public init(clock: any WorkloadClock, maxLinesPerContainer: Int = 20_000) {
        self.clock = clock
        self.maxLinesPerContainer = max(1, maxLinesPerContainer)
    }

    // MARK: Writing (the kubelet's side)

    /// Marks a container instance as started. A second start is a restart: the lines so far become `previous`.
    public func containerStarted(namespace: String, pod: String, container: String) {
        let key = Key(namespace: namespace, pod: pod, container: container)
        if var log = logs[key] {
            finishFollowers(&log)
            log.previous = Array(log.lines)
            log.lines = []
            log.running = true
            logs[key] = log
        } else {
            logs[key] = ContainerLog()
        }
    }

    /// Appends one line (without its newline) at `timestamp` (default: the clock's now). Ignored for a container
    /// that never started.
    public func append(namespace: String, pod: String, container: String, line: String, at timestamp: Date? = nil) {
        let key = Key(namespace: namespace, pod: pod, container: container)
        guard var log = logs[key] else { return }
        let entry = Line(timestamp: timestamp ?? clock.now(), text: line)
        log.lines.append(entry)
        if log.lines.count > maxLinesPerContainer { log.lines.removeFirst(log.lines.count - maxLinesPerContainer) }
        for (id, var follower) in log.followers {
            let bytes = Self.render(entry, timestamps: follower.timestamps)
            if let remaining = follower.remainingBytes {
                let cut = Array(bytes.prefix(remaining))
                follower.continuation.yield(cut)
                follower.remainingBytes = remaining - cut.count
                if remaining - cut.count <= 0 {
                    follower.continuation.finish()
                    log.followers[id] = nil
                    continue
                }
                log.followers[id] = follower
            } else {
                follower.continuation.yield(bytes)
            }
        }
        logs[key] = log
    }

    /// Marks the container instance as stopped: following streams end.
    public func containerStopped(namespace: String, pod: String, container: String) {
        let key = Key(namespace: namespace, pod: pod, container: container)
        guard var log = logs[key] else { return }
        log.running = false
        finishFollowers(&log)
        logs[key] = log
    }

    /// Forgets every container log of a pod (the pod was deleted); following streams end.
    public func removePod(namespace: String, pod: String) {
        for key in logs.keys where key.namespace == namespace && key.pod == pod {
            if var log = logs[key] { finishFollowers(&log) }
            logs[key] = nil
        }
    }

    /// The lines of the current (or previous) container instance; `nil` for an unknown container.
    public func lines(namespace: String, pod: String, container: String, previous: Bool = false) -> [Line]? {
        guard let log = logs[Key(namespace: namespace, pod: pod, container: container)] else { return nil }
        return previous ? log.previous : Array(log.lines)
    }

    /// Whether the container's current instance is running.
    public func isRunning(namespace: String, pod: String, container: String) -> Bool {
        logs[Key(namespace: namespace, pod: pod, container: container)]?.running ?? false
    }

    // MARK: Reading (ContainerLogSource)

    public func logStream(namespace: String, pod: String, container: String, query: LogQuery) async
        -> AsyncStream<[UInt8]>?
    {
        let key = Key(namespace: namespace, pod: pod, container: container)
        guard let log = logs[key] else { return nil }
        let source: [Line]
        if query.previous {
            guard let previous = log.previous else { return nil }
            source = previous
        } else {
            source = Array(log.lines)
        }
        let now = clock.now()
        let selected = Self.select(source, query: query, now: now)
        var backlog: [UInt8] = []
        for line in selected { backlog += Self.render(line, timestamps: query.timestamps) }
        var remaining = query.limitBytes.map { max(0, $0) }
        if let limit = remaining {
            if backlog.count >= limit {
                backlog = Array(backlog.prefix(limit))
                remaining = 0
            } else {
                remaining = limit - backlog.count
            }
        }
        let keepOpen = query.follow && !query.previous && log.running && remaining != 0
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(8192))
        if !backlog.isEmpty { continuation.yield(backlog) }
        guard keepOpen else {
            continuation.finish()
            return stream
        }
        let id = nextFollowerID
        nextFollowerID += 1
        logs[key]?.followers[id] = Follower(
            continuation: continuation, timestamps: query.timestamps, remainingBytes: remaining)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.dropFollower(key, id) }
        }
        return stream
    }

    /// The lines a query selects before byte limiting: the last `tailLines`, then those not older than the since
    /// bound (as the kubelet reads: seek to the tail, then filter by time).
    static func select(_ lines: [Line], query: LogQuery, now: Date) -> [Line] {
        var result = lines[...]
        if let tail = query.tailLines, tail >= 0 { result = result.suffix(tail) }
        var since: Date?
        if let sinceTime = query.sinceTime { since = sinceTime }
        if let sinceSeconds = query.sinceSeconds { since = now.addingTimeInterval(-Double(max(0, sinceSeconds))) }
        if let since { return result.filter { $0.timestamp >= since } }
        return Array(result)
    }

    /// A line as the log endpoint sends it: optionally `RFC3339Nano ` in front, always a trailing newline.
    static func render(_ line: Line, timestamps: Bool) -> [UInt8] {
        var out: [UInt8] = []
        if timestamps {
            out += Array(KubeTime.formatNano(line.timestamp).utf8)
            out.append(0x20)
        }
        out += Array(line.text.utf8)
        out.append(0x0A)
        return out
    }

    private func dropFollower(_ key: Key, _ id: UInt64) {
        logs[key]?.followers[id] = nil
    }

    private func finishFollowers(_ log: inout ContainerLog) {
        for follower in log.followers.values { follower.continuation.finish() }
        log.followers = [:]
    }
}
