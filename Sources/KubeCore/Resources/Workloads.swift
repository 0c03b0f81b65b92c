import Foundation

/// `core/v1 ContainerPort`.
public struct ContainerPort: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(containerPort: Int32, name: String? = nil, protocol proto: String? = nil) {
        raw = .object([:])
        self.containerPort = containerPort
        self.name = name
        self[field: "protocol"] = proto
    }

    public var containerPort: Int32 {
        get { self[field: "containerPort"] ?? 0 }
        set { self[field: "containerPort"] = newValue }
    }
    public var name: String? {
        get { self[field: "name"] }
        set { self[field: "name"] = newValue }
    }
}

/// `core/v1 Container`: the fields the operator reads, with the rest of the JSON kept.
public struct Container: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(name: String, image: String? = nil, args: [String]? = nil, ports: [ContainerPort]? = nil) {
        raw = .object([:])
        self.name = name
        self.image = image
        self.args = args
        self.ports = ports
    }

    public var name: String {
        get { self[field: "name"] ?? "" }
        set { self[field: "name"] = newValue }
    }
    public var image: String? {
        get { self[field: "image"] }
        set { self[field: "image"] = newValue }
    }
    public var command: [String]? {
        get { self[field: "command"] }
        set { self[field: "command"] = newValue }
    }
    public var args: [String]? {
        get { self[field: "args"] }
        set { self[field: "args"] = newValue }
    }
    public var ports: [ContainerPort]? {
        get { self[field: "ports"] }
        set { self[field: "ports"] = newValue }
    }
    /// `env` entries, kept as JSON (`{name, value | valueFrom}`).
    public var env: [JSONValue]? {
        get { self[field: "env"] }
        set { self[field: "env"] = newValue }
    }
}

/// `core/v1 PodSpec`: containers and nodeName typed, everything else kept as JSON.
public struct PodSpec: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(containers: [Container], nodeName: String? = nil) {
        raw = .object([:])
        self.containers = containers
        self.nodeName = nodeName
    }

    public var containers: [Container] {
        get { self[field: "containers"] ?? [] }
        set { self[field: "containers"] = newValue }
    }
    public var nodeName: String? {
        get { self[field: "nodeName"] }
        set { self[field: "nodeName"] = newValue }
    }
}

/// `core/v1 ContainerStatus`.
public struct ContainerStatus: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public var name: String {
        get { self[field: "name"] ?? "" }
        set { self[field: "name"] = newValue }
    }
    public var ready: Bool {
        get { self[field: "ready"] ?? false }
        set { self[field: "ready"] = newValue }
    }
    public var started: Bool? {
        get { self[field: "started"] }
        set { self[field: "started"] = newValue }
    }
    public var restartCount: Int32 {
        get { self[field: "restartCount"] ?? 0 }
        set { self[field: "restartCount"] = newValue }
    }
    public var image: String? {
        get { self[field: "image"] }
        set { self[field: "image"] = newValue }
    }
    /// `state` (`{waiting|running|terminated: {...}}`) as JSON.
    public var state: JSONValue? {
        get { self[field: "state"] }
        set { self[field: "state"] = newValue }
    }
    /// When the container is running: its start time.
    public var runningStartedAt: Date? { state?[path: ["running", "startedAt"]].flatMap { Date(json: $0) } }
}

/// `core/v1 PodCondition` (no observedGeneration; `lastProbeTime` kept in JSON).
public struct PodCondition: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(type: String, status: String, lastTransitionTime: Date? = nil) {
        raw = .object([:])
        self.type = type
        self.status = status
        self.lastTransitionTime = lastTransitionTime
    }

    public var type: String {
        get { self[field: "type"] ?? "" }
        set { self[field: "type"] = newValue }
    }
    public var status: String {
        get { self[field: "status"] ?? "Unknown" }
        set { self[field: "status"] = newValue }
    }
    public var lastTransitionTime: Date? {
        get { self[field: "lastTransitionTime"] }
        set { self[field: "lastTransitionTime"] = newValue }
    }
    public var reason: String? {
        get { self[field: "reason"] }
        set { self[field: "reason"] = newValue }
    }
    public var message: String? {
        get { self[field: "message"] }
        set { self[field: "message"] = newValue }
    }
}

