/// Why a patch could not be applied. The API server answers these with 422 (or 400 for malformed bodies).
public struct PatchError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
