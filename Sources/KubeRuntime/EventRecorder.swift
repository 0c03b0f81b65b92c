import Foundation
import KubeCore
import Logging

/// Event helpers on `KubeCore.ObjectReference`, the object an event is about (`regarding`/`related`).
extension ObjectReference {
    /// The reference to an unstructured object (apiVersion, kind and metadata); nil without kind or name.
    public init?(object: JSONValue) {
        guard let kind = object["kind"]?.stringValue, let name = object[path: ["metadata", "name"]]?.stringValue
        else { return nil }
        self.init(
            apiVersion: object["apiVersion"]?.stringValue ?? "", kind: kind, name: name,
            namespace: object[path: ["metadata", "namespace"]]?.stringValue,
            uid: object[path: ["metadata", "uid"]]?.stringValue,
            resourceVersion: object[path: ["metadata", "resourceVersion"]]?.stringValue)
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "apiVersion": .string(apiVersion ?? ""), "kind": .string(kind ?? ""), "name": .string(name ?? ""),
        ]
        if let namespace, !namespace.isEmpty { o["namespace"] = .string(namespace) }
        if let uid { o["uid"] = .string(uid) }
        if let resourceVersion { o["resourceVersion"] = .string(resourceVersion) }
        if let fieldPath { o["fieldPath"] = .string(fieldPath) }
        return .object(o)
    }
}

/// The type of an event: `Normal` or `Warning` (the only values the API accepts).
public enum EventType: String, Sendable, Hashable {
    case normal = "Normal"
    case warning = "Warning"
}

/// An events.k8s.io/v1 Event as the recorder creates it.
public struct EventRecord: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var regarding: ObjectReference
    public var related: ObjectReference?
    public var reason: String
    public var action: String
    public var note: String
    public var type: EventType
    public var reportingController: String
    public var reportingInstance: String
    public var eventTime: Date
    /// Set when the event repeats: `count` ≥ 2 and the last time it was seen.
    public var series: (count: Int, lastObservedTime: Date)? {
        get { seriesCount.map { ($0, seriesLastObservedTime ?? eventTime) } }
        set {
            seriesCount = newValue?.count
            seriesLastObservedTime = newValue?.lastObservedTime
        }
    }
    private var seriesCount: Int?
    private var seriesLastObservedTime: Date?

    public init(
        name: String, namespace: String, regarding: ObjectReference, related: ObjectReference? = nil, reason: String,
        action: String, note: String, type: EventType, reportingController: String, reportingInstance: String,
        eventTime: Date
    ) {
        self.name = name
        self.namespace = namespace
        self.regarding = regarding
        self.related = related
        self.reason = reason
        self.action = action
        self.note = note
        self.type = type
        self.reportingController = reportingController
        self.reportingInstance = reportingInstance
        self.eventTime = eventTime
    }

    /// The body of a `POST /apis/events.k8s.io/v1/namespaces/<ns>/events`.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": .object(["name": .string(name), "namespace": .string(namespace)]),
            "eventTime": .string(KubeTime.formatMicro(eventTime)),
            "regarding": regarding.json, "reason": .string(reason), "action": .string(action),
            "note": .string(note), "type": .string(type.rawValue),
            "reportingController": .string(reportingController), "reportingInstance": .string(reportingInstance),
        ]
        if let related { o["related"] = related.json }
        if let series {
            o["series"] = .object([
                "count": .int(Int64(series.count)),
                "lastObservedTime": .string(KubeTime.formatMicro(series.lastObservedTime)),
            ])
        }
        return .object(o)
    }
}

/// Where events go; the application adapts its API client to this.
public protocol EventSink: Sendable {
    /// Creates the event; returns its name.
    func create(_ event: EventRecord) async throws -> String
    /// Updates the series of an existing event (`series.count`, `series.lastObservedTime`).
    func updateSeries(name: String, namespace: String, count: Int, lastObservedTime: Date) async throws
}

