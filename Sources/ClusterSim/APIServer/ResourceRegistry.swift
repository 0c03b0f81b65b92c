import Foundation
import KubeCore

/// Identifies where objects of one resource type are stored: group plus plural, independent of the version
/// they are served in (custom resources with several versions share one store, conversion strategy `None`).
/// Events of `events.k8s.io` share the core `events` store (see `EventConversion`).
public struct ResourceKey: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var resource: String

    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
    }

    public init(_ descriptor: ResourceDescriptor) {
        if EventConversion.isEventsV1(descriptor) {
            self = EventConversion.storageKey
        } else {
            self.init(group: descriptor.group, resource: descriptor.resource)
        }
    }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

/// The `/scale` subresource paths of a custom resource (`.spec.replicas` style JSONPaths).
public struct ScalePaths: Sendable, Hashable {
    public var specReplicasPath: String
    public var statusReplicasPath: String
    public var labelSelectorPath: String?

    public init(specReplicasPath: String, statusReplicasPath: String, labelSelectorPath: String?) {
        self.specReplicasPath = specReplicasPath
        self.statusReplicasPath = statusReplicasPath
        self.labelSelectorPath = labelSelectorPath
    }
}

/// Everything the emulated API server knows about one served resource (one group/version/plural).
public struct ResourceInfo: Sendable {
    public var descriptor: ResourceDescriptor
    public var singular: String
    public var shortNames: [String]
    public var categories: [String]
    /// Subresource names: `status`, `scale`, `log`, `proxy`.
    public var subresources: [String]
    /// True for resources defined by a CustomResourceDefinition.
    public var isCustom: Bool
    /// `openAPIV3Schema` of a CR version.
    public var schema: JSONValue?
    /// `additionalPrinterColumns` of a CR version.
    public var printerColumns: JSONValue?
    public var scale: ScalePaths?
    /// Extra field-selector paths (CRD `selectableFields`, pod fields), without the leading dot.
    public var selectableFields: [String]
    public var listKind: String
    /// Whether objects carry `metadata.generation`.
    public var tracksGeneration: Bool
    /// Whether create resets `.status` (Deployments, ReplicaSets, CRs with the status subresource).
    public var dropsStatusOnCreate: Bool

    public init(
        descriptor: ResourceDescriptor, singular: String, shortNames: [String] = [], categories: [String] = [],
        subresources: [String] = [], isCustom: Bool = false, schema: JSONValue? = nil,
        printerColumns: JSONValue? = nil, scale: ScalePaths? = nil, selectableFields: [String] = [],
        listKind: String? = nil, tracksGeneration: Bool = false, dropsStatusOnCreate: Bool = false
    ) {
        self.descriptor = descriptor
        self.singular = singular
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
        self.isCustom = isCustom
        self.schema = schema
        self.printerColumns = printerColumns
        self.scale = scale
        self.selectableFields = selectableFields
        self.listKind = listKind ?? descriptor.kind + "List"
        self.tracksGeneration = tracksGeneration
        self.dropsStatusOnCreate = dropsStatusOnCreate
    }

    public var key: ResourceKey { ResourceKey(descriptor) }
    public var hasStatus: Bool { subresources.contains("status") }
    public var verbs: [String] { ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] }
}

/// The built-in resources plus the ones defined by stored CRDs.
public struct ResourceRegistry: Sendable {
    /// Built-in resources, in discovery order.
    public static let builtins: [ResourceInfo] = [
        ResourceInfo(descriptor: .namespaces, singular: "namespace", shortNames: ["ns"], subresources: ["status"]),
        ResourceInfo(
            descriptor: .pods, singular: "pod", shortNames: ["po"], categories: ["all"],
            subresources: ["status", "log", "proxy"],
            selectableFields: [
                "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName",
            ]),
        ResourceInfo(
            descriptor: .services, singular: "service", shortNames: ["svc"], categories: ["all"],
            subresources: ["status"]),
        ResourceInfo(descriptor: .configMaps, singular: "configmap", shortNames: ["cm"]),
        ResourceInfo(descriptor: .secrets, singular: "secret"),
        ResourceInfo(descriptor: .serviceAccounts, singular: "serviceaccount", shortNames: ["sa"]),
        ResourceInfo(descriptor: .endpoints, singular: "endpoints", shortNames: ["ep"]),
        ResourceInfo(descriptor: .nodes, singular: "node", shortNames: ["no"], subresources: ["status"]),
        ResourceInfo(
            descriptor: .coreEvents, singular: "event", shortNames: ["ev"],
            selectableFields: EventConversion.coreSelectableFields),
        ResourceInfo(
            descriptor: .deployments, singular: "deployment", shortNames: ["deploy"], categories: ["all"],
            subresources: ["status", "scale"], scale: ScalePaths(
                specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas",
                labelSelectorPath: nil),
            tracksGeneration: true, dropsStatusOnCreate: true),
        ResourceInfo(
            descriptor: .replicaSets, singular: "replicaset", shortNames: ["rs"], categories: ["all"],
            subresources: ["status", "scale"], scale: ScalePaths(
                specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas",
                labelSelectorPath: nil),
            tracksGeneration: true, dropsStatusOnCreate: true),
        ResourceInfo(
            descriptor: .events, singular: "event", shortNames: ["ev"],
            selectableFields: EventConversion.eventsSelectableFields),
        ResourceInfo(descriptor: .leases, singular: "lease"),
        ResourceInfo(descriptor: .roles, singular: "role"),
        ResourceInfo(descriptor: .roleBindings, singular: "rolebinding"),
        ResourceInfo(descriptor: .clusterRoles, singular: "clusterrole"),
        ResourceInfo(descriptor: .clusterRoleBindings, singular: "clusterrolebinding"),
        ResourceInfo(
            descriptor: .customResourceDefinitions, singular: "customresourcedefinition",
            shortNames: ["crd", "crds"], categories: ["api-extensions"], subresources: ["status"],
            tracksGeneration: true),
    ]

