/// A set of field paths in the shape of `metadata.managedFields[].fieldsV1`: which fields one field manager
/// owns. Each path is a member; `{}` leaves and `".": {}` entries mark members in the FieldsV1 encoding.
public struct FieldSet: Sendable, Hashable {
    /// One step of a field path.
    public enum PathElement: Sendable, Hashable, CustomStringConvertible {
        /// An object member: `f:<name>`.
        case field(String)
        /// An item of an associative list, by its key fields: `k:{"name":"web"}`.
        case key([String: JSONValue])
        /// An item of a set-like list of scalars: `v:"finalizer"`.
        case value(JSONValue)
        /// An item of a list by position: `i:0`.
        case index(Int)

        /// The FieldsV1 member name.
        public var fieldsV1Key: String {
            switch self {
            case .field(let name): return "f:" + name
            case .key(let keys): return "k:" + JSONValue.object(keys).serialized()
            case .value(let value): return "v:" + value.serialized()
            case .index(let index): return "i:\(index)"
            }
        }

        /// The step as structured-merge-diff prints it in conflicts: `.name`, `[name="web"]`, `[="x"]`, `[0]`.
        public var description: String {
            switch self {
            case .field(let name): return "." + name
            case .key(let keys):
                return "[" + keys.keys.sorted().map { $0 + "=" + (keys[$0] ?? .null).serialized() }
                    .joined(separator: ",") + "]"
            case .value(let value): return "[=" + value.serialized() + "]"
            case .index(let index): return "[\(index)]"
            }
        }

        init(fieldsV1Key text: String) throws(PatchError) {
            let body = String(text.dropFirst(2))
            switch text.prefix(2) {
            case "f:":
                self = .field(body)
            case "k:":
                guard let keys = try? JSONValue.parse(body).objectValue else {
                    throw PatchError("invalid fieldsV1 key \(text): k: needs a JSON object")
                }
                self = .key(keys)
            case "v:":
                guard let value = try? JSONValue.parse(body) else {
                    throw PatchError("invalid fieldsV1 key \(text): v: needs a JSON value")
                }
                self = .value(value)
            case "i:":
                guard let index = Int(body) else { throw PatchError("invalid fieldsV1 key \(text): i: needs an index") }
                self = .index(index)
            default:
                throw PatchError("invalid fieldsV1 key \(text): expected f:, k:, v: or i:")
            }
        }
    }

    /// The member paths, each from the object root.
    public var paths: Set<[PathElement]>

    public init(paths: Set<[PathElement]> = []) { self.paths = paths }

    /// Reads a `fieldsV1` object.
    public init(fieldsV1: JSONValue) throws(PatchError) {
        var result: Set<[PathElement]> = []
        func decode(_ node: JSONValue, _ prefix: [PathElement]) throws(PatchError) {
            guard let members = node.objectValue else {
                throw PatchError("invalid fieldsV1: expected an object, got \(node.typeName)")
            }
            if members.isEmpty, !prefix.isEmpty { result.insert(prefix) }
            for (key, child) in members {
                if key == "." {
                    if !prefix.isEmpty { result.insert(prefix) }
                    continue
                }
                try decode(child, prefix + [try PathElement(fieldsV1Key: key)])
            }
        }
        try decode(fieldsV1, [])
        paths = result
    }

    public var isEmpty: Bool { paths.isEmpty }

    /// The `fieldsV1` object: a tree of `f:`/`k:`/`v:`/`i:` members, `{}` for owned leaves and `".": {}` where
    /// an owned node also has owned children.
    public var fieldsV1: JSONValue {
        func encode(_ suffixes: [ArraySlice<PathElement>]) -> JSONValue {
            var members: [String: JSONValue] = [:]
            var ownsSelf = false
            var groups: [PathElement: [ArraySlice<PathElement>]] = [:]
            for suffix in suffixes {
                if let first = suffix.first {
                    groups[first, default: []].append(suffix.dropFirst())
                } else {
                    ownsSelf = true
                }
            }
            for (element, rest) in groups { members[element.fieldsV1Key] = encode(rest) }
            if ownsSelf, !members.isEmpty { members["."] = .object([:]) }
            return .object(members)
        }
        return encode(paths.map { $0[...] })
    }

    /// True when some member lies strictly below `path`.
    func hasMember(below path: [PathElement]) -> Bool {
        paths.contains { $0.count > path.count && Array($0.prefix(path.count)) == path }
    }

    /// The members that have no member below them: the values that can be compared and conflict.
    var leaves: [[PathElement]] {
        paths.filter { !hasMember(below: $0) }.sorted { FieldSet.string($0) < FieldSet.string($1) }
    }

    /// The path as conflicts print it, e.g. `.spec.template.spec.containers[name="web"].image`.
    public static func string(_ path: [PathElement]) -> String {
        path.map(\.description).joined()
    }

    // MARK: Reading and editing objects by path

    /// The value at `path` in `object`, or nil when absent.
    static func value(at path: ArraySlice<PathElement>, in object: JSONValue) -> JSONValue? {
        guard let first = path.first else { return object }
        let rest = path.dropFirst()
        switch first {
        case .field(let name):
            return object[name].flatMap { value(at: rest, in: $0) }
        case .key(let keys):
            guard let item = object.arrayValue?.first(where: { itemMatches($0, keys) }) else { return nil }
            return value(at: rest, in: item)
        case .value(let wanted):
            guard let item = object.arrayValue?.first(where: { $0.semanticallyEquals(wanted) }) else { return nil }
            return value(at: rest, in: item)
        case .index(let index):
            guard let items = object.arrayValue, items.indices.contains(index) else { return nil }
            return value(at: rest, in: items[index])
        }
    }

    /// `object` without the value at `path`; unchanged when the path is absent.
    static func removing(_ path: ArraySlice<PathElement>, from object: JSONValue) -> JSONValue {
        guard let first = path.first else { return object }
        let rest = path.dropFirst()
        switch (first, object) {
        case (.field(let name), .object(var members)):
            guard let child = members[name] else { return object }
            if rest.isEmpty {
                members.removeValue(forKey: name)
            } else {
                members[name] = removing(rest, from: child)
            }
            return .object(members)
        case (.key(let keys), .array(let items)):
            return .array(editItems(items, rest) { itemMatches($0, keys) })
        case (.value(let wanted), .array(let items)):
            return .array(editItems(items, rest) { $0.semanticallyEquals(wanted) })
        case (.index(let index), .array(var items)):
            guard items.indices.contains(index) else { return object }
            if rest.isEmpty { items.remove(at: index) } else { items[index] = removing(rest, from: items[index]) }
            return .array(items)
        default:
            return object
        }
    }

    private static func editItems(
        _ items: [JSONValue], _ rest: ArraySlice<PathElement>, where matches: (JSONValue) -> Bool
    ) -> [JSONValue] {
        if rest.isEmpty { return items.filter { !matches($0) } }
        return items.map { matches($0) ? removing(rest, from: $0) : $0 }
    }

    static func itemMatches(_ item: JSONValue, _ keys: [String: JSONValue]) -> Bool {
        guard let members = item.objectValue else { return false }
        return keys.allSatisfy { key, value in members[key]?.semanticallyEquals(value) ?? false }
    }
}
