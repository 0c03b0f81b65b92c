import KubeCore

/// Converts Events between their two API views: core/v1 `events` and `events.k8s.io/v1` `events` are the
/// same objects (same name, uid, resourceVersion), stored once in core/v1 form under one `ResourceKey`.
///
/// Field mapping (kubernetes pkg/apis/events/v1/conversion.go):
///
/// | events.k8s.io/v1 | core/v1 |
/// |---|---|
/// | `regarding` | `involvedObject` |
/// | `note` | `message` |
/// | `reportingController` | `reportingComponent` |
/// | `reportingInstance` | `reportingInstance` |
/// | `deprecatedSource` | `source` |
/// | `deprecatedFirstTimestamp` / `deprecatedLastTimestamp` | `firstTimestamp` / `lastTimestamp` |
/// | `deprecatedCount` | `count` |
/// | `eventTime`, `series`, `action`, `reason`, `related`, `type`, `metadata` | the same |
///
/// The core view shows `source.component`/`source.host` from `reportingComponent`/`reportingInstance` when no
/// source was stored (the way describe and the `source` field selector fall back); a core write whose source equals
/// that derived value stores no source, so read-modify-write through either view is a no-op.
enum EventConversion {
    /// The storage key shared by both event resources.
    static let storageKey = ResourceKey(group: "", resource: "events")
    static let eventsGroup = "events.k8s.io"

