import Foundation
import KubeCore
import Testing

@testable import KubeClient

@Suite("KubeClientTests.API")
struct ClientAPITests {
    static let deploymentJSON = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns","resourceVersion":"5",
        "generation":2,"creationTimestamp":"2026-11-25T09:45:06Z","labels":{"app":"web"}},
        "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"revisionHistoryLimit":3,
        "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"vllm","image":"vllm:1",
        "args":["--model","m"],"ports":[{"containerPort":8000}],"resources":{"limits":{"nvidia.com/gpu":"1"}}}]}}},
        "status":{"observedGeneration":2,"readyReplicas":1,"conditions":[{"type":"Available","status":"True",
        "lastUpdateTime":"2026-11-25T09:45:06Z","lastTransitionTime":"2026-11-25T09:45:06Z"}]}}
        """

    @Test func getDecodesAndUpdateRoundTripsUnknownFields() async throws {
        let t = ScriptedTransport()
        t.expect("GET /apis/apps/v1/namespaces/ns/deployments/web", respond: Self.deploymentJSON)
        t.expect("PUT /apis/apps/v1/namespaces/ns/deployments/web", contentType: "application/json", respond: Self.deploymentJSON) { r in
            let json = try? JSONValue.parse(r.bodyText)
            #expect(json?[path: ["spec", "revisionHistoryLimit"]] == .int(3))
            #expect(json?[path: ["spec", "replicas"]] == .int(4))
            let container = json?[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first
            #expect(container?[path: ["resources", "limits", "nvidia.com/gpu"]] == "1")
            #expect(container?["image"] == "vllm:2")
            #expect(json?[path: ["metadata", "resourceVersion"]] == "5")
        }
        let client = try makeClient(t)
        let api = client.resources(Deployment.self, namespace: "ns")
        var d = try await api.get("web")
        #expect(d.metadata.name == "web")
        #expect(d.metadata.generation == 2)
        #expect(d.metadata.creationTimestamp == KubeTime.parse("2026-11-25T09:45:06Z"))
        #expect(d.spec.replicas == 2)
        #expect(d.spec.template.spec.containers.first?.ports?.first?.containerPort == 8000)
        #expect(d.status?.readyReplicas == 1)
        #expect(d.status?.conditions?.first(ofType: "Available")?.isTrue == true)
        d.spec.replicas = 4
        d.spec.template.spec.containers[0].image = "vllm:2"
        _ = try await api.update(d)
        #expect(t.remaining == 0)
    }

    @Test func createPatchDeleteGoldenRequests() async throws {
        let t = ScriptedTransport()
        let cm = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"team-a"},"data":{"k":"v"}}"#
        let sortedCM = #"{"apiVersion":"v1","data":{"k":"v"},"kind":"ConfigMap","metadata":{"name":"c","namespace":"team-a"}}"#
        t.expect("POST /api/v1/namespaces/team-a/configmaps?fieldManager=mr", contentType: "application/json", body: sortedCM, status: 201, respond: cm)
        t.expect(
            "PATCH /api/v1/namespaces/team-a/configmaps/c", contentType: "application/merge-patch+json",
            body: #"{"data":{"k":null}}"#, respond: cm)
        t.expect(
            "PATCH /api/v1/namespaces/team-a/configmaps/c", contentType: "application/json-patch+json",
            body: #"[{"op":"remove","path":"/data/k"}]"#, respond: cm)
        t.expect(
            "PATCH /api/v1/namespaces/team-a/configmaps/c", contentType: "application/strategic-merge-patch+json",
            body: #"{"data":{"x":"y"}}"#, respond: cm)
        t.expect(
            "PATCH /api/v1/namespaces/team-a/configmaps/c?fieldManager=modelrollout&force=true",
            contentType: "application/apply-patch+yaml", body: sortedCM, respond: cm)
        t.expect(
            "DELETE /api/v1/namespaces/team-a/configmaps/c", contentType: "application/json",
            body: #"{"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Background"}"#,
            respond: #"{"kind":"Status","apiVersion":"v1","status":"Success"}"#)
        t.expect(
            "DELETE /api/v1/namespaces/team-a/configmaps/gone", status: 404,
            respond: APIStatus.notFound(.configMaps, name: "gone").json.serialized())
        // The context namespace applies when neither call nor object names one.
        let client = try makeClient(t, namespace: "team-a")
        let api = client.resources(ConfigMap.self)
        let created = try await api.create(
            ConfigMap(metadata: ObjectMeta(name: "c", namespace: "team-a"), data: ["k": "v"]),
            options: WriteOptions(fieldManager: "mr"))
        #expect(created.data == ["k": "v"])
        _ = try await api.patch("c", type: .merge, patch: ["data": ["k": nil]])
        _ = try await api.patch("c", type: .json, patch: [["op": "remove", "path": "/data/k"]])
        _ = try await api.patch("c", type: .strategic, patch: ["data": ["x": "y"]])
        _ = try await api.apply(created, fieldManager: "modelrollout", force: true)
        try await api.delete("c", options: DeleteOptions(propagationPolicy: .background))
        #expect(try await api.deleteIfExists("gone") == false)
        #expect(t.remaining == 0)
    }

    @Test func listAllFollowsContinue() async throws {
        let t = ScriptedTransport()
        t.expect(
            "GET /api/v1/namespaces/ns/pods?labelSelector=app%3Dweb&limit=1",
            respond: #"{"kind":"PodList","metadata":{"resourceVersion":"10","continue":"abc"},"items":[{"metadata":{"name":"a"}}]}"#)
        t.expect(
            "GET /api/v1/namespaces/ns/pods?continue=abc&labelSelector=app%3Dweb&limit=1",
            respond: #"{"kind":"PodList","metadata":{"resourceVersion":"10"},"items":[{"metadata":{"name":"b"},"spec":{"nodeName":"n1"},"status":{"phase":"Running","podIP":"10.0.0.2","conditions":[{"type":"Ready","status":"True"}]}}]}"#)
        t.expect("GET /api/v1/pods", respond: #"{"kind":"PodList","metadata":{"resourceVersion":"11"},"items":null}"#)
        let client = try makeClient(t)
        let all = try await client.resources(Pod.self, namespace: "ns").listAll(ListOptions(labelSelector: "app=web", limit: 1))
        #expect(all.items.map { $0.metadata.name } == ["a", "b"])
        #expect(all.items[1].spec.nodeName == "n1")
        #expect(all.items[1].status?.isReady == true)
        #expect(all.items[1].status?.podIP == "10.0.0.2")
        #expect(all.metadata.resourceVersion == "10")
        let empty = try await client.resources(Pod.self).list()
        #expect(empty.items.isEmpty)
        #expect(empty.metadata.resourceVersion == "11")
    }

    @Test func statusAndScaleSubresources() async throws {
        let t = ScriptedTransport()
        let scale = #"{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web","namespace":"ns","resourceVersion":"7"},"spec":{"replicas":2},"status":{"replicas":1,"selector":"app=web"}}"#
        t.expect("GET /apis/apps/v1/namespaces/ns/deployments/web/status", respond: Self.deploymentJSON)
        t.expect("PUT /apis/apps/v1/namespaces/ns/deployments/web/status", contentType: "application/json", respond: Self.deploymentJSON)
        t.expect(
            "PATCH /apis/apps/v1/namespaces/ns/deployments/web/status", contentType: "application/merge-patch+json",
            body: #"{"status":{"observedGeneration":3}}"#, respond: Self.deploymentJSON)
        t.expect("GET /apis/apps/v1/namespaces/ns/deployments/web/scale", respond: scale)
        t.expect(
            "PUT /apis/apps/v1/namespaces/ns/deployments/web/scale", contentType: "application/json",
            body: #"{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web","namespace":"ns","resourceVersion":"7"},"spec":{"replicas":5},"status":{"replicas":1,"selector":"app=web"}}"#,
            respond: scale)
        t.expect(
            "PATCH /apis/apps/v1/namespaces/ns/deployments/web/scale", contentType: "application/merge-patch+json",
            body: #"{"spec":{"replicas":3}}"#, respond: scale)
        let api = try makeClient(t).resources(Deployment.self, namespace: "ns")
        let d = try await api.getStatus("web")
        _ = try await api.updateStatus(d)
        _ = try await api.patchStatus("web", type: .merge, patch: ["status": ["observedGeneration": 3]])
        var s = try await api.getScale("web")
        #expect(s.spec.replicas == 2)
        #expect(s.status?.selector == "app=web")
        s.spec.replicas = 5
        _ = try await api.updateScale("web", scale: s)
        _ = try await api.scale("web", replicas: 3)
        #expect(t.remaining == 0)
    }

    @Test func dynamicCustomResources() async throws {
        let widgets = ResourceDescriptor(group: "example.com", version: "v1", resource: "widgets", kind: "Widget", namespaced: true)
        let t = ScriptedTransport()
        let w = #"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","namespace":"ns","resourceVersion":"3","labels":{"a":"b"}},"spec":{"size":2.5,"x":{"y":[1]}}}"#
        t.expect("GET /apis/example.com/v1/namespaces/ns/widgets/w1", respond: w)
        t.expect("PUT /apis/example.com/v1/namespaces/ns/widgets/w1", contentType: "application/json",
            body: #"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"labels":{"a":"b","c":"d"},"name":"w1","namespace":"ns","resourceVersion":"3"},"spec":{"size":2.5,"x":{"y":[1]}}}"#,
            respond: w)
        let api = try makeClient(t).dynamic(widgets, namespace: "ns")
        var obj = try await api.get("w1")
        #expect(obj["spec"]?["size"] == .double(2.5))
        obj.metadata.labels?["c"] = "d"
        _ = try await api.update(obj)
        #expect(t.remaining == 0)
    }

    @Test(
        "API errors are typed",
        arguments: [
            (404, APIStatus.notFound(.pods, name: "p").json.serialized(), "notFound"),
            (409, APIStatus.conflict(.pods, name: "p").json.serialized(), "conflict"),
            (409, APIStatus.alreadyExists(.pods, name: "p").json.serialized(), "alreadyExists"),
            (410, APIStatus.gone("too old").json.serialized(), "gone"),
            (422, APIStatus.invalid(.pods, name: "p", causes: []).json.serialized(), "invalid"),
            (401, "Unauthorized", "unauthorized"),
            (403, APIStatus.forbidden(.pods, name: "p", reason: "no").json.serialized(), "forbidden"),
        ] as [(Int, String, String)])
    func typedErrors(status: Int, body: String, expected: String) async throws {
        let t = ScriptedTransport().expect("GET /api/v1/namespaces/default/pods/p", status: status, respond: body)
        let client = try makeClient(t)
        do {
            _ = try await client.resources(Pod.self).get("p")
            Issue.record("no error")
        } catch let e as KubeAPIError {
            let flags = [
                "notFound": e.isNotFound, "conflict": e.isConflict, "alreadyExists": e.isAlreadyExists, "gone": e.isGone,
                "invalid": e.isInvalid, "unauthorized": e.isUnauthorized, "forbidden": e.isForbidden,
            ]
            #expect(flags.filter { $0.value }.map(\.key) == [expected])
            #expect(e.httpStatus == status)
        }
    }

    @Test func transportErrorsAreDistinguishable() async throws {
        let t = ScriptedTransport()
        t.expect("GET /api/v1/namespaces/default/pods/p", respond: "not json")
        let client = try makeClient(t)
        await #expect(throws: KubeTransportError.self) { _ = try await client.resources(Pod.self).get("p") }
    }

    @Test func retries429HonouringRetryAfter() async throws {
        let t = ScriptedTransport()
        t.expect("GET /api/v1/namespaces/default/pods/p", status: 429, headers: [("Retry-After", "2")], respond: "Too many requests, please try again later.")
        t.expect("GET /api/v1/namespaces/default/pods/p", status: 429, headers: [("Retry-After", "3600")], respond: APIStatus.tooManyRequests(retryAfterSeconds: 3600).json.serialized())
        t.expect("GET /api/v1/namespaces/default/pods/p", status: 503, headers: [("Retry-After", "1")], respond: "")
        t.expect("GET /api/v1/namespaces/default/pods/p", respond: #"{"metadata":{"name":"p"}}"#)
        let clock = ManualClock(advancesOnSleep: true)
        let client = try makeClient(t, clock: clock)
        let pod = try await client.resources(Pod.self).get("p")
        #expect(pod.metadata.name == "p")
        #expect(clock.sleeps == [2, 30, 1])  // 3600 s capped at maxRetryWait
    }

    @Test func serverErrorWithoutRetryAfterIsNotRetried() async throws {
        let t = ScriptedTransport()
        t.expect("GET /api/v1/namespaces/default/pods/p", status: 500, respond: APIStatus.internalError("boom").json.serialized())
        let clock = ManualClock(advancesOnSleep: true)
        let client = try makeClient(t, clock: clock)
        await #expect(throws: KubeAPIError.self) { _ = try await client.resources(Pod.self).get("p") }
        #expect(clock.sleeps.isEmpty)
        #expect(t.sent.count == 1)
    }

    @Test func retriesAreBounded() async throws {
        let t = ScriptedTransport()
        for _ in 0..<4 { t.expect("GET /api/v1/namespaces/default/pods/p", status: 429, headers: [("Retry-After", "1")]) }
        let clock = ManualClock(advancesOnSleep: true)
        let client = try makeClient(t, clock: clock, maxRetries: 3)
        do {
            _ = try await client.resources(Pod.self).get("p")
            Issue.record("no error")
        } catch let e as KubeAPIError {
            #expect(e.isTooManyRequests)
            #expect(e.retryAfterSeconds == 1)
        }
        #expect(t.sent.count == 4)
        #expect(clock.sleeps == [1, 1, 1])
    }

    @Test func retryOnConflictRereads() async throws {
        let t = ScriptedTransport()
        let cm = #"{"metadata":{"name":"c","namespace":"default","resourceVersion":"1"}}"#
        for _ in 0..<2 {
            t.expect("GET /api/v1/namespaces/default/configmaps/c", respond: cm)
            t.expect("PUT /api/v1/namespaces/default/configmaps/c", status: 409, respond: APIStatus.conflict(.configMaps, name: "c").json.serialized())
        }
        t.expect("GET /api/v1/namespaces/default/configmaps/c", respond: cm)
        t.expect("PUT /api/v1/namespaces/default/configmaps/c", respond: cm)
        let api = try makeClient(t).resources(ConfigMap.self)
        let result = try await retryOnConflict {
            var c = try await api.get("c")
            c.data = ["n": "1"]
            return try await api.update(c)
        }
        #expect(result.metadata.name == "c")
        #expect(t.remaining == 0)

        let t2 = ScriptedTransport()
        for _ in 0..<2 {
            t2.expect("GET /api/v1/namespaces/default/configmaps/c", respond: cm)
            t2.expect("PUT /api/v1/namespaces/default/configmaps/c", status: 409, respond: APIStatus.conflict(.configMaps, name: "c").json.serialized())
        }
        let api2 = try makeClient(t2).resources(ConfigMap.self)
        await #expect(throws: KubeAPIError.self) {
            _ = try await retryOnConflict(maxAttempts: 2) { try await api2.update(try await api2.get("c")) }
        }
        #expect(t2.remaining == 0)
    }

    @Test func watchDecodesTypedEventsAcrossChunkSplits() async throws {
        let lines = [
            #"{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"p\u00e9","resourceVersion":"5"}}}"#,
            #"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"6","annotations":{"k8s.io/initial-events-end":"true"}}}}"#,
            #"{"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"q","resourceVersion":"7"}}}"#,
            #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410,"message":"too old"}}"#,
        ]
        let bytes = Array(lines.joined(separator: "\n").utf8)  // no trailing newline
        let t = ScriptedTransport()
        t.expect(
            "GET /api/v1/namespaces/ns/pods?allowWatchBookmarks=true&resourceVersion=4&timeoutSeconds=60&watch=true",
            chunks: [])
        let transport = ByteChunkTransport(
            inner: t,
            chunks: stride(from: 0, to: bytes.count, by: 7).map { Array(bytes[$0..<min($0 + 7, bytes.count)]) })
        let client = try KubernetesClient(
            configuration: ClientConfiguration(server: "https://127.0.0.1:6443"), transport: transport,
            clock: ManualClock(advancesOnSleep: true))
        var seen: [String] = []
        for try await event in client.resources(Pod.self, namespace: "ns").watch(WatchOptions(resourceVersion: "4", timeoutSeconds: 60)) {
            switch event {
            case .added(let p), .modified(let p), .deleted(let p): seen.append("\(event.typeName) \(p.metadata.name ?? "")")
            case .bookmark(let rv, let end): seen.append("BOOKMARK \(rv) \(end)")
            case .error(let s): seen.append("ERROR \(s.code)")
            }
        }
        #expect(seen == ["ADDED p\u{e9}", "BOOKMARK 6 true", "DELETED q", "ERROR 410"])
        #expect(transport.pulled <= transport.total)
    }

    @Test func watchReadsOnlyOnDemand() async throws {
        let line = #"{"type":"ADDED","object":{"metadata":{"name":"a"}}}"# + "\n"
        let t = ScriptedTransport().expect("GET /api/v1/pods?allowWatchBookmarks=true&watch=true", chunks: [])
        let transport = ByteChunkTransport(inner: t, chunks: Array(repeating: Array(line.utf8), count: 100))
        let client = try KubernetesClient(
            configuration: ClientConfiguration(server: "https://127.0.0.1:6443"), transport: transport,
            clock: ManualClock(advancesOnSleep: true))
        var iterator = client.resources(Pod.self).watch().makeAsyncIterator()
        for _ in 0..<3 { _ = try await iterator.next() }
        #expect(transport.pulled == 3)
    }

    @Test func watchHTTPErrorThrows() async throws {
        let t = ScriptedTransport()
        t.expect(
            "GET /api/v1/pods?allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&watch=true",
            status: 422, respond: APIStatus.invalid(.pods, name: "", causes: []).json.serialized())
        let client = try makeClient(t)
        let stream = client.resources(Pod.self).watch(WatchOptions(resourceVersionMatch: .notOlderThan, sendInitialEvents: true))
        await #expect(throws: KubeAPIError.self) { for try await _ in stream {} }
    }

    @Test func podLogsAndFollowAndProxy() async throws {
        let t = ScriptedTransport()
        t.expect("GET /api/v1/namespaces/ns/pods/p/log?container=vllm&tailLines=2", respond: "a\nb\n")
        t.expect("GET /api/v1/namespaces/ns/pods/p/log?follow=true&timestamps=true", chunks: ["line 1\nli", "ne 2\n", "tail"])
        t.expect(
            "POST /api/v1/namespaces/ns/pods/p:8000/proxy/v1/completions", contentType: "application/json",
            body: #"{"prompt":"x"}"#, status: 503, respond: "loading")
        let client = try makeClient(t)
        let pods = client.resources(Pod.self, namespace: "ns")
        #expect(try await pods.logs("p", options: LogOptions(container: "vllm", tailLines: 2)) == "a\nb\n")
        var lines: [String] = []
        for try await line in pods.followLogs("p", options: LogOptions(timestamps: true)) { lines.append(line) }
        #expect(lines == ["line 1", "line 2", "tail"])
        let r = try await pods.proxy("p", port: 8000, method: .POST, path: "/v1/completions", body: Array(#"{"prompt":"x"}"#.utf8))
        #expect(r.status == 503)
        #expect(r.text == "loading")
    }

    @Test func rateLimiterTokenBucket() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let limiter = ClientRateLimiter(qps: 10, burst: 3, clock: clock)
        for _ in 0..<3 { try await limiter.acquire() }
        #expect(clock.sleeps.isEmpty)
        try await limiter.acquire()  // empty bucket: wait 0.1 s for the next token
        #expect(clock.sleeps.count == 1)
        #expect(abs(clock.sleeps[0] - 0.1) < 1e-9)
        clock.advance(by: 10)
        #expect(await limiter.tryAcquire())
        #expect(await limiter.tryAcquire())
        #expect(await limiter.tryAcquire())
        #expect(await limiter.tryAcquire() == false)
    }

    @Test func clientRateLimitsRequests() async throws {
        let t = ScriptedTransport()
        for _ in 0..<4 { t.expect("GET /api/v1/namespaces/default/pods/p", respond: "{}") }
        var config = ClientConfiguration(server: "https://127.0.0.1:6443", qps: 2, burst: 2)
        config.maxRetries = 0
        let clock = ManualClock(advancesOnSleep: true)
        let client = try KubernetesClient(configuration: config, transport: t, clock: clock)
        for _ in 0..<4 { _ = try await client.resources(Pod.self).get("p") }
        #expect(clock.sleeps == [0.5, 0.5])
    }
}

/// Wraps a scripted transport and replaces the body with byte chunks, counting how many were pulled.
final class ByteChunkTransport: HTTPTransport, @unchecked Sendable {
    // Safety: `count` is guarded by `lock`.
    let inner: ScriptedTransport
    let chunks: [[UInt8]]
    private let lock = NSLock()
    private var count = 0

    init(inner: ScriptedTransport, chunks: [[UInt8]]) {
        self.inner = inner
        self.chunks = chunks
    }

    var pulled: Int { lock.withLock { count } }
    var total: Int { chunks.count }

    func send(_ request: APIRequest, timeout: Double?) async throws -> HTTPResponse {
        let head = try await inner.send(request, timeout: timeout)
        return HTTPResponse(status: head.status, headers: head.headers, body: ResponseBody { [self] in
            lock.withLock {
                guard count < chunks.count else { return nil }
                count += 1
                return chunks[count - 1]
            }
        })
    }
}
