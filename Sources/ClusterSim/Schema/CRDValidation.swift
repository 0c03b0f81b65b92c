import Foundation
import KubeCore

/// Validation and defaulting of `CustomResourceDefinition` objects (apiextensions.k8s.io/v1), as the real API
/// server does on create and update (`pkg/apis/apiextensions/validation`), returning 422 causes.
///
/// Like the real server, schema, subresource and printer-column errors are reported under `spec.validation`,
/// `spec.subresources` and `spec.additionalPrinterColumns` when every version carries the same value, and under
/// `spec.versions[i]...` otherwise. CEL rules (`x-kubernetes-validations`) are not compiled or checked.
public enum CRDValidation {
    /// Every problem of `crd`; empty when the CRD may be stored. A missing `listKind`/`singular` is fine
    /// (they are defaulted by `defaulted(_:now:)`).
    public static func validate(_ crd: JSONValue) -> [APIStatus.Cause] {
        var errors: [APIStatus.Cause] = []
        let spec = crd["spec"] ?? .object([:])
        let group = spec["group"]?.stringValue ?? ""
        let names = spec["names"] ?? .object([:])
        let plural = names["plural"]?.stringValue ?? ""

        let name = crd[path: ["metadata", "name"]]?.stringValue ?? ""
        if name != "\(plural).\(group)" {
            errors.append(
                FieldErrors.invalid("metadata.name", .string(name), "must be spec.names.plural+\".\"+spec.group"))
        }
        if group.isEmpty {
            errors.append(FieldErrors.required("spec.group"))
        } else {
            if !group.contains(".") {
                errors.append(
                    FieldErrors.invalid("spec.group", .string(group), "should be a domain with at least one dot"))
            }
            if let problem = NameRules.dns1123SubdomainError(group) {
                errors.append(FieldErrors.invalid("spec.group", .string(group), problem))
            }
        }
        switch spec["scope"]?.stringValue ?? "" {
        case "Namespaced", "Cluster": break
        case "": errors.append(FieldErrors.required("spec.scope"))
        default:
            errors.append(FieldErrors.notSupported("spec.scope", spec["scope"] ?? .null, ["Cluster", "Namespaced"]))
        }
        errors += validateNames(names, path: "spec.names")
        errors += validateVersions(spec)
        if let strategy = spec[path: ["conversion", "strategy"]]?.stringValue, strategy != "None", strategy != "Webhook"
        {
            errors.append(
                FieldErrors.notSupported("spec.conversion.strategy", .string(strategy), ["None", "Webhook"]))
        }
        return errors
    }

    // MARK: - Names

    static func validateNames(_ names: JSONValue, path: String) -> [APIStatus.Cause] {
        var errors: [APIStatus.Cause] = []
        let plural = names["plural"]?.stringValue ?? ""
        if plural.isEmpty {
            errors.append(FieldErrors.required(FieldPath.child(path, "plural")))
        } else if let problem = NameRules.dns1035LabelError(plural) {
            errors.append(FieldErrors.invalid(FieldPath.child(path, "plural"), .string(plural), problem))
        }
        if let singular = names["singular"]?.stringValue, !singular.isEmpty,
            let problem = NameRules.dns1035LabelError(singular)
        {
            errors.append(FieldErrors.invalid(FieldPath.child(path, "singular"), .string(singular), problem))
        }
        let kind = names["kind"]?.stringValue ?? ""
        if kind.isEmpty {
            errors.append(FieldErrors.required(FieldPath.child(path, "kind")))
        } else if let problem = NameRules.dns1035LabelError(kind.lowercased()) {
            errors.append(
                FieldErrors.invalid(
                    FieldPath.child(path, "kind"), .string(kind),
                    "may have mixed case, but should otherwise match: \(problem)"))
        }
        if let listKind = names["listKind"]?.stringValue, !listKind.isEmpty {
            if let problem = NameRules.dns1035LabelError(listKind.lowercased()) {
                errors.append(
                    FieldErrors.invalid(
                        FieldPath.child(path, "listKind"), .string(listKind),
                        "may have mixed case, but should otherwise match: \(problem)"))
            }
            if listKind == kind {
                errors.append(
                    FieldErrors.invalid(
                        FieldPath.child(path, "listKind"), .string(listKind), "kind and listKind may not be the same"))
            }
        }
        for key in ["shortNames", "categories"] {
            for (i, v) in (names[key]?.arrayValue ?? []).enumerated() {
                let p = FieldPath.index(FieldPath.child(path, key), i)
                guard let s = v.stringValue else {
                    errors.append(FieldErrors.typeInvalid(p, .string(v.typeName), "must be a string"))
                    continue
                }
                if let problem = NameRules.dns1035LabelError(s) {
                    errors.append(FieldErrors.invalid(p, v, problem))
                }
            }
        }
        return errors
    }

