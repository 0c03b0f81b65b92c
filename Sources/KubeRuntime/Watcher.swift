import DequeModule
import Foundation
import KubeCore
import Logging

/// What a ``Watcher`` reports: the initial list (bracketed by `initStarted`/`initDone`), then live changes.
public enum WatcherEvent<Object: Sendable>: Sendable {
    /// A (re)list begins; a store starts a fresh buffer.
    case initStarted
    /// One object of the list.
    case initApply(Object)
    /// The list is complete; a store swaps its buffer in.
    case initDone
    /// An object was added or modified.
    case apply(Object)
    /// An object was deleted (the last state the server knew).
    case delete(Object)

    /// The object the event carries, if any.
    public var object: Object? {
        switch self {
        case .initApply(let o), .apply(let o), .delete(let o): return o
        case .initStarted, .initDone: return nil
        }
    }
}

/// A failure the watcher met and will retry after a backoff. Failures are elements of the stream, never its end.
public struct WatcherError: Error, CustomStringConvertible {
    /// Which call failed.
    public struct Stage: Hashable, Sendable, CustomStringConvertible {
        private enum Code: Hashable, Sendable { case list, watchStart, watchStream, errorEvent }
        private let code: Code

        /// The list call (one page) failed.
        public static let list = Stage(code: .list)
        /// Opening the watch failed.
        public static let watchStart = Stage(code: .watchStart)
        /// The watch stream failed mid-way.
        public static let watchStream = Stage(code: .watchStream)
        /// The watch stream carried an ERROR event other than 410.
        public static let errorEvent = Stage(code: .errorEvent)

        public var description: String {
            switch code {
            case .list: return "list"
            case .watchStart: return "watchStart"
            case .watchStream: return "watchStream"
            case .errorEvent: return "errorEvent"
            }
        }
    }

    public let stage: Stage
    public let underlying: any Error

    public init(stage: Stage, underlying: any Error) {
        self.stage = stage
        self.underlying = underlying
    }

    /// The API status, when the failure was one.
    public var status: APIStatus? { underlying as? APIStatus }

    public var description: String { "watcher \(stage) failed: \(underlying)" }
}

/// Options of a ``Watcher``.
public struct WatcherConfiguration: Sendable {
    /// `limit` of each list page; nil lists everything in one response.
    public var pageSize: Int?
    /// The `timeoutSeconds` of each watch, drawn uniformly from this range per watch (client-go draws 300–600 s);
    /// nil sends no timeout.
    public var timeoutSeconds: ClosedRange<Int>?
    /// Ask the server for BOOKMARK events.
    public var allowBookmarks: Bool
    /// Backoff between retries after a failure.
    public var backoff: BackoffPolicy
    /// A uniform random value in `[0, 1)`, for jitter and watch timeouts.
    public var random: @Sendable () -> Double

    public init(
        pageSize: Int? = 500, timeoutSeconds: ClosedRange<Int>? = 300...600, allowBookmarks: Bool = true,
        backoff: BackoffPolicy = .watcherDefault,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.pageSize = pageSize
        self.timeoutSeconds = timeoutSeconds
        self.allowBookmarks = allowBookmarks
        self.backoff = backoff
        self.random = random
    }
}

/// Lists and watches one resource for ever, as an `AsyncSequence` of events and (retried) failures.
///
/// A state machine in the manner of kube-rs: list all pages (following `continue`), report the list, watch from
/// the list's resourceVersion; a clean end of a watch resumes from the last resourceVersion seen (bookmarks advance
/// it); a 410 (thrown or as an in-stream ERROR) relists from scratch; other failures are yielded as `.failure` and
/// retried after an exponential backoff that resets on success. Work is pull-driven: nothing is read ahead of the
/// consumer except the current list page. The sequence ends only when the consuming task is cancelled.
public struct Watcher<LW: ListerWatcher>: AsyncSequence, Sendable {
    public typealias Element = Result<WatcherEvent<LW.Object>, WatcherError>
    public typealias Failure = Never

    public let listerWatcher: LW
    public let configuration: WatcherConfiguration
    let clock: any KubeClock
    let logger: Logger

