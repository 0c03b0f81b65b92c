import Foundation
import KubeCore
import Yams

/// Decoded query parameters of one request (the first value wins; keys are case-sensitive like Go's).
public struct QueryParameters: Sendable {
    public var values: [String: String] = [:]

    public init(_ query: String) {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = KubePath.unescape(String(parts[0]), plusAsSpace: true)
            let value = parts.count > 1 ? KubePath.unescape(String(parts[1]), plusAsSpace: true) : ""
            if values[key] == nil { values[key] = value }
        }
    }

    public subscript(_ key: String) -> String? { values[key] }

    /// A boolean parameter parsed like Go's `strconv.ParseBool`; absent or malformed → `nil`.
    public func bool(_ key: String) -> Bool? { values[key].flatMap(Self.parseBool) }

    /// An integer parameter; `nil` when absent, throws 400 when malformed.
    public func int(_ key: String) throws(APIStatus) -> Int? {
        guard let v = values[key], !v.isEmpty else { return nil }
        guard let i = Int(v) else { throw APIStatus.badRequest("invalid value for \(key): \(v)") }
        return i
    }

    /// Go's `strconv.ParseBool`: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
    public static func parseBool(_ s: String) -> Bool? {
        switch s {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }
}

/// Converts YAML (or JSON, which is YAML) text to a `JSONValue`.
enum YAMLBody {
    static func parse(_ text: String) throws -> JSONValue {
        guard let node = try Yams.compose(yaml: text) else { return .null }
        return convert(node)
    }

    static func convert(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .doubleQuoted || scalar.style == .singleQuoted || scalar.style == .literal
                || scalar.style == .folded
            {
                return .string(scalar.string)
            }
            let s = scalar.string
            switch s {
            case "null", "Null", "NULL", "~", "": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            if let i = Int64(s) { return .int(i) }
            if s.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let d = Double(s),
                s.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true
            {
                return .double(d)
            }
            return .string(s)
        case .mapping(let mapping):
            var o: [String: JSONValue] = [:]
            for (k, v) in mapping { o[k.string ?? String(describing: k)] = convert(v) }
            return .object(o)
        case .sequence(let seq):
            return .array(seq.map(convert))
        case .alias(let alias):
            return .string(String(describing: alias))
        }
    }
}

/// `.spec.replicas`-style paths (the subset CRD scale subresources and selectable fields use).
enum ObjectFieldPath {
    static func components(_ path: String) -> [String] {
        path.split(separator: ".", omittingEmptySubsequences: true).map(String.init)
    }

    static func get(_ object: JSONValue, _ path: String) -> JSONValue? {
        let expression = path.hasPrefix(".") ? path : "." + path
        return JSONPath.value(at: expression, in: object) ?? object[path: components(path)]
    }

    static func set(_ object: inout JSONValue, _ path: String, _ value: JSONValue) {
        let expression = path.hasPrefix(".") ? path : "." + path
        if !JSONPath.setValue(value, at: expression, in: &object) { object[path: components(path)] = value }
    }

    /// A field's value rendered the way field selectors compare it (strings verbatim, numbers and bools
    /// as text, missing → "").
    static func selectorValue(_ object: JSONValue, _ path: String) -> String? {
        switch get(object, path) {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .double(let d): return JSONValue.double(d).serialized()
        case .none, .null: return ""
        default: return nil
        }
    }
}

extension JSONValue {
    /// `metadata.labels` as a dictionary of strings.
    var labels: [String: String] {
        var out: [String: String] = [:]
        for (k, v) in self[path: ["metadata", "labels"]]?.objectValue ?? [:] { out[k] = v.stringValue ?? "" }
        return out
    }
}

/// Accept-header negotiation for the formats the server produces.
enum MediaNegotiation {
    /// The media ranges of an Accept header, each as a dictionary of parameters plus `type`.
    static func ranges(_ accept: String) -> [[String: String]] {
        accept.split(separator: ",").map { range in
            var out: [String: String] = [:]
            let parts = range.split(separator: ";")
            out["type"] = parts.first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            for p in parts.dropFirst() {
                let kv = p.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                out[kv[0].trimmingCharacters(in: .whitespaces)] = kv[1].trimmingCharacters(in: .whitespaces)
            }
            return out
        }
    }

    /// True when the first acceptable JSON range asks for a meta.k8s.io Table.
    static func wantsTable(_ accept: String) -> Bool {
        for r in ranges(accept) {
            if r["as"] == "Table", r["g"] == "meta.k8s.io", r["v"] == "v1" || r["v"] == "v1beta1" { return true }
        }
        return false
    }

    /// True when aggregated discovery v2 is acceptable.
    static func wantsAggregatedDiscovery(_ accept: String) -> Bool {
        ranges(accept).contains {
            $0["as"] == "APIGroupDiscoveryList" && $0["g"] == "apidiscovery.k8s.io" && $0["v"] == "v2"
        }
    }
}
