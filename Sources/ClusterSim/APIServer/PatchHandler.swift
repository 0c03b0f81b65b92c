import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import KubeCore

extension APIHandler {
    static let crPatchTypesMessage =
        "the body of the request was in an unknown format - accepted media types include: "
        + "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    static let builtinPatchTypesMessage =
        "the body of the request was in an unknown format - accepted media types include: "
        + "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
        + "application/strategic-merge-patch+json"

    enum PatchType: String {
        case json = "application/json-patch+json"
        case merge = "application/merge-patch+json"
        case strategic = "application/strategic-merge-patch+json"
        case apply = "application/apply-patch+yaml"
    }

    func patch(_ rr: ResourceRequest, body: [UInt8]) async throws -> Response {
        let media = Self.mediaType(rr.contentType)
        if media == "application/vnd.kubernetes.protobuf" { throw APIStatus.unsupportedMediaType(Self.protobufMessage) }
        guard let type = PatchType(rawValue: media) else {
            throw APIStatus.unsupportedMediaType(rr.info.isCustom ? Self.crPatchTypesMessage : Self.builtinPatchTypesMessage)
        }
        // Scale is a built-in type, so strategic patches are fine on any /scale.
        if type == .strategic, rr.info.isCustom, rr.subresource != "scale" {
            throw APIStatus.unsupportedMediaType(Self.crPatchTypesMessage)
        }
        let dry = try dryRun(rr)
        if type == .apply { return try await apply(rr, body: body, dryRun: dry) }
        let patch: JSONValue
        do { patch = try JSONValue.parse(body) } catch {
            throw APIStatus.badRequest("error decoding patch: \(error)")
        }
        if type == .json, patch.arrayValue == nil {
            throw APIStatus.badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        }
        if type != .json, patch.objectValue == nil {
            throw APIStatus.badRequest("the patch must be a JSON object")
        }
        var patchHasRV = patch[path: ["metadata", "resourceVersion"]] != nil
        if type == .json {
            patchHasRV = (patch.arrayValue ?? []).contains { $0["path"]?.stringValue == "/metadata/resourceVersion" }
        }
        var attempt = 0
        while true {
            attempt += 1
            let result = await patchOnce(rr, type: type, patch: patch, dryRun: dry)
            switch result {
            case .success(let response):
                return response
            case .failure(let status):
                if status.reason == "Conflict", !patchHasRV, attempt < 5 { continue }
                throw status
            }
        }
    }

    func patchOnce(_ rr: ResourceRequest, type: PatchType, patch: JSONValue, dryRun dry: Bool) async
        -> Result<Response, APIStatus>
    {
        do {
            let live = try await current(rr)
            if rr.subresource == "scale" {
                let patched = try applyPatch(type, patch, to: try scale(of: live, rr), kind: "Scale")
                let updated = try await writeScale(rr, scale: patched, dryRun: dry)
                return .success(Self.json(try scale(of: updated, rr)))
            }
            var patched = try applyPatch(type, patch, to: live, kind: rr.info.descriptor.kind)
            try checkIdentityUnchanged(patched, live, rr)
            let warnings = try admit(&patched, rr)
            if EventConversion.isEventsV1(rr.info.descriptor) {
                try Self.checkEventUpdate(new: patched, old: live, rr)
            }
            let updated = try await storage.update(
                rr.info.descriptor, patched, subresource: rr.subresource, dryRun: dry, allowUnconditional: true)
            return .success(output(updated, rr, warnings: warnings))
        } catch {
            return .failure(error)
        }
    }

    func applyPatch(_ type: PatchType, _ patch: JSONValue, to document: JSONValue, kind: String) throws(APIStatus)
        -> JSONValue
    {
        do {
            switch type {
            case .json: return try JSONPatch.apply(patch, to: document)
            case .merge: return MergePatch.apply(patch, to: document)
            case .strategic:
                if kind == "Scale" { return MergePatch.apply(patch, to: document) }
                return try StrategicMergePatch.apply(patch, to: document, kind: kind)
            case .apply: return document
            }
        } catch {
            throw APIStatus(code: 422, reason: "Invalid", message: error.message)
        }
    }

    func checkIdentityUnchanged(_ patched: JSONValue, _ live: JSONValue, _ rr: ResourceRequest) throws(APIStatus) {
        let name = patched[path: ["metadata", "name"]]?.stringValue ?? ""
        if name != (rr.name ?? "") {
            throw APIStatus.badRequest(
                "the name of the object (\(name)) does not match the name on the URL (\(rr.name ?? ""))")
        }
        if rr.info.descriptor.namespaced,
            patched[path: ["metadata", "namespace"]]?.stringValue != live[path: ["metadata", "namespace"]]?.stringValue
        {
            throw APIStatus.badRequest(
                "the namespace of the provided object does not match the namespace sent on the request")
        }
    }

