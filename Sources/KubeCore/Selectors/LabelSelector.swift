/// A label selector (apimachinery `labels.Selector`): `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
/// `k`, `!k`, `k>N`, `k<N`, comma for AND.
///
/// Parsing follows apimachinery's lexer and parser, including its error messages, so the emulated API server
/// answers malformed `labelSelector` parameters the way a real one does. Requirements are kept sorted by key,
/// which makes `description` the canonical form.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    /// The comparison a requirement makes.
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    /// One condition on one label key; a selector matches when all of its requirements do.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public var key: String
        public var `operator`: Operator
        /// Sorted and free of duplicates, as apimachinery keeps them.
        public var values: [String]

        /// A validated requirement; the messages are those of apimachinery's `NewRequirement`.
        public init(key: String, operator op: Operator, values: [String]) throws(SelectorError) {
            var errors: [String] = []
            if let problem = LabelSelector.keyProblem(key) {
                errors.append("key: Invalid value: \(goQuote(key)): \(problem)")
            }
            let sortedValues = Array(Set(values)).sorted()
            switch op {
            case .in, .notIn:
                if sortedValues.isEmpty {
                    errors.append(
                        "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty")
                }
            case .equals, .doubleEquals, .notEquals:
                if sortedValues.count != 1 {
                    errors.append(
                        "values: Invalid value: \(goList(sortedValues)): exact-match compatibility requires one "
                            + "single value")
                }
            case .exists, .doesNotExist:
                if !sortedValues.isEmpty {
                    errors.append(
                        "values: Invalid value: \(goList(sortedValues)): values set must be empty for exists and "
                            + "does not exist")
                }
            case .greaterThan, .lessThan:
                if sortedValues.count != 1 {
                    errors.append(
                        "values: Invalid value: \(goList(sortedValues)): for 'Gt', 'Lt' operators, exactly one value "
                            + "is required")
                }
                for (index, value) in sortedValues.enumerated() where Int64(value) == nil {
                    errors.append(
                        "values[\(index)]: Invalid value: \(goQuote(value)): for 'Gt', 'Lt' operators, the value "
                            + "must be an integer")
                }
            }
            for (index, value) in sortedValues.enumerated() {
                if let problem = LabelSelector.valueProblem(value) {
                    errors.append("values[\(index)][\(key)]: Invalid value: \(goQuote(value)): \(problem)")
                }
            }
            if !errors.isEmpty { throw SelectorError(aggregate(errors)) }
            self.key = key
            self.operator = op
            self.values = sortedValues
        }

        /// Whether `labels` satisfy this requirement.
        public func matches(_ labels: [String: String]) -> Bool {
            let actual = labels[key]
            switch `operator` {
            case .equals, .doubleEquals, .in:
                guard let actual else { return false }
                return values.contains(actual)
            case .notEquals, .notIn:
                guard let actual else { return true }
                return !values.contains(actual)
            case .exists:
                return actual != nil
            case .doesNotExist:
                return actual == nil
            case .greaterThan, .lessThan:
                guard let actual, let have = Int64(actual), values.count == 1, let limit = values.first.flatMap({
                    Int64($0)
                }) else { return false }
                return `operator` == .greaterThan ? have > limit : have < limit
            }
        }

        /// The requirement in selector syntax, e.g. `tier in (a,b)` or `!canary`.
        public var description: String {
            switch `operator` {
            case .exists: return key
            case .doesNotExist: return "!" + key
            case .equals, .doubleEquals, .notEquals: return key + `operator`.rawValue + (values.first ?? "")
            case .in, .notIn: return key + " " + `operator`.rawValue + " (" + values.joined(separator: ",") + ")"
            case .greaterThan: return key + ">" + (values.first ?? "")
            case .lessThan: return key + "<" + (values.first ?? "")
            }
        }
    }

    /// The requirements, sorted by key; empty means "everything".
    public var requirements: [Requirement]
    /// Set only by `init(json: .null)`: a nil `metav1.LabelSelector` selects nothing.
    private var selectsNothing = false

    /// The selector that matches every object.
    public init() { requirements = [] }

    /// A selector from already-built requirements (sorted by key here).
    public init(requirements: [Requirement]) {
        self.requirements = LabelSelector.sortedByKey(requirements)
    }

    /// `k1=v1,k2=v2`: what a Service selector or `matchLabels` mean. Values are taken as given.
    public init(matchLabels: [String: String]) {
        requirements = matchLabels.keys.sorted().map { key in
            Requirement(unchecked: key, .equals, [matchLabels[key] ?? ""])
        }
    }

    public init(parsing text: String) throws(SelectorError) {
        var parser = LabelSelectorParser(text: text)
        requirements = LabelSelector.sortedByKey(try parser.parse())
    }

    /// From a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`). An empty object selects
    /// everything; `null` selects nothing, as `metav1.LabelSelectorAsSelector` has it.
    public init(json: JSONValue) throws(SelectorError) {
        if json.isNull {
            requirements = []
            selectsNothing = true
            return
        }
        guard let object = json.objectValue else {
            throw SelectorError("a label selector must be an object, got \(json.typeName)")
        }
        var result: [Requirement] = []
        if let matchLabels = object["matchLabels"], !matchLabels.isNull {
            guard let labels = matchLabels.objectValue else {
                throw SelectorError("matchLabels must be an object, got \(matchLabels.typeName)")
            }
            for key in labels.keys.sorted() {
                guard let value = labels[key]?.stringValue else {
                    throw SelectorError("matchLabels[\(key)] must be a string")
                }
                result.append(try Requirement(key: key, operator: .equals, values: [value]))
            }
        }
        if let expressions = object["matchExpressions"], !expressions.isNull {
            guard let list = expressions.arrayValue else {
                throw SelectorError("matchExpressions must be a list, got \(expressions.typeName)")
            }
            for (index, expression) in list.enumerated() {
                guard let key = expression["key"]?.stringValue else {
                    throw SelectorError("matchExpressions[\(index)].key must be a string")
                }
                let opText = expression["operator"]?.stringValue ?? ""
                let op: Operator
                switch opText {
                case "In": op = .in
                case "NotIn": op = .notIn
                case "Exists": op = .exists
                case "DoesNotExist": op = .doesNotExist
                default: throw SelectorError("\(goQuote(opText)) is not a valid label selector operator")
                }
                var values: [String] = []
                if let rawValues = expression["values"], !rawValues.isNull {
                    guard let array = rawValues.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
                        throw SelectorError("matchExpressions[\(index)].values must be a list of strings")
                    }
                    values = array.compactMap(\.stringValue)
                }
                result.append(try Requirement(key: key, operator: op, values: values))
            }
        }
        requirements = LabelSelector.sortedByKey(result)
    }

    public func matches(_ labels: [String: String]) -> Bool {
        !selectsNothing && requirements.allSatisfy { $0.matches(labels) }
    }

    /// True for the selector that matches everything.
    public var isEmpty: Bool { requirements.isEmpty && !selectsNothing }

    /// The canonical selector string, e.g. `app=web,tier in (a,b)`; `""` for the empty selector.
    public var description: String { requirements.map(\.description).joined(separator: ",") }

    static func sortedByKey(_ requirements: [Requirement]) -> [Requirement] {
        requirements.enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }.map(\.element)
    }
}

