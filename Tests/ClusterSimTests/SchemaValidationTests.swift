import Foundation
import KubeCore
import Testing

@testable import ClusterSim

@Suite("SchemaValidation")
struct SchemaValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let spec: String
        /// Expected causes as `type|field|message`.
        let causes: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "valid object", spec: #"{"model":"m","replicas":2,"mode":"fast"}"#, causes: []),
        Case(name: "whole double is an integer", spec: #"{"model":"m","replicas":2.0}"#, causes: []),
        Case(
            name: "wrong type", spec: #"{"model":"m","replicas":"three"}"#,
            causes: [
                #"FieldValueTypeInvalid|spec.replicas|Invalid value: "string": spec.replicas in body must be of type integer: "string""#
            ]),
        Case(
            name: "fractional number for integer", spec: #"{"model":"m","replicas":1.5}"#,
            causes: [
                #"FieldValueTypeInvalid|spec.replicas|Invalid value: "number": spec.replicas in body must be of type integer: "number""#
            ]),
        Case(
            name: "required missing", spec: #"{"replicas":2}"#, causes: ["FieldValueRequired|spec.model|Required value"]
        ),
        Case(
            name: "minimum", spec: #"{"model":"m","replicas":0}"#,
            causes: [
                "FieldValueInvalid|spec.replicas|Invalid value: 0: spec.replicas in body should be greater than or equal to 1"
            ]),
        Case(
            name: "maximum", spec: #"{"model":"m","replicas":11}"#,
            causes: [
                "FieldValueInvalid|spec.replicas|Invalid value: 11: spec.replicas in body should be less than or equal to 10"
            ]),
        Case(
            name: "enum", spec: #"{"model":"m","mode":"x"}"#,
            causes: [#"FieldValueNotSupported|spec.mode|Unsupported value: "x": supported values: "fast", "safe""#]),
        Case(
            name: "maxLength", spec: #"{"model":"abcdefghijk"}"#,
            causes: ["FieldValueTooLong|spec.model|Too long: may not be more than 10 bytes"]),
        Case(
            name: "minLength and pattern", spec: #"{"model":""}"#,
            causes: [
                #"FieldValueInvalid|spec.model|Invalid value: "": spec.model in body should be at least 1 chars long"#,
                #"FieldValueInvalid|spec.model|Invalid value: "": spec.model in body should match '^[a-z0-9-]+$'"#,
            ]),
        Case(
            name: "pattern", spec: #"{"model":"Big"}"#,
            causes: [
                #"FieldValueInvalid|spec.model|Invalid value: "Big": spec.model in body should match '^[a-z0-9-]+$'"#
            ]),
        Case(
            name: "exclusiveMinimum and multipleOf", spec: #"{"model":"m","ratio":0}"#,
            causes: ["FieldValueInvalid|spec.ratio|Invalid value: 0: spec.ratio in body should be greater than 0"]),
        Case(
            name: "multipleOf", spec: #"{"model":"m","ratio":0.7}"#,
            causes: ["FieldValueInvalid|spec.ratio|Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5"]),
        Case(name: "int-or-string accepts both", spec: #"{"model":"m","port":"http"}"#, causes: []),
        Case(
            name: "int-or-string rejects bool", spec: #"{"model":"m","port":true}"#,
            causes: [
                #"FieldValueTypeInvalid|spec.port|Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#
            ]),
        Case(
            name: "maxProperties", spec: #"{"model":"m","labels":{"a":"1","b":"2","c":"3"}}"#,
            causes: ["FieldValueTooMany|spec.labels|Too many: 3: must have at most 2 items"]),
        Case(
            name: "additionalProperties value type", spec: #"{"model":"m","labels":{"a":1}}"#,
            causes: [
                #"FieldValueTypeInvalid|spec.labels.a|Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#
            ]),
        Case(
            name: "maxItems and set duplicates", spec: #"{"model":"m","tags":["a","b","a","c"]}"#,
            causes: [
                "FieldValueTooMany|spec.tags|Too many: 4: must have at most 3 items",
                #"FieldValueDuplicate|spec.tags[2]|Duplicate value: "a""#,
            ]),
        Case(
            name: "list-map key duplicates", spec: #"{"model":"m","backends":[{"name":"a"},{"name":"a","weight":2}]}"#,
            causes: [
                #"FieldValueDuplicate|spec.backends[1]|Duplicate value: map[string]interface {}{"name":"a"}"#
            ]),
        Case(
            name: "minItems and required in items", spec: #"{"model":"m","backends":[]}"#,
            causes: [
                "FieldValueInvalid|spec.backends|Invalid value: 0: spec.backends in body should have at least 1 items"
            ]),
        Case(
            name: "required inside array item", spec: #"{"model":"m","backends":[{"weight":1}]}"#,
            causes: ["FieldValueRequired|spec.backends[0].name|Required value"]),
        Case(name: "nullable accepts null", spec: #"{"model":"m","note":null}"#, causes: []),
        Case(
            name: "non-nullable null", spec: #"{"model":"m","when":null}"#,
            causes: [
                #"FieldValueTypeInvalid|spec.when|Invalid value: "null": spec.when in body must be of type string: "null""#
            ]),
        Case(
            name: "date-time format", spec: #"{"model":"m","when":"yesterday"}"#,
            causes: [
                #"FieldValueTypeInvalid|spec.when|Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday""#
            ]),
        Case(name: "valid date-time", spec: #"{"model":"m","when":"2026-01-01T00:00:00Z"}"#, causes: []),
    ]

    @Test(arguments: cases)
    func validates(_ c: Case) {
        let object = JSONValue.object(["apiVersion": "example.com/v1", "kind": "Widget", "spec": SchemaFixtures.json(c.spec)])
        let causes = CRDSchema(SchemaFixtures.widgetSchema).validate(object).map { "\($0.type)|\($0.field)|\($0.message)" }
        #expect(causes == c.causes)
    }

    @Test func missingRequiredRootAndWrongRootType() {
        let schema = CRDSchema(SchemaFixtures.json(#"{"type":"object","required":["spec"],"properties":{"spec":{"type":"object"}}}"#))
        #expect(schema.validate(SchemaFixtures.json(#"{"kind":"W"}"#)).map(\.field) == ["spec"])
        let causes = schema.validate(SchemaFixtures.json(#"{"spec":[1]}"#))
        #expect(causes.map(\.message) == [#"Invalid value: "array": spec in body must be of type object: "array""#])
    }

    @Test func compositionKeywords() {
        let schema = CRDSchema(
            SchemaFixtures.json(
                #"{"type":"object","properties":{"v":{"type":"string","anyOf":[{"pattern":"^a"},{"pattern":"^b"}],"not":{"enum":["bad"]}}}}"#
            ))
        #expect(schema.validate(SchemaFixtures.json(#"{"v":"abc"}"#)).isEmpty)
        #expect(
            schema.validate(SchemaFixtures.json(#"{"v":"bad"}"#)).map(\.message) == [
                #"Invalid value: "bad": v in body must not validate the schema (not)"#
            ])
        #expect(
            schema.validate(SchemaFixtures.json(#"{"v":"xyz"}"#)).first?.message
                == #"Invalid value: "xyz": v in body must validate at least one schema (anyOf)"#)
    }

    @Test func goValueRendering() {
        #expect(FieldErrors.goFloat(1) == "1")
        #expect(FieldErrors.goFloat(0.5) == "0.5")
        #expect(FieldErrors.goFloat(1_000_000) == "1e+06")
        #expect(FieldErrors.goFloat(123456) == "123456")
        #expect(FieldErrors.goFloat(0.00001) == "1e-05")
        #expect(FieldErrors.goFloat(-2.25) == "-2.25")
        #expect(FieldErrors.goQuote("a\"b\n") == #""a\"b\n""#)
        #expect(
            FieldErrors.goSyntax(SchemaFixtures.json(#"{"b":[1,"x"],"a":true}"#))
                == #"map[string]interface {}{"a":true, "b":[]interface {}{1, "x"}}"#)
    }
}
