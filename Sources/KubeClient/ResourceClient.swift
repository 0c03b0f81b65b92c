import Foundation
import KubeCore

/// The API of one resource type (typed, or `DynamicObject` for any resource): CRUD, list/watch, patch,
/// and the `status` and `scale` subresources.
public struct ResourceClient<Object: KubernetesObject>: Sendable {
    public let client: KubernetesClient
    public let descriptor: ResourceDescriptor
    /// `nil`: all namespaces for list/watch; the object's or the client's default namespace for one object.
    public let namespace: String?

    public init(client: KubernetesClient, descriptor: ResourceDescriptor, namespace: String?) {
        self.client = client
        self.descriptor = descriptor
        self.namespace = namespace
    }

    /// This client restricted to one namespace.
    public func inNamespace(_ namespace: String?) -> ResourceClient<Object> {
        ResourceClient(client: client, descriptor: descriptor, namespace: namespace)
    }

    func objectNamespace(_ explicit: String? = nil) -> String? {
        guard descriptor.namespaced else { return nil }
        if let explicit, !explicit.isEmpty { return explicit }
        if let namespace, !namespace.isEmpty { return namespace }
        return client.defaultNamespace
    }

    func names(_ object: Object) throws -> (namespace: String?, name: String) {
        guard let name = object.metadata.name, !name.isEmpty else {
            throw KubeAPIError(
                status: APIStatus(code: 422, reason: "Invalid", message: "\(descriptor.kind) has no metadata.name"),
                httpStatus: 422)
        }
        return (objectNamespace(object.metadata.namespace), name)
    }

    func body<T: Encodable>(_ value: T) throws -> [UInt8] {
        do {
            return try KubeJSON.encode(value)
        } catch {
            throw KubeTransportError(.decoding, "cannot encode \(T.self): \(error)")
        }
    }

    // MARK: - Read

    public func get(_ name: String, namespace: String? = nil) async throws -> Object {
        try await client.call(.get(descriptor, namespace: objectNamespace(namespace), name: name), as: Object.self)
    }

