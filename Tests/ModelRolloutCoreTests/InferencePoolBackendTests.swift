import KubeCore
import Testing

@testable import ModelRolloutCore

/// A backendRef to an InferencePool.
private func pool(_ name: String, _ weight: Int32? = nil) -> HTTPBackendRef {
    HTTPBackendRef(name: name, weight: weight, group: InferencePool.group, kind: "InferencePool")
}

private func route(_ refs: [HTTPBackendRef]) -> HTTPRoute {
    HTTPRoute(
        metadata: ObjectMeta(name: "chat", namespace: "llm-serving"),
        spec: HTTPRouteSpec(parentRefs: [ParentReference(name: "gw")], rules: [HTTPRouteRule(backendRefs: refs)]))
}

private func inferencePool(_ name: String, labels: [String: String], ports: [Int32] = [8000]) -> InferencePool {
    InferencePool(
        metadata: ObjectMeta(name: name, namespace: "llm-serving"),
        spec: InferencePoolSpec(matchLabels: labels, targetPorts: ports, endpointPicker: "\(name)-epp", port: 9002))
}

private func deployment(_ name: String, labels: [String: String]) -> Deployment {
    Deployment(
        metadata: ObjectMeta(name: name, namespace: "llm-serving"),
        spec: DeploymentSpec(
            replicas: 4, selector: LabelSelectorSpec(matchLabels: labels),
            template: PodTemplateSpec(metadata: ObjectMeta(labels: labels), spec: PodSpec(containers: []))))
}

private func poolSpec(pool: String? = "pool-r2", deployment: String = "vllm-r2") -> ModelRolloutSpec {
    ModelRolloutSpec(
        model: "meta-llama/Llama-3.1-8B-Instruct", deployment: deployment, inferencePool: pool,
        route: RouteReference(name: "chat"))
}

@Suite struct InferencePoolRouteWeightsTests {
    @Test func poolBackendsAreManagedOnlyAsPools() {
        // A Service named like a pool is not a pool backend, and the reverse.
        let r = route([pool("pool-r1", 100), HTTPBackendRef(name: "pool-r2", port: 8000, weight: 5)])
        #expect(RouteWeights.observe(r, services: ["pool-r1", "pool-r2"], kind: .inferencePool).weights == ["pool-r1": 100])
        #expect(RouteWeights.observe(r, services: ["pool-r1", "pool-r2"], kind: .service).weights == ["pool-r2": 5])
    }

    @Test func anAddedCandidatePoolRefIsAPoolWithoutPort() throws {
        let updated = try RouteWeights.apply(
            ["pool-r1": 90, "pool-r2": 10], to: route([pool("pool-r1", 100)]), kind: .inferencePool
        ).get()
        let refs = updated.spec.rules[0].backendRefs
        #expect(refs.map(\.name) == ["pool-r1", "pool-r2"])
        #expect(refs.map(\.weight) == [90, 10])
        #expect(refs.allSatisfy { $0.isInferencePool && $0.port == nil })
    }

    @Test func promotionRemovesTheOldPool() throws {
        let updated = try RouteWeights.apply(
            ["pool-r1": nil, "pool-r2": 100], to: route([pool("pool-r1", 0), pool("pool-r2", 100)]),
            kind: .inferencePool
        ).get()
        #expect(updated.spec.rules[0].backendRefs.map(\.name) == ["pool-r2"])
    }

    @Test(arguments: [BackendKind.service, .inferencePool])
    func aRuleMixingServicesAndPoolsIsRefused(_ kind: BackendKind) {
        let r = route([pool("pool-r1", 100), HTTPBackendRef(name: "vllm-r1", port: 8000, weight: 100)])
        let managed: Set<String> = kind == .service ? ["vllm-r1", "vllm-r2"] : ["pool-r1", "pool-r2"]
        let result = RouteWeights.apply(
            Dictionary(uniqueKeysWithValues: managed.map { ($0, Int?.some(50)) }), to: r, kind: kind)
        guard case .failure(.mixedBackends(_, let rule, let reported, let others)) = result else {
            Issue.record("expected a mixed-backends refusal, got \(result)")
            return
        }
        #expect(rule == 0 && reported == kind)
        #expect(others == [kind == .service ? "pool-r1" : "vllm-r1"])
        #expect(RouteWeights.mixedBackends(r, services: managed, kind: kind) != nil)
        let message = RouteWeights.mixedBackends(r, services: managed, kind: kind)?.description ?? ""
        #expect(message.contains("mixes") && message.contains("one kind per rule"))
    }

