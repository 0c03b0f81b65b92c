/// Identifies one kind of API resource: where it lives on the REST path and what it is called.
///
/// `group` is empty for the core group (`/api/v1`), otherwise the path is `/apis/<group>/<version>`.
public struct ResourceDescriptor: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    /// The plural resource name used in paths, e.g. `deployments`.
    public var resource: String
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, resource: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `apps/v1`, or `v1` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `deployments.apps`, or `pods` for the core group: the name used in API error messages.
    public var qualifiedResource: String { group.isEmpty ? resource : "\(resource).\(group)" }

    /// `/api/v1` or `/apis/<group>/<version>`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection path, namespaced when a namespace is given and the resource is namespaced.
    public func collectionPath(namespace: String?) -> String {
        if namespaced, let namespace, !namespace.isEmpty {
            return "\(groupVersionPath)/namespaces/\(KubePath.escape(namespace))/\(resource)"
        }
        return "\(groupVersionPath)/\(resource)"
    }

    /// The path of one object, optionally of one of its subresources (`status`, `scale`, `log`, ...).
    public func objectPath(namespace: String?, name: String, subresource: String? = nil) -> String {
        var path = "\(collectionPath(namespace: namespace))/\(KubePath.escape(name))"
        if let subresource { path += "/\(subresource)" }
        return path
    }

    public var description: String { "\(qualifiedResource)/\(version)" }
}

extension ResourceDescriptor {
    public static let namespaces = ResourceDescriptor(
        group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false)
    public static let pods = ResourceDescriptor(group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true)
    public static let services = ResourceDescriptor(
        group: "", version: "v1", resource: "services", kind: "Service", namespaced: true)
    public static let configMaps = ResourceDescriptor(
        group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true)
    public static let secrets = ResourceDescriptor(
        group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true)
    public static let coreEvents = ResourceDescriptor(
        group: "", version: "v1", resource: "events", kind: "Event", namespaced: true)
    public static let serviceAccounts = ResourceDescriptor(
        group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true)
    public static let endpoints = ResourceDescriptor(
        group: "", version: "v1", resource: "endpoints", kind: "Endpoints", namespaced: true)
    public static let nodes = ResourceDescriptor(group: "", version: "v1", resource: "nodes", kind: "Node", namespaced: false)
    public static let deployments = ResourceDescriptor(
        group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true)
    public static let replicaSets = ResourceDescriptor(
        group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet", namespaced: true)
    public static let events = ResourceDescriptor(
        group: "events.k8s.io", version: "v1", resource: "events", kind: "Event", namespaced: true)
    public static let leases = ResourceDescriptor(
        group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true)
    public static let customResourceDefinitions = ResourceDescriptor(
        group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions",
        kind: "CustomResourceDefinition", namespaced: false)
    public static let httpRoutes = ResourceDescriptor(
        group: "gateway.networking.k8s.io", version: "v1", resource: "httproutes", kind: "HTTPRoute",
        namespaced: true)
    /// Gateway API Inference Extension `inference.networking.k8s.io/v1 InferencePool`.
    public static let inferencePools = ResourceDescriptor(
        group: "inference.networking.k8s.io", version: "v1", resource: "inferencepools", kind: "InferencePool",
        namespaced: true)
    public static let roles = ResourceDescriptor(
        group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", kind: "Role", namespaced: true)
    public static let roleBindings = ResourceDescriptor(
        group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", kind: "RoleBinding",
        namespaced: true)
    public static let clusterRoles = ResourceDescriptor(
        group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", kind: "ClusterRole",
        namespaced: false)
    public static let clusterRoleBindings = ResourceDescriptor(
        group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings",
        kind: "ClusterRoleBinding", namespaced: false)
}

/// Escaping of path segments and query values the way Go's `url` package does for Kubernetes requests.
public enum KubePath {
    static let unreservedPath: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:@!$&'()*+,;=".utf8))
    static let unreservedQuery: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    /// Escapes one path segment (a name or namespace).
    public static func escape(_ segment: String) -> String { percentEncode(segment, keep: unreservedPath) }

    /// Escapes a query key or value (`=` becomes `%3D`, as kubectl sends label selectors).
    public static func escapeQuery(_ value: String) -> String { percentEncode(value, keep: unreservedQuery) }

    static func percentEncode(_ s: String, keep: Set<UInt8>) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in s.utf8 {
            if keep.contains(b) {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 0xF)]))
            }
        }
        return out
    }

    /// Decodes `%XX` escapes (and `+` as space when `plusAsSpace`); invalid escapes are kept literally.
    public static func unescape(_ s: String, plusAsSpace: Bool = false) -> String {
        var bytes: [UInt8] = []
        let input = Array(s.utf8)
        var i = 0
        while i < input.count {
            let b = input[i]
            if b == UInt8(ascii: "%"), i + 2 < input.count, let h = hexValue(input[i + 1]), let l = hexValue(input[i + 2]) {
                bytes.append(h << 4 | l)
                i += 3
            } else if plusAsSpace, b == UInt8(ascii: "+") {
                bytes.append(0x20)
                i += 1
            } else {
                bytes.append(b)
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
