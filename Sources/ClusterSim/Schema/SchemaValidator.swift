import Foundation
import KubeCore

/// OpenAPI v3 value validation of a custom resource against its structural schema, with the messages the real
/// API server produces (kube-openapi's `… in body should …` details wrapped in `field.Error` form).
///
/// CEL rules (`x-kubernetes-validations`) are not evaluated.
struct SchemaValidator {
    /// OpenAPI errors, in the order the validators run.
    var errors: [APIStatus.Cause] = []
    /// `x-kubernetes-list-type` duplicate errors, which the real server reports after the OpenAPI errors.
    var listErrors: [APIStatus.Cause] = []

    mutating func validate(_ value: JSONValue, _ schema: SchemaNode, path: String) {
        if value.isNull {
            if schema.nullable { return }
            if let expected = expectedTypes(schema) {
                errors.append(typeError(path, expected: expected, actual: "null"))
            }
            return
        }
        if let expected = expectedTypes(schema), !matches(value, types: expected) {
            errors.append(typeError(path, expected: expected, actual: actualType(value)))
            return
        }
        validateComposition(value, schema, path: path)
        switch value {
        case .string(let s): validateString(s, schema, path: path)
        case .int, .double: validateNumber(value, schema, path: path)
        case .array(let a): validateArray(a, schema, path: path)
        default: break
        }
        if let allowed = schema.enumValues, !allowed.contains(where: { $0.semanticallyEquals(value) }) {
            errors.append(
                FieldErrors.notSupported(
                    path, value, allowed.map { $0.stringValue ?? $0.serialized() }))
        }
        if case .object(let o) = value { validateObject(o, schema, path: path) }
    }

    // MARK: - Types

    private func expectedTypes(_ schema: SchemaNode) -> [String]? {
        if schema.intOrString { return ["integer", "string"] }
        guard let t = schema.type, !t.isEmpty else { return nil }
        return [t]
    }

    private func matches(_ value: JSONValue, types: [String]) -> Bool {
        types.contains { t in
            switch (t, value) {
            case ("integer", .int): return true
            case ("integer", .double): return value.intValue != nil  // Go decodes 2.0 as a whole float64
            case ("number", .int), ("number", .double): return true
            case ("string", .string), ("boolean", .bool), ("object", .object), ("array", .array): return true
            default: return false
            }
        }
    }

    private func actualType(_ value: JSONValue) -> String {
        switch value {
        case .double(let d) where d.rounded() == d: return "integer"
        default: return value.typeName
        }
    }

    private func typeError(_ path: String, expected: [String], actual: String) -> APIStatus.Cause {
        let list = expected.joined(separator: ",")
        return FieldErrors.typeInvalid(
            path, .string(actual), "\(path) in body must be of type \(list): \(FieldErrors.goQuote(actual))")
    }

    // MARK: - Scalars

    private mutating func validateString(_ s: String, _ schema: SchemaNode, path: String) {
        let length = s.unicodeScalars.count
        if let max = schema.raw["maxLength"]?.intValue, length > max {
            errors.append(FieldErrors.tooLong(path, max: Int(max)))
        }
        if let min = schema.raw["minLength"]?.intValue, length < min {
            errors.append(FieldErrors.invalid(path, .string(s), "\(path) in body should be at least \(min) chars long"))
        }
        if let pattern = schema.pattern, let regex = try? Regex(pattern) {
            if (try? regex.firstMatch(in: s)) == nil {
                errors.append(FieldErrors.invalid(path, .string(s), "\(path) in body should match '\(pattern)'"))
            }
        }
        if let format = schema.format, !Self.stringMatchesFormat(s, format) {
            errors.append(
                FieldErrors.typeInvalid(
                    path, .string(s), "\(path) in body must be of type \(format): \(FieldErrors.goQuote(s))"))
        }
    }

    /// Loose checks for the formats Kubernetes registers; unknown formats pass, as in kube-openapi.
    static func stringMatchesFormat(_ s: String, _ format: String) -> Bool {
        switch format {
        case "date-time": return KubeTime.parse(s) != nil
        case "date":
            let parts = s.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
                let m = Int(parts[1]), let d = Int(parts[2]), Int(parts[0]) != nil
            else { return false }
            return (1...12).contains(m) && (1...31).contains(d)
        case "byte": return Data(base64Encoded: s) != nil
        case "uuid":
            let hex = s.replacingOccurrences(of: "-", with: "")
            return s.count == 36 && hex.count == 32 && hex.allSatisfy(\.isHexDigit)
        case "ipv4":
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4
                && parts.allSatisfy { p in
                    guard let v = Int(p), p.count <= 3, p.allSatisfy(\.isNumber) else { return false }
                    return v <= 255
                }
        default: return true
        }
    }

