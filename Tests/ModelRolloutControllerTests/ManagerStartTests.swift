import Foundation
import KubeClient
import Logging
import Prometheus
import Testing

@testable import ModelRolloutController

/// Starting the operator when its metrics or health address is taken: one clear error, no crash (issue 13: the
/// pod endpoint client used to be freed without a shutdown, `Fatal error: Client not shut down before the deinit`).
@Suite struct ManagerStartTests {
    @Test(.timeLimit(.minutes(1)))
    func aBusyMetricsPortIsOneClearErrorNotACrash() async throws {
        let holder = OperatorHTTPServer(
            metricsAddress: "127.0.0.1:0", healthAddress: nil, registry: PrometheusCollectorRegistry(),
            ready: { true })
        try await holder.start()
        let port = try #require(await holder.metricsPort)
        let kube = try KubernetesClient(configuration: ClientConfiguration(server: "http://127.0.0.1:1"))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let manager = OperatorManager(
            kube: kube,
            options: ControllerOptions(
                metricsBindAddress: "127.0.0.1:\(port)", healthBindAddress: "127.0.0.1:0"),
            logger: logger)
        do {
            try await manager.run()
            Issue.record("the manager ran on a busy port")
        } catch {
            #expect("\(error)".contains("cannot listen on 127.0.0.1:\(port)"), "\(error)")
        }
        await holder.stop()
        try? await kube.shutdown()
    }
}
