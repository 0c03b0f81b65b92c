import ClusterSim
import Foundation
import KubeClient
import KubeCore
import Testing

/// `modelrollout diagnose --json` (the real binary) against the emulated cluster with one injected bottleneck
/// each: it must name the right layer first (issue 5, acceptance).
@Suite("diagnose end to end", .serialized)
struct DiagnoseEndToEndTests {
    /// What one `modelrollout diagnose` run printed.
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: JSONValue? { try? JSONValue.parse(Array(stdout.utf8)) }
    }

    /// Runs the binary with `arguments` (after `diagnose --kubeconfig … --namespace …`), at most 60 s.
    static func diagnose(_ harness: Harness, _ arguments: [String]) async throws -> Run {
        let binary = Harness.binary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw HarnessError("the modelrollout binary is missing at \(binary.path); run `swift build` first")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments =
            ["diagnose", "--kubeconfig", harness.kubeconfigPath, "--namespace", Harness.namespace] + arguments
        let out = harness.logDirectory.appendingPathComponent("diagnose-\(UUID().uuidString).out")
        let err = harness.logDirectory.appendingPathComponent("diagnose-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw HarnessError("modelrollout diagnose did not finish within 60 s")
        }
        return Run(
            status: process.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// An HTTPRoute `name` for `hostname` with weighted backends (Services of the same name, port 8000).
    static func createRoute(_ harness: Harness, _ name: String, hostname: String, _ backends: [String: Int])
        async throws
    {
        let refs: [JSONValue] = backends.sorted { $0.key < $1.key }.map {
            ["name": .string($0.key), "port": 8000, "weight": .int(Int64($0.value))]
        }
        let route: JSONValue = [
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": ["name": .string(name), "namespace": .string(Harness.namespace)],
            "spec": [
                "parentRefs": [["name": "inference-gateway"]], "hostnames": [.string(hostname)],
                "rules": [["matches": [["path": ["type": "PathPrefix", "value": "/v1"]]], "backendRefs": .array(refs)]],
            ],
        ]
        _ = try await harness.kube.resources(HTTPRoute.self, namespace: Harness.namespace).create(
            KubeJSON.fromJSONValue(HTTPRoute.self, route))
    }

    static func load(
        _ harness: Harness, rate: Double, promptTokens: Int, maxTokens: Int = 8, host: String? = nil
    ) -> LoadGenerator {
        LoadGenerator(
            configuration: .init(
                url: harness.gatewayURL, rate: rate, model: Harness.model, promptTokens: promptTokens,
                maxTokens: maxTokens, requestTimeoutSeconds: 30, seed: 7, host: host))
    }

    /// Waits until the load generator has at least `count` answered requests.
    static func waitForRequests(_ harness: Harness, _ load: LoadGenerator, _ count: Int) async throws {
        try await harness.waitUntil("\(count) answered requests", seconds: 30) {
            await load.summary().ok >= count
        }
    }

    static func top(_ run: Run) throws -> (layer: String?, route: String?, revision: String?) {
        let json = try #require(run.json, "diagnose printed no JSON: \(run.stdout) \(run.stderr)")
        let top = json["top"]
        return (top?["layer"]?.stringValue, top?["route"]?.stringValue, top?["revision"]?.stringValue)
    }

    @Test("(1) long prompts on one route: prefill first, on that route")
    func longPrompts() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        try await harness.createRevision("chat-r1", replicas: 1)
        try await harness.createRevision("docs-r1", replicas: 1)
        try await Self.createRoute(harness, "llm-chat", hostname: "chat.example", ["chat-r1": 100])
        try await Self.createRoute(harness, "llm-docs", hostname: "docs.example", ["docs-r1": 100])
        try await harness.waitUntil("both revisions serving") {
            let chat = try await harness.readyPods("chat-r1")
            let docs = try await harness.readyPods("docs-r1")
            return chat == 1 && docs == 1
        }
        let chat = Self.load(harness, rate: 10, promptTokens: 100, host: "chat.example")
        let docs = Self.load(harness, rate: 4, promptTokens: 6000, host: "docs.example")
        await chat.start()
        await docs.start()
        try await Self.waitForRequests(harness, docs, 8)

        let run = try await Self.diagnose(harness, ["--json"])
        let missing = try await Self.diagnose(harness, ["--route", "llm-nope"])
        await chat.stop()
        await docs.stop()

        #expect(run.status == 0, "\(run.stderr)")
        let top = try Self.top(run)
        #expect(top.layer == "prefill", "\(run.stdout)")
        #expect(top.route == "llm-docs")
        #expect(top.revision == "docs-r1")
        let rows = run.json?["revisions"]?.arrayValue ?? []
        #expect(Set(rows.compactMap { $0["route"]?.stringValue }) == ["llm-chat", "llm-docs"])
        let docsRow = rows.first { $0["revision"]?.stringValue == "docs-r1" }
        #expect((docsRow?["promptTokensMean"]?.doubleValue ?? 0) > 3000)
        #expect(docsRow?["class"]?.stringValue == "default", "an unlabelled one-rule route, as the metrics name it")

        #expect(missing.status != 0)
        #expect(missing.stderr.contains("HTTPRoute llm-nope not found in namespace llm-serving"))
        #expect(!missing.stderr.contains("Fatal error"))
    }

    @Test("(2) a slow revision: decode / runtime speed first, naming that revision")
    func slowRevision() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        try await harness.createRevision("r1", replicas: 1)
        try await harness.createRevision("r2", replicas: 1, annotations: [SimAnnotations.slowdown: "4"])
        try await harness.createRoute(["r1": 50, "r2": 50])
        try await harness.waitUntil("both revisions serving") {
            let r1 = try await harness.readyPods("r1")
            let r2 = try await harness.readyPods("r2")
            return r1 == 1 && r2 == 1
        }
        let load = Self.load(harness, rate: 20, promptTokens: 100)
        await load.start()
        try await Self.waitForRequests(harness, load, 40)
        let run = try await Self.diagnose(harness, ["--json", "--route", "llm-chat", "--probe", harness.gatewayURL])
        let text = try await Self.diagnose(harness, ["--route", "llm-chat"])
        await load.stop()

        #expect(run.status == 0, "\(run.stderr)")
        let top = try Self.top(run)
        #expect(top.layer == "decode", "\(run.stdout)")
        #expect(top.route == "llm-chat")
        #expect(top.revision == "r2")
        // The probe measured both paths; the gateway is not blamed.
        let rows = run.json?["revisions"]?.arrayValue ?? []
        #expect(rows.allSatisfy { $0["gatewayTtftSeconds"]?.doubleValue != nil }, "\(run.stdout)")
        #expect(rows.allSatisfy { $0["directTtftSeconds"]?.doubleValue != nil }, "\(run.stdout)")
        let gateway = run.json?["findings"]?.arrayValue?.first { $0["layer"] == "gateway" }
        #expect(gateway?["verdict"] != "likely")

        #expect(text.status == 0)
        #expect(
            text.stdout.contains("Most likely cause: decode / runtime speed (likely) — route llm-chat, revision r2"))
    }

    @Test("(3) a loading revision while traffic queues: rollout / model loading first")
    func loadingRevision() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        try await harness.createRevision("r1", replicas: 1, annotations: [SimAnnotations.maxConcurrency: "2"])
        // 3600 simulated seconds of model load: a minute of wall time at the harness' 60× compression.
        try await harness.createRevision("r2", replicas: 2, annotations: [SimAnnotations.loadSeconds: "3600"])
        try await harness.createRoute(["r1": 100, "r2": 0])
        try await harness.waitUntil("r1 serving") { try await harness.readyPods("r1") == 1 }
        let load = Self.load(harness, rate: 20, promptTokens: 100, maxTokens: 16)
        await load.start()
        try await Self.waitForRequests(harness, load, 20)
        let run = try await Self.diagnose(harness, ["--json", "--pod-access", "direct"])
        await load.stop()

        #expect(run.status == 0, "\(run.stderr)")
        let top = try Self.top(run)
        #expect(top.layer == "rollout", "\(run.stdout)")
        #expect(top.route == "llm-chat")
        #expect(top.revision == "r2")
        let findings = run.json?["findings"]?.arrayValue ?? []
        #expect(findings.first { $0["layer"] == "queue" }?["verdict"] == "likely", "\(run.stdout)")
        let r2 = run.json?["revisions"]?.arrayValue?.first { $0["revision"] == "r2" }
        #expect(r2?["loadingPods"] == 2)
        #expect(r2?["readyPods"] == 0)
    }
}
