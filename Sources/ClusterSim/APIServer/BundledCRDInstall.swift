import Foundation
import KubeCore

/// The CRDs of `crds/` (ModelRollout and our subsets of the Gateway API HTTPRoute and the Inference Extension's
/// InferencePool), bundled into the binary so the emulated cluster can serve them without reading files at run
/// time.
public enum BundledCRDs {
    /// Every bundled CRD as (file name, YAML text), in file-name order.
    public static let all: [(name: String, yaml: String)] = BundledCRDText.all

    /// Every bundled CRD parsed into JSON, in file-name order.
    public static func objects() throws(BundledCRDError) -> [JSONValue] {
        try all.map { file throws(BundledCRDError) in try parse(file) }
    }

    /// Creates every bundled CRD in `storage` the way a POST to
    /// `/apis/apiextensions.k8s.io/v1/customresourcedefinitions` does: the CRD checks (names, versions,
    /// structural schema, printer columns), then the write, after which storage serves the custom resources.
    /// A CRD that already exists is left as it is.
    public static func install(into storage: ObjectStorage) async throws {
        for file in all {
            let object = try parse(file)
            let name = object[path: ["metadata", "name"]]?.stringValue ?? file.name
            let causes = CRDValidation.validate(object)
            if !causes.isEmpty {
                throw APIStatus.invalid(.customResourceDefinitions, name: name, causes: causes)
            }
            do {
                _ = try await storage.create(.customResourceDefinitions, object, dryRun: false)
            } catch {
                if error.isAlreadyExists { continue }
                throw error
            }
        }
    }

    static func parse(_ file: (name: String, yaml: String)) throws(BundledCRDError) -> JSONValue {
        let object: JSONValue
        do { object = try YAMLBody.parse(file.yaml) } catch {
            throw BundledCRDError(file: file.name, message: "invalid YAML: \(error)")
        }
        guard object["kind"]?.stringValue == "CustomResourceDefinition" else {
            throw BundledCRDError(file: file.name, message: "not a CustomResourceDefinition")
        }
        return object
    }
}

/// A bundled CRD file that does not parse as a CustomResourceDefinition.
public struct BundledCRDError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}
