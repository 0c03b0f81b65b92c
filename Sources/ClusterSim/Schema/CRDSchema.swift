import KubeCore

/// The structural OpenAPI v3 schema of one CRD version, applied to custom resources the way the real API
/// server does: prune unknown fields, apply defaults, validate (types, required, enums, min/max, patterns, ...).
public struct CRDSchema: Sendable {
    public let root: JSONValue

    /// `schema` is the version's `schema.openAPIV3Schema`.
    public init(_ schema: JSONValue) { self.root = schema }

    /// Structural-schema violations (empty when the schema is structural). Field paths are relative to
    /// `spec.versions[i].schema.openAPIV3Schema`, e.g. `properties[spec].properties[replicas].type`.
    public static func structuralErrors(_ schema: JSONValue) -> [APIStatus.Cause] { [] }  // replaced

    /// Removes fields the schema does not know; returns the pruned object and the unknown field paths
    /// (`spec.foo`), which `fieldValidation=Strict` turns into a 400.
    public func prune(_ object: JSONValue) -> (object: JSONValue, unknownFields: [String]) { (object, []) }  // replaced

    /// Fills in `default:` values, and drops nulls of non-nullable fields without a default.
    public func applyDefaults(_ object: JSONValue) -> JSONValue { object }  // replaced

    /// OpenAPI validation errors as 422 causes (`field` like `spec.replicas`).
    public func validate(_ object: JSONValue) -> [APIStatus.Cause] { [] }  // replaced
}
