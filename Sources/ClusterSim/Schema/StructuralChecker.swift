import KubeCore

/// Checks the structural-schema rules of apiextensions-apiserver (`pkg/apiserver/schema/validation.go`) and the
/// per-node schema checks of CRD validation, collecting `field.Error`-style causes.
struct StructuralChecker {
    enum Level { case root, item, field }

    var errors: [APIStatus.Cause] = []

    static let validTypes = ["array", "boolean", "integer", "number", "object", "string"]
    static let compositionKeys = ["allOf", "anyOf", "oneOf"]

    mutating func check(_ value: JSONValue, level: Level, path: String) {
        guard let node = SchemaNode(value) else {
            errors.append(FieldErrors.typeInvalid(path, .string(value.typeName), "must be a schema object"))
            return
        }
        let type = node.type ?? ""

        if let t = node.raw["type"], !Self.validTypes.contains(t.stringValue ?? "") {
            errors.append(FieldErrors.notSupported(FieldPath.child(path, "type"), t, Self.validTypes))
        }
        if type.isEmpty && !node.embeddedResource {
            switch level {
            case .root:
                errors.append(FieldErrors.required(FieldPath.child(path, "type"), "must not be empty at the root"))
            case .item where !node.intOrString && !node.preserveUnknownFields:
                errors.append(
                    FieldErrors.required(FieldPath.child(path, "type"), "must not be empty for specified array items"))
            case .field where !node.intOrString && !node.preserveUnknownFields:
                errors.append(
                    FieldErrors.required(FieldPath.child(path, "type"), "must not be empty for specified object fields")
                )
            default:
                break
            }
        }
        if level == .root, !type.isEmpty, type != "object" {
            errors.append(
                FieldErrors.invalid(FieldPath.child(path, "type"), .string(type), "must be object at the root"))
        }

        checkItems(node, type: type, path: path)
        for key in (node.raw["properties"]?.objectValue ?? [:]).keys.sorted() {
            if let p = node.raw["properties"]?[key] {
                check(p, level: .field, path: FieldPath.key(FieldPath.child(path, "properties"), key))
            }
        }
        checkAdditionalProperties(node, level: level, path: path)
        checkExtensions(node, type: type, path: path)
        checkComposition(node, path: path)
        checkCompleteness(node, path: path)
        if level == .root || node.embeddedResource { checkMetadata(node, level: level, path: path) }
        if node.embeddedResource { checkEmbedded(node, type: type, path: path) }
        checkValueKeywords(node, type: type, path: path)
    }

    // MARK: - Generic keywords

    private mutating func checkItems(_ node: SchemaNode, type: String, path: String) {
        let itemsPath = FieldPath.child(path, "items")
        switch node.raw["items"] {
        case .none, .some(.null):
            if type == "array" { errors.append(FieldErrors.required(itemsPath, "must be specified")) }
        case .some(.array):
            errors.append(FieldErrors.forbidden(itemsPath, "items must be a schema object and not an array"))
        case .some(let items):
            check(items, level: .item, path: itemsPath)
        }
    }

    private mutating func checkAdditionalProperties(_ node: SchemaNode, level: Level, path: String) {
        let apPath = FieldPath.child(path, "additionalProperties")
        switch node.additionalProperties {
        case .unspecified:
            return
        case .allowed(false):
            errors.append(FieldErrors.forbidden(apPath, "additionalProperties cannot be set to false"))
        case .allowed(true):
            break
        case .schema(let s):
            check(.object(s.raw), level: .field, path: apPath)
        }
        if level == .root {
            errors.append(FieldErrors.forbidden(apPath, "must not be used at the root"))
        }
        if node.hasProperties {
            errors.append(FieldErrors.forbidden(apPath, "additionalProperties and properties are mutual exclusive"))
        }
    }

