/// One event of a watch stream (`{"type": ..., "object": ...}`), decoded.
///
/// `bookmark` carries only the resourceVersion to resume from; `initialEventsEnd` is set on the bookmark that
/// ends the initial events of a WatchList request (annotation `k8s.io/initial-events-end: "true"`).
/// `error` carries the `Status` of an in-stream ERROR event (410 Expired when the resourceVersion is too old).
public enum WatchEvent<Object: Sendable>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    case bookmark(resourceVersion: String, initialEventsEnd: Bool)
    case error(APIStatus)

    /// The wire name of the event type.
    public var typeName: String {
        switch self {
        case .added: return "ADDED"
        case .modified: return "MODIFIED"
        case .deleted: return "DELETED"
        case .bookmark: return "BOOKMARK"
        case .error: return "ERROR"
        }
    }

    public var object: Object? {
        switch self {
        case .added(let o), .modified(let o), .deleted(let o): return o
        case .bookmark, .error: return nil
        }
    }

    public func map<T: Sendable>(_ transform: (Object) throws -> T) rethrows -> WatchEvent<T> {
        switch self {
        case .added(let o): return .added(try transform(o))
        case .modified(let o): return .modified(try transform(o))
        case .deleted(let o): return .deleted(try transform(o))
        case .bookmark(let rv, let end): return .bookmark(resourceVersion: rv, initialEventsEnd: end)
        case .error(let s): return .error(s)
        }
    }
}

/// The namespace/name key of an object, as the work queue and caches use it (`ns/name`, or `name`).
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = (namespace?.isEmpty ?? true) ? nil : namespace
        self.name = name
    }

    /// The key of an unstructured object.
    public init?(object: JSONValue) {
        guard let name = object[path: ["metadata", "name"]]?.stringValue else { return nil }
        self.init(namespace: object[path: ["metadata", "namespace"]]?.stringValue, name: name)
    }

    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }

    /// Ordered as `description` (`namespace/name`), without building strings in the common case of one namespace.
    public static func < (a: ObjectKey, b: ObjectKey) -> Bool {
        if a.namespace == b.namespace { return a.name < b.name }
        return a.description < b.description
    }
}
