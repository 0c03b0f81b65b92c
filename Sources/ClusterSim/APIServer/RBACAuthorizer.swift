import Foundation
import KubeCore

/// An authenticated user as the authorizer sees it: a name and its groups.
public struct RBACUser: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var groups: [String]

    public init(name: String, groups: [String]) {
        self.name = name
        self.groups = groups
    }

    /// The cluster administrator of the configured tokens and of the no-token mode (`system:masters`).
    public static let admin = RBACUser(name: "kubernetes-admin", groups: ["system:masters", "system:authenticated"])

    /// The user of a service-account token: `system:serviceaccount:NS:NAME` in the groups
    /// `system:serviceaccounts`, `system:serviceaccounts:NS` and `system:authenticated`.
    public static func serviceAccount(namespace: String, name: String) -> RBACUser {
        RBACUser(
            name: "system:serviceaccount:\(namespace):\(name)",
            groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"])
    }

    /// `(namespace, name)` when this is a service-account user.
    public var serviceAccount: (namespace: String, name: String)? {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount", !parts[2].isEmpty,
            !parts[3].isEmpty
        else { return nil }
        return (String(parts[2]), String(parts[3]))
    }

    /// Members of `system:masters` bypass authorization, as with kube-apiserver.
    public var isSuperUser: Bool { groups.contains("system:masters") }

    public var description: String { name }
}

/// What one request asks for (kube-apiserver's `authorizer.Attributes`).
public struct RBACRequestAttributes: Sendable, Hashable {
    public var verb: String
    /// False for non-resource URLs (`/version`, `/apis`, `/openapi/v3`, …).
    public var isResourceRequest: Bool
    /// The URL path (non-resource requests).
    public var path: String
    public var apiGroup: String
    public var resource: String
    public var subresource: String
    public var name: String
    public var namespace: String

    /// A resource request: `verb` is one of get, list, watch, create, update, patch, delete, deletecollection.
    public static func resource(
        verb: String, group: String, resource: String, subresource: String = "", name: String = "",
        namespace: String = ""
    ) -> RBACRequestAttributes {
        RBACRequestAttributes(
            verb: verb, isResourceRequest: true, path: "", apiGroup: group, resource: resource,
            subresource: subresource, name: name, namespace: namespace)
    }

    /// A non-resource request: `verb` is the lower-case HTTP method (get, post, put, …).
    public static func nonResource(verb: String, path: String) -> RBACRequestAttributes {
        RBACRequestAttributes(
            verb: verb, isResourceRequest: false, path: path, apiGroup: "", resource: "", subresource: "", name: "",
            namespace: "")
    }

    /// `resource` or `resource/subresource`, as RBAC rules name it.
    public var combinedResource: String { subresource.isEmpty ? resource : "\(resource)/\(subresource)" }
}

/// One rule of a Role or ClusterRole.
public struct RBACPolicyRule: Sendable, Hashable {
    public var verbs: [String]
    public var apiGroups: [String]
    public var resources: [String]
    public var resourceNames: [String]
    public var nonResourceURLs: [String]

    public init(
        verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [],
        nonResourceURLs: [String] = []
    ) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    /// Reads a `rules[]` item; fields that are missing or not string arrays count as empty.
    public init(json: JSONValue) {
        func strings(_ key: String) -> [String] { (json[key]?.arrayValue ?? []).compactMap(\.stringValue) }
        self.init(
            verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"),
            resourceNames: strings("resourceNames"), nonResourceURLs: strings("nonResourceURLs"))
    }

    /// Whether this rule allows the request (RBAC's `RuleAllows`).
    public func allows(_ request: RBACRequestAttributes) -> Bool {
        guard verbs.contains("*") || verbs.contains(request.verb) else { return false }
        if !request.isResourceRequest {
            return nonResourceURLs.contains { url in
                url == "*" || url == request.path || (url.hasSuffix("*") && request.path.hasPrefix(url.dropLast()))
            }
        }
        guard apiGroups.contains("*") || apiGroups.contains(request.apiGroup) else { return false }
        guard matchesResource(request) else { return false }
        return resourceNames.isEmpty || (!request.name.isEmpty && resourceNames.contains(request.name))
    }

