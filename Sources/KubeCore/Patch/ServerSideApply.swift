import Foundation

/// Server-side apply (`application/apply-patch+yaml`): merges an applied configuration into the live object
/// and tracks which field manager owns which fields in `metadata.managedFields`.
///
/// Objects merge member by member; lists of built-in kinds merge by the keys of `PatchMergeKeys` (the kind is
/// read from the applied `kind`), all other lists are atomic. Changing a value that another manager owns is a
/// conflict unless `force` is set, which moves the ownership. Fields this manager applied before and no longer
/// applies are removed, unless another manager owns them too.
public enum ServerSideApply {
    /// A conflict with other managers' fields; the server answers 409 with one cause per field.
    ///
    /// A conflict is identified by its manager and field; `managerDescription` only carries how the message
    /// names the manager, and takes no part in equality.
    public struct Conflict: Error, Sendable, Hashable, CustomStringConvertible {
        public var manager: String
        public var field: String
        /// The manager as the API server prints it: `"kubectl"` for an Apply manager, `"m" using apps/v1 at
        /// <time>` for an Update manager.
        public var managerDescription: String

        public init(manager: String, field: String) {
            self.init(manager: manager, field: field, managerDescription: goQuote(manager))
        }

        public init(manager: String, field: String, managerDescription: String) {
            self.manager = manager
            self.field = field
            self.managerDescription = managerDescription
        }

        public static func == (a: Conflict, b: Conflict) -> Bool { a.manager == b.manager && a.field == b.field }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(manager)
            hasher.combine(field)
        }

