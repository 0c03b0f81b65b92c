import KubeCore

/// The subset of Kubernetes JSONPath (`k8s.io/client-go/util/jsonpath`) that CRD printer columns, scale
/// subresource paths and selectable fields use: `.spec.replicas`, `.metadata.labels.app`, `.items[0].name`,
/// `['key.with.dots']`, `[*]`, `.*`, `[1:3]`, `..name` and filters like `[?(@.type=="Ready")]`.
/// Surrounding braces (`{.spec.x}`) are tolerated. Missing keys yield no result, as `AllowMissingKeys(true)`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path.
    public enum Step: Sendable, Hashable {
        case field(String)
        case index(Int)
        case slice(start: Int?, end: Int?)
        case wildcard
        case recursive(String?)
        case filter(Filter)
    }

    /// `[?(@.a.b <op> literal)]`, or `[?(@.a.b)]` (existence) when `op` is nil.
    public struct Filter: Sendable, Hashable {
        public var path: [Step]
        public var op: String?
        public var literal: JSONValue?
    }

    public let expression: String
    public let steps: [Step]

    public var description: String { expression }

    /// Parses `expression`; throws `JSONPathError` with a message in the style of the real parser.
    public init(_ expression: String) throws(JSONPathError) {
        self.expression = expression
        var text = expression.trimmingWhitespace()
        if text.hasPrefix("{") && text.hasSuffix("}") {
            text = String(text.dropFirst().dropLast()).trimmingWhitespace()
        }
        if text.hasPrefix("$") { text.removeFirst() }
        var parser = Parser(chars: Array(text))
        self.steps = try parser.parseSteps(stopAt: nil)
    }

    /// True when the path is only `.field` steps (what scale paths and selectable fields allow).
    public var isSimpleFieldPath: Bool {
        !steps.isEmpty && steps.allSatisfy { if case .field = $0 { return true } else { return false } }
    }

    /// The field names of a simple path (`.spec.replicas` → `["spec", "replicas"]`), else nil.
    public var fieldNames: [String]? {
        guard isSimpleFieldPath else { return nil }
        return steps.compactMap { if case .field(let f) = $0 { return f } else { return nil } }
    }

    /// Every value the path selects, in document order.
    public func evaluate(in root: JSONValue) -> [JSONValue] { Self.apply(steps, to: [root]) }

    /// The first selected value, or nil when nothing matches.
    public func firstValue(in root: JSONValue) -> JSONValue? { evaluate(in: root).first }

    // MARK: - Convenience

    /// The values at `expression` in `root`; nil when the path is invalid or selects nothing.
    public static func values(_ expression: String, in root: JSONValue) -> [JSONValue]? {
        guard let path = try? JSONPath(expression) else { return nil }
        let result = path.evaluate(in: root)
        return result.isEmpty ? nil : result
    }

    /// The first value at `expression` in `root`, or nil.
    public static func value(at expression: String, in root: JSONValue) -> JSONValue? {
        values(expression, in: root)?.first
    }

    /// Sets the value at a simple dotted path (`.spec.replicas`), creating intermediate objects; returns false
    /// (and leaves `root` alone) when the path is not a simple field path or crosses a non-object value.
    @discardableResult
    public static func setValue(_ value: JSONValue, at expression: String, in root: inout JSONValue) -> Bool {
        guard let names = (try? JSONPath(expression))?.fieldNames, root.objectValue != nil else { return false }
        var current: JSONValue? = root
        for name in names.dropLast() {
            current = current?[name]
            if let c = current, c.objectValue == nil { return false }
        }
        root[path: names] = value
        return true
    }

    // MARK: - Evaluation

    static func apply(_ steps: [Step], to start: [JSONValue]) -> [JSONValue] {
        var current = start
        for step in steps {
            var next: [JSONValue] = []
            for value in current { next.append(contentsOf: apply(step, to: value)) }
            current = next
            if current.isEmpty { break }
        }
        return current
    }

    static func apply(_ step: Step, to value: JSONValue) -> [JSONValue] {
        switch step {
        case .field(let name):
            if let v = value[name] { return [v] }
            return []
        case .index(let i):
            guard let a = value.arrayValue else { return [] }
            let idx = i < 0 ? a.count + i : i
            return a.indices.contains(idx) ? [a[idx]] : []
        case .slice(let start, let end):
            guard let a = value.arrayValue else { return [] }
            func clamp(_ v: Int?, _ fallback: Int) -> Int {
                guard let v else { return fallback }
                return min(max(v < 0 ? a.count + v : v, 0), a.count)
            }
            let s = clamp(start, 0)
            let e = clamp(end, a.count)
            return s < e ? Array(a[s..<e]) : []
        case .wildcard:
            switch value {
            case .array(let a): return a
            case .object(let o): return o.keys.sorted().compactMap { o[$0] }
            default: return []
            }
        case .recursive(let name):
            var out: [JSONValue] = []
            collect(value, name: name, into: &out)
            return out
        case .filter(let filter):
            let candidates: [JSONValue]
            switch value {
            case .array(let a): candidates = a
            case .object: candidates = [value]
            default: candidates = []
            }
            return candidates.filter { filter.matches($0) }
        }
    }

    private static func collect(_ value: JSONValue, name: String?, into out: inout [JSONValue]) {
        switch value {
        case .object(let o):
            if let name {
                if let v = o[name] { out.append(v) }
            } else {
                out.append(value)
            }
            for key in o.keys.sorted() { if let v = o[key] { collect(v, name: name, into: &out) } }
        case .array(let a):
            if name == nil { out.append(value) }
            for v in a { collect(v, name: name, into: &out) }
        default:
            if name == nil { out.append(value) }
        }
    }
}

