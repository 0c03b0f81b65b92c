import Foundation

/// Server-side apply (`application/apply-patch+yaml`): merges an applied configuration into the live object
/// and tracks which field manager owns which fields in `metadata.managedFields`.
public enum ServerSideApply {
    /// A conflict with other managers' fields; the server answers 409 with one cause per field.
    public struct Conflict: Error, Sendable, Hashable {
        public var manager: String
        public var field: String
        public init(manager: String, field: String) {
            self.manager = manager
            self.field = field
        }
    }

    /// Returns the new object. `live` is nil when the object does not exist yet (apply creates it).
    /// Throws `[Conflict]` wrapped in `ServerSideApply.Conflicts` when another manager owns a changed field
    /// and `force` is false.
    public static func apply(
        _ applied: JSONValue, to live: JSONValue?, manager: String, force: Bool, now: Date
    ) throws -> JSONValue {
        throw PatchError("server-side apply: pending implementation")  // replaced by the real implementation
    }

    public struct Conflicts: Error, Sendable, Hashable {
        public var conflicts: [Conflict]
        public init(_ conflicts: [Conflict]) { self.conflicts = conflicts }
    }
}
