import Foundation

/// `InferencePool.spec.targetPorts[]`: a port of the member pods that serves requests.
public struct InferencePoolPort: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(number: Int32) {
        raw = .object([:])
        self.number = number
    }

    public var number: Int32 {
        get { self[field: "number"] ?? 0 }
        set { self[field: "number"] = newValue }
    }
}

/// `InferencePool.spec` (Gateway API Inference Extension v1 subset); unmodelled fields are kept.
public struct InferencePoolSpec: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(matchLabels: [String: String], targetPorts: [Int32], endpointPicker: String? = nil, port: Int32? = nil) {
        raw = .object([:])
        self.matchLabels = matchLabels
        self.targetPorts = targetPorts.map(InferencePoolPort.init(number:))
        if let endpointPicker {
            var ref: [String: JSONValue] = ["name": .string(endpointPicker)]
            if let port { ref["port"] = .object(["number": .int(Int64(port))]) }
            raw["endpointPickerRef"] = .object(ref)
        }
    }

    /// `spec.selector.matchLabels`: the member pods (same namespace).
    public var matchLabels: [String: String] {
        get { raw[path: ["selector", "matchLabels"]].flatMap { [String: String](json: $0) } ?? [:] }
        set { raw[path: ["selector", "matchLabels"]] = newValue.json }
    }
    public var targetPorts: [InferencePoolPort] {
        get { self[field: "targetPorts"] ?? [] }
        set { self[field: "targetPorts"] = newValue }
    }
    /// The name of `spec.endpointPickerRef` (the endpoint picker's Service), when set.
    public var endpointPickerName: String? { raw[path: ["endpointPickerRef", "name"]]?.stringValue }

    /// Whether a pod with these labels is a member (every `matchLabels` pair present; an empty selector selects
    /// nothing, as the Inference Extension requires a selector).
    public func selects(labels: [String: String]) -> Bool {
        let match = matchLabels
        guard !match.isEmpty else { return false }
        return match.allSatisfy { labels[$0.key] == $0.value }
    }
}

/// `inference.networking.k8s.io/v1 InferencePool`: a set of model-server pods behind an endpoint picker, the
/// backend of an HTTPRoute's `backendRefs` with `group: inference.networking.k8s.io, kind: InferencePool`.
public struct InferencePool: KubernetesResource, Hashable {
    public static let resource = ResourceDescriptor.inferencePools
    /// The backendRef `group` that names an InferencePool.
    public static let group = "inference.networking.k8s.io"
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: InferencePoolSpec
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: InferencePoolSpec, status: JSONValue? = nil) {
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
        spec = try c.decodeIfPresent(InferencePoolSpec.self, forKey: .spec) ?? InferencePoolSpec(raw: .object([:]))
        status = try c.decodeIfPresent(JSONValue.self, forKey: .status)
    }

    /// Whether a pod with these labels is a member (see `InferencePoolSpec.selects(labels:)`).
    public func selects(labels: [String: String]) -> Bool { spec.selects(labels: labels) }
}

extension HTTPBackendRef {
    /// Whether this backendRef names an InferencePool (`group: inference.networking.k8s.io`, `kind: InferencePool`).
    public var isInferencePool: Bool { group == InferencePool.group && kind == "InferencePool" }
    /// Whether this backendRef names a Service (`group` absent or empty, `kind` absent or `Service`).
    public var isService: Bool { (group ?? "").isEmpty && (kind ?? "Service") == "Service" }
}
