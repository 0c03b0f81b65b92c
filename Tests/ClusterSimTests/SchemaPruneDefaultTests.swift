import Foundation
import KubeCore
import Testing

@testable import ClusterSim

/// Shared fixtures of the Schema and Table tests (namespaced to stay clear of other suites' helpers).
enum SchemaFixtures {
    /// Parses a JSON literal in a test; a typo in a fixture fails the test instead of crashing.
    static func json(_ text: String) -> JSONValue {
        do {
            return try JSONValue.parse(text)
        } catch {
            Issue.record("bad JSON fixture: \(error)")
            return .null
        }
    }

    static let widgetSchema = json(
        """
        {"type":"object","properties":{
          "spec":{"type":"object","required":["model"],"properties":{
            "model":{"type":"string","minLength":1,"maxLength":10,"pattern":"^[a-z0-9-]+$"},
            "replicas":{"type":"integer","minimum":1,"maximum":10,"default":1},
            "mode":{"type":"string","enum":["fast","safe"],"default":"safe"},
            "ratio":{"type":"number","exclusiveMinimum":true,"minimum":0,"multipleOf":0.5},
            "port":{"x-kubernetes-int-or-string":true},
            "labels":{"type":"object","additionalProperties":{"type":"string"},"maxProperties":2},
            "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true,
                     "properties":{"known":{"type":"object","properties":{"a":{"type":"string"}}}}},
            "free":{"type":"object","additionalProperties":true},
            "tags":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"set","maxItems":3},
            "backends":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
              "minItems":1,
              "items":{"type":"object","required":["name"],"properties":{
                "name":{"type":"string"},"weight":{"type":"integer","default":1},
                "opts":{"type":"object","properties":{"timeout":{"type":"string","default":"30s"}},"default":{}}}}},
            "note":{"type":"string","nullable":true},
            "when":{"type":"string","format":"date-time"},
            "template":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true},
            "pod":{"type":"object","x-kubernetes-embedded-resource":true,
                   "properties":{"apiVersion":{"type":"string"},"kind":{"type":"string"},"spec":{"type":"object"}}},
            "limits":{"type":"object","additionalProperties":{"type":"object",
                      "properties":{"max":{"type":"integer","default":5}}}}
          }},
          "status":{"type":"object","properties":{"phase":{"type":"string"}}}
        }}
        """)
}

@Suite("SchemaPrune")
struct SchemaPruneTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let input: String
        let output: String
        let unknown: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "unknown top-level and spec fields",
            input:
                #"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","x":1},"spec":{"model":"m","foo":1},"bar":2}"#,
            output:
                #"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","x":1},"spec":{"model":"m"}}"#,
            unknown: ["bar", "spec.foo"]),
        Case(
            name: "preserve-unknown-fields keeps unknown but prunes known",
            input: #"{"spec":{"extra":{"x":{"y":1},"known":{"a":"s","b":2}}}}"#,
            output: #"{"spec":{"extra":{"x":{"y":1},"known":{"a":"s"}}}}"#, unknown: ["spec.extra.known.b"]),
        Case(
            name: "additionalProperties true keeps everything", input: #"{"spec":{"free":{"a":{"deep":[1,{"x":2}]}}}}"#,
            output: #"{"spec":{"free":{"a":{"deep":[1,{"x":2}]}}}}"#, unknown: []),
        Case(
            name: "additionalProperties schema prunes each value",
            input: #"{"spec":{"limits":{"gpu":{"max":2,"min":1}}}}"#,
            output: #"{"spec":{"limits":{"gpu":{"max":2}}}}"#, unknown: ["spec.limits.gpu.min"]),
        Case(
            name: "array items pruned with index paths",
            input: #"{"spec":{"backends":[{"name":"a","zzz":1},{"name":"b"}]}}"#,
            output: #"{"spec":{"backends":[{"name":"a"},{"name":"b"}]}}"#, unknown: ["spec.backends[0].zzz"]),
        Case(
            name: "embedded resource keeps apiVersion kind metadata",
            input: #"{"spec":{"pod":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{},"junk":1}}}"#,
            output: #"{"spec":{"pod":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{}}}}"#,
            unknown: ["spec.pod.junk"]),
        Case(
            name: "object where schema has no properties is emptied",
            input: #"{"status":{"phase":"x","other":{"a":1}}}"#,
            output: #"{"status":{"phase":"x"}}"#, unknown: ["status.other"]),
    ]

    @Test(arguments: cases)
    func prunes(_ c: Case) {
        let schema = CRDSchema(SchemaFixtures.widgetSchema)
        let result = schema.prune(SchemaFixtures.json(c.input))
        #expect(result.object == SchemaFixtures.json(c.output))
        #expect(result.unknownFields == c.unknown)
    }
}

@Suite("SchemaDefaults")
struct SchemaDefaultTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let input: String
        let output: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "absent fields get defaults", input: #"{"spec":{"model":"m"}}"#,
            output: #"{"spec":{"model":"m","replicas":1,"mode":"safe"}}"#),
        Case(
            name: "present fields keep their value", input: #"{"spec":{"model":"m","replicas":3,"mode":"fast"}}"#,
            output: #"{"spec":{"model":"m","replicas":3,"mode":"fast"}}"#),
        Case(
            name: "defaults inside array items, nested default objects defaulted too",
            input: #"{"spec":{"model":"m","backends":[{"name":"a"},{"name":"b","weight":0,"opts":{"timeout":"1s"}}]}}"#,
            output:
                #"{"spec":{"model":"m","replicas":1,"mode":"safe","backends":[{"name":"a","weight":1,"opts":{"timeout":"30s"}},{"name":"b","weight":0,"opts":{"timeout":"1s"}}]}}"#
        ),
        Case(
            name: "defaults inside additionalProperties values", input: #"{"spec":{"model":"m","limits":{"gpu":{}}}}"#,
            output: #"{"spec":{"model":"m","replicas":1,"mode":"safe","limits":{"gpu":{"max":5}}}}"#),
        Case(
            name: "null of non-nullable field with default is defaulted, without default dropped",
            input: #"{"spec":{"model":"m","replicas":null,"when":null,"note":null}}"#,
            output: #"{"spec":{"model":"m","replicas":1,"mode":"safe","note":null}}"#),
        Case(name: "no spec, nothing to default", input: #"{"status":{}}"#, output: #"{"status":{}}"#),
    ]

    @Test(arguments: cases)
    func defaults(_ c: Case) {
        #expect(CRDSchema(SchemaFixtures.widgetSchema).applyDefaults(SchemaFixtures.json(c.input)) == SchemaFixtures.json(c.output))
    }
}
