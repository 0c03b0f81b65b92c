/// Kubernetes strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds: lists
/// merged by their patch merge key, and the `$patch`, `$setElementOrder`, `$retainKeys` and
/// `$deleteFromPrimitiveList` directives.
///
/// Which list merges by which key comes from `PatchMergeKeys`; every other list is replaced, so for a kind
/// without a table the result is that of a JSON merge patch (plus the directives).
public enum StrategicMergePatch {
    /// Applies `patch` to `document`, an object of the built-in `kind` (e.g. "Deployment", "Pod", "ConfigMap").
    public static func apply(_ patch: JSONValue, to document: JSONValue, kind: String) throws(PatchError)
        -> JSONValue
    {
        guard let changes = patch.objectValue else {
            throw PatchError("strategic merge patch must be a JSON object, got \(patch.typeName)")
        }
        let merger = Merger(kind: kind)
        return .object(try merger.mergeMap(document.objectValue ?? [:], changes, path: []) ?? [:])
    }

    static let patchDirective = "$patch"
    static let retainKeysDirective = "$retainKeys"
    static let setElementOrderPrefix = "$setElementOrder/"
    static let deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/"

    /// The merge of one patch into one document of a given kind.
    struct Merger {
        let kind: String

        /// Merges `patch` into `original`; nil means the map itself is deleted (`$patch: delete`).
        func mergeMap(_ original: [String: JSONValue], _ patch: [String: JSONValue], path: [String])
            throws(PatchError) -> [String: JSONValue]?
        {
            var patch = patch
            if let directive = patch.removeValue(forKey: StrategicMergePatch.patchDirective) {
                switch directive.stringValue {
                case "replace": return try mergeMap([:], patch, path: path)
                case "delete": return nil
                case "merge": break
                default:
                    throw PatchError("unknown patch type: \(directive) in map: \(JSONValue.object(patch))")
                }
            }
            var retainKeys: Set<String>?
            if let keys = patch.removeValue(forKey: StrategicMergePatch.retainKeysDirective) {
                guard let list = keys.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                    throw PatchError("invalid $retainKeys at \(location(path)): must be a list of strings")
                }
                retainKeys = Set(list.compactMap(\.stringValue))
            }

            var result = original
            var orders: [(list: String, order: [JSONValue])] = []
            // Deletions from primitive lists come first so that a patch can also add to the same list.
            for (key, value) in patch where key.hasPrefix(StrategicMergePatch.deleteFromPrimitiveListPrefix) {
                let list = String(key.dropFirst(StrategicMergePatch.deleteFromPrimitiveListPrefix.count))
                guard let doomed = value.arrayValue else {
                    throw PatchError("invalid \(key) at \(location(path)): must be a list")
                }
                if let items = result[list]?.arrayValue {
                    result[list] = .array(items.filter { item in !doomed.contains { $0.semanticallyEquals(item) } })
                }
            }
            for (key, value) in patch {
                if key.hasPrefix(StrategicMergePatch.deleteFromPrimitiveListPrefix) { continue }
                if key.hasPrefix(StrategicMergePatch.setElementOrderPrefix) {
                    guard let order = value.arrayValue else {
                        throw PatchError("invalid \(key) at \(location(path)): must be a list")
                    }
                    orders.append((String(key.dropFirst(StrategicMergePatch.setElementOrderPrefix.count)), order))
                    continue
                }
                let childPath = path + [key]
                switch value {
                case .null:
                    result.removeValue(forKey: key)
                case .object(let nested):
                    if let merged = try mergeMap(result[key]?.objectValue ?? [:], nested, path: childPath) {
                        result[key] = .object(merged)
                    } else {
                        result.removeValue(forKey: key)
                    }
                case .array(let items):
                    result[key] = try mergeList(result[key]?.arrayValue ?? [], items, path: childPath)
                default:
                    result[key] = value
                }
            }
            for (list, order) in orders {
                guard let items = result[list]?.arrayValue else { continue }
                result[list] = .array(reorder(items, by: order, path: path + [list]))
            }
            if let retainKeys {
                result = result.filter { retainKeys.contains($0.key) }
            }
            return result
        }

        func mergeList(_ original: [JSONValue], _ patch: [JSONValue], path: [String]) throws(PatchError)
            -> JSONValue
        {
            let strategy = PatchMergeKeys.strategy(kind: kind, path: path)
            if strategy == .atomic { return .array(patch) }

            // A `{"$patch": "replace"}` element replaces the whole list with the other elements.
            if patch.contains(where: isReplaceDirective) {
                var replacement: [JSONValue] = []
                for element in patch where !isReplaceDirective(element) {
                    if let map = element.objectValue {
                        if let cleaned = try mergeMap([:], map, path: path) { replacement.append(.object(cleaned)) }
                    } else {
                        replacement.append(element)
                    }
                }
                return .array(replacement)
            }

            var items = original
            switch strategy {
            case .atomic:
                return .array(patch)
            case .set:
                for element in patch where !items.contains(where: { $0.semanticallyEquals(element) }) {
                    items.append(element)
                }
            case .mergeByKey(let key):
                for element in patch {
                    guard let map = element.objectValue else {
                        throw PatchError(
                            "invalid list element at \(location(path)): expected an object with merge key "
                                + "\"\(key)\", got \(element.typeName)")
                    }
                    guard let keyValue = map[key] else {
                        throw PatchError("map: \(element) does not contain declared merge key: \(key)")
                    }
                    let index = items.firstIndex { $0.objectValue?[key]?.semanticallyEquals(keyValue) ?? false }
                    if map[StrategicMergePatch.patchDirective]?.stringValue == "delete" {
                        items.removeAll { $0.objectValue?[key]?.semanticallyEquals(keyValue) ?? false }
                        continue
                    }
                    if let index {
                        if let merged = try mergeMap(items[index].objectValue ?? [:], map, path: path) {
                            items[index] = .object(merged)
                        } else {
                            items.remove(at: index)
                        }
                    } else if let added = try mergeMap([:], map, path: path) {
                        items.append(.object(added))
                    }
                }
            }
            return .array(items)
        }

        private func isReplaceDirective(_ element: JSONValue) -> Bool {
            guard let map = element.objectValue else { return false }
            return map.count == 1 && map[StrategicMergePatch.patchDirective]?.stringValue == "replace"
        }

        /// Puts the items named by `order` into that relative order; the positions they occupy and every other
        /// item (present only on the server) stay where they are.
        func reorder(_ items: [JSONValue], by order: [JSONValue], path: [String]) -> [JSONValue] {
            let identity: (JSONValue) -> JSONValue?
            if case .mergeByKey(let key) = PatchMergeKeys.strategy(kind: kind, path: path) {
                identity = { $0.objectValue?[key] }
            } else {
                identity = { $0 }
            }
            func rank(_ item: JSONValue) -> Int? {
                guard let id = identity(item) else { return nil }
                return order.firstIndex { entry in identity(entry).map { $0.semanticallyEquals(id) } ?? false }
            }
            let ranked = items.indices.compactMap { index in rank(items[index]).map { (index, $0) } }
            let sorted = ranked.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
            var result = items
            for (slot, source) in zip(ranked.map(\.0), sorted.map(\.0)) {
                result[slot] = items[source]
            }
            return result
        }

        private func location(_ path: [String]) -> String {
            path.isEmpty ? "the root" : "." + path.joined(separator: ".")
        }
    }
}
