import ClusterSim
import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore
import Testing

@testable import ModelRolloutController

/// A minimal Gateway API HTTPRoute CRD (the schema keeps any spec).
private let httpRouteCRD: JSONValue = [
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": ["name": "httproutes.gateway.networking.k8s.io"],
    "spec": [
        "group": "gateway.networking.k8s.io", "scope": "Namespaced",
        "names": ["plural": "httproutes", "singular": "httproute", "kind": "HTTPRoute", "listKind": "HTTPRouteList"],
        "versions": [
            [
                "name": "v1", "served": true, "storage": true,
                "schema": [
                    "openAPIV3Schema": [
                        "type": "object",
                        "properties": [
                            "spec": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                            "status": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                        ],
                    ]
                ],
                "subresources": ["status": [:]],
            ]
        ],
    ],
]

/// Runs an action before the first `count` PUTs of HTTPRoutes: a concurrent writer getting in between.
actor PutInterference {
    private var remaining: Int
    private let action: @Sendable () async throws -> Void
    private(set) var fired = 0

    init(count: Int, action: @escaping @Sendable () async throws -> Void) {
        remaining = count
        self.action = action
    }

    func beforePut() async throws {
        guard remaining > 0 else { return }
        remaining -= 1
        fired += 1
        try await action()
    }
}

/// A transport that lets `PutInterference` act before route PUTs reach the server.
struct InterferingTransport: HTTPTransport {
    let inner: AsyncHTTPClientTransport
    let interference: PutInterference

    func send(_ request: APIRequest, timeout: Double?) async throws -> HTTPResponse {
        if request.method == .PUT && request.path.contains("/httproutes/") { try await interference.beforePut() }
        return try await inner.send(request, timeout: timeout)
    }
}

@Suite("Route weight writer")
struct RouteWeightWriterTests {
    static let key = ObjectKey(namespace: "llm-serving", name: "llm-chat")

    static func setUp(_ kube: KubernetesClient) async throws {
        // Newer emulated clusters install the Gateway API CRD themselves.
        let crds = kube.dynamic(.customResourceDefinitions)
        if try await crds.getIfExists("httproutes.gateway.networking.k8s.io") == nil {
            _ = try await crds.create(DynamicObject(raw: httpRouteCRD))
        }
        let route = HTTPRoute(
            metadata: ObjectMeta(name: "llm-chat", namespace: "llm-serving"),
            spec: HTTPRouteSpec(
                parentRefs: [ParentReference(name: "gateway")], hostnames: ["chat.example.com"],
                rules: [
                    HTTPRouteRule(
                        matches: [["path": ["type": "PathPrefix", "value": "/v1"]]],
                        backendRefs: [
                            HTTPBackendRef(name: "vllm-r1", port: 8000, weight: 100),
                            HTTPBackendRef(name: "shadow", port: 9000, weight: 0),
                        ])
                ]))
        _ = try await kube.resources(HTTPRoute.self).create(route)
    }

    static func refs(_ route: HTTPRoute) -> [String] {
        route.spec.rules.first?.backendRefs.map { "\($0.name):\($0.port ?? 0)@\($0.weight ?? -1)" } ?? []
    }

