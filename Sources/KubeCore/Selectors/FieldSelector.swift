/// A field selector (apimachinery `fields.Selector`): `f=v`, `f==v`, `f!=v`, comma for AND.
///
/// Values may escape `\`, `,` and `=` with a backslash. A field the object does not have reads as `""`, so
/// `spec.nodeName=` selects unscheduled pods and `f!=x` holds when `f` is missing, exactly as apimachinery does.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    /// One `field=value` or `field!=value` term.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public var field: String
        public var value: String
        /// True for `=`/`==`, false for `!=`.
        public var equals: Bool

        public init(field: String, value: String, equals: Bool) {
            self.field = field
            self.value = value
            self.equals = equals
        }

        /// The term with its value escaped again, e.g. `metadata.name=a\,b`.
        public var description: String {
            field + (equals ? "=" : "!=") + FieldSelector.escape(value)
        }
    }

    /// The terms, sorted as apimachinery sorts them (by their text); empty means "everything".
    public var requirements: [Requirement]

    /// The selector that matches every object.
    public init() { requirements = [] }

    public init(requirements: [Requirement]) { self.requirements = requirements }

    public init(parsing text: String) throws(SelectorError) {
        var result: [Requirement] = []
        for term in FieldSelector.splitTerms(text).sorted() where !term.isEmpty {
            guard let (field, op, rawValue) = FieldSelector.splitTerm(term) else {
                throw SelectorError("invalid selector: '\(text)'; can't understand '\(term)'")
            }
            let value = try FieldSelector.unescape(rawValue)
            result.append(Requirement(field: field, value: value, equals: op != "!="))
        }
        requirements = result
    }

    /// True when every requirement holds; `value(field)` returns the object's value for a field path, nil
    /// (read as `""`) when the object has no such field.
    public func matches(_ value: (String) -> String?) -> Bool {
        requirements.allSatisfy { requirement in
            ((value(requirement.field) ?? "") == requirement.value) == requirement.equals
        }
    }

    /// Matches against an object's fields resolved with `value(at:in:)`.
    public func matches(object: JSONValue) -> Bool {
        matches { FieldSelector.value(at: $0, in: object) }
    }

    public var isEmpty: Bool { requirements.isEmpty }

    /// The canonical selector string; `""` for the empty selector.
    public var description: String { requirements.map(\.description).joined(separator: ",") }

    /// The value of a dotted field path such as `metadata.name`, `status.phase` or `spec.hostNetwork`, as the
    /// string a field selector compares with: strings as they are, numbers and booleans in their JSON form.
    /// Nil when the path is missing or leads to null, an object or a list.
    public static func value(at fieldPath: String, in object: JSONValue) -> String? {
        let keys = fieldPath.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch object[path: keys] {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return JSONValue.double(d).serialized()
        default: return nil
        }
    }

    // MARK: apimachinery pkg/fields/selector.go

    /// Splits on commas that are not escaped; the backslashes stay in the terms.
    static func splitTerms(_ text: String) -> [String] {
        if text.isEmpty { return [] }
        var terms: [String] = []
        var current = ""
        var escaped = false
        for c in text {
            if escaped {
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "," {
                terms.append(current)
                current = ""
                continue
            }
            current.append(c)
        }
        terms.append(current)
        return terms
    }

    /// The first `!=`, `==` or `=` in `term` (in that preference at each position) splits it.
    static func splitTerm(_ term: String) -> (field: String, op: String, value: String)? {
        var index = term.startIndex
        while index < term.endIndex {
            let rest = term[index...]
            for op in ["!=", "==", "="] where rest.hasPrefix(op) {
                return (String(term[..<index]), op, String(rest.dropFirst(op.count)))
            }
            index = term.index(after: index)
        }
        return nil
    }

    static func unescape(_ text: String) throws(SelectorError) -> String {
        var result = ""
        var escaped = false
        for c in text {
            if escaped {
                guard c == "\\" || c == "," || c == "=" else {
                    throw SelectorError("invalid field selector: invalid escape sequence: \\\(c)")
                }
                result.append(c)
                escaped = false
                continue
            }
            switch c {
            case "\\": escaped = true
            case ",", "=": throw SelectorError("invalid field selector: unescaped character in value: \(c)")
            default: result.append(c)
            }
        }
        if escaped { throw SelectorError("invalid field selector: invalid escape sequence: \\") }
        return result
    }

    /// Escapes `\`, `,` and `=` so that a value survives `init(parsing:)`.
    public static func escape(_ value: String) -> String {
        var result = ""
        for c in value {
            if c == "\\" || c == "," || c == "=" { result.append("\\") }
            result.append(c)
        }
        return result
    }
}