    /// Server-side apply: `fieldManager` required; creates when absent (201); 409 with causes on conflicts.
    func apply(_ rr: ResourceRequest, body: [UInt8], dryRun dry: Bool) async throws -> Response {
        guard let manager = rr.query["fieldManager"], !manager.isEmpty else {
            throw APIStatus(
                code: 400, reason: "BadRequest",
                message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                causes: [.init(type: "FieldValueRequired", message: "Required value: is required for apply patch",
                    field: "fieldManager")])
        }
        guard rr.subresource == nil || rr.subresource == "status" else {
            throw APIStatus.unsupportedMediaType(
                "apply patches are not supported on the \(rr.subresource ?? "") subresource of this emulated server")
        }
        let force = rr.query.bool("force") ?? false
        var applied: JSONValue
        do {
            if let json = try? JSONValue.parse(body) {
                applied = json
            } else {
                applied = try YAMLBody.parse(String(decoding: body, as: UTF8.self))
            }
        } catch {
            throw APIStatus.badRequest("error decoding YAML: \(error)")
        }
        guard applied.objectValue != nil else { throw APIStatus.badRequest("the apply patch must be an object") }
        let d = rr.info.descriptor
        if let apiVersion = applied["apiVersion"]?.stringValue, apiVersion != d.apiVersion {
            throw APIStatus.badRequest(
                "the API version in the data (\(apiVersion)) does not match the expected API version (\(d.apiVersion))")
        }
        if let kind = applied["kind"]?.stringValue, kind != d.kind {
            throw APIStatus.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(d.kind))")
        }
        if applied["apiVersion"] == nil || applied["kind"] == nil {
            throw APIStatus.badRequest("apiVersion and kind must be set in an apply patch")
        }
        try admitIdentity(&applied, rr, requireName: true)
        var attempt = 0
        while true {
            attempt += 1
            let result = await applyOnce(rr, applied: applied, manager: manager, force: force, dryRun: dry)
            switch result {
            case .success(let response):
                return response
            case .failure(let status):
                if status.reason == "Conflict" && status.causes.isEmpty || status.reason == "AlreadyExists",
                    attempt < 5
                {
                    continue
                }
                throw status
            }
        }
    }

    func applyOnce(_ rr: ResourceRequest, applied: JSONValue, manager: String, force: Bool, dryRun dry: Bool) async
        -> Result<Response, APIStatus>
    {
        let d = rr.info.descriptor
        do {
            let live = await storage.get(d, namespace: rr.namespace, name: rr.name ?? "")
            if live == nil, rr.subresource == "status" { throw APIStatus.notFound(d, name: rr.name ?? "") }
            var result: JSONValue
            do {
                result = try ServerSideApply.apply(applied, to: live, manager: manager, force: force, now: Date())
            } catch let conflicts as ServerSideApply.Conflicts {
                throw Self.applyConflict(conflicts.conflicts, rr)
            } catch let error as PatchError {
                throw APIStatus(code: 422, reason: "Invalid", message: error.message)
            } catch {
                throw APIStatus(code: 422, reason: "Invalid", message: String(describing: error))
            }
            let warnings = try admit(&result, rr)
            if let live {
                result[path: ["metadata", "resourceVersion"]] = live[path: ["metadata", "resourceVersion"]]
                let updated = try await storage.update(
                    d, result, subresource: rr.subresource, dryRun: dry, allowUnconditional: true)
                return .success(output(updated, rr, warnings: warnings))
            }
            result[path: ["metadata", "resourceVersion"]] = nil
            let created = try await storage.create(d, result, dryRun: dry)
            return .success(output(created, rr, status: .created, warnings: warnings))
        } catch let status as APIStatus {
            return .failure(status)
        } catch {
            return .failure(.internalError(String(describing: error)))
        }
    }

    static func applyConflict(_ conflicts: [ServerSideApply.Conflict], _ rr: ResourceRequest) -> APIStatus {
        let apiVersion = rr.info.descriptor.apiVersion
        let message: String
        if conflicts.count == 1, let c = conflicts.first {
            message = "Apply failed with 1 conflict: conflict with \"\(c.manager)\" using \(apiVersion): \(c.field)"
        } else {
            let byManager = Dictionary(grouping: conflicts, by: \.manager)
            let parts = byManager.keys.sorted().map { m in
                "conflicts with \"\(m)\" using \(apiVersion):\n"
                    + (byManager[m] ?? []).map { "- \($0.field)" }.joined(separator: "\n")
            }
            message = "Apply failed with \(conflicts.count) conflicts: " + parts.joined(separator: "\n")
        }
        return APIStatus(
            code: 409, reason: "Conflict", message: message, name: rr.name, group: rr.info.descriptor.group,
            kind: rr.info.descriptor.resource,
            causes: conflicts.map {
                .init(type: "FieldManagerConflict", message: "conflict with \"\($0.manager)\" using \(apiVersion)",
                    field: $0.field)
            })
    }
}
