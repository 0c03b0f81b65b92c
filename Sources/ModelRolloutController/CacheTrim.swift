import KubeCore

/// What the controller's caches keep of Pods and Deployments (controller-runtime's cache transform functions):
/// the fields the gatherer, the planner's readiness and the event mapping read, nothing else. Trimmed on the way
/// into the store, so a namespace of thousands of pods costs what the decisions need.
///
/// Dropped from both: `metadata.managedFields` and the `kubectl.kubernetes.io/last-applied-configuration`
/// annotation. From a Pod's spec everything but `nodeName` and each container's `name` and `ports` (the runtime
/// container is found by name; its status, conditions and IP are kept whole). From a Deployment's pod template:
/// volumes, and each container's `env`, `envFrom` and `volumeMounts` (its name, image, command, ports, probes and
/// resources stay: the readiness probe decides whether Ready proves the model loaded).
enum CacheTrim {
    static let lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

    static func metadata(_ metadata: ObjectMeta) -> ObjectMeta {
        var trimmed = metadata
        trimmed.managedFields = nil
        if trimmed.annotations?[lastApplied] != nil {
            trimmed.annotations?[lastApplied] = nil
            if trimmed.annotations?.isEmpty == true { trimmed.annotations = nil }
        }
        return trimmed
    }

    static func pod(_ pod: Pod) -> Pod {
        var trimmed = pod
        trimmed.metadata = metadata(pod.metadata)
        var spec: [String: JSONValue] = [:]
        if let nodeName = pod.spec.raw["nodeName"] { spec["nodeName"] = nodeName }
        if let containers = pod.spec.raw["containers"]?.arrayValue {
            spec["containers"] = .array(
                containers.map { container in
                    var kept: [String: JSONValue] = [:]
                    for key in ["name", "ports"] { if let value = container[key] { kept[key] = value } }
                    return .object(kept)
                })
        }
        trimmed.spec = PodSpec(raw: .object(spec))
        return trimmed
    }

    static func deployment(_ deployment: Deployment) -> Deployment {
        var trimmed = deployment
        trimmed.metadata = metadata(deployment.metadata)
        var template = deployment.spec.template.raw
        template[path: ["spec", "volumes"]] = nil
        if let containers = template[path: ["spec", "containers"]]?.arrayValue {
            template[path: ["spec", "containers"]] = .array(
                containers.map { container in
                    var kept = container
                    for key in ["env", "envFrom", "volumeMounts"] { kept[key] = nil }
                    return kept
                })
        }
        trimmed.spec.template = PodTemplateSpec(raw: template)
        if let templateMetadata = trimmed.spec.template.metadata, templateMetadata.managedFields != nil {
            trimmed.spec.template.metadata = metadata(templateMetadata)
        }
        return trimmed
    }
}
