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

    static func pool(matchLabels: JSONValue, targetPorts: [Int] = [8000], namespace: String = "ns") -> JSONValue {
        [
            "metadata": ["name": "pool", "namespace": .string(namespace)],
            "spec": [
                "selector": ["matchLabels": matchLabels],
                "targetPorts": .array(targetPorts.map { ["number": .int(Int64($0))] }),
            ],
        ]
    }

    @Test func poolMembersAreTheReadyPodsTheSelectorMatches() {
        let pods = [
            Self.pod("ready", labels: ["app": "a", "pool": "p"]),
            Self.pod("unready", labels: ["app": "a", "pool": "p"], ready: false),
            Self.pod("terminating", labels: ["pool": "p"], terminating: true),
            Self.pod("other-ns", namespace: "elsewhere", labels: ["pool": "p"]),
            Self.pod("no-ip", labels: ["pool": "p"], ip: nil), Self.pod("other-pool", labels: ["pool": "q"]),
            Self.pod("b-ready", labels: ["pool": "p"], owner: ["kind": "Deployment", "name": "rev-b"]),
        ]
        let members = EndpointResolver.endpoints(pool: Self.pool(matchLabels: ["pool": "p"]), pods: pods)
        #expect(members.map(\.pod) == ["b-ready", "ready"])
        #expect(members.allSatisfy { $0.port == 8000 && $0.namespace == "ns" })
        #expect(members.first?.revision == "rev-b")
        // The first target port is the one served; every label of the selector must match.
        let second = EndpointResolver.endpoints(
            pool: Self.pool(matchLabels: ["pool": "p", "app": "a"], targetPorts: [9000, 8000]), pods: pods)
        #expect(second.map(\.pod) == ["ready"])
        #expect(second.first?.port == 9000)
        // An empty selector or no target port selects nothing.
        #expect(EndpointResolver.endpoints(pool: Self.pool(matchLabels: [:]), pods: pods).isEmpty)
        #expect(EndpointResolver.endpoints(pool: Self.pool(matchLabels: ["pool": "p"], targetPorts: []), pods: pods)
            .isEmpty)
    }

    struct PickCase: Sendable, CustomTestStringConvertible {
        var name: String
        /// Per candidate: the queue (nil: unknown) and the gateway's in-flight count.
        var candidates: [(queue: PodQueueState?, inFlight: Int)]
        /// The pods (`p0`, `p1`, ...) that tie for the best score.
        var best: [String]
        var testDescription: String { name }
    }

    @Test(arguments: [
        PickCase(
            name: "fewest waiting wins over fewer running",
            candidates: [(PodQueueState(waiting: 2, running: 0), 0), (PodQueueState(waiting: 0, running: 9), 0)],
            best: ["p1"]),
        PickCase(
            name: "then fewest running",
            candidates: [(PodQueueState(waiting: 1, running: 3), 0), (PodQueueState(waiting: 1, running: 2), 5)],
            best: ["p1"]),
        PickCase(
            name: "then fewest in flight",
            candidates: [(PodQueueState(waiting: 0, running: 1), 2), (PodQueueState(waiting: 0, running: 1), 1)],
            best: ["p1"]),
        PickCase(
            name: "full tie", candidates: [(PodQueueState(waiting: 0, running: 0), 0), (nil, 0), (nil, 0)],
            best: ["p0", "p1", "p2"]),
        PickCase(
            name: "unknown queue: in flight counts as running",
            candidates: [(nil, 3), (nil, 1), (PodQueueState(waiting: 0, running: 2), 0)], best: ["p1"]),
        PickCase(name: "no candidates", candidates: [], best: []),
    ])
    func endpointPickerScoring(_ c: PickCase) {
        let candidates = c.candidates.enumerated().map { index, load in
            EndpointPicker.Candidate(
                endpoint: ServiceEndpoint(namespace: "ns", pod: "p\(index)", ip: "127.9.0.\(index + 2)", port: 8000,
                    revision: "r"),
                queue: load.queue, inFlight: load.inFlight)
        }
        #expect(EndpointPicker.best(candidates).map(\.endpoint.pod) == c.best)
        var random = SplitMix64(seed: 1)
        for _ in 0..<20 {
            let picked = EndpointPicker.pick(candidates, using: &random)
            #expect(picked.map { c.best.contains($0.pod) } ?? c.best.isEmpty)
        }
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

    /// A Deployment `name` (pod labels app=name plus `labels`) of simulated vLLM serving model "m" and, unless
    /// `service` is false, its Service `name`.
    func revision(
        _ name: String, replicas: Int = 1, probe: JSONValue = WorkloadControllerTests.modelsProbe,
        annotations: JSONValue = [:], labels: [String: JSONValue] = [:], service withService: Bool = true
    ) async throws {
        var deployment = WorkloadControllerTests.deployment(
            name: name, replicas: replicas, probe: probe, annotations: annotations)
        deployment[path: ["metadata", "namespace"]] = "llm-serving"
        var container = deployment[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first ?? [:]
        container["args"] = ["--model", "org/model", "--served-model-name", "m"]
        deployment[path: ["spec", "template", "spec", "containers"]] = [container]
        for (key, value) in labels { deployment[path: ["spec", "template", "metadata", "labels", key]] = value }
        _ = try await cluster.storage.create(.deployments, deployment)
        guard withService else { return }
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

    /// An InferencePool `name` of the pods labelled `matchLabels`, serving on port 8000 (the simulated vLLM's).
    func pool(_ name: String, matchLabels: [String: JSONValue]) async throws {
        let pool: JSONValue = [
            "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
            "metadata": ["name": .string(name), "namespace": "llm-serving"],
            "spec": [
                "selector": ["matchLabels": .object(matchLabels)], "targetPorts": [["number": 8000]],
                "endpointPickerRef": ["name": .string(name + "-epp"), "port": ["number": 9002]],
            ],
        ]
        _ = try await cluster.storage.create(.inferencePools, pool)
    }

    /// Pods of the pool's selector that are Ready.
    func readyMembers(_ matchLabels: [String: String]) async -> [String] {
        await cluster.storage.list(.pods, namespace: "llm-serving").filter { pod in
            let labels = (pod[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            return matchLabels.allSatisfy { labels[$0.key] == $0.value } && EndpointResolver.isReady(pod)
        }.compactMap { $0[path: ["metadata", "name"]]?.stringValue }.sorted()
    }

    /// Creates or replaces the HTTPRoute `llm` with weighted Service backends (port 80).
    func route(_ backends: [(String, Int)]) async throws {
        try await route(refs: backends.map { ["name": .string($0.0), "port": 80, "weight": .int(Int64($0.1))] })
    }

    /// Creates or replaces the HTTPRoute `llm` with weighted InferencePool backends.
    func poolRoute(_ pools: [(String, Int)]) async throws {
        try await route(
            refs: pools.map {
                [
                    "group": "inference.networking.k8s.io", "kind": "InferencePool", "name": .string($0.0),
                    "weight": .int(Int64($0.1)),
                ]
            })
    }

    private func route(refs: [JSONValue]) async throws {
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

    /// GET `path` through the cluster's gateway, or through the gateway at `url`.
    func get(_ path: String, via url: String? = nil) async throws
        -> (status: Int, headers: [String: String], body: String)
    {
        let response = try await client.execute(
            HTTPClientRequest(url: (url ?? gatewayURL) + path), timeout: .seconds(10))
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

    /// A gateway of the fixture's cluster with a fixed seed (and, optionally, scripted queue states), started once
    /// the routes, pools and members exist so that its first request already sees them.
    static func seededGateway(
        _ fixture: GatewayFixture, seed: UInt64,
        queueState: @escaping @Sendable (String, String) async -> PodQueueState? = { _, _ in nil }
    ) async throws -> (Gateway, String) {
        let workloads = fixture.cluster.workloads
        let gateway = Gateway(
            store: fixture.cluster.storage, configuration: Gateway.Configuration(randomSeed: seed),
            modelState: { namespace, pod in await workloads.modelState(namespace: namespace, pod: pod) },
            queueState: queueState)
        return (gateway, try await gateway.start())
    }

    /// The Inference Extension's conformance split: two pools behind one rule at weights 70/30, 200 requests at
    /// concurrency 5, each observed share within 10 percentage points of its weight. The seeded gateway draws the
    /// same 200 backend choices on every run, whatever the interleaving.
    @Test(.timeLimit(.minutes(1)))
    func poolBackendsSplitByWeight() async throws {
        let fixture = try await GatewayFixture.start()
        for name in ["pool-a", "pool-b"] {
            try await fixture.revision(name, service: false)
            try await fixture.pool(name, matchLabels: ["app": .string(name)])
        }
        try await fixture.poolRoute([("pool-a", 70), ("pool-b", 30)])
        #expect(
            await eventually {
                let a = await fixture.readyMembers(["app": "pool-a"])
                let b = await fixture.readyMembers(["app": "pool-b"])
                return a.count == 1 && b.count == 1
            })
        let (gateway, url) = try await Self.seededGateway(fixture, seed: 7030)

        var counts: [String: Int] = [:]
        var pools: [String: Int] = [:]
        try await withThrowingTaskGroup(of: (Int, [String: String]).self) { group in
            func record(_ status: Int, _ headers: [String: String]) {
                #expect(status == 200)
                counts[headers["x-sim-backend"] ?? "?", default: 0] += 1
                pools[headers["x-sim-revision"] ?? "?", default: 0] += 1
            }
            for index in 0..<200 {
                if index >= 5, let reply = try await group.next() { record(reply.0, reply.1) }
                group.addTask {
                    let reply = try await fixture.get("/v1/models", via: url)
                    return (reply.status, reply.headers)
                }
            }
            for try await (status, headers) in group { record(status, headers) }
        }
        let a = counts["llm-serving/pool-a"] ?? 0
        let b = counts["llm-serving/pool-b"] ?? 0
        #expect(a + b == 200, "\(counts)")
        #expect(abs(Double(a) / 200 - 0.70) <= 0.10, "\(counts)")
        #expect(abs(Double(b) / 200 - 0.30) <= 0.10, "\(counts)")
        #expect(pools == ["pool-a": a, "pool-b": b])
        let stats = await gateway.snapshot()
        #expect(stats.byBackend == counts)
        #expect(stats.byRevision == pools)
        #expect(stats.byStatus == [200: 200])
        #expect(stats.requestsToUnloadedPods == 0)
        await gateway.stop()
        await fixture.shutdown()
    }

    /// Only Ready pods that the pool's selector matches get requests: not a member that is still loading, not a
    /// Ready pod with other labels, even when a Service of the pool's name selects it.
    @Test(.timeLimit(.minutes(1)))
    func poolSendsOnlyToReadyMembers() async throws {
        let fixture = try await GatewayFixture.start()
        let slow: JSONValue = [SimAnnotations.loadSeconds: "1000000"]
        try await fixture.revision("member", replicas: 2, labels: ["pool": "chat"], service: false)
        try await fixture.revision("loading", annotations: slow, labels: ["pool": "chat"], service: false)
        try await fixture.revision("outsider", labels: ["pool": "other"], service: false)
        _ = try await fixture.cluster.storage.create(
            .services,
            [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "chat", "namespace": "llm-serving"],
                "spec": ["selector": ["app": "outsider"], "ports": [["port": 80, "targetPort": "http"]]],
            ])
        try await fixture.pool("chat", matchLabels: ["pool": "chat"])
        try await fixture.poolRoute([("chat", 1)])
        #expect(
            await eventually {
                let members = await fixture.readyMembers(["pool": "chat"])
                let outsiders = await fixture.readyMembers(["pool": "other"])
                return members.count == 2 && outsiders.count == 1
            })
        let loadingPods = await fixture.cluster.storage.list(.pods, namespace: "llm-serving").filter {
            $0[path: ["metadata", "labels", "app"]] == "loading"
        }
        #expect(loadingPods.count == 1)
        #expect(await fixture.readyPods("loading") == 0)
        let members = await fixture.readyMembers(["pool": "chat"])
        #expect(await eventually { (try? await fixture.get("/v1/models").status) == 200 })

        var served: [String: Int] = [:]
        for _ in 0..<60 {
            let reply = try await fixture.get("/v1/models")
            #expect(reply.status == 200)
            #expect(reply.headers["x-sim-backend"] == "llm-serving/chat")
            #expect(reply.headers["x-sim-revision"] == "member")
            #expect(reply.headers["x-sim-model-loaded"] == "true")
            served[reply.headers["x-sim-pod"] ?? "?", default: 0] += 1
        }
        #expect(served.keys.sorted() == members, "\(served)")
        let stats = try #require(await fixture.cluster.gateway?.snapshot())
        #expect(stats.byRevision["loading"] == nil)
        #expect(stats.byRevision["outsider"] == nil)
        #expect(stats.upstreamFailures == 0)
        await fixture.shutdown()
    }

    /// A pool that does not exist is Envoy's 500 for an unresolvable backend; a pool without Ready members is 503
    /// `no healthy upstream`.
    @Test(.timeLimit(.minutes(1)))
    func missingPoolAnswers500AndPoolWithoutReadyMembers503() async throws {
        let fixture = try await GatewayFixture.start()
        try await fixture.poolRoute([("chat", 1)])
        #expect(
            await eventually {
                let reply = try? await fixture.get("/v1/models")
                return reply?.status == 500 && reply?.body == "backend inferencepool llm-serving/chat not found"
            })
        let slow: JSONValue = [SimAnnotations.loadSeconds: "1000000"]
        try await fixture.revision("loading", annotations: slow, service: false)
        try await fixture.pool("chat", matchLabels: ["app": "loading"])
        #expect(
            await eventually {
                let reply = try? await fixture.get("/v1/models")
                return reply?.status == 503 && reply?.body == "no healthy upstream"
            })
        #expect(await fixture.readyPods("loading") == 0)
        let stats = try #require(await fixture.cluster.gateway?.snapshot())
        #expect(stats.byBackend.isEmpty)
        await fixture.shutdown()
    }

    /// With the servers' queue states (scripted here), the pick avoids the member with waiting requests even when
    /// it runs fewer, then prefers the member running fewer; equal members share the load.
    @Test(.timeLimit(.minutes(1)))
    func poolPickAvoidsMembersWithWaitingRequests() async throws {
        let fixture = try await GatewayFixture.start()
        try await fixture.revision("queue", replicas: 2, service: false)
        try await fixture.pool("queue", matchLabels: ["app": "queue"])
        try await fixture.poolRoute([("queue", 1)])
        #expect(await eventually { await fixture.readyMembers(["app": "queue"]).count == 2 })
        let members = await fixture.readyMembers(["app": "queue"])
        let queues = ScriptedQueues()
        let (gateway, url) = try await Self.seededGateway(fixture, seed: 11) { _, pod in
            await queues.state(pod)
        }

        func servedPods(_ count: Int) async throws -> [String: Int] {
            var served: [String: Int] = [:]
            for _ in 0..<count {
                let reply = try await fixture.get("/v1/models", via: url)
                #expect(reply.status == 200)
                served[reply.headers["x-sim-pod"] ?? "?", default: 0] += 1
            }
            return served
        }
        await queues.set(members[0], PodQueueState(waiting: 2, running: 0))
        await queues.set(members[1], PodQueueState(waiting: 0, running: 9))
        #expect(try await servedPods(20) == [members[1]: 20])
        await queues.set(members[0], PodQueueState(waiting: 0, running: 1))
        #expect(try await servedPods(20) == [members[0]: 20])
        await queues.set(members[1], PodQueueState(waiting: 0, running: 1))
        #expect(try await servedPods(40).keys.sorted() == members)
        await gateway.stop()
        await fixture.shutdown()
    }

    /// Without queue states the gateway counts its own requests in flight as running: while a long stream holds
    /// one member, requests go to the other.
    @Test(.timeLimit(.minutes(1)))
    func poolPickWithoutQueueStateAvoidsTheBusyMember() async throws {
        let fixture = try await GatewayFixture.start()
        try await fixture.revision("busy", replicas: 2, service: false)
        try await fixture.pool("busy", matchLabels: ["app": "busy"])
        try await fixture.poolRoute([("busy", 1)])
        #expect(await eventually { await fixture.readyMembers(["app": "busy"]).count == 2 })
        let members = await fixture.readyMembers(["app": "busy"])
        let gateway = try #require(fixture.cluster.gateway)
        #expect(await eventually { (try? await fixture.get("/v1/models").status) == 200 })

        var request = HTTPClientRequest(url: fixture.gatewayURL + "/v1/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let body: JSONValue = ["model": "m", "prompt": "hold", "max_tokens": 400, "stream": true]
        request.body = .bytes(ByteBuffer(bytes: body.jsonBytes))
        let stream = try await fixture.client.execute(request, timeout: .seconds(30))
        #expect(stream.status.code == 200)
        let busy = try #require(stream.headers.first(name: "x-sim-pod"))
        let idle = try #require(members.first { $0 != busy })
        for _ in 0..<10 {
            // A finished request is forgotten just after its response ends; wait so it never ties with the stream.
            #expect(await eventually { await gateway.outstandingRequests()["llm-serving/" + idle] == nil })
            let reply = try await fixture.get("/v1/models")
            #expect(reply.status == 200)
            #expect(reply.headers["x-sim-pod"] == idle)
        }
        #expect(await gateway.outstandingRequests()["llm-serving/" + busy] == 1)
        var text = ""
        for try await chunk in stream.body { text += String(buffer: chunk) }
        #expect(text.hasSuffix("data: [DONE]\n\n"))
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

/// Queue states a test scripts for the gateway's InferencePool pick, by pod name.
actor ScriptedQueues {
    private var states: [String: PodQueueState] = [:]

    func set(_ pod: String, _ state: PodQueueState) { states[pod] = state }

    func state(_ pod: String) -> PodQueueState? { states[pod] }
}
