import Foundation
import KubeCore
import KubeRuntime
import Metrics
import ModelRolloutCore
import Prometheus
import Testing

@testable import ModelRolloutController

/// Counts reconciles; the first one of each key fails.
///
/// `@unchecked Sendable` is safe: `calls` is only read and written under `lock`.
private final class FailOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var calls = 0
    let done: AsyncStream<Int>
    private let continuation: AsyncStream<Int>.Continuation

    init() { (done, continuation) = AsyncStream<Int>.makeStream() }

    func reconcile() throws -> ReconcileAction {
        let call = lock.withLock {
            calls += 1
            return calls
        }
        continuation.yield(call)
        if call == 1 { throw OperatorHTTPServerError("first reconcile fails") }
        return .awaitChange
    }
}

/// The family a sample belongs to: histogram series lose their `_bucket`/`_sum`/`_count` suffix.
private func family(of name: String, types: [String: PrometheusMetricType]) -> String {
    for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
        let base = String(name.dropLast(suffix.count))
        if types[base] == .histogram { return base }
    }
    return name
}

/// Every operator metric name (`controller_runtime_*`, `workqueue_*`, `modelrollout_*`) in a PromQL expression,
/// with histogram suffixes removed.
private func metricNames(in expression: String) -> Set<String> {
    var names: Set<String> = []
    let pattern = try! NSRegularExpression(pattern: "\\b(controller_runtime|workqueue|modelrollout)_[a-z0-9_]+")
    let range = NSRange(expression.startIndex..., in: expression)
    for match in pattern.matches(in: expression, range: range) {
        guard let swiftRange = Range(match.range, in: expression) else { continue }
        var name = String(expression[swiftRange])
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            name = String(name.dropLast(suffix.count))
        }
        names.insert(name)
    }
    return names
}

