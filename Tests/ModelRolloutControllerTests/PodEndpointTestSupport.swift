import ClusterSim
import Foundation
import KubeClient
import KubeCore

/// Test support of the gatherer tests: an emulated cluster (API server plus simulated vLLM workloads) on
/// loopback, a client for it, and a vLLM Deployment factory.
enum GatherTestCluster {
    static let namespace = "llm-serving"

    /// Runs `body` against a fresh emulated cluster (workloads running at `timeScale`) and a client for it.
    static func with<T: Sendable>(
        timeScale: Double = 300, workloads: Bool = true,
        transport: ((String) throws -> any HTTPTransport)? = nil,
        _ body: (EmulatedCluster, KubernetesClient) async throws -> T
    ) async throws -> T {
        let cluster = EmulatedCluster(
            configuration: EmulatedCluster.Configuration(
                timeScale: timeScale, defaultLoadSeconds: 60, defaultPullSeconds: 5, workloads: workloads))
        let address = try await cluster.start()
        let client: KubernetesClient
        do {
            let configuration = ClientConfiguration(
                server: address.url, namespace: namespace, qps: 1000, burst: 1000, requestTimeout: 10, maxRetryWait: 1)
            client = try KubernetesClient(configuration: configuration, transport: transport?(address.url))
        } catch {
            await cluster.stop()
            throw error
        }
        do {
            let result = try await body(cluster, client)
            try? await client.shutdown()
            await cluster.stop()
            return result
        } catch {
            try? await client.shutdown()
            await cluster.stop()
            throw error
        }
    }

    /// A vLLM Deployment serving `model` on port 8000 from container `vllm`, with simulator annotations.
    static func vllmDeployment(
        _ name: String, model: String, replicas: Int = 1, annotations: [String: String] = [:]
    ) throws -> Deployment {
        var podAnnotations: [String: JSONValue] = [:]
        for (key, value) in annotations { podAnnotations[key] = .string(value) }
        let json: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": [
                "replicas": .int(Int64(replicas)), "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)], "annotations": .object(podAnnotations)],
                    "spec": [
                        "containers": [
                            [
                                "name": "vllm", "image": "vllm/vllm-openai:v0.11.0",
                                "args": ["--model", "org/model", "--served-model-name", .string(model)],
                                "ports": [["containerPort": 8000, "name": "http"]],
                            ]
                        ]
                    ],
                ],
            ],
        ]
        return try KubeJSON.fromJSONValue(Deployment.self, json)
    }

    /// The first pod of the Deployment `app`, once `ready` holds for it.
    static func pod(
        _ client: KubernetesClient, app: String, timeout: Double = 20, where ready: (Pod) -> Bool = { _ in true }
    ) async throws -> Pod? {
        let pods = client.resources(Pod.self, namespace: namespace)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let list = try await pods.list(ListOptions(labelSelector: "app=\(app)"))
            if let pod = list.items.first(where: ready) { return pod }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` seconds passed.
    static func eventually(timeout: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }
}

extension Pod {
    /// The pod's IP and its first container's restart count, for the gatherer calls.
    var gatherIP: String? { status?.podIP }
    var gatherRestarts: Int { Int(status?.containerStatuses?.first?.restartCount ?? 0) }
    var gatherName: String { metadata.name ?? "" }
    var gatherRunning: Bool { status?.containerStatuses?.first?.state?["running"] != nil }
}
