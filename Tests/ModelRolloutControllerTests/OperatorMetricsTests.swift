import Foundation
import KubeCore
import KubeRuntime
import Metrics
import ModelRolloutCore
import Prometheus
import Testing

@testable import ModelRolloutController

/// A histogram of a vLLM pod with the given cumulative counts at 0.5 s, 1 s, 2 s, 5 s and +Inf.
private func histogram(_ name: String, _ counts: [Double]) -> PrometheusHistogram {
    let bounds: [Double] = [0.5, 1, 2, 5, .infinity]
    return PrometheusHistogram(
        name: name, labels: [:],
        buckets: zip(bounds, counts).map { HistogramBucket(upperBound: $0, cumulativeCount: $1) },
        count: counts.last)
}

private func sample(pod: String, ttft: [Double], queue: [Double], waiting: Double, at seconds: Double)
    -> PodMetricsSample
{
    PodMetricsSample(
        pod: pod, time: Date(timeIntervalSince1970: seconds),
        ttft: histogram("vllm:time_to_first_token_seconds", ttft),
        queueTime: histogram("vllm:request_queue_time_seconds", queue), successTotal: ttft.last, running: 1,
        waiting: waiting)
}

/// The value of the single sample `name` with exactly these labels in a parsed scrape.
private func value(_ scrape: PrometheusScrape, _ name: String, _ labels: [String: String]) -> Double? {
    scrape.samples.first { $0.name == name && $0.labels == labels }?.value
}

private let base = ["namespace": "llm", "modelrollout": "chat"]

private func snapshot(phase: String?, revisions: [RevisionMetricsSnapshot], requestClass: String = "default")
    -> RolloutMetricsSnapshot
{
    RolloutMetricsSnapshot(
        namespace: "llm", name: "chat", model: "llama", route: "chat-route", requestClass: requestClass,
        phase: phase, revisions: revisions)
}

@Suite("Operator metrics")
struct OperatorMetricsTests {
    @Test(arguments: [
        ([String: String]?.none, "default"), (["modelrollout.io/class": "batch"], "batch"),
        (["modelrollout.io/class": "  "], "default"), (["app": "x"], "default"),
        (["modelrollout.io/class": " interactive "], "interactive"),
    ])
    func requestClassComesFromTheRouteLabel(labels: [String: String]?, expected: String) {
        #expect(RequestClass.name(routeLabels: labels) == expected)
    }