    /// Served custom resource versions, derived from the stored CRDs.
    public private(set) var custom: [ResourceInfo] = []

    public init() {}

    /// All served resources, built-ins first.
    public var all: [ResourceInfo] { Self.builtins + custom }

    /// The served resource for `group`/`version`/`resource`, or nil.
    public func lookup(group: String, version: String, resource: String) -> ResourceInfo? {
        all.first {
            $0.descriptor.group == group && $0.descriptor.version == version && $0.descriptor.resource == resource
        }
    }

    /// The served resource for a descriptor (by group, version and plural).
    public func lookup(_ d: ResourceDescriptor) -> ResourceInfo? {
        lookup(group: d.group, version: d.version, resource: d.resource)
            ?? all.first { $0.descriptor.group == d.group && $0.descriptor.resource == d.resource }
    }

    /// Any served version of a stored resource.
    public func lookup(key: ResourceKey) -> ResourceInfo? {
        all.first { $0.key == key }
    }

    /// Groups with their versions in preference order (core group "" first).
    public var groupVersions: [(group: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for info in all {
            let g = info.descriptor.group
            if versions[g] == nil {
                order.append(g)
                versions[g] = []
            }
            if versions[g]?.contains(info.descriptor.version) == false { versions[g]?.append(info.descriptor.version) }
        }
        return order.map { ($0, versions[$0] ?? []) }
    }

    /// Rebuilds the custom resources from the current CRD objects.
    public mutating func rebuild(crds: [JSONValue]) {
        custom = crds.flatMap(Self.resources(fromCRD:))
    }

    /// The served versions of one CRD. CRDs being deleted are not served.
    public static func resources(fromCRD crd: JSONValue) -> [ResourceInfo] {
        guard crd[path: ["metadata", "deletionTimestamp"]] == nil,
            let spec = crd["spec"], let group = spec["group"]?.stringValue,
            let names = spec["names"], let plural = names["plural"]?.stringValue,
            let kind = names["kind"]?.stringValue
        else { return [] }
        let namespaced = (spec["scope"]?.stringValue ?? "Namespaced") == "Namespaced"
        var result: [ResourceInfo] = []
        for version in spec["versions"]?.arrayValue ?? [] {
            guard let name = version["name"]?.stringValue, version["served"]?.boolValue ?? true else { continue }
            var subresources: [String] = []
            if version[path: ["subresources", "status"]] != nil { subresources.append("status") }
            var scale: ScalePaths?
            if let s = version[path: ["subresources", "scale"]] {
                subresources.append("scale")
                scale = ScalePaths(
                    specReplicasPath: s["specReplicasPath"]?.stringValue ?? ".spec.replicas",
                    statusReplicasPath: s["statusReplicasPath"]?.stringValue ?? ".status.replicas",
                    labelSelectorPath: s["labelSelectorPath"]?.stringValue)
            }
            let selectable = (version["selectableFields"]?.arrayValue ?? []).compactMap {
                $0["jsonPath"]?.stringValue.map { $0.hasPrefix(".") ? String($0.dropFirst()) : $0 }
            }
            let descriptor = ResourceDescriptor(
                group: group, version: name, resource: plural, kind: kind, namespaced: namespaced)
            result.append(
                ResourceInfo(
                    descriptor: descriptor, singular: names["singular"]?.stringValue ?? kind.lowercased(),
                    shortNames: (names["shortNames"]?.arrayValue ?? []).compactMap(\.stringValue),
                    categories: (names["categories"]?.arrayValue ?? []).compactMap(\.stringValue),
                    subresources: subresources, isCustom: true,
                    schema: version[path: ["schema", "openAPIV3Schema"]],
                    printerColumns: version["additionalPrinterColumns"], scale: scale,
                    selectableFields: selectable, listKind: names["listKind"]?.stringValue,
                    tracksGeneration: true, dropsStatusOnCreate: subresources.contains("status")))
        }
        return result
    }
}
