/// Kubernetes strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds: lists
/// merged by their patch merge key, and the `$patch`, `$setElementOrder`, `$retainKeys` and
/// `$deleteFromPrimitiveList` directives.
public enum StrategicMergePatch {
    /// Applies `patch` to `document`, an object of the built-in `kind` (e.g. "Deployment", "Pod", "ConfigMap").
    public static func apply(_ patch: JSONValue, to document: JSONValue, kind: String) throws -> JSONValue {
        throw PatchError("strategic merge patch: pending implementation")  // replaced by the real implementation
    }
}
