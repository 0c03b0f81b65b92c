import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import KubeCore
import NIOCore

/// One parsed request to a resource endpoint.
struct ResourceRequest: Sendable {
    var info: ResourceInfo
    var namespace: String?
    var name: String?
    var subresource: String?
    /// The path after `…/proxy` (for pod proxying), starting with `/`.
    var proxyPath: String
    var verb: String
    var query: QueryParameters
    var headers: HTTPFields
    var method: HTTPRequest.Method
    var contentType: String
    var accept: String
}

/// The response of one request, before the request log sees it.
typealias HTTPResult = Response

/// The catch-all responder: authentication, fault injection, request log, and routing.
struct APIHandler: Sendable {
    let storage: ObjectStorage
    let configuration: APIServer.Configuration
    let faults: FaultInjector
    let log: RequestLog
    let httpClient: HTTPClient
    /// Tokens of RBAC-governed users (service accounts) and the log of refusals.
    let access: RBACAccessControl

    static let warningHeader = HTTPField.Name("Warning")!
    static let retryAfterHeader = HTTPField.Name("Retry-After")!
    static let authorizationHeader = HTTPField.Name("Authorization")!

    func respond(_ request: Request) async -> Response {
        let start = ContinuousClock.now
        let response = await route(request)
        let entry = RequestLogEntry(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
            contentType: request.headers[.contentType], accept: request.headers[.accept],
            userAgent: request.headers[.userAgent], status: response.status.code,
            duration: ContinuousClock.now - start, date: Date())
        await log.append(entry)
        return response
    }

