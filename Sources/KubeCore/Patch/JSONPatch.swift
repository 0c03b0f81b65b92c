/// RFC 6902 JSON Patch (`application/json-patch+json`): add, remove, replace, move, copy, test.
public enum JSONPatch {
    /// Applies `patch` (a JSON array of operations) to `document`.
    public static func apply(_ patch: JSONValue, to document: JSONValue) throws -> JSONValue {
        throw PatchError("JSON patch: pending implementation")  // replaced by the real implementation
    }
}