    @Test func weightsReplicasAndPhasePerRevision() {
        let registry = PrometheusCollectorRegistry()
        let metrics = RolloutMetrics(registry: registry)
        metrics.update(
            snapshot(
                phase: "Progressing",
                revisions: [
                    RevisionMetricsSnapshot(revision: "llama-v1", weight: 80, desired: 3, ready: 3, loading: 0),
                    RevisionMetricsSnapshot(
                        revision: "llama-v2", weight: 20, backend: "llama-v2-pool", desired: 2, ready: 1, loading: 1),
                ]))
        let scrape = PrometheusText.parse(registry.emitToString())
        let route = base.merging(["route": "chat-route"]) { $1 }
        #expect(
            value(scrape, "modelrollout_route_weight", route.merging(["revision": "llama-v1", "backend": "llama-v1"]) { $1 })
                == 80)
        #expect(
            value(
                scrape, "modelrollout_route_weight",
                route.merging(["revision": "llama-v2", "backend": "llama-v2-pool"]) { $1 }) == 20)
        for (revision, state, expected) in [
            ("llama-v1", "desired", 3.0), ("llama-v1", "ready", 3), ("llama-v1", "loading", 0),
            ("llama-v2", "desired", 2), ("llama-v2", "ready", 1), ("llama-v2", "loading", 1),
        ] {
            let labels = base.merging(["revision": revision, "state": state]) { $1 }
            #expect(value(scrape, "modelrollout_replicas", labels) == expected, "\(revision) \(state)")
        }
        // One-hot phase over every known phase.
        let phases = scrape.samples(named: "modelrollout_phase")
        #expect(phases.count == RolloutPhase.allCases.count)
        #expect(phases.filter { $0.value == 1 }.map { $0.labels["phase"] } == ["Progressing"])
        let info = base.merging(["model": "llama", "route": "chat-route", "class": "default"]) { $1 }
        #expect(value(scrape, "modelrollout_info", info) == 1)
    }

    @Test func promotionDropsTheOldRevisionAndDeletionDropsEverything() {
        let registry = PrometheusCollectorRegistry()
        let metrics = RolloutMetrics(registry: registry)
        metrics.update(
            snapshot(
                phase: "Progressing",
                revisions: [
                    RevisionMetricsSnapshot(revision: "llama-v1", weight: 50, desired: 2, ready: 2),
                    RevisionMetricsSnapshot(revision: "llama-v2", weight: 50, desired: 2, ready: 2),
                ]))
        metrics.recordModelLoad(namespace: "llm", rollout: "chat", model: "llama", revision: "llama-v1", seconds: 40)
        metrics.recordModelLoad(namespace: "llm", rollout: "chat", model: "llama", revision: "llama-v2", seconds: 70)
        metrics.recordReadinessDelay(
            namespace: "llm", rollout: "chat", model: "llama", revision: "llama-v2", seconds: 3)
        metrics.setDesiredReplicas(namespace: "llm", rollout: "chat", revision: "llama-v1", replicas: 2)
        metrics.recordDecision(namespace: "llm", rollout: "chat", kind: "Weight", rule: "capacity-ready")
        // Another rollout in the same namespace is left alone throughout.
        metrics.recordDecision(namespace: "llm", rollout: "other", kind: "Weight", rule: "rollout-start")
        #expect(registry.emitToString().contains(#"revision="llama-v1""#))

        // Promoted: v1 is no longer part of the rollout; v2 keeps its load-time histogram.
        metrics.update(
            snapshot(
                phase: "Promoted",
                revisions: [RevisionMetricsSnapshot(revision: "llama-v2", weight: 100, desired: 2, ready: 2)]))
        let text = registry.emitToString()
        #expect(!text.contains("llama-v1"))
        let scrape = PrometheusText.parse(text)
        let load = scrape.histograms(named: "modelrollout_model_load_seconds")
        #expect(load.map { $0.labels["revision"] } == ["llama-v2"])
        #expect(load.first?.count == 1)
        #expect(scrape.histograms(named: "modelrollout_readiness_delay_seconds").first?.sum == 3)
        let decisions = base.merging(["kind": "Weight", "rule": "capacity-ready"]) { $1 }
        #expect(value(scrape, "modelrollout_decisions_total", decisions) == 1)

        // Deleted: nothing of `chat` remains, `other` does.
        metrics.forget(namespace: "llm", rollout: "chat")
        let after = registry.emitToString()
        #expect(!after.contains(#"modelrollout="chat""#))
        #expect(after.contains(#"modelrollout="other""#))
        #expect(metrics.seriesCount(namespace: "llm", rollout: "chat") == 0)
        #expect(metrics.seriesCount(namespace: "llm", rollout: "other") == 1)
    }

    @Test func aChangedRouteClassReplacesTheInfoSeries() {
        let registry = PrometheusCollectorRegistry()
        let metrics = RolloutMetrics(registry: registry)
        metrics.update(snapshot(phase: "Steady", revisions: []))
        metrics.update(snapshot(phase: "Steady", revisions: [], requestClass: "batch"))
        let infos = PrometheusText.parse(registry.emitToString()).samples(named: "modelrollout_info")
        #expect(infos.map { $0.labels["class"] } == ["batch"])
    }

    @Test func runtimeQuantilesCoverTheWindowSinceThePreviousScrape() throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = RolloutMetrics(registry: registry)
        func observe(_ samples: [PodMetricsSample]) -> PrometheusScrape {
            metrics.observeRuntime(
                namespace: "llm", rollout: "chat", model: "llama", route: "chat-route", requestClass: "batch",
                revision: "llama-v2", samples: samples)
            return PrometheusText.parse(registry.emitToString())
        }
        let labels = base.merging(
            ["model": "llama", "route": "chat-route", "revision": "llama-v2", "class": "batch"]) { $1 }
        // First scrape: 100 fast requests on two pods (everything under 0.5 s) → the whole life counts.
        var scrape = observe([
            sample(pod: "a", ttft: [50, 50, 50, 50, 50], queue: [50, 50, 50, 50, 50], waiting: 2, at: 0),
            sample(pod: "b", ttft: [50, 50, 50, 50, 50], queue: [50, 50, 50, 50, 50], waiting: 1, at: 0),
        ])
        let first = try #require(value(scrape, "modelrollout_ttft_seconds", labels))
        #expect(first <= 0.5)
        #expect(value(scrape, "modelrollout_waiting_requests", base.merging(["revision": "llama-v2"]) { $1 }) == 3)
        // Next window: pod a served 10 more, all between 2 s and 5 s; the old fast requests do not dilute it.
        scrape = observe([
            sample(pod: "a", ttft: [50, 50, 50, 60, 60], queue: [50, 50, 50, 60, 60], waiting: 7, at: 10),
            sample(pod: "b", ttft: [50, 50, 50, 50, 50], queue: [50, 50, 50, 50, 50], waiting: 0, at: 10),
        ])
        let second = try #require(value(scrape, "modelrollout_ttft_seconds", labels))
        #expect(second > 2 && second <= 5)
        let queue = try #require(value(scrape, "modelrollout_queue_wait_seconds", labels))
        #expect(queue > 2 && queue <= 5)
        #expect(value(scrape, "modelrollout_waiting_requests", base.merging(["revision": "llama-v2"]) { $1 }) == 7)
        // A window without requests keeps the last quantile instead of inventing one.
        scrape = observe([
            sample(pod: "a", ttft: [50, 50, 50, 60, 60], queue: [50, 50, 50, 60, 60], waiting: 0, at: 20),
        ])
        #expect(value(scrape, "modelrollout_ttft_seconds", labels) == second)
        #expect(metrics.observeRuntime(
            namespace: "llm", rollout: "chat", model: "llama", route: "chat-route", requestClass: "batch",
            revision: "llama-v2", samples: []) == nil)
    }

    @Test func snapshotMapsPlannedWeightsAndObservedReplicasToRevisions() {
        let spec = ModelRolloutSpec(model: "llama", deployment: "llama-v2", route: RouteReference(name: "chat-route"))
        let snapshot = RolloutReconciler.metricsSnapshot(
            namespace: "llm", name: "chat", spec: spec, requestClass: "default", phase: .progressing,
            weights: RevisionWeights(stable: 75, candidate: 25), stableDeployment: "llama-v1",
            candidateDeployment: "llama-v2",
            observations: [
                RevisionObservation(deployment: "llama-v1", service: "s1", desiredReplicas: 4, modelReady: 4),
                RevisionObservation(
                    deployment: "llama-v2", service: "s2", desiredReplicas: 2, modelReady: 1, loading: 1),
                RevisionObservation.missing(deployment: "llama-v0", service: "s0"),
            ])
        #expect(snapshot.phase == "Progressing")
        #expect(
            snapshot.revisions == [
                RevisionMetricsSnapshot(revision: "llama-v1", weight: 75, desired: 4, ready: 4, loading: 0),
                RevisionMetricsSnapshot(revision: "llama-v2", weight: 25, desired: 2, ready: 1, loading: 1),
                RevisionMetricsSnapshot(revision: "llama-v0", weight: nil, desired: 0, ready: 0, loading: 0),
            ])
    }

    @Test func readinessDelayStartsAtTheReadyTransition() throws {
        let transition = Date(timeIntervalSince1970: 1_000)
        var pod = Pod(metadata: ObjectMeta(name: "p"), spec: PodSpec(containers: []))
        #expect(RolloutGatherer.readySince(pod) == nil)
        var status = PodStatus()
        status.conditions = [
            PodCondition(type: "PodScheduled", status: "True", lastTransitionTime: Date(timeIntervalSince1970: 1)),
            PodCondition(type: "Ready", status: "False", lastTransitionTime: transition),
        ]
        pod.status = status
        #expect(RolloutGatherer.readySince(pod) == nil)
        status.conditions?[1] = PodCondition(type: "Ready", status: "True", lastTransitionTime: transition)
        pod.status = status
        #expect(RolloutGatherer.readySince(pod) == transition)
    }

    @Test func theFactoryGivesHelpAndDerivesTheErrorsCounter() {
        let registry = PrometheusCollectorRegistry()
        let (errors, success, depth) = withMetricsFactory(OperatorMetrics.factory(registry: registry)) {
            (
                Counter(
                    label: "controller_runtime_reconcile_total",
                    dimensions: [("controller", "modelrollout"), ("result", "error")]),
                Counter(
                    label: "controller_runtime_reconcile_total",
                    dimensions: [("controller", "modelrollout"), ("result", "success")]),
                Gauge(label: "workqueue_depth", dimensions: [("name", "modelrollout")])
            )
        }
        errors.increment()
        errors.increment()
        success.increment()
        depth.record(4)
        let scrape = PrometheusText.parse(registry.emitToString())
        #expect(value(scrape, "controller_runtime_reconcile_errors_total", ["controller": "modelrollout"]) == 2)
        #expect(
            value(
                scrape, "controller_runtime_reconcile_total", ["controller": "modelrollout", "result": "success"])
                == 1)
        #expect(value(scrape, "workqueue_depth", ["name": "modelrollout"]) == 4)
        let names = [
            "controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total", "workqueue_depth",
        ]
        for name in names {
            #expect(scrape.help[name] == OperatorMetrics.help(for: name))
        }
        #expect(OperatorMetrics.help(for: "something_else").isEmpty == false)
    }
}
