import Foundation
import ModelRolloutCore
import Prometheus

/// What the metrics show of one revision (a Deployment) of a ModelRollout after a reconcile.
public struct RevisionMetricsSnapshot: Sendable, Equatable {
    /// The Deployment name (the `revision` label).
    public var revision: String
    /// Its HTTPRoute weight, when it is a backend.
    public var weight: Int?
    /// The route backend (Service or InferencePool) that carries the weight (the `backend` label); defaults to
    /// the revision's name.
    public var backend: String?
    public var desired: Int
    public var ready: Int
    public var loading: Int

    public init(
        revision: String, weight: Int? = nil, backend: String? = nil, desired: Int = 0, ready: Int = 0,
        loading: Int = 0
    ) {
        self.revision = revision
        self.weight = weight
        self.backend = backend
        self.desired = desired
        self.ready = ready
        self.loading = loading
    }
}

/// What the metrics show of one ModelRollout after a reconcile.
public struct RolloutMetricsSnapshot: Sendable, Equatable {
    public var namespace: String
    public var name: String
    public var model: String
    public var route: String
    /// The request class (the route's `modelrollout.io/class` label, else `default`).
    public var requestClass: String
    /// The phase's raw value (`Steady`, `Progressing`, ...), if known.
    public var phase: String?
    /// Every revision that still exists for the rollout; series of other revisions are dropped.
    public var revisions: [RevisionMetricsSnapshot]

    public init(
        namespace: String, name: String, model: String, route: String, requestClass: String, phase: String?,
        revisions: [RevisionMetricsSnapshot]
    ) {
        self.namespace = namespace
        self.name = name
        self.model = model
        self.route = route
        self.requestClass = requestClass
        self.phase = phase
        self.revisions = revisions
    }
}

/// The ModelRollout-level Prometheus series (`modelrollout_*`), written straight into a registry so that the
/// series of a deleted rollout, or of a revision that is no longer part of it, can be dropped.
///
/// Labels are bounded: namespace, ModelRollout name, model, route, request class, revision (a Deployment name),
/// phase, state, decision kind and rule — never pods or requests. Every family carries the HELP text of
/// ``OperatorMetrics/catalog``.
///
/// `@unchecked Sendable` is safe: the only mutable state (`series`, `lastSamples`) is accessed under `lock`.
public final class RolloutMetrics: @unchecked Sendable {
    public let registry: PrometheusCollectorRegistry

    private enum Metric {
        case counter(Prometheus.Counter)
        case gauge(Prometheus.Gauge)
        case histogram(Prometheus.ValueHistogram)
    }

    private struct Series {
        var revision: String?
        var metric: Metric
    }

    private struct RolloutID: Hashable {
        var namespace: String
        var name: String
    }

    private struct RevisionID: Hashable {
        var rollout: RolloutID
        var revision: String
    }

    private let lock = NSLock()
    private var series: [RolloutID: [String: Series]] = [:]
    private var lastSamples: [RevisionID: [PodMetricsSample]] = [:]

    public init(registry: PrometheusCollectorRegistry = OperatorMetrics.registry) {
        self.registry = registry
    }

    // MARK: - Updates

