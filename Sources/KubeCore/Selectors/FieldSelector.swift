/// A field selector (apimachinery `fields.Selector`): `f=v`, `f==v`, `f!=v`, comma for AND.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Requirement: Sendable, Hashable {
        public var field: String
        public var value: String
        public var equals: Bool
    }

    public var requirements: [Requirement]

    public init(parsing text: String) throws(SelectorError) {
        throw SelectorError("field selector: pending implementation")  // replaced by the real implementation
    }

    /// True when every requirement holds; `value(field)` returns the object's value for a field path.
    public func matches(_ value: (String) -> String?) -> Bool { false }
    public var description: String { "" }
}
