import ClusterSim
import Foundation
import KubeCore
import Testing

@testable import KubeClient

/// The real client (AsyncHTTPClient transport) against the emulated API server over loopback.
@Suite("KubeClientTests.Emulator")
struct EmulatorClientTests {
    @Test func createGetListWithSelectorAndPaging() async throws {
        try await Emulator.withServer { server, client in
            let api = client.resources(ConfigMap.self, namespace: "default")
            for i in 0..<5 {
                let meta = ObjectMeta(
                    name: "cm-\(i)", namespace: "default", labels: ["suite": "emu", "tier": i < 3 ? "a" : "b"])
                let created = try await api.create(ConfigMap(metadata: meta, data: ["i": "\(i)"]))
                #expect(created.metadata.uid?.isEmpty == false)
                #expect(created.metadata.resourceVersion?.isEmpty == false)
            }
            let got = try await api.get("cm-2")
            #expect(got.data == ["i": "2"])
            let tierA = try await api.list(ListOptions(labelSelector: "suite=emu,tier=a"))
            #expect(tierA.items.compactMap(\.metadata.name).sorted() == ["cm-0", "cm-1", "cm-2"])
            #expect(tierA.metadata.resourceVersion?.isEmpty == false)

            await server.clearRequestLog()
            let all = try await api.listAll(ListOptions(labelSelector: "suite=emu", limit: 2))
            #expect(all.items.compactMap(\.metadata.name).sorted() == (0..<5).map { "cm-\($0)" })
            let lists = await server.requestLog().filter { $0.method == "GET" && $0.path.hasSuffix("/configmaps") }
            #expect(lists.count == 3)
            #expect(lists.dropFirst().allSatisfy { $0.query.contains("continue=") })
            #expect(lists.allSatisfy { $0.query.contains("limit=2") })

            let page = try await api.list(ListOptions(labelSelector: "suite=emu", limit: 2))
            #expect(page.items.count == 2)
            #expect(page.metadata.continue?.isEmpty == false)
        }
    }

    @Test func staleUpdateConflictsAndRetryOnConflictSucceeds() async throws {
        try await Emulator.withServer { _, client in
            let api = client.resources(ConfigMap.self)
            let created = try await api.create(ConfigMap(metadata: ObjectMeta(name: "c", namespace: "default"), data: ["v": "0"]))
            var first = created
            first.data = ["v": "1"]
            _ = try await api.update(first)
            var stale = created
            stale.data = ["v": "stale"]
            do {
                _ = try await api.update(stale)
                Issue.record("a stale update succeeded")
            } catch let error as KubeAPIError {
                #expect(error.isConflict)
                #expect(error.httpStatus == 409)
                #expect(error.status.reason == "Conflict")
            }
            // The first attempt uses the stale object; retryOnConflict re-reads and wins.
            let attempts = Counter()
            let result = try await retryOnConflict {
                let n = await attempts.increment()
                var object = n == 1 ? created : try await api.get("c")
                object.data?["v"] = "retried"
                return try await api.update(object)
            }
            #expect(result.data == ["v": "retried"])
            #expect(await attempts.value == 2)
            #expect(try await api.get("c").data == ["v": "retried"])
        }
    }