    @Test(.timeLimit(.minutes(1)))
    func writesWeightsAddsTheCandidateAndIsIdempotent() async throws {
        try await GatherTestCluster.with(workloads: false) { _, kube in
            try await Self.setUp(kube)
            let writer = RouteWeightWriter(kube: kube)
            let first = try await writer.write(route: Self.key, desired: ["vllm-r1": 90, "vllm-r2": 10])
            guard case .updated(let route, let attempts) = first else {
                Issue.record("expected an update, got \(first)")
                return
            }
            #expect(attempts == 1)
            #expect(Self.refs(route) == ["vllm-r1:8000@90", "shadow:9000@0", "vllm-r2:8000@10"])
            let stored = try await kube.resources(HTTPRoute.self).get("llm-chat")
            #expect(Self.refs(stored) == Self.refs(route))
            #expect(stored.spec.hostnames == ["chat.example.com"])

            let again = try await writer.write(route: Self.key, desired: ["vllm-r1": 90, "vllm-r2": 10])
            #expect(again == .unchanged(stored))

            // Promotion: the old revision leaves the route; the unmanaged backend stays as it was.
            let promoted = try await writer.write(route: Self.key, desired: ["vllm-r1": nil, "vllm-r2": 100])
            #expect(Self.refs(promoted.route) == ["shadow:9000@0", "vllm-r2:8000@100"])
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aConcurrentWriterCausesAConflictThatIsRetried() async throws {
        try await GatherTestCluster.with(workloads: false) { cluster, kube in
            try await Self.setUp(kube)
            let interference = PutInterference(count: 1) {
                var route = try await kube.resources(HTTPRoute.self).get("llm-chat")
                route.spec.hostnames = ["chat.example.com", "chat.internal"]
                _ = try await kube.resources(HTTPRoute.self).update(route)
            }
            let address = try #require(await cluster.apiServer.address)
            let inner = try AsyncHTTPClientTransport(server: address.url)
            let writerClient = try KubernetesClient(
                configuration: ClientConfiguration(server: address.url, namespace: "llm-serving"),
                transport: InterferingTransport(inner: inner, interference: interference))
            defer { Task { try? await inner.shutdown() } }
            let outcome = try await RouteWeightWriter(kube: writerClient).write(
                route: Self.key, desired: ["vllm-r1": 50, "vllm-r2": 50])
            guard case .updated(let route, let attempts) = outcome else {
                Issue.record("expected an update, got \(outcome)")
                return
            }
            #expect(attempts == 2)
            #expect(await interference.fired == 1)
            let stored = try await kube.resources(HTTPRoute.self).get("llm-chat")
            #expect(stored == route)
            #expect(stored.spec.hostnames == ["chat.example.com", "chat.internal"])
            #expect(Self.refs(stored) == ["vllm-r1:8000@50", "shadow:9000@0", "vllm-r2:8000@50"])
            // The PUTs carried the resourceVersion that was read: the first one was refused.
            let puts = await cluster.apiServer.requestLog().filter {
                $0.method == "PUT" && $0.path.hasSuffix("/httproutes/llm-chat")
            }
            #expect(puts.map(\.status) == [200, 409, 200])
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func persistentConflictsGiveUp() async throws {
        try await GatherTestCluster.with(workloads: false) { cluster, kube in
            try await Self.setUp(kube)
            let interference = PutInterference(count: 100) {
                var route = try await kube.resources(HTTPRoute.self).get("llm-chat")
                route.metadata.labels = ["touched": UUID().uuidString.prefix(8).lowercased()]
                _ = try await kube.resources(HTTPRoute.self).update(route)
            }
            let address = try #require(await cluster.apiServer.address)
            let inner = try AsyncHTTPClientTransport(server: address.url)
            let writerClient = try KubernetesClient(
                configuration: ClientConfiguration(server: address.url, namespace: "llm-serving"),
                transport: InterferingTransport(inner: inner, interference: interference))
            defer { Task { try? await inner.shutdown() } }
            do {
                _ = try await RouteWeightWriter(kube: writerClient, maxAttempts: 3).write(
                    route: Self.key, desired: ["vllm-r1": 50, "vllm-r2": 50])
                Issue.record("expected a conflict error")
            } catch let error as RouteWriteError {
                #expect(error.reason == .conflict(attempts: 3))
                #expect(error.description.contains("llm-serving/llm-chat"))
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func missingRoutesAndUnmanagedRoutesAreClearErrors() async throws {
        try await GatherTestCluster.with(workloads: false) { _, kube in
            try await Self.setUp(kube)
            let writer = RouteWeightWriter(kube: kube)
            await #expect(throws: RouteWriteError.self) {
                try await writer.write(route: ObjectKey(namespace: "llm-serving", name: "nope"), desired: ["a": 1])
            }
            do {
                _ = try await writer.write(route: ObjectKey(namespace: "llm-serving", name: "nope"), desired: ["a": 1])
            } catch let error as RouteWriteError {
                #expect(error.reason == .routeNotFound)
            }
            do {
                _ = try await writer.write(route: Self.key, desired: ["other-r1": 100])
                Issue.record("expected an error")
            } catch let error as RouteWriteError {
                #expect(error.reason == .weights(.noManagedRule(route: "llm-chat", services: ["other-r1"])))
                #expect(error.description.contains("no rule with a backendRef"))
            }
            // Nothing was written.
            let stored = try await kube.resources(HTTPRoute.self).get("llm-chat")
            #expect(Self.refs(stored) == ["vllm-r1:8000@100", "shadow:9000@0"])
        }
    }
}