    private func matchesResource(_ request: RBACRequestAttributes) -> Bool {
        let combined = request.combinedResource
        for resource in resources {
            if resource == "*" || resource == combined { return true }
            if !request.subresource.isEmpty, resource == "*/\(request.subresource)" { return true }
        }
        return false
    }
}

/// A subject of a RoleBinding or ClusterRoleBinding.
public struct RBACSubject: Sendable, Hashable {
    public var kind: String
    public var name: String
    public var namespace: String

    public init(kind: String, name: String, namespace: String = "") {
        self.kind = kind
        self.name = name
        self.namespace = namespace
    }

    /// Whether the subject names `user`; a ServiceAccount without a namespace means the binding's namespace.
    public func applies(to user: RBACUser, bindingNamespace: String) -> Bool {
        switch kind {
        case "User": return name == user.name
        case "Group": return user.groups.contains(name)
        case "ServiceAccount":
            let namespace = self.namespace.isEmpty ? bindingNamespace : self.namespace
            guard !namespace.isEmpty else { return false }
            return user.name == "system:serviceaccount:\(namespace):\(name)"
        default: return false
        }
    }
}

/// A RoleBinding (namespace set) or ClusterRoleBinding (namespace empty).
public struct RBACBinding: Sendable, Hashable {
    public var name: String
    public var namespace: String
    /// `Role` or `ClusterRole`.
    public var roleKind: String
    public var roleName: String
    public var subjects: [RBACSubject]

    public init(name: String, namespace: String, roleKind: String, roleName: String, subjects: [RBACSubject]) {
        self.name = name
        self.namespace = namespace
        self.roleKind = roleKind
        self.roleName = roleName
        self.subjects = subjects
    }

    /// Reads a stored binding object; nil when it has no usable `roleRef`.
    public init?(json: JSONValue) {
        guard let kind = json[path: ["roleRef", "kind"]]?.stringValue,
            let roleName = json[path: ["roleRef", "name"]]?.stringValue
        else { return nil }
        let subjects = (json["subjects"]?.arrayValue ?? []).compactMap { subject -> RBACSubject? in
            guard let kind = subject["kind"]?.stringValue, let name = subject["name"]?.stringValue else { return nil }
            return RBACSubject(kind: kind, name: name, namespace: subject["namespace"]?.stringValue ?? "")
        }
        self.init(
            name: json[path: ["metadata", "name"]]?.stringValue ?? "",
            namespace: json[path: ["metadata", "namespace"]]?.stringValue ?? "", roleKind: kind, roleName: roleName,
            subjects: subjects)
    }
}

/// The RBAC objects in effect: rules of Roles (by namespace and name), of ClusterRoles (by name), and the bindings.
public struct RBACPolicy: Sendable {
    public var roles: [String: [String: [RBACPolicyRule]]]
    public var clusterRoles: [String: [RBACPolicyRule]]
    public var roleBindings: [RBACBinding]
    public var clusterRoleBindings: [RBACBinding]

    public init(
        roles: [String: [String: [RBACPolicyRule]]] = [:], clusterRoles: [String: [RBACPolicyRule]] = [:],
        roleBindings: [RBACBinding] = [], clusterRoleBindings: [RBACBinding] = []
    ) {
        self.roles = roles
        self.clusterRoles = clusterRoles
        self.roleBindings = roleBindings
        self.clusterRoleBindings = clusterRoleBindings
    }

    /// Builds the policy from stored Role, ClusterRole, RoleBinding and ClusterRoleBinding objects.
    public init(
        roles: [JSONValue], clusterRoles: [JSONValue], roleBindings: [JSONValue], clusterRoleBindings: [JSONValue]
    ) {
        self.init()
        for role in roles {
            guard let name = role[path: ["metadata", "name"]]?.stringValue,
                let namespace = role[path: ["metadata", "namespace"]]?.stringValue
            else { continue }
            let rules = (role["rules"]?.arrayValue ?? []).map(RBACPolicyRule.init(json:))
            self.roles[namespace, default: [:]][name] = rules
        }
        for role in clusterRoles {
            guard let name = role[path: ["metadata", "name"]]?.stringValue else { continue }
            self.clusterRoles[name] = (role["rules"]?.arrayValue ?? []).map(RBACPolicyRule.init(json:))
        }
        self.roleBindings = roleBindings.compactMap(RBACBinding.init(json:))
        self.clusterRoleBindings = clusterRoleBindings.compactMap(RBACBinding.init(json:))
    }
}

