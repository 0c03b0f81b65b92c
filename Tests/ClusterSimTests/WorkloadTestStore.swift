import Foundation
import KubeCore

@testable import ClusterSim

/// An in-memory `ClusterObjectStore` for the workload tests: resourceVersion counter, uid, generation bumps on spec
/// changes, status subresource, 409 on a stale resourceVersion, no-op writes skipped, immediate deletion, and change
/// streams per resource type.
actor WorkloadTestStore: ClusterObjectStore {
    private var objects: [ResourceDescriptor: [String: JSONValue]] = [:]
    private var resourceVersion = 0
    private var subscribers: [ResourceDescriptor: [UUID: AsyncStream<ClusterChange>.Continuation]] = [:]
    private(set) var writes = 0

    static func key(_ namespace: String?, _ name: String) -> String { "\(namespace ?? "")/\(name)" }

    func get(_ resource: ResourceDescriptor, namespace: String?, name: String) async -> JSONValue? {
        objects[resource]?[Self.key(namespace, name)]
    }

    func list(_ resource: ResourceDescriptor, namespace: String?) async -> [JSONValue] {
        (objects[resource] ?? [:]).values.filter {
            namespace == nil || $0[path: ["metadata", "namespace"]]?.stringValue == namespace
        }.sorted {
            ($0[path: ["metadata", "name"]]?.stringValue ?? "") < ($1[path: ["metadata", "name"]]?.stringValue ?? "")
        }
    }

    private func nextRV() -> JSONValue {
        resourceVersion += 1
        return .string(String(resourceVersion))
    }

    func create(_ resource: ResourceDescriptor, _ object: JSONValue) async throws -> JSONValue {
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        var namespace = object[path: ["metadata", "namespace"]]?.stringValue
        if resource.namespaced && namespace == nil { namespace = "default" }
        let key = Self.key(resource.namespaced ? namespace : nil, name)
        if objects[resource]?[key] != nil { throw APIStatus.alreadyExists(resource, name: name) }
        var o = object
        if resource.namespaced { o[path: ["metadata", "namespace"]] = .string(namespace ?? "default") }
        o[path: ["metadata", "uid"]] = .string(UUID().uuidString.lowercased())
        o[path: ["metadata", "resourceVersion"]] = nextRV()
        o[path: ["metadata", "generation"]] = 1
        o[path: ["metadata", "creationTimestamp"]] = .string(KubeTime.format(Date()))
        o["apiVersion"] = .string(resource.apiVersion)
        o["kind"] = .string(resource.kind)
        objects[resource, default: [:]][key] = o
        writes += 1
        publish(resource, ClusterChange(kind: .added, object: o))
        return o
    }

    func update(_ resource: ResourceDescriptor, _ object: JSONValue, subresource: String?) async throws -> JSONValue {
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let namespace = resource.namespaced ? (object[path: ["metadata", "namespace"]]?.stringValue ?? "default") : nil
        let key = Self.key(namespace, name)
        guard let current = objects[resource]?[key] else { throw APIStatus.notFound(resource, name: name) }
        if let rv = object[path: ["metadata", "resourceVersion"]]?.stringValue, !rv.isEmpty,
            rv != current[path: ["metadata", "resourceVersion"]]?.stringValue
        {
            throw APIStatus.conflict(resource, name: name)
        }
        var next: JSONValue
        if subresource == "status" {
            next = current
            next["status"] = object["status"]
        } else {
            next = object
            next["status"] = current["status"]
            for field in ["uid", "creationTimestamp", "generation", "deletionTimestamp"] {
                next[path: ["metadata", field]] = current[path: ["metadata", field]]
            }
            if !(next["spec"] ?? .null).semanticallyEquals(current["spec"] ?? .null) {
                next[path: ["metadata", "generation"]] = .int(
                    (current[path: ["metadata", "generation"]]?.intValue ?? 1) + 1)
            }
        }
        next[path: ["metadata", "resourceVersion"]] = current[path: ["metadata", "resourceVersion"]]
        if next.semanticallyEquals(current) { return current }
        next[path: ["metadata", "resourceVersion"]] = nextRV()
        objects[resource, default: [:]][key] = next
        writes += 1
        publish(resource, ClusterChange(kind: .modified, object: next))
        return next
    }

    func delete(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws {
        let key = Self.key(resource.namespaced ? (namespace ?? "default") : nil, name)
        guard let current = objects[resource]?.removeValue(forKey: key) else {
            throw APIStatus.notFound(resource, name: name)
        }
        var gone = current
        gone[path: ["metadata", "resourceVersion"]] = nextRV()
        publish(resource, ClusterChange(kind: .deleted, object: gone))
    }

    func changes(_ resource: ResourceDescriptor) async -> AsyncStream<ClusterChange> {
        let (stream, continuation) = AsyncStream<ClusterChange>.makeStream(bufferingPolicy: .bufferingOldest(10_000))
        let id = UUID()
        subscribers[resource, default: [:]][id] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(resource, id) } }
        return stream
    }

    private func unsubscribe(_ resource: ResourceDescriptor, _ id: UUID) { subscribers[resource]?[id] = nil }

    private func publish(_ resource: ResourceDescriptor, _ change: ClusterChange) {
        for continuation in (subscribers[resource] ?? [:]).values { continuation.yield(change) }
    }

    /// Test helper: read-modify-write of the main object (retrying on conflict).
    func modify(_ resource: ResourceDescriptor, namespace: String, name: String, _ change: (inout JSONValue) -> Void)
        async throws
    {
        guard var object = objects[resource]?[Self.key(namespace, name)] else {
            throw APIStatus.notFound(resource, name: name)
        }
        change(&object)
        _ = try await update(resource, object, subresource: nil)
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` of wall time pass.
func eventually(within seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