    /// Fields shared verbatim by both views.
    static let sharedFields = ["eventTime", "series", "action", "reason", "related", "type", "reportingInstance"]
    /// events.k8s.io/v1 field → core/v1 field, for the renamed ones.
    static let renamedFields: [(events: String, core: String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"),
    ]
    /// The object-reference fields of `involvedObject` / `regarding`.
    static let referenceFields = ["apiVersion", "kind", "name", "namespace", "uid", "resourceVersion", "fieldPath"]

    /// Field-selector labels of core/v1 events (besides metadata.name/namespace).
    static let coreSelectableFields =
        referenceFields.map { "involvedObject." + $0 } + ["reason", "reportingComponent", "source", "type"]
    /// Field-selector labels of events.k8s.io/v1 events (besides metadata.name/namespace).
    static let eventsSelectableFields =
        referenceFields.map { "regarding." + $0 } + ["reason", "reportingController", "type"]

    static func isEventsV1(_ d: ResourceDescriptor) -> Bool { d.group == eventsGroup && d.resource == "events" }
    static func isCoreEvents(_ d: ResourceDescriptor) -> Bool { d.group.isEmpty && d.resource == "events" }
    static func isEvent(_ d: ResourceDescriptor) -> Bool { isEventsV1(d) || isCoreEvents(d) }

    // MARK: - Writing

    /// The stored (core/v1) form of an event written through `descriptor`; other objects are returned unchanged.
    static func storageForm(_ object: JSONValue, writtenAs descriptor: ResourceDescriptor) -> JSONValue {
        if isEventsV1(descriptor) { return coreFromEventsV1(object) }
        if isCoreEvents(descriptor) { return normalizedCore(object) }
        return object
    }

    /// An events.k8s.io/v1 Event in stored core/v1 form.
    static func coreFromEventsV1(_ event: JSONValue) -> JSONValue {
        guard event.objectValue != nil else { return event }
        var core: JSONValue = ["apiVersion": "v1", "kind": "Event"]
        core["metadata"] = event["metadata"]
        for field in sharedFields { core[field] = event[field] }
        for (eventsField, coreField) in renamedFields { core[coreField] = event[eventsField] }
        return canonical(core, derivedSourceIsEmpty: false)
    }

    /// A core/v1 Event as stored: only core fields, empty values dropped, a derived source dropped.
    static func normalizedCore(_ event: JSONValue) -> JSONValue {
        guard event.objectValue != nil else { return event }
        var core: JSONValue = ["apiVersion": "v1", "kind": "Event"]
        core["metadata"] = event["metadata"]
        for field in sharedFields { core[field] = event[field] }
        for (_, coreField) in renamedFields { core[coreField] = event[coreField] }
        return canonical(core, derivedSourceIsEmpty: true)
    }

    /// Drops what Go's `omitempty` would drop, so equal events have equal bytes (no-op writes stay no-ops).
    private static func canonical(_ event: JSONValue, derivedSourceIsEmpty: Bool) -> JSONValue {
        var e = event
        for field in ["eventTime", "firstTimestamp", "lastTimestamp", "series", "related"] where isEmpty(e[field]) {
            e[field] = nil
        }
        for field in ["action", "reason", "type", "message", "reportingComponent", "reportingInstance"]
        where isEmpty(e[field]) {
            e[field] = nil
        }
        if e["count"] == .int(0) || e["count"] == .null { e["count"] = nil }
        e["involvedObject"] = compactReference(e["involvedObject"]) ?? [:]
        if let related = e["related"] { e["related"] = compactReference(related) }
        var source = compactReference(e["source"]) ?? [:]
        if derivedSourceIsEmpty, source == derivedSource(e) { source = [:] }
        if source.objectValue?.isEmpty ?? true {
            e["source"] = nil
        } else {
            e["source"] = source
        }
        return e
    }

    private static func isEmpty(_ value: JSONValue?) -> Bool {
        switch value {
        case .none, .null: return true
        case .string(let s): return s.isEmpty
        case .object(let o): return o.isEmpty
        default: return false
        }
    }

    /// An object reference (or source) without null or empty-string members; nil when not an object.
    private static func compactReference(_ value: JSONValue?) -> JSONValue? {
        guard let object = value?.objectValue else { return nil }
        return .object(object.filter { !isEmpty($0.value) })
    }

    /// The source the core view shows when none is stored.
    static func derivedSource(_ stored: JSONValue) -> JSONValue {
        var source: [String: JSONValue] = [:]
        if let c = stored["reportingComponent"]?.stringValue, !c.isEmpty { source["component"] = .string(c) }
        if let h = stored["reportingInstance"]?.stringValue, !h.isEmpty { source["host"] = .string(h) }
        return .object(source)
    }

    // MARK: - Reading

    /// `stored` as served by `descriptor` (events in either view; anything else unchanged). Idempotent: an
    /// object already in the requested view is returned as is.
    static func view(_ stored: JSONValue, as descriptor: ResourceDescriptor) -> JSONValue {
        let apiVersion = stored["apiVersion"]?.stringValue ?? ""
        if isEventsV1(descriptor) {
            if apiVersion == descriptor.apiVersion { return stored }
            return eventsV1View(apiVersion == "v1" ? stored : normalizedCore(stored), apiVersion: descriptor.apiVersion)
        }
        if isCoreEvents(descriptor) {
            let core = apiVersion.hasPrefix(eventsGroup + "/") ? coreFromEventsV1(stored) : stored
            return coreView(core)
        }
        return stored
    }

    /// The events.k8s.io/v1 view of a stored core/v1 event.
    static func eventsV1View(_ stored: JSONValue, apiVersion: String = "events.k8s.io/v1") -> JSONValue {
        guard stored.objectValue != nil else { return stored }
        var event: JSONValue = ["apiVersion": .string(apiVersion), "kind": "Event"]
        event["metadata"] = stored["metadata"]
        for field in sharedFields { event[field] = stored[field] }
        for (eventsField, coreField) in renamedFields { event[eventsField] = stored[coreField] }
        if event["regarding"] == nil { event["regarding"] = [:] }
        return event
    }

    /// The core/v1 view of a stored event: the stored object plus the derived `source` when none is stored.
    static func coreView(_ stored: JSONValue) -> JSONValue {
        guard stored.objectValue != nil else { return stored }
        var event = stored
        if event["involvedObject"] == nil { event["involvedObject"] = [:] }
        if isEmpty(event["source"]) { event["source"] = derivedSource(stored) }
        return event
    }

    // MARK: - Field selectors

    /// The value a field selector compares for `label` of an event served as `descriptor` (the object may be in
    /// either form). Nil when the label is not an event field.
    static func selectorValue(_ object: JSONValue, label: String, servedAs descriptor: ResourceDescriptor) -> String? {
        let stored = (object["apiVersion"]?.stringValue ?? "").hasPrefix(eventsGroup + "/")
            ? coreFromEventsV1(object) : object
        var coreLabel = label
        if isEventsV1(descriptor) {
            if label.hasPrefix("regarding.") {
                coreLabel = "involvedObject." + label.dropFirst("regarding.".count)
            } else if label == "reportingController" {
                coreLabel = "reportingComponent"
            }
        }
        switch coreLabel {
        case "metadata.name", "metadata.namespace", "reason", "reportingComponent", "type":
            return FieldSelector.value(at: coreLabel, in: stored) ?? ""
        case "source":
            let component = stored[path: ["source", "component"]]?.stringValue ?? ""
            return component.isEmpty ? (stored["reportingComponent"]?.stringValue ?? "") : component
        default:
            if coreLabel.hasPrefix("involvedObject."),
                referenceFields.contains(String(coreLabel.dropFirst("involvedObject.".count)))
            {
                return FieldSelector.value(at: coreLabel, in: stored) ?? ""
            }
            return nil
        }
    }

    // MARK: - Update validation

    /// Core fields an update through events.k8s.io/v1 may not change (only `series` and metadata may change).
    static let immutableOnUpdate = [
        "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type",
        "eventTime", "action", "related", "reportingComponent", "reportingInstance",
    ]

    /// The `field is immutable` causes of an events.k8s.io/v1 update from `old` to `new` (either form each),
    /// named by their core field paths like the real API server.
    static func updateViolations(new: JSONValue, old: JSONValue) -> [APIStatus.Cause] {
        let a = storedForm(old)
        let b = storedForm(new)
        return immutableOnUpdate.compactMap { field in
            let before = a[field] ?? .null
            let after = b[field] ?? .null
            guard before != after else { return nil }
            return APIStatus.Cause(
                type: "FieldValueInvalid", message: "Invalid value: \(after.serialized()): field is immutable",
                field: field)
        }
    }

    private static func storedForm(_ object: JSONValue) -> JSONValue {
        (object["apiVersion"]?.stringValue ?? "").hasPrefix(eventsGroup + "/")
            ? coreFromEventsV1(object) : normalizedCore(object)
    }
}
