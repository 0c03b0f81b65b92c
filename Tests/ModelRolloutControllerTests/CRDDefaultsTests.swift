import ClusterSim
import KubeCore
import ModelRolloutCore
import Testing

/// The emulator's defaulting from the bundled CRD and the Swift types agree: a minimal ModelRollout created through
/// storage decodes to `ModelRolloutSpec`'s defaults, and a fully specified one keeps every value.
@Suite("CRD defaults match the Swift types")
struct CRDDefaultsTests {
    static func stored(_ spec: JSONValue) async throws -> ModelRollout {
        let storage = ObjectStorage()
        try await BundledCRDs.install(into: storage)
        let object: JSONValue = [
            "apiVersion": "modelrollout.io/v1alpha1", "kind": "ModelRollout",
            "metadata": ["name": "chat", "namespace": "llm-serving"], "spec": spec,
        ]
        let registry = await storage.registry
        let info = try #require(registry.lookup(.modelRollouts))
        let schema = CRDSchema(try #require(info.schema))
        let defaulted = schema.applyDefaults(schema.prune(object).object)
        #expect(schema.validate(defaulted) == [])
        let created = try await storage.create(.modelRollouts, defaulted)
        return try ModelRollout.decode(created).get()
    }

    @Test func minimalSpecDecodesToTheSwiftDefaults() async throws {
        let rollout = try await Self.stored(["model": "m", "deployment": "d", "route": ["name": "r"]])
        #expect(rollout.spec == ModelRolloutSpec(model: "m", deployment: "d", route: RouteReference(name: "r")))
        #expect(rollout.spec.validate() == [])
    }

    @Test func explicitValuesSurviveDefaulting() async throws {
        let spec = ModelRolloutSpec(
            model: "m", deployment: "d", service: "s", route: RouteReference(name: "r", namespace: "gw"),
            runtime: RuntimeSpec(kind: .sglang, port: 30000, container: "server"),
            readinessTimeout: KubeDuration(seconds: 90),
            steps: [RolloutStep(weight: 25, hold: KubeDuration(seconds: 0.5)), RolloutStep(weight: 100)],
            analysis: AnalysisSpec(minSamples: 5, ttftRatio: 2, failureLimit: 1),
            autoscaling: AutoscalingSpec(enabled: true, minReplicas: 0, maxReplicas: 2, replicaThroughput: 3.5),
            mode: .observe, paused: true)
        let rollout = try await Self.stored(try KubeJSON.toJSONValue(spec))
        #expect(rollout.spec == spec)
    }
}
