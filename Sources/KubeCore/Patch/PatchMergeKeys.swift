/// How a list field of a built-in kind combines with a patch or an applied configuration, as the Go types'
/// `patchStrategy`/`patchMergeKey` tags (and the matching `listType`/`listMapKeys`) declare it.
public enum ListMergeStrategy: Sendable, Hashable {
    /// The list is replaced as a whole (no tag; e.g. `tolerations`, `args`, CRD lists).
    case atomic
    /// Elements are objects identified by the value of this key (e.g. containers by `name`).
    case mergeByKey(String)
    /// Elements are scalars merged as a set (e.g. `metadata.finalizers`).
    case set
}

/// The merge-key table of the built-in kinds: which list, at which path, merges by which key.
///
/// Paths are field names joined by `.`, relative to the object root; list elements add no component, so the
/// `env` of every container of a Deployment is `spec.template.spec.containers.env`. Unknown kinds (CRs) and
/// unlisted paths are atomic.
public enum PatchMergeKeys {
    /// The strategy of the list at `path` (field names from the root, list elements skipped) in `kind`.
    public static func strategy(kind: String, path: [String]) -> ListMergeStrategy {
        table[kind]?[path.joined(separator: ".")] ?? .atomic
    }

    /// True when `kind` has a table here (and strategic merge patch is meaningful for it).
    public static func isKnown(kind: String) -> Bool { table[kind] != nil }

    /// Lists of a `PodSpec`, relative to the pod spec.
    static let podSpecLists: [String: ListMergeStrategy] = {
        var lists: [String: ListMergeStrategy] = [
            "volumes": .mergeByKey("name"),
            "imagePullSecrets": .mergeByKey("name"),
            "hostAliases": .mergeByKey("ip"),
            "topologySpreadConstraints": .mergeByKey("topologyKey"),
            "resourceClaims": .mergeByKey("name"),
            "schedulingGates": .mergeByKey("name"),
        ]
        let containerLists: [String: ListMergeStrategy] = [
            "env": .mergeByKey("name"),
            "ports": .mergeByKey("containerPort"),
            "volumeMounts": .mergeByKey("mountPath"),
            "volumeDevices": .mergeByKey("devicePath"),
        ]
        for containers in ["containers", "initContainers", "ephemeralContainers"] {
            lists[containers] = .mergeByKey("name")
            for (field, strategy) in containerLists { lists[containers + "." + field] = strategy }
        }
        return lists
    }()

    /// Lists of `ObjectMeta`, relative to the metadata.
    static let objectMetaLists: [String: ListMergeStrategy] = [
        "finalizers": .set,
        "ownerReferences": .mergeByKey("uid"),
    ]

    /// Where the pod spec sits in each workload kind.
    static let podSpecLocations: [String: String] = [
        "Pod": "spec",
        "PodTemplate": "template.spec",
        "ReplicationController": "spec.template.spec",
        "ReplicaSet": "spec.template.spec",
        "Deployment": "spec.template.spec",
        "StatefulSet": "spec.template.spec",
        "DaemonSet": "spec.template.spec",
        "Job": "spec.template.spec",
        "CronJob": "spec.jobTemplate.spec.template.spec",
    ]

    /// Lists outside pod specs, per kind.
    static let otherLists: [String: [String: ListMergeStrategy]] = [
        "Pod": ["status.conditions": .mergeByKey("type"), "status.podIPs": .mergeByKey("ip")],
        "Service": ["spec.ports": .mergeByKey("port")],
        "Node": ["status.conditions": .mergeByKey("type"), "status.addresses": .mergeByKey("type")],
        "Namespace": ["status.conditions": .mergeByKey("type")],
        "PersistentVolumeClaim": ["status.conditions": .mergeByKey("type")],
        "Deployment": ["status.conditions": .mergeByKey("type")],
        "ReplicaSet": ["status.conditions": .mergeByKey("type")],
        "StatefulSet": ["status.conditions": .mergeByKey("type")],
        "DaemonSet": ["status.conditions": .mergeByKey("type")],
        "ReplicationController": ["status.conditions": .mergeByKey("type")],
        "Job": ["status.conditions": .mergeByKey("type")],
        "HorizontalPodAutoscaler": ["status.conditions": .mergeByKey("type")],
    ]

    /// Built-in kinds whose only lists are the metadata ones.
    static let plainKinds = [
        "ConfigMap", "Secret", "ServiceAccount", "Endpoints", "Event", "Lease", "Role", "RoleBinding", "ClusterRole",
        "ClusterRoleBinding", "LimitRange", "ResourceQuota", "PersistentVolume", "StorageClass",
        "PodDisruptionBudget", "Ingress", "NetworkPolicy", "PriorityClass", "EndpointSlice",
        "CustomResourceDefinition", "APIService", "Scale",
    ]

    /// The full table: kind → path → strategy.
    static let table: [String: [String: ListMergeStrategy]] = {
        var result: [String: [String: ListMergeStrategy]] = [:]
        let kinds = Set(podSpecLocations.keys).union(otherLists.keys).union(plainKinds)
        for kind in kinds {
            var lists: [String: ListMergeStrategy] = [:]
            for (field, strategy) in objectMetaLists { lists["metadata." + field] = strategy }
            if let podSpec = podSpecLocations[kind] {
                for (field, strategy) in podSpecLists { lists[podSpec + "." + field] = strategy }
                // The pod template's own metadata ("spec.template.metadata"), when the pod spec is in a template.
                if podSpec.hasSuffix("template.spec") {
                    let templateMeta = String(podSpec.dropLast("spec".count)) + "metadata"
                    for (field, strategy) in objectMetaLists { lists[templateMeta + "." + field] = strategy }
                }
            }
            for (path, strategy) in otherLists[kind] ?? [:] { lists[path] = strategy }
            result[kind] = lists
        }
        return result
    }()
}
