import Foundation
import KubeCore
import Yams

/// A manifest document that cannot be installed.
public struct ManifestError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Installs plain YAML manifests (such as the RBAC, ServiceAccount and Deployment of `manifests/`) straight into
/// the emulated cluster's storage, as an administrator would with `kubectl apply -f`.
public enum ClusterManifests {
    /// The objects of a multi-document YAML text (`---` separated; empty documents and `List`s are flattened).
    public static func parse(yaml: String) throws(ManifestError) -> [JSONValue] {
        var nodes: [Node] = []
        do {
            let parser = try Parser(yaml: yaml)
            while let node = try parser.nextRoot() { nodes.append(node) }
        } catch {
            throw ManifestError("invalid YAML: \(error)")
        }
        var objects: [JSONValue] = []
        for node in nodes {
            let value = YAMLBody.convert(node)
            if value == .null { continue }
            guard value.objectValue != nil else { throw ManifestError("a YAML document is not an object") }
            if value["kind"]?.stringValue?.hasSuffix("List") == true, let items = value["items"]?.arrayValue {
                objects.append(contentsOf: items)
            } else {
                objects.append(value)
            }
        }
        return objects
    }

    /// Creates each object (or replaces it when it exists), in order; `namespace` is used for namespaced objects
    /// without one. Returns the descriptors and names written, e.g. `clusterroles.rbac.authorization.k8s.io/x`.
    @discardableResult
    public static func apply(
        _ objects: [JSONValue], to storage: ObjectStorage, namespace: String = "default"
    ) async throws -> [String] {
        var written: [String] = []
        for var object in objects {
            let registry = await storage.registry
            guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
                let name = object[path: ["metadata", "name"]]?.stringValue
            else { throw ManifestError("an object lacks apiVersion, kind or metadata.name") }
            let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
            let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
            guard
                let info = registry.all.first(where: {
                    $0.descriptor.group == group && $0.descriptor.version == version && $0.descriptor.kind == kind
                })
            else { throw ManifestError("no resource of kind \(kind) in \(apiVersion) is served") }
            let descriptor = info.descriptor
            var objectNamespace: String?
            if descriptor.namespaced {
                let ns = object[path: ["metadata", "namespace"]]?.stringValue ?? namespace
                object[path: ["metadata", "namespace"]] = .string(ns)
                objectNamespace = ns
            }
            if let existing = await storage.get(descriptor, namespace: objectNamespace, name: name) {
                object[path: ["metadata", "resourceVersion"]] = existing[path: ["metadata", "resourceVersion"]]
                _ = try await storage.update(descriptor, object, subresource: nil)
            } else {
                _ = try await storage.create(descriptor, object)
            }
            written.append("\(descriptor.qualifiedResource)/\(name)")
        }
        return written
    }
}