    @Test func patchesOnDeployment() async throws {
        try await Emulator.withServer { server, client in
            let api = client.resources(Deployment.self, namespace: "default")
            _ = try await api.create(try Emulator.deployment("web", replicas: 1))

            let merged = try await api.patch("web", type: .merge, patch: ["spec": ["replicas": 3]])
            #expect(merged.spec.replicas == 3)

            let jsonPatched = try await api.patch(
                "web", type: .json, patch: [["op": "replace", "path": "/spec/replicas", "value": 4]])
            #expect(jsonPatched.spec.replicas == 4)

            // Strategic merge: containers merge by name, so the image stays and env is added.
            let strategic = try await api.patch(
                "web", type: .strategic,
                patch: [
                    "spec": [
                        "template": ["spec": ["containers": [["name": "vllm", "env": [["name": "A", "value": "1"]]]]]]
                    ]
                ])
            let containers = strategic.spec.template.raw[path: ["spec", "containers"]]?.arrayValue ?? []
            #expect(containers.count == 1)
            #expect(containers.first?["image"] == "vllm:1")
            #expect(containers.first?[path: ["env"]]?.arrayValue?.first?["name"] == "A")

            var desired = try Emulator.deployment("web", replicas: 6)
            desired.metadata.labels = ["app": "web", "owner": "ssa"]
            let applied = try await api.apply(desired, fieldManager: "emulator-test", force: true)
            #expect(applied.spec.replicas == 6)
            #expect(applied.metadata.labels?["owner"] == "ssa")
            let raw = await server.storage.get(.deployments, namespace: "default", name: "web")
            let managers = raw?[path: ["metadata", "managedFields"]]?.arrayValue?.compactMap { $0["manager"]?.stringValue }
            #expect(managers?.contains("emulator-test") == true)
            #expect(raw?[path: ["metadata", "generation"]].flatMap { $0.intValue }.map { $0 >= 4 } == true)
        }
    }

    @Test func patchesOnConfigMap() async throws {
        try await Emulator.withServer { _, client in
            let api = client.resources(ConfigMap.self, namespace: "default")
            _ = try await api.create(ConfigMap(metadata: ObjectMeta(name: "cfg", namespace: "default"), data: ["a": "1"]))
            let merged = try await api.patch("cfg", type: .merge, patch: ["data": ["b": "2", "a": .null]])
            #expect(merged.data == ["b": "2"])
            let jsonPatched = try await api.patch("cfg", type: .json, patch: [["op": "add", "path": "/data/c", "value": "3"]])
            #expect(jsonPatched.data == ["b": "2", "c": "3"])
            let strategic = try await api.patch("cfg", type: .strategic, patch: ["data": ["d": "4"]])
            #expect(strategic.data == ["b": "2", "c": "3", "d": "4"])
            let applied = try await api.apply(
                ConfigMap(metadata: ObjectMeta(name: "cfg", namespace: "default"), data: ["e": "5"]),
                fieldManager: "emulator-test")
            #expect(applied.data?["e"] == "5")
            #expect(applied.data?["b"] == "2")
            do {
                _ = try await api.patch("cfg", type: .json, patch: [["op": "test", "path": "/data/e", "value": "x"]])
                Issue.record("a failing JSON-patch test op succeeded")
            } catch let error as KubeAPIError {
                #expect(error.httpStatus == 422 || error.httpStatus == 400 || error.httpStatus == 500)
            }
        }
    }

    @Test func statusAndScaleSubresources() async throws {
        try await Emulator.withServer { _, client in
            let api = client.resources(Deployment.self, namespace: "default")
            _ = try await api.create(try Emulator.deployment("web", replicas: 2))

            let patched = try await api.patchStatus(
                "web", type: .merge, patch: ["status": ["readyReplicas": 2, "replicas": 2], "spec": ["replicas": 9]])
            #expect(patched.status?.readyReplicas == 2)
            #expect(patched.spec.replicas == 2)  // spec changes through /status are ignored
            var object = try await api.getStatus("web")
            #expect(object.status?.readyReplicas == 2)
            object.status?.availableReplicas = 2
            object.spec.replicas = 7
            let updated = try await api.updateStatus(object)
            #expect(updated.status?.availableReplicas == 2)
            #expect(updated.spec.replicas == 2)

            let scale = try await api.getScale("web")
            #expect(scale.spec.replicas == 2)
            #expect(scale.kind == "Scale")
            #expect(scale.status?.selector?.contains("app=web") == true)
            let scaled = try await api.scale("web", replicas: 5)
            #expect(scaled.spec.replicas == 5)
            #expect(try await api.get("web").spec.replicas == 5)
            var put = try await api.getScale("web")
            put.spec.replicas = 1
            let afterPut = try await api.updateScale("web", scale: put)
            #expect(afterPut.spec.replicas == 1)
            #expect(try await api.get("web").spec.replicas == 1)
        }
    }

