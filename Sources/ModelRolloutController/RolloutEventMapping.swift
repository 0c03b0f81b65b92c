import KubeCore

/// Which ModelRollouts an event on a related object concerns, as controller-runtime's `Watches` with
/// `EnqueueRequestsFromMapFunc` decide: a Deployment → the ModelRollouts that name it (spec or status); a Pod → the
/// ModelRollouts of its Deployment (through its ReplicaSet owner and `pod-template-hash`); an HTTPRoute → the
/// ModelRollouts whose `spec.route` names it. Pure; reads raw JSON (no decoding per event).
public enum RolloutEventMapping {
    /// The answer for one event: these keys, or every ModelRollout of the namespace when the object cannot be
    /// attributed (a pod without a ReplicaSet owner of the usual shape) — never less than needed.
    public enum Targets: Equatable, Sendable {
        case rollouts([ObjectKey])
        case namespace
    }

    /// The Deployments a ModelRollout concerns: `spec.deployment` and the stable, candidate, retired and failed
    /// revisions of its status.
    public static func deployments(of rollout: JSONValue) -> Set<String> {
        var names: Set<String> = []
        for path in [
            ["spec", "deployment"], ["status", "stableDeployment"], ["status", "candidateDeployment"],
            ["status", "retiredDeployment"], ["status", "failedDeployment"],
        ] {
            if let name = rollout[path: path]?.stringValue, !name.isEmpty { names.insert(name) }
        }
        return names
    }

    /// The ModelRollouts (of `rollouts`, one namespace's) that concern the Deployment `name`.
    public static func rollouts(forDeployment name: String, in rollouts: [JSONValue]) -> [ObjectKey] {
        rollouts.filter { deployments(of: $0).contains(name) }.compactMap(key)
    }

    /// The Deployment that owns a pod: its ReplicaSet owner is named `<deployment>-<pod-template-hash>`, or a
    /// Deployment owns it directly (as in the emulated cluster, and as ``RevisionPods`` accepts); nil when the pod
    /// has no such owner.
    public static func deployment(ofPod metadata: ObjectMeta) -> String? {
        if let owner = metadata.ownerReferences?.first(where: { $0.kind == "Deployment" }), !owner.name.isEmpty {
            return owner.name
        }
        guard let owner = metadata.ownerReferences?.first(where: { $0.kind == "ReplicaSet" }),
            let hash = metadata.labels?["pod-template-hash"], !hash.isEmpty,
            owner.name.hasSuffix("-" + hash), owner.name.count > hash.count + 1
        else { return nil }
        return String(owner.name.dropLast(hash.count + 1))
    }

    /// The ModelRollouts a pod event concerns.
    public static func targets(forPod metadata: ObjectMeta, in rollouts: [JSONValue]) -> Targets {
        targets(forPod: metadata) { Self.rollouts(forDeployment: $0, in: rollouts) }
    }

    /// The ModelRollouts a pod event concerns, `rolloutsOf` answering for a Deployment (an index lookup).
    public static func targets(forPod metadata: ObjectMeta, rolloutsOf: (String) -> [ObjectKey]) -> Targets {
        guard let deployment = deployment(ofPod: metadata) else {
            // A pod with an owner we cannot attribute may still be a revision's: stay safe. A bare pod is no
            // revision's.
            return (metadata.ownerReferences ?? []).isEmpty ? .rollouts([]) : .namespace
        }
        return .rollouts(rolloutsOf(deployment))
    }

    /// The ModelRollouts (of any namespace) whose `spec.route` names the HTTPRoute `name` in `namespace` (a route
    /// reference without a namespace means the ModelRollout's own).
    public static func rollouts(forRoute name: String, namespace: String, in rollouts: [JSONValue]) -> [ObjectKey] {
        rollouts.filter { rollout in
            guard rollout[path: ["spec", "route", "name"]]?.stringValue == name else { return false }
            let own = rollout[path: ["metadata", "namespace"]]?.stringValue ?? ""
            let routeNamespace = rollout[path: ["spec", "route", "namespace"]]?.stringValue ?? own
            return (routeNamespace.isEmpty ? own : routeNamespace) == namespace
        }.compactMap(key)
    }

    // MARK: - Indexes

    /// The rollout-cache index of the Deployments a ModelRollout concerns (``deployments(of:)``): a Deployment
    /// event looks its ModelRollouts up instead of scanning every one.
    public static let deploymentIndex = "deployment"
    /// The rollout-cache index of the route a ModelRollout names, as `namespace/name`.
    public static let routeIndex = "route"

    /// The values of ``deploymentIndex``.
    public static func deploymentIndexValues(_ rollout: JSONValue) -> [String] { deployments(of: rollout).sorted() }

    /// The value of ``routeIndex``: the route's namespace (its own when unset) and name.
    public static func routeIndexValues(_ rollout: JSONValue) -> [String] {
        guard let name = rollout[path: ["spec", "route", "name"]]?.stringValue, !name.isEmpty else { return [] }
        let own = rollout[path: ["metadata", "namespace"]]?.stringValue ?? ""
        let routeNamespace = rollout[path: ["spec", "route", "namespace"]]?.stringValue ?? ""
        return [(routeNamespace.isEmpty ? own : routeNamespace) + "/" + name]
    }

    private static func key(_ rollout: JSONValue) -> ObjectKey? {
        guard let name = rollout[path: ["metadata", "name"]]?.stringValue else { return nil }
        return ObjectKey(namespace: rollout[path: ["metadata", "namespace"]]?.stringValue, name: name)
    }
}