    /// `get`, with `nil` for 404.
    public func getIfExists(_ name: String, namespace: String? = nil) async throws -> Object? {
        do {
            return try await get(name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }

    /// One page.
    public func list(_ options: ListOptions = ListOptions()) async throws -> ObjectList<Object> {
        try await client.call(.list(descriptor, namespace: namespace, options: options), as: ObjectList<Object>.self)
    }

    /// Every page, following `continue` tokens (at most `maxPages`); metadata is that of the last page.
    public func listAll(_ options: ListOptions = ListOptions(), maxPages: Int = 10_000) async throws -> ObjectList<Object> {
        var options = options
        var page = try await list(options)
        var items = page.items
        var pages = 1
        while let token = page.metadata.continue, !token.isEmpty, pages < maxPages {
            options.continueToken = token
            page = try await list(options)
            items += page.items
            pages += 1
        }
        page.items = items
        return page
    }

    /// Watches the collection. The request is sent on the first `next()`; the body is read only as fast as
    /// events are consumed. In-stream `ERROR` events (410 Expired) arrive as `.error`; HTTP errors, malformed
    /// lines and objects that do not decode end the stream with an error. The stream ends when the server
    /// closes the watch.
    public func watch(_ options: WatchOptions = WatchOptions()) -> AsyncThrowingStream<WatchEvent<Object>, Error> {
        let state = WatchStreamState<Object>(
            client: client, request: .watch(descriptor, namespace: namespace, options: options))
        return AsyncThrowingStream(unfolding: { try await state.next() })
    }

    // MARK: - Write

    public func create(_ object: Object, options: WriteOptions = WriteOptions()) async throws -> Object {
        let ns = objectNamespace(object.metadata.namespace)
        return try await client.call(.create(descriptor, namespace: ns, body: body(object), options: options), as: Object.self)
    }

    /// PUT; `metadata.resourceVersion` makes it conditional (409 when stale).
    public func update(_ object: Object, options: WriteOptions = WriteOptions()) async throws -> Object {
        let (ns, name) = try names(object)
        return try await client.call(
            .update(descriptor, namespace: ns, name: name, body: body(object), options: options), as: Object.self)
    }

    /// PATCH with a JSON body (a merge/strategic/apply object, or a JSON-patch operation list).
    public func patch(
        _ name: String, type: PatchType, patch: JSONValue, namespace: String? = nil,
        options: WriteOptions = WriteOptions()
    ) async throws -> Object {
        try await client.call(
            .patch(
                descriptor, namespace: objectNamespace(namespace), name: name, type: type, body: patch.jsonBytes,
                options: options), as: Object.self)
    }

    /// Server-side apply of a whole object (its name and namespace from metadata).
    public func apply(
        _ object: Object, fieldManager: String, force: Bool = false, options: WriteOptions = WriteOptions()
    ) async throws -> Object {
        let (ns, name) = try names(object)
        return try await client.call(
            .patch(
                descriptor, namespace: ns, name: name, type: .apply(fieldManager: fieldManager, force: force),
                body: body(object), options: options), as: Object.self)
    }

    /// DELETE one object.
    public func delete(_ name: String, namespace: String? = nil, options: DeleteOptions = DeleteOptions()) async throws {
        _ = try await client.sendCollecting(.delete(descriptor, namespace: objectNamespace(namespace), name: name, options: options))
    }

    /// DELETE, treating 404 as success; returns whether something was deleted.
    @discardableResult
    public func deleteIfExists(_ name: String, namespace: String? = nil, options: DeleteOptions = DeleteOptions())
        async throws -> Bool
    {
        do {
            try await delete(name, namespace: namespace, options: options)
            return true
        } catch let error as KubeAPIError where error.isNotFound {
            return false
        }
    }

    // MARK: - status subresource

    public func getStatus(_ name: String, namespace: String? = nil) async throws -> Object {
        try await client.call(
            .get(descriptor, namespace: objectNamespace(namespace), name: name, subresource: "status"), as: Object.self)
    }

    /// PUT to `/status`: only `.status` changes.
    public func updateStatus(_ object: Object, options: WriteOptions = WriteOptions()) async throws -> Object {
        let (ns, name) = try names(object)
        return try await client.call(
            .update(descriptor, namespace: ns, name: name, subresource: "status", body: body(object), options: options),
            as: Object.self)
    }

    public func patchStatus(
        _ name: String, type: PatchType, patch: JSONValue, namespace: String? = nil,
        options: WriteOptions = WriteOptions()
    ) async throws -> Object {
        try await client.call(
            .patch(
                descriptor, namespace: objectNamespace(namespace), name: name, subresource: "status", type: type,
                body: patch.jsonBytes, options: options), as: Object.self)
    }

    // MARK: - scale subresource

    public func getScale(_ name: String, namespace: String? = nil) async throws -> Scale {
        try await client.call(
            .get(descriptor, namespace: objectNamespace(namespace), name: name, subresource: "scale"), as: Scale.self)
    }

    public func updateScale(
        _ name: String, scale: Scale, namespace: String? = nil, options: WriteOptions = WriteOptions()
    ) async throws -> Scale {
        try await client.call(
            .update(
                descriptor, namespace: objectNamespace(namespace), name: name, subresource: "scale", body: body(scale),
                options: options), as: Scale.self)
    }

    /// Sets `spec.replicas` through `/scale` with a merge patch.
    public func scale(_ name: String, replicas: Int32, namespace: String? = nil) async throws -> Scale {
        try await patchScale(name, type: .merge, patch: ["spec": ["replicas": .int(Int64(replicas))]], namespace: namespace)
    }

    public func patchScale(
        _ name: String, type: PatchType, patch: JSONValue, namespace: String? = nil,
        options: WriteOptions = WriteOptions()
    ) async throws -> Scale {
        try await client.call(
            .patch(
                descriptor, namespace: objectNamespace(namespace), name: name, subresource: "scale", type: type,
                body: patch.jsonBytes, options: options), as: Scale.self)
    }
}

extension ResourceClient where Object == Pod {
    /// The log of one of the pod's containers.
    public func logs(_ name: String, namespace: String? = nil, options: LogOptions = LogOptions()) async throws -> String {
        try await client.podLogs(namespace: objectNamespace(namespace), pod: name, options: options)
    }

    /// Follows the log, one line per element.
    public func followLogs(
        _ name: String, namespace: String? = nil, options: LogOptions = LogOptions()
    ) -> AsyncThrowingStream<String, Error> {
        client.followPodLogs(namespace: objectNamespace(namespace), pod: name, options: options)
    }

    /// A request through the pod proxy.
    public func proxy(
        _ name: String, port: Int? = nil, method: HTTPMethod = .GET, path: String, namespace: String? = nil,
        body: [UInt8]? = nil
    ) async throws -> ProxyResponse {
        try await client.podProxy(
            namespace: objectNamespace(namespace), pod: name, port: port, method: method, path: path, body: body)
    }
}

/// Pull-based decoding of one watch response.
actor WatchStreamState<Object: KubernetesObject> {
    let client: KubernetesClient
    let request: APIRequest
    var iterator: ResponseBody.AsyncIterator?
    var decoder = WatchLineDecoder()
    var pending: [Result<WatchEvent<JSONValue>, WatchDecodingError>] = []
    var ended = false

    init(client: KubernetesClient, request: APIRequest) {
        self.client = client
        self.request = request
    }

    func next() async throws -> WatchEvent<Object>? {
        while true {
            if !pending.isEmpty {
                let event = try pending.removeFirst().get()
                return try event.map { json in
                    do {
                        return try KubeJSON.fromJSONValue(Object.self, json)
                    } catch {
                        throw KubeTransportError(.decoding, "watch \(request.path): cannot decode \(Object.self): \(error)")
                    }
                }
            }
            if ended { return nil }
            if iterator == nil { iterator = try await client.send(request).body.makeAsyncIterator() }
            guard var it = iterator else { return nil }
            let chunk = try await it.next()
            iterator = it
            if let chunk {
                pending = decoder.feed(chunk)
            } else {
                ended = true
                pending = decoder.finish()
            }
        }
    }
}
