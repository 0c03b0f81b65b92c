import KubeCore
import Testing

@testable import ModelRolloutCore

/// A route `chat` in `llm-serving` with a header rule (unmanaged backend `canary-x`) and a catch-all rule.
private func route(_ catchAll: [HTTPBackendRef], header: [HTTPBackendRef] = [HTTPBackendRef(name: "canary-x")])
    -> HTTPRoute
{
    HTTPRoute(
        metadata: ObjectMeta(name: "chat", namespace: "llm-serving"),
        spec: HTTPRouteSpec(
            parentRefs: [ParentReference(name: "gw")],
            rules: [
                HTTPRouteRule(
                    matches: [["headers": [["name": "x-canary", "value": "1"]]]], backendRefs: header),
                HTTPRouteRule(backendRefs: catchAll),
            ]))
}

/// One `observe` case.
struct ObserveCase: Sendable, CustomStringConvertible {
    var description: String
    var refs: [HTTPBackendRef]
    var services: Set<String>
    var rule: Int?
    var weights: [String: Int]
    var others: [String]
}

/// One `apply` case: the desired map and the expected catch-all refs as (name, port, weight) or an error.
struct ApplyCase: Sendable, CustomStringConvertible {
    var description: String
    var refs: [HTTPBackendRef]
    var desired: [String: Int?]
    var expected: Result<[RefView], RouteWeightError>
}

/// The fields of a backendRef a test compares.
struct RefView: Sendable, Equatable, CustomStringConvertible {
    var name: String
    var port: Int32?
    var weight: Int32?
    var kind: String? = nil
    var description: String { "\(name):\(port.map(String.init) ?? "-")@\(weight.map(String.init) ?? "-")" }
    init(_ name: String, _ port: Int32?, _ weight: Int32?, kind: String? = nil) {
        self.name = name
        self.port = port
        self.weight = weight
        self.kind = kind
    }
    init(_ ref: HTTPBackendRef) {
        self.init(ref.name, ref.port, ref.weight, kind: ref.kind)
    }
}

private let observeCases: [ObserveCase] = [
    ObserveCase(
        description: "stable only", refs: [HTTPBackendRef(name: "r1", port: 8000, weight: 100)],
        services: ["r1", "r2"], rule: 1, weights: ["r1": 100], others: []),
    ObserveCase(
        description: "absent weight is 1", refs: [HTTPBackendRef(name: "r1", port: 8000)],
        services: ["r1"], rule: 1, weights: ["r1": 1], others: []),
    ObserveCase(
        description: "split with unmanaged",
        refs: [
            HTTPBackendRef(name: "r1", port: 8000, weight: 90), HTTPBackendRef(name: "other", weight: 5),
            HTTPBackendRef(name: "r2", port: 8000, weight: 10),
        ],
        services: ["r1", "r2"], rule: 1, weights: ["r1": 90, "r2": 10], others: ["other"]),
    ObserveCase(
        description: "duplicates summed",
        refs: [HTTPBackendRef(name: "r1", weight: 3), HTTPBackendRef(name: "r1", weight: 4)],
        services: ["r1"], rule: 1, weights: ["r1": 7], others: []),
    ObserveCase(
        description: "same name but other kind is not managed",
        refs: [HTTPBackendRef(name: "r1", weight: 3, group: "example.com", kind: "Bucket")],
        services: ["r1"], rule: nil, weights: [:], others: []),
    ObserveCase(
        description: "other namespace is not managed",
        refs: [HTTPBackendRef(name: "r1", weight: 3, namespace: "elsewhere")],
        services: ["r1"], rule: nil, weights: [:], others: []),
    ObserveCase(
        description: "explicit own namespace and core kind are managed",
        refs: [HTTPBackendRef(name: "r1", weight: 3, namespace: "llm-serving", group: "", kind: "Service")],
        services: ["r1"], rule: 1, weights: ["r1": 3], others: []),
    ObserveCase(
        description: "no managed service", refs: [HTTPBackendRef(name: "x", weight: 1)],
        services: ["r1"], rule: nil, weights: [:], others: []),
]