    /// Sets the info, phase, weight and replica gauges of a rollout and drops every series of revisions not in
    /// the snapshot (a promoted-away or deleted Deployment).
    public func update(_ snapshot: RolloutMetricsSnapshot) {
        let id = RolloutID(namespace: snapshot.namespace, name: snapshot.name)
        let base = [("namespace", snapshot.namespace), ("modelrollout", snapshot.name)]
        withLock {
            // Info: one series; a changed model/route/class replaces it.
            let info = base + [
                ("model", snapshot.model), ("route", snapshot.route), ("class", snapshot.requestClass),
            ]
            let infoKey = Self.key("modelrollout_info", info)
            for (key, entry) in series[id] ?? [:] where key.hasPrefix("modelrollout_info{") && key != infoKey {
                unregister(entry.metric)
                series[id]?[key] = nil
            }
            gauge(id, "modelrollout_info", info).set(to: 1)
            if let phase = snapshot.phase {
                var phases = RolloutPhase.allCases.map(\.rawValue)
                if !phases.contains(phase) { phases.append(phase) }
                for candidate in phases {
                    gauge(id, "modelrollout_phase", base + [("phase", candidate)]).set(to: candidate == phase ? 1 : 0)
                }
            }
            for revision in snapshot.revisions {
                let labels =
                    base + [
                        ("route", snapshot.route), ("revision", revision.revision),
                        ("backend", revision.backend ?? revision.revision),
                    ]
                // A revision's weight series under another backend name (its backend changed) is dropped.
                let weightKey = Self.key("modelrollout_route_weight", labels)
                for (key, entry) in series[id] ?? [:]
                where key.hasPrefix("modelrollout_route_weight{") && entry.revision == revision.revision
                    && key != weightKey
                {
                    unregister(entry.metric)
                    series[id]?[key] = nil
                }
                if let weight = revision.weight {
                    gauge(id, "modelrollout_route_weight", labels, revision: revision.revision).set(to: Double(weight))
                } else {
                    drop(id, Self.key("modelrollout_route_weight", labels))
                }
                let revisionLabels = base + [("revision", revision.revision)]
                for (state, value) in [
                    ("desired", revision.desired), ("ready", revision.ready), ("loading", revision.loading),
                ] {
                    gauge(id, "modelrollout_replicas", revisionLabels + [("state", state)], revision: revision.revision)
                        .set(to: Double(value))
                }
            }
            retainRevisions(id, Set(snapshot.revisions.map(\.revision)))
        }
    }

