/// RFC 6902 JSON Patch (`application/json-patch+json`): add, remove, replace, move, copy, test.
///
/// Operations apply in order to a working copy; the first failing operation aborts the whole patch, so the
/// caller either gets the fully patched document or a `PatchError` and the original stays untouched.
public enum JSONPatch {
    /// Applies `patch` (a JSON array of operations) to `document`.
    public static func apply(_ patch: JSONValue, to document: JSONValue) throws(PatchError) -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw PatchError("json patch must be an array of operations, got \(patch.typeName)")
        }
        var result = document
        for (number, operation) in operations.enumerated() {
            result = try applyOperation(operation, number: number, to: result)
        }
        return result
    }

    private static func applyOperation(_ operation: JSONValue, number: Int, to doc: JSONValue) throws(PatchError)
        -> JSONValue
    {
        guard let fields = operation.objectValue else {
            throw PatchError("json patch operation \(number) must be an object, got \(operation.typeName)")
        }
        guard let op = fields["op"]?.stringValue else {
            throw PatchError("json patch operation \(number) is missing a string \"op\"")
        }
        guard let pathText = fields["path"]?.stringValue else {
            throw PatchError("\(op) operation is missing a string \"path\"")
        }
        let path = try JSONPointer(parsing: pathText)

        func value() throws(PatchError) -> JSONValue {
            guard let v = fields["value"] else { throw PatchError("\(op) operation is missing \"value\"") }
            return v
        }
        func from() throws(PatchError) -> JSONPointer {
            guard let text = fields["from"]?.stringValue else {
                throw PatchError("\(op) operation is missing a string \"from\"")
            }
            return try JSONPointer(parsing: text)
        }

        switch op {
        case "add":
            return try add(try value(), at: path, in: doc, op: op)
        case "remove":
            return try remove(at: path, in: doc, op: op).document
        case "replace":
            let v = try value()
            guard path.resolve(in: doc) != nil else {
                throw PatchError("replace operation does not apply: doc is missing path: \(pathText)")
            }
            if path.tokens.isEmpty { return v }
            let removed = try remove(at: path, in: doc, op: op).document
            return try add(v, at: path, in: removed, op: op)
        case "move":
            let source = try from()
            if source == path { return doc }
            let intoItself = path.tokens.count > source.tokens.count
                && Array(path.tokens.prefix(source.tokens.count)) == source.tokens
            if intoItself {
                throw PatchError("move operation does not apply: \"from\" \(source) is a prefix of path \(pathText)")
            }
            let (removed, moved) = try remove(at: source, in: doc, op: op)
            return try add(moved, at: path, in: removed, op: op)
        case "copy":
            let source = try from()
            guard let copied = source.resolve(in: doc) else {
                throw PatchError("copy operation does not apply: doc is missing from path: \(source)")
            }
            return try add(copied, at: path, in: doc, op: op)
        case "test":
            let expected = try value()
            guard let actual = path.resolve(in: doc) else {
                throw PatchError("test operation does not apply: doc is missing path: \(pathText)")
            }
            guard actual.semanticallyEquals(expected) else {
                throw PatchError("testing value \(pathText) failed: test failed")
            }
            return doc
        default:
            throw PatchError("Unexpected kind: \(op)")
        }
    }

    /// Inserts (arrays) or sets (objects) `value` at `path`; the parent must exist.
    private static func add(_ value: JSONValue, at path: JSONPointer, in doc: JSONValue, op: String)
        throws(PatchError) -> JSONValue
    {
        guard let last = path.tokens.last else { return value }
        return try modifyParent(of: path, in: doc, op: op) { parent throws(PatchError) in
            switch parent {
            case .object(var o):
                o[last] = value
                return .object(o)
            case .array(var a):
                if last == "-" {
                    a.append(value)
                    return .array(a)
                }
                guard let index = JSONPointer.arrayIndex(last) else {
                    throw PatchError("\(op) operation does not apply: invalid array index \"\(last)\" in path: \(path)")
                }
                guard index <= a.count else {
                    throw PatchError(
                        "\(op) operation does not apply: index \(index) out of bounds (length \(a.count)) "
                            + "in path: \(path)")
                }
                a.insert(value, at: index)
                return .array(a)
            default:
                throw PatchError("\(op) operation does not apply: doc is missing path: \(path)")
            }
        }
    }

    /// Removes the value at `path`, which must exist, returning the new document and the removed value.
    private static func remove(at path: JSONPointer, in doc: JSONValue, op: String) throws(PatchError)
        -> (document: JSONValue, removed: JSONValue)
    {
        guard let last = path.tokens.last else {
            throw PatchError("\(op) operation does not apply: cannot remove the whole document")
        }
        var removed: JSONValue = .null
        let result = try modifyParent(of: path, in: doc, op: op) { parent throws(PatchError) in
            switch parent {
            case .object(var o):
                guard let old = o.removeValue(forKey: last) else {
                    throw PatchError("\(op) operation does not apply: doc is missing path: \(path)")
                }
                removed = old
                return .object(o)
            case .array(var a):
                guard let index = JSONPointer.arrayIndex(last), index < a.count else {
                    throw PatchError("\(op) operation does not apply: doc is missing path: \(path)")
                }
                removed = a.remove(at: index)
                return .array(a)
            default:
                throw PatchError("\(op) operation does not apply: doc is missing path: \(path)")
            }
        }
        return (result, removed)
    }

    /// Rebuilds `doc` with the container that holds the last token of `path` replaced by `change(container)`.
    private static func modifyParent(
        of path: JSONPointer, in doc: JSONValue, op: String,
        _ change: (JSONValue) throws(PatchError) -> JSONValue
    ) throws(PatchError) -> JSONValue {
        func descend(_ node: JSONValue, _ rest: ArraySlice<String>) throws(PatchError) -> JSONValue {
            guard let token = rest.first else { return try change(node) }
            switch node {
            case .object(var o):
                guard let child = o[token] else {
                    throw PatchError("\(op) operation does not apply: doc is missing path: \(path)")
                }
                o[token] = try descend(child, rest.dropFirst())
                return .object(o)
            case .array(var a):
                guard let index = JSONPointer.arrayIndex(token), index < a.count else {
                    throw PatchError("\(op) operation does not apply: doc is missing path: \(path)")
                }
                a[index] = try descend(a[index], rest.dropFirst())
                return .array(a)
            default:
                throw PatchError("\(op) operation does not apply: doc is missing path: \(path)")
            }
        }
        return try descend(doc, path.tokens.dropLast()[...])
    }
}