    private mutating func checkExtensions(_ node: SchemaNode, type: String, path: String) {
        if node.intOrString && node.preserveUnknownFields {
            errors.append(
                FieldErrors.invalid(
                    FieldPath.child(path, "x-kubernetes-preserve-unknown-fields"), true,
                    "must be false if x-kubernetes-int-or-string is true"))
        }
        if node.intOrString && node.embeddedResource {
            errors.append(
                FieldErrors.invalid(
                    FieldPath.child(path, "x-kubernetes-embedded-resource"), true,
                    "must be false if x-kubernetes-int-or-string is true"))
        }
        if let lt = node.raw["x-kubernetes-list-type"] {
            let ltPath = FieldPath.child(path, "x-kubernetes-list-type")
            if !["atomic", "set", "map"].contains(lt.stringValue ?? "") {
                errors.append(FieldErrors.notSupported(ltPath, lt, ["atomic", "map", "set"]))
            }
            if type != "array" {
                errors.append(
                    FieldErrors.invalid(
                        FieldPath.child(path, "type"), .string(type),
                        "must be array if x-kubernetes-list-type is specified"))
            }
        }
        let keysPath = FieldPath.child(path, "x-kubernetes-list-map-keys")
        if node.listType == "map" {
            let keys = node.listMapKeys
            if keys.isEmpty {
                errors.append(FieldErrors.required(keysPath, "must not be empty if x-kubernetes-list-type is map"))
            } else if let items = node.items {
                if items.type != "object" {
                    errors.append(
                        FieldErrors.invalid(
                            FieldPath.child(FieldPath.child(path, "items"), "type"), .string(items.type ?? ""),
                            "must be object when parent is of x-kubernetes-list-type=map"))
                }
                if keys.contains(where: { items.property($0) == nil }) {
                    errors.append(
                        FieldErrors.invalid(
                            keysPath, node.raw["x-kubernetes-list-map-keys"] ?? .null,
                            "entries must all be names of item properties"))
                }
                let required = Set(items.required)
                for key in keys {
                    guard let p = items.property(key) else { continue }
                    if !required.contains(key) && CRDSchema.defaultOf(p) == nil {
                        errors.append(
                            FieldErrors.required(
                                FieldPath.key(FieldPath.child(FieldPath.child(path, "items"), "properties"), key),
                                "this property is in x-kubernetes-list-map-keys, so it must have a default or be a "
                                    + "required property"))
                    }
                }
            }
        } else if node.raw["x-kubernetes-list-map-keys"] != nil {
            errors.append(FieldErrors.forbidden(keysPath, "must not be set if x-kubernetes-list-type is not map"))
        }
        if node.listType == "set", let items = node.items, items.type == "object" || items.type == "array" {
            errors.append(
                FieldErrors.invalid(
                    FieldPath.child(FieldPath.child(path, "items"), "type"), .string(items.type ?? ""),
                    "must be a scalar type if parent array is a set"))
        }
    }

