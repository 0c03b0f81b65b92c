import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore

/// Where pod logs are read from: the API server's `pods/log` (``KubernetesClient``), or a fake in tests.
public protocol PodLogSource: Sendable {
    /// The raw bytes `GET pods/NAME/log` answers for `options` (never following).
    func readLog(namespace: String, pod: String, options: LogOptions) async throws -> [UInt8]
}

extension KubernetesClient: PodLogSource {
    public func readLog(namespace: String, pod: String, options: LogOptions) async throws -> [UInt8] {
        var options = options
        options.follow = false
        return try await sendCollecting(.podLog(namespace: namespace, pod: pod, options: options)).body
    }
}

/// One container of one pod, whose log is followed.
public struct PodLogKey: Hashable, Sendable, CustomStringConvertible {
    public var namespace: String
    public var pod: String
    public var container: String

    public init(namespace: String, pod: String, container: String) {
        self.namespace = namespace
        self.pod = pod
        self.container = container
    }

    public var description: String { "\(namespace)/\(pod)/\(container)" }
}

/// What one ``PodLogFollower/poll(namespace:pod:container:restartCount:)`` found.
public struct LogPollResult: Sendable, Equatable {
    /// The judgement of everything fed so far for the current container instance (kept across errors).
    public var judgement: LogJudgement
    /// Bytes the API answered in this poll (at most the follower's `limitBytes`, or a few times it while the
    /// lines of one second do not fit it).
    public var bytesRead: Int
    /// New log lines fed to the judge in this poll.
    public var linesFed: Int
    /// This poll hit the byte limit: more log is waiting and the next poll continues where this one stopped.
    public var moreAvailable: Bool
    /// Some lines of this container instance were skipped (a single second held more than the byte limit, or a
    /// line was longer than it); the judgement may miss them. Sticky until the container restarts.
    public var truncated: Bool
    /// Why the log could not be read in this poll (pod gone, container waiting, network); nil on success.
    public var error: String?
    /// The HTTP status of the API error, when there was one (404 pod gone, 400 container not started).
    public var errorStatus: Int?

    public init(
        judgement: LogJudgement, bytesRead: Int = 0, linesFed: Int = 0, moreAvailable: Bool = false,
        truncated: Bool = false, error: String? = nil, errorStatus: Int? = nil
    ) {
        self.judgement = judgement
        self.bytesRead = bytesRead
        self.linesFed = linesFed
        self.moreAvailable = moreAvailable
        self.truncated = truncated
        self.error = error
        self.errorStatus = errorStatus
    }
}

/// Totals of one followed container instance.
public struct PodLogStatistics: Sendable, Equatable {
    public var restartCount: Int
    /// Bytes the API answered over all polls.
    public var bytesRead: Int
    /// Lines fed to the judge over all polls (each log line at most once).
    public var linesFed: Int
    public var truncated: Bool
    /// Timestamp of the last line fed.
    public var lastTimestamp: Date?
}

