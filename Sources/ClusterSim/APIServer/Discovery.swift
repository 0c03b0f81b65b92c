import Crypto
import Foundation
import KubeCore

/// Discovery documents (aggregated v2 and legacy) and the minimal OpenAPI v3 documents kubectl needs.
enum Discovery {
    static let aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    static func subresourceKind(_ sub: String, of info: ResourceInfo) -> JSONValue {
        switch sub {
        case "scale": return ["group": "autoscaling", "version": "v1", "kind": "Scale"]
        case "proxy":
            return ["group": "", "version": "v1", "kind": .string(info.descriptor.kind + "ProxyOptions")]
        default:
            return [
                "group": .string(info.descriptor.group), "version": .string(info.descriptor.version),
                "kind": .string(info.descriptor.kind),
            ]
        }
    }

    static func subresourceVerbs(_ sub: String) -> [String] {
        switch sub {
        case "log": return ["get"]
        case "proxy": return ["create", "delete", "get", "patch", "update"]
        default: return ["get", "patch", "update"]
        }
    }

    /// Aggregated discovery (`apidiscovery.k8s.io/v2`) for the core group (`/api`) or all others (`/apis`).
    static func aggregated(_ registry: ResourceRegistry, core: Bool) -> JSONValue {
        var items: [JSONValue] = []
        for (group, versions) in registry.groupVersions where group.isEmpty == core {
            let versionDocs: [JSONValue] = versions.map { version in
                let resources = registry.all.filter {
                    $0.descriptor.group == group && $0.descriptor.version == version
                }.map { info -> JSONValue in
                    var r: [String: JSONValue] = [
                        "resource": .string(info.descriptor.resource),
                        "singularResource": .string(info.singular),
                        "scope": .string(info.descriptor.namespaced ? "Namespaced" : "Cluster"),
                        "responseKind": [
                            "group": .string(group), "version": .string(version), "kind": .string(info.descriptor.kind),
                        ],
                        "verbs": .array(info.verbs.map { .string($0) }),
                    ]
                    if !info.shortNames.isEmpty { r["shortNames"] = .array(info.shortNames.map { .string($0) }) }
                    if !info.categories.isEmpty { r["categories"] = .array(info.categories.map { .string($0) }) }
                    if !info.subresources.isEmpty {
                        r["subresources"] = .array(
                            info.subresources.sorted().map { sub in
                                [
                                    "subresource": .string(sub), "responseKind": subresourceKind(sub, of: info),
                                    "verbs": .array(subresourceVerbs(sub).map { .string($0) }),
                                ]
                            })
                    }
                    return .object(r)
                }
                return ["version": .string(version), "freshness": "Current", "resources": .array(resources)]
            }
            items.append(["metadata": ["name": .string(group)], "versions": .array(versionDocs)])
        }
        return [
            "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:],
            "items": .array(items),
        ]
    }

