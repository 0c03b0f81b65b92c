import Foundation
import KubeCore
import KubeRuntime
import Logging
import ModelRolloutCore
import Testing

@testable import ModelRolloutBench
@testable import ModelRolloutController

/// Replays recorded snapshots to the reconciler: the ModelRollout (spec, status, generation), the route, the
/// revisions and the samples of one round, and records what the reconciler does with them.
final class ReplayCluster: RolloutSource, RolloutActuator, @unchecked Sendable {
    let key = ObjectKey(namespace: "llm-serving", name: "chat")
    private let lock = NSLock()
    private var snapshot: RoundSnapshot?
    private(set) var actions: [RolloutAction] = []
    private(set) var writtenStatus: ModelRolloutStatus?
    private(set) var sampled = false

    func load(_ snapshot: RoundSnapshot) {
        lock.withLock {
            self.snapshot = snapshot
            actions = []
            writtenStatus = nil
            sampled = false
        }
    }

    func rollout(_ key: ObjectKey) async throws -> DynamicObject? {
        try lock.withLock {
            guard let snapshot else { return nil }
            let metadata = ObjectMeta(
                name: key.name, namespace: key.namespace, uid: "uid", generation: snapshot.generation)
            var raw = try KubeJSON.toJSONValue(
                ModelRollout(metadata: metadata, spec: snapshot.spec, status: snapshot.status))
            raw["apiVersion"] = .string(ResourceDescriptor.modelRollouts.apiVersion)
            raw["kind"] = .string("ModelRollout")
            return DynamicObject(raw: raw)
        }
    }

    func route(_ key: ObjectKey) async throws -> HTTPRoute? {
        lock.withLock {
            guard let snapshot, snapshot.route.found else { return nil }
            let refs = snapshot.route.weights.sorted { $0.key < $1.key }.map {
                HTTPBackendRef(name: $0.key, port: 8000, weight: Int32($0.value))
            }
            return HTTPRoute(
                metadata: ObjectMeta(name: key.name, namespace: key.namespace),
                spec: HTTPRouteSpec(
                    parentRefs: [ParentReference(name: "gw")], rules: [HTTPRouteRule(backendRefs: refs)]))
        }
    }

    func revision(
        _ party: RolloutParties.Revision, namespace: String, spec: ModelRolloutSpec, proven: Set<String>, now: Date
    ) async -> RoundRevision {
        lock.withLock {
            [snapshot?.stable, snapshot?.candidate, snapshot?.retired].compactMap { $0 }
                .first { $0.deployment == party.deployment }
                ?? .missing(deployment: party.deployment, service: party.service)
        }
    }

    func samples(of revisions: [RoundRevision], namespace: String, spec: ModelRolloutSpec, now: Date) async
        -> [PodMetricsSample]
    {
        lock.withLock {
            sampled = true
            return snapshot?.samples ?? []
        }
    }

    func forgetGonePods(namespace: String) async {}
    func inferencePools(_ names: [String], namespace: String) async throws -> [String: InferencePool] { [:] }
    func deployments(namespace: String) async -> [Deployment] { [] }

    func scale(namespace: String, deployment: String, replicas: Int) async throws {
        lock.withLock { actions.append(.scale(deployment: deployment, replicas: replicas)) }
    }

    func setWeights(route: ObjectKey, desired: [String: Int?], kind: BackendKind) async throws -> String {
        lock.withLock { actions.append(.setWeights(desired)) }
        return "recorded"
    }

    func event(_ object: DynamicObject, warning: Bool, reason: String, note: String) async {}

    func updateStatus(_ object: DynamicObject) async throws -> Bool {
        let status = try object.raw["status"].map { try KubeJSON.fromJSONValue(ModelRolloutStatus.self, $0) }
        lock.withLock { writtenStatus = status }
        return true
    }
}

/// The benchmark's numbers are the operator's: the reconciler, fed the snapshots the benchmark's `modelrollout`
/// policy gathered from the simulation, makes the same plans round by round.
@Suite struct SharedRoundTests {
    final class Recording: @unchecked Sendable {
        var rounds: [(RoundSnapshot, RoundOutcome)] = []
    }

    @Test(arguments: ["bad-revision-slow", "seed-revision"])
    func theReconcilerMakesTheBenchmarksPlansFromTheSameSnapshots(_ name: String) async throws {
        var scenario = try #require(Scenario.all().first { $0.name == name })
        scenario.end = scenario.eventTime + 900
        let engine = EngineModel()
        let policy = ModelRolloutPolicy(scenario: scenario, engine: engine)
        let recording = Recording()
        policy.recorder = { recording.rounds.append(($0, $1)) }
        let workload = Workload.generate(
            shape: scenario.shape, process: scenario.process, end: scenario.end, engine: engine, seed: 1)
        Simulation(scenario: scenario, policy: policy, workload: workload, seed: 1, engine: engine).run()
        let rules = Set(recording.rounds.flatMap { $0.1.plan.decisions.map(\.rule) })
        if scenario.badRevision != nil {
            #expect(rules.contains("analysis-failed") && rules.contains("rollback-complete"), "\(rules.sorted())")
        } else {
            #expect(rules.contains("last-step-passed"), "\(rules.sorted())")
        }

        let replay = ReplayCluster()
        let clock = ManualClock(start: try #require(recording.rounds.first?.0.now))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let reconciler = RolloutReconciler(
            source: replay, actuator: replay, settings: ModelRolloutPolicy.settings, logger: logger,
            clock: clock)
        var compared = 0
        for (snapshot, outcome) in recording.rounds {
            replay.load(snapshot)
            clock.advance(to: snapshot.now)
            let action = try await reconciler.reconcile(replay.key)
            let plan = outcome.plan
            #expect(replay.sampled == (snapshot.samples != nil), "round at \(snapshot.now): scrape decision")
            #expect(replay.actions == (plan.observeOnly ? [] : plan.actions), "round at \(snapshot.now)")
            let written = replay.writtenStatus ?? snapshot.status
            #expect(written.phase == plan.status.phase)
            #expect(written.weights == plan.status.weights)
            #expect(written.currentStep == plan.status.currentStep)
            let decisions = { (status: ModelRolloutStatus) in status.decisions.map { "\($0.rule) \($0.result)" } }
            #expect(decisions(written) == decisions(plan.status))
            #expect(action == .requeue(after: .milliseconds(Int64(outcome.requeueAfter * 1000))))
            compared += 1
            if replay.actions != (plan.observeOnly ? [] : plan.actions) { break }  // one mismatch is enough
        }
        #expect(compared == recording.rounds.count)
    }
}
