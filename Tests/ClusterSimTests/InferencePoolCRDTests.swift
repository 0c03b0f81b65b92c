import Foundation
import KubeCore
import Testing

@testable import ClusterSim

/// The bundled InferencePool CRD (our subset of `inference.networking.k8s.io/v1`): installed and discoverable,
/// a valid pool is accepted with the upstream defaults, invalid pools are refused with the schema's field errors,
/// and `kubectl get inferencepools` gets our printer columns.
@Suite("Bundled InferencePool CRD")
struct InferencePoolCRDTests {
    static let pools = "/apis/inference.networking.k8s.io/v1/namespaces/llm-serving/inferencepools"

    /// A valid pool `name` selecting `app: vllm-llama-r1` on port 8000, with `spec` keys replaced by `spec`.
    static func pool(_ name: String, spec: JSONValue = [:]) -> JSONValue {
        var s: JSONValue = [
            "selector": ["matchLabels": ["app": "vllm-llama-r1"]], "targetPorts": [["number": 8000]],
            "endpointPickerRef": ["name": "vllm-llama-r1-epp", "port": ["number": 9002]],
        ]
        for (k, v) in spec.objectValue ?? [:] { s[k] = v }
        return [
            "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
            "metadata": ["name": .string(name), "namespace": "llm-serving"], "spec": s,
        ]
    }

