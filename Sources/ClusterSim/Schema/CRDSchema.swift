import KubeCore

/// The structural OpenAPI v3 schema of one CRD version, applied to custom resources the way the real API
/// server does: prune unknown fields, apply defaults, validate (types, required, enums, min/max, patterns, ...).
///
/// CEL rules (`x-kubernetes-validations`) are **ignored**: the emulator has no CEL interpreter, so objects that
/// a real API server would reject through a CEL rule (e.g. Gateway API's "Must have port for Service
/// reference") are accepted here.
public struct CRDSchema: Sendable {
    public let root: JSONValue

    /// `schema` is the version's `schema.openAPIV3Schema`.
    public init(_ schema: JSONValue) { self.root = schema }

    /// Structural-schema violations (empty when the schema is structural), plus the schema errors the CRD
    /// validation reports next to them (unknown `type`, invalid `pattern`, list-type misuse, forbidden
    /// `uniqueItems`). Field paths start with `fieldPath`, e.g.
    /// `spec.validation.openAPIV3Schema.properties[spec].type`; the real server uses
    /// `spec.versions[i].schema.openAPIV3Schema` only when the versions' schemas differ.
    public static func structuralErrors(
        _ schema: JSONValue, fieldPath: String = "spec.validation.openAPIV3Schema"
    ) -> [APIStatus.Cause] {
        var checker = StructuralChecker()
        checker.check(schema, level: .root, path: fieldPath)
        return checker.errors.sorted { ($0.field, $0.message) < ($1.field, $1.message) }
    }

    /// Removes fields the schema does not know; returns the pruned object and the unknown field paths
    /// (`spec.foo`), which `fieldValidation=Strict` turns into a 400. `apiVersion`, `kind` and `metadata` are
    /// kept at the root and in `x-kubernetes-embedded-resource` objects.
    public func prune(_ object: JSONValue) -> (object: JSONValue, unknownFields: [String]) {
        var unknown: [String] = []
        let pruned = Self.prune(object, SchemaNode(root), path: "", isResourceRoot: true, unknown: &unknown)
        return (pruned, unknown.sorted())
    }

    /// Fills in `default:` values, and drops nulls of non-nullable fields without a default.
    public func applyDefaults(_ object: JSONValue) -> JSONValue {
        let node = SchemaNode(root)
        return Self.defaulted(Self.droppingNonNullableNulls(object, node), node)
    }

    /// OpenAPI validation errors as 422 causes (`field` like `spec.replicas`), in the wording of the real
    /// API server (kube-openapi messages turned into `field.Error`s).
    public func validate(_ object: JSONValue) -> [APIStatus.Cause] {
        guard let node = SchemaNode(root) else { return [] }
        var validator = SchemaValidator()
        validator.validate(object, node, path: "")
        return validator.errors + validator.listErrors
    }

    // MARK: - Pruning

    static let metaFields: Set<String> = ["apiVersion", "kind", "metadata"]

    static func prune(
        _ value: JSONValue, _ schema: SchemaNode?, path: String, isResourceRoot: Bool, unknown: inout [String]
    ) -> JSONValue {
        guard let schema else {
            switch value {
            case .object(let o):
                unknown.append(contentsOf: o.keys.map { FieldPath.child(path, $0) })
                return .object([:])
            case .array(let a):
                return .array(
                    a.enumerated().map {
                        prune($1, nil, path: FieldPath.index(path, $0), isResourceRoot: false, unknown: &unknown)
                    })
            default: return value
            }
        }
        if schema.preserveUnknownFields {
            return skipPrune(value, schema, path: path, isResourceRoot: isResourceRoot, unknown: &unknown)
        }
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o {
                let childPath = FieldPath.child(path, k)
                if isResourceRoot, metaFields.contains(k) {
                    out[k] = v
                } else if let p = schema.property(k) {
                    out[k] = prune(v, p, path: childPath, isResourceRoot: p.embeddedResource, unknown: &unknown)
                } else {
                    switch schema.additionalProperties {
                    case .schema(let s):
                        out[k] = prune(v, s, path: childPath, isResourceRoot: s.embeddedResource, unknown: &unknown)
                    case .allowed(true):
                        out[k] = v
                    default:
                        unknown.append(childPath)
                    }
                }
            }
            return .object(out)
        case .array(let a):
            // An array node without `items` is not structural; keep its content rather than emptying it.
            guard let items = schema.items else { return value }
            return .array(
                a.enumerated().map {
                    prune(
                        $1, items, path: FieldPath.index(path, $0), isResourceRoot: items.embeddedResource,
                        unknown: &unknown)
                })
        default:
            return value
        }
    }

    /// Below `x-kubernetes-preserve-unknown-fields: true`: unknown fields stay, known ones are still pruned.
    static func skipPrune(
        _ value: JSONValue, _ schema: SchemaNode, path: String, isResourceRoot: Bool, unknown: inout [String]
    ) -> JSONValue {
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o {
                let childPath = FieldPath.child(path, k)
                if isResourceRoot || schema.embeddedResource, metaFields.contains(k) {
                    out[k] = v
                } else if let p = schema.property(k) {
                    out[k] = prune(v, p, path: childPath, isResourceRoot: p.embeddedResource, unknown: &unknown)
                } else if let s = schema.additionalPropertiesSchema {
                    out[k] = prune(v, s, path: childPath, isResourceRoot: s.embeddedResource, unknown: &unknown)
                } else {
                    out[k] = v
                }
            }
            return .object(out)
        case .array(let a):
            guard let items = schema.items else { return value }
            return .array(
                a.enumerated().map {
                    prune(
                        $1, items, path: FieldPath.index(path, $0), isResourceRoot: items.embeddedResource,
                        unknown: &unknown)
                })
        default:
            return value
        }
    }

    // MARK: - Defaulting

    /// The schema's default, treating `default: null` as no default (as Go's decoder does).
    static func defaultOf(_ schema: SchemaNode?) -> JSONValue? {
        guard let d = schema?.defaultValue, !d.isNull else { return nil }
        return d
    }

    static func droppingNonNullableNulls(_ value: JSONValue, _ schema: SchemaNode?) -> JSONValue {
        guard let schema else { return value }
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o {
                guard let child = schema.child(for: k) else {
                    out[k] = v
                    continue
                }
                if v.isNull, !child.nullable, defaultOf(child) == nil { continue }
                out[k] = droppingNonNullableNulls(v, child)
            }
            return .object(out)
        case .array(let a):
            guard let items = schema.items else { return value }
            return .array(a.map { droppingNonNullableNulls($0, items) })
        default:
            return value
        }
    }

    static func defaulted(_ value: JSONValue, _ schema: SchemaNode?) -> JSONValue {
        guard let schema else { return value }
        switch value {
        case .object(var o):
            for (k, p) in schema.properties {
                guard let d = defaultOf(p) else { continue }
                if let existing = o[k] {
                    if existing.isNull, !p.nullable { o[k] = d }
                } else {
                    o[k] = d
                }
            }
            for (k, v) in o {
                if let p = schema.property(k) {
                    o[k] = defaulted(v, p)
                } else if let s = schema.additionalPropertiesSchema {
                    var v = v
                    if v.isNull, !s.nullable, let d = defaultOf(s) { v = d }
                    o[k] = defaulted(v, s)
                }
            }
            return .object(o)
        case .array(let a):
            guard let items = schema.items else { return value }
            return .array(
                a.map { element in
                    var element = element
                    if element.isNull, !items.nullable, let d = defaultOf(items) { element = d }
                    return defaulted(element, items)
                })
        default:
            return value
        }
    }
}
