import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import KubeCore
import NIOCore

// MARK: - Body decoding, admission and output

extension APIHandler {
    static let protobufMessage =
        "the body of the request was in an unknown format - accepted media types include: application/json, "
        + "application/yaml (this emulated API server does not decode application/vnd.kubernetes.protobuf; "
        + "send JSON or YAML, e.g. `kubectl create ... --dry-run=client -o yaml | kubectl apply -f -`)"

    static func mediaType(_ contentType: String) -> String {
        (contentType.split(separator: ";").first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
            .lowercased()
    }

    /// Decodes a create/update body (JSON, or YAML with a YAML content type). Protobuf → 415.
    func decodeObject(_ body: [UInt8], contentType: String) throws(APIStatus) -> JSONValue {
        let media = Self.mediaType(contentType)
        switch media {
        case "application/vnd.kubernetes.protobuf", "application/cbor":
            throw APIStatus.unsupportedMediaType(Self.protobufMessage)
        case "", "application/json", "*/*", "application/yaml", "application/x-yaml", "text/yaml", "text/plain":
            break
        default:
            throw APIStatus.unsupportedMediaType(
                "the body of the request was in an unknown format - accepted media types include: "
                    + "application/json, application/yaml")
        }
        let value: JSONValue
        if media.contains("yaml") {
            do { value = try YAMLBody.parse(String(decoding: body, as: UTF8.self)) } catch {
                throw APIStatus.badRequest("error decoding YAML: \(error)")
            }
        } else {
            do { value = try JSONValue.parse(body) } catch {
                throw APIStatus.badRequest("the object provided is unrecognized (\(error))")
            }
        }
        guard value.objectValue != nil else {
            throw APIStatus.badRequest("the object provided is unrecognized (must be a JSON object)")
        }
        return value
    }

    /// Checks kind/apiVersion/namespace/name of a request body against the URL and fills them in.
    func admitIdentity(_ object: inout JSONValue, _ rr: ResourceRequest, requireName: Bool) throws(APIStatus) {
        let d = rr.info.descriptor
        if let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty, apiVersion != d.apiVersion {
            throw APIStatus.badRequest(
                "the API version in the data (\(apiVersion)) does not match the expected API version (\(d.apiVersion))")
        }
        if let kind = object["kind"]?.stringValue, !kind.isEmpty, kind != d.kind {
            throw APIStatus.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(d.kind))")
        }
        object["apiVersion"] = .string(d.apiVersion)
        object["kind"] = .string(d.kind)
        if object["metadata"]?.objectValue == nil { object["metadata"] = [:] }
        if d.namespaced {
            let bodyNS = object[path: ["metadata", "namespace"]]?.stringValue ?? ""
            let ns = rr.namespace ?? ""
            if !bodyNS.isEmpty, !ns.isEmpty, bodyNS != ns {
                throw APIStatus.badRequest(
                    "the namespace of the provided object does not match the namespace sent on the request")
            }
            let effective = ns.isEmpty ? bodyNS : ns
            guard !effective.isEmpty else { throw APIStatus.badRequest("the namespace of the object must be set") }
            object[path: ["metadata", "namespace"]] = .string(effective)
        }
        if let urlName = rr.name {
            let bodyName = object[path: ["metadata", "name"]]?.stringValue ?? ""
            if bodyName.isEmpty {
                object[path: ["metadata", "name"]] = .string(urlName)
            } else if bodyName != urlName {
                throw APIStatus.badRequest(
                    "the name of the object (\(bodyName)) does not match the name on the URL (\(urlName))")
            }
        }
    }

    /// `fieldValidation`: Strict, Warn (default) or Ignore.
    func fieldValidation(_ rr: ResourceRequest) throws(APIStatus) -> String {
        let v = rr.query["fieldValidation"] ?? "Warn"
        switch v {
        case "Strict", "Warn", "Ignore": return v
        case "": return "Warn"
        default:
            throw APIStatus.badRequest(
                "fieldValidation: Unsupported value: \"\(v)\": supported values: \"Ignore\", \"Strict\", \"Warn\"")
        }
    }

