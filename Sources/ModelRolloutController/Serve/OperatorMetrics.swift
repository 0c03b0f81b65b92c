import Foundation
import Metrics
import Prometheus

/// The operator's Prometheus metrics: one process-wide registry, and the swift-metrics factory that makes the
/// `workqueue_*` and `controller_runtime_*` metrics KubeRuntime emits through swift-metrics land in it.
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

    /// A swift-metrics factory writing into `registry`, with seconds-scaled histogram buckets.
    public static func factory(registry: PrometheusCollectorRegistry = registry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultValueHistogramBuckets = secondsBuckets
        factory.defaultDurationHistogramBuckets = secondsBuckets.map { .nanoseconds(Int64($0 * 1e9)) }
        return factory
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
