import Foundation
import KubeCore
import Testing

@testable import ClusterSim

/// The bundled CRDs (ModelRollout, minimal HTTPRoute and InferencePool): in step with `crds/`, accepted by the
/// emulator's CRD checks, served after `install(into:)`, and enforcing their schema (defaults, enums, bounds,
/// printer columns). InferencePoolCRDTests covers the InferencePool schema.
@Suite("Bundled CRDs")
struct BundledCRDTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    static let rollouts = "/apis/modelrollout.io/v1alpha1/namespaces/llm-serving/modelrollouts"
    static let routes = "/apis/gateway.networking.k8s.io/v1/namespaces/llm-serving/httproutes"

    /// The spec of a minimal ModelRollout after defaulting; ModelRolloutCoreTests' APICodingTests asserts that
    /// the same text decodes to the Swift defaults.
    static let defaultedMinimalSpec = """
        {"model":"m","deployment":"d","route":{"name":"r"},
         "runtime":{"kind":"vllm","port":8000,"modelsPath":"/v1/models","metricsPath":"/metrics"},
         "readinessTimeout":"20m",
         "steps":[{"weight":10,"hold":"2m"},{"weight":50,"hold":"5m"},{"weight":100}],
         "analysis":{"interval":"30s","minSamples":50,"ttftP95":"2.5s","ttftRatio":1.2,"queueWaitP95":"1s",
                     "maxErrorRate":0.01,"failureLimit":2},
         "autoscaling":{"enabled":false,"minReplicas":1,"maxReplicas":16,"targetWaitingPerReplica":4,
                        "targetUtilization":0.8,"coldStart":{"percentile":90,"fallback":"5m"},"scaleDownDelay":"5m"},
         "strategy":{"maxSurge":"25%","keepStableFleet":false,"maxUtilization":0.95},
         "mode":"Active","paused":false}
        """

    static func minimalRollout(_ name: String, spec: JSONValue = [:]) -> JSONValue {
        var s: JSONValue = ["model": "m", "deployment": "d", "route": ["name": "r"]]
        for (k, v) in spec.objectValue ?? [:] { s[k] = v }
        return [
            "apiVersion": "modelrollout.io/v1alpha1", "kind": "ModelRollout",
            "metadata": ["name": .string(name), "namespace": "llm-serving"], "spec": s,
        ]
    }

    /// A started API server whose storage has the bundled CRDs.
    static func withCRDs<T>(_ body: (TestCluster) async throws -> T) async throws -> T {
        try await TestCluster.with { cluster in
            try await BundledCRDs.install(into: cluster.server.storage)
            return try await body(cluster)
        }
    }

    @Test func bundledTextEqualsTheFilesOnDisk() throws {
        let directory = Self.root.appendingPathComponent("crds")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(BundledCRDs.all.map(\.name) == names, "rerun scripts/generate-bundled-crds.sh")
        for (name, yaml) in BundledCRDs.all {
            let onDisk = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect(yaml == onDisk, "\(name) differs from crds/\(name): rerun scripts/generate-bundled-crds.sh")
        }
    }

    @Test func everyCRDPassesTheCRDChecks() throws {
        let objects = try BundledCRDs.objects()
        #expect(objects.compactMap { $0[path: ["metadata", "name"]]?.stringValue } == [
            "httproutes.gateway.networking.k8s.io", "inferencepools.inference.networking.k8s.io",
            "modelrollouts.modelrollout.io",
        ])
        for crd in objects {
            #expect(CRDValidation.validate(crd) == [])
            for version in crd[path: ["spec", "versions"]]?.arrayValue ?? [] {
                let schema = try #require(version[path: ["schema", "openAPIV3Schema"]])
                #expect(CRDSchema.structuralErrors(schema) == [])
            }
        }
    }

    @Test func installServesEveryResourceAndIsIdempotent() async throws {
        let storage = ObjectStorage()
        try await BundledCRDs.install(into: storage)
        let rv = await storage.resourceVersion
        try await BundledCRDs.install(into: storage)
        #expect(await storage.resourceVersion == rv)
        let registry = await storage.registry
        let rollouts = try #require(
            registry.lookup(group: "modelrollout.io", version: "v1alpha1", resource: "modelrollouts"))
        #expect(rollouts.shortNames == ["mr"])
        #expect(rollouts.categories == ["modelrollout"])
        #expect(rollouts.subresources == ["status"])
        #expect(rollouts.descriptor.namespaced)
        #expect(rollouts.listKind == "ModelRolloutList")
        let routes = try #require(
            registry.lookup(group: "gateway.networking.k8s.io", version: "v1", resource: "httproutes"))
        #expect(routes.categories == ["gateway-api"])
        #expect(routes.descriptor.kind == "HTTPRoute")
        let pools = try #require(registry.lookup(.inferencePools))
        #expect(pools.descriptor == .inferencePools)
        #expect(pools.listKind == "InferencePoolList")
        #expect(pools.subresources == ["status"])
        let crd = await storage.get(.customResourceDefinitions, namespace: nil, name: "modelrollouts.modelrollout.io")
        let established = crd?[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Established" }
        #expect(established?["status"] == "True")
    }

    @Test func samplesAreAccepted() async throws {
        try await Self.withCRDs { cluster in
            let directory = Self.root.appendingPathComponent("manifests/samples")
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasSuffix(".yaml") }.sorted()
            #expect(files == ["httproute.yaml", "modelrollout.yaml", "vllm-llama-r1.yaml", "vllm-llama-r2.yaml"])
            var kinds: [String] = []
            for file in files {
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                for document in text.components(separatedBy: "\n---\n") {
                    let object = try YAMLBody.parse(document)
                    let kind = object["kind"]?.stringValue ?? ""
                    kinds.append(kind)
                    let collection: String
                    switch kind {
                    case "Deployment": collection = "/apis/apps/v1/namespaces/llm-serving/deployments"
                    case "Service": collection = "/api/v1/namespaces/llm-serving/services"
                    case "HTTPRoute": collection = Self.routes
                    case "ModelRollout": collection = Self.rollouts
                    default:
                        Issue.record("unexpected kind \(kind) in \(file)")
                        continue
                    }
                    let reply = try await cluster.request(
                        .POST, collection + "?fieldValidation=Strict", body: document, contentType: "application/yaml")
                    #expect(reply.status == 201, "\(file) \(kind): \(reply.body)")
                }
            }
            #expect(kinds.sorted() == ["Deployment", "Deployment", "HTTPRoute", "ModelRollout", "Service", "Service"])
            let route = try await cluster.json(.GET, Self.routes + "/llm-chat").json
            #expect(route[path: ["spec", "rules"]]?.arrayValue?.first?["backendRefs"] == [
                ["group": "", "kind": "Service", "name": "vllm-llama-r1", "port": 8000, "weight": 100]
            ])
            #expect(
                route[path: ["spec", "parentRefs"]] == [
                    ["group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "inference-gateway",
                     "namespace": "llm-serving"]
                ])
            let rollout = try await cluster.json(.GET, Self.rollouts + "/chat").json
            let sampleSpec = try #require(rollout["spec"])
            var expected = try JSONValue.parse(Self.defaultedMinimalSpec)
            for key in ["model", "deployment", "service", "route"] { expected[key] = sampleSpec[key] }
            expected[path: ["runtime", "container"]] = "vllm"
            #expect(sampleSpec.semanticallyEquals(expected), "\(sampleSpec.serialized())")
        }
    }

    @Test func minimalRolloutGetsTheDefaults() async throws {
        try await Self.withCRDs { cluster in
            let reply = try await cluster.json(.POST, Self.rollouts, Self.minimalRollout("minimal"))
            #expect(reply.status == 201, "\(reply.body)")
            let spec = try #require(reply.json["spec"])
            #expect(spec.semanticallyEquals(try JSONValue.parse(Self.defaultedMinimalSpec)), "\(spec.serialized())")
            #expect(reply.json["status"] == nil)
        }
    }

    @Test func partialSubObjectsAreDefaulted() async throws {
        try await Self.withCRDs { cluster in
            let reply = try await cluster.json(
                .POST, Self.rollouts,
                Self.minimalRollout("partial", spec: ["analysis": ["interval": "10s"], "runtime": ["kind": "sglang"]]))
            #expect(reply.status == 201, "\(reply.body)")
            #expect(reply.json[path: ["spec", "analysis", "interval"]] == "10s")
            #expect(reply.json[path: ["spec", "analysis", "ttftP95"]] == "2.5s")
            #expect(reply.json[path: ["spec", "runtime", "kind"]] == "sglang")
            #expect(reply.json[path: ["spec", "runtime", "port"]] == 8000)
        }
    }

    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var name: String
        var spec: JSONValue
        var remove: String?
        var cause: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        InvalidCase(
            name: "weight 150", spec: ["steps": [["weight": 150]]],
            cause: "spec.steps[0].weight: Invalid value: 150: "
                + "spec.steps[0].weight in body should be less than or equal to 100"),
        InvalidCase(
            name: "mode Foo", spec: ["mode": "Foo"],
            cause: #"spec.mode: Unsupported value: "Foo": supported values: "Active", "Observe""#),
        InvalidCase(
            name: "readinessTimeout soon", spec: ["readinessTimeout": "soon"],
            cause: #"spec.readinessTimeout: Invalid value: "soon": spec.readinessTimeout in body should match"#),
        InvalidCase(name: "missing model", spec: [:], remove: "model", cause: "spec.model: Required value"),
        InvalidCase(
            name: "runtime kind", spec: ["runtime": ["kind": "ollama"]],
            cause: #"spec.runtime.kind: Unsupported value: "ollama""#),
        InvalidCase(
            name: "port 0", spec: ["runtime": ["port": 0]],
            cause: "spec.runtime.port: Invalid value: 0: "
                + "spec.runtime.port in body should be greater than or equal to 1"),
        InvalidCase(
            name: "no steps", spec: ["steps": []],
            cause: "spec.steps: Invalid value: 0: spec.steps in body should have at least 1 items"),
        InvalidCase(
            name: "targetUtilization 0", spec: ["autoscaling": ["targetUtilization": 0]],
            cause: "spec.autoscaling.targetUtilization in body should be greater than 0"),
        InvalidCase(
            name: "maxErrorRate 2", spec: ["analysis": ["maxErrorRate": 2]],
            cause: "spec.analysis.maxErrorRate in body should be less than or equal to 1"),
        InvalidCase(
            name: "bad deployment name", spec: ["deployment": "Vllm_R2"],
            cause: #"spec.deployment: Invalid value: "Vllm_R2": spec.deployment in body should match"#),
    ])
    func invalidRolloutsAreRejected(_ c: InvalidCase) async throws {
        try await Self.withCRDs { cluster in
            var object = Self.minimalRollout("bad", spec: c.spec)
            if let key = c.remove { object["spec"]?[key] = nil }
            let reply = try await cluster.json(.POST, Self.rollouts, object)
            #expect(reply.status == 422, "\(reply.body)")
            #expect(reply.json["reason"] == "Invalid")
            let message = reply.json["message"]?.stringValue ?? ""
            #expect(message.hasPrefix(#"ModelRollout.modelrollout.io "bad" is invalid: "#), "\(message)")
            #expect(message.contains(c.cause), "\(message)")
        }
    }

    @Test func durationPatternAcceptsGoDurations() async throws {
        try await Self.withCRDs { cluster in
            for (i, text) in ["0", "90s", "5m", "1h30m", "2.5s", "500ms", "250µs", "1h0m0.5s"].enumerated() {
                let reply = try await cluster.json(
                    .POST, Self.rollouts, Self.minimalRollout("d\(i)", spec: ["readinessTimeout": .string(text)]))
                #expect(reply.status == 201, "\(text): \(reply.body)")
            }
            for text in ["5", "-5s", "1d", "5 m", "m5"] {
                let reply = try await cluster.json(
                    .POST, Self.rollouts, Self.minimalRollout("bad", spec: ["analysis": ["interval": .string(text)]]))
                #expect(reply.status == 422, "\(text): \(reply.body)")
            }
        }
    }

    @Test func statusIsValidatedAndPrinterColumnsRender() async throws {
        try await Self.withCRDs { cluster in
            #expect(try await cluster.json(.POST, Self.rollouts, Self.minimalRollout("chat")).status == 201)
            let status: JSONValue = try JSONValue.parse(
                """
                {"status":{"observedGeneration":1,"phase":"Progressing","stableDeployment":"vllm-llama-r1",
                 "candidateDeployment":"vllm-llama-r2","currentStep":0,"stepStartedAt":"2026-03-01T10:00:00Z",
                 "weights":{"stable":90,"candidate":10},"ready":"5/6",
                 "replicas":{"stable":{"desired":4,"modelReady":4,"loading":0},
                             "candidate":{"desired":2,"modelReady":1,"loading":1}},
                 "loadTime":{"samples":2,"p50":"1m35s","p90":"2m20s","last":"1m41s","recentSeconds":[95,101.5],
                             "measuredPods":["a","b"]},
                 "analysis":{"step":0,"failures":0,"lastVerdict":"Pass","lastTime":"2026-03-01T10:01:00Z"},
                 "conditions":[{"type":"Progressing","status":"True","observedGeneration":1,
                   "lastTransitionTime":"2026-03-01T10:00:00Z","reason":"StepApplied","message":"weight 10"}],
                 "decisions":[{"time":"2026-03-01T10:00:00Z","kind":"Weight","rule":"step-capacity-ready",
                   "inputs":{"candidateReady":"1"},"result":"weight 10","message":"moved to step 0"}]}}
                """)
            let patched = try await cluster.request(
                .PATCH, Self.rollouts + "/chat/status?fieldValidation=Strict", body: status.serialized(),
                contentType: "application/merge-patch+json")
            #expect(patched.status == 200, "\(patched.body)")
            #expect(patched.json["status"]?.semanticallyEquals(status["status"] ?? .null) == true)

            let table = try await cluster.request(.GET, Self.rollouts, headers: [("Accept", Self.tableAccept)]).json
            let columns = (table["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(columns == ["Name", "Phase", "Stable", "Candidate", "Weight", "Ready", "Age"])
            let types = (table["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue }
            #expect(types == ["string", "string", "string", "string", "integer", "string", "date"])
            let cells = table["rows"]?.arrayValue?.first?["cells"]?.arrayValue ?? []
            #expect(Array(cells.prefix(6)) == ["chat", "Progressing", "vllm-llama-r1", "vllm-llama-r2", 10, "5/6"])

            let bad = try await cluster.request(
                .PATCH, Self.rollouts + "/chat/status",
                body: #"{"status":{"phase":"Exploding","weights":{"candidate":null}}}"#,
                contentType: "application/merge-patch+json")
            #expect(bad.status == 422, "\(bad.body)")
            let message = bad.json["message"]?.stringValue ?? ""
            #expect(message.contains(#"status.phase: Unsupported value: "Exploding""#), "\(message)")
            #expect(message.contains("status.weights.candidate: Required value"), "\(message)")
        }
    }

    @Test func routeDefaultsAndBounds() async throws {
        try await Self.withCRDs { cluster in
            let route: JSONValue = [
                "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                "metadata": ["name": "r", "namespace": "llm-serving"],
                "spec": ["rules": [["backendRefs": [["name": "svc", "port": 8000]]]]],
            ]
            let created = try await cluster.json(.POST, Self.routes, route)
            #expect(created.status == 201, "\(created.body)")
            let rule = created.json[path: ["spec", "rules"]]?.arrayValue?.first
            #expect(
                rule?["backendRefs"] == [["group": "", "kind": "Service", "name": "svc", "port": 8000, "weight": 1]])
            #expect(rule?["matches"] == [["path": ["type": "PathPrefix", "value": "/"]]])

            var tooHeavy = route
            tooHeavy[path: ["metadata", "name"]] = "heavy"
            tooHeavy["spec"] = ["rules": [["backendRefs": [["name": "svc", "port": 8000, "weight": 1_000_001]]]]]
            let rejected = try await cluster.json(.POST, Self.routes, tooHeavy)
            #expect(rejected.status == 422, "\(rejected.body)")
            #expect(
                (rejected.json["message"]?.stringValue ?? "").contains("spec.rules[0].backendRefs[0].weight"),
                "\(rejected.body)")

            let table = try await cluster.request(.GET, Self.routes, headers: [("Accept", Self.tableAccept)]).json
            let columns = (table["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(columns == ["Name", "Hostnames", "Age"])
        }
    }
}
