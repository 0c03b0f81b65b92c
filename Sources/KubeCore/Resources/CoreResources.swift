import Foundation

/// `core/v1 ServicePort`.
public struct ServicePort: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(name: String? = nil, port: Int32, targetPort: JSONValue? = nil, protocol proto: String? = nil) {
        raw = .object([:])
        self.name = name
        self.port = port
        self.targetPort = targetPort
        self[field: "protocol"] = proto
    }

    public var name: String? {
        get { self[field: "name"] }
        set { self[field: "name"] = newValue }
    }
    public var port: Int32 {
        get { self[field: "port"] ?? 0 }
        set { self[field: "port"] = newValue }
    }
    /// An int or a named port (string).
    public var targetPort: JSONValue? {
        get { self[field: "targetPort"] }
        set { self[field: "targetPort"] = newValue }
    }
}

/// `core/v1 ServiceSpec`.
public struct ServiceSpec: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(selector: [String: String]? = nil, ports: [ServicePort], type: String? = nil) {
        raw = .object([:])
        self.selector = selector
        self.ports = ports
        self.type = type
    }

    public var selector: [String: String]? {
        get { self[field: "selector"] }
        set { self[field: "selector"] = newValue }
    }
    public var ports: [ServicePort] {
        get { self[field: "ports"] ?? [] }
        set { self[field: "ports"] = newValue }
    }
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`.
    public var type: String? {
        get { self[field: "type"] }
        set { self[field: "type"] = newValue }
    }
    public var clusterIP: String? {
        get { self[field: "clusterIP"] }
        set { self[field: "clusterIP"] = newValue }
    }
}

/// `core/v1 Service`.
public struct Service: KubernetesResource, Hashable {
    public static let resource = ResourceDescriptor.services
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ServiceSpec
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: ServiceSpec, status: JSONValue? = nil) {
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
        spec = try c.decodeIfPresent(ServiceSpec.self, forKey: .spec) ?? ServiceSpec(raw: .object([:]))
        status = try c.decodeIfPresent(JSONValue.self, forKey: .status)
    }
}

/// `core/v1 ConfigMap`.
public struct ConfigMap: KubernetesResource, Hashable {
    public static let resource = ResourceDescriptor.configMaps
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var data: [String: String]?
    /// Base64-encoded values.
    public var binaryData: [String: String]?
    public var immutable: Bool?

    public init(
        metadata: ObjectMeta, data: [String: String]? = nil, binaryData: [String: String]? = nil,
        immutable: Bool? = nil
    ) {
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
        self.metadata = metadata
        self.data = data
        self.binaryData = binaryData
        self.immutable = immutable
    }
}

/// `core/v1 Secret`. `data` values are base64 text as on the wire; see `decodedData`.
public struct Secret: KubernetesResource, Hashable {
    public static let resource = ResourceDescriptor.secrets
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var type: String?
    public var data: [String: String]?
    /// Write-only plain-text values the server merges into `data`.
    public var stringData: [String: String]?
    public var immutable: Bool?

    public init(
        metadata: ObjectMeta, type: String? = nil, data: [String: String]? = nil,
        stringData: [String: String]? = nil
    ) {
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
        self.metadata = metadata
        self.type = type
        self.data = data
        self.stringData = stringData
    }

    /// The decoded bytes of `data[key]`; `nil` when absent or not valid base64.
    public func decodedData(_ key: String) -> [UInt8]? {
        guard let text = data?[key], let bytes = Data(base64Encoded: text) else { return nil }
        return Array(bytes)
    }

    /// Sets `data[key]` to the base64 encoding of `bytes`.
    public mutating func setData(_ key: String, _ bytes: [UInt8]) {
        var d = data ?? [:]
        d[key] = Data(bytes).base64EncodedString()
        data = d
    }
}

/// `core/v1 Namespace`.
public struct Namespace: KubernetesResource, Hashable {
    public static let resource = ResourceDescriptor.namespaces
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public init(metadata: ObjectMeta) {
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
        self.metadata = metadata
    }

    /// `status.phase`: `Active` or `Terminating`.
    public var phase: String? { status?["phase"]?.stringValue }
}

/// `autoscaling/v1 Scale`, the `/scale` subresource.
public struct Scale: Codable, Sendable, Hashable {
    /// `spec` of a Scale.
    public struct Spec: Codable, Sendable, Hashable {
        public var replicas: Int32?
        public init(replicas: Int32? = nil) { self.replicas = replicas }
    }
    /// `status` of a Scale.
    public struct Status: Codable, Sendable, Hashable {
        public var replicas: Int32
        public var selector: String?
        public init(replicas: Int32 = 0, selector: String? = nil) {
            self.replicas = replicas
            self.selector = selector
        }
        enum CodingKeys: String, CodingKey { case replicas, selector }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            replicas = try c.decodeIfPresent(Int32.self, forKey: .replicas) ?? 0
            selector = try c.decodeIfPresent(String.self, forKey: .selector)
        }
    }

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(metadata: ObjectMeta, replicas: Int32) {
        apiVersion = "autoscaling/v1"
        kind = "Scale"
        self.metadata = metadata
        spec = Spec(replicas: replicas)
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try c.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec()
        status = try c.decodeIfPresent(Status.self, forKey: .status)
    }
}

/// Any object, e.g. a custom resource, kept as JSON with typed access to its metadata.
public struct DynamicObject: JSONBackedObject, CustomStringConvertible {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    /// A new object of the given type.
    public init(_ resource: ResourceDescriptor, metadata: ObjectMeta, fields: [String: JSONValue] = [:]) {
        var o = fields
        o["apiVersion"] = .string(resource.apiVersion)
        o["kind"] = .string(resource.kind)
        raw = .object(o)
        self.metadata = metadata
    }

    public var apiVersion: String? { self[field: "apiVersion"] }
    public var kind: String? { self[field: "kind"] }

    /// `metadata` decoded; setting it replaces the modelled metadata fields and keeps unknown ones.
    public var metadata: ObjectMeta {
        get { raw["metadata"].flatMap { try? KubeJSON.fromJSONValue(ObjectMeta.self, $0) } ?? ObjectMeta() }
        set {
            guard case .object(let encoded)? = try? KubeJSON.toJSONValue(newValue) else { return }
            var merged = raw["metadata"]?.objectValue ?? [:]
            for key in ObjectMeta.CodingKeys.allKeys { merged[key] = encoded[key] }
            self[field: "metadata"] = JSONValue.object(merged)
        }
    }

    /// Member lookup on the underlying JSON.
    public subscript(key: String) -> JSONValue? {
        get { raw[key] }
        set { raw[key] = newValue }
    }

    public var key: ObjectKey { ObjectKey(namespace: metadata.namespace, name: metadata.name ?? "") }
    public var description: String { raw.serialized() }
}

extension ObjectMeta.CodingKeys {
    static let allKeys: [String] = [
        "name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "finalizers",
        "ownerReferences", "managedFields",
    ]
}
