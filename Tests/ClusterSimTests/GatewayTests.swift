import AsyncHTTPClient
import Foundation
import KubeCore
import NIOCore
import Testing

@testable import ClusterSim

@Suite("Endpoints and route matching")
struct EndpointAndRouteTests {
    static func pod(
        _ name: String, namespace: String = "ns", labels: [String: JSONValue] = ["app": "a"], ready: Bool = true,
        ip: String? = "127.9.0.2", terminating: Bool = false, owner: JSONValue? = nil
    ) -> JSONValue {
        var pod: JSONValue = [
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": .object(labels)],
            "spec": ["containers": [["name": "c", "ports": [["name": "http", "containerPort": 8000]]]]],
            "status": [
                "phase": "Running",
                "conditions": [["type": "Ready", "status": .string(ready ? "True" : "False")]],
            ],
        ]
        if let ip { pod[path: ["status", "podIP"]] = .string(ip) }
        if terminating { pod[path: ["metadata", "deletionTimestamp"]] = "2025-01-01T00:00:00Z" }
        if let owner { pod[path: ["metadata", "ownerReferences"]] = [owner] }
        return pod
    }

    static func service(targetPort: JSONValue?, selector: JSONValue = ["app": "a"]) -> JSONValue {
        var port: JSONValue = ["port": 80]
        if let targetPort { port["targetPort"] = targetPort }
        return [
            "metadata": ["name": "svc", "namespace": "ns"], "spec": ["selector": selector, "ports": [port]],
        ]
    }

