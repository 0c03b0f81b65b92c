import KubeCore
import Testing

@testable import ModelRolloutCore

/// A change to a valid spec and the problems `validate()` must report (rendered `field: message`).
struct SpecValidationCase: Sendable, CustomTestStringConvertible {
    var name: String
    var change: @Sendable (inout ModelRolloutSpec) -> Void
    var expected: [String]
    var testDescription: String { name }
}

private func validSpec() -> ModelRolloutSpec {
    ModelRolloutSpec(
        model: "meta-llama/Llama-3.1-8B-Instruct", deployment: "vllm-llama-r2", route: RouteReference(name: "llm-chat"))
}

private let subdomainHelp = LabelSelector.dnsSubdomainHelp

private let specCases: [SpecValidationCase] = [
    SpecValidationCase(name: "the defaults are valid", change: { _ in }, expected: []),
    SpecValidationCase(
        name: "explicit valid names and steps",
        change: {
            $0.service = "llama-r2"
            $0.route = RouteReference(name: "llm.chat", namespace: "gateways")
            $0.runtime.container = "vllm"
            $0.runtime.loadedPattern = #"Model loading took [0-9.]+ ?s"#
            $0.steps = [RolloutStep(weight: 1), RolloutStep(weight: 100, hold: KubeDuration(seconds: 0))]
        }, expected: []),
    SpecValidationCase(
        name: "empty names",
        change: {
            $0.model = " "
            $0.deployment = ""
            $0.route.name = ""
        },
        expected: ["spec.model: Required value", "spec.deployment: Required value", "spec.route.name: Required value"]),
    SpecValidationCase(
        name: "invalid deployment name", change: { $0.deployment = "Vllm_R2" },
        expected: [#"spec.deployment: Invalid value: "Vllm_R2": "# + subdomainHelp]),
    SpecValidationCase(
        name: "deployment too long", change: { $0.deployment = String(repeating: "a", count: 254) },
        expected: [
            #"spec.deployment: Invalid value: ""# + String(repeating: "a", count: 254)
                + #"": must be no more than 253 characters"#
        ]),
    SpecValidationCase(
        name: "service must be a DNS-1035 label", change: { $0.service = "2fast" },
        expected: [
            #"spec.service: Invalid value: "2fast": a DNS-1035 label must consist of lower case alphanumeric "#
                + "characters or '-', start with an alphabetic character, and end with an alphanumeric character "
                + "(e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        ]),
    SpecValidationCase(
        name: "a dotted deployment needs a service name", change: { $0.deployment = "llama.r2" },
        expected: [
            #"spec.service: Required value: the deployment name "llama.r2" is not a valid Service name, "#
                + "so the Service must be named"
        ]),
    SpecValidationCase(
        name: "route namespace and container are labels",
        change: {
            $0.route.namespace = "Gate"
            $0.runtime.container = "-x"
        },
        expected: [
            #"spec.route.namespace: Invalid value: "Gate": "# + KubeNames.dns1123LabelHelp,
            #"spec.runtime.container: Invalid value: "-x": "# + KubeNames.dns1123LabelHelp,
        ]),
    SpecValidationCase(
        name: "port out of range", change: { $0.runtime.port = 70000 },
        expected: ["spec.runtime.port: Invalid value: 70000: must be between 1 and 65535, inclusive"]),
    SpecValidationCase(
        name: "relative paths", change: { $0.runtime.modelsPath = "v1/models" },
        expected: [#"spec.runtime.modelsPath: Invalid value: "v1/models": must be an absolute path (start with /)"#]),
    SpecValidationCase(
        name: "loadedPattern must compile", change: { $0.runtime.loadedPattern = "loaded (" },
        expected: [#"spec.runtime.loadedPattern: Invalid value: "loaded (": must be a valid regular expression"#]),
    SpecValidationCase(
        name: "zero readiness timeout", change: { $0.readinessTimeout = KubeDuration(seconds: 0) },
        expected: [#"spec.readinessTimeout: Invalid value: "0s": must be greater than zero"#]),
    SpecValidationCase(
        name: "no steps", change: { $0.steps = [] },
        expected: ["spec.steps: Required value: at least one step is required"]),
    SpecValidationCase(
        name: "weights must increase",
        change: {
            $0.steps = [10, 50, 40, 100].map { RolloutStep(weight: $0) }
        },
        expected: [
            "spec.steps[2].weight: Invalid value: 40: must be greater than the previous step's weight (50)"
        ]),
    SpecValidationCase(
        name: "equal weights", change: { $0.steps = [50, 50, 100].map { RolloutStep(weight: $0) } },
        expected: ["spec.steps[1].weight: Invalid value: 50: must be greater than the previous step's weight (50)"]),
    SpecValidationCase(
        name: "last weight must be 100", change: { $0.steps = [RolloutStep(weight: 10), RolloutStep(weight: 90)] },
        expected: ["spec.steps[1].weight: Invalid value: 90: the last step's weight must be 100"]),
    SpecValidationCase(
        name: "weights out of range", change: { $0.steps = [RolloutStep(weight: 0), RolloutStep(weight: 150)] },
        expected: [
            "spec.steps[0].weight: Invalid value: 0: must be between 1 and 100, inclusive",
            "spec.steps[1].weight: Invalid value: 150: must be between 1 and 100, inclusive",
        ]),
    SpecValidationCase(
        name: "too many steps", change: { $0.steps = (1...21).map { RolloutStep(weight: $0 == 21 ? 100 : $0) } },
        expected: ["spec.steps: Too many: 21: must have at most 20 items"]),
    SpecValidationCase(
        name: "analysis bounds",
        change: {
            $0.analysis.interval = KubeDuration(seconds: 0)
            $0.analysis.minSamples = 0
            $0.analysis.failureLimit = 0
            $0.analysis.ttftRatio = 0.5
            $0.analysis.maxErrorRate = 1.5
        },
        expected: [
            #"spec.analysis.interval: Invalid value: "0s": must be greater than zero"#,
            "spec.analysis.minSamples: Invalid value: 0: must be greater than or equal to 1",
            "spec.analysis.failureLimit: Invalid value: 0: must be greater than or equal to 1",
            "spec.analysis.ttftRatio: Invalid value: 0.5: must be greater than or equal to 1",
            "spec.analysis.maxErrorRate: Invalid value: 1.5: must be between 0 and 1, inclusive",
        ]),
    SpecValidationCase(
        name: "analysis ceilings may be absent",
        change: {
            $0.analysis.ttftP95 = nil
            $0.analysis.ttftRatio = nil
            $0.analysis.queueWaitP95 = nil
            $0.analysis.maxErrorRate = nil
        }, expected: []),
    SpecValidationCase(
        name: "minReplicas above maxReplicas",
        change: {
            $0.autoscaling.minReplicas = 5
            $0.autoscaling.maxReplicas = 3
        },
        expected: [
            "spec.autoscaling.minReplicas: Invalid value: 5: must be less than or equal to "
                + "spec.autoscaling.maxReplicas (3)"
        ]),
    SpecValidationCase(
        name: "autoscaling bounds",
        change: {
            $0.autoscaling.minReplicas = -1
            $0.autoscaling.maxReplicas = 0
            $0.autoscaling.targetWaitingPerReplica = 0
            $0.autoscaling.targetUtilization = 1.2
            $0.autoscaling.replicaThroughput = 0
            $0.autoscaling.coldStart.percentile = 0
        },
        expected: [
            "spec.autoscaling.minReplicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.autoscaling.maxReplicas: Invalid value: 0: must be greater than or equal to 1",
            "spec.autoscaling.targetWaitingPerReplica: Invalid value: 0: must be greater than 0",
            "spec.autoscaling.targetUtilization: Invalid value: 1.2: must be greater than 0 and at most 1",
            "spec.autoscaling.replicaThroughput: Invalid value: 0: must be greater than 0",
            "spec.autoscaling.coldStart.percentile: Invalid value: 0: must be between 1 and 100, inclusive",
        ]),
    SpecValidationCase(
        name: "minReplicas zero is allowed",
        change: {
            $0.autoscaling.minReplicas = 0
            $0.autoscaling.targetUtilization = 1
        }, expected: []),
]

@Suite("Spec validation")
struct SpecValidationTests {
    @Test(arguments: specCases)
    func validate(_ c: SpecValidationCase) {
        var spec = validSpec()
        c.change(&spec)
        #expect(spec.validate().map(\.description) == c.expected)
    }

    @Test func problemsSplitIntoFieldAndMessage() {
        var spec = validSpec()
        spec.steps = [RolloutStep(weight: 10), RolloutStep(weight: 100), RolloutStep(weight: 100)]
        let problems = spec.validate()
        #expect(
            problems == [
                SpecProblem(
                    field: "spec.steps[2].weight",
                    message: "Invalid value: 100: must be greater than the previous step's weight (100)")
            ])
    }

    struct NameCase: Sendable, CustomTestStringConvertible {
        var name: String
        var subdomain: Bool
        var label: Bool
        var dns1035: Bool
        var testDescription: String { name.isEmpty ? "(empty)" : name }
    }

    @Test(arguments: [
        NameCase(name: "vllm-llama-r2", subdomain: true, label: true, dns1035: true),
        NameCase(name: "a.b-c.d", subdomain: true, label: false, dns1035: false),
        NameCase(name: "1abc", subdomain: true, label: true, dns1035: false),
        NameCase(name: "abc-", subdomain: false, label: false, dns1035: false),
        NameCase(name: "a..b", subdomain: false, label: false, dns1035: false),
        NameCase(name: "ABC", subdomain: false, label: false, dns1035: false),
        NameCase(name: "", subdomain: false, label: false, dns1035: false),
        NameCase(name: String(repeating: "x", count: 64), subdomain: true, label: false, dns1035: false),
    ])
    func nameRules(_ c: NameCase) {
        #expect((KubeNames.dnsSubdomainProblem(c.name) == nil) == c.subdomain)
        #expect((KubeNames.dns1123LabelProblem(c.name) == nil) == c.label)
        #expect((KubeNames.dns1035LabelProblem(c.name) == nil) == c.dns1035)
    }
}