private let applyCases: [ApplyCase] = [
    ApplyCase(
        description: "update both weights",
        refs: [HTTPBackendRef(name: "r1", port: 8000, weight: 90), HTTPBackendRef(name: "r2", port: 8000, weight: 10)],
        desired: ["r1": 50, "r2": 50],
        expected: .success([RefView("r1", 8000, 50), RefView("r2", 8000, 50)])),
    ApplyCase(
        description: "candidate added with the stable's port and kind",
        refs: [HTTPBackendRef(name: "r1", port: 8080, weight: 100, kind: "Service")],
        desired: ["r1": 90, "r2": 10],
        expected: .success([RefView("r1", 8080, 90, kind: "Service"), RefView("r2", 8080, 10, kind: "Service")])),
    ApplyCase(
        description: "template is the heaviest managed ref",
        refs: [HTTPBackendRef(name: "old", port: 1, weight: 0), HTTPBackendRef(name: "r1", port: 8000, weight: 100)],
        desired: ["old": 0, "r1": 100, "r2": 0],
        expected: .success([RefView("old", 1, 0), RefView("r1", 8000, 100), RefView("r2", 8000, 0)])),
    ApplyCase(
        description: "nil removes, unmanaged untouched",
        refs: [
            HTTPBackendRef(name: "r1", port: 8000, weight: 0), HTTPBackendRef(name: "mirror", port: 9000, weight: 3),
            HTTPBackendRef(name: "r2", port: 8000, weight: 100),
        ],
        desired: ["r1": nil, "r2": 100],
        expected: .success([RefView("mirror", 9000, 3), RefView("r2", 8000, 100)])),
    ApplyCase(
        description: "duplicate collapsed to the first",
        refs: [HTTPBackendRef(name: "r1", port: 8000, weight: 3), HTTPBackendRef(name: "r1", port: 8001, weight: 4)],
        desired: ["r1": 100],
        expected: .success([RefView("r1", 8000, 100)])),
    ApplyCase(
        description: "no rule references a managed service",
        refs: [HTTPBackendRef(name: "x", port: 8000, weight: 1)],
        desired: ["r1": 100],
        expected: .failure(.noManagedRule(route: "chat", services: ["r1"]))),
    ApplyCase(
        description: "negative weight",
        refs: [HTTPBackendRef(name: "r1", port: 8000, weight: 1)],
        desired: ["r1": -1],
        expected: .failure(.invalidWeight(service: "r1", weight: -1))),
    ApplyCase(
        description: "weight above the Gateway API maximum",
        refs: [HTTPBackendRef(name: "r1", port: 8000, weight: 1)],
        desired: ["r1": 1_000_001],
        expected: .failure(.invalidWeight(service: "r1", weight: 1_000_001))),
    ApplyCase(
        description: "removing the last backend",
        refs: [HTTPBackendRef(name: "r1", port: 8000, weight: 1)],
        desired: ["r1": nil],
        expected: .failure(.emptyRule(route: "chat", ruleIndex: 1))),
]

@Suite struct RouteWeightsTests {
    @Test(arguments: observeCases)
    func observe(_ c: ObserveCase) {
        let observation = RouteWeights.observe(route(c.refs), services: c.services)
        #expect(observation.ruleIndex == c.rule)
        #expect(observation.weights == c.weights)
        #expect(observation.otherBackends == c.others)
    }

    @Test(arguments: applyCases)
    func apply(_ c: ApplyCase) throws {
        let original = route(c.refs)
        let result = RouteWeights.apply(c.desired, to: original)
        switch (result, c.expected) {
        case (.success(let updated), .success(let refs)):
            #expect(updated.spec.rules[1].backendRefs.map(RefView.init) == refs)
            // The other rule, parentRefs and metadata are untouched.
            #expect(updated.spec.rules[0] == original.spec.rules[0])
            #expect(updated.spec.parentRefs == original.spec.parentRefs)
            #expect(updated.metadata == original.metadata)
        case (.failure(let error), .failure(let expected)):
            #expect(error == expected)
            #expect(!error.description.isEmpty)
        default:
            Issue.record("got \(result), expected \(c.expected)")
        }
    }

    @Test func applyIsIdempotentAndObservable() throws {
        let original = route([HTTPBackendRef(name: "r1", port: 8000, weight: 100)])
        let once = try RouteWeights.apply(["r1": 90, "r2": 10], to: original).get()
        let twice = try RouteWeights.apply(["r1": 90, "r2": 10], to: once).get()
        #expect(once == twice)
        #expect(RouteWeights.observe(once, services: ["r1", "r2"]).weights == ["r1": 90, "r2": 10])
        #expect(RouteWeights.observe(once, services: ["r1", "r2"]).totalManagedWeight == 100)
    }

    @Test func unknownFieldsOfManagedRefsSurvive() throws {
        var ref = HTTPBackendRef(name: "r1", port: 8000, weight: 100)
        ref.raw["filters"] = [["type": "RequestHeaderModifier"]]
        let updated = try RouteWeights.apply(["r1": 40], to: route([ref])).get()
        let kept = updated.spec.rules[1].backendRefs[0]
        #expect(kept.raw["filters"] == [["type": "RequestHeaderModifier"]])
        #expect(kept.weight == 40)
    }

    @Test func onlyTheFirstReferencingRuleChanges() throws {
        // Both rules reference r1: only the first one (the header rule here) is changed.
        let original = route(
            [HTTPBackendRef(name: "r1", port: 8000, weight: 100)],
            header: [HTTPBackendRef(name: "r1", port: 8000, weight: 100)])
        let updated = try RouteWeights.apply(["r1": 70, "r2": 30], to: original).get()
        let refs = updated.spec.rules[0].backendRefs.map(RefView.init)
        #expect(refs == [RefView("r1", 8000, 70), RefView("r2", 8000, 30)])
        #expect(updated.spec.rules[1] == original.spec.rules[1])
    }
}
