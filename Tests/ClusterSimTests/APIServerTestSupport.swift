import AsyncHTTPClient
import Foundation
import KubeCore
import NIOCore
import NIOHTTP1
import NIOSSL

@testable import ClusterSim

/// An HTTP reply as the tests see it.
struct TestReply {
    var status: Int
    var headers: HTTPHeaders
    var body: String
    var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
}

/// A started API server plus an HTTP client talking to it.
struct TestCluster {
    let server: APIServer
    let client: HTTPClient
    let base: String

    static func with<T>(
        _ configuration: APIServer.Configuration = APIServer.Configuration(),
        trustCA: Bool = false, _ body: (TestCluster) async throws -> T
    ) async throws -> T {
        let server = APIServer(configuration: configuration)
        let address = try await server.start()
        var clientConfig = HTTPClient.Configuration()
        if configuration.tls, let ca = await server.caPEM {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.utf8)))
            if !trustCA { tls.certificateVerification = .none }
            clientConfig.tlsConfiguration = tls
        }
        clientConfig.timeout = .init(connect: .seconds(5), read: .seconds(10))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfig)
        let cluster = TestCluster(server: server, client: client, base: address.url)
        do {
            let result = try await body(cluster)
            await server.stop()
            try await client.shutdown()
            return result
        } catch {
            await server.stop()
            try? await client.shutdown()
            throw error
        }
    }

    func request(
        _ method: NIOHTTP1.HTTPMethod = .GET, _ path: String, body: String? = nil, contentType: String? = "application/json",
        headers: [(String, String)] = []
    ) async throws -> TestReply {
        var req = HTTPClientRequest(url: base + path)
        req.method = method
        if let body {
            req.body = .bytes(ByteBuffer(string: body))
            if let contentType { req.headers.add(name: "Content-Type", value: contentType) }
        }
        for (k, v) in headers { req.headers.add(name: k, value: v) }
        let response = try await client.execute(req, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return TestReply(
            status: Int(response.status.code), headers: response.headers, body: String(buffer: buffer))
    }

    func json(_ method: NIOHTTP1.HTTPMethod = .GET, _ path: String, _ body: JSONValue? = nil,
        contentType: String = "application/json", headers: [(String, String)] = []) async throws -> TestReply
    {
        try await request(method, path, body: body?.serialized(), contentType: contentType, headers: headers)
    }

    /// Reads newline-delimited watch events until `count` arrived or the stream ends / `seconds` pass.
    /// `afterStart` runs once the response head arrived (to make changes the watch should see).
    func watch(
        _ path: String, count: Int, seconds: Int64 = 5, headers: [(String, String)] = [],
        afterStart: @Sendable () async throws -> Void = {}
    ) async throws -> [JSONValue] {
        var req = HTTPClientRequest(url: base + path)
        for (k, v) in headers { req.headers.add(name: k, value: v) }
        let response = try await client.execute(req, deadline: .now() + .seconds(seconds))
        try await afterStart()
        var events: [JSONValue] = []
        var pending: [UInt8] = []
        do {
            for try await chunk in response.body {
                pending.append(contentsOf: chunk.readableBytesView)
                while let nl = pending.firstIndex(of: 0x0A) {
                    let line = Array(pending[..<nl])
                    pending.removeSubrange(...nl)
                    if let event = try? JSONValue.parse(line) { events.append(event) }
                }
                if events.count >= count { break }
            }
        } catch {
            // deadline reached: return what arrived
        }
        return events
    }
}

/// A fixed log source for `pods/log` tests.
struct FixedLogSource: ContainerLogSource {
    var lines: [String: String]

    func logStream(namespace: String, pod: String, container: String, query: LogQuery) async -> AsyncStream<[UInt8]>? {
        guard var text = lines[container] else { return nil }
        if let tail = query.tailLines {
            text = text.split(separator: "\n").suffix(tail).map { $0 + "\n" }.joined()
        }
        let bytes = Array(text.utf8)
        return AsyncStream { continuation in
            continuation.yield(bytes)
            continuation.finish()
        }
    }
}

let widgetCRD: JSONValue = [
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": ["name": "widgets.example.com"],
    "spec": [
        "group": "example.com", "scope": "Namespaced",
        "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]],
        "versions": [
            [
                "name": "v1", "served": true, "storage": true,
                "schema": [
                    "openAPIV3Schema": [
                        "type": "object",
                        "properties": [
                            "spec": [
                                "type": "object",
                                "properties": [
                                    "model": ["type": "string"],
                                    "replicas": ["type": "integer", "default": 1, "minimum": 0],
                                ],
                            ],
                            "status": [
                                "type": "object",
                                "properties": ["replicas": ["type": "integer"], "ready": ["type": "string"]],
                            ],
                        ],
                    ]
                ],
                "subresources": [
                    "status": [:],
                    "scale": ["specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"],
                ],
                "additionalPrinterColumns": [
                    ["name": "Model", "type": "string", "jsonPath": ".spec.model"],
                    ["name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"],
                ],
            ]
        ],
    ],
]

func widget(_ name: String, model: String = "m1", extra: [String: JSONValue] = [:]) -> JSONValue {
    var spec: [String: JSONValue] = ["model": .string(model)]
    for (k, v) in extra { spec[k] = v }
    return [
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": .string(name)],
        "spec": .object(spec),
    ]
}

func configMap(_ name: String, data: [String: JSONValue] = ["a": "1"], labels: [String: JSONValue] = [:]) -> JSONValue {
    ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "labels": .object(labels)],
     "data": .object(data)]
}
