import Foundation
import KubeClient
import KubeCore

// Adapters from KubeClient to the small protocols the runtime is written against (ListerWatcher, LeaseStore,
// EventSink). The runtime's decisions (relist on 410, conflict handling) look at `APIStatus`, so API errors
// are rethrown as their `Status`.

extension KubeAPIError {
    /// The API Status of this error, with the HTTP code filled in when the body had none.
    var apiStatus: APIStatus {
        var status = self.status
        if status.code == 0 { status.code = httpStatus }
        if status.retryAfterSeconds == nil { status.retryAfterSeconds = retryAfterSeconds }
        return status
    }
}

/// Runs `body`, turning a `KubeAPIError` into its `APIStatus`.
func rethrowingStatus<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as KubeAPIError {
        throw error.apiStatus
    }
}

/// Lists and watches one resource type through a `ResourceClient` (optionally filtered by selectors).
public struct ResourceListerWatcher<Object: KubernetesObject>: ListerWatcher {
    public let resources: ResourceClient<Object>
    public var labelSelector: String?
    public var fieldSelector: String?

    public init(_ resources: ResourceClient<Object>, labelSelector: String? = nil, fieldSelector: String? = nil) {
        self.resources = resources
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }

    public func list(resourceVersion: String?, limit: Int?, continueToken: String?) async throws -> ListPage<Object> {
        let options = ListOptions(
            labelSelector: labelSelector, fieldSelector: fieldSelector, limit: limit, continueToken: continueToken,
            resourceVersion: continueToken == nil ? resourceVersion : nil)
        let list = try await rethrowingStatus { try await resources.list(options) }
        return ListPage(
            items: list.items, resourceVersion: list.metadata.resourceVersion ?? "",
            continueToken: (list.metadata.continue ?? "").isEmpty ? nil : list.metadata.continue)
    }

    public func watch(
        resourceVersion: String, timeoutSeconds: Int?, allowBookmarks: Bool
    ) async throws -> AsyncThrowingStream<WatchEvent<Object>, Error> {
        let options = WatchOptions(
            labelSelector: labelSelector, fieldSelector: fieldSelector, resourceVersion: resourceVersion,
            timeoutSeconds: timeoutSeconds, allowWatchBookmarks: allowBookmarks)
        // Pull one element at a time (no read-ahead) and map API errors, e.g. an HTTP 410, to their Status.
        let box = IteratorBox(resources.watch(options).makeAsyncIterator())
        return AsyncThrowingStream { () async throws -> WatchEvent<Object>? in
            try await rethrowingStatus { try await box.next() }
        }
    }
}

/// Holds an async iterator so an unfolding stream can pull from it; only the stream's single consumer calls it.
private final class IteratorBox<Element: Sendable>: @unchecked Sendable {
    // Safe: AsyncThrowingStream(unfolding:) calls its closure serially, one next() at a time.
    private var iterator: AsyncThrowingStream<Element, Error>.AsyncIterator
    init(_ iterator: AsyncThrowingStream<Element, Error>.AsyncIterator) { self.iterator = iterator }
    func next() async throws -> Element? { try await iterator.next() }
}

extension DynamicObject: KeyedObject {
    /// Read from the raw metadata: no decoding per cache event or enqueue.
    public var objectKey: ObjectKey {
        ObjectKey(
            namespace: raw[path: ["metadata", "namespace"]]?.stringValue,
            name: raw[path: ["metadata", "name"]]?.stringValue ?? "")
    }
    public var resourceVersion: String? { raw[path: ["metadata", "resourceVersion"]]?.stringValue }
}

extension KeyedObject where Self: KubernetesResource {
    public var objectKey: ObjectKey { ObjectKey(namespace: metadata.namespace, name: metadata.name ?? "") }
    public var resourceVersion: String? { metadata.resourceVersion }
}

extension Deployment: KeyedObject {}
extension Pod: KeyedObject {}
extension Service: KeyedObject {}
extension ConfigMap: KeyedObject {}
extension Lease: KeyedObject {}
extension HTTPRoute: KeyedObject {}

/// Leader-election leases stored as `coordination.k8s.io/v1` Lease objects in one namespace.
public struct KubernetesLeaseStore: LeaseStore {
    public let leases: ResourceClient<Lease>

    public init(client: KubernetesClient, namespace: String) {
        self.leases = client.resources(Lease.self, namespace: namespace)
    }

    public func get(name: String) async throws -> StoredLease? {
        guard let lease = try await rethrowingStatus({ try await leases.getIfExists(name) }) else { return nil }
        return StoredLease(record: Self.record(lease.spec), resourceVersion: lease.metadata.resourceVersion ?? "")
    }

    public func create(name: String, record: LeaseRecord) async throws -> String {
        let lease = Lease(metadata: ObjectMeta(name: name, namespace: leases.namespace), spec: Self.spec(record))
        let created = try await rethrowingStatus { try await leases.create(lease) }
        return created.metadata.resourceVersion ?? ""
    }

    public func update(name: String, record: LeaseRecord, resourceVersion: String) async throws -> String {
        var meta = ObjectMeta(name: name, namespace: leases.namespace)
        meta.resourceVersion = resourceVersion
        let updated = try await rethrowingStatus { try await leases.update(Lease(metadata: meta, spec: Self.spec(record))) }
        return updated.metadata.resourceVersion ?? ""
    }

    static func record(_ spec: Lease.Spec) -> LeaseRecord {
        LeaseRecord(
            holderIdentity: spec.holderIdentity ?? "", leaseDurationSeconds: Int(spec.leaseDurationSeconds ?? 0),
            acquireTime: spec.acquireTime, renewTime: spec.renewTime, leaseTransitions: Int(spec.leaseTransitions ?? 0))
    }

    static func spec(_ record: LeaseRecord) -> Lease.Spec {
        Lease.Spec(
            holderIdentity: record.holderIdentity, leaseDurationSeconds: Int32(clamping: record.leaseDurationSeconds),
            acquireTime: record.acquireTime, renewTime: record.renewTime,
            leaseTransitions: Int32(clamping: record.leaseTransitions))
    }
}

/// Writes recorded events as `events.k8s.io/v1` Events.
public struct KubernetesEventSink: EventSink {
    public let client: KubernetesClient

    public init(client: KubernetesClient) { self.client = client }

    public func create(_ event: EventRecord) async throws -> String {
        let meta = ObjectMeta(name: event.name, namespace: event.namespace)
        let object = Event(
            metadata: meta, eventTime: event.eventTime, reportingController: event.reportingController,
            reportingInstance: event.reportingInstance, action: event.action, reason: event.reason,
            regarding: event.regarding, note: event.note, type: event.type.rawValue)
        let created = try await rethrowingStatus {
            try await client.resources(Event.self, namespace: event.namespace).create(object)
        }
        return created.metadata.name ?? event.name
    }

    public func updateSeries(name: String, namespace: String, count: Int, lastObservedTime: Date) async throws {
        let patch: JSONValue = [
            "series": ["count": .int(Int64(count)), "lastObservedTime": .string(KubeTime.formatMicro(lastObservedTime))]
        ]
        _ = try await rethrowingStatus {
            try await client.resources(Event.self, namespace: namespace).patch(name, type: .merge, patch: patch)
        }
    }
}