/// Records events.k8s.io/v1 events about objects, folding repeats into series as client-go does.
///
/// An event identical to one recorded within ``window`` (same regarding object, reason, action, type and note)
/// updates the existing event's series (count ≥ 2, lastObservedTime) instead of creating a new event. Recently seen
/// events are kept in a bounded cache. Recording never throws: failures are logged.
public actor EventRecorder {
    private struct SeriesKey: Hashable {
        var regarding: ObjectReference
        var reason: String
        var action: String
        var type: EventType
        var note: String
    }

    private struct SeriesState {
        var name: String
        var namespace: String
        var count: Int
        var lastObserved: Date
    }

    public nonisolated let reportingController: String
    public nonisolated let reportingInstance: String
    /// How long an identical event continues a series (client-go: 6 minutes).
    public nonisolated let window: Duration
    /// The most distinct recent events remembered.
    public nonisolated let cacheSize: Int
    private let sink: any EventSink
    private let clock: any KubeClock
    private let logger: Logger
    private var cache: [SeriesKey: SeriesState] = [:]

    /// The longest note the API accepts, in bytes.
    public static let maxNoteBytes = 1024
    /// The longest reason/action the API accepts, in bytes.
    public static let maxReasonBytes = 128

    public init(
        sink: any EventSink, reportingController: String, reportingInstance: String,
        clock: any KubeClock = SystemClock(), window: Duration = .seconds(360), cacheSize: Int = 4096,
        logger: Logger = Logger(label: "kube-runtime.events")
    ) {
        self.sink = sink
        self.reportingController = reportingController
        self.reportingInstance = String(truncatingUTF8: reportingInstance, toBytes: Self.maxReasonBytes)
        self.clock = clock
        self.window = window
        self.cacheSize = max(1, cacheSize)
        self.logger = logger
    }

    /// Records an event about `regarding`. Repeats within the window become a series on the existing event.
    public func record(
        regarding: ObjectReference, related: ObjectReference? = nil, type: EventType, reason: String,
        action: String, note: String
    ) async {
        let reason = String(truncatingUTF8: reason, toBytes: Self.maxReasonBytes)
        let action = String(truncatingUTF8: action, toBytes: Self.maxReasonBytes)
        let note = String(truncatingUTF8: note, toBytes: Self.maxNoteBytes)
        let key = SeriesKey(regarding: regarding, reason: reason, action: action, type: type, note: note)
        let now = clock.now()
        var eventLogger = logger
        eventLogger[metadataKey: "event.reason"] = "\(reason)"
        eventLogger[metadataKey: "k8s.name"] = "\(regarding.name ?? "")"

        if var existing = cache[key], now.timeIntervalSince(existing.lastObserved) <= window.timeInterval {
            existing.count += 1
            existing.lastObserved = now
            cache[key] = existing
            do {
                try await sink.updateSeries(
                    name: existing.name, namespace: existing.namespace, count: existing.count, lastObservedTime: now)
                return
            } catch let status as APIStatus where status.isNotFound {
                // The event was deleted (or expired by TTL): start over with a new one.
                cache.removeValue(forKey: key)
            } catch {
                eventLogger.info("events.update_failed", metadata: ["error": "\(error)"])
                return
            }
        }

        let namespace = regarding.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let nanos = UInt64(max(0, now.timeIntervalSince1970) * 1e9)
        let event = EventRecord(
            name: "\(regarding.name ?? "event").\(String(nanos, radix: 16))", namespace: namespace, regarding: regarding,
            related: related, reason: reason, action: action, note: note, type: type,
            reportingController: reportingController, reportingInstance: reportingInstance, eventTime: now)
        do {
            let name = try await sink.create(event)
            cache[key] = SeriesState(name: name, namespace: namespace, count: 1, lastObserved: now)
            evictIfNeeded(now: now)
        } catch {
            eventLogger.info("events.create_failed", metadata: ["error": "\(error)"])
        }
    }

    /// The number of distinct events remembered for series aggregation.
    public var cachedCount: Int { cache.count }

    private func evictIfNeeded(now: Date) {
        guard cache.count > cacheSize else { return }
        let horizon = window.timeInterval
        cache = cache.filter { now.timeIntervalSince($0.value.lastObserved) <= horizon }
        while cache.count > cacheSize, let oldest = cache.min(by: { $0.value.lastObserved < $1.value.lastObserved }) {
            cache.removeValue(forKey: oldest.key)
        }
    }
}

extension String {
    /// The longest prefix of `text` whose UTF-8 encoding fits in `limit` bytes, cut at a character boundary.
    init(truncatingUTF8 text: String, toBytes limit: Int) {
        if text.utf8.count <= limit {
            self = text
            return
        }
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > limit { break }
            result.append(character)
            used += size
        }
        self = result
    }
}
