import DequeModule
import Foundation
import KubeCore

/// One change recorded by `ObjectStorage`, with the resourceVersion it was written at.
public struct StoredEvent: Sendable {
    public var resourceVersion: Int64
    public var key: ResourceKey
    public var namespace: String
    public var type: ClusterChange.Kind
    /// The object after the change (for DELETED: the last state, carrying the deletion's resourceVersion).
    public var object: JSONValue
    /// The object before the change (nil for ADDED).
    public var old: JSONValue?
}

/// The result of starting a watch: the synthetic initial objects (when watching from "now"), the
/// resourceVersion the stream starts after, and the live events.
public struct WatchStart: Sendable {
    public var id: UUID
    /// Current objects when the watch started without a resourceVersion (or "0"); nil otherwise.
    public var initial: [JSONValue]?
    public var resourceVersion: Int64
    public var events: AsyncStream<StoredEvent>
}

/// The emulated cluster's storage: every object as JSON, keyed by resource, namespace and name.
///
/// Implements the apiserver storage semantics the operator relies on: a global decimal resourceVersion, uid and
/// creationTimestamp, generation (CRs bump on any non-metadata change, built-ins on spec changes), status
/// subresource separation, optimistic concurrency, no-op writes that change nothing (no new resourceVersion,
/// no event), finalizers, a bounded event history for watching from a resourceVersion (410 once compacted), and
/// fan-out to watchers whose buffers are bounded (a watcher that falls behind has its stream finished).
///
/// Events are stored once in core/v1 form; the descriptor-based methods convert to and from the
/// events.k8s.io/v1 view (`EventConversion`), while the key-based `list(key:)` and `watch(key:)` return the
/// stored form (the API handler converts when serving).
public actor ObjectStorage: ClusterObjectStore {
    /// Namespaces created at start, with `status.phase: Active`.
    public static let seedNamespaces = ["default", "kube-system", "kube-public", "llm-serving"]

    private struct Watcher {
        var key: ResourceKey
        var namespace: String?
        var deliver: @Sendable (StoredEvent) -> Bool
        var finish: @Sendable () -> Void
    }

    private var objects: [ResourceKey: [String: JSONValue]] = [:]
    private var currentRV: Int64 = 0
    /// Watching from a resourceVersion below this one yields 410 Expired.
    private var compactedRV: Int64 = 0
    private var history: Deque<StoredEvent> = []
    private let historyLimit: Int
    private let watcherBuffer: Int
    private var watchers: [UUID: Watcher] = [:]
    /// The resources served, including those from stored CRDs.
    public private(set) var registry = ResourceRegistry()
    /// Incremented whenever the set of served resources changes (CRD writes).
    public private(set) var registryGeneration = 0
    private let clock: @Sendable () -> Date

    /// - Parameters:
    ///   - historyLimit: events kept for watches from a resourceVersion; older ones are compacted (410).
    ///   - watcherBuffer: events buffered per watcher before a slow watcher's stream is finished.
    ///   - seed: create the default namespaces.
    ///   - clock: the time source for timestamps.
    public init(
        historyLimit: Int = 10_000, watcherBuffer: Int = 1_000, seed: Bool = true,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.historyLimit = max(1, historyLimit)
        self.watcherBuffer = max(1, watcherBuffer)
        self.clock = clock
        if seed {
            let now = KubeTime.format(clock())
            for ns in Self.seedNamespaces {
                currentRV += 1
                let object: JSONValue = [
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": [
                        "name": .string(ns), "uid": .string(UUID().uuidString.lowercased()),
                        "resourceVersion": .string(String(currentRV)), "creationTimestamp": .string(now),
                        "labels": ["kubernetes.io/metadata.name": .string(ns)],
                    ],
                    "spec": ["finalizers": ["kubernetes"]],
                    "status": ["phase": "Active"],
                ]
                objects[ResourceKey(.namespaces), default: [:]][ns] = object
            }
            compactedRV = currentRV
        }
    }

    // MARK: - Reading

    /// The current (latest) resourceVersion.
    public var resourceVersion: Int64 { currentRV }

    /// The resourceVersion below which watches get 410.
    public var oldestWatchableResourceVersion: Int64 { compactedRV }

    public func get(_ resource: ResourceDescriptor, namespace: String?, name: String) -> JSONValue? {
        objects[ResourceKey(resource)]?[Self.storeName(resource.namespaced ? namespace : nil, name)]
            .map { EventConversion.view($0, as: resource) }
    }

    public func list(_ resource: ResourceDescriptor, namespace: String?) -> [JSONValue] {
        list(key: ResourceKey(resource), namespace: resource.namespaced ? namespace : nil).items
            .map { EventConversion.view($0, as: resource) }
    }

    /// Objects of one resource sorted by namespace/name, plus the current resourceVersion.
    public func list(key: ResourceKey, namespace: String?) -> (items: [JSONValue], resourceVersion: Int64) {
        let all = objects[key] ?? [:]
        let prefix = namespace.map { $0 + "/" }
        let items = all.keys.sorted().compactMap { k -> JSONValue? in
            if let prefix, !k.hasPrefix(prefix) { return nil }
            return all[k]
        }
        return (items, currentRV)
    }

    static func storeName(_ namespace: String?, _ name: String) -> String {
        if let namespace, !namespace.isEmpty { return namespace + "/" + name }
        return name
    }

    private func info(_ resource: ResourceDescriptor) -> ResourceInfo {
        registry.lookup(resource) ?? ResourceInfo(descriptor: resource, singular: resource.resource)
    }

    // MARK: - Writing

    public func create(_ resource: ResourceDescriptor, _ object: JSONValue) throws -> JSONValue {
        try create(resource, object, dryRun: false)
    }

    /// Creates `object` (its `metadata.namespace` must be set for namespaced resources).
    public func create(_ resource: ResourceDescriptor, _ object: JSONValue, dryRun: Bool) throws(APIStatus)
        -> JSONValue
    {
        EventConversion.view(try createStored(resource, EventConversion.storageForm(object, writtenAs: resource),
            dryRun: dryRun), as: resource)
    }

    private func createStored(_ resource: ResourceDescriptor, _ object: JSONValue, dryRun: Bool) throws(APIStatus)
        -> JSONValue
    {
        let info = info(resource)
        var obj = object
        guard obj.objectValue != nil else { throw APIStatus.badRequest("the object must be a JSON object") }
        var name = obj[path: ["metadata", "name"]]?.stringValue ?? ""
        if name.isEmpty, let generate = obj[path: ["metadata", "generateName"]]?.stringValue, !generate.isEmpty {
            name = generate + Self.randomSuffix()
            obj[path: ["metadata", "name"]] = .string(name)
        }
        guard !name.isEmpty else {
            throw APIStatus.invalid(
                resource, name: "",
                causes: [.init(type: "FieldValueRequired", message: "Required value: name or generateName is required",
                    field: "metadata.name")])
        }
        let metadataProblems = ObjectMetaValidation.validate(obj, resource: resource)
        if !metadataProblems.isEmpty { throw APIStatus.invalid(resource, name: name, causes: metadataProblems) }
        var namespace: String? = nil
        if resource.namespaced {
            let ns = obj[path: ["metadata", "namespace"]]?.stringValue ?? ""
            guard !ns.isEmpty else { throw APIStatus.badRequest("the namespace of the object must be set") }
            guard objects[ResourceKey(.namespaces)]?[ns] != nil else {
                throw APIStatus.notFound(.namespaces, name: ns)
            }
            namespace = ns
        } else {
            obj["metadata"]?["namespace"] = nil
        }
        let key = ResourceKey(resource)
        let storeName = Self.storeName(namespace, name)
        if objects[key]?[storeName] != nil { throw APIStatus.alreadyExists(resource, name: name) }
        if obj["apiVersion"] == nil { obj["apiVersion"] = .string(resource.apiVersion) }
        if obj["kind"] == nil { obj["kind"] = .string(resource.kind) }
        if info.dropsStatusOnCreate { obj["status"] = nil }
        let now = clock()
        obj[path: ["metadata", "uid"]] = .string(UUID().uuidString.lowercased())
        obj[path: ["metadata", "creationTimestamp"]] = .string(KubeTime.format(now))
        obj[path: ["metadata", "deletionTimestamp"]] = nil
        obj[path: ["metadata", "deletionGracePeriodSeconds"]] = nil
        if info.tracksGeneration || obj["spec"] != nil { obj[path: ["metadata", "generation"]] = .int(1) }
        if key == ResourceKey(.namespaces) {
            obj[path: ["status", "phase"]] = "Active"
            if obj[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] == nil {
                obj[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(name)
            }
        }
        if key == ResourceKey(.customResourceDefinitions) { obj = CRDValidation.defaulted(obj, now: now) }
        if dryRun {
            obj[path: ["metadata", "resourceVersion"]] = nil
            return obj
        }
        currentRV += 1
        obj[path: ["metadata", "resourceVersion"]] = .string(String(currentRV))
        objects[key, default: [:]][storeName] = obj
        record(StoredEvent(
            resourceVersion: currentRV, key: key, namespace: namespace ?? "", type: .added, object: obj, old: nil))
        if key == ResourceKey(.customResourceDefinitions) { rebuildRegistry() }
        return obj
    }

    public func update(_ resource: ResourceDescriptor, _ object: JSONValue, subresource: String?) throws -> JSONValue {
        try update(resource, object, subresource: subresource, dryRun: false, allowUnconditional: true)
    }

    /// Replaces an object (or only its status with `subresource: "status"`).
    ///
    /// A non-empty `metadata.resourceVersion` is a precondition (409 when stale); an empty one is allowed only
    /// when `allowUnconditional` (built-ins), otherwise 422 like the real server for CRs. A write that changes
    /// nothing returns the stored object without a new resourceVersion or event. Clearing the last finalizer
    /// of an object being deleted removes it.
    public func update(
        _ resource: ResourceDescriptor, _ object: JSONValue, subresource: String?, dryRun: Bool,
        allowUnconditional: Bool
    ) throws(APIStatus) -> JSONValue {
        let stored = try updateStored(
            resource, EventConversion.storageForm(object, writtenAs: resource), subresource: subresource,
            dryRun: dryRun, allowUnconditional: allowUnconditional)
        return EventConversion.view(stored, as: resource)
    }

    private func updateStored(
        _ resource: ResourceDescriptor, _ object: JSONValue, subresource: String?, dryRun: Bool,
        allowUnconditional: Bool
    ) throws(APIStatus) -> JSONValue {
        let info = info(resource)
        let key = ResourceKey(resource)
        guard object.objectValue != nil else { throw APIStatus.badRequest("the object must be a JSON object") }
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let namespace = resource.namespaced ? (object[path: ["metadata", "namespace"]]?.stringValue ?? "") : nil
        let storeName = Self.storeName(namespace, name)
        guard let old = objects[key]?[storeName] else { throw APIStatus.notFound(resource, name: name) }
        if subresource == nil {
            let metadataProblems = ObjectMetaValidation.validate(object, resource: resource)
            if !metadataProblems.isEmpty { throw APIStatus.invalid(resource, name: name, causes: metadataProblems) }
        }
        let requestedRV = object[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
        if requestedRV.isEmpty {
            if !allowUnconditional {
                throw APIStatus.invalid(
                    resource, name: name,
                    causes: [.init(type: "FieldValueInvalid",
                        message: "Invalid value: 0x0: must be specified for an update", field: "metadata.resourceVersion")])
            }
        } else if requestedRV != old[path: ["metadata", "resourceVersion"]]?.stringValue {
            throw APIStatus.conflict(resource, name: name)
        }
        var new: JSONValue
        if subresource == "status" {
            new = old
            new["status"] = object["status"]
        } else {
            new = object
            if info.hasStatus { new["status"] = old["status"] }
            for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
                new[path: ["metadata", field]] = old[path: ["metadata", field]]
            }
            if new[path: ["metadata", "managedFields"]] == nil {
                new[path: ["metadata", "managedFields"]] = old[path: ["metadata", "managedFields"]]
            }
            new["apiVersion"] = old["apiVersion"] ?? new["apiVersion"]
            new["kind"] = old["kind"] ?? new["kind"]
            if Self.bumpsGeneration(old: old, new: new, info: info), let g = old[path: ["metadata", "generation"]]?.intValue {
                new[path: ["metadata", "generation"]] = .int(g + 1)
            }
            if key == ResourceKey(.namespaces) { new[path: ["status", "phase"]] = old[path: ["status", "phase"]] }
            if key == ResourceKey(.customResourceDefinitions) { new = CRDValidation.defaulted(new, now: clock()) }
        }
        // Drop empty finalizer lists so `[]` and absent compare equal.
        if new[path: ["metadata", "finalizers"]]?.arrayValue?.isEmpty == true {
            new[path: ["metadata", "finalizers"]] = nil
        }
        new[path: ["metadata", "resourceVersion"]] = old[path: ["metadata", "resourceVersion"]]
        if new.jsonBytes == old.jsonBytes { return old }
        if dryRun { return new }
        if new[path: ["metadata", "deletionTimestamp"]] != nil, (new[path: ["metadata", "finalizers"]]?.arrayValue ?? []).isEmpty {
            return remove(key: key, storeName: storeName, namespace: namespace ?? "", object: new)
        }
        currentRV += 1
        new[path: ["metadata", "resourceVersion"]] = .string(String(currentRV))
        objects[key, default: [:]][storeName] = new
        record(StoredEvent(
            resourceVersion: currentRV, key: key, namespace: namespace ?? "", type: .modified, object: new, old: old))
        if key == ResourceKey(.customResourceDefinitions) { rebuildRegistry() }
        return new
    }

    public func delete(_ resource: ResourceDescriptor, namespace: String?, name: String) throws {
        _ = try delete(resource, namespace: namespace, name: name, preconditionUID: nil, preconditionRV: nil,
            dryRun: false)
    }

    /// Deletes an object. With finalizers it only gets `deletionTimestamp` (returned with `removed == false`);
    /// otherwise it is removed and a DELETED event is sent. Namespaces take their objects with them; CRDs
    /// take their custom resources.
    public func delete(
        _ resource: ResourceDescriptor, namespace: String?, name: String, preconditionUID: String?,
        preconditionRV: String?, dryRun: Bool
    ) throws(APIStatus) -> (object: JSONValue, removed: Bool) {
        let (object, removed) = try deleteStored(
            resource, namespace: namespace, name: name, preconditionUID: preconditionUID,
            preconditionRV: preconditionRV, dryRun: dryRun)
        return (EventConversion.view(object, as: resource), removed)
    }

    private func deleteStored(
        _ resource: ResourceDescriptor, namespace: String?, name: String, preconditionUID: String?,
        preconditionRV: String?, dryRun: Bool
    ) throws(APIStatus) -> (object: JSONValue, removed: Bool) {
        let key = ResourceKey(resource)
        let ns = resource.namespaced ? namespace : nil
        let storeName = Self.storeName(ns, name)
        guard let old = objects[key]?[storeName] else { throw APIStatus.notFound(resource, name: name) }
        if let preconditionUID, preconditionUID != old[path: ["metadata", "uid"]]?.stringValue {
            throw APIStatus(
                code: 409, reason: "Conflict",
                message: "Operation cannot be fulfilled on \(resource.qualifiedResource) \"\(name)\": Precondition "
                    + "failed: UID in precondition: \(preconditionUID), UID in object meta: "
                    + (old[path: ["metadata", "uid"]]?.stringValue ?? ""),
                name: name, group: resource.group, kind: resource.resource)
        }
        if let preconditionRV, preconditionRV != old[path: ["metadata", "resourceVersion"]]?.stringValue {
            throw APIStatus.conflict(resource, name: name)
        }
        let finalizers = old[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if !finalizers.isEmpty {
            if old[path: ["metadata", "deletionTimestamp"]] != nil || dryRun { return (old, false) }
            var new = old
            new[path: ["metadata", "deletionTimestamp"]] = .string(KubeTime.format(clock()))
            new[path: ["metadata", "deletionGracePeriodSeconds"]] = .int(0)
            currentRV += 1
            new[path: ["metadata", "resourceVersion"]] = .string(String(currentRV))
            objects[key, default: [:]][storeName] = new
            record(StoredEvent(
                resourceVersion: currentRV, key: key, namespace: ns ?? "", type: .modified, object: new, old: old))
            if key == ResourceKey(.customResourceDefinitions) { rebuildRegistry() }
            return (new, false)
        }
        if dryRun { return (old, true) }
        return (remove(key: key, storeName: storeName, namespace: ns ?? "", object: old), true)
    }

    private func remove(key: ResourceKey, storeName: String, namespace: String, object: JSONValue) -> JSONValue {
        objects[key]?[storeName] = nil
        currentRV += 1
        var gone = object
        gone[path: ["metadata", "resourceVersion"]] = .string(String(currentRV))
        record(StoredEvent(
            resourceVersion: currentRV, key: key, namespace: namespace, type: .deleted, object: gone, old: object))
        if key == ResourceKey(.namespaces), let name = object[path: ["metadata", "name"]]?.stringValue {
            removeAll(inNamespace: name)
        }
        if key == ResourceKey(.customResourceDefinitions) {
            if let group = object[path: ["spec", "group"]]?.stringValue,
                let plural = object[path: ["spec", "names", "plural"]]?.stringValue
            {
                removeAll(of: ResourceKey(group: group, resource: plural))
            }
            rebuildRegistry()
        }
        return gone
    }

    private func removeAll(inNamespace namespace: String) {
        for (key, entries) in objects where key != ResourceKey(.namespaces) {
            for (storeName, object) in entries where storeName.hasPrefix(namespace + "/") {
                _ = remove(key: key, storeName: storeName, namespace: namespace, object: object)
            }
        }
    }

    private func removeAll(of key: ResourceKey) {
        for (storeName, object) in (objects[key] ?? [:]).sorted(by: { $0.key < $1.key }) {
            let ns = object[path: ["metadata", "namespace"]]?.stringValue ?? ""
            _ = remove(key: key, storeName: storeName, namespace: ns, object: object)
        }
        objects[key] = nil
    }

    private func rebuildRegistry() {
        registry.rebuild(crds: list(key: ResourceKey(.customResourceDefinitions), namespace: nil).items)
        registryGeneration += 1
    }

    /// CRs bump generation on any non-metadata change, built-ins on `spec` changes.
    static func bumpsGeneration(old: JSONValue, new: JSONValue, info: ResourceInfo) -> Bool {
        guard old[path: ["metadata", "generation"]] != nil else { return false }
        if info.isCustom || info.key == ResourceKey(.customResourceDefinitions) {
            var a = old
            var b = new
            for k in ["metadata", "apiVersion", "kind"] {
                a[k] = nil
                b[k] = nil
            }
            return a.jsonBytes != b.jsonBytes
        }
        return (old["spec"] ?? .null).jsonBytes != (new["spec"] ?? .null).jsonBytes
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    // MARK: - Events and watches

    private func record(_ event: StoredEvent) {
        history.append(event)
        while history.count > historyLimit, let first = history.popFirst() {
            compactedRV = first.resourceVersion
        }
        var dead: [UUID] = []
        for (id, watcher) in watchers where watcher.key == event.key {
            if let ns = watcher.namespace, ns != event.namespace { continue }
            if !watcher.deliver(event) { dead.append(id) }
        }
        for id in dead { watchers.removeValue(forKey: id)?.finish() }
    }

    /// Starts a watch of `key` (optionally one namespace). `from == nil` returns the current objects as
    /// `initial`; otherwise every stored event after `from` is replayed first. Throws 410 Expired when `from`
    /// was compacted.
    public func watch(key: ResourceKey, namespace: String?, from: Int64?) throws(APIStatus) -> WatchStart {
        var replay: [StoredEvent] = []
        if let from {
            if from < compactedRV {
                throw APIStatus.gone("too old resource version: \(from) (\(compactedRV))")
            }
            replay = history.filter {
                $0.resourceVersion > from && $0.key == key && (namespace == nil || $0.namespace == namespace)
            }
        }
        let (stream, continuation) = AsyncStream<StoredEvent>.makeStream(
            bufferingPolicy: .bufferingOldest(watcherBuffer + replay.count))
        for event in replay { continuation.yield(event) }
        let id = UUID()
        watchers[id] = Watcher(
            key: key, namespace: namespace,
            deliver: { event in
                if case .enqueued = continuation.yield(event) { return true }
                return false
            },
            finish: { continuation.finish() })
        continuation.onTermination = { [weak self] _ in
            Task { await self?.stopWatch(id) }
        }
        let initial = from == nil ? list(key: key, namespace: namespace).items : nil
        return WatchStart(id: id, initial: initial, resourceVersion: from ?? currentRV, events: stream)
    }

    /// Stops one watch and finishes its stream.
    public func stopWatch(_ id: UUID) {
        watchers.removeValue(forKey: id)?.finish()
    }

    /// Finishes every watch stream (used when the server stops).
    public func stopAllWatches() {
        let all = watchers
        watchers.removeAll()
        for w in all.values { w.finish() }
    }

    /// The number of active watchers (for tests and diagnostics).
    public var watcherCount: Int { watchers.count }

    /// Forgets the event history: watches from any resourceVersion before now get 410 Expired.
    public func compact() {
        history.removeAll()
        compactedRV = currentRV
    }

    public func changes(_ resource: ResourceDescriptor) -> AsyncStream<ClusterChange> {
        let (stream, continuation) = AsyncStream<ClusterChange>.makeStream(bufferingPolicy: .bufferingOldest(10_000))
        let id = UUID()
        watchers[id] = Watcher(
            key: ResourceKey(resource), namespace: nil,
            deliver: { event in
                let object = EventConversion.view(event.object, as: resource)
                if case .enqueued = continuation.yield(ClusterChange(kind: event.type, object: object)) {
                    return true
                }
                return false
            },
            finish: { continuation.finish() })
        continuation.onTermination = { [weak self] _ in
            Task { await self?.stopWatch(id) }
        }
        return stream
    }
}
