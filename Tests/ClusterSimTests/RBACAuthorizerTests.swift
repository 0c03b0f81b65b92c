import ClusterSim
import Foundation
import KubeCore
import Testing

/// The pure RBAC authorizer: rule matching, binding scope, subjects, discovery, and the Forbidden message.
@Suite("RBAC authorizer")
struct RBACAuthorizerTests {
    static let controller = RBACUser.serviceAccount(namespace: "modelrollout-system", name: "modelrollout-controller")

    static func r(
        _ verb: String, _ group: String, _ resource: String, sub: String = "", name: String = "", ns: String = ""
    ) -> RBACRequestAttributes {
        .resource(verb: verb, group: group, resource: resource, subresource: sub, name: name, namespace: ns)
    }

    // MARK: - Rules

    struct RuleCase: Sendable, CustomStringConvertible {
        var rule: RBACPolicyRule
        var request: RBACRequestAttributes
        var allowed: Bool
        var description: String {
            "\(rule.verbs) \(rule.apiGroups) \(rule.resources) \(rule.resourceNames) \(rule.nonResourceURLs) vs "
                + "\(request.verb) \(request.apiGroup)/\(request.combinedResource) \(request.name) \(request.path)"
        }
    }

    static let ruleCases: [RuleCase] = [
        RuleCase(rule: .init(verbs: ["get"], apiGroups: [""], resources: ["pods"]), request: r("get", "", "pods"),
            allowed: true),
        RuleCase(rule: .init(verbs: ["get"], apiGroups: [""], resources: ["pods"]), request: r("list", "", "pods"),
            allowed: false),
        RuleCase(rule: .init(verbs: ["*"], apiGroups: [""], resources: ["pods"]), request: r("delete", "", "pods"),
            allowed: true),
        RuleCase(rule: .init(verbs: ["get"], apiGroups: ["apps"], resources: ["pods"]), request: r("get", "", "pods"),
            allowed: false),
        RuleCase(rule: .init(verbs: ["get"], apiGroups: ["*"], resources: ["pods"]), request: r("get", "", "pods"),
            allowed: true),
        RuleCase(rule: .init(verbs: ["get"], apiGroups: [""], resources: ["*"]), request: r("get", "", "secrets"),
            allowed: true),
        // A subresource needs its own entry: "pods" does not cover "pods/log" and vice versa.
        RuleCase(rule: .init(verbs: ["get"], apiGroups: [""], resources: ["pods"]),
            request: r("get", "", "pods", sub: "log", name: "p"), allowed: false),
        RuleCase(rule: .init(verbs: ["get"], apiGroups: [""], resources: ["pods/log"]),
            request: r("get", "", "pods", sub: "log", name: "p"), allowed: true),
        RuleCase(rule: .init(verbs: ["get"], apiGroups: [""], resources: ["pods/log"]),
            request: r("get", "", "pods", name: "p"), allowed: false),
        RuleCase(rule: .init(verbs: ["get"], apiGroups: [""], resources: ["*/log"]),
            request: r("get", "", "pods", sub: "log", name: "p"), allowed: true),
        RuleCase(rule: .init(verbs: ["get"], apiGroups: [""], resources: ["*/log"]),
            request: r("get", "", "pods", sub: "proxy", name: "p"), allowed: false),
        RuleCase(rule: .init(verbs: ["patch"], apiGroups: ["apps"], resources: ["deployments/scale"]),
            request: r("patch", "apps", "deployments", sub: "scale", name: "r1", ns: "x"), allowed: true),
        RuleCase(rule: .init(verbs: ["patch"], apiGroups: ["apps"], resources: ["deployments/scale"]),
            request: r("update", "apps", "deployments", sub: "scale", name: "r1", ns: "x"), allowed: false),
        // resourceNames restrict to named requests; a list has no name and does not match.
        RuleCase(rule: .init(verbs: ["get", "list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"]),
            request: r("get", "", "configmaps", name: "a"), allowed: true),
        RuleCase(rule: .init(verbs: ["get", "list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"]),
            request: r("get", "", "configmaps", name: "b"), allowed: false),
        RuleCase(rule: .init(verbs: ["get", "list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"]),
            request: r("list", "", "configmaps"), allowed: false),
        // Non-resource URLs: exact, trailing-* prefix, "*"; resource rules never match them and vice versa.
        RuleCase(rule: .init(verbs: ["get"], nonResourceURLs: ["/metrics"]),
            request: .nonResource(verb: "get", path: "/metrics"), allowed: true),
        RuleCase(rule: .init(verbs: ["get"], nonResourceURLs: ["/metrics"]),
            request: .nonResource(verb: "get", path: "/metrics/x"), allowed: false),
        RuleCase(rule: .init(verbs: ["get"], nonResourceURLs: ["/logs/*"]),
            request: .nonResource(verb: "get", path: "/logs/a/b"), allowed: true),
        RuleCase(rule: .init(verbs: ["get"], nonResourceURLs: ["*"]),
            request: .nonResource(verb: "get", path: "/anything"), allowed: true),
        RuleCase(rule: .init(verbs: ["get"], nonResourceURLs: ["/metrics"]),
            request: .nonResource(verb: "post", path: "/metrics"), allowed: false),
        RuleCase(rule: .init(verbs: ["*"], apiGroups: ["*"], resources: ["*"]),
            request: .nonResource(verb: "get", path: "/metrics"), allowed: false),
        RuleCase(rule: .init(verbs: ["*"], nonResourceURLs: ["*"]), request: r("get", "", "pods"), allowed: false),
    ]