    /// Prunes, defaults and validates a custom resource (or a CRD, or an event); returns warnings.
    func admit(_ object: inout JSONValue, _ rr: ResourceRequest) throws(APIStatus) -> [String] {
        let info = rr.info
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        if info.key == ResourceKey(.customResourceDefinitions) {
            let causes = Self.validateCRD(object)
            if !causes.isEmpty { throw APIStatus.invalid(info.descriptor, name: name, causes: causes) }
            return []
        }
        if EventConversion.isEventsV1(info.descriptor) && rr.verb == "create" {
            let causes = Self.validateEvent(object)
            if !causes.isEmpty { throw APIStatus.invalid(info.descriptor, name: name, causes: causes) }
            return []
        }
        guard info.isCustom, let schemaJSON = info.schema else { return [] }
        let mode = try fieldValidation(rr)
        let schema = CRDSchema(schemaJSON)
        let (pruned, unknown) = schema.prune(object)
        var warnings: [String] = []
        if !unknown.isEmpty {
            if mode == "Strict" {
                let kind = info.descriptor.kind
                let list = unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", ")
                throw APIStatus.badRequest(
                    "\(kind) in version \"\(info.descriptor.version)\" cannot be handled as a \(kind): "
                        + "strict decoding error: \(list)")
            }
            if mode == "Warn" { warnings = unknown.map { "unknown field \"\($0)\"" } }
        }
        object = schema.applyDefaults(pruned)
        let causes = schema.validate(object)
        if !causes.isEmpty { throw APIStatus.invalid(info.descriptor, name: name, causes: causes) }
        return warnings
    }

    /// events.k8s.io/v1 updates may change only `series` and metadata (422 otherwise).
    static func checkEventUpdate(new: JSONValue, old: JSONValue, _ rr: ResourceRequest) throws(APIStatus) {
        let causes = EventConversion.updateViolations(new: new, old: old)
        if !causes.isEmpty {
            throw APIStatus.invalid(rr.info.descriptor, name: rr.name ?? "", causes: causes)
        }
    }

    /// CRD checks (names, versions, structural schemas, subresources, printer columns).
    static func validateCRD(_ crd: JSONValue) -> [APIStatus.Cause] {
        CRDValidation.validate(crd)
    }

    /// events.k8s.io/v1 create validation (§2.9).
    static func validateEvent(_ event: JSONValue) -> [APIStatus.Cause] {
        var causes: [APIStatus.Cause] = []
        func required(_ field: String) {
            let v = event[field]
            if v == nil || v == .null || v?.stringValue == "" {
                causes.append(.init(type: "FieldValueRequired", message: "Required value", field: field))
            }
        }
        required("eventTime")
        if let t = event["eventTime"]?.stringValue, !t.isEmpty, KubeTime.parse(t) == nil {
            causes.append(.init(type: "FieldValueInvalid", message: "Invalid value: \"\(t)\"", field: "eventTime"))
        }
        for f in ["reportingController", "reportingInstance", "action", "reason"] { required(f) }
        for f in ["action", "reason", "reportingInstance"] {
            if let s = event[f]?.stringValue, s.count > 128 {
                causes.append(.init(type: "FieldValueTooLong", message: "Too long: may not be more than 128 bytes", field: f))
            }
        }
        if let note = event["note"]?.stringValue, note.utf8.count > 1024 {
            causes.append(.init(type: "FieldValueTooLong", message: "Too long: may not be more than 1024 bytes", field: "note"))
        }
        if let type = event["type"]?.stringValue, type != "Normal", type != "Warning" {
            causes.append(.init(
                type: "FieldValueInvalid", message: "Invalid value: \"\(type)\": has invalid value: \(type)", field: "type"))
        }
        for f in ["deprecatedSource", "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"] {
            if let v = event[f], v != .null, v != [:], v != .int(0), v != "" {
                causes.append(.init(type: "FieldValueForbidden", message: "Forbidden: needs to be unset", field: f))
            }
        }
        let ns = event[path: ["metadata", "namespace"]]?.stringValue ?? ""
        let regardingNS = event[path: ["regarding", "namespace"]]?.stringValue ?? ""
        if regardingNS.isEmpty {
            if ns != "default" && ns != "kube-system" {
                causes.append(.init(
                    type: "FieldValueInvalid",
                    message: "Invalid value: \"\(ns)\": does not match event.namespace", field: "metadata.namespace"))
            }
        } else if regardingNS != ns {
            causes.append(.init(
                type: "FieldValueInvalid", message: "Invalid value: \"\(ns)\": does not match event.namespace",
                field: "metadata.namespace"))
        }
        return causes
    }

    static func warningFields(_ warnings: [String]) -> [HTTPField] {
        warnings.map { w in
            let escaped = w.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return HTTPField(name: warningHeader, value: "299 - \"\(escaped)\"")
        }
    }

    func dryRun(_ rr: ResourceRequest, body: JSONValue? = nil) throws(APIStatus) -> Bool {
        var values: [String] = []
        if let q = rr.query["dryRun"], !q.isEmpty { values.append(q) }
        for v in body?["dryRun"]?.arrayValue ?? [] { if let s = v.stringValue { values.append(s) } }
        for v in values where v != "All" {
            throw APIStatus.badRequest("dryRun: Unsupported value: \"\(v)\": supported values: \"All\"")
        }
        return !values.isEmpty
    }

    /// The object as served at the requested version (custom resources share storage across versions; events
    /// are converted between core/v1 and events.k8s.io/v1).
    static func served(_ object: JSONValue, _ info: ResourceInfo) -> JSONValue {
        if EventConversion.isEvent(info.descriptor) { return EventConversion.view(object, as: info.descriptor) }
        guard info.isCustom else { return object }
        var o = object
        o["apiVersion"] = .string(info.descriptor.apiVersion)
        return o
    }

    func output(_ object: JSONValue, _ rr: ResourceRequest, status: HTTPResponse.Status = .ok,
        warnings: [String] = []) -> Response
    {
        let served = Self.served(object, rr.info)
        if MediaNegotiation.wantsTable(rr.accept), rr.subresource == nil {
            let rv = object[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
            return Self.json(
                table([served], rr, resourceVersion: rv), status: status,
                contentType: "application/json;as=Table;v=v1;g=meta.k8s.io", headers: Self.warningFields(warnings))
        }
        return Self.json(served, status: status, headers: Self.warningFields(warnings))
    }

    func table(_ objects: [JSONValue], _ rr: ResourceRequest, resourceVersion: String) -> JSONValue {
        TableRenderer.table(
            resource: rr.info.descriptor, printerColumns: rr.info.isCustom ? (rr.info.printerColumns ?? .array([])) : JSONValue?.none,
            objects: objects, resourceVersion: resourceVersion,
            includeObject: rr.query["includeObject"] ?? "Metadata", now: Date())
    }
}

