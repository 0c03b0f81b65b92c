import Foundation
import KubeCore
import Testing

@testable import ClusterSim

@Suite("SchemaStructural")
struct SchemaStructuralTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let schema: String
        /// Expected causes as `field: message`, relative to `spec.validation.openAPIV3Schema`.
        let errors: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "structural",
            schema:
                #"{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"}},"p":{"x-kubernetes-int-or-string":true},"any":{"x-kubernetes-preserve-unknown-fields":true}}}}}"#,
            errors: []),
        Case(
            name: "missing type on a property", schema: #"{"type":"object","properties":{"spec":{"properties":{}}}}"#,
            errors: ["properties[spec].type: Required value: must not be empty for specified object fields"]),
        Case(
            name: "missing type at the root", schema: #"{"properties":{}}"#,
            errors: ["type: Required value: must not be empty at the root"]),
        Case(
            name: "root must be object", schema: #"{"type":"string"}"#,
            errors: [#"type: Invalid value: "string": must be object at the root"#]),
        Case(
            name: "array needs items, items need type",
            schema: #"{"type":"object","properties":{"a":{"type":"array"},"b":{"type":"array","items":{}}}}"#,
            errors: [
                "properties[a].items: Required value: must be specified",
                "properties[b].items.type: Required value: must not be empty for specified array items",
            ]),
        Case(
            name: "additionalProperties at root and with properties",
            schema:
                #"{"type":"object","additionalProperties":{"type":"string"},"properties":{"x":{"type":"object","properties":{"y":{"type":"string"}},"additionalProperties":{"type":"string"}}}}"#,
            errors: [
                "additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
                "additionalProperties: Forbidden: must not be used at the root",
                "properties[x].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
            ]),
        Case(
            name: "forbidden keys inside anyOf",
            schema:
                #"{"type":"object","properties":{"x":{"type":"string","anyOf":[{"type":"string","description":"d","default":"a"}]}}}"#,
            errors: [
                "properties[x].anyOf[0].default: Forbidden: must be undefined to be structural",
                "properties[x].anyOf[0].description: Forbidden: must be empty to be structural",
                "properties[x].anyOf[0].type: Forbidden: must be empty to be structural",
            ]),
        Case(
            name: "int-or-string anyOf pattern allowed",
            schema:
                #"{"type":"object","properties":{"p":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]}}}"#,
            errors: []),
        Case(
            name: "int-or-string excludes preserve and embedded",
            schema:
                #"{"type":"object","properties":{"p":{"x-kubernetes-int-or-string":true,"x-kubernetes-preserve-unknown-fields":true,"x-kubernetes-embedded-resource":true,"type":"object","properties":{"kind":{"type":"string"}}}}}"#,
            errors: [
                "properties[p].x-kubernetes-embedded-resource: Invalid value: true: must be false if x-kubernetes-int-or-string is true",
                "properties[p].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true",
            ]),
        Case(
            name: "metadata at root may only restrict name",
            schema:
                #"{"type":"object","properties":{"metadata":{"type":"object","properties":{"name":{"type":"string","maxLength":20},"labels":{"type":"object"}}}}}"#,
            errors: [
                "properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"
            ]),
        Case(
            name: "metadata name restriction allowed",
            schema:
                #"{"type":"object","properties":{"metadata":{"type":"object","properties":{"name":{"type":"string","maxLength":20}}}}}"#,
            errors: []),
        Case(
            name: "metadata in nested context",
            schema:
                #"{"type":"object","properties":{"metadata":{"type":"object"}},"allOf":[{"properties":{"metadata":{"required":["name"]}}}]}"#,
            errors: ["allOf[0].properties[metadata]: Forbidden: must not be specified in a nested context"]),
        Case(
            name: "embedded resource rules",
            schema:
                #"{"type":"object","properties":{"e":{"type":"string","x-kubernetes-embedded-resource":true},"f":{"type":"object","x-kubernetes-embedded-resource":true,"properties":{"kind":{"type":"integer"}}}}}"#,
            errors: [
                #"properties[e].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"#,
                #"properties[e].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true"#,
                #"properties[f].properties[kind].type: Invalid value: "integer": must be string"#,
            ]),
        Case(
            name: "invalid pattern and type",
            schema: #"{"type":"object","properties":{"a":{"type":"string","pattern":"[a-"},"b":{"type":"strin"}}}"#,
            errors: [
                "properties[a].pattern: Invalid value: \"[a-\": must be a valid regular expression",
                #"properties[b].type: Unsupported value: "strin": supported values: "array", "boolean", "integer", "number", "object", "string""#,
            ]),
        Case(
            name: "list-map keys must be required or defaulted",
            schema:
                #"{"type":"object","properties":{"l":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],"items":{"type":"object","properties":{"name":{"type":"string"}}}}}}"#,
            errors: [
                "properties[l].items.properties[name]: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
            ]),
        Case(
            name: "value validation must reference structural properties",
            schema:
                #"{"type":"object","properties":{"a":{"type":"object","anyOf":[{"properties":{"zz":{"minLength":1}}}]}}}"#,
            errors: [
                "properties[a].properties[zz]: Required value: because it is defined in spec.validation.openAPIV3Schema.properties[a].anyOf[0].properties[zz]"
            ]),
    ]

    @Test(arguments: cases)
    func structuralErrors(_ c: Case) {
        let prefix = "spec.validation.openAPIV3Schema"
        let errors = CRDSchema.structuralErrors(SchemaFixtures.json(c.schema)).map { cause -> String in
            var field = cause.field
            if field.hasPrefix(prefix + ".") { field.removeFirst(prefix.count + 1) }
            return "\(field): \(cause.message)"
        }
        // The regex error text comes from Swift's parser; compare only the stable part of it.
        let normalised = errors.map { e in
            e.range(of: "must be a valid regular expression").map { String(e[..<$0.upperBound]) } ?? e
        }
        #expect(normalised == c.errors)
    }

    @Test func fieldPathPrefix() {
        let errors = CRDSchema.structuralErrors(
            SchemaFixtures.json(#"{"type":"object","properties":{"spec":{}}}"#), fieldPath: "spec.versions[1].schema.openAPIV3Schema")
        #expect(errors.map(\.field) == ["spec.versions[1].schema.openAPIV3Schema.properties[spec].type"])
        #expect(errors.first?.type == "FieldValueRequired")
        #expect(errors.first?.message == "Required value: must not be empty for specified object fields")
    }
}