extension JSONPath.Filter {
    func matches(_ element: JSONValue) -> Bool {
        let found = JSONPath.apply(path, to: [element])
        guard let op, let literal else { return !found.isEmpty }
        guard let left = found.first else { return op == "!=" }
        switch op {
        case "==": return left.semanticallyEquals(literal)
        case "!=": return !left.semanticallyEquals(literal)
        default:
            if let l = left.doubleValue, let r = literal.doubleValue {
                switch op {
                case "<": return l < r
                case ">": return l > r
                case "<=": return l <= r
                default: return l >= r
                }
            }
            if let l = left.stringValue, let r = literal.stringValue {
                switch op {
                case "<": return l < r
                case ">": return l > r
                case "<=": return l <= r
                default: return l >= r
                }
            }
            return false
        }
    }
}

/// A JSONPath syntax error.
public struct JSONPathError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Parser

private struct Parser {
    let chars: [Character]
    var i = 0

    init(chars: [Character]) { self.chars = chars }

    var atEnd: Bool { i >= chars.count }
    func peek(_ offset: Int = 0) -> Character? { i + offset < chars.count ? chars[i + offset] : nil }

    mutating func parseSteps(stopAt stop: Set<Character>?) throws(JSONPathError) -> [JSONPath.Step] {
        var steps: [JSONPath.Step] = []
        while let c = peek() {
            if let stop, stop.contains(c) { break }
            switch c {
            case ".":
                if peek(1) == "." {
                    i += 2
                    if peek() == "*" {
                        i += 1
                        steps.append(.recursive(nil))
                    } else {
                        let name = try identifier()
                        steps.append(.recursive(name))
                    }
                } else {
                    i += 1
                    if peek() == "*" {
                        i += 1
                        steps.append(.wildcard)
                    } else if peek() == "[" || atEnd {
                        continue  // `.[0]` and a trailing `.` select the current node, as in kubectl
                    } else {
                        steps.append(.field(try identifier()))
                    }
                }
            case "[":
                steps.append(try bracket())
            case " ", "\t":
                i += 1
            default:
                if steps.isEmpty, c != "@" {
                    // A leading bare name (`spec.replicas`) is accepted like `.spec.replicas`.
                    steps.append(.field(try identifier()))
                } else {
                    throw JSONPathError("unrecognized character in action: \(c)")
                }
            }
        }
        return steps
    }