/// The outcome of authorizing one request.
public enum RBACDecision: Sendable, Hashable {
    case allow
    /// Denied; `reason` is RBAC's extra explanation (e.g. a binding's missing role), often empty.
    case deny(reason: String)

    public var isAllowed: Bool { self == .allow }
}

/// kube-apiserver's RBAC authorizer as a pure function, plus the built-in discovery permissions
/// (`system:discovery`, `system:public-info-viewer`) every authenticated user has.
public enum RBACAuthorizer {
    /// The non-resource rules of the default `system:discovery` and `system:public-info-viewer` ClusterRoles,
    /// bound to `system:authenticated`.
    public static let discoveryRules: [RBACPolicyRule] = [
        RBACPolicyRule(
            verbs: ["get"],
            nonResourceURLs: [
                "/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", "/version", "/version/", "/healthz",
                "/livez", "/readyz",
            ])
    ]

    /// Allows when the user is in `system:masters`, a discovery rule applies, or a binding for the user grants a
    /// rule that allows the request: ClusterRoleBindings anywhere, RoleBindings only in their own namespace.
    public static func authorize(
        _ request: RBACRequestAttributes, user: RBACUser, policy: RBACPolicy
    ) -> RBACDecision {
        if user.isSuperUser { return .allow }
        if user.groups.contains("system:authenticated"), discoveryRules.contains(where: { $0.allows(request) }) {
            return .allow
        }
        var errors: [String] = []
        for binding in policy.clusterRoleBindings
        where binding.subjects.contains(where: { $0.applies(to: user, bindingNamespace: "") }) {
            guard binding.roleKind == "ClusterRole", let rules = policy.clusterRoles[binding.roleName] else {
                errors.append("clusterrole.rbac.authorization.k8s.io \"\(binding.roleName)\" not found")
                continue
            }
            if rules.contains(where: { $0.allows(request) }) { return .allow }
        }
        if request.isResourceRequest, !request.namespace.isEmpty {
            for binding in policy.roleBindings
            where binding.namespace == request.namespace
                && binding.subjects.contains(where: { $0.applies(to: user, bindingNamespace: binding.namespace) })
            {
                let rules: [RBACPolicyRule]?
                switch binding.roleKind {
                case "ClusterRole": rules = policy.clusterRoles[binding.roleName]
                case "Role": rules = policy.roles[binding.namespace]?[binding.roleName]
                default: rules = nil
                }
                guard let rules else {
                    errors.append(
                        "\(binding.roleKind.lowercased()).rbac.authorization.k8s.io \"\(binding.roleName)\" not found")
                    continue
                }
                if rules.contains(where: { $0.allows(request) }) { return .allow }
            }
        }
        if errors.isEmpty { return .deny(reason: "") }
        let joined = errors.count == 1 ? errors[0] : "[" + errors.joined(separator: ", ") + "]"
        return .deny(reason: "RBAC: \(joined)")
    }

    /// The 403 Forbidden Status kube-apiserver answers with, e.g. `deployments.apps "r1" is forbidden: User
    /// "system:serviceaccount:ns:sa" cannot patch resource "deployments/scale" in API group "apps" in the
    /// namespace "llm-serving"`.
    public static func forbidden(_ request: RBACRequestAttributes, user: RBACUser, reason: String = "") -> APIStatus {
        var why: String
        if !request.isResourceRequest {
            why = "User \"\(user.name)\" cannot \(request.verb) path \"\(request.path)\""
        } else {
            why = "User \"\(user.name)\" cannot \(request.verb) resource \"\(request.combinedResource)\" "
                + "in API group \"\(request.apiGroup)\""
            why += request.namespace.isEmpty ? " at the cluster scope" : " in the namespace \"\(request.namespace)\""
        }
        if !reason.isEmpty { why += ": \(reason)" }
        guard request.isResourceRequest else {
            return APIStatus(code: 403, reason: "Forbidden", message: "forbidden: \(why)")
        }
        let qualified = request.apiGroup.isEmpty ? request.resource : "\(request.resource).\(request.apiGroup)"
        let subject = request.name.isEmpty ? qualified : "\(qualified) \"\(request.name)\""
        return APIStatus(
            code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(why)",
            name: request.name.isEmpty ? nil : request.name, group: request.apiGroup, kind: request.resource)
    }
}
