import Foundation
import KubeClient
import KubeRuntime
import Metrics
import Prometheus
import Testing

@testable import ModelRolloutController

/// A readiness flag the test flips.
///
/// `@unchecked Sendable` is safe: `value` is only read and written under `lock`.
final class ReadyFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

@Suite("Operator HTTP server")
struct MetricsServerTests {
    /// GETs `path` on 127.0.0.1:`port` with the pod endpoint client (direct access is plain HTTP).
    static func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let kube = try KubernetesClient(configuration: ClientConfiguration(server: "http://127.0.0.1:1"))
        let client = PodEndpointClient(kube: kube, access: .direct, timeout: 5)
        let result = await client.get(namespace: "", pod: "operator", podIP: "127.0.0.1", port: port, path: path)
        await client.shutdown()
        try? await kube.shutdown()
        guard case .ok(let status, let body) = result else { throw OperatorHTTPServerError("\(result)") }
        return (status, String(decoding: body, as: UTF8.self))
    }

    @Test(.timeLimit(.minutes(1)))
    func separateListenersServeMetricsAndHealth() async throws {
        let registry = PrometheusCollectorRegistry()
        let decisions = registry.makeCounter(name: "modelrollout_decisions_total", labels: [("kind", "Weight")])
        decisions.increment(by: Int64(3))
        let flag = ReadyFlag()
        let server = OperatorHTTPServer(
            metricsAddress: "127.0.0.1:0", healthAddress: "127.0.0.1:0", registry: registry,
            ready: { flag.isSet })
        try await server.start()
        let metricsPort = try #require(await server.metricsPort)
        let healthPort = try #require(await server.healthPort)
        #expect(metricsPort != healthPort)

        let (status, body) = try await Self.get(metricsPort, "/metrics")
        #expect(status == 200)
        #expect(body.contains(#"modelrollout_decisions_total{kind="Weight"} 3"#))
        #expect(try await Self.get(healthPort, "/healthz") == (200, "ok"))
        // Health routes are not on the metrics listener and vice versa.
        #expect(try await Self.get(metricsPort, "/healthz").0 == 404)
        #expect(try await Self.get(healthPort, "/metrics").0 == 404)

        let notReady = try await Self.get(healthPort, "/readyz")
        #expect(notReady == (503, "not ready: caches not synced"))
        flag.set()
        #expect(try await Self.get(healthPort, "/readyz") == (200, "ok"))
        decisions.increment()
        let after = try await Self.get(metricsPort, "/metrics").1
        #expect(after.contains(#"modelrollout_decisions_total{kind="Weight"} 4"#))
        await server.stop()
        #expect(await server.metricsPort == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func oneAddressServesEverythingAndSwiftMetricsLandInTheRegistry() async throws {
        let registry = PrometheusCollectorRegistry()
        // What KubeRuntime emits through swift-metrics, bound to this registry without a global bootstrap.
        let (counter, timer) = withMetricsFactory(OperatorMetrics.factory(registry: registry)) {
            (
                Counter(
                    label: "controller_runtime_reconcile_total",
                    dimensions: [("controller", "t"), ("result", "success")]),
                Recorder(label: "workqueue_work_duration_seconds", dimensions: [("name", "t")], aggregate: true)
            )
        }
        counter.increment()
        timer.record(0.2)
        let server = OperatorHTTPServer(
            metricsAddress: "127.0.0.1:0", healthAddress: "127.0.0.1:0", registry: registry, ready: { true })
        try await server.start()
        let port = try #require(await server.metricsPort)
        let (_, body) = try await Self.get(port, "/metrics")
        #expect(body.contains(#"controller_runtime_reconcile_total{controller="t",result="success"} 1"#))
        #expect(body.contains(#"workqueue_work_duration_seconds_bucket{name="t",le="0.25"} 1"#))
        #expect(body.contains(#"workqueue_work_duration_seconds_bucket{name="t",le="0.1"} 0"#))
        await server.stop()
    }

    @Test func bootstrapHappensOncePerProcess() throws {
        let registry = PrometheusCollectorRegistry()
        let first = OperatorMetrics.bootstrapOnce(registry: registry)
        #expect(!OperatorMetrics.bootstrapOnce(registry: PrometheusCollectorRegistry()))
        let winner = try #require(OperatorMetrics.bootstrappedRegistry)
        if first {
            #expect(winner === registry)
        }
        // Metrics created through the global swift-metrics system land in the bootstrapped registry.
        Counter(label: "modelrollout_bootstrap_test_total").increment()
        #expect(winner.emitToString().contains("modelrollout_bootstrap_test_total 1"))
    }

    @Test(.timeLimit(.minutes(1)))
    func theSameAddressIsOneListener() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeGauge(name: "modelrollout_up").set(to: 1)
        let free = OperatorHTTPServer(
            metricsAddress: "127.0.0.1:0", healthAddress: nil, registry: registry, ready: { true })
        try await free.start()
        let port = try #require(await free.metricsPort)
        await free.stop()
        // Reuse the port just freed for a combined listener.
        let server = OperatorHTTPServer(
            metricsAddress: "127.0.0.1:\(port)", healthAddress: "127.0.0.1:\(port)", registry: registry,
            ready: { true })
        try await server.start()
        #expect(await server.metricsPort == port)
        #expect(await server.healthPort == port)
        #expect(try await Self.get(port, "/metrics").1.contains("modelrollout_up 1"))
        #expect(try await Self.get(port, "/readyz") == (200, "ok"))
        await server.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func disabledAndInvalidAddresses() async throws {
        let registry = PrometheusCollectorRegistry()
        let disabled = OperatorHTTPServer(metricsAddress: "0", healthAddress: nil, registry: registry, ready: { true })
        try await disabled.start()
        #expect(await disabled.metricsPort == nil)
        #expect(await disabled.healthPort == nil)
        let invalid = OperatorHTTPServer(
            metricsAddress: "localhost", healthAddress: nil, registry: registry, ready: { true })
        await #expect(throws: OperatorHTTPServerError.self) { try await invalid.start() }
        // A port that is taken fails start() and leaves nothing running.
        let first = OperatorHTTPServer(
            metricsAddress: "127.0.0.1:0", healthAddress: nil, registry: registry, ready: { true })
        try await first.start()
        let port = try #require(await first.metricsPort)
        let second = OperatorHTTPServer(
            metricsAddress: "127.0.0.1:0", healthAddress: "127.0.0.1:\(port)", registry: registry, ready: { true })
        await #expect(throws: (any Error).self) { try await second.start() }
        #expect(await second.metricsPort == nil)
        await first.stop()
    }

    @Test(arguments: [
        (":8080", "0.0.0.0", 8080), ("127.0.0.1:0", "127.0.0.1", 0), ("[::1]:9090", "::1", 9090),
        ("localhost:8081", "localhost", 8081),
    ])
    func bindAddresses(text: String, host: String, port: Int) throws {
        #expect(try BindAddress.parse(text) == BindAddress(host: host, port: port))
    }

    @Test(arguments: ["", "0", " 0 "])
    func disabledBindAddresses(text: String) throws {
        #expect(try BindAddress.parse(text) == nil)
    }

    @Test(arguments: ["8080", "host:", "host:http", ":70000", "h:-1"])
    func invalidBindAddresses(text: String) {
        #expect(throws: OperatorHTTPServerError.self) { try BindAddress.parse(text) }
    }
}
