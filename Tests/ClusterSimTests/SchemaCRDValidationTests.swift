import Foundation
import KubeCore
import Testing

@testable import ClusterSim

extension SchemaFixtures {
    /// A valid CRD; tests mutate one field at a time.
    static let widgetCRD = json(
        """
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
         "metadata":{"name":"widgets.example.com"},
         "spec":{"group":"example.com","scope":"Namespaced",
           "names":{"plural":"widgets","kind":"Widget","shortNames":["wd"]},
           "versions":[{"name":"v1","served":true,"storage":true,
             "schema":{"openAPIV3Schema":{"type":"object","properties":{
               "spec":{"type":"object","properties":{"replicas":{"type":"integer","default":1},"model":{"type":"string"}}},
               "status":{"type":"object","properties":{"replicas":{"type":"integer"},"selector":{"type":"string"}}}}}},
             "subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas",
               "statusReplicasPath":".status.replicas","labelSelectorPath":".status.selector"}},
             "additionalPrinterColumns":[{"name":"Replicas","type":"integer","jsonPath":".spec.replicas"}],
             "selectableFields":[{"jsonPath":".spec.model"}]}]}}
        """)
}

@Suite("SchemaCRDValidation")
struct SchemaCRDValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let path: [String]
        let value: String?
        /// Expected `field: message` lines.
        let errors: [String]
        var testDescription: String { name }
    }

    static let dns1035 =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        + "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
        + "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

    static let cases: [Case] = [
        Case(name: "valid", path: [], value: nil, errors: []),
        Case(
            name: "name mismatch", path: ["metadata", "name"], value: #""widget.example.com""#,
            errors: [#"metadata.name: Invalid value: "widget.example.com": must be spec.names.plural+"."+spec.group"#]),
        Case(
            name: "group without dot", path: ["spec", "group"], value: #""example""#,
            errors: [
                #"metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group"#,
                #"spec.group: Invalid value: "example": should be a domain with at least one dot"#,
            ]),
        Case(
            name: "bad scope", path: ["spec", "scope"], value: #""Global""#,
            errors: [#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#]),
        Case(
            name: "missing kind", path: ["spec", "names", "kind"], value: nil,
            errors: ["spec.names.kind: Required value"]),
        Case(
            name: "uppercase plural", path: ["spec", "names", "plural"], value: #""Widgets""#,
            errors: [
                #"metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group"#,
                #"spec.names.plural: Invalid value: "Widgets": "# + dns1035,
            ]),
        Case(
            name: "no versions", path: ["spec", "versions"], value: "[]",
            errors: [
                "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must have exactly one version marked as storage version"
            ]),
        Case(
            name: "schema required", path: ["spec", "versions"],
            value: #"[{"name":"v1","served":true,"storage":true}]"#,
            errors: ["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"]),
        Case(
            name: "non-structural schema", path: ["spec", "versions"],
            value:
                #"[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{}}}}}]"#,
            errors: [
                "spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields"
            ]),
        Case(
            name: "different schemas are reported per version", path: ["spec", "versions"],
            value:
                #"[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}}},{"name":"v2","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{}}}}}]"#,
            errors: [
                "spec.versions[1].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields"
            ]),
        Case(
            name: "two storage versions", path: ["spec", "versions"],
            value:
                #"[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}}},{"name":"v2","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}}}]"#,
            errors: [
                "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must have exactly one version marked as storage version"
            ]),
        Case(
            name: "invalid default", path: ["spec", "versions"],
            value:
                #"[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"n":{"type":"integer","default":"x"}}}}}}}]"#,
            errors: [
                #"spec.validation.openAPIV3Schema.properties[spec].properties[n].default: Invalid value: "string": spec.n in body must be of type integer: "string""#
            ]),
        Case(
            name: "scale path outside spec", path: ["spec", "versions"],
            value:
                #"[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}},"subresources":{"scale":{"specReplicasPath":".status.replicas","statusReplicasPath":"status.replicas"}}}]"#,
            errors: [
                #"spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec"#,
                #"spec.subresources.scale.statusReplicasPath: Invalid value: "status.replicas": must be a simple json path starting with ."#,
            ]),
        Case(
            name: "printer column type and path", path: ["spec", "versions"],
            value:
                #"[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}},"additionalPrinterColumns":[{"name":"X","type":"float","jsonPath":"spec.x"},{"type":"string"}]}]"#,
            errors: [
                #"spec.additionalPrinterColumns[0].type: Unsupported value: "float": supported values: "boolean", "date", "integer", "number", "string""#,
                #"spec.additionalPrinterColumns[0].jsonPath: Invalid value: "spec.x": must be a simple json path starting with ."#,
                "spec.additionalPrinterColumns[1].name: Required value",
                "spec.additionalPrinterColumns[1].jsonPath: Required value",
            ]),
        Case(
            name: "selectable field must exist and be scalar", path: ["spec", "versions", "0", "selectableFields"],
            value: #"[{"jsonPath":".spec.nope"},{"jsonPath":".spec"}]"#,
            errors: [
                #"spec.versions[0].selectableFields[0].jsonPath: Invalid value: ".spec.nope": is an invalid path: does not refer to a valid field"#,
                #"spec.versions[0].selectableFields[1].jsonPath: Invalid value: ".spec": must point to a field of type string, boolean or integer. Enums with type string, boolean or integer are also supported."#,
            ]),
    ]

    /// Sets (or, with a nil value, removes) the member at `path`; numeric segments index arrays.
    static func set(_ v: inout JSONValue, _ path: ArraySlice<String>, _ new: JSONValue?) {
        guard let first = path.first else { return }
        if case .array(var a) = v, let i = Int(first), a.indices.contains(i) {
            if path.count == 1 {
                if let new { a[i] = new }
            } else {
                set(&a[i], path.dropFirst(), new)
            }
            v = .array(a)
            return
        }
        if path.count == 1 {
            v[first] = new
            return
        }
        var child = v[first] ?? .object([:])
        set(&child, path.dropFirst(), new)
        v[first] = child
    }

    @Test(arguments: cases)
    func validates(_ c: Case) {
        var crd = SchemaFixtures.widgetCRD
        if !c.path.isEmpty { Self.set(&crd, c.path[...], c.value.map(SchemaFixtures.json)) }
        let errors = CRDValidation.validate(crd).map { "\($0.field): \($0.message)" }
        #expect(errors == c.errors)
    }

    @Test func defaultedFillsNamesConversionAndStatus() throws {
        let now = try #require(KubeTime.parse("2026-11-25T09:45:06Z"))
        let crd = CRDValidation.defaulted(SchemaFixtures.widgetCRD, now: now)
        #expect(crd[path: ["spec", "names", "listKind"]] == "WidgetList")
        #expect(crd[path: ["spec", "names", "singular"]] == "widget")
        #expect(crd[path: ["spec", "conversion"]] == ["strategy": "None"])
        #expect(
            crd[path: ["status", "acceptedNames"]]
                == [
                    "plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList",
                    "shortNames": ["wd"],
                ])
        #expect(crd[path: ["status", "storedVersions"]] == ["v1"])
        #expect(
            crd[path: ["status", "conditions"]]
                == SchemaFixtures.json(
                    """
                    [{"type":"NamesAccepted","status":"True","reason":"NoConflicts","message":"no conflicts found",
                      "lastTransitionTime":"2026-11-25T09:45:06Z"},
                     {"type":"Established","status":"True","reason":"InitialNamesAccepted",
                      "message":"the initial names have been accepted","lastTransitionTime":"2026-11-25T09:45:06Z"}]
                    """))
        #expect(CRDValidation.validate(crd).isEmpty)

        // Re-defaulting later keeps the transition times of unchanged conditions and the stored versions.
        let later = CRDValidation.defaulted(crd, now: now.addingTimeInterval(60))
        #expect(later[path: ["status", "conditions"]] == crd[path: ["status", "conditions"]])
        #expect(later[path: ["status", "storedVersions"]] == ["v1"])
    }
}
