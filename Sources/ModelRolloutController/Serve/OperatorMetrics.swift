import Foundation
import Metrics
import Prometheus

/// The kind of a Prometheus metric family the operator exports.
public enum OperatorMetricType: String, Sendable, Hashable {
    case counter, gauge, histogram
}

/// One metric family the operator exports: its name, type, label names and HELP text (the metrics reference).
public struct OperatorMetricDefinition: Sendable, Hashable {
    public var name: String
    public var type: OperatorMetricType
    public var labels: [String]
    public var help: String

    public init(_ name: String, _ type: OperatorMetricType, labels: [String], help: String) {
        self.name = name
        self.type = type
        self.labels = labels
        self.help = help
    }
}

/// The operator's Prometheus metrics: one process-wide registry, the catalog of every family it exports (with
/// HELP text), and the swift-metrics factory that makes the `workqueue_*` and `controller_runtime_*` metrics
/// KubeRuntime emits through swift-metrics land in it.
///
/// swift-metrics may be bootstrapped only once per process, and metrics created before the bootstrap stay
/// no-ops: call ``bootstrapOnce(registry:)`` before building controllers and work queues. Tests that must
/// not touch the global state bind ``factory(registry:)`` with `withMetricsFactory` instead.
public enum OperatorMetrics {
    /// The registry `/metrics` serves by default.
    public static let registry = PrometheusCollectorRegistry()

    /// Histogram buckets, in seconds, for every recorder (queue and work durations, reconcile time, load times).
    public static let secondsBuckets: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800,
    ]

    /// Every metric family the operator exports. controller-runtime's and client-go's names come first
    /// (`controller_runtime_reconcile_errors_total` is derived by ``OperatorMetricsFactory`` from the
    /// `result="error"` series of `controller_runtime_reconcile_total`), then the rollout's own.
    public static let catalog: [OperatorMetricDefinition] = [
        .init(
            "controller_runtime_reconcile_total", .counter, labels: ["controller", "result"],
            help: "Total number of reconciliations per controller, by result (success, error, requeue, requeue_after)."
        ),
        .init(
            "controller_runtime_reconcile_errors_total", .counter, labels: ["controller"],
            help: "Total number of reconciliation errors per controller."),
        .init(
            "controller_runtime_reconcile_time_seconds", .histogram, labels: ["controller"],
            help: "Length of time per reconciliation per controller."),
        .init(
            "workqueue_depth", .gauge, labels: ["name"], help: "Current depth of workqueue."),
        .init(
            "workqueue_adds_total", .counter, labels: ["name"], help: "Total number of adds handled by workqueue."),
        .init(
            "workqueue_retries_total", .counter, labels: ["name"],
            help: "Total number of retries handled by workqueue."),
        .init(
            "workqueue_queue_duration_seconds", .histogram, labels: ["name"],
            help: "How long in seconds an item stays in workqueue before being requested."),
        .init(
            "workqueue_work_duration_seconds", .histogram, labels: ["name"],
            help: "How long in seconds processing an item from workqueue takes."),
        .init(
            "modelrollout_info", .gauge, labels: ["namespace", "modelrollout", "model", "route", "class"],
            help: "Always 1: the model, HTTPRoute and request class of a ModelRollout."),
        .init(
            "modelrollout_phase", .gauge, labels: ["namespace", "modelrollout", "phase"],
            help: "1 for the ModelRollout's current phase, 0 for every other phase."),
        .init(
            "modelrollout_route_weight", .gauge,
            labels: ["namespace", "modelrollout", "route", "revision", "backend"],
            help:
                "HTTPRoute backend weight of a revision (its Deployment) on its backend (the Service or "
                + "InferencePool the backendRef names), as last written or observed."),
        .init(
            "modelrollout_replicas", .gauge, labels: ["namespace", "modelrollout", "revision", "state"],
            help: "Replicas of a revision by state: desired (spec), ready (model loaded) or loading."),
        .init(
            "modelrollout_desired_replicas", .gauge, labels: ["namespace", "modelrollout", "revision"],
            help: "Replicas the autoscaler asks for on the stable revision."),
        .init(
            "modelrollout_decisions_total", .counter, labels: ["namespace", "modelrollout", "kind", "rule"],
            help: "Decisions the rollout planner made, by kind and rule."),
        .init(
            "modelrollout_model_load_seconds", .histogram, labels: ["namespace", "modelrollout", "model", "revision"],
            help: "Seconds from pod creation until the model is loaded and served (per pod)."),
        .init(
            "modelrollout_readiness_delay_seconds", .histogram,
            labels: ["namespace", "modelrollout", "model", "revision"],
            help: "Seconds from the pod's Ready condition (kubelet) to the model being ready (operator), per pod."),
        .init(
            "modelrollout_ttft_seconds", .gauge,
            labels: ["namespace", "modelrollout", "model", "route", "revision", "class"],
            help: "p95 time to first token of a revision over the last scrape window (vLLM histogram)."),
        .init(
            "modelrollout_queue_wait_seconds", .gauge,
            labels: ["namespace", "modelrollout", "model", "route", "revision", "class"],
            help: "p95 queue wait of a revision over the last scrape window (vLLM request_queue_time histogram)."),
        .init(
            "modelrollout_waiting_requests", .gauge, labels: ["namespace", "modelrollout", "revision"],
            help: "Requests waiting in the engine queues of a revision's model-ready pods at the last scrape."),
    ]

    private static let helpByName: [String: String] = Dictionary(
        catalog.map { ($0.name, $0.help) }, uniquingKeysWith: { first, _ in first })

    /// The HELP text of a family: the catalog's, else one derived from the name. Always the same for a name
    /// (the registry refuses two HELP texts for one family).
    public static func help(for name: String) -> String {
        helpByName[name] ?? "Operator metric \(name)."
    }

    /// The catalog entry of a family.
    public static func definition(_ name: String) -> OperatorMetricDefinition? {
        catalog.first { $0.name == name }
    }

    /// A swift-metrics factory writing into `registry`, with seconds-scaled histogram buckets and HELP text.
    public static func factory(registry: PrometheusCollectorRegistry = registry) -> OperatorMetricsFactory {
        OperatorMetricsFactory(registry: registry, buckets: secondsBuckets)
    }

    /// Bootstraps swift-metrics with ``factory(registry:)`` unless this was done before in this process. Returns
    /// whether this call did it; later calls (with any registry) change nothing — ``bootstrappedRegistry`` tells
    /// which registry won. Calling `MetricsSystem.bootstrap` elsewhere as well is a programming error that
    /// swift-metrics traps on.
    @discardableResult
    public static func bootstrapOnce(registry: PrometheusCollectorRegistry = registry) -> Bool {
        bootstrapState.run {
            guard $0 == nil else { return false }
            MetricsSystem.bootstrap(factory(registry: registry))
            $0 = registry
            return true
        }
    }

    /// The registry swift-metrics was bootstrapped with by ``bootstrapOnce(registry:)``, if any.
    public static var bootstrappedRegistry: PrometheusCollectorRegistry? {
        bootstrapState.run { $0 }
    }

    private static let bootstrapState = LockedRegistry()
}