/// Follows the logs of loading pods incrementally and keeps a ``LogJudgeState`` per pod container.
///
/// Each poll asks for the log with `timestamps=true`, `sinceTime` = the timestamp of the last line already fed
/// and `limitBytes`. `sinceTime` has whole-second granularity, so the answer repeats lines of that second: lines
/// older than the last fed one, and as many lines carrying exactly its timestamp as were already fed, are
/// dropped. A line cut by the byte limit is left for the next poll. The first poll reads from the start of the
/// log (its head, bounded by `limitBytes`; later polls catch up). When the lines of one second exceed the limit,
/// the limit is doubled for that second up to ``maxBoost`` times, then the rest of the second is skipped
/// (``LogPollResult/truncated``). A changed restart count is a new container
/// instance and starts a fresh judgement. The caller polls only while a pod is loading.
public actor PodLogFollower {
    /// The per-container state.
    struct Followed {
        var restartCount: Int
        var judge = LogJudgeState()
        /// Timestamp of the last line fed, and how many fed lines carry exactly that timestamp.
        var lastTimestamp: Date?
        var linesAtLastTimestamp = 0
        /// The `sinceTime` of the next read when it is not `lastTimestamp` (after skipping a stuck second).
        var resumeAt: Date?
        /// Multiplier of the byte limit while stuck inside one busy second (1, 2, 4, ... ``maxBoost``).
        var boost = 1
        var truncated = false
        var totalBytesRead = 0
        var totalLinesFed = 0
        /// Whether a fed line matched the ModelRollout's `runtime.loadedPattern`.
        var patternMatched = false

        init(restartCount: Int) {
            self.restartCount = restartCount
        }
    }

    private let source: any PodLogSource
    /// Bytes read per poll (`limitBytes`); a poll stuck inside one busy second may read up to ``maxBoost`` times it.
    public nonisolated let limitBytes: Int
    /// How far the byte limit grows while the log of one second does not fit it.
    public static let maxBoost = 8
    private var followed: [PodLogKey: Followed] = [:]
    /// ``crashJudgement(namespace:pod:container:restartCount:)`` per container, for the restart count it read.
    private var crashes: [PodLogKey: (restartCount: Int, judgement: LogJudgement?)] = [:]
    /// Compiled `loadedPattern`s (nil: the pattern does not compile; the spec validation reports that).
    private var patterns: [String: NSRegularExpression?] = [:]

    public init(source: any PodLogSource, limitBytes: Int) {
        self.source = source
        self.limitBytes = max(1024, limitBytes)
    }

    /// A follower reading through the API server with the controller's `logLimitBytes`.
    public init(kube: KubernetesClient, options: ControllerOptions) {
        self.init(source: kube, limitBytes: options.logLimitBytes)
    }

    /// Reads what is new in the container's log and feeds it to the pod's judge.
    /// - Parameter loadedPattern: an extra regular expression (the ModelRollout's `runtime.loadedPattern`); the
    ///   follower remembers whether any fed line matched it (``patternMatched(namespace:pod:container:)``).
    public func poll(
        namespace: String, pod: String, container: String, restartCount: Int, loadedPattern: String? = nil
    ) async -> LogPollResult {
        let key = PodLogKey(namespace: namespace, pod: pod, container: container)
        var state = followed[key] ?? Followed(restartCount: restartCount)
        if state.restartCount != restartCount { state = Followed(restartCount: restartCount) }
        let requestLimit = limitBytes * state.boost
        let options = LogOptions(
            container: container, sinceTime: state.resumeAt ?? state.lastTimestamp, limitBytes: requestLimit,
            timestamps: true)
        let bytes: [UInt8]
        do {
            bytes = try await source.readLog(namespace: namespace, pod: pod, options: options)
        } catch {
            // The state may have been reset or forgotten meanwhile; only keep it if nobody touched it.
            if followed[key] == nil || followed[key]?.restartCount != restartCount { followed[key] = state }
            let (message, status) = Self.describe(error)
            return LogPollResult(
                judgement: state.judge.judgement, truncated: state.truncated, error: message, errorStatus: status)
        }
        if let current = followed[key], current.restartCount == restartCount {
            // Another poll of the same container may have finished while this one waited: continue from the
            // latest state (the timestamp check drops what it already fed).
            state = current
        }
        var regex: NSRegularExpression?
        if let loadedPattern, !loadedPattern.isEmpty {
            if let cached = patterns[loadedPattern] {
                regex = cached
            } else {
                regex = try? NSRegularExpression(pattern: loadedPattern)
                patterns[loadedPattern] = .some(regex)
            }
        }
        let fed = Self.feed(bytes, into: &state, limitBytes: requestLimit, pattern: regex)
        state.totalBytesRead += bytes.count
        state.totalLinesFed += fed.lines
        followed[key] = state
        return LogPollResult(
            judgement: state.judge.judgement, bytesRead: bytes.count, linesFed: fed.lines,
            moreAvailable: fed.moreAvailable, truncated: state.truncated, error: fed.error)
    }

    /// Lines read from the end of a crashed container's log.
    public static let crashTailLines = 1000

    /// What the log of a crashed container says, read once per restart count (cached, the last
    /// ``crashTailLines`` lines): the current
    /// instance's log (during `CrashLoopBackOff` that is the instance that crashed), then, when that shows no
    /// fatal error, the previous instance's (`previous=true`). Returns the first judgement that failed; nil when
    /// neither shows a fatal error or the log is unavailable. Followed polling may miss the last lines of a
    /// container that crashed between two polls; this read does not.
    public func crashJudgement(namespace: String, pod: String, container: String, restartCount: Int) async
        -> LogJudgement?
    {
        let key = PodLogKey(namespace: namespace, pod: pod, container: container)
        if let cached = crashes[key], cached.restartCount == restartCount { return cached.judgement }
        var found: LogJudgement?
        for previous in [false, true] {
            // The last lines hold the fatal error; the judge recognises the runtime without the banner.
            let options = LogOptions(
                container: container, tailLines: Self.crashTailLines, limitBytes: limitBytes, previous: previous)
            guard let bytes = try? await source.readLog(namespace: namespace, pod: pod, options: options) else {
                continue
            }
            let judgement = LogJudge.judge(String(decoding: bytes, as: UTF8.self))
            if judgement.failed {
                found = judgement
                break
            }
        }
        crashes[key] = (restartCount, found)
        return found
    }

    /// The current judgement of a followed container; nil when it is not followed.
    public func judgement(namespace: String, pod: String, container: String) -> LogJudgement? {
        followed[PodLogKey(namespace: namespace, pod: pod, container: container)]?.judge.judgement
    }

    /// Whether a fed line of the container's current instance matched the `loadedPattern` given to ``poll``;
    /// nil when the container is not followed.
    public func patternMatched(namespace: String, pod: String, container: String) -> Bool? {
        followed[PodLogKey(namespace: namespace, pod: pod, container: container)]?.patternMatched
    }

    /// Totals for a followed container's current instance (for tests, metrics and debugging).
    public func statistics(namespace: String, pod: String, container: String) -> PodLogStatistics? {
        guard let state = followed[PodLogKey(namespace: namespace, pod: pod, container: container)] else { return nil }
        return PodLogStatistics(
            restartCount: state.restartCount, bytesRead: state.totalBytesRead, linesFed: state.totalLinesFed,
            truncated: state.truncated, lastTimestamp: state.lastTimestamp)
    }

    /// Drops the state of every container of the pod.
    public func forget(namespace: String, pod: String) {
        for key in followed.keys where key.namespace == namespace && key.pod == pod { followed[key] = nil }
        for key in crashes.keys where key.namespace == namespace && key.pod == pod { crashes[key] = nil }
    }

    /// Drops the state of every pod of `namespace` that is not in `pods` (pods that are gone or done loading).
    public func retainOnly(namespace: String, pods: Set<String>) {
        for key in followed.keys where key.namespace == namespace && !pods.contains(key.pod) { followed[key] = nil }
    }

    /// The containers currently followed.
    public var followedKeys: Set<PodLogKey> { Set(followed.keys) }

    // MARK: - Feeding

    struct FeedOutcome {
        var lines = 0
        var moreAvailable = false
        var error: String?
    }

    /// Splits a `timestamps=true` answer (read with `limitBytes`) into lines and feeds the new ones.
    static func feed(
        _ bytes: [UInt8], into state: inout Followed, limitBytes: Int, pattern: NSRegularExpression? = nil
    ) -> FeedOutcome {
        var outcome = FeedOutcome()
        let hitLimit = bytes.count >= limitBytes
        var segments = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        // The last segment is empty when the answer ends with a newline; otherwise it is a line without its end.
        var partial: ArraySlice<UInt8>? = segments.popLast()
        if partial?.isEmpty == true { partial = nil }
        if let cut = partial, !hitLimit {
            // The container wrote a line without a newline yet; it is complete as far as the log goes.
            segments.append(cut)
            partial = nil
        }

        let startTimestamp = state.lastTimestamp
        var alreadyFedBudget = state.linesAtLastTimestamp
        var lastSeen: Date?
        var timestampless = 0

        /// Whether a line stamped `timestamp` was fed before (consumes the budget of same-stamp lines).
        func alreadyFed(_ timestamp: Date) -> Bool {
            guard let startTimestamp else { return false }
            if timestamp < startTimestamp { return true }
            if timestamp == startTimestamp && alreadyFedBudget > 0 {
                alreadyFedBudget -= 1
                return true
            }
            return false
        }

        func match(_ text: String) {
            guard let pattern, !state.patternMatched else { return }
            if pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
                state.patternMatched = true
            }
        }

        func feedLine(_ text: String, _ timestamp: Date) {
            match(text)
            state.judge.feed(text + "\n")
            outcome.lines += 1
            if timestamp == state.lastTimestamp {
                state.linesAtLastTimestamp += 1
            } else {
                state.lastTimestamp = timestamp
                state.linesAtLastTimestamp = 1
            }
        }

        for segment in segments {
            let (timestamp, text) = splitTimestamp(segment)
            guard let timestamp else {
                // Cannot be deduplicated; fed as is (the API always stamps lines with timestamps=true).
                timestampless += 1
                match(text)
                state.judge.feed(text + "\n")
                outcome.lines += 1
                continue
            }
            lastSeen = timestamp
            if !alreadyFed(timestamp) { feedLine(text, timestamp) }
        }
        outcome.moreAvailable = hitLimit
        if outcome.lines > 0 {
            state.resumeAt = nil
            state.boost = 1
        } else if hitLimit {
            // Stuck: what fits the limit was fed already (a busy second), or one line is longer than the limit.
            // Read more of it next time, up to `maxBoost` times the limit; beyond that skip to the next second.
            if state.boost < PodLogFollower.maxBoost {
                state.boost *= 2
            } else {
                state.boost = 1
                state.truncated = true
                if segments.isEmpty, let cut = partial, case let (stamp?, text) = splitTimestamp(cut) {
                    lastSeen = stamp
                    if !alreadyFed(stamp) { feedLine(text, stamp) }
                }
                if let second = lastSeen ?? state.lastTimestamp {
                    state.resumeAt = Date(timeIntervalSince1970: second.timeIntervalSince1970.rounded(.down) + 1)
                } else {
                    outcome.moreAvailable = false
                    outcome.error = "log lines carry no timestamps; cannot read further than \(limitBytes) bytes"
                }
            }
        }
        if timestampless > 0 && outcome.error == nil {
            outcome.error = "\(timestampless) log line(s) without a timestamp"
        }
        return outcome
    }

    /// `2024-01-01T00:00:00.123456789Z text` → (date, text); (nil, whole line) without a parsable stamp.
    static func splitTimestamp(_ line: ArraySlice<UInt8>) -> (Date?, String) {
        guard let space = line.firstIndex(of: 0x20) else {
            let text = String(decoding: line, as: UTF8.self)
            if let date = KubeTime.parse(text) { return (date, "") }
            return (nil, text)
        }
        let stamp = String(decoding: line[line.startIndex..<space], as: UTF8.self)
        guard let date = KubeTime.parse(stamp) else { return (nil, String(decoding: line, as: UTF8.self)) }
        return (date, String(decoding: line[(space + 1)...], as: UTF8.self))
    }

    /// A short message and the HTTP status of a read error.
    static func describe(_ error: any Error) -> (String, Int?) {
        if let api = error as? KubeAPIError {
            return ("pod log: \(api.status.message)", api.httpStatus)
        }
        let text = String(describing: error)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        return ("pod log: " + (line.count > 200 ? String(line.prefix(200)) + "…" : line), nil)
    }
}
