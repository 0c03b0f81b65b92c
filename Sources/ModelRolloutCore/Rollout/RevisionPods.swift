import Foundation
import KubeCore

/// Which pods belong to a revision (a Deployment): the controller, `diagnose` and the plugin all use this rule.
public enum RevisionPods {
    /// The pods matching the Deployment's selector (which must not be empty) and owned by it: directly, or by one
    /// of its ReplicaSets (`NAME-<pod-template-hash>`, else any `NAME-` ReplicaSet). A pod without owners counts
    /// when its labels match (a static pod or one adopted by hand). Terminating pods are kept: their readiness
    /// says what they are.
    public static func select(_ deployment: Deployment, from pods: [Pod]) -> [Pod] {
        let name = deployment.metadata.name ?? ""
        guard let selectorJSON = deployment.spec.selector?.json,
            let selector = try? LabelSelector(json: selectorJSON), !selector.requirements.isEmpty
        else { return [] }
        return pods.filter { pod in
            let labels = pod.metadata.labels ?? [:]
            guard selector.matches(labels) else { return false }
            let owners = pod.metadata.ownerReferences ?? []
            if owners.isEmpty { return true }
            return owners.contains { owner in
                if owner.kind == "Deployment" { return owner.name == name }
                if owner.kind == "ReplicaSet" {
                    if let hash = labels["pod-template-hash"] { return owner.name == "\(name)-\(hash)" }
                    return owner.name.hasPrefix(name + "-")
                }
                return false
            }
        }
    }
}

/// The request class of a route rule, as the operator's metrics and `diagnose` name it.
public enum RequestClass {
    /// The route label that names the class of its traffic (e.g. `chat`, `batch`).
    public static let label = "modelrollout.io/class"
    /// The class of an unlabelled route with one rule.
    public static let defaultName = "default"

    /// The label's value (trimmed) when set; else `default` for a route with one rule, and `rule-N` for rule N of
    /// a route with several (their traffic differs, so each is its own class).
    public static func name(routeLabels: [String: String]?, ruleIndex: Int = 0, ruleCount: Int = 1) -> String {
        if let value = routeLabels?[label]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
        return ruleCount > 1 ? "rule-\(ruleIndex)" : defaultName
    }
}

extension RevisionPods {
    /// The name of the pod index ``ownerIndexValues(_:)`` feeds.
    public static let ownerIndex = "revision-owner"

    /// The values a pod is indexed under so that the pods ``select(_:from:)`` can return for a Deployment `NAME`
    /// are all among those indexed under `NAME` or `""`: an owning Deployment's name; for an owning ReplicaSet,
    /// every prefix of its name that ends before a `-` (the ReplicaSet `NAME-<hash>` yields `NAME`); `""` for a
    /// pod without owners. A superset: ``select(_:from:)`` still decides.
    public static func ownerIndexValues(_ pod: Pod) -> [String] {
        let owners = pod.metadata.ownerReferences ?? []
        if owners.isEmpty { return [""] }
        var values: Set<String> = []
        for owner in owners {
            if owner.kind == "Deployment" { values.insert(owner.name) }
            if owner.kind == "ReplicaSet" {
                var prefix = ""
                for character in owner.name {
                    if character == "-", !prefix.isEmpty { values.insert(prefix) }
                    prefix.append(character)
                }
            }
        }
        return values.sorted()
    }
}
