import Foundation
import KubeCore

/// In-process access to the emulated cluster's storage, for the simulated controllers and kubelet.
///
/// Writes go through the same storage and semantics as API requests (resourceVersion, generation, watch
/// events), so every client watching over HTTP sees what the simulated workloads do.
public protocol ClusterObjectStore: Sendable {
    func get(_ resource: ResourceDescriptor, namespace: String?, name: String) async -> JSONValue?
    func list(_ resource: ResourceDescriptor, namespace: String?) async -> [JSONValue]
    func create(_ resource: ResourceDescriptor, _ object: JSONValue) async throws -> JSONValue
    /// Replaces the object, or only its status when `subresource` is `"status"`. A non-empty
    /// `metadata.resourceVersion` is a precondition (409 Conflict when stale). Errors are `APIStatus`.
    func update(_ resource: ResourceDescriptor, _ object: JSONValue, subresource: String?) async throws -> JSONValue
    func delete(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws
    /// Changes to one resource type from now on (all namespaces), until the consumer stops iterating.
    func changes(_ resource: ResourceDescriptor) async -> AsyncStream<ClusterChange>
}

/// One change in the cluster's storage.
public struct ClusterChange: Sendable {
    public enum Kind: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED" }
    public var kind: Kind
    public var object: JSONValue
    public init(kind: Kind, object: JSONValue) {
        self.kind = kind
        self.object = object
    }
}

/// The parameters of a `pods/log` request.
public struct LogQuery: Sendable, Hashable {
    public var sinceTime: Date?
    public var sinceSeconds: Int?
    public var tailLines: Int?
    public var limitBytes: Int?
    public var timestamps: Bool
    public var follow: Bool
    public var previous: Bool

    public init(
        sinceTime: Date? = nil, sinceSeconds: Int? = nil, tailLines: Int? = nil, limitBytes: Int? = nil,
        timestamps: Bool = false, follow: Bool = false, previous: Bool = false
    ) {
        self.sinceTime = sinceTime
        self.sinceSeconds = sinceSeconds
        self.tailLines = tailLines
        self.limitBytes = limitBytes
        self.timestamps = timestamps
        self.follow = follow
        self.previous = previous
    }
}

/// Where the API server reads container logs from (the simulated kubelet's side).
public protocol ContainerLogSource: Sendable {
    /// The log bytes matching `query`, streamed (kept open while `query.follow` and the container runs).
    /// `nil` when the container has not started, so there is no log yet.
    func logStream(namespace: String, pod: String, container: String, query: LogQuery) async -> AsyncStream<[UInt8]>?
}
