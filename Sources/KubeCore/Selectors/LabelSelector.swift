/// A label selector (apimachinery `labels.Selector`): `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
/// `k`, `!k`, `k>N`, `k<N`, comma for AND.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public init(parsing text: String) throws(SelectorError) {
        throw SelectorError("label selector: pending implementation")  // replaced by the real implementation
    }

    /// From a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`).
    public init(json: JSONValue) throws(SelectorError) {
        throw SelectorError("label selector: pending implementation")  // replaced by the real implementation
    }

    public func matches(_ labels: [String: String]) -> Bool { false }
    public var isEmpty: Bool { true }
    public var description: String { "" }
}

/// A malformed selector; the API server answers 400 BadRequest with `message`.
public struct SelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
