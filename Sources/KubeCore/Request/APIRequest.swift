import Foundation

/// An HTTP method of a Kubernetes API request.
public enum HTTPMethod: String, Sendable, Hashable, CaseIterable {
    case GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS
}

/// One Kubernetes API request, built without I/O: method, path, query (in a stable order), headers, body.
///
/// The client sends it through an `HTTPTransport`; tests compare `pathAndQuery` with golden strings.
public struct APIRequest: Sendable, CustomStringConvertible {
    public var method: HTTPMethod
    /// The unescaped-by-caller path: segments are already percent-escaped where needed.
    public var path: String
    /// Unescaped query keys and values, in the order they are sent.
    public var query: [(String, String)]
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// Whether the response is a long-lived stream (watch, follow logs), so no overall timeout applies.
    public var isStreaming: Bool

    public init(
        method: HTTPMethod, path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: [UInt8]? = nil, isStreaming: Bool = false
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.isStreaming = isStreaming
    }

    /// The query string, escaped (`labelSelector=app%3Ddemo&limit=5`), empty when there is no query.
    public var queryString: String {
        query.map { "\(KubePath.escapeQuery($0.0))=\(KubePath.escapeQuery($0.1))" }.joined(separator: "&")
    }

    /// `path?query`, as it goes on the request line.
    public var pathAndQuery: String { query.isEmpty ? path : "\(path)?\(queryString)" }

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    /// `Content-Type` of the body, if any.
    public var contentType: String? { header("Content-Type") }

    /// The body as UTF-8 text (empty when there is none).
    public var bodyText: String { body.map { String(decoding: $0, as: UTF8.self) } ?? "" }

    public var description: String { "\(method.rawValue) \(pathAndQuery)" }

    /// Sets or replaces a header.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.0.caseInsensitiveCompare(name) == .orderedSame }
        headers.append((name, value))
    }
}

// MARK: - Builders

extension APIRequest {
    static let jsonContentType = "application/json"
    static let acceptJSON: [(String, String)] = [("Accept", "application/json")]

    static func withBody(_ headers: [(String, String)], contentType: String) -> [(String, String)] {
        headers + [("Content-Type", contentType)]
    }

    /// GET one object or one of its subresources (`status`, `scale`).
    public static func get(
        _ resource: ResourceDescriptor, namespace: String?, name: String, subresource: String? = nil
    ) -> APIRequest {
        APIRequest(
            method: .GET, path: resource.objectPath(namespace: namespace, name: name, subresource: subresource),
            headers: acceptJSON)
    }

    /// GET a collection (one page).
    public static func list(
        _ resource: ResourceDescriptor, namespace: String?, options: ListOptions = ListOptions()
    ) -> APIRequest {
        APIRequest(
            method: .GET, path: resource.collectionPath(namespace: namespace), query: options.queryItems,
            headers: acceptJSON)
    }

    /// GET a collection with `watch=true`: a stream of newline-delimited watch events.
    public static func watch(
        _ resource: ResourceDescriptor, namespace: String?, options: WatchOptions = WatchOptions()
    ) -> APIRequest {
        APIRequest(
            method: .GET, path: resource.collectionPath(namespace: namespace), query: options.queryItems,
            headers: acceptJSON, isStreaming: true)
    }

    /// POST a new object (JSON body) to the collection.
    public static func create(
        _ resource: ResourceDescriptor, namespace: String?, body: [UInt8], options: WriteOptions = WriteOptions()
    ) -> APIRequest {
        APIRequest(
            method: .POST, path: resource.collectionPath(namespace: namespace), query: options.queryItems,
            headers: withBody(acceptJSON, contentType: jsonContentType), body: body)
    }

    /// PUT a whole object, or one of its subresources.
    public static func update(
        _ resource: ResourceDescriptor, namespace: String?, name: String, subresource: String? = nil,
        body: [UInt8], options: WriteOptions = WriteOptions()
    ) -> APIRequest {
        APIRequest(
            method: .PUT, path: resource.objectPath(namespace: namespace, name: name, subresource: subresource),
            query: options.queryItems, headers: withBody(acceptJSON, contentType: jsonContentType), body: body)
    }