    private mutating func checkValueKeywords(_ node: SchemaNode, type: String, path: String) {
        if let pattern = node.pattern {
            do {
                _ = try Regex(pattern)
            } catch {
                errors.append(
                    FieldErrors.invalid(
                        FieldPath.child(path, "pattern"), .string(pattern),
                        "must be a valid regular expression, but isn't: \(error)"))
            }
        }
        if node.raw["uniqueItems"]?.boolValue == true {
            errors.append(
                FieldErrors.forbidden(
                    FieldPath.child(path, "uniqueItems"),
                    "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
        }
    }

    // MARK: - metadata and embedded resources

    private mutating func checkMetadata(_ node: SchemaNode, level: Level, path: String) {
        guard let metadata = node.property("metadata") else { return }
        let mdPath = FieldPath.key(FieldPath.child(path, "properties"), "metadata")
        if let t = metadata.type, t != "object" {
            errors.append(FieldErrors.invalid(FieldPath.child(mdPath, "type"), .string(t), "must be object"))
        }
        guard level == .root else { return }
        let allowedKeys: Set<String> = ["type", "properties", "description", "title"]
        let names = Set(metadata.properties.keys)
        let onlyNames = names.isSubset(of: ["name", "generateName"])
        if !Set(metadata.raw.keys).isSubset(of: allowedKeys) || !onlyNames {
            errors.append(
                FieldErrors.forbidden(
                    mdPath,
                    "must not specify anything other than name and generateName, but metadata is implicitly specified"))
        }
    }

    private mutating func checkEmbedded(_ node: SchemaNode, type: String, path: String) {
        let typePath = FieldPath.child(path, "type")
        if type.isEmpty {
            errors.append(FieldErrors.required(typePath, "must be object if x-kubernetes-embedded-resource is true"))
        } else if type != "object" {
            errors.append(
                FieldErrors.invalid(typePath, .string(type), "must be object if x-kubernetes-embedded-resource is true")
            )
        }
        if !node.preserveUnknownFields && node.properties.isEmpty {
            errors.append(
                FieldErrors.required(
                    FieldPath.child(path, "properties"),
                    "must not be empty if x-kubernetes-embedded-resource is true without "
                        + "x-kubernetes-preserve-unknown-fields"))
        }
        for key in ["apiVersion", "kind"] {
            if let p = node.property(key), let t = p.type, t != "string" {
                errors.append(
                    FieldErrors.invalid(
                        FieldPath.child(FieldPath.key(FieldPath.child(path, "properties"), key), "type"), .string(t),
                        "must be string"))
            }
        }
    }

    // MARK: - allOf / anyOf / oneOf / not

    /// `anyOf: [{type: integer}, {type: string}]`, the one place a nested `type` is allowed (int-or-string).
    static func isIntOrStringAnyOf(_ value: JSONValue?) -> Bool {
        guard let a = value?.arrayValue, a.count == 2 else { return false }
        return a[0] == ["type": "integer"] && a[1] == ["type": "string"]
    }

    private mutating func checkComposition(_ node: SchemaNode, path: String) {
        let skipAnyOf = node.intOrString && Self.isIntOrStringAnyOf(node.raw["anyOf"])
        let allOf = node.raw["allOf"]?.arrayValue ?? []
        let skipFirstAllOfAnyOf = node.intOrString && Self.isIntOrStringAnyOf(allOf.first?["anyOf"])
        for key in Self.compositionKeys {
            if key == "anyOf" && skipAnyOf { continue }
            for (i, sub) in (node.raw[key]?.arrayValue ?? []).enumerated() {
                checkNested(
                    sub, path: FieldPath.index(FieldPath.child(path, key), i),
                    skipAnyOf: key == "allOf" && i == 0 && skipFirstAllOfAnyOf)
            }
        }
        if let not = node.raw["not"] { checkNested(not, path: FieldPath.child(path, "not"), skipAnyOf: false) }
    }

    private mutating func checkNested(_ value: JSONValue, path: String, skipAnyOf: Bool) {
        guard let node = SchemaNode(value) else { return }
        let mustBeEmpty: [(String, String)] = [
            ("type", "must be empty to be structural"),
            ("additionalProperties", "must be undefined to be structural"),
            ("default", "must be undefined to be structural"),
            ("title", "must be empty to be structural"),
            ("description", "must be empty to be structural"),
            ("x-kubernetes-list-map-keys", "must be empty to be structural"),
            ("x-kubernetes-list-type", "must be undefined to be structural"),
            ("x-kubernetes-map-type", "must be undefined to be structural"),
            ("x-kubernetes-validations", "must be empty to be structural"),
        ]
        for (key, detail) in mustBeEmpty where node.raw[key] != nil {
            errors.append(FieldErrors.forbidden(FieldPath.child(path, key), detail))
        }
        let mustBeFalse = [
            "nullable", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
            "x-kubernetes-int-or-string",
        ]
        for key in mustBeFalse where node.raw[key]?.boolValue == true {
            errors.append(FieldErrors.forbidden(FieldPath.child(path, key), "must be false to be structural"))
        }
        if node.property("metadata") != nil {
            errors.append(
                FieldErrors.forbidden(
                    FieldPath.key(FieldPath.child(path, "properties"), "metadata"),
                    "must not be specified in a nested context"))
        }
        for key in node.properties.keys.sorted() where key != "metadata" {
            if let p = node.raw["properties"]?[key] {
                checkNested(p, path: FieldPath.key(FieldPath.child(path, "properties"), key), skipAnyOf: false)
            }
        }
        if let items = node.raw["items"] {
            checkNested(items, path: FieldPath.child(path, "items"), skipAnyOf: false)
        }
        for key in Self.compositionKeys {
            if key == "anyOf" && skipAnyOf { continue }
            for (i, sub) in (node.raw[key]?.arrayValue ?? []).enumerated() {
                checkNested(sub, path: FieldPath.index(FieldPath.child(path, key), i), skipAnyOf: false)
            }
        }
        if let not = node.raw["not"] { checkNested(not, path: FieldPath.child(path, "not"), skipAnyOf: false) }
    }

    /// Every property or items mentioned inside allOf/anyOf/oneOf/not must exist in the structural schema.
    private mutating func checkCompleteness(_ node: SchemaNode, path: String) {
        for key in Self.compositionKeys {
            for (i, sub) in (node.raw[key]?.arrayValue ?? []).enumerated() {
                checkCompleteness(
                    nested: sub, structural: node, sPath: path, vPath: FieldPath.index(FieldPath.child(path, key), i))
            }
        }
        if let not = node.raw["not"] {
            checkCompleteness(nested: not, structural: node, sPath: path, vPath: FieldPath.child(path, "not"))
        }
    }

    private mutating func checkCompleteness(nested: JSONValue, structural: SchemaNode, sPath: String, vPath: String) {
        guard let v = SchemaNode(nested) else { return }
        for key in v.properties.keys.sorted() {
            let vChild = FieldPath.key(FieldPath.child(vPath, "properties"), key)
            let sChild = FieldPath.key(FieldPath.child(sPath, "properties"), key)
            if let s = structural.property(key) {
                checkCompleteness(
                    nested: v.raw["properties"]?[key] ?? .null, structural: s, sPath: sChild, vPath: vChild)
            } else if let ap = structural.additionalPropertiesSchema {
                checkCompleteness(
                    nested: v.raw["properties"]?[key] ?? .null, structural: ap,
                    sPath: FieldPath.child(sPath, "additionalProperties"), vPath: vChild)
            } else if !structural.allowsAnyAdditionalProperty && !structural.preserveUnknownFields {
                errors.append(FieldErrors.required(sChild, "because it is defined in \(vChild)"))
            }
        }
        if let items = v.raw["items"] {
            let vChild = FieldPath.child(vPath, "items")
            let sChild = FieldPath.child(sPath, "items")
            if let s = structural.items {
                checkCompleteness(nested: items, structural: s, sPath: sChild, vPath: vChild)
            } else {
                errors.append(FieldErrors.required(sChild, "because it is defined in \(vChild)"))
            }
        }
        for key in Self.compositionKeys {
            for (i, sub) in (v.raw[key]?.arrayValue ?? []).enumerated() {
                checkCompleteness(
                    nested: sub, structural: structural, sPath: sPath,
                    vPath: FieldPath.index(FieldPath.child(vPath, key), i))
            }
        }
    }
}