    // MARK: - Versions

    static let versionsValue = "[]apiextensions.CustomResourceDefinitionVersion{...}"

    static func validateVersions(_ spec: JSONValue) -> [APIStatus.Cause] {
        var errors: [APIStatus.Cause] = []
        let versions = spec["versions"]?.arrayValue ?? []
        var storageCount = 0
        var seen: Set<String> = []
        var unique = true
        for (i, v) in versions.enumerated() {
            let path = FieldPath.index("spec.versions", i)
            let name = v["name"]?.stringValue ?? ""
            if !seen.insert(name).inserted { unique = false }
            if name.isEmpty {
                errors.append(FieldErrors.required(FieldPath.child(path, "name")))
            } else if let problem = NameRules.dns1035LabelError(name) {
                errors.append(FieldErrors.invalid(FieldPath.child(path, "name"), .string(name), problem))
            }
            for flag in ["served", "storage", "deprecated"] {
                if let value = v[flag], value.boolValue == nil {
                    let p = FieldPath.child(path, flag)
                    errors.append(
                        FieldErrors.typeInvalid(
                            p, .string(value.typeName), "\(p) in body must be of type boolean: \"\(value.typeName)\""))
                }
            }
            if v["storage"]?.boolValue == true { storageCount += 1 }
        }
        if !unique {
            errors.append(invalidVersions("must contain unique version names"))
        }
        if storageCount != 1 {
            errors.append(invalidVersions("must have exactly one version marked as storage version"))
        }
        if versions.contains(where: { $0["served"]?.boolValue == true }) == false && !versions.isEmpty {
            errors.append(invalidVersions("must have at least one served version"))
        }

        // Schemas: required per version; reported under spec.validation when all versions agree.
        let schemas = versions.map { $0[path: ["schema", "openAPIV3Schema"]] }
        let sharedSchema = versions.count >= 1 && schemas.allSatisfy { $0 == schemas[0] }
        for (i, schema) in schemas.enumerated() {
            let versionPath = FieldPath.index("spec.versions", i)
            guard let schema, !schema.isNull else {
                errors.append(
                    FieldErrors.required(FieldPath.child(versionPath, "schema.openAPIV3Schema"), "schemas are required")
                )
                continue
            }
            if sharedSchema && i > 0 { continue }
            let prefix = sharedSchema ? "spec.validation.openAPIV3Schema" : "\(versionPath).schema.openAPIV3Schema"
            let structural = CRDSchema.structuralErrors(schema, fieldPath: prefix)
            errors += structural
            if structural.isEmpty { errors += defaultErrors(schema, path: prefix, logicalPath: "") }
        }

        let subresources = versions.map { $0["subresources"] }
        let sharedSubresources = subresources.allSatisfy { $0 == subresources.first ?? nil }
        for (i, sub) in subresources.enumerated() {
            guard let sub, !(sharedSubresources && i > 0) else { continue }
            let prefix =
                sharedSubresources ? "spec.subresources" : "\(FieldPath.index("spec.versions", i)).subresources"
            errors += validateSubresources(sub, path: prefix)
        }

        let columns = versions.map { $0["additionalPrinterColumns"] }
        let sharedColumns = columns.allSatisfy { $0 == columns.first ?? nil }
        for (i, cols) in columns.enumerated() {
            guard let cols, !(sharedColumns && i > 0) else { continue }
            let prefix =
                sharedColumns
                ? "spec.additionalPrinterColumns" : "\(FieldPath.index("spec.versions", i)).additionalPrinterColumns"
            errors += validatePrinterColumns(cols, path: prefix)
        }

        for (i, v) in versions.enumerated() {
            guard let fields = v["selectableFields"] else { continue }
            errors += validateSelectableFields(
                fields, schema: SchemaNode(schemas[i]),
                path: "\(FieldPath.index("spec.versions", i)).selectableFields")
        }
        return errors
    }

    static func invalidVersions(_ detail: String) -> APIStatus.Cause {
        APIStatus.Cause(
            type: "FieldValueInvalid", message: "Invalid value: \(versionsValue): \(detail)", field: "spec.versions")
    }