    @Test("policy rules match verbs, groups, resources/subresources, names and non-resource URLs", arguments: ruleCases)
    func ruleMatching(_ c: RuleCase) {
        #expect(c.rule.allows(c.request) == c.allowed)
    }

    @Test("rules read from JSON; missing fields are empty")
    func ruleFromJSON() {
        let rule = RBACPolicyRule(json: ["verbs": ["get", "watch"], "apiGroups": [""], "resources": ["pods"]])
        #expect(rule == RBACPolicyRule(verbs: ["get", "watch"], apiGroups: [""], resources: ["pods"]))
        #expect(RBACPolicyRule(json: ["verbs": "get"]).verbs.isEmpty)
    }

    // MARK: - Bindings

    static func policy() -> RBACPolicy {
        let sa: JSONValue = [
            "kind": "ServiceAccount", "name": "modelrollout-controller", "namespace": "modelrollout-system",
        ]
        return RBACPolicy(
            roles: [
                [
                    "metadata": ["name": "leases", "namespace": "modelrollout-system"],
                    "rules": [
                        ["apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "update"]]
                    ],
                ],
                [
                    "metadata": ["name": "cm-reader", "namespace": "team-a"],
                    "rules": [["apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]]],
                ],
            ],
            clusterRoles: [
                [
                    "metadata": ["name": "pods-reader"],
                    "rules": [["apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]]],
                ],
                [
                    "metadata": ["name": "secret-reader"],
                    "rules": [["apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]]],
                ],
                ["metadata": ["name": "metrics"], "rules": [["nonResourceURLs": ["/metrics"], "verbs": ["get"]]]],
            ],
            roleBindings: [
                [
                    "metadata": ["name": "leases", "namespace": "modelrollout-system"],
                    "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "leases"],
                    "subjects": [sa],
                ],
                // A ClusterRole bound by a RoleBinding: only in that namespace.
                [
                    "metadata": ["name": "secrets", "namespace": "team-a"],
                    "roleRef": ["kind": "ClusterRole", "name": "secret-reader"], "subjects": [sa],
                ],
                // A ServiceAccount subject without a namespace means the binding's namespace.
                [
                    "metadata": ["name": "local-sa", "namespace": "team-a"],
                    "roleRef": ["kind": "Role", "name": "cm-reader"],
                    "subjects": [["kind": "ServiceAccount", "name": "builder"]],
                ],
                [
                    "metadata": ["name": "group", "namespace": "team-a"],
                    "roleRef": ["kind": "Role", "name": "cm-reader"],
                    "subjects": [["kind": "Group", "name": "system:serviceaccounts:ci"]],
                ],
                [
                    "metadata": ["name": "dangling", "namespace": "team-b"],
                    "roleRef": ["kind": "Role", "name": "gone"], "subjects": [sa],
                ],
            ],
            clusterRoleBindings: [
                [
                    "metadata": ["name": "pods"], "roleRef": ["kind": "ClusterRole", "name": "pods-reader"],
                    "subjects": [sa, ["kind": "User", "name": "alice"]],
                ],
                [
                    "metadata": ["name": "metrics"], "roleRef": ["kind": "ClusterRole", "name": "metrics"],
                    "subjects": [["kind": "Group", "name": "monitoring"]],
                ],
            ])
    }

    struct BindingCase: Sendable, CustomStringConvertible {
        var user: RBACUser
        var request: RBACRequestAttributes
        var allowed: Bool
        var description: String {
            "\(user.name) \(request.verb) \(request.combinedResource)\(request.path) ns=\(request.namespace)"
        }
    }

    static let bindingCases: [BindingCase] = [
        // ClusterRoleBinding: every namespace and the cluster scope.
        BindingCase(user: controller, request: r("list", "", "pods", ns: "llm-serving"), allowed: true),
        BindingCase(user: controller, request: r("watch", "", "pods"), allowed: true),
        BindingCase(user: controller, request: r("get", "", "pods", name: "p", ns: "llm-serving"), allowed: false),
        BindingCase(user: RBACUser(name: "alice", groups: ["system:authenticated"]),
            request: r("list", "", "pods", ns: "x"), allowed: true),
        BindingCase(user: RBACUser(name: "bob", groups: ["system:authenticated"]),
            request: r("list", "", "pods", ns: "x"), allowed: false),
        // Role via RoleBinding: its own namespace only.
        BindingCase(user: controller,
            request: r("update", "coordination.k8s.io", "leases", name: "l", ns: "modelrollout-system"), allowed: true),
        BindingCase(user: controller,
            request: r("update", "coordination.k8s.io", "leases", name: "l", ns: "llm-serving"), allowed: false),
        BindingCase(user: controller,
            request: r("create", "coordination.k8s.io", "leases", ns: "modelrollout-system"), allowed: false),
        // ClusterRole via RoleBinding: namespaced effect, never cluster scope.
        BindingCase(user: controller, request: r("list", "", "secrets", ns: "team-a"), allowed: true),
        BindingCase(user: controller, request: r("list", "", "secrets", ns: "team-c"), allowed: false),
        BindingCase(user: controller, request: r("list", "", "secrets"), allowed: false),
        // ServiceAccount subject defaulting to the binding namespace; Group subjects.
        BindingCase(user: .serviceAccount(namespace: "team-a", name: "builder"),
            request: r("get", "", "configmaps", name: "c", ns: "team-a"), allowed: true),
        BindingCase(user: .serviceAccount(namespace: "team-b", name: "builder"),
            request: r("get", "", "configmaps", name: "c", ns: "team-a"), allowed: false),
        BindingCase(user: .serviceAccount(namespace: "ci", name: "runner"),
            request: r("get", "", "configmaps", name: "c", ns: "team-a"), allowed: true),
        // Non-resource URLs: ClusterRoleBindings only; discovery for every authenticated user.
        BindingCase(user: RBACUser(name: "prom", groups: ["monitoring", "system:authenticated"]),
            request: .nonResource(verb: "get", path: "/metrics"), allowed: true),
        BindingCase(user: controller, request: .nonResource(verb: "get", path: "/metrics"), allowed: false),
        BindingCase(user: controller, request: .nonResource(verb: "get", path: "/apis/apps/v1"), allowed: true),
        BindingCase(user: controller, request: .nonResource(verb: "get", path: "/openapi/v3"), allowed: true),
        BindingCase(user: controller, request: .nonResource(verb: "get", path: "/version"), allowed: true),
        BindingCase(user: controller, request: .nonResource(verb: "put", path: "/_sim/faults"), allowed: false),
        BindingCase(user: RBACUser(name: "anon", groups: []),
            request: .nonResource(verb: "get", path: "/apis"), allowed: false),
        // system:masters bypasses RBAC.
        BindingCase(user: .admin, request: r("delete", "", "nodes", name: "n"), allowed: true),
    ]

    @Test("bindings: cluster-wide, namespaced, subjects, discovery, system:masters", arguments: bindingCases)
    func bindingScope(_ c: BindingCase) {
        let decision = RBACAuthorizer.authorize(c.request, user: c.user, policy: Self.policy())
        #expect(decision.isAllowed == c.allowed)
    }

    @Test("a binding to a missing role is named in the reason")
    func missingRoleReason() {
        let decision = RBACAuthorizer.authorize(
            Self.r("get", "", "pods", name: "p", ns: "team-b"), user: Self.controller, policy: Self.policy())
        #expect(decision == .deny(reason: "RBAC: role.rbac.authorization.k8s.io \"gone\" not found"))
        let none = RBACAuthorizer.authorize(
            Self.r("get", "", "pods", name: "p", ns: "team-c"), user: Self.controller, policy: Self.policy())
        #expect(none == .deny(reason: ""))
    }

    @Test("service-account users: name, groups, parsing back")
    func serviceAccountUser() {
        let user = RBACUser.serviceAccount(namespace: "ns", name: "sa")
        #expect(user.name == "system:serviceaccount:ns:sa")
        #expect(user.groups == ["system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated"])
        #expect(user.serviceAccount?.namespace == "ns")
        #expect(user.serviceAccount?.name == "sa")
        #expect(RBACUser(name: "system:serviceaccount:ns", groups: []).serviceAccount == nil)
        #expect(RBACUser.admin.serviceAccount == nil)
        #expect(RBACUser.admin.isSuperUser)
        #expect(!user.isSuperUser)
    }

    // MARK: - Forbidden

    struct MessageCase: Sendable, CustomStringConvertible {
        var request: RBACRequestAttributes
        var reason: String
        var message: String
        var description: String { message }
    }

    static let messageCases: [MessageCase] = [
        MessageCase(
            request: r("patch", "apps", "deployments", sub: "scale", name: "r1", ns: "llm-serving"), reason: "",
            message: "deployments.apps \"r1\" is forbidden: User \"system:serviceaccount:modelrollout-system:"
                + "modelrollout-controller\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the "
                + "namespace \"llm-serving\""),
        MessageCase(
            request: r("list", "", "secrets", ns: "llm-serving"), reason: "",
            message: "secrets is forbidden: User \"system:serviceaccount:modelrollout-system:modelrollout-controller\" "
                + "cannot list resource \"secrets\" in API group \"\" in the namespace \"llm-serving\""),
        MessageCase(
            request: r("list", "", "nodes"), reason: "RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found",
            message: "nodes is forbidden: User \"system:serviceaccount:modelrollout-system:modelrollout-controller\" "
                + "cannot list resource \"nodes\" in API group \"\" at the cluster scope: RBAC: "
                + "clusterrole.rbac.authorization.k8s.io \"x\" not found"),
        MessageCase(
            request: .nonResource(verb: "get", path: "/metrics"), reason: "",
            message: "forbidden: User \"system:serviceaccount:modelrollout-system:modelrollout-controller\" cannot get "
                + "path \"/metrics\""),
    ]

    @Test("403 Forbidden carries kube-apiserver's message shape", arguments: messageCases)
    func forbiddenMessage(_ c: MessageCase) {
        let status = RBACAuthorizer.forbidden(c.request, user: Self.controller, reason: c.reason)
        #expect(status.code == 403)
        #expect(status.reason == "Forbidden")
        #expect(status.message == c.message)
        if c.request.isResourceRequest {
            #expect(status.kind == c.request.resource)
            #expect(status.group == c.request.apiGroup)
            #expect(status.name == (c.request.name.isEmpty ? nil : c.request.name))
        }
    }
}
