import KubeCore

/// One page of a list response: the items, the list's resourceVersion and the token for the next page.
public struct ListPage<Object: Sendable>: Sendable {
    public var items: [Object]
    public var resourceVersion: String
    /// `metadata.continue`; `nil` (or empty) on the last page.
    public var continueToken: String?

    public init(items: [Object], resourceVersion: String, continueToken: String? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
    }
}

/// The list and watch calls a ``Watcher`` needs for one resource (with its namespace and selectors bound).
///
/// The API client is adapted to this protocol by the application. A thrown error that is an `APIStatus` with code
/// 410 (Gone/Expired) means "the resourceVersion or continue token is too old: relist".
public protocol ListerWatcher: Sendable {
    associatedtype Object: Sendable

    /// Lists one page. `resourceVersion` nil means a consistent (most recent) read.
    func list(resourceVersion: String?, limit: Int?, continueToken: String?) async throws -> ListPage<Object>

    /// Watches for changes strictly after `resourceVersion`. A clean end of the stream means "resume from the last
    /// resourceVersion you saw".
    func watch(
        resourceVersion: String, timeoutSeconds: Int?, allowBookmarks: Bool
    ) async throws -> AsyncThrowingStream<WatchEvent<Object>, Error>
}

/// An object that a ``Store`` can index: it knows its namespace/name key and its resourceVersion.
public protocol KeyedObject: Sendable {
    var objectKey: ObjectKey { get }
    var resourceVersion: String? { get }
}

extension JSONValue: KeyedObject {
    /// `metadata.namespace`/`metadata.name`; an object without a name gets the empty name.
    public var objectKey: ObjectKey { ObjectKey(object: self) ?? ObjectKey(namespace: nil, name: "") }

    /// `metadata.resourceVersion`.
    public var resourceVersion: String? { self[path: ["metadata", "resourceVersion"]]?.stringValue }
}

extension Error {
    /// Whether this error is a 410 Gone/Expired status, which means "relist".
    var isResourceExpired: Bool { (self as? APIStatus)?.isGone ?? false }
}
