import Foundation
import KubeCore
import Testing

@testable import ModelRolloutCore

/// The spec of a minimal ModelRollout after the API server applied the CRD's defaults. The same text is asserted in
/// ClusterSimTests' BundledCRDTests against the emulator's defaulting, so both sides agree with the Swift defaults.
let crdDefaultedMinimalSpec = """
    {"model":"m","deployment":"d","route":{"name":"r"},
     "runtime":{"kind":"vllm","port":8000,"modelsPath":"/v1/models","metricsPath":"/metrics"},
     "readinessTimeout":"20m",
     "steps":[{"weight":10,"hold":"2m"},{"weight":50,"hold":"5m"},{"weight":100}],
     "analysis":{"interval":"30s","minSamples":50,"ttftP95":"2.5s","ttftRatio":1.2,"queueWaitP95":"1s",
                 "maxErrorRate":0.01,"failureLimit":2},
     "autoscaling":{"enabled":false,"minReplicas":1,"maxReplicas":16,"targetWaitingPerReplica":4,
                    "targetUtilization":0.8,"coldStart":{"percentile":90,"fallback":"5m"},"scaleDownDelay":"5m"},
     "strategy":{"maxSurge":"25%","keepStableFleet":false,"maxUtilization":0.95},
     "mode":"Active","paused":false}
    """

/// One duration text and its canonical form, or nil when it must be rejected.
struct DurationCase: Sendable, CustomTestStringConvertible {
    var text: String
    var seconds: Double?
    var canonical: String?
    var testDescription: String { text.isEmpty ? "(empty)" : text }
}

private let durationCases: [DurationCase] = [
    DurationCase(text: "0", seconds: 0, canonical: "0s"),
    DurationCase(text: "0s", seconds: 0, canonical: "0s"),
    DurationCase(text: "90s", seconds: 90, canonical: "1m30s"),
    DurationCase(text: "5m", seconds: 300, canonical: "5m"),
    DurationCase(text: "20m", seconds: 1200, canonical: "20m"),
    DurationCase(text: "1h30m", seconds: 5400, canonical: "1h30m"),
    DurationCase(text: "1.5h", seconds: 5400, canonical: "1h30m"),
    DurationCase(text: "2h0m5s", seconds: 7205, canonical: "2h5s"),
    DurationCase(text: "2.5s", seconds: 2.5, canonical: "2.5s"),
    DurationCase(text: "500ms", seconds: 0.5, canonical: "500ms"),
    DurationCase(text: "1500ms", seconds: 1.5, canonical: "1.5s"),
    DurationCase(text: "250µs", seconds: 0.00025, canonical: "0.25ms"),
    DurationCase(text: "250us", seconds: 0.00025, canonical: "0.25ms"),
    DurationCase(text: " 30s ", seconds: 30, canonical: "30s"),
    DurationCase(text: "", seconds: nil, canonical: nil),
    DurationCase(text: "5", seconds: nil, canonical: nil),
    DurationCase(text: "soon", seconds: nil, canonical: nil),
    DurationCase(text: "-5s", seconds: nil, canonical: nil),
    DurationCase(text: "5x", seconds: nil, canonical: nil),
    DurationCase(text: "s", seconds: nil, canonical: nil),
    DurationCase(text: "1.2.3s", seconds: nil, canonical: nil),
    DurationCase(text: "1h 30m", seconds: nil, canonical: nil),
    DurationCase(text: "5m10", seconds: nil, canonical: nil),
]

@Suite("API coding")
struct APICodingTests {
    @Test(arguments: durationCases)
    func durationParseAndFormat(_ c: DurationCase) throws {
        let parsed = KubeDuration(c.text)
        guard let seconds = c.seconds else {
            #expect(parsed == nil)
            return
        }
        let duration = try #require(parsed)
        #expect(abs(duration.seconds - seconds) < 1e-9)
        #expect(duration.description == c.canonical)
        #expect(KubeDuration(duration.description)?.description == c.canonical)
    }