    /// Observes one pod's model load time (creation → model ready).
    public func recordModelLoad(namespace: String, rollout: String, model: String, revision: String, seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return }
        let id = RolloutID(namespace: namespace, name: rollout)
        withLock {
            histogram(
                id, "modelrollout_model_load_seconds",
                [("namespace", namespace), ("modelrollout", rollout), ("model", model), ("revision", revision)],
                revision: revision
            ).record(seconds)
        }
    }

    /// Observes one pod's readiness delay (Ready condition → model ready).
    public func recordReadinessDelay(
        namespace: String, rollout: String, model: String, revision: String, seconds: Double
    ) {
        guard seconds.isFinite else { return }
        let id = RolloutID(namespace: namespace, name: rollout)
        withLock {
            histogram(
                id, "modelrollout_readiness_delay_seconds",
                [("namespace", namespace), ("modelrollout", rollout), ("model", model), ("revision", revision)],
                revision: revision
            ).record(max(0, seconds))
        }
    }

    /// Counts one planner decision.
    public func recordDecision(namespace: String, rollout: String, kind: String, rule: String) {
        let id = RolloutID(namespace: namespace, name: rollout)
        withLock {
            counter(
                id, "modelrollout_decisions_total",
                [("namespace", namespace), ("modelrollout", rollout), ("kind", kind), ("rule", rule)]
            ).increment()
        }
    }

    /// Sets the autoscaler's desired replicas of a revision.
    public func setDesiredReplicas(namespace: String, rollout: String, revision: String, replicas: Int) {
        let id = RolloutID(namespace: namespace, name: rollout)
        withLock {
            gauge(
                id, "modelrollout_desired_replicas",
                [("namespace", namespace), ("modelrollout", rollout), ("revision", revision)], revision: revision
            ).set(to: Double(replicas))
        }
    }

    /// Derives TTFT and queue-wait p95 and the waiting requests of a revision from a scrape of its model-ready
    /// pods. The quantiles cover the window since the previous scrape of that revision (the pods' whole life at
    /// the first one); a window without requests leaves the last values in place. Returns the window.
    @discardableResult
    public func observeRuntime(
        namespace: String, rollout: String, model: String, route: String, requestClass: String, revision: String,
        samples: [PodMetricsSample]
    ) -> RevisionWindow? {
        guard !samples.isEmpty else { return nil }
        let id = RolloutID(namespace: namespace, name: rollout)
        let labels = [
            ("namespace", namespace), ("modelrollout", rollout), ("model", model), ("route", route),
            ("revision", revision), ("class", requestClass),
        ]
        return withLock {
            let revisionID = RevisionID(rollout: id, revision: revision)
            let window = RevisionMetrics.window(baseline: lastSamples[revisionID] ?? [], current: samples)
            lastSamples[revisionID] = samples
            if let ttft = window.ttft, (ttft.observations ?? 0) > 0, let p95 = ttft.quantile(0.95), p95.isFinite {
                gauge(id, "modelrollout_ttft_seconds", labels, revision: revision).set(to: p95)
            }
            if let queue = window.queueTime, (queue.observations ?? 0) > 0, let p95 = queue.quantile(0.95),
                p95.isFinite
            {
                gauge(id, "modelrollout_queue_wait_seconds", labels, revision: revision).set(to: p95)
            }
            if let waiting = window.waiting {
                gauge(
                    id, "modelrollout_waiting_requests",
                    [("namespace", namespace), ("modelrollout", rollout), ("revision", revision)], revision: revision
                ).set(to: waiting)
            }
            return window
        }
    }

    /// Drops every series of a rollout (it was deleted).
    public func forget(namespace: String, rollout: String) {
        let id = RolloutID(namespace: namespace, name: rollout)
        withLock {
            for entry in (series[id] ?? [:]).values { unregister(entry.metric) }
            series[id] = nil
            lastSamples = lastSamples.filter { $0.key.rollout != id }
        }
    }

    /// The number of series held for a rollout (for tests and diagnostics).
    public func seriesCount(namespace: String, rollout: String) -> Int {
        withLock { series[RolloutID(namespace: namespace, name: rollout)]?.count ?? 0 }
    }

    // MARK: - Registry plumbing (call under `lock`)

    private func withLock<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    private static func key(_ name: String, _ labels: [(String, String)]) -> String {
        name + "{" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    private func retainRevisions(_ id: RolloutID, _ keep: Set<String>) {
        for (key, entry) in series[id] ?? [:] {
            if let revision = entry.revision, !keep.contains(revision) {
                unregister(entry.metric)
                series[id]?[key] = nil
            }
        }
        lastSamples = lastSamples.filter { $0.key.rollout != id || keep.contains($0.key.revision) }
    }

    private func drop(_ id: RolloutID, _ key: String) {
        guard let entry = series[id]?[key] else { return }
        unregister(entry.metric)
        series[id]?[key] = nil
    }

    private func unregister(_ metric: Metric) {
        switch metric {
        case .counter(let counter): registry.unregisterCounter(counter)
        case .gauge(let gauge): registry.unregisterGauge(gauge)
        case .histogram(let histogram): registry.unregisterValueHistogram(histogram)
        }
    }

    private func gauge(
        _ id: RolloutID, _ name: String, _ labels: [(String, String)], revision: String? = nil
    ) -> Prometheus.Gauge {
        let key = Self.key(name, labels)
        if case .gauge(let gauge)? = series[id]?[key]?.metric { return gauge }
        let gauge = registry.makeGauge(name: name, labels: labels, help: OperatorMetrics.help(for: name))
        series[id, default: [:]][key] = Series(revision: revision, metric: .gauge(gauge))
        return gauge
    }

    private func counter(
        _ id: RolloutID, _ name: String, _ labels: [(String, String)], revision: String? = nil
    ) -> Prometheus.Counter {
        let key = Self.key(name, labels)
        if case .counter(let counter)? = series[id]?[key]?.metric { return counter }
        let counter = registry.makeCounter(name: name, labels: labels, help: OperatorMetrics.help(for: name))
        series[id, default: [:]][key] = Series(revision: revision, metric: .counter(counter))
        return counter
    }

    private func histogram(
        _ id: RolloutID, _ name: String, _ labels: [(String, String)], revision: String? = nil
    ) -> Prometheus.ValueHistogram {
        let key = Self.key(name, labels)
        if case .histogram(let histogram)? = series[id]?[key]?.metric { return histogram }
        let histogram = registry.makeValueHistogram(
            name: name, labels: labels, buckets: OperatorMetrics.secondsBuckets, help: OperatorMetrics.help(for: name))
        series[id, default: [:]][key] = Series(revision: revision, metric: .histogram(histogram))
        return histogram
    }
}