@Suite("Operator /metrics and Grafana dashboard")
struct OperatorMetricsDashboardTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A registry holding every family: a controller that reconciled (one failure, one success) through the
    /// operator's factory, and a rollout's metrics.
    static func populatedRegistry() async throws -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        let reconciler = FailOnce()
        let controller = withMetricsFactory(OperatorMetrics.factory(registry: registry)) {
            Controller(name: "modelrollout", reconciler: ClosureReconciler { _ in try reconciler.reconcile() })
        }
        let task = Task { try await controller.run() }
        await controller.enqueue(ObjectKey(namespace: "llm", name: "chat"))
        for await call in reconciler.done where call >= 2 { break }
        task.cancel()
        _ = await task.result

        let metrics = RolloutMetrics(registry: registry)
        metrics.update(
            RolloutMetricsSnapshot(
                namespace: "llm", name: "chat", model: "llama", route: "chat-route", requestClass: "default",
                phase: "Progressing",
                revisions: [
                    RevisionMetricsSnapshot(revision: "llama-v1", weight: 90, desired: 2, ready: 2),
                    RevisionMetricsSnapshot(revision: "llama-v2", weight: 10, desired: 1, ready: 0, loading: 1),
                ]))
        metrics.recordModelLoad(namespace: "llm", rollout: "chat", model: "llama", revision: "llama-v2", seconds: 42)
        metrics.recordReadinessDelay(
            namespace: "llm", rollout: "chat", model: "llama", revision: "llama-v2", seconds: 1.5)
        metrics.recordDecision(namespace: "llm", rollout: "chat", kind: "Weight", rule: "capacity-ready")
        metrics.setDesiredReplicas(namespace: "llm", rollout: "chat", revision: "llama-v1", replicas: 2)
        let ttft = PrometheusHistogram(
            name: "vllm:time_to_first_token_seconds", labels: [:],
            buckets: [
                HistogramBucket(upperBound: 1, cumulativeCount: 4), .init(upperBound: .infinity, cumulativeCount: 5),
            ],
            count: 5)
        metrics.observeRuntime(
            namespace: "llm", rollout: "chat", model: "llama", route: "chat-route", requestClass: "default",
            revision: "llama-v1",
            samples: [
                PodMetricsSample(pod: "a", time: Date(), ttft: ttft, queueTime: ttft, successTotal: 5, waiting: 2)
            ])
        return registry
    }

    /// Scrapes `/metrics` over HTTP from the operator's server.
    static func scrape(_ registry: PrometheusCollectorRegistry) async throws -> String {
        let server = OperatorHTTPServer(
            metricsAddress: "127.0.0.1:0", healthAddress: nil, registry: registry, ready: { true })
        try await server.start()
        defer { Task { await server.stop() } }
        let port = try #require(await server.metricsPort)
        let (status, body) = try await MetricsServerTests.get(port, "/metrics")
        #expect(status == 200)
        await server.stop()
        return body
    }

    @Test(.timeLimit(.minutes(1)))
    func everyFamilyParsesHasHelpAndTypeAndMatchesTheCatalog() async throws {
        let text = try await Self.scrape(try await Self.populatedRegistry())
        let scrape = PrometheusText.parse(text)
        #expect(scrape.skippedLines == 0, "\(scrape.skipReasons)")
        #expect(!scrape.samples.isEmpty)
        for sample in scrape.samples {
            let name = family(of: sample.name, types: scrape.types)
            #expect(scrape.types[name] != nil, "no TYPE for \(sample.name)")
            #expect(!(scrape.help[name] ?? "").isEmpty, "no HELP for \(sample.name)")
        }
        for definition in OperatorMetrics.catalog {
            let expectedType: PrometheusMetricType =
                switch definition.type {
                case .counter: .counter
                case .gauge: .gauge
                case .histogram: .histogram
                }
            #expect(scrape.types[definition.name] == expectedType, "\(definition.name) is missing or mistyped")
            #expect(scrape.help[definition.name] == definition.help)
            let series = scrape.samples.filter { family(of: $0.name, types: scrape.types) == definition.name }
            #expect(!series.isEmpty, "\(definition.name) has no series")
            for sample in series {
                #expect(
                    Set(sample.labels.keys).subtracting(["le"]) == Set(definition.labels),
                    "\(sample.name) labels \(sample.labels.keys.sorted())")
                // Bounded labels: no pod or request identity ever.
                #expect(sample.labels["pod"] == nil && sample.labels["request_id"] == nil)
            }
        }
        // controller-runtime's reconcile counters after one failure and one success.
        let reconciles = scrape.samples(named: "controller_runtime_reconcile_total")
        #expect(reconciles.first { $0.labels["result"] == "error" }?.value == 1)
        #expect(reconciles.first { $0.labels["result"] == "success" }?.value == 1)
        #expect(scrape.samples(named: "controller_runtime_reconcile_errors_total").first?.value == 1)
        #expect(scrape.samples(named: "workqueue_adds_total").first?.value ?? 0 >= 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func theDashboardIsValidAndUsesOnlyExportedMetrics() async throws {
        let url = Self.root.appendingPathComponent("manifests/grafana/modelrollout-dashboard.json")
        let dashboard = try JSONValue.parse(String(decoding: try Data(contentsOf: url), as: UTF8.self))
        let schema = try #require(dashboard["schemaVersion"]?.intValue)
        #expect((36...41).contains(schema))
        #expect(dashboard["title"]?.stringValue == "ModelRollout")
        #expect(dashboard["uid"]?.stringValue?.isEmpty == false)

        let variables = dashboard[path: ["templating", "list"]]?.arrayValue ?? []
        let byName = Dictionary(
            variables.compactMap { v in v["name"]?.stringValue.map { ($0, v) } }, uniquingKeysWith: { $1 })
        #expect(byName["DS_PROMETHEUS"]?["type"]?.stringValue == "datasource")
        #expect(byName["DS_PROMETHEUS"]?["query"]?.stringValue == "prometheus")
        #expect(byName["namespace"]?["type"]?.stringValue == "query")
        #expect(byName["modelrollout"]?["type"]?.stringValue == "query")

        var expressions: [String] = variables.compactMap { $0[path: ["query", "query"]]?.stringValue }
        let panels = dashboard["panels"]?.arrayValue ?? []
        var ids: Set<Int64> = []
        var titles: [String] = []
        for panel in panels {
            let id = try #require(panel["id"]?.intValue)
            #expect(ids.insert(id).inserted, "duplicate panel id \(id)")
            #expect(panel["gridPos"]?["w"]?.intValue != nil)
            guard panel["type"]?.stringValue != "row" else { continue }
            titles.append(panel["title"]?.stringValue ?? "")
            #expect(panel[path: ["datasource", "uid"]]?.stringValue == "${DS_PROMETHEUS}")
            let targets = panel["targets"]?.arrayValue ?? []
            #expect(!targets.isEmpty, "panel \(id) has no query")
            for target in targets {
                let expression = try #require(target["expr"]?.stringValue)
                #expect(target[path: ["datasource", "uid"]]?.stringValue == "${DS_PROMETHEUS}")
                #expect(!metricNames(in: expression).isEmpty, "\(expression) uses no operator metric")
                expressions.append(expression)
            }
        }
        // The panels the operator's story needs.
        let needles = ["weight", "Replicas", "TTFT", "Queue wait", "load time", "Decisions", "Reconcile", "Work queue"]
        for needle in needles {
            #expect(titles.contains { $0.localizedCaseInsensitiveContains(needle) }, "no panel about \(needle)")
        }
        let used = expressions.reduce(into: Set<String>()) { $0.formUnion(metricNames(in: $1)) }
        #expect(used.contains("modelrollout_model_load_seconds"))
        #expect(
            expressions.contains {
                $0.contains("histogram_quantile") && $0.contains("modelrollout_model_load_seconds_bucket")
            })

        // Every metric a panel asks for is one a real scrape of the operator exports.
        let scraped = PrometheusText.parse(try await Self.scrape(try await Self.populatedRegistry())).familyNames
        let missing = used.subtracting(scraped)
        #expect(missing.isEmpty, "the dashboard queries metrics the operator does not export: \(missing.sorted())")
    }
}
