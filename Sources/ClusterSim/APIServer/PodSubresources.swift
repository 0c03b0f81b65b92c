import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import KubeCore
import NIOCore
import NIOHTTP1
import NIOPosix

extension APIHandler {
    /// `pods/log`: container defaulting and validation, then the bytes from the `ContainerLogSource`.
    func podLog(_ rr: ResourceRequest) async throws -> Response {
        let pod = try await current(rr)
        let podName = rr.name ?? ""
        let containers = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let others = ((pod[path: ["spec", "initContainers"]]?.arrayValue ?? [])
            + (pod[path: ["spec", "ephemeralContainers"]]?.arrayValue ?? [])).compactMap { $0["name"]?.stringValue }
        var container = rr.query["container"] ?? ""
        if container.isEmpty {
            if containers.count == 1 {
                container = containers[0]
            } else {
                let all = (containers + others).joined(separator: " ")
                throw APIStatus.badRequest(
                    "a container name must be specified for pod \(podName), choose one of: [\(all)]")
            }
        } else if !(containers + others).contains(container) {
            throw APIStatus.badRequest("container \(container) is not valid for pod \(podName)")
        }
        var query = LogQuery()
        query.follow = rr.query.bool("follow") ?? false
        query.previous = rr.query.bool("previous") ?? false
        query.timestamps = rr.query.bool("timestamps") ?? false
        query.sinceSeconds = try rr.query.int("sinceSeconds")
        query.tailLines = try rr.query.int("tailLines")
        query.limitBytes = try rr.query.int("limitBytes")
        if let since = rr.query["sinceTime"], !since.isEmpty {
            guard let date = KubeTime.parse(since) else {
                throw APIStatus.badRequest("sinceTime: Invalid value: \"\(since)\": must be RFC3339")
            }
            query.sinceTime = date
        }
        if query.sinceSeconds != nil && query.sinceTime != nil {
            throw APIStatus(
                code: 422, reason: "Invalid",
                message: "PodLogOptions \"\(podName)\" is invalid: sinceSeconds: Forbidden: at most one of "
                    + "`sinceTime` or `sinceSeconds` may be specified")
        }
        if let s = query.sinceSeconds, s < 1 {
            throw APIStatus(code: 422, reason: "Invalid",
                message: "PodLogOptions \"\(podName)\" is invalid: sinceSeconds: Invalid value: \(s): must be greater than 0")
        }
        let namespace = rr.namespace ?? ""
        guard let source = configuration.logSource,
            let stream = await source.logStream(namespace: namespace, pod: podName, container: container, query: query)
        else {
            throw APIStatus.badRequest(
                "container \"\(container)\" in pod \"\(podName)\" is waiting to start: ContainerCreating")
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain"
        let body = ResponseBody { writer in
            for await chunk in stream {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Splits `[scheme:]name[:port]`.
    static func splitSchemeNamePort(_ id: String) -> (scheme: String, name: String, port: String)? {
        let parts = id.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1: return ("", parts[0], "")
        case 2: return ("", parts[0], parts[1])
        case 3:
            guard parts[0] == "http" || parts[0] == "https" else { return nil }
            return (parts[0], parts[1], parts[2])
        default: return nil
        }
    }

    /// `pods/proxy`: forwards the request to `podIP:port` (pods are simulated on 127.x.y.z addresses).
    func podProxy(_ rr: ResourceRequest, request: inout Request) async throws -> Response {
        guard let id = rr.name, let (scheme, name, portText) = Self.splitSchemeNamePort(id), !name.isEmpty else {
            throw APIStatus.badRequest("invalid pod request \(rr.name ?? "")")
        }
        var target = rr
        target.name = name
        let pod = try await current(target)
        guard let ip = pod[path: ["status", "podIP"]]?.stringValue, !ip.isEmpty else {
            throw APIStatus.serviceUnavailable("pod \(name) does not have an IP address yet")
        }
        var port = Int(portText)
        if port == nil, !portText.isEmpty {
            // A named container port.
            for c in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
                for p in c["ports"]?.arrayValue ?? [] where p["name"]?.stringValue == portText {
                    port = p["containerPort"]?.intValue.map { Int($0) }
                }
            }
            if port == nil { throw APIStatus.badRequest("no such port \(portText) on pod \(name)") }
        }
        if port == nil {
            port = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).lazy.compactMap {
                $0["ports"]?.arrayValue?.first?["containerPort"]?.intValue
            }.first.map { Int($0) }
        }
        guard let port else { throw APIStatus.badRequest("pod \(name) declares no container port to proxy to") }
        var url = "\(scheme.isEmpty ? "http" : scheme)://\(ip):\(port)\(rr.proxyPath)"
        var forwarded = rr.query.values
        forwarded.removeValue(forKey: "")
        if let q = request.uri.query, !q.isEmpty { url += "?" + q }
        var outbound = HTTPClientRequest(url: url)
        outbound.method = NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers {
            let lower = field.name.canonicalName
            if ["host", "authorization", "connection", "transfer-encoding", "content-length"].contains(lower) { continue }
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        let body = try await collectBody(&request)
        // AsyncHTTPClient retries refused connections until the deadline; probe once so an unreachable pod
        // answers 503 at once, like the real server.
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(2)).connect(host: ip, port: port).get()
            try? await channel.close()
        } catch {
            throw APIStatus.serviceUnavailable("error trying to reach service: dial tcp \(ip):\(port): \(error)")
        }
        if !body.isEmpty { outbound.body = .bytes(ByteBuffer(bytes: body)) }
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(outbound, timeout: .seconds(Int64(configuration.proxyTimeout.components.seconds)))
        } catch {
            throw APIStatus.serviceUnavailable("error trying to reach service: dial tcp \(ip):\(port): \(error)")
        }
        var headers = HTTPFields()
        for (name, value) in response.headers {
            let lower = name.lowercased()
            if ["connection", "transfer-encoding", "content-length"].contains(lower) { continue }
            if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
        }
        let upstream = response.body
        let out = ResponseBody { writer in
            for try await chunk in upstream { try await writer.write(chunk) }
            try await writer.finish(nil)
        }
        return Response(status: HTTPResponse.Status(code: Int(response.status.code)), headers: headers, body: out)
    }
}