/// A swift-metrics factory over a `PrometheusCollectorRegistry` that gives every family the HELP text of
/// ``OperatorMetrics/help(for:)`` and seconds-scaled histogram buckets. It also derives controller-runtime's
/// `controller_runtime_reconcile_errors_total{controller}` from KubeRuntime's
/// `controller_runtime_reconcile_total{controller,result="error"}`: both count every failed reconcile.
public struct OperatorMetricsFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry
    public let buckets: [Double]

    public init(registry: PrometheusCollectorRegistry, buckets: [Double] = OperatorMetrics.secondsBuckets) {
        self.registry = registry
        self.buckets = buckets
    }

    static let reconcileTotal = "controller_runtime_reconcile_total"
    static let reconcileErrors = "controller_runtime_reconcile_errors_total"

    private func counter(_ name: String, _ dimensions: [(String, String)]) -> Prometheus.Counter {
        let help = OperatorMetrics.help(for: name)
        return dimensions.isEmpty
            ? registry.makeCounter(name: name, help: help)
            : registry.makeCounter(name: name, labels: dimensions, help: help)
    }

    private func gauge(_ name: String, _ dimensions: [(String, String)]) -> Prometheus.Gauge {
        let help = OperatorMetrics.help(for: name)
        return dimensions.isEmpty
            ? registry.makeGauge(name: name, help: help)
            : registry.makeGauge(name: name, labels: dimensions, help: help)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let primary = counter(label, dimensions)
        if label == Self.reconcileTotal, dimensions.contains(where: { $0 == ("result", "error") }) {
            let controller = dimensions.filter { $0.0 == "controller" }
            return TeeCounter(primary: primary, secondary: counter(Self.reconcileErrors, controller))
        }
        return primary
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)])
        -> any FloatingPointCounterHandler
    {
        counter(label, dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool)
        -> any RecorderHandler
    {
        guard aggregate else { return gauge(label, dimensions) }
        let help = OperatorMetrics.help(for: label)
        return dimensions.isEmpty
            ? registry.makeValueHistogram(name: label, buckets: buckets, help: help)
            : registry.makeValueHistogram(name: label, labels: dimensions, buckets: buckets, help: help)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        gauge(label, dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let help = OperatorMetrics.help(for: label)
        let durations = buckets.map { Duration.nanoseconds(Int64($0 * 1e9)) }
        return dimensions.isEmpty
            ? registry.makeDurationHistogram(name: label, buckets: durations, help: help)
            : registry.makeDurationHistogram(name: label, labels: dimensions, buckets: durations, help: help)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let tee = handler as? TeeCounter {
            registry.unregisterCounter(tee.primary)
            registry.unregisterCounter(tee.secondary)
        } else if let counter = handler as? Prometheus.Counter {
            registry.unregisterCounter(counter)
        }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        switch handler {
        case let gauge as Prometheus.Gauge: registry.unregisterGauge(gauge)
        case let histogram as Prometheus.ValueHistogram: registry.unregisterValueHistogram(histogram)
        default: break
        }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? Prometheus.DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}

/// A counter handler that increments two registry counters at once.
final class TeeCounter: CounterHandler {
    let primary: Prometheus.Counter
    let secondary: Prometheus.Counter

    init(primary: Prometheus.Counter, secondary: Prometheus.Counter) {
        self.primary = primary
        self.secondary = secondary
    }

    func increment(by amount: Int64) {
        primary.increment(by: amount)
        secondary.increment(by: amount)
    }

    func reset() {
        primary.reset()
        secondary.reset()
    }
}

/// A lock-protected optional registry.
///
/// `@unchecked Sendable` is safe: the only stored mutable state, `value`, is read and written exclusively inside
/// `run`, under `lock`.
private final class LockedRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var value: PrometheusCollectorRegistry?

    func run<T>(_ body: (inout PrometheusCollectorRegistry?) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