    // MARK: - Response helpers

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, contentType: String = "application/json",
        headers extra: [HTTPField] = []) -> Response
    {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        for h in extra { headers.append(h) }
        var bytes = value.jsonBytes
        bytes.append(0x0A)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ status: APIStatus, headers extra: [HTTPField] = []) -> Response {
        var extra = extra
        if let retry = status.retryAfterSeconds { extra.append(HTTPField(name: retryAfterHeader, value: String(retry))) }
        return json(status.json, status: HTTPResponse.Status(code: status.code), headers: extra)
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static let notFoundStatus = APIStatus(
        code: 404, reason: "NotFound", message: "the server could not find the requested resource")

    // MARK: - Simulator administration

    /// `GET /_sim/faults` shows the fault spec; `PUT /_sim/faults` replaces it (body: the spec text; empty
    /// clears it). Lets tests and operators change faults while the emulator runs.
    func faultsEndpoint(_ request: Request) async -> Response {
        switch request.method {
        case .get:
            return Self.text((await faults.spec).description + "\n")
        case .put, .post:
            var request = request
            guard let body = try? await request.collectBody(upTo: 1 << 20) else {
                return Self.error(.badRequest("the fault spec body is larger than 1 MiB"))
            }
            let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
            do {
                let spec = try FaultSpec(parsing: text)
                await faults.set(spec)
                return Self.text(spec.description + "\n")
            } catch {
                return Self.error(.badRequest("invalid fault spec: \(error)"))
            }
        default:
            return Self.error(.methodNotAllowed())
        }
    }

    // MARK: - Routing

    func route(_ request: Request) async -> Response {
        let rawPath = request.uri.path
        var segments = rawPath.split(separator: "/", omittingEmptySubsequences: true).map {
            KubePath.unescape(String($0))
        }
        let query = QueryParameters(request.uri.query ?? "")
        let accept = request.headers[.accept] ?? ""
        let isPublic = ["version", "healthz", "livez", "readyz"].contains(segments.first ?? "")
        var user = RBACUser.admin
        if !isPublic {
            let auth = request.headers[Self.authorizationHeader] ?? ""
            let token = auth.hasPrefix("Bearer ") ? String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces) : ""
            guard let authenticated = await authenticate(bearer: token) else { return Self.error(.unauthorized()) }
            user = authenticated
        }
        // Resource requests are authorized once their verb is known (in `resource`); the rest here.
        let isResourceRequest =
            (segments.first == "api" && segments.count >= 3) || (segments.first == "apis" && segments.count >= 4)
        if !user.isSuperUser, !isResourceRequest {
            let attributes = RBACRequestAttributes.nonResource(
                verb: request.method.rawValue.lowercased(), path: rawPath.isEmpty ? "/" : rawPath)
            if let status = await authorize(attributes, user: user) { return Self.error(status) }
        }
        guard let first = segments.first else {
            let paths: [JSONValue] = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"]
            return Self.json(["paths": .array(paths)])
        }
        switch first {
        case "version":
            return Self.json(versionDocument())
        case "healthz", "livez", "readyz":
            return Self.text("ok")
        case "openapi":
            return await openAPI(Array(segments.dropFirst()))
        case "api", "apis":
            break
        case "_sim" where segments.count == 2 && segments[1] == "faults":
            return await faultsEndpoint(request)
        default:
            return Self.error(Self.notFoundStatus)
        }
        let registry = await storage.registry
        // Discovery endpoints.
        if first == "api" {
            if segments.count == 1 {
                if MediaNegotiation.wantsAggregatedDiscovery(accept) {
                    return Self.json(Discovery.aggregated(registry, core: true), contentType: Discovery.aggregatedContentType)
                }
                let host = request.head.authority ?? "\(configuration.host):\(configuration.port)"
                return Self.json(Discovery.apiVersions(serverAddress: host))
            }
            if segments.count == 2 {
                guard let doc = Discovery.resourceList(registry, group: "", version: segments[1]) else {
                    return Self.error(Self.notFoundStatus)
                }
                return Self.json(doc)
            }
            let version = segments[1]
            return await resource(
                request, registry: registry, group: "", version: version, rest: Array(segments.dropFirst(2)),
                query: query, user: user)
        }
        // /apis…
        if segments.count == 1 {
            if MediaNegotiation.wantsAggregatedDiscovery(accept) {
                return Self.json(Discovery.aggregated(registry, core: false), contentType: Discovery.aggregatedContentType)
            }
            return Self.json(Discovery.groupList(registry))
        }
        if segments.count == 2 {
            guard let doc = Discovery.groupDocument(registry, group: segments[1]) else {
                return Self.error(Self.notFoundStatus)
            }
            return Self.json(doc)
        }
        if segments.count == 3 {
            guard let doc = Discovery.resourceList(registry, group: segments[1], version: segments[2]) else {
                return Self.error(Self.notFoundStatus)
            }
            return Self.json(doc)
        }
        let group = segments[1]
        let version = segments[2]
        return await resource(
            request, registry: registry, group: group, version: version, rest: Array(segments.dropFirst(3)),
            query: query, user: user)
    }

    func versionDocument() -> JSONValue {
        let parts = configuration.gitVersion.dropFirst().split(separator: ".")
        let major = parts.first.map(String.init) ?? "1"
        let minor = parts.count > 1 ? String(parts[1]) : "32"
        return [
            "major": .string(major), "minor": .string(minor), "gitVersion": .string(configuration.gitVersion),
            "gitCommit": "clustersim", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64",
        ]
    }

    func openAPI(_ rest: [String]) async -> Response {
        guard let version = rest.first else { return Self.error(Self.notFoundStatus) }
        guard version == "v3" else { return Self.error(Self.notFoundStatus) }
        let registry = await storage.registry
        if rest.count == 1 { return Self.json(Discovery.openAPIRoot(registry)) }
        let doc: JSONValue?
        if rest.count == 3, rest[1] == "api" {
            doc = Discovery.openAPIDocument(registry, group: "", version: rest[2])
        } else if rest.count == 4, rest[1] == "apis" {
            doc = Discovery.openAPIDocument(registry, group: rest[2], version: rest[3])
        } else {
            doc = nil
        }
        guard let doc else { return Self.error(Self.notFoundStatus) }
        return Self.json(doc)
    }

    /// Routes `/api/v1/…` and `/apis/G/V/…` resource paths.
    func resource(
        _ request: Request, registry: ResourceRegistry, group: String, version: String, rest: [String],
        query: QueryParameters, user: RBACUser = .admin
    ) async -> Response {
        var rest = rest
        var watchPrefix = false
        if rest.first == "watch" {
            watchPrefix = true
            rest.removeFirst()
        }
        var namespace: String?
        if rest.count >= 3, rest[0] == "namespaces", rest[2] != "status", rest[2] != "finalize" {
            namespace = rest[1]
            rest.removeFirst(2)
        }
        guard let resourceName = rest.first,
            let info = registry.lookup(group: group, version: version, resource: resourceName)
        else { return Self.error(Self.notFoundStatus) }
        if namespace != nil && !info.descriptor.namespaced { return Self.error(Self.notFoundStatus) }
        let name = rest.count > 1 ? rest[1] : nil
        var subresource = rest.count > 2 ? rest[2] : nil
        var proxyPath = "/"
        if subresource == "proxy" {
            proxyPath = "/" + rest.dropFirst(3).joined(separator: "/")
            if request.uri.path.hasSuffix("/"), rest.count > 3 { proxyPath += "/" }
        } else if rest.count > 3 {
            return Self.error(Self.notFoundStatus)
        }
        if let sub = subresource, !info.subresources.contains(sub) { return Self.error(Self.notFoundStatus) }
        if info.descriptor.namespaced, name != nil, namespace == nil { return Self.error(Self.notFoundStatus) }
        if subresource == "" { subresource = nil }
        let method = request.method
        let verb: String
        switch (name, method) {
        case (nil, .get): verb = (watchPrefix || query.bool("watch") == true) ? "watch" : "list"
        case (nil, .post): verb = "create"
        case (nil, .delete): verb = "deletecollection"
        case (.some, .get): verb = subresource == "proxy" ? "get" : (watchPrefix ? "watch" : "get")
        case (.some, .put): verb = "update"
        case (.some, .patch): verb = "patch"
        case (.some, .delete): verb = "delete"
        case (.some, .post) where subresource == "proxy": verb = "create"
        default:
            return Self.error(.methodNotAllowed())
        }
        var query = query
        if watchPrefix, let name {
            // `/watch/…/NAME` is a watch with a name field selector.
            query.values["fieldSelector"] = "metadata.name=\(name)"
        }
        let rr = ResourceRequest(
            info: info, namespace: namespace, name: watchPrefix ? nil : name, subresource: subresource,
            proxyPath: proxyPath, verb: verb, query: query, headers: request.headers, method: method,
            contentType: request.headers[.contentType] ?? "", accept: request.headers[.accept] ?? "")

        if !user.isSuperUser {
            let isNamespaceObject = group.isEmpty && info.descriptor.resource == "namespaces"
            let attributes = RBACRequestAttributes.resource(
                verb: verb, group: group, resource: info.descriptor.resource, subresource: subresource ?? "",
                name: name ?? "", namespace: isNamespaceObject ? (name ?? "") : (namespace ?? ""))
            if let status = await authorize(attributes, user: user) { return Self.error(status) }
        }

        // Fault injection.
        let decision = await faults.decide(
            verb: verb, group: group, resource: info.descriptor.resource, subresource: subresource)
        if let latency = decision.rule?.latency { try? await Task.sleep(for: latency) }
        if decision.fail, let rule = decision.rule { return Self.error(rule.errorStatus()) }

        var request = request
        do {
            switch verb {
            case "list": return try await list(rr)
            case "watch":
                return try await watch(rr, drop: decision.rule?.watchDrop, expire: decision.expire)
            case "get":
                if subresource == "log" { return try await podLog(rr) }
                if subresource == "proxy" { return try await podProxy(rr, request: &request) }
                return try await get(rr)
            default:
                if subresource == "proxy" { return try await podProxy(rr, request: &request) }
                let body = try await collectBody(&request)
                switch verb {
                case "create": return try await create(rr, body: body)
                case "update": return try await update(rr, body: body)
                case "patch": return try await patch(rr, body: body)
                case "delete": return try await delete(rr, body: body)
                case "deletecollection": return try await deleteCollection(rr, body: body)
                default: return Self.error(.methodNotAllowed())
                }
            }
        } catch let status as APIStatus {
            return Self.error(status)
        } catch {
            return Self.error(.internalError(String(describing: error)))
        }
    }

    func collectBody(_ request: inout Request) async throws(APIStatus) -> [UInt8] {
        do {
            let buffer = try await request.collectBody(upTo: 64 * 1024 * 1024)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIStatus(code: 413, reason: "RequestEntityTooLarge", message: "the request body is too large")
        }
    }
}
