/// RFC 7386 JSON Merge Patch (`application/merge-patch+json`): `null` deletes, objects merge, lists replace.
public enum MergePatch {
    /// Applies `patch` to `document`. A non-object patch replaces the document; an object patch merges into it
    /// (into an empty object when the document is not one).
    public static func apply(_ patch: JSONValue, to document: JSONValue) -> JSONValue {
        guard case .object(let changes) = patch else { return patch }
        var target = document.objectValue ?? [:]
        for (key, value) in changes {
            if value.isNull {
                target.removeValue(forKey: key)
            } else {
                target[key] = apply(value, to: target[key] ?? .null)
            }
        }
        return .object(target)
    }

    /// The merge patch that turns `original` into `modified`: only changed members, `null` for removed ones,
    /// `{}` when two objects are equal. Numbers compare by value (`1` equals `1.0`). When either side is not an
    /// object the patch is `modified` itself, since only a whole-value replacement can express the change.
    public static func create(from original: JSONValue, to modified: JSONValue) -> JSONValue {
        guard case .object(let old) = original, case .object(let new) = modified else {
            return modified  // a non-object patch replaces the document wholesale
        }
        var patch: [String: JSONValue] = [:]
        for key in old.keys where new[key] == nil {
            patch[key] = .null
        }
        for (key, newValue) in new {
            guard let oldValue = old[key] else {
                patch[key] = newValue
                continue
            }
            if oldValue.semanticallyEquals(newValue) { continue }
            if oldValue.objectValue != nil, newValue.objectValue != nil {
                patch[key] = create(from: oldValue, to: newValue)
            } else {
                patch[key] = newValue
            }
        }
        return .object(patch)
    }
}
