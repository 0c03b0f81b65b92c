import AsyncHTTPClient
import Foundation
import KubeCore
import NIOHTTP1
import Testing

@testable import ClusterSim

@Suite("APIServer", .timeLimit(.minutes(1)))
struct APIServerTests {
    static let aggregatedAccept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    static let tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

    @Test func discoveryShapes() async throws {
        try await TestCluster.with { c in
            let version = try await c.request(.GET, "/version/?timeout=5s")
            #expect(version.status == 200)
            #expect(version.json["minor"] == "32")
            #expect(version.json["gitVersion"]?.stringValue?.hasPrefix("v1.32.") == true)

            let agg = try await c.request(.GET, "/apis", headers: [("Accept", Self.aggregatedAccept)])
            #expect(agg.headers.first(name: "Content-Type")?.contains("as=APIGroupDiscoveryList") == true)
            let apps = agg.json["items"]?.arrayValue?.first { $0[path: ["metadata", "name"]] == "apps" }
            let deploy = apps?["versions"]?.arrayValue?.first?["resources"]?.arrayValue?.first {
                $0["resource"] == "deployments"
            }
            #expect(deploy?["shortNames"] == ["deploy"])
            #expect(deploy?["subresources"]?.arrayValue?.count == 2)

            let core = try await c.request(.GET, "/api", headers: [("Accept", Self.aggregatedAccept)])
            #expect(core.json["items"]?.arrayValue?.first?[path: ["metadata", "name"]] == "")

            let legacy = try await c.request(.GET, "/api")
            #expect(legacy.json["kind"] == "APIVersions")
            let groups = try await c.request(.GET, "/apis/")
            #expect(groups.json["kind"] == "APIGroupList")
            let list = try await c.request(.GET, "/apis/apps/v1")
            let names = list.json["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names.contains("deployments/scale"))
            let v1 = try await c.request(.GET, "/api/v1")
            let coreNames = v1.json["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(coreNames.contains("pods/log") && coreNames.contains("pods/proxy"))

            let root = try await c.request(.GET, "/openapi/v3")
            let url = root.json[path: ["paths", "api/v1", "serverRelativeURL"]]?.stringValue ?? ""
            #expect(url.hasPrefix("/openapi/v3/api/v1?hash="))
            let doc = try await c.request(.GET, url)
            let op = doc.json[path: ["paths", "/api/v1/namespaces/{name}", "patch"]]
            #expect(op?["x-kubernetes-group-version-kind"]?["kind"] == "Namespace")
            #expect(op?[path: ["requestBody", "content", "application/strategic-merge-patch+json"]] == nil)
            #expect(op?[path: ["requestBody", "content", "application/apply-patch+yaml"]] != nil)
            #expect(try await c.request(.GET, "/openapi/v2").status == 404)
            #expect(try await c.request(.GET, "/apis/nope/v1/things").json["reason"] == "NotFound")
        }
    }

    @Test func crudResourceVersionAndNoOps() async throws {
        try await TestCluster.with { c in
            let path = "/api/v1/namespaces/default/configmaps"
            let created = try await c.json(.POST, path, configMap("c1"))
            #expect(created.status == 201)
            let rv1 = created.json[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
            #expect(created.json[path: ["metadata", "uid"]]?.stringValue?.isEmpty == false)

            let dup = try await c.json(.POST, path, configMap("c1"))
            #expect(dup.status == 409)
            #expect(dup.json["reason"] == "AlreadyExists")

            // No-op update: same RV, no bump.
            let same = try await c.json(.PUT, path + "/c1", created.json)
            #expect(same.status == 200)
            #expect(same.json[path: ["metadata", "resourceVersion"]]?.stringValue == rv1)

            var changed = created.json
            changed[path: ["data", "a"]] = "2"
            let updated = try await c.json(.PUT, path + "/c1", changed)
            #expect(updated.status == 200)
            #expect(updated.json[path: ["metadata", "resourceVersion"]]?.stringValue != rv1)

            // Stale RV → 409 Conflict with the real message.
            let stale = try await c.json(.PUT, path + "/c1", changed)
            #expect(stale.status == 409)
            #expect(stale.json["message"]?.stringValue?.contains(
                "Operation cannot be fulfilled on configmaps \"c1\": the object has been modified") == true)

            let gen = try await c.json(.POST, path, ["metadata": ["generateName": "gen-"], "data": [:]])
            #expect(gen.json[path: ["metadata", "name"]]?.stringValue?.hasPrefix("gen-") == true)

            let missingNS = try await c.json(.POST, "/api/v1/namespaces/nope/configmaps", configMap("x"))
            #expect(missingNS.status == 404)
            #expect(missingNS.json["message"] == "namespaces \"nope\" not found")

            let deleted = try await c.request(.DELETE, path + "/c1", body: "{\"propagationPolicy\":\"Background\"}")
            #expect(deleted.json["status"] == "Success")
            #expect(deleted.json[path: ["details", "kind"]] == "configmaps")
            let gone = try await c.request(.GET, path + "/c1")
            #expect(gone.status == 404)
            #expect(gone.json["message"] == "configmaps \"c1\" not found")

            let proto = try await c.request(.POST, path, body: "k8s\0", contentType: "application/vnd.kubernetes.protobuf")
            #expect(proto.status == 415)
            #expect(proto.json["reason"] == "UnsupportedMediaType")
        }
    }

    @Test func deploymentGenerationStatusAndScale() async throws {
        try await TestCluster.with { c in
            let path = "/apis/apps/v1/namespaces/default/deployments"
            let deploy: JSONValue = [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "labels": ["app": "web"]],
                "spec": [
                    "replicas": 1, "selector": ["matchLabels": ["app": "web"]],
                    "template": [
                        "metadata": ["labels": ["app": "web"]],
                        "spec": ["containers": [["name": "web", "image": "nginx:1"]]],
                    ],
                ],
                "status": ["replicas": 5],
            ]
            let created = try await c.json(.POST, path, deploy)
            #expect(created.json[path: ["metadata", "generation"]] == 1)
            #expect(created.json["status"] == nil)

            let labelled = try await c.json(
                .PATCH, path + "/web", ["metadata": ["labels": ["x": "y"]]], contentType: "application/merge-patch+json")
            #expect(labelled.json[path: ["metadata", "generation"]] == 1)

            let status = try await c.json(
                .PATCH, path + "/web/status", ["status": ["replicas": 1, "observedGeneration": 1]],
                contentType: "application/merge-patch+json")
            #expect(status.status == 200)
            #expect(status.json[path: ["status", "replicas"]] == 1)
            #expect(status.json[path: ["metadata", "generation"]] == 1)

            let scaled = try await c.json(
                .PATCH, path + "/web/scale", ["spec": ["replicas": 3]], contentType: "application/merge-patch+json")
            #expect(scaled.json["kind"] == "Scale")
            #expect(scaled.json[path: ["spec", "replicas"]] == 3)
            #expect(scaled.json[path: ["status", "selector"]] == "app=web")
            let after = try await c.request(.GET, path + "/web")
            #expect(after.json[path: ["spec", "replicas"]] == 3)
            #expect(after.json[path: ["metadata", "generation"]] == 2)
            // The main endpoint keeps the stored status.
            var put = after.json
            put["status"] = ["replicas": 99]
            let kept = try await c.json(.PUT, path + "/web", put)
            #expect(kept.json[path: ["status", "replicas"]] == 1)
        }
    }