    public init(
        _ listerWatcher: LW, configuration: WatcherConfiguration = WatcherConfiguration(),
        clock: any KubeClock = SystemClock(), logger: Logger = Logger(label: "kube-runtime.watcher")
    ) {
        self.listerWatcher = listerWatcher
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    public func makeAsyncIterator() -> Iterator { Iterator(self) }

    /// The watcher's state machine; each `next()` does just enough I/O to produce one element.
    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = Result<WatcherEvent<LW.Object>, WatcherError>
        public typealias Failure = Never

        private enum ListCursor {
            case firstPage
            case continueToken(String)
            case complete
        }

        private enum Phase {
            case empty
            case listing(ListCursor, pending: Deque<LW.Object>, resourceVersion: String)
            case watchPending(resourceVersion: String)
            case watching(
                resourceVersion: String, stream: AsyncThrowingStream<WatchEvent<LW.Object>, Error>.Iterator,
                sawEvent: Bool)
        }

        private let watcher: Watcher
        private var phase: Phase = .empty
        private var backoff: Backoff
        private var pendingDelay: Duration?
        private var consecutiveExpiries = 0

        init(_ watcher: Watcher) {
            self.watcher = watcher
            self.backoff = Backoff(policy: watcher.configuration.backoff)
        }

        public mutating func next() async -> Element? {
            while true {
                if Task.isCancelled { return nil }
                if let delay = pendingDelay {
                    pendingDelay = nil
                    do { try await watcher.clock.sleep(for: delay) } catch { return nil }
                }
                if let element = await step() { return element }
            }
        }

        /// Advances the state machine by one transition; returns an element when the transition produced one.
        private mutating func step() async -> Element? {
            let lw = watcher.listerWatcher
            switch phase {
            case .empty:
                phase = .listing(.firstPage, pending: [], resourceVersion: "")
                return .success(.initStarted)

            case .listing(let cursor, var pending, let resourceVersion):
                if let object = pending.popFirst() {
                    phase = .listing(cursor, pending: pending, resourceVersion: resourceVersion)
                    return .success(.initApply(object))
                }
                let token: String?
                switch cursor {
                case .complete:
                    phase = .watchPending(resourceVersion: resourceVersion)
                    return .success(.initDone)
                case .firstPage: token = nil
                case .continueToken(let t): token = t
                }
                do {
                    let page = try await lw.list(
                        resourceVersion: nil, limit: watcher.configuration.pageSize, continueToken: token)
                    backoff.reset()
                    let next: ListCursor =
                        page.continueToken.flatMap { $0.isEmpty ? nil : .continueToken($0) } ?? .complete
                    phase = .listing(next, pending: Deque(page.items), resourceVersion: page.resourceVersion)
                    return nil
                } catch {
                    if token != nil, error.isResourceExpired {
                        watcher.logger.debug("watcher.continue_expired")
                        relist()
                        return nil
                    }
                    return fail(.list, error)
                }

            case .watchPending(let resourceVersion):
                let timeout = watcher.configuration.timeoutSeconds.map { range in
                    range.lowerBound
                        + Int((watcher.configuration.random() * Double(range.count)).rounded(.down))
                        .clamped(0, range.count - 1)
                }
                do {
                    let stream = try await lw.watch(
                        resourceVersion: resourceVersion, timeoutSeconds: timeout,
                        allowBookmarks: watcher.configuration.allowBookmarks)
                    phase = .watching(
                        resourceVersion: resourceVersion, stream: stream.makeAsyncIterator(), sawEvent: false)
                    return nil
                } catch {
                    if error.isResourceExpired {
                        relist()
                        return nil
                    }
                    return fail(.watchStart, error)
                }

            case .watching(var resourceVersion, var stream, let sawEvent):
                let event: WatchEvent<LW.Object>?
                do {
                    event = try await stream.next()
                } catch {
                    if error.isResourceExpired {
                        relist()
                        return nil
                    }
                    phase = .watchPending(resourceVersion: resourceVersion)
                    return fail(.watchStream, error)
                }
                guard let event else {
                    phase = .watchPending(resourceVersion: resourceVersion)
                    // A watch that ends at once without a single event would otherwise loop hot.
                    if !sawEvent { pendingDelay = backoff.nextDelay(random: watcher.configuration.random()) }
                    return nil
                }
                let element: Element?
                switch event {
                case .added(let object), .modified(let object):
                    resourceVersion = (object as? any KeyedObject)?.resourceVersion ?? resourceVersion
                    element = .success(.apply(object))
                case .deleted(let object):
                    resourceVersion = (object as? any KeyedObject)?.resourceVersion ?? resourceVersion
                    element = .success(.delete(object))
                case .bookmark(let rv, _):
                    resourceVersion = rv
                    element = nil
                case .error(let status):
                    if status.isGone {
                        relist()
                        return nil
                    }
                    phase = .watchPending(resourceVersion: resourceVersion)
                    return fail(.errorEvent, status)
                }
                backoff.reset()
                consecutiveExpiries = 0
                phase = .watching(resourceVersion: resourceVersion, stream: stream, sawEvent: true)
                return element
            }
        }

        /// Back to a full list. Two expiries in a row without progress in between are backed off.
        private mutating func relist() {
            watcher.logger.debug("watcher.relist")
            phase = .empty
            consecutiveExpiries += 1
            if consecutiveExpiries > 1 {
                pendingDelay = backoff.nextDelay(random: watcher.configuration.random())
            }
        }

        private mutating func fail(_ stage: WatcherError.Stage, _ error: any Error) -> Element {
            pendingDelay = backoff.nextDelay(random: watcher.configuration.random())
            watcher.logger.debug(
                "watcher.failure",
                metadata: ["watcher.stage": "\(stage)", "error": "\(error)", "backoff.attempts": "\(backoff.attempts)"])
            return .failure(WatcherError(stage: stage, underlying: error))
        }
    }
}

extension Int {
    fileprivate func clamped(_ low: Int, _ high: Int) -> Int { Swift.min(Swift.max(self, low), high) }
}