    @Test func selectorReadinessAndNamespace() throws {
        let pods = [
            Self.pod("ready"), Self.pod("unready", ready: false), Self.pod("terminating", terminating: true),
            Self.pod("other-ns", namespace: "elsewhere"), Self.pod("no-ip", ip: nil),
            Self.pod("other-app", labels: ["app": "b"]), Self.pod("extra-labels", labels: ["app": "a", "x": "y"]),
        ]
        let endpoints = try EndpointResolver.endpoints(service: Self.service(targetPort: nil), port: nil, pods: pods)
            .get()
        #expect(endpoints.map(\.pod) == ["extra-labels", "ready"])
        #expect(endpoints.allSatisfy { $0.port == 80 })
        let none = try EndpointResolver.endpoints(
            service: Self.service(targetPort: nil, selector: [:]), port: nil, pods: pods
        ).get()
        #expect(none.isEmpty)
        #expect(
            EndpointResolver.endpoints(service: Self.service(targetPort: nil), port: 81, pods: pods)
                == .failure(.noSuchPort(81)))
    }

    @Test(arguments: [
        (JSONValue?.none, Int?.some(80)), (JSONValue.int(8000), Int?.some(8000)),
        (JSONValue.string("http"), Int?.some(8000)), (JSONValue.string("9000"), Int?.some(9000)),
        (JSONValue.string("grpc"), Int?.none),
    ])
    func targetPort(target: JSONValue?, expected: Int?) throws {
        let endpoints = try EndpointResolver.endpoints(
            service: Self.service(targetPort: target), port: 80, pods: [Self.pod("p")]
        ).get()
        #expect(endpoints.first?.port == expected)
        #expect(endpoints.count == (expected == nil ? 0 : 1))
    }

    @Test func revisionFromOwner() {
        #expect(EndpointResolver.revision(of: Self.pod("p", owner: ["kind": "Deployment", "name": "rev-a"])) == "rev-a")
        var rs = Self.pod("p", owner: ["kind": "ReplicaSet", "name": "rev-b-5d8f9c7b6d"])
        rs[path: ["metadata", "labels", "pod-template-hash"]] = "5d8f9c7b6d"
        #expect(EndpointResolver.revision(of: rs) == "rev-b")
        #expect(EndpointResolver.revision(of: Self.pod("p")) == "")
    }

    static func route(
        _ name: String, created: String = "2025-01-01T00:00:00Z", hostnames: [String]? = nil, rules: [JSONValue]
    ) -> JSONValue {
        var spec: JSONValue = ["rules": .array(rules)]
        if let hostnames { spec["hostnames"] = .array(hostnames.map(JSONValue.string)) }
        return [
            "metadata": ["name": .string(name), "namespace": "ns", "creationTimestamp": .string(created)],
            "spec": spec,
        ]
    }

    static func rule(_ backend: String, path: (String, String)? = nil, headers: [(String, String)] = []) -> JSONValue {
        var match: [String: JSONValue] = [:]
        if let path { match["path"] = ["type": .string(path.0), "value": .string(path.1)] }
        if !headers.isEmpty {
            match["headers"] = .array(headers.map { ["name": .string($0.0), "value": .string($0.1)] })
        }
        return ["matches": [.object(match)], "backendRefs": [["name": .string(backend), "port": 80]]]
    }

    static let routes: [JSONValue] = [
        route(
            "api",
            rules: [
                rule("default"), rule("v1", path: ("PathPrefix", "/v1")),
                rule("models", path: ("Exact", "/v1/models")),
                rule("canary", path: ("PathPrefix", "/v1"), headers: [("x-canary", "yes")]),
            ]),
        route("hosted", hostnames: ["*.example.com"], rules: [rule("hosted", path: ("PathPrefix", "/v1/completions"))]),
    ]

    @Test(arguments: [
        ("GET", "/", [String: String](), "", "default"), ("GET", "/v1", [:], "", "v1"),
        ("POST", "/v1/completions", [:], "", "v1"), ("GET", "/v10", [:], "", "default"),
        ("GET", "/v1/models", [:], "", "models"), ("GET", "/v1/models?x=1", [:], "", "models"),
        ("POST", "/v1/completions", ["X-Canary": "yes"], "", "canary"),
        ("POST", "/v1/completions", ["x-canary": "no"], "", "v1"),
        ("POST", "/v1/completions", [:], "a.example.com:8080", "hosted"),
        ("POST", "/v1/completions", [:], "example.com", "v1"),
    ])
    func precedence(method: String, target: String, headers: [String: String], host: String, expected: String) {
        let request = RouteRequest(method: method, target: target, headers: headers, host: host)
        let match = RouteMatcher.match(request, routes: Self.routes)
        #expect(match?.backendRefs.first?.name == expected)
    }

    @Test func noMatchAndHostnameOnlyRoutes() {
        let hostOnly = [Self.route("h", hostnames: ["api.local"], rules: [Self.rule("x")])]
        #expect(RouteMatcher.match(RouteRequest(method: "GET", target: "/", host: "other"), routes: hostOnly) == nil)
        let local = RouteRequest(method: "GET", target: "/", host: "api.local")
        #expect(RouteMatcher.match(local, routes: hostOnly) != nil)
        #expect(RouteMatcher.match(RouteRequest(method: "GET", target: "/"), routes: []) == nil)
    }

    @Test func weightedChoice() {
        var random = SplitMix64(seed: 7)
        let refs = [
            HTTPBackendRef(name: "a", weight: 80), HTTPBackendRef(name: "b", weight: 20),
            HTTPBackendRef(name: "z", weight: 0),
        ]
        var counts = [0, 0, 0]
        for _ in 0..<10_000 {
            if let index = RouteMatcher.chooseBackend(refs, using: &random) { counts[index] += 1 }
        }
        #expect(counts[2] == 0)
        #expect(abs(counts[0] - 8_000) < 300)
        #expect(counts[0] + counts[1] == 10_000)
        #expect(RouteMatcher.chooseBackend([HTTPBackendRef(name: "a")], using: &random) == 0)  // default weight 1
        #expect(RouteMatcher.chooseBackend([HTTPBackendRef(name: "a", weight: 0)], using: &random) == nil)
        #expect(RouteMatcher.chooseBackend([], using: &random) == nil)
    }
}

