/// RFC 7386 JSON Merge Patch (`application/merge-patch+json`): `null` deletes, objects merge, lists replace.
public enum MergePatch {
    public static func apply(_ patch: JSONValue, to document: JSONValue) -> JSONValue {
        patch  // replaced by the real implementation
    }

    /// The merge patch that turns `original` into `modified`.
    public static func create(from original: JSONValue, to modified: JSONValue) -> JSONValue {
        modified  // replaced by the real implementation
    }
}
