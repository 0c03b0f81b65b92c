import ClusterSim
import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore
import Prometheus
import Testing

@testable import ModelRolloutController

@Suite("Pod endpoint client")
struct PodEndpointClientTests {
    @Test(.timeLimit(.minutes(1)), arguments: PodAccess.allCases)
    func modelsAndMetricsOfALoadedPod(access: PodAccess) async throws {
        try await GatherTestCluster.with { cluster, kube in
            _ = try await kube.resources(Deployment.self).create(
                GatherTestCluster.vllmDeployment(
                    "chat-r1", model: "llama-r1", annotations: [SimAnnotations.loadSeconds: "30"]))
            let pod = try #require(
                try await GatherTestCluster.pod(kube, app: "chat-r1") { $0.gatherIP != nil && $0.gatherRunning })
            let endpoints = PodEndpointClient(kube: kube, access: access, timeout: 2)
            defer { Task { await endpoints.shutdown() } }
            var models = ModelsProbeResult.notProbed
            let listed = await GatherTestCluster.eventually {
                models = await endpoints.models(
                    namespace: GatherTestCluster.namespace, pod: pod.gatherName, podIP: pod.gatherIP, port: 8000)
                return models == .listed(["llama-r1"])
            }
            #expect(listed, "last answer: \(models)")
            let scrape = await endpoints.scrape(
                namespace: GatherTestCluster.namespace, pod: pod.gatherName, podIP: pod.gatherIP, port: 8000)
            let samples = try scrape.get()
            #expect(samples.samples.contains { $0.name.hasPrefix("vllm:") })
            let missing = await endpoints.get(
                namespace: GatherTestCluster.namespace, pod: pod.gatherName, podIP: pod.gatherIP, port: 8000,
                path: "/no-such-path")
            guard case .ok(let status, _) = missing else {
                Issue.record("expected an HTTP answer, got \(missing)")
                return
            }
            #expect(status == 404)
            #expect(
                await endpoints.models(
                    namespace: GatherTestCluster.namespace, pod: pod.gatherName, podIP: pod.gatherIP, port: 8000,
                    path: "/no-such-path") == .httpError(404))
        }
    }

    @Test(.timeLimit(.minutes(1)), arguments: PodAccess.allCases)
    func aLoadingPodIsUnreachable(access: PodAccess) async throws {
        try await GatherTestCluster.with { cluster, kube in
            _ = try await kube.resources(Deployment.self).create(
                GatherTestCluster.vllmDeployment(
                    "slow", model: "m", annotations: [SimAnnotations.loadSeconds: "1000000"]))
            let pod = try #require(
                try await GatherTestCluster.pod(kube, app: "slow") { $0.gatherIP != nil && $0.gatherRunning })
            let endpoints = PodEndpointClient(kube: kube, access: access, timeout: 2)
            defer { Task { await endpoints.shutdown() } }
            let started = Date()
            let models = await endpoints.models(
                namespace: GatherTestCluster.namespace, pod: pod.gatherName, podIP: pod.gatherIP, port: 8000)
            guard case .unreachable(let message) = models else {
                Issue.record("expected unreachable, got \(models)")
                return
            }
            #expect(!message.isEmpty && !message.contains("\n"))
            // Refused connections are reported at once, not retried until the timeout.
            #expect(Date().timeIntervalSince(started) < 1.5)
            let scrape = await endpoints.scrape(
                namespace: GatherTestCluster.namespace, pod: pod.gatherName, podIP: pod.gatherIP, port: 8000)
            #expect(throws: ScrapeError.self) { try scrape.get() }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func missingPodsAndAddressesAreUnreachable() async throws {
        try await GatherTestCluster.with(workloads: false) { _, kube in
            let direct = PodEndpointClient(kube: kube, access: .direct, timeout: 1)
            // Generous: the API server answers 404 at once, but a loaded machine must not turn that into a timeout.
            let proxy = PodEndpointClient(kube: kube, access: .proxy, timeout: 15)
            defer {
                Task {
                    await direct.shutdown()
                    await proxy.shutdown()
                }
            }
            let noIP = await direct.get(namespace: "llm-serving", pod: "p", podIP: nil, port: 8000, path: "/v1/models")
            #expect(noIP == .unreachable("pod p has no IP address yet"))
            let gone = await proxy.get(namespace: "llm-serving", pod: "gone", podIP: nil, port: 8000, path: "/metrics")
            guard case .unreachable(let message) = gone else {
                Issue.record("expected unreachable, got \(gone)")
                return
            }
            #expect(message.contains("not found"))
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aPodThatDoesNotAnswerTimesOut() async throws {
        // A listener that accepts and then never answers: the operator's own /readyz with a stuck check.
        let server = OperatorHTTPServer(
            metricsAddress: nil, healthAddress: "127.0.0.1:0", registry: PrometheusCollectorRegistry(),
            ready: {
                try? await Task.sleep(for: .seconds(10))
                return true
            })
        try await server.start()
        let port = try #require(await server.healthPort)
        let kube = try KubernetesClient(configuration: ClientConfiguration(server: "http://127.0.0.1:1"))
        let endpoints = PodEndpointClient(kube: kube, access: .direct, timeout: 0.3)
        let started = Date()
        let result = await endpoints.get(namespace: "ns", pod: "p", podIP: "127.0.0.1", port: port, path: "/readyz")
        let elapsed = Date().timeIntervalSince(started)
        await endpoints.shutdown()
        try? await kube.shutdown()
        await server.stop()
        guard case .unreachable(let message) = result else {
            Issue.record("expected unreachable, got \(result)")
            return
        }
        #expect(message.contains("timed out"))
        #expect(elapsed < 3)
    }

    @Test(arguments: [
        (#"{"object":"list","data":[{"id":"a","object":"model"},{"id":"b"}]}"#, ["a", "b"]),
        (#"{"object":"list","data":[]}"#, []),
        (#"{"data":[{"id":1},{"name":"x"},{"id":"ok"}]}"#, ["ok"]),
        (#"{"error":"not ready"}"#, []),
        ("<html>502</html>", []),
        ("", []),
    ])
    func modelIDs(body: String, ids: [String]) {
        #expect(PodEndpointClient.modelIDs(Array(body.utf8)) == ids)
    }

    @Test(arguments: [
        (#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no IP","code":503}"#, true),
        (#"{"object":"list","data":[]}"#, false),
        ("upstream connect error", false),
    ])
    func apiServerStatusIsToldApartFromRuntimeAnswers(body: String, isStatus: Bool) {
        #expect((PodEndpointClient.apiServerStatus(Array(body.utf8)) != nil) == isStatus)
    }
}
