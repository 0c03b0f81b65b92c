import Foundation
import KubeCore
import Testing

@testable import KubeClient

@Suite("KubeClientTests.ResourceCoding")
struct ResourceCodingTests {
    static let t = Date(timeIntervalSince1970: 1_764_063_906.5)  // 2025-11-25T09:45:06.5Z

    @Test func leaseMicroTimeHasSixDigits() throws {
        var lease = Lease(
            metadata: ObjectMeta(name: "mr-leader", namespace: "ns"),
            spec: .init(holderIdentity: "pod-a", leaseDurationSeconds: 15, acquireTime: Self.t, renewTime: Self.t, leaseTransitions: 0))
        lease.spec.renewTime = Date(timeIntervalSince1970: 1_764_063_906)
        let json = try KubeJSON.toJSONValue(lease)
        #expect(json[path: ["spec", "acquireTime"]] == "2025-11-25T09:45:06.500000Z")
        #expect(json[path: ["spec", "renewTime"]] == "2025-11-25T09:45:06.000000Z")
        #expect(json["apiVersion"] == "coordination.k8s.io/v1")
        let back = try KubeJSON.fromJSONValue(Lease.self, json)
        #expect(back.spec.acquireTime == Self.t)
        #expect(back.spec.holderIdentity == "pod-a")
    }

    @Test func eventMicroTimeAndFields() throws {
        let pod = Pod(metadata: ObjectMeta(name: "p", namespace: "ns", uid: "u1"), spec: PodSpec(containers: []))
        let event = Event(
            metadata: ObjectMeta(name: "p.1", namespace: "ns"), eventTime: Self.t,
            reportingController: "modelrollout.io/controller", reportingInstance: "pod-a", action: "Probe",
            reason: "ModelLoaded", regarding: ObjectReference(to: pod), note: "ready", type: "Normal",
            series: .init(count: 2, lastObservedTime: Self.t))
        let text = String(decoding: try KubeJSON.encode(event), as: UTF8.self)
        #expect(text.contains(#""eventTime":"2025-11-25T09:45:06.500000Z""#))
        #expect(text.contains(#""lastObservedTime":"2025-11-25T09:45:06.500000Z""#))
        #expect(text.contains(#""regarding":{"apiVersion":"v1","kind":"Pod","name":"p","namespace":"ns","uid":"u1"}"#))
        #expect(!text.contains("deprecated"))
        let back = try KubeJSON.decode(Event.self, from: Array(text.utf8))
        #expect(back == event)
    }

    @Test func metadataTimesAreRFC3339Seconds() throws {
        let meta = ObjectMeta(name: "x", creationTimestamp: Self.t, managedFields: [["manager": "m"]])
        let json = try KubeJSON.toJSONValue(meta)
        #expect(json["creationTimestamp"] == "2025-11-25T09:45:06Z")
        // Works with a plain JSONEncoder too (no date strategy needed).
        let plain = String(decoding: try JSONEncoder().encode(meta), as: UTF8.self)
        #expect(plain.contains("2025-11-25T09:45:06Z"))
        #expect(throws: DecodingError.self) {
            _ = try KubeJSON.decode(ObjectMeta.self, from: Array(#"{"creationTimestamp":"yesterday"}"#.utf8))
        }
    }

    @Test func httpRouteRoundTripKeepsUnknownFields() throws {
        let text = """
            {"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"r","namespace":"ns"},
            "spec":{"parentRefs":[{"name":"gw"}],"hostnames":["a.example"],"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/"}}],
            "timeouts":{"request":"10s"},"backendRefs":[{"name":"old","port":8000,"weight":90},{"name":"new","port":8000}]}]},
            "status":{"parents":[]}}
            """
        var route = try KubeJSON.decode(HTTPRoute.self, from: Array(text.utf8))
        #expect(route.spec.parentRefs.map(\.name) == ["gw"])
        #expect(route.spec.rules[0].backendRefs.map(\.effectiveWeight) == [90, 1])
        route.spec.rules[0].backendRefs[1].weight = 10
        let json = try KubeJSON.toJSONValue(route)
        #expect(json[path: ["spec", "rules"]]?.arrayValue?.first?[path: ["timeouts", "request"]] == "10s")
        #expect(json[path: ["spec", "rules"]]?.arrayValue?.first?["backendRefs"]?.arrayValue?[1]["weight"] == .int(10))
        #expect(json[path: ["status", "parents"]] == .array([]))
    }

    @Test func builtInitialisersProduceKubernetesJSON() throws {
        let d = Deployment(
            metadata: ObjectMeta(name: "web", namespace: "ns"),
            spec: DeploymentSpec(
                replicas: 2, selector: LabelSelectorSpec(matchLabels: ["app": "web"]),
                template: PodTemplateSpec(
                    metadata: ObjectMeta(labels: ["app": "web"]),
                    spec: PodSpec(containers: [Container(name: "vllm", image: "vllm:1", args: ["--port", "8000"], ports: [ContainerPort(containerPort: 8000)])]))))
        let json = try KubeJSON.toJSONValue(d)
        #expect(
            json.serialized()
                == #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"ns"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"args":["--port","8000"],"image":"vllm:1","name":"vllm","ports":[{"containerPort":8000}]}]}}}}"#
        )
        var secret = Secret(metadata: ObjectMeta(name: "s"))
        secret.setData("k", Array("v".utf8))
        #expect(secret.data == ["k": "dg=="])
        #expect(secret.decodedData("k") == Array("v".utf8))
    }
}