// MARK: - Selectors

/// Label and field selectors of a list or watch request.
struct ObjectFilter: Sendable {
    var label: LabelSelector?
    var field: FieldSelector?
    var info: ResourceInfo

    init(_ rr: ResourceRequest) throws(APIStatus) {
        info = rr.info
        if let text = rr.query["labelSelector"], !text.trimmingCharacters(in: .whitespaces).isEmpty {
            do { label = try LabelSelector(parsing: text) } catch {
                throw APIStatus.badRequest("unable to parse requirement: \(error.message)")
            }
        }
        if let text = rr.query["fieldSelector"], !text.trimmingCharacters(in: .whitespaces).isEmpty {
            let parsed: FieldSelector
            do { parsed = try FieldSelector(parsing: text) } catch {
                throw APIStatus.badRequest("invalid field selector: \(error.message)")
            }
            let allowed = Set(["metadata.name", "metadata.namespace"] + rr.info.selectableFields)
            for r in parsed.requirements where !allowed.contains(r.field) {
                throw APIStatus.badRequest("field label not supported: \(r.field)")
            }
            field = parsed
        }
    }

    var isEmpty: Bool { label == nil && field == nil }

    func matches(_ object: JSONValue) -> Bool {
        if let label, !label.matches(object.labels) { return false }
        if let field {
            if EventConversion.isEvent(info.descriptor) {
                return field.matches { label in
                    EventConversion.selectorValue(object, label: label, servedAs: info.descriptor)
                }
            }
            return field.matches { path in ObjectFieldPath.selectorValue(object, path) }
        }
        return true
    }
}

