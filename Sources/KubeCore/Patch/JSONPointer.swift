/// An RFC 6901 JSON Pointer such as `/spec/containers/0/image`: the reference tokens with `~1` (`/`) and
/// `~0` (`~`) unescaped. The empty pointer `""` refers to the whole document.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The unescaped reference tokens, outermost first.
    public var tokens: [String]

    public init(tokens: [String]) { self.tokens = tokens }

    /// Parses pointer text; it must be empty or start with `/`, and `~` may only appear as `~0` or `~1`.
    public init(parsing text: String) throws(PatchError) {
        if text.isEmpty {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else {
            throw PatchError("invalid JSON pointer \"\(text)\": must be empty or start with '/'")
        }
        var result: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var chars = raw.makeIterator()
            while let c = chars.next() {
                guard c == "~" else {
                    token.append(c)
                    continue
                }
                switch chars.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default: throw PatchError("invalid JSON pointer \"\(text)\": '~' must be followed by '0' or '1'")
                }
            }
            result.append(token)
        }
        tokens = result
    }

    /// The pointer text, with `~` and `/` escaped again.
    public var description: String {
        tokens.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
            .joined()
    }

    /// The value this pointer refers to in `document`, or nil when any step is missing.
    public func resolve(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let o):
                guard let next = o[token] else { return nil }
                current = next
            case .array(let a):
                guard let index = JSONPointer.arrayIndex(token), index < a.count else { return nil }
                current = a[index]
            default:
                return nil
            }
        }
        return current
    }

    /// A decimal array index as RFC 6901 allows it: `0` or a digit string without leading zeros.
    static func arrayIndex(_ token: String) -> Int? {
        guard !token.isEmpty, token.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if token.count > 1, token.hasPrefix("0") { return nil }
        return Int(token)
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