        /// The message of the status cause (`type: FieldManagerConflict`).
        public var causeMessage: String { "conflict with \(managerDescription)" }
        public var description: String { "\(causeMessage): \(field)" }
    }

    /// Returns the new object. `live` is nil when the object does not exist yet (apply creates it).
    /// Throws `[Conflict]` wrapped in `ServerSideApply.Conflicts` when another manager owns a changed field
    /// and `force` is false; a `PatchError` for a malformed configuration.
    public static func apply(
        _ applied: JSONValue, to live: JSONValue?, manager: String, force: Bool, now: Date
    ) throws -> JSONValue {
        guard case .object(var configuration) = applied else {
            throw PatchError("apply configuration must be an object, got \(applied.typeName)")
        }
        guard !manager.isEmpty else { throw PatchError("fieldManager is required for apply requests") }
        configuration["metadata"]?["managedFields"] = nil
        let appliedObject = JSONValue.object(configuration)
        let kind = appliedObject["kind"]?.stringValue ?? live?["kind"]?.stringValue ?? ""
        let apiVersion = appliedObject["apiVersion"]?.stringValue ?? live?["apiVersion"]?.stringValue ?? ""
        let merger = Merger(kind: kind)
        let appliedSet = try merger.fieldSet(of: appliedObject)
        let time = KubeTime.format(now)

        guard let live, !live.isNull else {
            var created = merger.merge(nil, appliedObject, names: [])
            created[path: ["metadata", "managedFields"]] = .array([
                entry(manager: manager, apiVersion: apiVersion, time: time, fields: appliedSet)
            ])
            return created
        }

        var owners = try (live[path: ["metadata", "managedFields"]]?.arrayValue ?? []).map(Owner.init)
        let mine = owners.firstIndex { $0.manager == manager && $0.operation == "Apply" && $0.subresource.isEmpty }
        let previous = mine.map { owners[$0].fields } ?? FieldSet()

        // Conflicts: a leaf whose value changes and that another manager owns.
        var conflicts: [Conflict] = []
        var taken: [Int: Set<[FieldSet.PathElement]>] = [:]
        for leaf in appliedSet.leaves {
            let new = FieldSet.value(at: leaf[...], in: appliedObject)
            if let old = FieldSet.value(at: leaf[...], in: live), let new, old.semanticallyEquals(new) { continue }
            for (index, owner) in owners.enumerated()
            where index != mine && owner.manager != manager && owner.fields.paths.contains(leaf) {
                conflicts.append(
                    Conflict(manager: owner.manager, field: FieldSet.string(leaf), managerDescription: owner.printed))
                taken[index, default: []].insert(leaf)
            }
        }
        if !conflicts.isEmpty, !force {
            throw Conflicts(conflicts.sorted { ($0.manager, $0.field) < ($1.manager, $1.field) })
        }
        for (index, paths) in taken { owners[index].fields.paths.subtract(paths) }

        var liveContent = live
        liveContent[path: ["metadata", "managedFields"]] = nil
        var result = merger.merge(liveContent, appliedObject, names: [])

        // Fields this manager gave up: remove those nobody else holds.
        var others = FieldSet()
        for (index, owner) in owners.enumerated() where index != mine { others.paths.formUnion(owner.fields.paths) }
        let kept = FieldSet(paths: appliedSet.paths.union(others.paths))
        // Outermost first: a released list item goes as a whole, and the key fields of an item that stays
        // (someone else owns part of it) are never removed, since the item would lose its identity.
        let released = previous.paths.subtracting(kept.paths).sorted { $0.count < $1.count }
        for path in released where !kept.hasMember(below: path) && !isKeyField(path) {
            result = FieldSet.removing(path[...], from: result)
        }

        // The manager's entry keeps its time when neither the object nor its fields changed (no-op applies must
        // leave the object byte-identical).
        let unchanged = result.semanticallyEquals(liveContent) && previous == appliedSet
        let myTime = unchanged ? mine.flatMap { owners[$0].time } ?? time : time
        let myEntry = entry(manager: manager, apiVersion: apiVersion, time: myTime, fields: appliedSet)
        var entries: [JSONValue] = []
        for (index, owner) in owners.enumerated() {
            if index == mine {
                entries.append(myEntry)
            } else if taken[index] != nil {
                if !owner.fields.isEmpty { entries.append(owner.rewritten) }
            } else {
                entries.append(owner.raw)
            }
        }
        if mine == nil { entries.append(myEntry) }
        result[path: ["metadata", "managedFields"]] = .array(entries)
        return result
    }

    /// The error for one or more conflicts; `message` is the API server's 409 message.
    public struct Conflicts: Error, Sendable, Hashable, CustomStringConvertible {
        public var conflicts: [Conflict]
        public init(_ conflicts: [Conflict]) { self.conflicts = conflicts }

        /// `Apply failed with 1 conflict: conflict with "m": .spec.replicas`, or the grouped form for several.
        public var message: String {
            if conflicts.count == 1, let only = conflicts.first {
                return "Apply failed with 1 conflict: \(only.causeMessage): \(only.field)"
            }
            var lines: [String] = []
            var seen: Set<String> = []
            for manager in conflicts.map(\.manager).sorted() where seen.insert(manager).inserted {
                let mine = conflicts.filter { $0.manager == manager }
                lines.append("conflicts with \(mine.first?.managerDescription ?? goQuote(manager)):")
                lines += mine.map { "- \($0.field)" }
            }
            return "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
        }

        public var description: String { message }
    }

    /// True for `...[name="x"].name`: the key field of an associative list item.
    static func isKeyField(_ path: [FieldSet.PathElement]) -> Bool {
        guard path.count >= 2, case .field(let name) = path[path.count - 1], case .key(let keys) = path[path.count - 2]
        else { return false }
        return keys[name] != nil
    }

    static func entry(manager: String, apiVersion: String, time: String, fields: FieldSet) -> JSONValue {
        [
            "manager": .string(manager), "operation": "Apply", "apiVersion": .string(apiVersion),
            "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1,
        ]
    }

    /// One `managedFields` entry as read from the live object.
    struct Owner {
        var raw: JSONValue
        var manager: String
        var operation: String
        var subresource: String
        var time: String?
        var fields: FieldSet

        init(_ raw: JSONValue) throws(PatchError) {
            self.raw = raw
            manager = raw["manager"]?.stringValue ?? ""
            operation = raw["operation"]?.stringValue ?? ""
            subresource = raw["subresource"]?.stringValue ?? ""
            time = raw["time"]?.stringValue
            fields = try raw["fieldsV1"].map { value throws(PatchError) in try FieldSet(fieldsV1: value) } ?? FieldSet()
        }

        var rewritten: JSONValue {
            var copy = raw
            copy["fieldsV1"] = fields.fieldsV1
            return copy
        }

        /// How conflict messages name this manager (apimachinery `printManager`).
        var printed: String {
            var text = goQuote(manager)
            if !subresource.isEmpty { text += " with subresource \(goQuote(subresource))" }
            if operation == "Update" {
                let apiVersion = raw["apiVersion"]?.stringValue ?? ""
                text += " using \(apiVersion)"
                if let time { text += " at \(time)" }
            }
            return text
        }
    }

    /// Field sets and merging for one kind.
    struct Merger {
        let kind: String

        /// Bookkeeping fields the server sets; apply neither owns nor compares them.
        static let untrackedMetadata: Set<String> = [
            "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
            "deletionGracePeriodSeconds", "managedFields", "selfLink",
        ]

        func fieldSet(of object: JSONValue) throws(PatchError) -> FieldSet {
            var paths: Set<[FieldSet.PathElement]> = []
            try collect(object, path: [], names: [], into: &paths)
            return FieldSet(paths: paths)
        }

        private func collect(
            _ value: JSONValue, path: [FieldSet.PathElement], names: [String],
            into paths: inout Set<[FieldSet.PathElement]>
        ) throws(PatchError) {
            switch value {
            case .null:
                return
            case .object(let members):
                if members.isEmpty {
                    if !path.isEmpty { paths.insert(path) }
                    return
                }
                for (name, child) in members {
                    if names.isEmpty, name == "apiVersion" || name == "kind" { continue }
                    if names == ["metadata"], Merger.untrackedMetadata.contains(name) { continue }
                    try collect(child, path: path + [.field(name)], names: names + [name], into: &paths)
                }
            case .array(let items):
                switch PatchMergeKeys.strategy(kind: kind, path: names) {
                case .atomic:
                    paths.insert(path)
                case .set:
                    for item in items where !item.isNull { paths.insert(path + [.value(item)]) }
                case .mergeByKey(let key):
                    for item in items {
                        guard let members = item.objectValue, let keyValue = members[key], !keyValue.isNull else {
                            throw PatchError(
                                ".\(names.joined(separator: ".")): associative list with keys has an element that "
                                    + "omits key field \"\(key)\"")
                        }
                        let itemPath = path + [.key([key: keyValue])]
                        paths.insert(itemPath)
                        for (name, child) in members {
                            try collect(child, path: itemPath + [.field(name)], names: names + [name], into: &paths)
                        }
                    }
                }
            default:
                paths.insert(path)
            }
        }

        /// `applied` merged into `live`: objects member by member, lists by their strategy; nulls are dropped.
        func merge(_ live: JSONValue?, _ applied: JSONValue, names: [String]) -> JSONValue {
            switch applied {
            case .object(let members):
                var result = live?.objectValue ?? [:]
                for (name, child) in members where !child.isNull {
                    result[name] = merge(result[name], child, names: names + [name])
                }
                return .object(result)
            case .array(let items):
                let strategy = PatchMergeKeys.strategy(kind: kind, path: names)
                var result = live?.arrayValue ?? []
                switch strategy {
                case .atomic:
                    return .array(items.map { merge(nil, $0, names: names) })
                case .set:
                    for item in items where !item.isNull && !result.contains(where: { $0.semanticallyEquals(item) }) {
                        result.append(item)
                    }
                case .mergeByKey(let key):
                    for item in items {
                        guard let keyValue = item[key] else { continue }
                        if let index = result.firstIndex(where: { FieldSet.itemMatches($0, [key: keyValue]) }) {
                            result[index] = merge(result[index], item, names: names)
                        } else {
                            result.append(merge(nil, item, names: names))
                        }
                    }
                }
                return .array(result)
            default:
                return applied
            }
        }
    }
}
