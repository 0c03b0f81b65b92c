import KubeCore

/// A read-only view of one OpenAPI v3 schema node of a CRD (`JSONSchemaProps`), with typed accessors for
/// the keywords and `x-kubernetes-*` extensions the pruning, defaulting and validation algorithms use.
struct SchemaNode {
    let raw: [String: JSONValue]

    init(_ raw: [String: JSONValue]) { self.raw = raw }

    init?(_ value: JSONValue?) {
        guard let o = value?.objectValue else { return nil }
        self.raw = o
    }

    /// What `additionalProperties` allows: nothing said, a boolean, or a schema for every extra key.
    enum AdditionalProperties {
        case unspecified
        case allowed(Bool)
        case schema(SchemaNode)
    }

    var type: String? { raw["type"]?.stringValue }
    var properties: [String: SchemaNode] {
        guard let o = raw["properties"]?.objectValue else { return [:] }
        var out: [String: SchemaNode] = [:]
        for (k, v) in o { out[k] = SchemaNode(v) ?? SchemaNode([:]) }
        return out
    }
    var hasProperties: Bool { raw["properties"] != nil }
    func property(_ name: String) -> SchemaNode? {
        guard let v = raw["properties"]?[name] else { return nil }
        return SchemaNode(v) ?? SchemaNode([:])
    }
    var items: SchemaNode? { SchemaNode(raw["items"]) }
    var additionalProperties: AdditionalProperties {
        switch raw["additionalProperties"] {
        case .none, .some(.null): return .unspecified
        case .some(.bool(let b)): return .allowed(b)
        case .some(let v): return SchemaNode(v).map { .schema($0) } ?? .unspecified
        }
    }
    var additionalPropertiesSchema: SchemaNode? {
        if case .schema(let s) = additionalProperties { return s }
        return nil
    }
    var allowsAnyAdditionalProperty: Bool {
        if case .allowed(true) = additionalProperties { return true }
        return false
    }
    var hasAdditionalProperties: Bool {
        if case .unspecified = additionalProperties { return false }
        return true
    }

    var nullable: Bool { raw["nullable"]?.boolValue ?? false }
    var defaultValue: JSONValue? { raw["default"] }
    var required: [String] { (raw["required"]?.arrayValue ?? []).compactMap(\.stringValue) }
    var enumValues: [JSONValue]? { raw["enum"]?.arrayValue }
    var format: String? { raw["format"]?.stringValue }
    var pattern: String? { raw["pattern"]?.stringValue }

    var preserveUnknownFields: Bool { raw["x-kubernetes-preserve-unknown-fields"]?.boolValue ?? false }
    var embeddedResource: Bool { raw["x-kubernetes-embedded-resource"]?.boolValue ?? false }
    var intOrString: Bool { raw["x-kubernetes-int-or-string"]?.boolValue ?? false }
    var listType: String? { raw["x-kubernetes-list-type"]?.stringValue }
    var listMapKeys: [String] { (raw["x-kubernetes-list-map-keys"]?.arrayValue ?? []).compactMap(\.stringValue) }

    /// The schema that governs the member `key` of an object validated by this node, if any.
    func child(for key: String) -> SchemaNode? {
        if let p = property(key) { return p }
        return additionalPropertiesSchema
    }
}

/// Joins field paths the way `field.Path` prints them: `spec.replicas`, `spec.items[0]`.
enum FieldPath {
    static func child(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : "\(parent).\(key)" }
    static func index(_ parent: String, _ i: Int) -> String { "\(parent)[\(i)]" }
    static func key(_ parent: String, _ key: String) -> String { "\(parent)[\(key)]" }
}