    /// PATCH an object or subresource; the patch type decides the Content-Type. Server-side apply adds
    /// `fieldManager` (and `force=true` when forcing).
    public static func patch(
        _ resource: ResourceDescriptor, namespace: String?, name: String, subresource: String? = nil,
        type: PatchType, body: [UInt8], options: WriteOptions = WriteOptions()
    ) -> APIRequest {
        var options = options
        var extra: [(String, String)] = []
        if case .apply(let manager, let force) = type {
            options.fieldManager = manager
            if force { extra.append(("force", "true")) }
        }
        let query = (options.queryItems + extra).sorted { $0.0 < $1.0 }
        return APIRequest(
            method: .PATCH, path: resource.objectPath(namespace: namespace, name: name, subresource: subresource),
            query: query, headers: withBody(acceptJSON, contentType: type.contentType), body: body)
    }

    /// DELETE one object; the options travel as a JSON `DeleteOptions` body.
    public static func delete(
        _ resource: ResourceDescriptor, namespace: String?, name: String, options: DeleteOptions = DeleteOptions()
    ) -> APIRequest {
        let path = resource.objectPath(namespace: namespace, name: name)
        if options.isEmpty { return APIRequest(method: .DELETE, path: path, headers: acceptJSON) }
        return APIRequest(
            method: .DELETE, path: path, headers: withBody(acceptJSON, contentType: jsonContentType),
            body: options.json.jsonBytes)
    }

    /// DELETE a collection, filtered by list options.
    public static func deleteCollection(
        _ resource: ResourceDescriptor, namespace: String?, listOptions: ListOptions = ListOptions(),
        options: DeleteOptions = DeleteOptions()
    ) -> APIRequest {
        let path = resource.collectionPath(namespace: namespace)
        var request = APIRequest(method: .DELETE, path: path, query: listOptions.queryItems, headers: acceptJSON)
        if !options.isEmpty {
            request.setHeader("Content-Type", jsonContentType)
            request.body = options.json.jsonBytes
        }
        return request
    }

    /// GET `pods/NAME/log`: plain text, streamed when `options.follow`.
    public static func podLog(namespace: String, pod: String, options: LogOptions = LogOptions()) -> APIRequest {
        APIRequest(
            method: .GET, path: ResourceDescriptor.pods.objectPath(namespace: namespace, name: pod, subresource: "log"),
            query: options.queryItems, headers: [("Accept", "*/*")], isStreaming: options.follow)
    }

    /// A request through the pod proxy: `/api/v1/namespaces/NS/pods/[scheme:]NAME[:PORT]/proxy/PATH`.
    ///
    /// `path` is the path on the pod (leading `/` optional); each of its segments is escaped.
    public static func podProxy(
        namespace: String, pod: String, port: Int? = nil, scheme: String? = nil, method: HTTPMethod = .GET,
        path: String, query: [(String, String)] = [], headers: [(String, String)] = [], body: [UInt8]? = nil
    ) -> APIRequest {
        var target = KubePath.escape(pod)
        if let port { target += ":\(port)" }
        if let scheme, !scheme.isEmpty { target = "\(scheme):\(target)" }
        let escapedPath = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { KubePath.escape(String($0)) }
            .joined(separator: "/")
        let suffix = escapedPath.hasPrefix("/") ? escapedPath : "/" + escapedPath
        let base = ResourceDescriptor.pods.collectionPath(namespace: namespace)
        var h = headers
        if let body, !body.isEmpty, !h.contains(where: { $0.0.lowercased() == "content-type" }) {
            h.append(("Content-Type", jsonContentType))
        }
        return APIRequest(method: method, path: "\(base)/\(target)/proxy\(suffix)", query: query, headers: h, body: body)
    }
}