    @Test func deleteThenNotFound() async throws {
        try await Emulator.withServer { _, client in
            let api = client.resources(ConfigMap.self, namespace: "default")
            _ = try await api.create(ConfigMap(metadata: ObjectMeta(name: "gone", namespace: "default")))
            try await api.delete("gone")
            do {
                _ = try await api.get("gone")
                Issue.record("get after delete succeeded")
            } catch let error as KubeAPIError {
                #expect(error.isNotFound)
                #expect(error.status.reason == "NotFound")
            }
            #expect(try await api.getIfExists("gone") == nil)
            #expect(try await api.deleteIfExists("gone") == false)
        }
    }

    @Test func typedWatchSeesAddedModifiedDeleted() async throws {
        try await Emulator.withServer { _, client in
            let api = client.resources(ConfigMap.self, namespace: "default")
            let start = try await api.list(ListOptions(labelSelector: "watch=me"))
            let rv = try #require(start.metadata.resourceVersion)
            let stream = api.watch(WatchOptions(labelSelector: "watch=me", resourceVersion: rv, timeoutSeconds: 10))
            let consumer = Task { () -> [String] in
                var seen: [String] = []
                for try await event in stream {
                    let name = event.object?.metadata.name ?? "-"
                    seen.append("\(event.typeName) \(name) \(event.object?.data?["v"] ?? "")")
                    if seen.count == 3 { break }
                }
                return seen
            }
            let meta = ObjectMeta(name: "w", namespace: "default", labels: ["watch": "me"])
            var object = try await api.create(ConfigMap(metadata: meta, data: ["v": "1"]))
            _ = try await api.create(ConfigMap(metadata: ObjectMeta(name: "other", namespace: "default")))
            object.data = ["v": "2"]
            _ = try await api.update(object)
            try await api.delete("w")
            let seen = try await consumer.value
            #expect(seen == ["ADDED w 1", "MODIFIED w 2", "DELETED w 2"])
        }
    }

    @Test func retriesAfter429WithRetryAfter() async throws {
        try await Emulator.withServer { server, client in
            let api = client.resources(ConfigMap.self, namespace: "default")
            _ = try await api.create(ConfigMap(metadata: ObjectMeta(name: "busy", namespace: "default"), data: ["k": "v"]))
            await server.setFaults(try FaultSpec(parsing: "get:configmaps:status=429,retryAfter=1"))
            await server.clearRequestLog()
            let began = ContinuousClock.now
            let request = Task { try await api.get("busy") }
            try await Task.sleep(for: .milliseconds(300))
            await server.setFaults(FaultSpec())
            let got = try await request.value
            let elapsed = ContinuousClock.now - began
            #expect(got.data == ["k": "v"])
            let gets = await server.requestLog().filter { $0.method == "GET" && $0.path.hasSuffix("/configmaps/busy") }
            #expect(gets.map(\.status) == [429, 200])
            #expect(elapsed >= .milliseconds(900))  // waited for Retry-After
        }
    }

    @Test func exhaustedRetriesSurfaceTooManyRequests() async throws {
        let config = { (url: String) in ClientConfiguration(server: url, requestTimeout: 5, maxRetries: 2, maxRetryWait: 0) }
        try await Emulator.withServer(clientConfiguration: config) { server, client in
            await server.setFaults(try FaultSpec(parsing: "get:configmaps:status=429,retryAfter=1"))
            do {
                _ = try await client.resources(ConfigMap.self, namespace: "default").get("x")
                Issue.record("request succeeded despite 429s")
            } catch let error as KubeAPIError {
                #expect(error.isTooManyRequests)
                #expect(error.retryAfterSeconds == 1)
            }
            #expect(await server.requestLog().filter { $0.status == 429 }.count == 3)
        }
    }
}

/// A counter shared with async closures.
actor Counter {
    private(set) var value = 0
    func increment() -> Int {
        value += 1
        return value
    }
}