    @Test func aRuleOfPoolsWithAnUnmanagedPoolIsNotMixed() {
        let r = route([pool("pool-r1", 100), pool("pool-other", 1)])
        #expect(RouteWeights.mixedBackends(r, services: ["pool-r1", "pool-r2"], kind: .inferencePool) == nil)
    }

    @Test func aNewPoolRolloutAdoptsTheHeaviestPoolAndItsDeployment() {
        let targets = RolloutRound.targets(
            spec: poolSpec(), status: ModelRolloutStatus(),
            route: route([pool("pool-r1", 100), HTTPBackendRef(name: "ignored-service", port: 8000, weight: 900)]),
            backendDeployments: ["pool-r1": "vllm-r1", "pool-r2": "vllm-r2"])
        #expect(targets.parties.stable == .init(deployment: "vllm-r1", service: "pool-r1"))
        #expect(targets.parties.candidate == .init(deployment: "vllm-r2", service: "pool-r2"))
        #expect(targets.route.weights == ["pool-r1": 100])
    }
}

/// One ``InferencePoolCheck/evaluate(spec:status:route:pools:deployments:namespace:)`` case.
struct PoolCheckCase: Sendable, CustomStringConvertible {
    var description: String
    var spec: ModelRolloutSpec = poolSpec()
    var status = ModelRolloutStatus()
    var refs: [HTTPBackendRef] = [pool("pool-r1", 100)]
    var pools: [InferencePool] = [
        inferencePool("pool-r1", labels: ["app": "llama", "rev": "r1"]),
        inferencePool("pool-r2", labels: ["app": "llama", "rev": "r2"]),
    ]
    var deployments: [Deployment] = [
        deployment("vllm-r1", labels: ["app": "llama", "rev": "r1"]),
        deployment("vllm-r2", labels: ["app": "llama", "rev": "r2"]),
    ]
    /// Substrings, one per expected problem, in order; empty: no problem.
    var problems: [String] = []
    var mapping: [String: String] = ["pool-r1": "vllm-r1", "pool-r2": "vllm-r2"]
}

private let poolCheckCases: [PoolCheckCase] = [
    PoolCheckCase(description: "two pools, one revision each"),
    PoolCheckCase(
        description: "candidate pool missing", pools: [inferencePool("pool-r1", labels: ["rev": "r1"])],
        problems: ["InferencePool pool-r2 (spec.inferencePool) not found in namespace llm-serving"],
        mapping: ["pool-r1": "vllm-r1"]),
    PoolCheckCase(
        description: "candidate pool selects another revision",
        pools: [
            inferencePool("pool-r1", labels: ["rev": "r1"]), inferencePool("pool-r2", labels: ["rev": "r1"]),
        ],
        problems: [
            "InferencePool pool-r2 (spec.inferencePool) does not select the pods of Deployment vllm-r2: its selector {rev=r1}"
        ],
        mapping: ["pool-r1": "vllm-r1", "pool-r2": "vllm-r1"]),
    PoolCheckCase(
        description: "candidate pool misses the runtime port",
        pools: [
            inferencePool("pool-r1", labels: ["rev": "r1"]), inferencePool("pool-r2", labels: ["rev": "r2"], ports: [8080, 9000]),
        ],
        problems: ["targets ports 8080, 9000, not the runtime port 8000 (spec.runtime.port)"]),
    PoolCheckCase(
        description: "a pool selecting both revisions",
        pools: [inferencePool("pool-r1", labels: ["app": "llama"]), inferencePool("pool-r2", labels: ["rev": "r2"])],
        problems: ["InferencePool pool-r1 selects the pods of several Deployments (vllm-r1, vllm-r2)"],
        mapping: ["pool-r2": "vllm-r2"]),
    PoolCheckCase(
        description: "the stable pool with weight is missing", pools: [inferencePool("pool-r2", labels: ["rev": "r2"])],
        problems: ["InferencePool pool-r1, a backend of HTTPRoute chat with weight 100, not found"],
        mapping: ["pool-r2": "vllm-r2"]),
    PoolCheckCase(
        description: "the stable pool selects no Deployment",
        pools: [inferencePool("pool-r1", labels: ["rev": "r0"]), inferencePool("pool-r2", labels: ["rev": "r2"])],
        problems: ["InferencePool pool-r1, the route's stable backend, selects the pods of no Deployment"],
        mapping: ["pool-r2": "vllm-r2"]),
    PoolCheckCase(
        description: "a weight-0 pool that is gone does not matter", refs: [pool("pool-r1", 100), pool("pool-old", 0)]),
    PoolCheckCase(
        description: "the candidate Deployment not created yet", deployments: [deployment("vllm-r1", labels: ["app": "llama", "rev": "r1"])],
        mapping: ["pool-r1": "vllm-r1"]),
]

