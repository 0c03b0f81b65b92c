import KubeCore
import Testing

@testable import ClusterSim

@Suite struct ObjectMetaValidationTests {
    @Test(arguments: [
        ("web-1", ObjectMetaValidation.NameRule.subdomain, true),
        ("widgets.example.com", .subdomain, true),
        ("Bad_Name", .subdomain, false),
        ("-web", .subdomain, false),
        ("a..b", .subdomain, false),
        ("llm-serving", .label, true),
        ("llm.serving", .label, false),
        ("vllm-llama", .dns1035, true),
        ("1vllm", .dns1035, false),
        (String(repeating: "a", count: 64), .label, false),
        (String(repeating: "a", count: 253), .subdomain, true),
        (String(repeating: "a", count: 254), .subdomain, false),
    ])
    func names(name: String, rule: ObjectMetaValidation.NameRule, valid: Bool) {
        #expect((ObjectMetaValidation.nameProblem(name, rule: rule) == nil) == valid)
    }

    @Test func invalidNameAndLabelsBecomeCauses() {
        let object: JSONValue = [
            "metadata": ["name": "Bad_Name", "labels": ["app": "ok", "bad key!": "x", "tier": "not valid"]]
        ]
        let causes = ObjectMetaValidation.validate(object, resource: .configMaps)
        #expect(causes.map(\.field) == ["metadata.name", "metadata.labels", "metadata.labels"])
        #expect(causes[0].message.hasPrefix("Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"))
        #expect(ObjectMetaValidation.validate(["metadata": ["name": "ok"]], resource: .configMaps).isEmpty)
    }

    @Test func serverAnswers422ForAnInvalidName() async throws {
        try await TestCluster.with(APIServer.Configuration()) { c in
            let reply = try await c.json(
                .POST, "/api/v1/namespaces/default/configmaps",
                ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "Bad_Name"]])
            #expect(reply.status == 422)
            #expect(reply.json["message"]?.stringValue?.hasPrefix("ConfigMap \"Bad_Name\" is invalid: metadata.name") == true)
        }
    }
}