    /// Every `default` must itself be valid against the schema node it sits on.
    static func defaultErrors(_ schema: JSONValue, path: String, logicalPath: String) -> [APIStatus.Cause] {
        guard let node = SchemaNode(schema) else { return [] }
        var errors: [APIStatus.Cause] = []
        if let d = CRDSchema.defaultOf(node) {
            var validator = SchemaValidator()
            validator.validate(d, node, path: logicalPath)
            for cause in validator.errors + validator.listErrors {
                errors.append(
                    APIStatus.Cause(type: cause.type, message: cause.message, field: FieldPath.child(path, "default")))
            }
        }
        for key in node.properties.keys.sorted() {
            if let p = node.raw["properties"]?[key] {
                errors += defaultErrors(
                    p, path: FieldPath.key(FieldPath.child(path, "properties"), key),
                    logicalPath: FieldPath.child(logicalPath, key))
            }
        }
        if let items = node.raw["items"] {
            errors += defaultErrors(items, path: FieldPath.child(path, "items"), logicalPath: logicalPath)
        }
        if let ap = node.additionalPropertiesSchema {
            errors += defaultErrors(
                .object(ap.raw), path: FieldPath.child(path, "additionalProperties"), logicalPath: logicalPath)
        }
        return errors
    }

    // MARK: - Subresources, printer columns, selectable fields

    static func validateSubresources(_ sub: JSONValue, path: String) -> [APIStatus.Cause] {
        guard let scale = sub["scale"] else { return [] }
        var errors: [APIStatus.Cause] = []
        let scalePath = FieldPath.child(path, "scale")
        func check(_ key: String, prefixes: [String], detail: String, required: Bool) {
            let p = FieldPath.child(scalePath, key)
            guard let value = scale[key]?.stringValue, !value.isEmpty else {
                if required { errors.append(FieldErrors.required(p)) }
                return
            }
            if let problem = simpleJSONPathError(value) {
                errors.append(FieldErrors.invalid(p, .string(value), problem))
            } else if !prefixes.contains(where: value.hasPrefix) || (try? JSONPath(value))?.isSimpleFieldPath != true {
                errors.append(FieldErrors.invalid(p, .string(value), detail))
            }
        }
        check("specReplicasPath", prefixes: [".spec."], detail: "should be a json path under .spec", required: true)
        check(
            "statusReplicasPath", prefixes: [".status."], detail: "should be a json path under .status",
            required: true)
        check(
            "labelSelectorPath", prefixes: [".spec.", ".status."],
            detail: "should be a json path under either .spec or .status", required: false)
        return errors
    }

    /// apiextensions' `validateSimpleJSONPath`, plus a parse check with our evaluator.
    static func simpleJSONPathError(_ s: String) -> String? {
        if s.isEmpty { return "must not be empty" }
        if !s.hasPrefix(".") { return "must be a simple json path starting with ." }
        do {
            _ = try JSONPath(s)
        } catch {
            return "must be a valid JSON path: \(error)"
        }
        return nil
    }

    static let columnTypes = ["boolean", "date", "integer", "number", "string"]
    static let columnFormats = ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"]

    static func validatePrinterColumns(_ cols: JSONValue, path: String) -> [APIStatus.Cause] {
        var errors: [APIStatus.Cause] = []
        for (i, col) in (cols.arrayValue ?? []).enumerated() {
            let p = FieldPath.index(path, i)
            if (col["name"]?.stringValue ?? "").isEmpty {
                errors.append(FieldErrors.required(FieldPath.child(p, "name")))
            }
            switch col["type"] {
            case .none, .some(.string("")): errors.append(FieldErrors.required(FieldPath.child(p, "type")))
            case .some(let t) where !columnTypes.contains(t.stringValue ?? ""):
                errors.append(FieldErrors.notSupported(FieldPath.child(p, "type"), t, columnTypes))
            default: break
            }
            if let f = col["format"], f.stringValue != "", !columnFormats.contains(f.stringValue ?? "") {
                errors.append(FieldErrors.notSupported(FieldPath.child(p, "format"), f, columnFormats))
            }
            if let jp = col["jsonPath"]?.stringValue, !jp.isEmpty {
                if let problem = simpleJSONPathError(jp) {
                    errors.append(FieldErrors.invalid(FieldPath.child(p, "jsonPath"), .string(jp), problem))
                }
            } else {
                errors.append(FieldErrors.required(FieldPath.child(p, "jsonPath")))
            }
        }
        return errors
    }