    mutating func identifier() throws(JSONPathError) -> String {
        var name = ""
        while let c = peek() {
            if c == "\\", let next = peek(1) {
                name.append(next)
                i += 2
                continue
            }
            if c == "." || c == "[" || c == "]" || c == " " || c == ")" || c == "=" || c == "!" || c == "<"
                || c == ">"
            {
                break
            }
            name.append(c)
            i += 1
        }
        if name.isEmpty { throw JSONPathError("invalid field name at position \(i)") }
        return name
    }

    mutating func bracket() throws(JSONPathError) -> JSONPath.Step {
        i += 1  // [
        guard let c = peek() else { throw JSONPathError("unterminated array") }
        if c == "?" {
            return .filter(try filter())
        }
        if c == "'" || c == "\"" {
            let name = try quoted()
            try expect("]")
            return .field(name)
        }
        var content = ""
        while let d = peek(), d != "]" {
            content.append(d)
            i += 1
        }
        try expect("]")
        let trimmed = content.trimmingWhitespace()
        if trimmed == "*" { return .wildcard }
        if trimmed.contains(":") {
            let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false).map {
                String($0).trimmingWhitespace()
            }
            guard parts.count <= 3 else { throw JSONPathError("invalid array index \(trimmed)") }
            func bound(_ s: String) throws(JSONPathError) -> Int? {
                if s.isEmpty { return nil }
                guard let v = Int(s) else { throw JSONPathError("invalid array index \(trimmed)") }
                return v
            }
            return .slice(start: try bound(parts[0]), end: try bound(parts[1]))
        }
        guard let idx = Int(trimmed) else { throw JSONPathError("invalid array index \(trimmed)") }
        return .index(idx)
    }

    mutating func expect(_ c: Character) throws(JSONPathError) {
        guard peek() == c else { throw JSONPathError("expected \(c) at position \(i)") }
        i += 1
    }

    mutating func quoted() throws(JSONPathError) -> String {
        guard let q = peek() else { throw JSONPathError("unterminated string") }
        i += 1
        var s = ""
        while let c = peek() {
            i += 1
            if c == "\\", let n = peek() {
                s.append(n)
                i += 1
                continue
            }
            if c == q { return s }
            s.append(c)
        }
        throw JSONPathError("unterminated string")
    }

    mutating func skipSpaces() {
        while peek() == " " || peek() == "\t" { i += 1 }
    }

    mutating func filter() throws(JSONPathError) -> JSONPath.Filter {
        i += 1  // ?
        try expect("(")
        skipSpaces()
        try expect("@")
        let path = try parseSteps(stopAt: [")", "=", "!", "<", ">", " "])
        skipSpaces()
        var op: String?
        var literal: JSONValue?
        if let c = peek(), c != ")" {
            var o = String(c)
            i += 1
            if peek() == "=" {
                o.append("=")
                i += 1
            }
            guard ["==", "!=", "<", ">", "<=", ">="].contains(o) else {
                throw JSONPathError("unrecognized filter operator \(o)")
            }
            op = o
            skipSpaces()
            literal = try filterLiteral()
            skipSpaces()
        }
        try expect(")")
        try expect("]")
        return JSONPath.Filter(path: path, op: op, literal: literal)
    }

    mutating func filterLiteral() throws(JSONPathError) -> JSONValue {
        guard let c = peek() else { throw JSONPathError("missing filter value") }
        if c == "'" || c == "\"" { return .string(try quoted()) }
        var token = ""
        while let d = peek(), d != ")", d != " " {
            token.append(d)
            i += 1
        }
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null", "nil": return .null
        default:
            if let v = Int64(token) { return .int(v) }
            if let d = Double(token) { return .double(d) }
            throw JSONPathError("unrecognized filter value \(token)")
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
