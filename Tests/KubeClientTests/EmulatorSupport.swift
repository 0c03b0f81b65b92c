import ClusterSim
import Foundation
import KubeClient
import KubeCore

/// Test support: the emulated API server on 127.0.0.1 (ephemeral port) and a real client talking to it.
enum Emulator {
    /// Runs `body` against a fresh server and a client for it; stops both afterwards.
    static func withServer<T: Sendable>(
        _ configuration: APIServer.Configuration = APIServer.Configuration(),
        clientConfiguration: ((String) -> ClientConfiguration)? = nil,
        _ body: (APIServer, KubernetesClient) async throws -> T
    ) async throws -> T {
        let server = APIServer(configuration: configuration)
        let address = try await server.start()
        let config = clientConfiguration?(address.url)
            ?? ClientConfiguration(server: address.url, requestTimeout: 10, maxRetryWait: 2)
        let client: KubernetesClient
        do {
            client = try KubernetesClient(configuration: config)
        } catch {
            await server.stop()
            throw error
        }
        do {
            let result = try await withTimeout(seconds: 20) { try await body(server, client) }
            try? await client.shutdown()
            await server.stop()
            return result
        } catch {
            try? await client.shutdown()
            await server.stop()
            throw error
        }
    }

    /// A Deployment with one container, labelled `app: name`.
    static func deployment(_ name: String, namespace: String = "default", replicas: Int = 1) throws -> Deployment {
        let json: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": ["app": .string(name)]],
            "spec": [
                "replicas": .int(Int64(replicas)),
                "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": ["containers": [["name": "vllm", "image": "vllm:1"]]],
                ],
            ],
        ]
        return try KubeJSON.fromJSONValue(Deployment.self, json)
    }

    /// A temporary file path (not created).
    static func temporaryPath(_ name: String) -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("emulator-\(UUID().uuidString)-\(name)")
    }
}

/// A bounded-time failure.
struct EmulatorTimeout: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "timed out after \(seconds) s" }
}

/// Runs `body`, failing with `EmulatorTimeout` when it takes longer than `seconds`.
func withTimeout<T: Sendable>(seconds: Double, _ body: () async throws -> T) async throws -> T {
    try await withoutActuallyEscaping(body) { escaping in
        let box = UnsafeSendableBox(escaping)
        return try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await box.value() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                throw EmulatorTimeout(seconds: seconds)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw EmulatorTimeout(seconds: seconds) }
            return first
        }
    }
}

/// Carries a non-Sendable closure into a task group that is awaited before the closure goes away.
struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
