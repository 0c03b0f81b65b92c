import AsyncHTTPClient
import ClusterSim
import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// An emulated cluster with the gateway, a load generator, and the real `modelrollout controller` binary as a
/// subprocess: the end-to-end rig of the rollout tests.
final class Harness: @unchecked Sendable {
    // Safe: mutable state (`controller`, recorders) is only touched from the test's own task.
    static let namespace = "llm-serving"
    static let model = "meta-llama/Llama-3.1-8B-Instruct"

    let cluster: EmulatedCluster
    let kube: KubernetesClient
    let kubeconfigPath: String
    let logDirectory: URL
    let gatewayURL: String
    let http: HTTPClient
    var controller: Process?
    var others: [Process] = []
    var controllerRuns = 0
    let weights = WeightRecorder()
    let evidence = ReadinessEvidence()
    var background: [Task<Void, Never>] = []

    /// The `modelrollout` binary built by `swift build` (the tests need it; `make test` builds it first).
    static var binary: URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        if let path = ProcessInfo.processInfo.environment["MODELROLLOUT_BIN"] { return URL(fileURLWithPath: path) }
        return root.appendingPathComponent(".build/debug/modelrollout")
    }

    /// `tls`: serve the API over https (credentials such as service-account tokens are only sent over https).
    /// `gpuNodes` × `gpusPerNode`: the cluster's GPUs (pods that do not fit stay Pending, Unschedulable).
    init(
        timeScale: Double = 60, loadSeconds: Double = 120, tls: Bool = false, gpuNodes: Int = 2, gpusPerNode: Int = 8
    ) async throws {
        cluster = EmulatedCluster(
            configuration: EmulatedCluster.Configuration(
                api: APIServer.Configuration(tls: tls), timeScale: timeScale, gpuNodes: gpuNodes,
                gpusPerNode: gpusPerNode,
                defaultLoadSeconds: loadSeconds, defaultPullSeconds: 10, gatewayAddress: "127.0.0.1:0"))
        _ = try await cluster.start()
        gatewayURL = await cluster.gatewayURL() ?? ""
        logDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mr-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        kubeconfigPath = logDirectory.appendingPathComponent("kubeconfig").path
        try await cluster.kubeconfig().write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
        kube = try KubernetesClient(configuration: ClientConfiguration.fromKubeconfig(paths: [kubeconfigPath]))
        http = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    /// Whether the candidate's written weights followed the steps: rising, through every step's weight, ending at the
    /// last (the GPU-budget ladder adds rungs between steps as candidate pods become model-ready).
    static func followsSteps(_ sequence: [Int], _ steps: [Int]) -> Bool {
        zip(sequence, sequence.dropFirst()).allSatisfy { $0 < $1 } && Set(steps).isSubset(of: Set(sequence))
            && sequence.last == steps.last
    }

    func shutdown() async {
        stopController()
        for task in background { task.cancel() }
        try? await http.shutdown()
        try? await kube.shutdown()
        await cluster.stop()
    }

    // MARK: - Objects

    enum Probe { case model, process }

    /// A vLLM Deployment (replicas, probe style, simulator annotations) and its Service of the same name.
    func createRevision(
        _ name: String, replicas: Int, probe: Probe = .model, annotations: [String: String] = [:]
    ) async throws {
        var annotationJSON: [String: JSONValue] = [:]
        for (key, value) in annotations { annotationJSON[key] = .string(value) }
        let readiness: JSONValue =
            probe == .model
            ? ["httpGet": ["path": "/health", "port": 8000], "periodSeconds": 2]
            : ["tcpSocket": ["port": 8000], "periodSeconds": 2]
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(name), "namespace": .string(Self.namespace)],
            "spec": [
                "replicas": .int(Int64(replicas)),
                "selector": ["matchLabels": ["app": "vllm-llama", "revision": .string(name)]],
                "template": [
                    "metadata": [
                        "labels": ["app": "vllm-llama", "revision": .string(name)],
                        "annotations": .object(annotationJSON),
                    ],
                    "spec": [
                        "containers": [
                            [
                                "name": "vllm", "image": "vllm/vllm-openai:v0.11.0",
                                "args": [
                                    "--model", .string("/models/\(name)"), "--served-model-name", .string(Self.model),
                                    "--port", "8000",
                                ],
                                "ports": [["containerPort": 8000, "name": "http"]],
                                "readinessProbe": readiness,
                                "resources": ["limits": ["nvidia.com/gpu": 1]],
                            ]
                        ]
                    ],
                ],
            ],
        ]
        _ = try await kube.resources(Deployment.self, namespace: Self.namespace).create(
            KubeJSON.fromJSONValue(Deployment.self, deployment))
        let service: JSONValue = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(name), "namespace": .string(Self.namespace)],
            "spec": [
                "selector": ["app": "vllm-llama", "revision": .string(name)],
                "ports": [["name": "http", "port": 8000, "targetPort": 8000]],
            ],
        ]
        _ = try await kube.resources(Service.self, namespace: Self.namespace).create(
            KubeJSON.fromJSONValue(Service.self, service))
    }

    /// An InferencePool `name` selecting the pods of `revision` (port 8000) with an endpoint picker named after it.
    func createPool(_ name: String, revision: String, port: Int = 8000) async throws {
        let pool: JSONValue = [
            "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
            "metadata": ["name": .string(name), "namespace": .string(Self.namespace)],
            "spec": [
                "selector": ["matchLabels": ["app": "vllm-llama", "revision": .string(revision)]],
                "targetPorts": [["number": .int(Int64(port))]],
                "endpointPickerRef": ["name": .string("\(name)-epp"), "port": ["number": 9002]],
            ],
        ]
        _ = try await kube.resources(InferencePool.self, namespace: Self.namespace).create(
            KubeJSON.fromJSONValue(InferencePool.self, pool))
    }

    /// The route `llm-chat`: `backends` are Services (port 8000) or, with `pools`, InferencePools.
    func createRoute(_ backends: [String: Int], pools: Bool = false) async throws {
        let refs: [JSONValue] = backends.sorted { $0.key < $1.key }.map {
            pools
                ? [
                    "group": "inference.networking.k8s.io", "kind": "InferencePool", "name": .string($0.key),
                    "weight": .int(Int64($0.value)),
                ]
                : ["name": .string($0.key), "port": 8000, "weight": .int(Int64($0.value))]
        }
        let route: JSONValue = [
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": ["name": "llm-chat", "namespace": .string(Self.namespace)],
            "spec": [
                "parentRefs": [["name": "inference-gateway"]],
                "rules": [["matches": [["path": ["type": "PathPrefix", "value": "/v1"]]], "backendRefs": .array(refs)]],
            ],
        ]
        _ = try await kube.resources(HTTPRoute.self, namespace: Self.namespace).create(
            KubeJSON.fromJSONValue(HTTPRoute.self, route))
    }

    /// Creates a ModelRollout; `spec` members override the defaults used here.
    func createRollout(_ name: String = "chat", spec overrides: [String: JSONValue]) async throws {
        var spec: [String: JSONValue] = [
            "model": .string(Self.model), "route": ["name": "llm-chat"],
            "steps": [["weight": 10, "hold": "3s"], ["weight": 50, "hold": "3s"], ["weight": 100]],
            "analysis": ["interval": "1s", "minSamples": 10, "ttftRatio": 2.0, "ttftP95": "2s", "queueWaitP95": "1s"],
            "autoscaling": ["scaleDownDelay": "2s"], "readinessTimeout": "2m",
        ]
        for (key, value) in overrides { spec[key] = value }
        let object: JSONValue = [
            "apiVersion": "modelrollout.io/v1alpha1", "kind": "ModelRollout",
            "metadata": ["name": .string(name), "namespace": .string(Self.namespace)], "spec": .object(spec),
        ]
        _ = try await kube.dynamic(.modelRollouts, namespace: Self.namespace).create(DynamicObject(raw: object))
    }

    /// Merge-patches the ModelRollout's spec.
    func patchRollout(_ name: String = "chat", spec: JSONValue) async throws {
        _ = try await kube.dynamic(.modelRollouts, namespace: Self.namespace).patch(
            name, type: .merge, patch: ["spec": spec])
    }

    func rollout(_ name: String = "chat") async throws -> ModelRollout {
        let object = try await kube.dynamic(.modelRollouts, namespace: Self.namespace).get(name)
        return try ModelRollout.decode(object.raw).get()
    }

    func routeWeights() async throws -> [String: Int] {
        let route = try await kube.resources(HTTPRoute.self, namespace: Self.namespace).get("llm-chat")
        var weights: [String: Int] = [:]
        for ref in route.spec.rules.first?.backendRefs ?? [] { weights[ref.name] = Int(ref.effectiveWeight) }
        return weights
    }

    func replicas(_ deployment: String) async throws -> Int {
        Int(try await kube.resources(Deployment.self, namespace: Self.namespace).get(deployment).spec.replicas ?? 0)
    }

    /// Pods of a revision that are Ready.
    func readyPods(_ revision: String) async throws -> Int {
        let pods = try await kube.resources(Pod.self, namespace: Self.namespace).list(
            ListOptions(labelSelector: "revision=\(revision)"))
        return pods.items.filter { $0.status?.isReady == true }.count
    }

    func events() async throws -> [JSONValue] {
        try await kube.dynamic(.events, namespace: Self.namespace).list().items.map(\.raw)
    }

    // MARK: - Controller process

    @discardableResult
    func startController(
        extraArguments: [String] = [], additional: Bool = false, kubeconfig: String? = nil
    ) throws -> Process {
        let binary = Self.binary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw HarnessError("the modelrollout binary is missing at \(binary.path); run `swift build` first")
        }
        controllerRuns += 1
        let process = Process()
        process.executableURL = binary
        process.arguments =
            [
                "controller", "--kubeconfig", kubeconfig ?? kubeconfigPath, "--namespace", Self.namespace,
                "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0",
                "--log-format", "json", "--loading-probe-interval", "0.1", "--resync-interval", "1",
            ] + extraArguments
        let log = logDirectory.appendingPathComponent("controller-\(controllerRuns).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        if additional { others.append(process) } else { controller = process }
        return process
    }

    /// SIGKILL of a specific controller process.
    func kill(_ process: Process) {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGKILL: no graceful shutdown, like a crashed or evicted pod.
    func killController() {
        guard let controller, controller.isRunning else { return }
        kill(controller)
        self.controller = nil
    }

    func stopController() {
        for process in others where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        guard let controller, controller.isRunning else { return }
        controller.terminate()
        controller.waitUntilExit()
        self.controller = nil
    }

    func controllerLog(run: Int? = nil) -> String {
        (run.map { [$0] } ?? Array(1...max(1, controllerRuns))).map {
            (try? String(contentsOf: logDirectory.appendingPathComponent("controller-\($0).log"), encoding: .utf8))
                ?? ""
        }.joined(separator: "\n")
    }

    /// The port the running controller logged for `operator.metrics` or `operator.health`.
    func controllerPort(_ message: String) -> Int? {
        let lines = controllerLog().split(separator: "\n").reversed()
        for line in lines {
            guard let json = try? JSONValue.parse(Array(line.utf8)), json["msg"]?.stringValue == message,
                let port = json["port"]?.stringValue.flatMap(Int.init)
            else { continue }
            return port
        }
        return nil
    }

    /// GET on the controller's own HTTP endpoints.
    func controllerGet(port: Int, path: String) async throws -> (status: Int, body: String) {
        let response = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 8 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    // MARK: - Observers

    /// Records every distinct set of route weights (from a watch) and every candidate pod's first `/v1/models`
    /// answer (polled every 20 ms), for the step sequence and the gate latency.
    func startObservers(candidate: String) {
        let kube = self.kube
        let weights = self.weights
        background.append(
            Task {
                while !Task.isCancelled {
                    do {
                        let stream = kube.resources(HTTPRoute.self, namespace: Self.namespace).watch(
                            WatchOptions(fieldSelector: "metadata.name=llm-chat"))
                        for try await event in stream {
                            guard let route = event.object else { continue }
                            var current: [String: Int] = [:]
                            for ref in route.spec.rules.first?.backendRefs ?? [] {
                                current[ref.name] = Int(ref.effectiveWeight)
                            }
                            await weights.record(current)
                        }
                    } catch {
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
            })
        let evidence = self.evidence
        let cluster = self.cluster
        background.append(
            Task {
                // The simulator knows the instant a pod's vLLM starts serving; the kubelet marks it Ready.
                while !Task.isCancelled {
                    let pods = await cluster.storage.list(.pods, namespace: Self.namespace).filter {
                        $0[path: ["metadata", "labels", "revision"]]?.stringValue == candidate
                    }
                    for pod in pods {
                        guard let name = pod[path: ["metadata", "name"]]?.stringValue, await evidence.readyAt(name) == nil
                        else { continue }
                        // Evidence = the model is served AND the pod is Ready (its Service routes to it).
                        let ready =
                            pod[path: ["status", "conditions"]]?.arrayValue?.contains {
                                $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
                            } ?? false
                        if ready, await cluster.workloads.modelState(namespace: Self.namespace, pod: name) == .loaded {
                            await evidence.ready(name, at: Date())
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(10))
                }
            })
    }

    /// Gate latencies: for each weight increase of `candidate` that waited for capacity (a candidate pod became
    /// model-ready after the previous weight change), the time from that readiness evidence to the weight change.
    func gateLatencies(candidate: String) async -> [Double] {
        let changes = await weights.changes
        let readyTimes = await evidence.times.sorted()
        let decisions = ((try? await rollout().status?.decisions) ?? []).sorted { $0.time < $1.time }
        var latencies: [Double] = []
        var previousTime = Date.distantPast
        var previousWeight = 0
        for change in changes {
            let weight = change.weights[candidate] ?? 0
            defer {
                previousTime = change.time
                previousWeight = weight
            }
            guard weight > previousWeight else { continue }
            // Readiness gated this weight only when the controller was waiting for model-ready capacity (its last
            // decision of an earlier round): pods brought up during a step's hold are ready before the hold ends,
            // and the weight then moves when the hold and analysis pass, which is not a gate latency.
            if let written = decisions.last(where: { $0.kind == .weight && $0.time <= change.time }),
                let earlier = decisions.last(where: { $0.time < written.time }),
                earlier.rule != "waiting-for-capacity"
            {
                continue
            }
            let readyBefore = readyTimes.filter { $0 <= change.time }
            guard let latest = readyBefore.last, latest > previousTime else { continue }
            latencies.append(change.time.timeIntervalSince(latest))
        }
        return latencies
    }

    // MARK: - Waiting

    /// Polls `condition` every 100 ms until it holds or `seconds` pass; then fails with `what` and the log tail.
    func waitUntil(
        _ what: String, seconds: Double = 60, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let tail = controllerLog().split(separator: "\n").suffix(25).joined(separator: "\n")
        throw HarnessError("timed out after \(Int(seconds)) s waiting for \(what)\ncontroller log tail:\n\(tail)")
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Distinct route weight sets with the time they were first seen.
actor WeightRecorder {
    private(set) var changes: [(time: Date, weights: [String: Int])] = []

    func record(_ weights: [String: Int]) {
        if changes.last?.weights == weights { return }
        changes.append((Date(), weights))
    }

    /// The sequence of distinct weights of one backend (absent = removed, skipped).
    func sequence(_ service: String) -> [Int] {
        var out: [Int] = []
        for change in changes {
            guard let weight = change.weights[service] else { continue }
            if out.last != weight { out.append(weight) }
        }
        return out
    }
}

/// When each candidate pod first answered `/v1/models` with the model.
actor ReadinessEvidence {
    private var ready: [String: Date] = [:]

    func ready(_ pod: String, at time: Date) { if ready[pod] == nil { ready[pod] = time } }
    func readyAt(_ pod: String) -> Date? { ready[pod] }
    var times: [Date] { Array(ready.values) }
}
