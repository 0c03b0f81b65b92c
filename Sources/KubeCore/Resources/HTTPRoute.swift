import Foundation

/// A Gateway API `ParentReference` (usually a Gateway).
public struct ParentReference: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(name: String, namespace: String? = nil, sectionName: String? = nil) {
        raw = .object([:])
        self.name = name
        self.namespace = namespace
        self.sectionName = sectionName
    }

    public var group: String? {
        get { self[field: "group"] }
        set { self[field: "group"] = newValue }
    }
    public var kind: String? {
        get { self[field: "kind"] }
        set { self[field: "kind"] = newValue }
    }
    public var name: String {
        get { self[field: "name"] ?? "" }
        set { self[field: "name"] = newValue }
    }
    public var namespace: String? {
        get { self[field: "namespace"] }
        set { self[field: "namespace"] = newValue }
    }
    public var sectionName: String? {
        get { self[field: "sectionName"] }
        set { self[field: "sectionName"] = newValue }
    }
    public var port: Int32? {
        get { self[field: "port"] }
        set { self[field: "port"] = newValue }
    }
}

/// A Gateway API `HTTPBackendRef`: where a share (`weight`) of a rule's traffic goes.
public struct HTTPBackendRef: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(
        name: String, port: Int32? = nil, weight: Int32? = nil, namespace: String? = nil, group: String? = nil,
        kind: String? = nil
    ) {
        raw = .object([:])
        self.group = group
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.port = port
        self.weight = weight
    }

    /// `""` (core) by default.
    public var group: String? {
        get { self[field: "group"] }
        set { self[field: "group"] = newValue }
    }
    /// `Service` by default.
    public var kind: String? {
        get { self[field: "kind"] }
        set { self[field: "kind"] = newValue }
    }
    public var name: String {
        get { self[field: "name"] ?? "" }
        set { self[field: "name"] = newValue }
    }
    public var namespace: String? {
        get { self[field: "namespace"] }
        set { self[field: "namespace"] = newValue }
    }
    public var port: Int32? {
        get { self[field: "port"] }
        set { self[field: "port"] = newValue }
    }
    /// Relative weight; absent means 1.
    public var weight: Int32? {
        get { self[field: "weight"] }
        set { self[field: "weight"] = newValue }
    }
    /// The weight with the default applied.
    public var effectiveWeight: Int32 { weight ?? 1 }
}

/// A Gateway API `HTTPRouteRule`: matches, filters and weighted backends.
public struct HTTPRouteRule: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(name: String? = nil, matches: [JSONValue]? = nil, backendRefs: [HTTPBackendRef]) {
        raw = .object([:])
        self.name = name
        self.matches = matches
        self.backendRefs = backendRefs
    }

    public var name: String? {
        get { self[field: "name"] }
        set { self[field: "name"] = newValue }
    }
    /// `matches[]` (`{path{type,value}, headers[], queryParams[], method}`) as JSON.
    public var matches: [JSONValue]? {
        get { self[field: "matches"] }
        set { self[field: "matches"] = newValue }
    }
    public var filters: [JSONValue]? {
        get { self[field: "filters"] }
        set { self[field: "filters"] = newValue }
    }
    public var backendRefs: [HTTPBackendRef] {
        get { self[field: "backendRefs"] ?? [] }
        set { self[field: "backendRefs"] = newValue }
    }
}

/// `HTTPRoute` spec (gateway.networking.k8s.io/v1 subset); unmodelled fields are kept.
public struct HTTPRouteSpec: JSONBackedObject {
    public var raw: JSONValue
    public init(raw: JSONValue) { self.raw = raw }

    public init(parentRefs: [ParentReference] = [], hostnames: [String]? = nil, rules: [HTTPRouteRule]) {
        raw = .object([:])
        self.parentRefs = parentRefs
        self.hostnames = hostnames
        self.rules = rules
    }

    public var parentRefs: [ParentReference] {
        get { self[field: "parentRefs"] ?? [] }
        set { self[field: "parentRefs"] = newValue }
    }
    public var hostnames: [String]? {
        get { self[field: "hostnames"] }
        set { self[field: "hostnames"] = newValue }
    }
    public var rules: [HTTPRouteRule] {
        get { self[field: "rules"] ?? [] }
        set { self[field: "rules"] = newValue }
    }
}

/// `gateway.networking.k8s.io/v1 HTTPRoute`; `status` is kept as JSON.
public struct HTTPRoute: KubernetesResource, Hashable {
    public static let resource = ResourceDescriptor.httpRoutes
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: HTTPRouteSpec
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: HTTPRouteSpec, status: JSONValue? = nil) {
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
        spec = try c.decodeIfPresent(HTTPRouteSpec.self, forKey: .spec) ?? HTTPRouteSpec(raw: .object([:]))
        status = try c.decodeIfPresent(JSONValue.self, forKey: .status)
    }
}
