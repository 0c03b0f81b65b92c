import ClusterSim
import Foundation
import KubeCore
import ModelRolloutCore
import Testing

/// The ModelRollout controller end to end: the emulated cluster (compressed model loads, real-time serving, the
/// gateway and an open-loop load generator) and the real `modelrollout controller` binary.
@Suite("ModelRollout end to end", .serialized)
struct RolloutEndToEndTests {
    /// Starts r1 (2 replicas) behind the route, waits until it serves, starts load, the controller and the
    /// ModelRollout on r1 (adopted as stable).
    static func steadyFleet(
        _ harness: Harness, probe: Harness.Probe = .model, candidateAnnotations: [String: String] = [:],
        spec: [String: JSONValue] = [:], rate: Double = 40
    ) async throws -> LoadGenerator {
        try await harness.createRevision("r1", replicas: 2, probe: probe)
        try await harness.createRevision("r2", replicas: 0, probe: probe, annotations: candidateAnnotations)
        try await harness.createRoute(["r1": 100])
        try await harness.waitUntil("r1 serving", seconds: 60) { try await harness.readyPods("r1") == 2 }
        // A TCP-probed pod is Ready while loading: wait until both actually serve.
        try await Task.sleep(for: .seconds(probe == .process ? 3 : 0))
        let load = LoadGenerator(
            configuration: .init(
                url: harness.gatewayURL, rate: rate, model: Harness.model, promptTokens: 100, maxTokens: 8,
                seed: 42))
        await load.start()
        harness.startObservers(candidate: "r2")
        try harness.startController()
        var initial = spec
        initial["deployment"] = "r1"
        try await harness.createRollout(spec: initial)
        try await harness.waitUntil("the rollout to adopt r1") {
            let rollout = try await harness.rollout()
            return rollout.status?.stableDeployment == "r1" && rollout.status?.observedGeneration == 1
        }
        return load
    }

    @Test("(a) a revision rollout under load follows the steps, never routes to loading pods, and promotes")
    func rolloutUnderLoad() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await Self.steadyFleet(harness)
        let started = Date()
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("promotion", seconds: 90) {
            try await harness.rollout().status?.phase == .promoted
        }
        let promotedAfter = Date().timeIntervalSince(started)
        // The old revision leaves the route and scales to zero after scaleDownDelay (2 s).
        try await harness.waitUntil("r1 retired", seconds: 30) {
            let weights = try await harness.routeWeights()
            let replicas = try await harness.replicas("r1")
            return weights["r1"] == nil && replicas == 0
        }
        await load.stop()
        let summary = await load.summary()
        let status = try #require(try await harness.rollout().status)
        let sequence = await harness.weights.sequence("r2")
        let latencies = await harness.gateLatencies(candidate: "r2")
        print(
            "e2e(a): promoted after \(String(format: "%.1f", promotedAfter)) s; r2 weights \(sequence); "
                + "requests \(summary.count) ok \(summary.ok) toUnloaded \(summary.requestsToUnloadedPods); "
                + "gate latencies \(latencies.map { String(format: "%.3f", $0) })")
        GateLatencyLog.shared.append(latencies)
        let changes = await harness.weights.changes.map { "\($0.time.timeIntervalSince(started)) \($0.weights)" }
        let ready = await harness.evidence.times.map { $0.timeIntervalSince(started) }.sorted()
        print("e2e(a): changes \(changes); evidence \(ready)")
        print("e2e(a): errors \(await load.snapshot().filter { !$0.ok }.map { "\($0.status) \($0.error ?? "")" })")

        #expect(sequence == [10, 50, 100])
        #expect(summary.requestsToUnloadedPods == 0)
        #expect(summary.count > 100)
        #expect(Double(summary.ok) >= 0.99 * Double(summary.count))
        #expect((summary.byRevision["r2"] ?? 0) > 0)
        #expect(status.stableDeployment == "r2")
        #expect(status.weights == RevisionWeights(stable: 100, candidate: 0))
        #expect(status.loadTime?.samples ?? 0 >= 2)
        #expect(status.condition("Progressing")?.reason == "RolloutComplete")
        #expect(status.conditions.allSatisfy { $0.observedGeneration == 2 })
        let kinds = status.decisions.map(\.kind)
        #expect(kinds.filter { $0 == .weight }.count == 3)
        #expect(kinds.contains(.promote))
        #expect(status.decisions.contains { $0.kind == .scale && $0.rule == "retire-after-delay" })
        let reasons = try await harness.events().compactMap { $0["reason"]?.stringValue }
        #expect(reasons.contains("WeightsChanged"))
        #expect(reasons.contains("Scaled"))
        #expect(reasons.contains("Promoted"))
        #expect(!latencies.isEmpty)
        #expect(latencies.allSatisfy { $0 < 1.0 })
    }
}

/// Gate latencies collected across scenarios (printed as a p95 by the last test that runs).
final class GateLatencyLog: @unchecked Sendable {
    // Safe: guarded by `lock`.
    static let shared = GateLatencyLog()
    private let lock = NSLock()
    private var values: [Double] = []

    func append(_ more: [Double]) {
        lock.lock()
        values += more
        lock.unlock()
    }

    var all: [Double] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}