    private mutating func validateNumber(_ value: JSONValue, _ schema: SchemaNode, path: String) {
        guard let d = value.doubleValue else { return }
        if let factor = schema.raw["multipleOf"]?.doubleValue, factor > 0 {
            let isMultiple: Bool
            if let i = value.intValue, let f = schema.raw["multipleOf"]?.intValue, f != 0 {
                isMultiple = i % f == 0
            } else {
                let q = d / factor
                isMultiple = q.rounded() == q
            }
            if !isMultiple {
                errors.append(
                    FieldErrors.invalid(
                        path, value, "\(path) in body should be a multiple of \(FieldErrors.goFloat(factor))"))
            }
        }
        if let max = schema.raw["maximum"]?.doubleValue {
            let exclusive = schema.raw["exclusiveMaximum"]?.boolValue ?? false
            if exclusive ? d >= max : d > max {
                let op = exclusive ? "less than" : "less than or equal to"
                errors.append(
                    FieldErrors.invalid(path, value, "\(path) in body should be \(op) \(FieldErrors.goFloat(max))"))
            }
        }
        if let min = schema.raw["minimum"]?.doubleValue {
            let exclusive = schema.raw["exclusiveMinimum"]?.boolValue ?? false
            if exclusive ? d <= min : d < min {
                let op = exclusive ? "greater than" : "greater than or equal to"
                errors.append(
                    FieldErrors.invalid(path, value, "\(path) in body should be \(op) \(FieldErrors.goFloat(min))"))
            }
        }
        // kube-openapi checks formats on strings only; integer range formats are checked here as a courtesy.
        if let format = schema.format, let i = value.intValue, format == "int32",
            i < Int64(Int32.min) || i > Int64(Int32.max)
        {
            errors.append(
                FieldErrors.typeInvalid(path, value, "\(path) in body must be of type int32: \"\(i)\""))
        }
    }

    // MARK: - Arrays

    private mutating func validateArray(_ a: [JSONValue], _ schema: SchemaNode, path: String) {
        if let min = schema.raw["minItems"]?.intValue, a.count < min {
            errors.append(
                FieldErrors.invalid(path, .int(Int64(a.count)), "\(path) in body should have at least \(min) items"))
        }
        if let max = schema.raw["maxItems"]?.intValue, a.count > max {
            errors.append(FieldErrors.tooMany(path, actual: a.count, max: Int(max)))
        }
        if schema.raw["uniqueItems"]?.boolValue == true, Self.firstDuplicate(a.map { $0 }) != nil {
            errors.append(FieldErrors.invalid(path, .array(a), "\(path) in body shouldn't contain duplicates"))
        }
        if let items = schema.items {
            for (i, element) in a.enumerated() { validate(element, items, path: FieldPath.index(path, i)) }
        }
        switch schema.listType {
        case "set":
            for i in Self.duplicateIndices(a) {
                listErrors.append(FieldErrors.duplicate(FieldPath.index(path, i), rendered: FieldErrors.goValue(a[i])))
            }
        case "map":
            let keys = schema.listMapKeys
            guard !keys.isEmpty else { break }
            let keyValues: [JSONValue] = a.map { element in
                var k: [String: JSONValue] = [:]
                for key in keys {
                    if let v = element[key] { k[key] = v }
                }
                return .object(k)
            }
            for i in Self.duplicateIndices(keyValues) {
                listErrors.append(
                    FieldErrors.duplicate(FieldPath.index(path, i), rendered: FieldErrors.goSyntax(keyValues[i])))
            }
        default:
            break
        }
    }

    static func firstDuplicate(_ a: [JSONValue]) -> Int? { duplicateIndices(a).first }

    /// Indices of elements equal to an earlier element (semantic equality: `1` equals `1.0`).
    static func duplicateIndices(_ a: [JSONValue]) -> [Int] {
        var seen: [JSONValue] = []
        var dups: [Int] = []
        for (i, v) in a.enumerated() {
            if seen.contains(where: { $0.semanticallyEquals(v) }) {
                dups.append(i)
            } else {
                seen.append(v)
            }
        }
        return dups
    }

    // MARK: - Objects

    private mutating func validateObject(_ o: [String: JSONValue], _ schema: SchemaNode, path: String) {
        if let min = schema.raw["minProperties"]?.intValue, o.count < min {
            errors.append(
                FieldErrors.invalid(
                    path, .int(Int64(o.count)), "\(path) in body should have at least \(min) properties"))
        }
        if let max = schema.raw["maxProperties"]?.intValue, o.count > max {
            errors.append(FieldErrors.tooMany(path, actual: o.count, max: Int(max)))
        }
        for name in schema.required where o[name] == nil {
            errors.append(FieldErrors.required(FieldPath.child(path, name)))
        }
        for key in o.keys.sorted() {
            guard let v = o[key], let child = schema.child(for: key) else { continue }
            validate(v, child, path: FieldPath.child(path, key))
        }
    }

    // MARK: - allOf / anyOf / oneOf / not

    private mutating func validateComposition(_ value: JSONValue, _ schema: SchemaNode, path: String) {
        func errorsOf(_ sub: JSONValue) -> [APIStatus.Cause] {
            guard let node = SchemaNode(sub) else { return [] }
            var nested = SchemaValidator()
            nested.validate(value, node, path: path)
            return nested.errors + nested.listErrors
        }
        for sub in schema.raw["allOf"]?.arrayValue ?? [] { errors.append(contentsOf: errorsOf(sub)) }
        if let anyOf = schema.raw["anyOf"]?.arrayValue, !anyOf.isEmpty, !schema.intOrString {
            let results = anyOf.map(errorsOf)
            if !results.contains(where: \.isEmpty) {
                errors.append(
                    FieldErrors.invalid(path, value, "\(path) in body must validate at least one schema (anyOf)"))
                if let first = results.first { errors.append(contentsOf: first) }
            }
        }
        if let oneOf = schema.raw["oneOf"]?.arrayValue, !oneOf.isEmpty {
            let passing = oneOf.map(errorsOf).filter(\.isEmpty).count
            if passing != 1 {
                errors.append(
                    FieldErrors.invalid(path, value, "\(path) in body must validate one and only one schema (oneOf)"))
            }
        }
        if let not = schema.raw["not"], errorsOf(not).isEmpty {
            errors.append(FieldErrors.invalid(path, value, "\(path) in body must not validate the schema (not)"))
        }
    }
}