@Suite struct InferencePoolCheckTests {
    @Test(arguments: poolCheckCases)
    func evaluate(_ c: PoolCheckCase) {
        let check = InferencePoolCheck.evaluate(
            spec: c.spec, status: c.status, route: route(c.refs),
            pools: Dictionary(uniqueKeysWithValues: c.pools.map { ($0.metadata.name ?? "", $0) }),
            deployments: c.deployments, namespace: "llm-serving")
        #expect(check.problems.count == c.problems.count, "\(check.problems)")
        for (problem, expected) in zip(check.problems, c.problems) {
            #expect(problem.contains(expected), "\(problem)")
        }
        #expect(check.backendDeployments == c.mapping)
    }

    @Test func aServiceRolloutChecksNoPool() {
        let check = InferencePoolCheck.evaluate(
            spec: poolSpec(pool: nil), status: ModelRolloutStatus(), route: route([pool("pool-r1", 100)]), pools: [:],
            deployments: [], namespace: "llm-serving")
        #expect(check == InferencePoolCheck())
    }

    @Test func involvedPoolsAreTheCandidateTheStatusAndTheWeightedRoutePools() {
        var status = ModelRolloutStatus()
        status.stableService = "pool-r1"
        let names = InferencePoolCheck.involvedPools(
            spec: poolSpec(), status: status, route: route([pool("pool-r1", 90), pool("pool-r2", 10), pool("pool-x", 0)]))
        #expect(names == ["pool-r2", "pool-r1"])
    }
}

@Suite struct InferencePoolSpecTests {
    @Test func thePoolIsTheCandidateBackendAndTheKindFollows() {
        let s = poolSpec()
        #expect(s.backendKind == .inferencePool)
        #expect(s.serviceName(forDeployment: "vllm-r2") == "pool-r2")
        #expect(s.serviceName(forDeployment: "vllm-r1") == "vllm-r1")
        #expect(poolSpec(pool: nil).backendKind == .service)
        #expect(poolSpec(pool: "").backendKind == .service)
    }

    @Test func aPoolAndAServiceTogetherAreRefused() {
        var s = poolSpec()
        s.service = "vllm-r2"
        #expect(s.validate().map(\.description).contains { $0.contains("cannot be set together with spec.service") })
    }

    @Test func aBadPoolNameIsRefused() {
        #expect(poolSpec(pool: "Pool_R2").validate().map(\.description).contains { $0.contains("spec.inferencePool") })
        #expect(poolSpec().validate().isEmpty)
    }

    @Test func aPoolRolloutNeedsNoServiceNameForADeploymentThatIsNotOne() {
        // "vllm.r2" is a valid Deployment name but not a Service name; with a pool, no Service is involved.
        #expect(poolSpec(deployment: "vllm.r2").validate().isEmpty)
        #expect(!poolSpec(pool: nil, deployment: "vllm.r2").validate().isEmpty)
    }

    @Test func theFieldRoundTrips() throws {
        let json = try KubeJSON.toJSONValue(poolSpec())
        #expect(json["inferencePool"] == "pool-r2")
        #expect(try KubeJSON.fromJSONValue(ModelRolloutSpec.self, json) == poolSpec())
    }
}