/// `core/v1 PodStatus`.
public struct PodStatus: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }
    public init() { raw = .object([:]) }

    /// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    public var phase: String? {
        get { self[field: "phase"] }
        set { self[field: "phase"] = newValue }
    }
    public var podIP: String? {
        get { self[field: "podIP"] }
        set { self[field: "podIP"] = newValue }
    }
    public var startTime: Date? {
        get { self[field: "startTime"] }
        set { self[field: "startTime"] = newValue }
    }
    public var conditions: [PodCondition]? {
        get { self[field: "conditions"] }
        set { self[field: "conditions"] = newValue }
    }
    public var containerStatuses: [ContainerStatus]? {
        get { self[field: "containerStatuses"] }
        set { self[field: "containerStatuses"] = newValue }
    }
    /// Whether the `Ready` condition is `True`.
    public var isReady: Bool { conditions?.first { $0.type == "Ready" }?.status == "True" }
}

/// `core/v1 Pod`.
public struct Pod: KubernetesResource, Hashable {
    public static let resource = ResourceDescriptor.pods
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var status: PodStatus?

    public init(metadata: ObjectMeta, spec: PodSpec, status: PodStatus? = nil) {
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try c.decodeIfPresent(PodSpec.self, forKey: .spec) ?? PodSpec(raw: .object([:]))
        status = try c.decodeIfPresent(PodStatus.self, forKey: .status)
    }
}

/// `core/v1 PodTemplateSpec`.
public struct PodTemplateSpec: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(metadata: ObjectMeta? = nil, spec: PodSpec) {
        raw = .object([:])
        self.metadata = metadata
        self.spec = spec
    }

    /// The template's metadata (labels, annotations).
    public var metadata: ObjectMeta? {
        get { raw["metadata"].flatMap { try? KubeJSON.fromJSONValue(ObjectMeta.self, $0) } }
        set { raw["metadata"] = newValue.flatMap { try? KubeJSON.toJSONValue($0) } }
    }
    public var spec: PodSpec {
        get { self[field: "spec"] ?? PodSpec(raw: .object([:])) }
        set { self[field: "spec"] = newValue }
    }
}

/// `apps/v1 DeploymentSpec`.
public struct DeploymentSpec: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(replicas: Int32? = nil, selector: LabelSelectorSpec, template: PodTemplateSpec) {
        raw = .object([:])
        self.replicas = replicas
        self.selector = selector
        self.template = template
    }

    public var replicas: Int32? {
        get { self[field: "replicas"] }
        set { self[field: "replicas"] = newValue }
    }
    public var selector: LabelSelectorSpec? {
        get { self[field: "selector"] }
        set { self[field: "selector"] = newValue }
    }
    public var template: PodTemplateSpec {
        get { self[field: "template"] ?? PodTemplateSpec(raw: .object([:])) }
        set { self[field: "template"] = newValue }
    }
    /// `strategy` (`{type: RollingUpdate|Recreate, rollingUpdate: {...}}`) as JSON.
    public var strategy: JSONValue? {
        get { self[field: "strategy"] }
        set { self[field: "strategy"] = newValue }
    }
    public var paused: Bool? {
        get { self[field: "paused"] }
        set { self[field: "paused"] = newValue }
    }
}

/// `apps/v1 DeploymentStatus`.
public struct DeploymentStatus: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }
    public init() { raw = .object([:]) }

    public var observedGeneration: Int64? {
        get { self[field: "observedGeneration"] }
        set { self[field: "observedGeneration"] = newValue }
    }
    public var replicas: Int32? {
        get { self[field: "replicas"] }
        set { self[field: "replicas"] = newValue }
    }
    public var readyReplicas: Int32? {
        get { self[field: "readyReplicas"] }
        set { self[field: "readyReplicas"] = newValue }
    }
    public var availableReplicas: Int32? {
        get { self[field: "availableReplicas"] }
        set { self[field: "availableReplicas"] = newValue }
    }
    public var updatedReplicas: Int32? {
        get { self[field: "updatedReplicas"] }
        set { self[field: "updatedReplicas"] = newValue }
    }
    public var unavailableReplicas: Int32? {
        get { self[field: "unavailableReplicas"] }
        set { self[field: "unavailableReplicas"] = newValue }
    }
    /// Deployment conditions (`Available`, `Progressing`); they carry `lastUpdateTime` which stays in JSON.
    public var conditions: [Condition]? {
        get { self[field: "conditions"] }
        set { self[field: "conditions"] = newValue }
    }
}

/// `apps/v1 Deployment`.
public struct Deployment: KubernetesResource, Hashable {
    public static let resource = ResourceDescriptor.deployments
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: DeploymentSpec
    public var status: DeploymentStatus?

    public init(metadata: ObjectMeta, spec: DeploymentSpec, status: DeploymentStatus? = nil) {
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try c.decodeIfPresent(DeploymentSpec.self, forKey: .spec) ?? DeploymentSpec(raw: .object([:]))
        status = try c.decodeIfPresent(DeploymentStatus.self, forKey: .status)
    }
}