// MARK: - Verbs

extension APIHandler {
    static func listOptionsInvalid(_ field: String, _ message: String, type: String = "FieldValueForbidden") -> APIStatus {
        APIStatus(
            code: 422, reason: "Invalid", message: "ListOptions.meta.k8s.io \"\" is invalid: \(field): \(message)",
            group: "meta.k8s.io", kind: "ListOptions", causes: [.init(type: type, message: message, field: field)])
    }

    struct ContinueToken {
        var resourceVersion: Int64
        var after: String

        var encoded: String {
            Data(JSONValue.object(["rv": .int(resourceVersion), "start": .string(after)]).jsonBytes)
                .base64EncodedString()
        }

        init(resourceVersion: Int64, after: String) {
            self.resourceVersion = resourceVersion
            self.after = after
        }

        init(decoding text: String) throws(APIStatus) {
            guard let data = Data(base64Encoded: text), let json = try? JSONValue.parse(Array(data)),
                let rv = json["rv"]?.intValue, let start = json["start"]?.stringValue
            else { throw APIStatus.badRequest("continue key is not valid: incorrect encoded start resourceVersion") }
            resourceVersion = rv
            after = start
        }
    }

    func list(_ rr: ResourceRequest) async throws -> Response {
        let rv = rr.query["resourceVersion"] ?? ""
        let match = rr.query["resourceVersionMatch"] ?? ""
        if rr.query.bool("sendInitialEvents") != nil {
            throw Self.listOptionsInvalid("sendInitialEvents", "Forbidden: sendInitialEvents is forbidden for list")
        }
        if !match.isEmpty {
            guard match == "NotOlderThan" || match == "Exact" else {
                throw Self.listOptionsInvalid(
                    "resourceVersionMatch",
                    "Unsupported value: \"\(match)\": supported values: \"Exact\", \"NotOlderThan\"",
                    type: "FieldValueNotSupported")
            }
            if rv.isEmpty {
                throw Self.listOptionsInvalid(
                    "resourceVersionMatch", "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided")
            }
            if match == "Exact" && rv == "0" {
                throw Self.listOptionsInvalid(
                    "resourceVersionMatch", "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")
            }
        }
        if !rv.isEmpty, Int64(rv) == nil {
            throw APIStatus.badRequest("invalid resource version \"\(rv)\"")
        }
        let filter = try ObjectFilter(rr)
        let limit = try rr.query.int("limit") ?? 0
        var token: ContinueToken?
        if let c = rr.query["continue"], !c.isEmpty {
            let t = try ContinueToken(decoding: c)
            if t.resourceVersion < (await storage.oldestWatchableResourceVersion) {
                throw APIStatus.gone(
                    "The provided continue parameter is too old to display a consistent list result. You can start a "
                        + "new list without the continue parameter, or use the continue token in this response to "
                        + "retrieve the remainder of the results. Continuing with the provided token results in an "
                        + "inconsistent list - objects that were created, modified, or deleted between the time the "
                        + "first chunk was returned and now may show up in the list.")
            }
            token = t
        }
        let (all, current) = await storage.list(key: rr.info.key, namespace: rr.namespace)
        if match == "Exact", let want = Int64(rv), want != current {
            if want > current {
                throw APIStatus(code: 504, reason: "Timeout", message: "Too large resource version: \(want), current: \(current)",
                    retryAfterSeconds: 1)
            }
            throw APIStatus.gone("too old resource version: \(want) (\(current))")
        }
        var items = all.filter(filter.matches)
        if let token {
            items = items.filter { Self.sortKey($0) > token.after }
        }
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(token?.resourceVersion ?? current))]
        if limit > 0, items.count > limit {
            let remaining = items.count - limit
            items = Array(items.prefix(limit))
            let next = ContinueToken(resourceVersion: token?.resourceVersion ?? current, after: Self.sortKey(items[limit - 1]))
            metadata["continue"] = .string(next.encoded)
            metadata["remainingItemCount"] = .int(Int64(remaining))
        }
        let served = items.map { Self.served($0, rr.info) }
        let listRV = metadata["resourceVersion"]?.stringValue ?? ""
        if MediaNegotiation.wantsTable(rr.accept) {
            var t = table(served, rr, resourceVersion: listRV)
            if let c = metadata["continue"] { t[path: ["metadata", "continue"]] = c }
            if let r = metadata["remainingItemCount"] { t[path: ["metadata", "remainingItemCount"]] = r }
            return Self.json(t, contentType: "application/json;as=Table;v=v1;g=meta.k8s.io")
        }
        return Self.json([
            "kind": .string(rr.info.listKind), "apiVersion": .string(rr.info.descriptor.apiVersion),
            "metadata": .object(metadata), "items": .array(served),
        ])
    }

    static func sortKey(_ object: JSONValue) -> String {
        ObjectStorage.storeName(
            object[path: ["metadata", "namespace"]]?.stringValue, object[path: ["metadata", "name"]]?.stringValue ?? "")
    }

    func current(_ rr: ResourceRequest) async throws(APIStatus) -> JSONValue {
        let name = rr.name ?? ""
        guard let object = await storage.get(rr.info.descriptor, namespace: rr.namespace, name: name) else {
            throw APIStatus.notFound(rr.info.descriptor, name: name)
        }
        return object
    }

    func get(_ rr: ResourceRequest) async throws -> Response {
        let object = try await current(rr)
        if rr.subresource == "scale" { return Self.json(try scale(of: object, rr)) }
        return output(object, rr)
    }

    func create(_ rr: ResourceRequest, body: [UInt8]) async throws -> Response {
        guard rr.name == nil, rr.subresource == nil else { throw APIStatus.methodNotAllowed() }
        var object = try decodeObject(body, contentType: rr.contentType)
        try admitIdentity(&object, rr, requireName: false)
        let dry = try dryRun(rr)
        let warnings = try admit(&object, rr)
        object[path: ["metadata", "resourceVersion"]] = nil
        let created = try await storage.create(rr.info.descriptor, object, dryRun: dry)
        return output(created, rr, status: .created, warnings: warnings)
    }

    func update(_ rr: ResourceRequest, body: [UInt8]) async throws -> Response {
        var object = try decodeObject(body, contentType: rr.contentType)
        let dry = try dryRun(rr)
        if rr.subresource == "scale" {
            let updated = try await writeScale(rr, scale: object, dryRun: dry)
            return Self.json(try scale(of: updated, rr))
        }
        try admitIdentity(&object, rr, requireName: true)
        var warnings: [String] = []
        if rr.subresource == "status" {
            var merged = try await current(rr)
            merged["status"] = object["status"]
            merged[path: ["metadata", "resourceVersion"]] = object[path: ["metadata", "resourceVersion"]]
            warnings = try admit(&merged, rr)
            object = merged
        } else {
            warnings = try admit(&object, rr)
            if EventConversion.isEventsV1(rr.info.descriptor) {
                try Self.checkEventUpdate(new: object, old: try await current(rr), rr)
            }
        }
        let updated = try await storage.update(
            rr.info.descriptor, object, subresource: rr.subresource, dryRun: dry,
            allowUnconditional: !rr.info.isCustom)
        return output(updated, rr, warnings: warnings)
    }

    func delete(_ rr: ResourceRequest, body: [UInt8]) async throws -> Response {
        var options: JSONValue = [:]
        if !body.isEmpty, let parsed = try? JSONValue.parse(body), parsed.objectValue != nil { options = parsed }
        let dry = try dryRun(rr, body: options)
        let name = rr.name ?? ""
        let (object, removed) = try await storage.delete(
            rr.info.descriptor, namespace: rr.namespace, name: name,
            preconditionUID: options[path: ["preconditions", "uid"]]?.stringValue,
            preconditionRV: options[path: ["preconditions", "resourceVersion"]]?.stringValue, dryRun: dry)
        if removed {
            var details: [String: JSONValue] = [
                "name": .string(name), "kind": .string(rr.info.descriptor.resource),
            ]
            if !rr.info.descriptor.group.isEmpty { details["group"] = .string(rr.info.descriptor.group) }
            if let uid = object[path: ["metadata", "uid"]] { details["uid"] = uid }
            return Self.json([
                "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success",
                "details": .object(details),
            ])
        }
        return Self.json(Self.served(object, rr.info))
    }

    func deleteCollection(_ rr: ResourceRequest, body: [UInt8]) async throws -> Response {
        var options: JSONValue = [:]
        if !body.isEmpty, let parsed = try? JSONValue.parse(body), parsed.objectValue != nil { options = parsed }
        let dry = try dryRun(rr, body: options)
        let filter = try ObjectFilter(rr)
        let (items, _) = await storage.list(key: rr.info.key, namespace: rr.namespace)
        var deleted: [JSONValue] = []
        for item in items where filter.matches(item) {
            let name = item[path: ["metadata", "name"]]?.stringValue ?? ""
            let ns = item[path: ["metadata", "namespace"]]?.stringValue
            if let (obj, _) = try? await storage.delete(
                rr.info.descriptor, namespace: ns, name: name, preconditionUID: nil, preconditionRV: nil, dryRun: dry)
            {
                deleted.append(Self.served(obj, rr.info))
            }
        }
        return Self.json([
            "kind": .string(rr.info.listKind), "apiVersion": .string(rr.info.descriptor.apiVersion),
            "metadata": ["resourceVersion": .string(String(await storage.resourceVersion))], "items": .array(deleted),
        ])
    }

    // MARK: Scale

    func scale(of object: JSONValue, _ rr: ResourceRequest) throws(APIStatus) -> JSONValue {
        guard let paths = rr.info.scale else { throw Self.notFoundStatus }
        let spec = ObjectFieldPath.get(object, paths.specReplicasPath)?.intValue ?? 0
        let statusReplicas = ObjectFieldPath.get(object, paths.statusReplicasPath)?.intValue ?? 0
        var status: [String: JSONValue] = ["replicas": .int(statusReplicas)]
        if let selPath = paths.labelSelectorPath, let sel = ObjectFieldPath.get(object, selPath)?.stringValue {
            status["selector"] = .string(sel)
        } else if !rr.info.isCustom, let match = object[path: ["spec", "selector", "matchLabels"]]?.objectValue {
            status["selector"] = .string(match.keys.sorted().map { "\($0)=\(match[$0]?.stringValue ?? "")" }
                .joined(separator: ","))
        }
        var metadata: [String: JSONValue] = [:]
        for k in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let v = object[path: ["metadata", k]] { metadata[k] = v }
        }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(metadata),
            "spec": ["replicas": .int(spec)], "status": .object(status),
        ]
    }

    /// Writes `spec.replicas` of a Scale into the parent object (RV of the Scale is a precondition).
    func writeScale(_ rr: ResourceRequest, scale: JSONValue, dryRun: Bool) async throws(APIStatus) -> JSONValue {
        guard let paths = rr.info.scale else { throw Self.notFoundStatus }
        guard let replicas = scale[path: ["spec", "replicas"]]?.intValue, replicas >= 0 else {
            throw APIStatus(
                code: 422, reason: "Invalid",
                message: "Scale.autoscaling \"\(rr.name ?? "")\" is invalid: spec.replicas: Invalid value: "
                    + "\(scale[path: ["spec", "replicas"]]?.serialized() ?? "null"): must be greater than or equal to 0",
                name: rr.name, group: "autoscaling", kind: "Scale",
                causes: [.init(type: "FieldValueInvalid", message: "must be greater than or equal to 0", field: "spec.replicas")])
        }
        var object = try await current(rr)
        if let rv = scale[path: ["metadata", "resourceVersion"]]?.stringValue, !rv.isEmpty {
            object[path: ["metadata", "resourceVersion"]] = .string(rv)
        }
        ObjectFieldPath.set(&object, paths.specReplicasPath, .int(replicas))
        return try await storage.update(
            rr.info.descriptor, object, subresource: nil, dryRun: dryRun, allowUnconditional: true)
    }
}