extension LabelSelector.Requirement {
    /// For values known to be acceptable (built from an existing label map).
    init(unchecked key: String, _ op: LabelSelector.Operator, _ values: [String]) {
        self.key = key
        self.operator = op
        self.values = values
    }
}

/// A malformed selector; the API server answers 400 BadRequest with `message`.
public struct SelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Label key and value validation (apimachinery pkg/util/validation)

extension LabelSelector {
    static let qualifiedNameHelp =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        + "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        + "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueHelp =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
        + "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
        + "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    /// apimachinery's explanation of an invalid RFC 1123 subdomain (also used for object names).
    public static let dnsSubdomainHelp =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        + "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

    /// Why `key` is not a qualified name (`[prefix/]name`), or nil when it is; apimachinery's wording.
    public static func keyProblem(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let name: String
        var problems: [String] = []
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                problems.append("prefix part must be non-empty")
            } else if prefix.utf8.count > 253 {
                problems.append("prefix part must be no more than 253 bytes")
            } else if !isDNSSubdomain(prefix) {
                problems.append("prefix part " + dnsSubdomainHelp)
            }
        default:
            return "a qualified name " + qualifiedNameHelp
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        }
        if name.isEmpty {
            problems.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            problems.append("name part must be no more than 63 bytes")
        }
        if !isQualifiedNamePart(name) {
            problems.append("name part " + qualifiedNameHelp)
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// Why `value` is not a label value, or nil when it is (the empty string is valid).
    public static func valueProblem(_ value: String) -> String? {
        var problems: [String] = []
        if value.utf8.count > 63 { problems.append("must be no more than 63 bytes") }
        if !value.isEmpty, !isQualifiedNamePart(value) { problems.append(labelValueHelp) }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
    static func isQualifiedNamePart(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return false
        }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`
    static func isDNSSubdomain(_ text: String) -> Bool {
        text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            let bytes = Array(label.utf8)
            func ok(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) }
            guard let first = bytes.first, let last = bytes.last, ok(first), ok(last) else { return false }
            return bytes.allSatisfy { ok($0) || $0 == 0x2D }
        }
    }
}

/// Go's `%q` for the printable strings selectors contain.
func goQuote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// Go's `%#v` of a `[]string`, which `field.Invalid` prints for list values.
private func goList(_ values: [String]) -> String { "[]string{" + values.map(goQuote).joined(separator: ", ") + "}" }

/// `field.ErrorList.ToAggregate().Error()`: one message alone, several in brackets.
private func aggregate(_ errors: [String]) -> String {
    errors.count == 1 ? errors[0] : "[" + errors.joined(separator: ", ") + "]"
}

// MARK: - Parser (apimachinery pkg/labels/selector.go)

/// The tokens of apimachinery's label selector lexer.
enum LabelSelectorToken: Equatable {
    case identifier(String)
    case doesNotExist  // !
    case equals, doubleEquals, notEquals, greaterThan, lessThan
    case `in`, notIn
    case openParen, closeParen, comma
    case end

    /// The literal as the error messages quote it.
    var literal: String {
        switch self {
        case .identifier(let s): return s
        case .doesNotExist: return "!"
        case .equals: return "="
        case .doubleEquals: return "=="
        case .notEquals: return "!="
        case .greaterThan: return ">"
        case .lessThan: return "<"
        case .in: return "in"
        case .notIn: return "notin"
        case .openParen: return "("
        case .closeParen: return ")"
        case .comma: return ","
        case .end: return ""
        }
    }
}

struct LabelSelectorParser {
    /// Whether `in`/`notin` are keywords (after a key) or plain identifiers (as values).
    enum Context { case keyAndOperator, values }

    var tokens: [LabelSelectorToken] = []
    var position = 0

    init(text: String) {
        tokens = LabelSelectorParser.lex(Array(text.unicodeScalars))
    }

    static func isSpecial(_ c: Unicode.Scalar) -> Bool { "=!(),><".unicodeScalars.contains(c) }
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }

    static func lex(_ s: [Unicode.Scalar]) -> [LabelSelectorToken] {
        var result: [LabelSelectorToken] = []
        var i = 0
        while true {
            while i < s.count, isWhitespace(s[i]) { i += 1 }
            guard i < s.count else {
                result.append(.end)
                return result
            }
            if isSpecial(s[i]) {
                let two = i + 1 < s.count ? String(String.UnicodeScalarView([s[i], s[i + 1]])) : ""
                switch two {
                case "!=": result.append(.notEquals); i += 2; continue
                case "==": result.append(.doubleEquals); i += 2; continue
                default: break
                }
                switch s[i] {
                case "!": result.append(.doesNotExist)
                case "=": result.append(.equals)
                case ">": result.append(.greaterThan)
                case "<": result.append(.lessThan)
                case "(": result.append(.openParen)
                case ")": result.append(.closeParen)
                default: result.append(.comma)
                }
                i += 1
                continue
            }
            let start = i
            while i < s.count, !isWhitespace(s[i]), !isSpecial(s[i]) { i += 1 }
            let word = String(String.UnicodeScalarView(s[start..<i]))
            switch word {
            case "in": result.append(.in)
            case "notin": result.append(.notIn)
            default: result.append(.identifier(word))
            }
        }
    }

    func lookahead(_ context: Context) -> LabelSelectorToken {
        let token = position < tokens.count ? tokens[position] : .end
        if context == .values {
            if token == .in { return .identifier("in") }
            if token == .notIn { return .identifier("notin") }
        }
        return token
    }

    mutating func consume(_ context: Context) -> LabelSelectorToken {
        let token = lookahead(context)
        if position < tokens.count { position += 1 }
        return token
    }

    private static func isIdentifier(_ token: LabelSelectorToken) -> Bool {
        if case .identifier = token { return true }
        return false
    }

    mutating func parse() throws(SelectorError) -> [LabelSelector.Requirement] {
        var requirements: [LabelSelector.Requirement] = []
        while true {
            let token = lookahead(.values)
            switch token {
            case .identifier, .doesNotExist:
                do {
                    requirements.append(try parseRequirement())
                } catch {
                    throw SelectorError("unable to parse requirement: \(error.message)")
                }
                let next = consume(.values)
                switch next {
                case .end:
                    return requirements
                case .comma:
                    let after = lookahead(.values)
                    if !Self.isIdentifier(after), after != .doesNotExist {
                        throw SelectorError("found '\(after.literal)', expected: identifier after ','")
                    }
                default:
                    throw SelectorError("found '\(next.literal)', expected: ',' or 'end of string'")
                }
            case .end:
                return requirements
            default:
                throw SelectorError("found '\(token.literal)', expected: !, identifier, or 'end of string'")
            }
        }
    }

    mutating func parseRequirement() throws(SelectorError) -> LabelSelector.Requirement {
        var token = consume(.values)
        var op: LabelSelector.Operator?
        if token == .doesNotExist {
            op = .doesNotExist
            token = consume(.values)
        }
        guard case .identifier(let key) = token else {
            throw SelectorError("found '\(token.literal)', expected: identifier")
        }
        if let problem = LabelSelector.keyProblem(key) {
            throw SelectorError("Invalid value: \(goQuote(key)): \(problem)")
        }
        let next = lookahead(.values)
        // `!key` never takes an operator; whatever follows it is the caller's problem (`!a=b` fails there).
        if next == .end || next == .comma || op == .doesNotExist {
            return try LabelSelector.Requirement(key: key, operator: op ?? .exists, values: [])
        }
        let opToken = consume(.keyAndOperator)
        let binary: LabelSelector.Operator
        switch opToken {
        case .in: binary = .in
        case .notIn: binary = .notIn
        case .equals: binary = .equals
        case .doubleEquals: binary = .doubleEquals
        case .notEquals: binary = .notEquals
        case .greaterThan: binary = .greaterThan
        case .lessThan: binary = .lessThan
        default:
            throw SelectorError("found '\(opToken.literal)', expected: in, notin, =, ==, !=, gt, lt")
        }
        let values: [String]
        switch binary {
        case .in, .notIn: values = try parseValues()
        default: values = try parseExactValue()
        }
        return try LabelSelector.Requirement(key: key, operator: binary, values: values)
    }

    mutating func parseValues() throws(SelectorError) -> [String] {
        let open = consume(.values)
        guard open == .openParen else { throw SelectorError("found '\(open.literal)' expected: '('") }
        let token = lookahead(.values)
        switch token {
        case .identifier, .comma:
            let values = try parseIdentifiersList()
            let close = consume(.values)
            guard close == .closeParen else { throw SelectorError("found '\(token.literal)', expected: ')'") }
            return values
        case .closeParen:
            _ = consume(.values)
            return [""]
        default:
            throw SelectorError("found '\(token.literal)', expected: ',', ')' or identifier")
        }
    }

    mutating func parseIdentifiersList() throws(SelectorError) -> [String] {
        var values: Set<String> = []
        while true {
            let token = consume(.values)
            switch token {
            case .identifier(let value):
                values.insert(value)
                let next = lookahead(.values)
                switch next {
                case .comma: continue
                case .closeParen: return values.sorted()
                default: throw SelectorError("found '\(next.literal)', expected: ',' or ')'")
                }
            case .comma:
                if values.isEmpty { values.insert("") }
                let next = lookahead(.values)
                if next == .closeParen {
                    values.insert("")
                    return values.sorted()
                }
                if next == .comma {
                    _ = consume(.values)
                    values.insert("")
                }
            default:
                throw SelectorError("found '\(token.literal)', expected: ',', or identifier")
            }
        }
    }

    mutating func parseExactValue() throws(SelectorError) -> [String] {
        let next = lookahead(.values)
        if next == .end || next == .comma { return [""] }
        let token = consume(.values)
        guard case .identifier(let value) = token else {
            throw SelectorError("found '\(token.literal)', expected: identifier")
        }
        return [value]
    }
}