/// An emulated cluster with the gateway, an HTTPRoute CRD and helpers to create revisions.
struct GatewayFixture {
    let cluster: EmulatedCluster
    let gatewayURL: String
    let client: HTTPClient

    static let routeCRD: JSONValue = [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": "httproutes.gateway.networking.k8s.io"],
        "spec": [
            "group": "gateway.networking.k8s.io", "scope": "Namespaced",
            "names": [
                "plural": "httproutes", "singular": "httproute", "kind": "HTTPRoute", "listKind": "HTTPRouteList",
            ],
            "versions": [
                [
                    "name": "v1", "served": true, "storage": true, "subresources": ["status": [:]],
                    "schema": [
                        "openAPIV3Schema": [
                            "type": "object",
                            "properties": [
                                "spec": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                                "status": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                            ],
                        ]
                    ],
                ]
            ],
        ],
    ]

    static func start(servingTimeScale: Double = 1) async throws -> GatewayFixture {
        var configuration = EmulatedCluster.Configuration(
            timeScale: 1000, gpuNodes: 2, defaultLoadSeconds: 30, defaultPullSeconds: 1,
            podAddressBase: "127.\(Int.random(in: 100...250)).\(Int.random(in: 1...250)).0",
            servingTimeScale: servingTimeScale, gatewayAddress: "127.0.0.1:0")
        configuration.api.port = 0
        let cluster = EmulatedCluster(configuration: configuration)
        _ = try await cluster.start()
        if await cluster.storage.registry.lookup(.httpRoutes) == nil {
            _ = try await cluster.storage.create(.customResourceDefinitions, Self.routeCRD)
        }
        let url = try #require(await cluster.gatewayURL())
        return GatewayFixture(cluster: cluster, gatewayURL: url, client: HTTPClient.shared)
    }

    func shutdown() async {
        _ = client
        await cluster.stop()
    }

    /// A Deployment `name` (label app=name) of simulated vLLM serving model "m" and its Service `name`.
    func revision(
        _ name: String, replicas: Int = 1, probe: JSONValue = WorkloadControllerTests.modelsProbe,
        annotations: JSONValue = [:]
    ) async throws {
        var deployment = WorkloadControllerTests.deployment(
            name: name, replicas: replicas, probe: probe, annotations: annotations)
        deployment[path: ["metadata", "namespace"]] = "llm-serving"
        var container = deployment[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first ?? [:]
        container["args"] = ["--model", "org/model", "--served-model-name", "m"]
        deployment[path: ["spec", "template", "spec", "containers"]] = [container]
        _ = try await cluster.storage.create(.deployments, deployment)
        let service: JSONValue = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(name), "namespace": "llm-serving"],
            "spec": ["selector": ["app": .string(name)], "ports": [["port": 80, "targetPort": "http"]]],
        ]
        _ = try await cluster.storage.create(.services, service)
    }

    func readyPods(_ app: String) async -> Int {
        await cluster.storage.list(.pods, namespace: "llm-serving").filter {
            $0[path: ["metadata", "labels", "app"]]?.stringValue == app && EndpointResolver.isReady($0)
        }.count
    }

    /// Creates or replaces the HTTPRoute `llm` with weighted backends.
    func route(_ backends: [(String, Int)]) async throws {
        let refs: [JSONValue] = backends.map { ["name": .string($0.0), "port": 80, "weight": .int(Int64($0.1))] }
        var route: JSONValue = [
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": ["name": "llm", "namespace": "llm-serving"],
            "spec": [
                "parentRefs": [["name": "sim-gateway"]],
                "rules": [["matches": [["path": ["type": "PathPrefix", "value": "/v1"]]], "backendRefs": .array(refs)]],
            ],
        ]
        if let existing = await cluster.storage.get(.httpRoutes, namespace: "llm-serving", name: "llm") {
            route["metadata"] = existing["metadata"] ?? [:]
            _ = try await cluster.storage.update(.httpRoutes, route, subresource: nil)
        } else {
            _ = try await cluster.storage.create(.httpRoutes, route)
        }
    }

    func get(_ path: String) async throws -> (status: Int, headers: [String: String], body: String) {
        let response = try await client.execute(HTTPClientRequest(url: gatewayURL + path), timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        var headers: [String: String] = [:]
        for (name, value) in response.headers { headers[name.lowercased()] = value }
        return (Int(response.status.code), headers, String(buffer: bytes))
    }
}

