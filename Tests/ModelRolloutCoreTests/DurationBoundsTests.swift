import Foundation
import KubeCore
import Testing

@testable import ModelRolloutCore

/// Durations the planner turns into dates: absurd ones are refused with one clear message, never a crash or a
/// status the API server rejects (issue 13).
@Suite struct DurationBoundsTests {
    @Test(arguments: ["9999999999999999999999h", "2600000000000h", "2562048h", "99999999999999999999s"])
    func durationsBeyondGosLimitDoNotParse(_ text: String) {
        #expect(KubeDuration(text) == nil)
    }

    @Test func theLongestGoDurationParsesAndPrints() throws {
        let longest = try #require(KubeDuration("2562047h"))
        #expect(longest.description == "2562047h")
        #expect(KubeDuration(seconds: 1e30).seconds == KubeDuration.maximumSeconds, "numbers are clamped")
        #expect(!KubeDuration(seconds: .greatestFiniteMagnitude).description.isEmpty)
    }

    @Test func aHugeScaleDownDelayIsAClearDecodeErrorNotACrash() {
        let json: JSONValue = [
            "apiVersion": "modelrollout.io/v1alpha1", "kind": "ModelRollout",
            "metadata": ["name": "chat", "namespace": "llm-serving"],
            "spec": [
                "model": "m", "deployment": "r2", "route": ["name": "chat"],
                "autoscaling": ["scaleDownDelay": "9999999999999999999999h"],
            ],
        ]
        guard case .failure(let error) = ModelRollout.decode(json) else {
            Issue.record("decoded")
            return
        }
        #expect(error.description.contains("spec.autoscaling.scaleDownDelay"))
        #expect(error.description.contains("invalid duration"))
    }

    @Test func specDurationsAreAtMostAYear() {
        var spec = ModelRolloutSpec(model: "m", deployment: "r2", route: RouteReference(name: "chat"))
        spec.autoscaling.scaleDownDelay = KubeDuration(seconds: 9000 * 3600)
        spec.steps[0].hold = KubeDuration(seconds: 400 * 24 * 3600)
        spec.readinessTimeout = KubeDuration(seconds: 365 * 24 * 3600)
        let problems = spec.validate().map(\.description)
        #expect(problems == [
            "spec.autoscaling.scaleDownDelay: Invalid value: \"9000h\": must be at most 8760h",
            "spec.steps[0].hold: Invalid value: \"9600h\": must be at most 8760h",
        ])
    }
}