    @Test func durationCodingIsAString() throws {
        let json = try KubeJSON.toJSONValue(RolloutStep(weight: 10, hold: KubeDuration(seconds: 120)))
        #expect(json == ["weight": 10, "hold": "2m"])
        let fromNumber = try KubeJSON.fromJSONValue(RolloutStep.self, ["weight": 10, "hold": 1.5])
        #expect(fromNumber.hold == KubeDuration(seconds: 1.5))
        #expect(throws: DecodingError.self) {
            try KubeJSON.fromJSONValue(RolloutStep.self, ["weight": 10, "hold": "soon"])
        }
    }

    @Test func minimalSpecDecodesToTheSwiftDefaults() throws {
        let minimal: JSONValue = ["model": "m", "deployment": "d", "route": ["name": "r"]]
        let expected = ModelRolloutSpec(model: "m", deployment: "d", route: RouteReference(name: "r"))
        #expect(try KubeJSON.fromJSONValue(ModelRolloutSpec.self, minimal) == expected)
        let defaulted = try JSONValue.parse(crdDefaultedMinimalSpec)
        #expect(try KubeJSON.fromJSONValue(ModelRolloutSpec.self, defaulted) == expected)
        #expect(try KubeJSON.toJSONValue(expected).semanticallyEquals(defaulted))
    }

    @Test func partialSubObjectsKeepTheOtherDefaults() throws {
        let json: JSONValue = [
            "model": "m", "deployment": "d", "route": ["name": "r"],
            "analysis": ["interval": "10s"], "autoscaling": ["coldStart": ["percentile": 50]],
            "runtime": ["kind": "sglang"],
        ]
        let spec = try KubeJSON.fromJSONValue(ModelRolloutSpec.self, json)
        #expect(spec.analysis == AnalysisSpec(interval: KubeDuration(seconds: 10)))
        #expect(spec.autoscaling == AutoscalingSpec(coldStart: ColdStartSpec(percentile: 50)))
        #expect(spec.runtime == RuntimeSpec(kind: .sglang))
    }

    @Test func fullSpecRoundTrips() throws {
        let spec = ModelRolloutSpec(
            model: "meta-llama/Llama-3.1-8B-Instruct", deployment: "vllm-llama-r2", service: "llama-r2",
            route: RouteReference(name: "llm-chat", namespace: "gateways"),
            runtime: RuntimeSpec(
                kind: .tgi, port: 8080, container: "server", modelsPath: "/models", metricsPath: "/m",
                loadedPattern: "ready$"),
            readinessTimeout: KubeDuration(seconds: 600),
            steps: [RolloutStep(weight: 5, hold: KubeDuration(seconds: 30)), RolloutStep(weight: 100)],
            analysis: AnalysisSpec(
                interval: KubeDuration(seconds: 15), minSamples: 20, ttftP95: KubeDuration(seconds: 0.8),
                ttftRatio: 1.5, queueWaitP95: KubeDuration(seconds: 0.25), maxErrorRate: 0.05, failureLimit: 3),
            autoscaling: AutoscalingSpec(
                enabled: true, minReplicas: 0, maxReplicas: 8, targetWaitingPerReplica: 2.5, targetUtilization: 0.7,
                replicaThroughput: 12.5, coldStart: ColdStartSpec(percentile: 95, fallback: KubeDuration(seconds: 90)),
                scaleDownDelay: KubeDuration(seconds: 60)),
            mode: .observe, paused: true)
        let json = try KubeJSON.toJSONValue(spec)
        #expect(json["mode"] == "Observe")
        #expect(json[path: ["analysis", "ttftP95"]] == "800ms")
        #expect(json[path: ["autoscaling", "coldStart", "fallback"]] == "1m30s")
        #expect(try KubeJSON.fromJSONValue(ModelRolloutSpec.self, json) == spec)
    }

    @Test func statusRoundTrips() throws {
        let t0 = try #require(KubeTime.parse("2026-03-01T10:00:00Z"))
        var status = ModelRolloutStatus()
        status.observedGeneration = 3
        status.phase = .progressing
        status.message = "step 1 of 3"
        status.stableDeployment = "vllm-llama-r1"
        status.stableService = "vllm-llama-r1"
        status.candidateDeployment = "vllm-llama-r2"
        status.candidateService = "vllm-llama-r2"
        status.currentStep = 1
        status.stepStartedAt = t0
        status.rolloutStartedAt = t0.addingTimeInterval(-300)
        status.stableReplicasAtStart = 4
        status.retiredDeployment = "vllm-llama-r0"
        status.retireAt = t0.addingTimeInterval(600)
        status.weights = RevisionWeights(stable: 90, candidate: 10)
        status.replicas = ReplicaStatus(
            stable: RevisionReplicas(desired: 4, modelReady: 4),
            candidate: RevisionReplicas(desired: 2, modelReady: 1, loading: 1))
        status.ready = "5/6"
        status.loadTime = LoadTimeStatus(
            samples: 2, p50: KubeDuration(seconds: 95), p90: KubeDuration(seconds: 140),
            last: KubeDuration(seconds: 101), recentSeconds: [95, 101.5], measuredPods: ["p1", "p2"])
        status.analysis = AnalysisStatus(
            step: 1, failures: 1, lastVerdict: .inconclusive, lastTime: t0, message: "12 < 50 samples")
        status.conditions = [
            Condition(
                type: RolloutConditionType.progressing, status: "True", observedGeneration: 3,
                lastTransitionTime: t0, reason: "StepApplied", message: "weight 10")
        ]
        status.decisions = [
            DecisionRecord(
                time: t0, kind: .weight, rule: "step-capacity-ready", inputs: ["candidateReady": "1"],
                result: "weight 10", message: "moved to step 1")
        ]
        let json = try KubeJSON.toJSONValue(status)
        #expect(json["stepStartedAt"] == "2026-03-01T10:00:00Z")
        #expect(json[path: ["loadTime", "p90"]] == "2m20s")
        #expect(json["phase"] == "Progressing")
        #expect(try KubeJSON.fromJSONValue(ModelRolloutStatus.self, json) == status)
        let empty = try KubeJSON.toJSONValue(ModelRolloutStatus())
        #expect(empty == ["conditions": [], "decisions": []])
    }

    @Test func wholeObjectDecodes() throws {
        let json: JSONValue = [
            "apiVersion": "modelrollout.io/v1alpha1", "kind": "ModelRollout",
            "metadata": ["name": "chat", "namespace": "llm-serving"],
            "spec": ["model": "m", "deployment": "d", "route": ["name": "r"]],
            "status": ["phase": "Steady", "weights": ["stable": 100, "candidate": 0]],
        ]
        let rollout = try ModelRollout.decode(json).get()
        #expect(rollout.metadata.name == "chat")
        #expect(rollout.spec == ModelRolloutSpec(model: "m", deployment: "d", route: RouteReference(name: "r")))
        #expect(rollout.status?.phase == .steady)
        #expect(rollout.status?.weights == RevisionWeights(stable: 100, candidate: 0))
    }

    struct DecodeFailure: Sendable, CustomTestStringConvertible {
        var name: String
        var spec: JSONValue
        var status: JSONValue?
        var expected: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        DecodeFailure(
            name: "bad duration", spec: ["readinessTimeout": "soon"],
            expected: #"spec.readinessTimeout: Invalid value: "soon": "#
                + #"invalid duration "soon" (use e.g. 90s, 5m, 1h30m)"#),
        DecodeFailure(
            name: "bad step hold", spec: ["steps": [["weight": 10], ["weight": 100, "hold": "later"]]],
            expected: #"spec.steps[1].hold: Invalid value: "later": "#
                + #"invalid duration "later" (use e.g. 90s, 5m, 1h30m)"#),
        DecodeFailure(
            name: "unknown mode", spec: ["mode": "Foo"],
            expected: #"spec.mode: Unsupported value: "Foo": supported values: "Active", "Observe""#),
        DecodeFailure(
            name: "unknown runtime", spec: ["runtime": ["kind": "ollama"]],
            expected: #"spec.runtime.kind: Unsupported value: "ollama": "#
                + #"supported values: "vllm", "sglang", "tgi", "generic""#),
        DecodeFailure(
            name: "port as string", spec: ["runtime": ["port": "http"]],
            expected: #"spec.runtime.port: Invalid value: "http": must be of type integer, not string"#),
        DecodeFailure(
            name: "weight as float", spec: ["steps": [["weight": 10.5]]],
            expected: "spec.steps[0].weight: Invalid value: 10.5: must be of type integer, not number"),
        DecodeFailure(
            name: "step without weight", spec: ["steps": [["hold": "1m"]]],
            expected: "spec.steps[0].weight: Required value"),
        DecodeFailure(
            name: "steps not an array", spec: ["steps": "10,50,100"],
            expected: #"spec.steps: Invalid value: "10,50,100": must be of type array, not string"#),
        DecodeFailure(
            name: "bad status time", spec: [:], status: ["stepStartedAt": "yesterday"],
            expected: #"status.stepStartedAt: Invalid value: "yesterday": invalid time "yesterday""#),
    ])
    func decodeFailuresNameTheField(_ c: DecodeFailure) {
        var spec: JSONValue = ["model": "m", "deployment": "d", "route": ["name": "r"]]
        for (k, v) in c.spec.objectValue ?? [:] { spec[k] = v }
        var json: JSONValue = ["metadata": ["name": "x"], "spec": spec]
        if let status = c.status { json["status"] = status }
        switch ModelRollout.decode(json) {
        case .success: Issue.record("decoded although invalid")
        case .failure(let error): #expect(error.description == c.expected)
        }
    }

    @Test func decodeRejectsNonObjects() {
        guard case .failure(let error) = ModelRollout.decode(["a", "b"]) else {
            Issue.record("decoded an array")
            return
        }
        #expect(error.description == "expected a JSON object, got array")
    }
}