    static func validateSelectableFields(_ fields: JSONValue, schema: SchemaNode?, path: String) -> [APIStatus.Cause] {
        var errors: [APIStatus.Cause] = []
        let list = fields.arrayValue ?? []
        if list.count > 8 { errors.append(FieldErrors.tooMany(path, actual: list.count, max: 8)) }
        var seen: Set<String> = []
        for (i, field) in list.enumerated() {
            let p = FieldPath.child(FieldPath.index(path, i), "jsonPath")
            guard let jp = field["jsonPath"]?.stringValue, !jp.isEmpty else {
                errors.append(FieldErrors.required(p))
                continue
            }
            if let problem = simpleJSONPathError(jp) {
                errors.append(FieldErrors.invalid(p, .string(jp), problem))
                continue
            }
            guard let names = (try? JSONPath(jp))?.fieldNames else {
                errors.append(FieldErrors.invalid(p, .string(jp), "must be a simple field path"))
                continue
            }
            if !seen.insert(jp).inserted { errors.append(FieldErrors.duplicate(p, rendered: FieldErrors.goQuote(jp))) }
            var node = schema
            for name in names { node = node?.child(for: name) }
            guard let target = node else {
                errors.append(
                    FieldErrors.invalid(p, .string(jp), "is an invalid path: does not refer to a valid field"))
                continue
            }
            if !["string", "integer", "boolean"].contains(target.type ?? "") {
                errors.append(
                    FieldErrors.invalid(
                        p, .string(jp),
                        "must point to a field of type string, boolean or integer. Enums with type string, boolean or "
                            + "integer are also supported."))
            }
        }
        return errors
    }

    // MARK: - Defaulting and status

    /// `crd` with the server-side defaults and the status a real server reports once the names are accepted:
    /// `listKind`, `singular`, `conversion.strategy: None`, `status.acceptedNames`, `status.storedVersions` and
    /// the `NamesAccepted`/`Established` conditions (an unchanged condition keeps its `lastTransitionTime`).
    public static func defaulted(_ crd: JSONValue, now: Date) -> JSONValue {
        var crd = crd
        guard crd.objectValue != nil else { return crd }
        var names = crd[path: ["spec", "names"]] ?? .object([:])
        let kind = names["kind"]?.stringValue ?? ""
        if (names["singular"]?.stringValue ?? "").isEmpty, !kind.isEmpty {
            names["singular"] = .string(kind.lowercased())
        }
        if (names["listKind"]?.stringValue ?? "").isEmpty, !kind.isEmpty { names["listKind"] = .string(kind + "List") }
        crd[path: ["spec", "names"]] = names
        if crd[path: ["spec", "conversion", "strategy"]] == nil {
            crd[path: ["spec", "conversion", "strategy"]] = "None"
        }

        var accepted: [String: JSONValue] = [:]
        for key in ["plural", "singular", "kind", "listKind", "shortNames", "categories"] {
            if let v = names[key] { accepted[key] = v }
        }
        crd[path: ["status", "acceptedNames"]] = .object(accepted)

        var stored = (crd[path: ["status", "storedVersions"]]?.arrayValue ?? []).compactMap(\.stringValue)
        for v in crd[path: ["spec", "versions"]]?.arrayValue ?? [] where v["storage"]?.boolValue == true {
            if let name = v["name"]?.stringValue, !stored.contains(name) { stored.append(name) }
        }
        crd[path: ["status", "storedVersions"]] = .array(stored.map { .string($0) })

        let existing = crd[path: ["status", "conditions"]]?.arrayValue ?? []
        let timestamp = KubeTime.format(now)
        func condition(_ type: String, _ reason: String, _ message: String) -> JSONValue {
            let previous = existing.first { $0["type"]?.stringValue == type }
            let keepTime = previous?["status"]?.stringValue == "True"
            return [
                "type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message),
                "lastTransitionTime": keepTime
                    ? (previous?["lastTransitionTime"] ?? .string(timestamp)) : .string(timestamp),
            ]
        }
        var conditions = [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ]
        conditions += existing.filter {
            let type = $0["type"]?.stringValue
            return type != "NamesAccepted" && type != "Established"
        }
        crd[path: ["status", "conditions"]] = .array(conditions)
        return crd
    }
}

/// Kubernetes name rules (`k8s.io/apimachinery/pkg/util/validation`), returning the real error texts.
enum NameRules {
    static func dns1035LabelError(_ s: String) -> String? {
        var problems: [String] = []
        if s.count > 63 { problems.append("must be no more than 63 characters") }
        let chars = Array(s.utf8)
        let valid =
            !chars.isEmpty && isLower(chars[0]) && isLowerAlnum(chars[chars.count - 1])
            && chars.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
        if !valid {
            problems.append(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                    + "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                    + "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
        }
        return problems.isEmpty ? nil : problems.joined(separator: ",")
    }

    static func dns1123SubdomainError(_ s: String) -> String? {
        var problems: [String] = []
        if s.count > 253 { problems.append("must be no more than 253 characters") }
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        let valid = labels.allSatisfy { label in
            let c = Array(label.utf8)
            return !c.isEmpty && isLowerAlnum(c[0]) && isLowerAlnum(c[c.count - 1])
                && c.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
        }
        if !valid {
            problems.append(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                    + "must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                    + "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
        }
        return problems.isEmpty ? nil : problems.joined(separator: ",")
    }

    private static func isLower(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
    private static func isLowerAlnum(_ b: UInt8) -> Bool { isLower(b) || (b >= 48 && b <= 57) }
}