@Suite("Gateway over the emulated cluster", .serialized)
struct GatewayTests {
    @Test(.timeLimit(.minutes(1)))
    func weightedSplitZeroWeightAndRouteChanges() async throws {
        let fixture = try await GatewayFixture.start()
        try await fixture.revision("rev-a", replicas: 2)
        try await fixture.revision("rev-b")
        #expect(
            await eventually {
                let a = await fixture.readyPods("rev-a")
                let b = await fixture.readyPods("rev-b")
                return a == 2 && b == 1
            })
        try await fixture.route([("rev-a", 80), ("rev-b", 20)])
        #expect(await eventually { (try? await fixture.get("/v1/models").status) == 200 })
        let before = try #require(await fixture.cluster.gateway?.snapshot())

        var counts: [String: Int] = [:]
        var pods = Set<String>()
        try await withThrowingTaskGroup(of: (Int, [String: String]).self) { group in
            for index in 0..<300 {
                if index >= 30 {
                    let (status, headers) = try #require(try await group.next())
                    #expect(status == 200)
                    counts[headers["x-sim-revision"] ?? "?", default: 0] += 1
                    pods.insert(headers["x-sim-pod"] ?? "")
                }
                group.addTask {
                    let reply = try await fixture.get("/v1/models")
                    return (reply.status, reply.headers)
                }
            }
            for try await (status, headers) in group {
                #expect(status == 200)
                counts[headers["x-sim-revision"] ?? "?", default: 0] += 1
                pods.insert(headers["x-sim-pod"] ?? "")
            }
        }
        #expect(counts.values.reduce(0, +) == 300)
        #expect(abs((counts["rev-a"] ?? 0) - 240) <= 35)
        #expect(pods.count == 3)  // both rev-a pods and the rev-b pod served
        let stats = try #require(await fixture.cluster.gateway?.snapshot())
        #expect(stats.requests - before.requests == 300)
        #expect(
            (stats.byBackend["llm-serving/rev-a"] ?? 0) - (before.byBackend["llm-serving/rev-a"] ?? 0)
                == counts["rev-a"])
        #expect((stats.byRevision["rev-b"] ?? 0) - (before.byRevision["rev-b"] ?? 0) == counts["rev-b"])
        #expect((stats.byStatus[200] ?? 0) - (before.byStatus[200] ?? 0) == 300)
        #expect(stats.requestsToUnloadedPods == 0)

        // Weight 0 is never chosen, and a route change is seen at once.
        try await fixture.route([("rev-a", 0), ("rev-b", 1)])
        #expect(
            await eventually(within: 10) { (try? await fixture.get("/v1/models").headers["x-sim-revision"]) == "rev-b" })
        for _ in 0..<40 {
            #expect(try await fixture.get("/v1/models").headers["x-sim-revision"] == "rev-b")
        }
        // All weights 0: Envoy's 500.
        try await fixture.route([("rev-a", 0), ("rev-b", 0)])
        #expect(await eventually(within: 10) { (try? await fixture.get("/v1/models").status) == 500 })
        // Outside the route's /v1 prefix: 404.
        let unrouted = try await fixture.get("/health")
        #expect(unrouted.status == 404)
        #expect(unrouted.body == "no route")
        await fixture.shutdown()
    }

    @Test(.timeLimit(.minutes(1)))
    func backendWithoutReadyEndpointsAnswers503() async throws {
        let fixture = try await GatewayFixture.start()
        let slow: JSONValue = [SimAnnotations.loadSeconds: "1000000"]
        try await fixture.revision("loading", annotations: slow)
        try await fixture.route([("loading", 1)])
        #expect(
            await eventually {
                let reply = try? await fixture.get("/v1/models")
                return reply?.status == 503 && reply?.body == "no healthy upstream"
            })
        #expect(await fixture.readyPods("loading") == 0)
        await fixture.shutdown()
    }

    @Test(.timeLimit(.minutes(1)))
    func processProbedPodStillLoadingCountsAsUnloaded() async throws {
        let fixture = try await GatewayFixture.start()
        let slow: JSONValue = [SimAnnotations.loadSeconds: "1000000"]
        try await fixture.revision("tcp", probe: WorkloadControllerTests.tcpProbe, annotations: slow)
        #expect(await eventually { await fixture.readyPods("tcp") == 1 })
        try await fixture.route([("tcp", 1)])
        let reply = try await fixture.get("/v1/models")
        // Ready by its TCP probe, but vLLM does not listen until the model is loaded: connection refused.
        #expect(reply.status == 503)
        #expect(reply.headers["x-sim-model-loaded"] == "false")
        #expect(reply.headers["x-sim-revision"] == "tcp")
        let stats = try #require(await fixture.cluster.gateway?.snapshot())
        #expect(stats.requestsToUnloadedPods == 1)
        #expect(stats.upstreamFailures == 1)
        #expect(stats.byStatus[503] == 1)
        await fixture.shutdown()
    }

    @Test(.timeLimit(.minutes(1)))
    func streamingFlowsThroughTheGateway() async throws {
        let fixture = try await GatewayFixture.start()
        try await fixture.revision("stream")
        #expect(await eventually { await fixture.readyPods("stream") == 1 })
        try await fixture.route([("stream", 1)])
        var request = HTTPClientRequest(url: fixture.gatewayURL + "/v1/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let body: JSONValue = ["model": "m", "prompt": "hello", "max_tokens": 20, "stream": true]
        request.body = .bytes(ByteBuffer(bytes: body.jsonBytes))
        let began = ContinuousClock.now
        let response = try await fixture.client.execute(request, timeout: .seconds(10))
        #expect(response.status.code == 200)
        #expect(response.headers.first(name: "x-sim-model-loaded") == "true")
        #expect(response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
        var firstChunkAt: Duration?
        var text = ""
        for try await chunk in response.body {
            if firstChunkAt == nil { firstChunkAt = ContinuousClock.now - began }
            text += String(buffer: chunk)
        }
        let total = ContinuousClock.now - began
        #expect(text.components(separatedBy: "data: ").count - 1 == 22)  // 20 tokens, the final chunk, [DONE]
        #expect(text.hasSuffix("data: [DONE]\n\n"))
        // 30 ms prefill then 19 × 12 ms of decoding: the first token arrives long before the end.
        let first = try #require(firstChunkAt)
        #expect(total >= .milliseconds(250))
        #expect(first < total - .milliseconds(150))
        await fixture.shutdown()
    }

    @Test(.timeLimit(.minutes(1)))
    func withoutTheRouteResourceEveryRequestIs404() async throws {
        let storage = ObjectStorage()
        let gateway = Gateway(store: storage)
        let url = try await gateway.start()
        let client = HTTPClient.shared
        let response = try await client.execute(HTTPClientRequest(url: url + "/v1/models"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1024)
        if await storage.registry.lookup(.httpRoutes) == nil {
            #expect(response.status.code == 404)
            #expect(String(buffer: body) == "no route")
        }
        #expect(await gateway.snapshot().requests == 1)
        _ = client
        await gateway.stop()
    }
}