    static func apiVersions(serverAddress: String) -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    static func group(_ group: String, versions: [String]) -> JSONValue {
        let vs: [JSONValue] = versions.map { ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)] }
        return [
            "name": .string(group), "versions": .array(vs), "preferredVersion": vs.first ?? .null,
        ]
    }

    static func groupList(_ registry: ResourceRegistry) -> JSONValue {
        let groups = registry.groupVersions.filter { !$0.group.isEmpty }.map { group($0.group, versions: $0.versions) }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    static func groupDocument(_ registry: ResourceRegistry, group name: String) -> JSONValue? {
        guard let entry = registry.groupVersions.first(where: { $0.group == name && !name.isEmpty }) else { return nil }
        var doc = group(name, versions: entry.versions)
        doc["kind"] = "APIGroup"
        doc["apiVersion"] = "v1"
        return doc
    }

    static func resourceList(_ registry: ResourceRegistry, group: String, version: String) -> JSONValue? {
        let infos = registry.all.filter { $0.descriptor.group == group && $0.descriptor.version == version }
        guard !infos.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for info in infos {
            var r: [String: JSONValue] = [
                "name": .string(info.descriptor.resource), "singularName": .string(info.singular),
                "namespaced": .bool(info.descriptor.namespaced), "kind": .string(info.descriptor.kind),
                "verbs": .array(info.verbs.map { .string($0) }),
            ]
            if !info.shortNames.isEmpty { r["shortNames"] = .array(info.shortNames.map { .string($0) }) }
            if !info.categories.isEmpty { r["categories"] = .array(info.categories.map { .string($0) }) }
            resources.append(.object(r))
            for sub in info.subresources.sorted() {
                let kind = subresourceKind(sub, of: info)
                var s: [String: JSONValue] = [
                    "name": .string("\(info.descriptor.resource)/\(sub)"), "singularName": "",
                    "namespaced": .bool(info.descriptor.namespaced), "kind": kind["kind"] ?? .null,
                    "verbs": .array(subresourceVerbs(sub).map { .string($0) }),
                ]
                if sub == "scale" {
                    s["group"] = "autoscaling"
                    s["version"] = "v1"
                }
                resources.append(.object(s))
            }
        }
        let gv = group.isEmpty ? version : "\(group)/\(version)"
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(gv), "resources": .array(resources)]
    }

    // MARK: - OpenAPI v3

    /// `api/v1` or `apis/G/V`.
    static func openAPIKey(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    /// One GV's document: a PATCH operation per resource advertising `fieldValidation`, without
    /// strategic-merge-patch in the request body (so kubectl uses its compiled-in types for SMP).
    static func openAPIDocument(_ registry: ResourceRegistry, group: String, version: String) -> JSONValue? {
        let infos = registry.all.filter { $0.descriptor.group == group && $0.descriptor.version == version }
        guard !infos.isEmpty else { return nil }
        var paths: [String: JSONValue] = [:]
        let parameters: JSONValue = .array(
            ["dryRun", "fieldManager", "fieldValidation", "force"].map {
                ["name": .string($0), "in": "query", "schema": ["type": $0 == "force" ? "boolean" : "string"]]
            })
        let content: JSONValue = [
            "application/json-patch+json": ["schema": ["type": "object"]],
            "application/merge-patch+json": ["schema": ["type": "object"]],
            "application/apply-patch+yaml": ["schema": ["type": "object"]],
        ]
        for info in infos {
            let d = info.descriptor
            let base = d.groupVersionPath + (d.namespaced ? "/namespaces/{namespace}" : "")
            let gvk: JSONValue = ["group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind)]
            let op: JSONValue = [
                "x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch",
                "parameters": parameters, "requestBody": ["content": content],
                "responses": ["200": ["description": "OK"], "201": ["description": "Created"]],
            ]
            paths["\(base)/\(d.resource)/{name}"] = ["patch": op]
            for sub in info.subresources where sub == "status" || sub == "scale" {
                var subOp = op
                if sub == "scale" {
                    subOp["x-kubernetes-group-version-kind"] = ["group": "autoscaling", "version": "v1", "kind": "Scale"]
                }
                paths["\(base)/\(d.resource)/{name}/\(sub)"] = ["patch": subOp]
            }
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.4"],
            "components": ["schemas": [:]], "paths": .object(paths),
        ]
    }

    /// Content hash of a GV document (changes whenever the document does).
    static func hash(_ doc: JSONValue) -> String {
        SHA256.hash(data: Data(doc.jsonBytes)).map { String(format: "%02X", $0) }.joined()
    }

    static func openAPIRoot(_ registry: ResourceRegistry) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for (group, versions) in registry.groupVersions {
            for version in versions {
                guard let doc = openAPIDocument(registry, group: group, version: version) else { continue }
                let key = openAPIKey(group: group, version: version)
                paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash(doc))")]
            }
        }
        return ["paths": .object(paths)]
    }
}