    @Test func customResourcesServedPrunedDefaultedValidated() async throws {
        try await TestCluster.with { c in
            let crd = try await c.json(.POST, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCRD)
            #expect(crd.status == 201)
            let established = crd.json[path: ["status", "conditions"]]?.arrayValue?.contains {
                $0["type"] == "Established" && $0["status"] == "True"
            }
            #expect(established == true)
            let disc = try await c.request(.GET, "/apis/example.com/v1")
            #expect(disc.json["resources"]?.arrayValue?.first?["name"] == "widgets")
            let root = try await c.request(.GET, "/openapi/v3")
            #expect(root.json[path: ["paths", "apis/example.com/v1"]] != nil)

            let path = "/apis/example.com/v1/namespaces/default/widgets"
            let strict = try await c.json(.POST, path + "?fieldValidation=Strict", widget("w1", extra: ["foo": 1]))
            #expect(strict.status == 400)
            #expect(strict.json["message"]?.stringValue?.contains("strict decoding error: unknown field \"spec.foo\"") == true)

            let warned = try await c.json(.POST, path, widget("w1", extra: ["foo": 1]))
            #expect(warned.status == 201)
            #expect(warned.headers.first(name: "Warning")?.contains("unknown field") == true)
            #expect(warned.json[path: ["spec", "foo"]] == nil)
            #expect(warned.json[path: ["spec", "replicas"]] == 1)
            #expect(warned.json[path: ["metadata", "generation"]] == 1)

            let invalid = try await c.json(.POST, path, widget("w2", extra: ["replicas": "many"]))
            #expect(invalid.status == 422)
            #expect(invalid.json["reason"] == "Invalid")

            let smp = try await c.json(
                .PATCH, path + "/w1", ["spec": ["model": "m2"]], contentType: "application/strategic-merge-patch+json")
            #expect(smp.status == 415)
            #expect(smp.json["message"] == .string(APIHandler.crPatchTypesMessage))

            var noRV = warned.json
            noRV[path: ["metadata", "resourceVersion"]] = nil
            let unconditional = try await c.json(.PUT, path + "/w1", noRV)
            #expect(unconditional.status == 422)

            let merged = try await c.json(
                .PATCH, path + "/w1", ["spec": ["model": "m2"]], contentType: "application/merge-patch+json")
            #expect(merged.json[path: ["metadata", "generation"]] == 2)
            let status = try await c.json(
                .PUT, path + "/w1/status",
                { var o = merged.json; o["status"] = ["replicas": 2]; return o }())
            #expect(status.json[path: ["status", "replicas"]] == 2)
            #expect(status.json[path: ["metadata", "generation"]] == 2)
            let scale = try await c.request(.GET, path + "/w1/scale")
            #expect(scale.json[path: ["status", "replicas"]] == 2)
            #expect(scale.json[path: ["spec", "replicas"]] == 1)

            let table = try await c.request(.GET, path, headers: [("Accept", Self.tableAccept)])
            #expect(table.json["kind"] == "Table")
            let columns = table.json["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(columns == ["Name", "Model", "Replicas"])
            #expect(table.json["rows"]?.arrayValue?.first?["cells"] == ["w1", "m2", 1])

            let deleted = try await c.request(.DELETE, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
            #expect(deleted.status == 200)
            #expect(try await c.request(.GET, path).status == 404)
            #expect(await c.server.storage.list(key: ResourceKey(group: "example.com", resource: "widgets"), namespace: nil)
                .items.isEmpty)
        }
    }

    @Test func watchFromResourceVersionAndZero() async throws {
        try await TestCluster.with { c in
            let path = "/api/v1/namespaces/default/configmaps"
            _ = try await c.json(.POST, path, configMap("w1"))
            let list = try await c.request(.GET, path)
            let rv = list.json[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""

            let fromZero = try await c.watch(path + "?watch=1&resourceVersion=0", count: 1)
            #expect(fromZero.first?["type"] == "ADDED")

            let fromRV = try await c.watch(path + "?watch=True&resourceVersion=\(rv)", count: 2) {
                _ = try await c.json(.PATCH, path + "/w1", ["data": ["a": "9"]], contentType: "application/merge-patch+json")
                _ = try await c.request(.DELETE, path + "/w1")
            }
            #expect(fromRV.map { $0["type"] } == ["MODIFIED", "DELETED"])
            #expect(fromRV.last?[path: ["object", "metadata", "resourceVersion"]] != .string(rv))

            // Selector-filtered watch: objects entering the selection are ADDED.
            let filtered = try await c.watch(path + "?watch=true&labelSelector=app%3Ddemo", count: 1) {
                _ = try await c.json(.POST, path, configMap("other"))
                _ = try await c.json(.POST, path, configMap("demo", labels: ["app": "demo"]))
            }
            #expect(filtered.first?[path: ["object", "metadata", "name"]] == "demo")
        }
    }

    @Test func watchListBookmarksAndExpiry() async throws {
        var config = APIServer.Configuration()
        config.bookmarkInterval = .milliseconds(100)
        try await TestCluster.with(config) { c in
            let path = "/api/v1/namespaces/default/configmaps"
            _ = try await c.json(.POST, path, configMap("a"))
            _ = try await c.json(.POST, path, configMap("b"))
            let events = try await c.watch(
                path + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
                count: 3)
            #expect(events.map { $0["type"] } == ["ADDED", "ADDED", "BOOKMARK"])
            #expect(events.last?[path: ["object", "metadata", "annotations", "k8s.io/initial-events-end"]] == "true")

            let noMatch = try await c.request(.GET, path + "?watch=true&sendInitialEvents=true")
            #expect(noMatch.status == 422)

            let listRV = try await c.request(.GET, path).json[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
            let bookmarks = try await c.watch(path + "?watch=1&allowWatchBookmarks=1&resourceVersion=\(listRV)", count: 1)
            #expect(bookmarks.contains { $0["type"] == "BOOKMARK" })

            await c.server.compact()
            let expired = try await c.watch(path + "?watch=true&resourceVersion=1", count: 1)
            #expect(expired.first?["type"] == "ERROR")
            #expect(expired.first?[path: ["object", "code"]] == 410)
            #expect(expired.first?[path: ["object", "message"]]?.stringValue?.hasPrefix("too old resource version: 1") == true)

            let timed = try await c.watch(path + "?watch=true&timeoutSeconds=1", count: 100, seconds: 5)
            #expect(timed.count == 2)  // two synthetic ADDED, then the server ends the stream
        }
    }

    @Test func selectorsAndPagination() async throws {
        try await TestCluster.with { c in
            let path = "/api/v1/namespaces/default/configmaps"
            for i in 0..<5 {
                _ = try await c.json(.POST, path, configMap("cm\(i)", labels: ["idx": .string(String(i % 2))]))
            }
            let labelled = try await c.request(.GET, path + "?labelSelector=idx%3D1")
            #expect(labelled.json["items"]?.arrayValue?.count == 2)
            let named = try await c.request(.GET, "/api/v1/configmaps?fieldSelector=metadata.name%3Dcm3")
            #expect(named.json["items"]?.arrayValue?.count == 1)
            let bad = try await c.request(.GET, path + "?fieldSelector=spec.foo%3Dx")
            #expect(bad.status == 400)
            #expect(bad.json["message"] == "field label not supported: spec.foo")

            var names: [String] = []
            var cont = ""
            repeat {
                let page = try await c.request(.GET, path + "?limit=2" + (cont.isEmpty ? "" : "&continue=\(cont)"))
                names += page.json["items"]?.arrayValue?.compactMap { $0[path: ["metadata", "name"]]?.stringValue } ?? []
                cont = page.json[path: ["metadata", "continue"]]?.stringValue ?? ""
                cont = cont.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cont
            } while !cont.isEmpty
            #expect(names == ["cm0", "cm1", "cm2", "cm3", "cm4"])

            let rvm = try await c.request(.GET, path + "?resourceVersionMatch=NotOlderThan")
            #expect(rvm.status == 422)
        }
    }

    @Test func serverSideApply() async throws {
        try await TestCluster.with { c in
            let path = "/api/v1/namespaces/default/configmaps/ssa"
            let body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: \"1\"\n"
            let noManager = try await c.request(.PATCH, path, body: body, contentType: "application/apply-patch+yaml")
            #expect(noManager.status == 400)
            let created = try await c.request(
                .PATCH, path + "?fieldManager=alice", body: body, contentType: "application/apply-patch+yaml")
            #expect(created.status == 201)
            let again = try await c.request(
                .PATCH, path + "?fieldManager=alice", body: body, contentType: "application/apply-patch+yaml")
            #expect(again.status == 200)
            #expect(again.json[path: ["metadata", "resourceVersion"]] == created.json[path: ["metadata", "resourceVersion"]])
            let other = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: \"2\"\n"
            let conflict = try await c.request(
                .PATCH, path + "?fieldManager=bob", body: other, contentType: "application/apply-patch+yaml")
            #expect(conflict.status == 409)
            #expect(conflict.json["message"]?.stringValue?.hasPrefix("Apply failed with 1 conflict") == true)
            #expect(conflict.json[path: ["details", "causes"]]?.arrayValue?.first?["reason"] == "FieldManagerConflict")
            let forced = try await c.request(
                .PATCH, path + "?fieldManager=bob&force=true", body: other, contentType: "application/apply-patch+yaml")
            #expect(forced.status == 200)
            #expect(forced.json[path: ["data", "a"]] == "2")
        }
    }

    @Test func finalizersDelayDeletion() async throws {
        try await TestCluster.with { c in
            let path = "/api/v1/namespaces/default/configmaps"
            var cm = configMap("fin")
            cm[path: ["metadata", "finalizers"]] = ["example.com/keep"]
            _ = try await c.json(.POST, path, cm)
            let deleting = try await c.request(.DELETE, path + "/fin")
            #expect(deleting.status == 200)
            #expect(deleting.json[path: ["metadata", "deletionTimestamp"]] != nil)
            #expect(try await c.request(.GET, path + "/fin").status == 200)
            let cleared = try await c.json(
                .PATCH, path + "/fin", ["metadata": ["finalizers": nil]], contentType: "application/merge-patch+json")
            #expect(cleared.status == 200)
            #expect(try await c.request(.GET, path + "/fin").status == 404)
        }
    }

    @Test func faultsAndRequestLog() async throws {
        var config = APIServer.Configuration()
        config.faults = try FaultSpec(parsing: "list:configmaps:status=429,retryAfter=2;get:pods:error=0")
        try await TestCluster.with(config) { c in
            let limited = try await c.request(.GET, "/api/v1/namespaces/default/configmaps")
            #expect(limited.status == 429)
            #expect(limited.headers.first(name: "Retry-After") == "2")
            #expect(limited.json[path: ["details", "retryAfterSeconds"]] == 2)
            await c.server.setFaults(FaultSpec())
            #expect(try await c.request(.GET, "/api/v1/namespaces/default/configmaps").status == 200)
            let log = await c.server.requestLog()
            #expect(log.map(\.status) == [429, 200])
            #expect(log.first?.path == "/api/v1/namespaces/default/configmaps")
        }
    }

    @Test func faultsChangeAtRunTimeThroughTheAdminEndpoint() async throws {
        try await TestCluster.with(APIServer.Configuration()) { c in
            let set = try await c.request(.PUT, "/_sim/faults", body: "list:configmaps:status=503", contentType: "text/plain")
            #expect(set.status == 200)
            #expect(set.body.hasPrefix("list:configmaps:") && set.body.contains("status=503"))
            #expect(try await c.request(.GET, "/api/v1/namespaces/default/configmaps").status == 503)
            #expect(try await c.request(.GET, "/_sim/faults").body.contains("list:configmaps"))
            let bad = try await c.request(.PUT, "/_sim/faults", body: "fly:pods:error=1", contentType: "text/plain")
            #expect(bad.status == 400)
            #expect(bad.json["message"]?.stringValue?.contains("unknown verb") == true)
            #expect(try await c.request(.GET, "/api/v1/namespaces/default/configmaps").status == 503)  // kept
            #expect(try await c.request(.PUT, "/_sim/faults", body: "", contentType: "text/plain").status == 200)
            #expect(try await c.request(.GET, "/api/v1/namespaces/default/configmaps").status == 200)
        }
    }

    @Test(arguments: [
        ("list:pods:error=0.2,latency=50ms", "list", "pods", 0.2, 500),
        ("patch:*:status=429,retryAfter=1", "patch", "*", 1.0, 429),
        ("watch:*:drop=10s", "watch", "*", 0.0, 500),
    ])
    func faultSpecParsing(spec: String, verb: String, resource: String, rate: Double, status: Int) throws {
        let parsed = try FaultSpec(parsing: spec)
        #expect(parsed.rules.count == 1)
        #expect(parsed.rules[0].verb == verb)
        #expect(parsed.rules[0].resource == resource)
        #expect(parsed.rules[0].errorRate == rate)
        #expect(parsed.rules[0].status == status)
    }

    @Test func faultSpecErrors() {
        #expect(throws: FaultSpecError.self) { try FaultSpec(parsing: "list:pods") }
        #expect(throws: FaultSpecError.self) { try FaultSpec(parsing: "fly:pods:error=1") }
        #expect(throws: FaultSpecError.self) { try FaultSpec(parsing: "list:pods:error=2") }
    }

    @Test(arguments: [("1", true), ("t", true), ("T", true), ("TRUE", true), ("True", true), ("0", false),
        ("False", false), ("yes", nil)] as [(String, Bool?)])
    func goParseBool(text: String, expected: Bool?) {
        #expect(QueryParameters.parseBool(text) == expected)
    }

    @Test func podLogsAndProxy() async throws {
        var config = APIServer.Configuration()
        config.logSource = FixedLogSource(lines: ["main": "one\ntwo\nthree\n"])
        try await TestCluster.with(config) { c in
            let port = Int(c.base.split(separator: ":").last ?? "") ?? 0
            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p1"],
                "spec": ["containers": [["name": "main", "image": "x", "ports": [["containerPort": .int(Int64(port))]]]]],
                "status": ["podIP": "127.0.0.1", "phase": "Running"],
            ]
            _ = try await c.json(.POST, "/api/v1/namespaces/default/pods", pod)
            let log = try await c.request(.GET, "/api/v1/namespaces/default/pods/p1/log?tailLines=2")
            #expect(log.status == 200)
            #expect(log.body == "two\nthree\n")
            let bad = try await c.request(.GET, "/api/v1/namespaces/default/pods/p1/log?container=side")
            #expect(bad.status == 400)
            #expect(bad.json["message"] == "container side is not valid for pod p1")

            // The "pod" listens on the API server's own port: proxying /version reaches it.
            let proxied = try await c.request(.GET, "/api/v1/namespaces/default/pods/p1/proxy/version")
            #expect(proxied.status == 200)
            #expect(proxied.json["major"] == "1")
            let closed = try await c.request(.GET, "/api/v1/namespaces/default/pods/p1:1/proxy/")
            #expect(closed.status == 503)
            #expect(closed.json["reason"] == "ServiceUnavailable")
        }
    }

    @Test func tlsAndTokens() async throws {
        var config = APIServer.Configuration()
        config.tls = true
        config.tokens = ["s3cret"]
        try await TestCluster.with(config, trustCA: true) { c in
            #expect(c.base.hasPrefix("https://127.0.0.1:"))
            let anonymous = try await c.request(.GET, "/api/v1/namespaces")
            #expect(anonymous.status == 401)
            #expect(anonymous.json["reason"] == "Unauthorized")
            let wrong = try await c.request(.GET, "/api/v1/namespaces", headers: [("Authorization", "Bearer nope")])
            #expect(wrong.status == 401)
            let ok = try await c.request(.GET, "/api/v1/namespaces", headers: [("Authorization", "Bearer s3cret")])
            #expect(ok.status == 200)
            let names = ok.json["items"]?.arrayValue?.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
            #expect(names == ["default", "kube-public", "kube-system", "llm-serving"])
            #expect(try await c.request(.GET, "/version").status == 200)
            let kubeconfig = await c.server.kubeconfig()
            #expect(kubeconfig.contains("certificate-authority-data: "))
            #expect(kubeconfig.contains("token: \"s3cret\""))
            #expect(kubeconfig.contains("server: https://127.0.0.1:"))
        }
    }

    @Test func storageNoOpAndSlowWatcher() async throws {
        let storage = ObjectStorage(historyLimit: 3, watcherBuffer: 2)
        let cm = configMap("s", data: ["a": "1"]).with(namespace: "default")
        let created = try await storage.create(.configMaps, cm, dryRun: false)
        let rv = await storage.resourceVersion
        _ = try await storage.update(.configMaps, created, subresource: nil)
        #expect(await storage.resourceVersion == rv)
        let start = try await storage.watch(key: ResourceKey(.configMaps), namespace: nil, from: rv)
        for i in 0..<5 {
            var o = created
            o[path: ["data", "a"]] = .string("v\(i)")
            o[path: ["metadata", "resourceVersion"]] = nil
            _ = try await storage.update(.configMaps, o, subresource: nil)
        }
        var received = 0
        for await _ in start.events { received += 1 }
        #expect(received == 2)  // the slow watcher's stream was finished after its buffer filled
        await #expect(throws: APIStatus.self) {
            try await storage.watch(key: ResourceKey(.configMaps), namespace: nil, from: rv)
        }
    }
}

extension JSONValue {
    func with(namespace: String) -> JSONValue {
        var o = self
        o[path: ["metadata", "namespace"]] = .string(namespace)
        return o
    }
}