    @Test func installedAndDiscoverable() async throws {
        try await BundledCRDTests.withCRDs { cluster in
            let info = try #require(await cluster.server.storage.registry.lookup(.inferencePools))
            #expect(info.singular == "inferencepool")
            #expect(info.shortNames == ["infpool"])
            #expect(info.categories == ["gateway-api-inference-extension"])
            #expect(info.descriptor.namespaced)

            let groups = try await cluster.request(.GET, "/apis").json
            let names = (groups["groups"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(names.contains("inference.networking.k8s.io"), "\(names)")
            let list = try await cluster.request(.GET, "/apis/inference.networking.k8s.io/v1").json
            let resources = list["resources"]?.arrayValue ?? []
            #expect(resources.compactMap { $0["name"]?.stringValue } == ["inferencepools", "inferencepools/status"])
            let pools = try #require(resources.first)
            #expect(pools["kind"] == "InferencePool")
            #expect(pools["namespaced"] == true)
            #expect(pools["shortNames"] == ["infpool"])
        }
    }

    @Test func theEmulatedClusterInstallsIt() async throws {
        var configuration = EmulatedCluster.Configuration(workloads: false)
        configuration.api.port = 0
        let cluster = EmulatedCluster(configuration: configuration)
        _ = try await cluster.start()
        let installed = await cluster.storage.registry.lookup(.inferencePools)
        await cluster.stop()
        #expect(installed?.descriptor.kind == "InferencePool")
    }

    @Test func aValidPoolIsAcceptedWithTheDefaults() async throws {
        try await BundledCRDTests.withCRDs { cluster in
            let reply = try await cluster.json(.POST, Self.pools + "?fieldValidation=Strict", Self.pool("chat"))
            #expect(reply.status == 201, "\(reply.body)")
            let spec = try #require(reply.json["spec"])
            #expect(spec["appProtocol"] == "http")
            #expect(
                spec["endpointPickerRef"] == [
                    "group": "", "kind": "Service", "name": "vllm-llama-r1-epp", "port": ["number": 9002],
                    "failureMode": "FailClose",
                ])
            #expect(spec["targetPorts"] == [["number": 8000]])

            // Decodes into the KubeCore type the operator uses.
            let pool = try JSONDecoder().decode(InferencePool.self, from: Data(reply.json.jsonBytes))
            #expect(pool.spec.matchLabels == ["app": "vllm-llama-r1"])
            #expect(pool.spec.targetPorts.map(\.number) == [8000])
            #expect(pool.spec.endpointPickerName == "vllm-llama-r1-epp")

            // Several ports, no endpoint picker: still valid.
            var pickerless = Self.pool("multi", spec: ["targetPorts": [["number": 8000], ["number": 8001]]])
            pickerless["spec"]?["endpointPickerRef"] = nil
            let multi = try await cluster.json(.POST, Self.pools, pickerless)
            #expect(multi.status == 201, "\(multi.body)")
        }
    }

    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var name: String
        var spec: JSONValue
        var remove: [String] = []
        var cause: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        InvalidCase(
            name: "no targetPorts", spec: [:], remove: ["targetPorts"], cause: "spec.targetPorts: Required value"),
        InvalidCase(
            name: "0 targetPorts", spec: ["targetPorts": []],
            cause: "spec.targetPorts: Invalid value: 0: spec.targetPorts in body should have at least 1 items"),
        InvalidCase(
            name: "9 targetPorts", spec: ["targetPorts": .array((1...9).map { ["number": .int(Int64(8000 + $0))] })],
            cause: "spec.targetPorts: Too many: 9: must have at most 8 items"),
        InvalidCase(
            name: "port 70000", spec: ["targetPorts": [["number": 70000]]],
            cause: "spec.targetPorts[0].number: Invalid value: 70000: "
                + "spec.targetPorts[0].number in body should be less than or equal to 65535"),
        InvalidCase(
            name: "port without number", spec: ["targetPorts": [[:]]],
            cause: "spec.targetPorts[0].number: Required value"),
        InvalidCase(
            name: "duplicate port", spec: ["targetPorts": [["number": 8000], ["number": 8000]]],
            cause: "spec.targetPorts[1]: Duplicate value"),
        InvalidCase(
            name: "no matchLabels", spec: ["selector": [:]], cause: "spec.selector.matchLabels: Required value"),
        InvalidCase(
            name: "empty matchLabels", spec: ["selector": ["matchLabels": [:]]],
            cause: "spec.selector.matchLabels: Invalid value: 0: "
                + "spec.selector.matchLabels in body should have at least 1 properties"),
        InvalidCase(name: "no selector", spec: [:], remove: ["selector"], cause: "spec.selector: Required value"),
        InvalidCase(
            name: "appProtocol grpc", spec: ["appProtocol": "grpc"],
            cause: #"spec.appProtocol: Unsupported value: "grpc": supported values: "http", "kubernetes.io/h2c""#),
        InvalidCase(
            name: "failureMode", spec: ["endpointPickerRef": ["name": "epp", "failureMode": "Retry"]],
            cause: #"spec.endpointPickerRef.failureMode: Unsupported value: "Retry""#),
        InvalidCase(
            name: "endpointPickerRef without name", spec: ["endpointPickerRef": ["port": ["number": 9002]]],
            cause: "spec.endpointPickerRef.name: Required value"),
    ])
    func invalidPoolsAreRejected(_ c: InvalidCase) async throws {
        try await BundledCRDTests.withCRDs { cluster in
            var object = Self.pool("bad", spec: c.spec)
            for key in c.remove { object["spec"]?[key] = nil }
            let reply = try await cluster.json(.POST, Self.pools, object)
            #expect(reply.status == 422, "\(reply.body)")
            #expect(reply.json["reason"] == "Invalid")
            let message = reply.json["message"]?.stringValue ?? ""
            #expect(
                message.hasPrefix(#"InferencePool.inference.networking.k8s.io "bad" is invalid: "#), "\(message)")
            #expect(message.contains(c.cause), "\(message)")
        }
    }

    @Test func printerColumnsRender() async throws {
        try await BundledCRDTests.withCRDs { cluster in
            #expect(try await cluster.json(.POST, Self.pools, Self.pool("chat")).status == 201)
            let table = try await cluster.request(
                .GET, Self.pools, headers: [("Accept", BundledCRDTests.tableAccept)]
            ).json
            let columns = table["columnDefinitions"]?.arrayValue ?? []
            #expect(
                columns.compactMap { $0["name"]?.stringValue } == [
                    "Name", "Selector", "Target Port", "Endpoint Picker", "Age",
                ])
            #expect(columns.compactMap { $0["priority"]?.intValue } == [0, 0, 0, 1, 0])
            let cells = table["rows"]?.arrayValue?.first?["cells"]?.arrayValue ?? []
            #expect(Array(cells.prefix(4)) == ["chat", #"{"app":"vllm-llama-r1"}"#, 8000, "vllm-llama-r1-epp"])
        }
    }
}
