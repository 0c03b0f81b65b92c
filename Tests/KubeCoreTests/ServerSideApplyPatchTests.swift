import Foundation
import Testing

@testable import KubeCore

@Suite struct ServerSideApplyPatchTests {
    static let now = Date(timeIntervalSince1970: 1_795_600_000)
    static let later = Date(timeIntervalSince1970: 1_795_600_060)

    static let deployment = #"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default",
         "labels":{"app":"web"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
         "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1",
         "ports":[{"containerPort":80}]}]}}}}
        """#

    static func createDeployment() throws -> JSONValue {
        try ServerSideApply.apply(json(deployment), to: nil, manager: "demo", force: false, now: now)
    }

    /// An applied configuration that sets only the Deployment's replicas.
    static func replicas(_ count: Int64) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
            "spec": ["replicas": .int(count)],
        ]
    }

    static func managedFields(_ object: JSONValue) -> [JSONValue] {
        object[path: ["metadata", "managedFields"]]?.arrayValue ?? []
    }

    static func fields(of manager: String, in object: JSONValue) -> JSONValue? {
        managedFields(object).first { $0["manager"]?.stringValue == manager }?["fieldsV1"]
    }

    @Test func createWritesTheApplyEntryInFieldsV1Format() throws {
        let created = try Self.createDeployment()
        #expect(created[path: ["spec", "replicas"]] == 1)
        let entries = Self.managedFields(created)
        #expect(entries.count == 1)
        let entry = try #require(entries.first)
        #expect(entry["manager"] == "demo")
        #expect(entry["operation"] == "Apply")
        #expect(entry["apiVersion"] == "apps/v1")
        #expect(entry["time"] == .string(KubeTime.format(Self.now)))
        #expect(entry["fieldsType"] == "FieldsV1")
        let expected = json(#"""
            {"f:metadata":{"f:labels":{"f:app":{}}},
             "f:spec":{"f:replicas":{},"f:selector":{"f:matchLabels":{"f:app":{}}},
              "f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{
               "k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},
                "f:ports":{"k:{\"containerPort\":80}":{".":{},"f:containerPort":{}}}}}}}}}
            """#)
        #expect(entry["fieldsV1"] == expected)
    }

    @Test func reapplyMergesAndKeepsOtherContainers() throws {
        let live = try Self.createDeployment()
        let patch = json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
             "spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy:1"}]}}}}
            """#)
        let result = try ServerSideApply.apply(patch, to: live, manager: "other", force: false, now: Self.later)
        let names = result[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.compactMap { $0["name"] }
        #expect(names == ["web", "sidecar"])
        #expect(Self.managedFields(result).count == 2)
        #expect(
            Self.fields(of: "other", in: result)
                == json(#"{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"sidecar\"}":{".":{},"#
                    + #""f:image":{},"f:name":{}}}}}}}"#))
    }

    @Test func changingAnotherManagersFieldConflicts() throws {
        let live = try Self.createDeployment()
        let patch = Self.replicas(3)
        #expect(throws: ServerSideApply.Conflicts([.init(manager: "demo", field: ".spec.replicas")])) {
            try ServerSideApply.apply(patch, to: live, manager: "scaler", force: false, now: Self.later)
        }
        do {
            _ = try ServerSideApply.apply(patch, to: live, manager: "scaler", force: false, now: Self.later)
        } catch let error as ServerSideApply.Conflicts {
            #expect(error.message == #"Apply failed with 1 conflict: conflict with "demo": .spec.replicas"#)
        }
    }

    @Test func applyingTheSameValueSharesOwnership() throws {
        let live = try Self.createDeployment()
        let patch = Self.replicas(1)
        let result = try ServerSideApply.apply(patch, to: live, manager: "scaler", force: false, now: Self.later)
        #expect(Self.fields(of: "scaler", in: result) == json(#"{"f:spec":{"f:replicas":{}}}"#))
        #expect(Self.fields(of: "demo", in: result)?[path: ["f:spec", "f:replicas"]] == json("{}"))
    }

    @Test func forceMovesOwnership() throws {
        let live = try Self.createDeployment()
        let patch = Self.replicas(3)
        let result = try ServerSideApply.apply(patch, to: live, manager: "scaler", force: true, now: Self.later)
        #expect(result[path: ["spec", "replicas"]] == 3)
        #expect(Self.fields(of: "scaler", in: result) == json(#"{"f:spec":{"f:replicas":{}}}"#))
        #expect(Self.fields(of: "demo", in: result)?[path: ["f:spec", "f:replicas"]] == nil)
        #expect(Self.fields(of: "demo", in: result)?[path: ["f:spec", "f:selector"]] != nil)

        // The former owner re-applying its old value now conflicts with the new owner.
        #expect(throws: ServerSideApply.Conflicts([.init(manager: "scaler", field: ".spec.replicas")])) {
            try ServerSideApply.apply(json(Self.deployment), to: result, manager: "demo", force: false, now: Self.later)
        }
    }

    @Test func fieldsDroppedFromTheConfigurationAreRemoved() throws {
        let first = json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"a":"1","b":"2"}},"#
            + #""data":{"x":"1","y":"2"}}"#)
        let live = try ServerSideApply.apply(first, to: nil, manager: "m", force: false, now: Self.now)
        let second = json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"a":"1"}},"#
            + #""data":{"x":"1"}}"#)
        let result = try ServerSideApply.apply(second, to: live, manager: "m", force: false, now: Self.later)
        #expect(result["data"] == json(#"{"x":"1"}"#))
        #expect(result[path: ["metadata", "labels"]] == json(#"{"a":"1"}"#))
        let expectedFields = json(#"{"f:data":{"f:x":{}},"f:metadata":{"f:labels":{"f:a":{}}}}"#)
        #expect(Self.fields(of: "m", in: result) == expectedFields)
    }

    @Test func droppedFieldsOwnedByAnotherManagerStay() throws {
        let live = json(#"""
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","managedFields":[
              {"manager":"m","operation":"Apply","apiVersion":"v1","time":"2026-01-01T00:00:00Z",
               "fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:x":{},"f:y":{}}}},
              {"manager":"kubectl-edit","operation":"Update","apiVersion":"v1","time":"2026-01-01T00:00:00Z",
               "fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:y":{}}}}]},
             "data":{"x":"1","y":"2"}}
            """#)
        let applied = json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"1"}}"#)
        let result = try ServerSideApply.apply(applied, to: live, manager: "m", force: false, now: Self.later)
        #expect(result["data"] == json(#"{"x":"1","y":"2"}"#))
        #expect(Self.managedFields(result).count == 2)
        #expect(Self.managedFields(result).last == Self.managedFields(live).last)
    }

    @Test func updateManagersAreOwnersToo() throws {
        let live = json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","managedFields":[
              {"manager":"kubectl-scale","operation":"Update","apiVersion":"apps/v1","time":"2026-01-01T00:00:00Z",
               "fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:replicas":{}}}}]},
             "spec":{"replicas":5}}
            """#)
        let applied = Self.replicas(2)
        do {
            _ = try ServerSideApply.apply(applied, to: live, manager: "kubectl", force: false, now: Self.later)
            Issue.record("expected a conflict")
        } catch let error as ServerSideApply.Conflicts {
            #expect(error.conflicts == [.init(manager: "kubectl-scale", field: ".spec.replicas")])
            #expect(
                error.message
                    == #"Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1 at "#
                    + #"2026-01-01T00:00:00Z: .spec.replicas"#)
        }
        let forced = try ServerSideApply.apply(applied, to: live, manager: "kubectl", force: true, now: Self.later)
        #expect(forced[path: ["spec", "replicas"]] == 2)
        // The Update entry lost its only field, so it is gone.
        #expect(Self.managedFields(forced).compactMap { $0["manager"]?.stringValue } == ["kubectl"])
    }

    @Test func severalConflictsAreGroupedByManager() throws {
        let live = json(#"""
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","managedFields":[
              {"manager":"a","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1",
               "fieldsV1":{"f:data":{"f:x":{},"f:y":{}}}},
              {"manager":"b","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1",
               "fieldsV1":{"f:data":{"f:z":{}}}}]},
             "data":{"x":"1","y":"2","z":"3"}}
            """#)
        let applied = json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"#
            + #""data":{"x":"9","y":"9","z":"9"}}"#)
        do {
            _ = try ServerSideApply.apply(applied, to: live, manager: "c", force: false, now: Self.now)
            Issue.record("expected conflicts")
        } catch let error as ServerSideApply.Conflicts {
            #expect(error.conflicts.map(\.field) == [".data.x", ".data.y", ".data.z"])
            #expect(
                error.message
                    == "Apply failed with 3 conflicts: conflicts with \"a\":\n- .data.x\n- .data.y\n"
                    + "conflicts with \"b\":\n- .data.z")
        }
    }

    @Test func noOpApplyLeavesTheObjectIdentical() throws {
        let live = try Self.createDeployment()
        let again = try ServerSideApply.apply(
            json(Self.deployment), to: live, manager: "demo", force: false, now: Self.later)
        #expect(again == live)
    }

    @Test func droppedContainerIsRemovedAndFinalizersMergeAsASet() throws {
        let first = json(#"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","finalizers":["a"]},
             "spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}
            """#)
        let live = try ServerSideApply.apply(first, to: nil, manager: "m", force: false, now: Self.now)
        #expect(Self.fields(of: "m", in: live)?[path: ["f:metadata", "f:finalizers"]] == json(#"{"v:\"a\"":{}}"#))
        let second = json(#"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","finalizers":["a"]},
             "spec":{"containers":[{"name":"a","image":"x"}]}}
            """#)
        let result = try ServerSideApply.apply(second, to: live, manager: "m", force: false, now: Self.later)
        #expect(result[path: ["spec", "containers"]] == json(#"[{"name":"a","image":"x"}]"#))
    }

    @Test func droppedItemPartlyOwnedByAnotherManagerKeepsItsKeyAndTheirFields() throws {
        let live = json(#"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","managedFields":[
              {"manager":"m","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1",
               "fieldsV1":{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:name":{},"f:image":{}}}}}},
              {"manager":"vpa","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1",
               "fieldsV1":{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{"f:resources":{}}}}}}]},
             "spec":{"containers":[{"name":"a","image":"x","resources":{"cpu":"1"}}]}}
            """#)
        let applied = json(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[]}}"#)
        let result = try ServerSideApply.apply(applied, to: live, manager: "m", force: false, now: Self.now)
        #expect(result[path: ["spec", "containers"]] == json(#"[{"name":"a","resources":{"cpu":"1"}}]"#))
    }

    @Test func unknownKindsTreatListsAsAtomic() throws {
        let first = json(#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"#
            + #""spec":{"items":[{"name":"a"}],"model":"small"}}"#)
        let live = try ServerSideApply.apply(first, to: nil, manager: "m", force: false, now: Self.now)
        #expect(Self.fields(of: "m", in: live) == json(#"{"f:spec":{"f:items":{},"f:model":{}}}"#))
        let second = json(#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"#
            + #""spec":{"items":[{"name":"b"}]}}"#)
        let result = try ServerSideApply.apply(second, to: live, manager: "m", force: false, now: Self.later)
        #expect(result["spec"] == json(#"{"items":[{"name":"b"}]}"#))
    }

    @Test(arguments: [
        (#"[1]"#, "apply configuration must be an object, got array"),
        (
            #"{"kind":"Pod","spec":{"containers":[{"image":"x"}]}}"#,
            #".spec.containers: associative list with keys has an element that omits key field "name""#
        ),
    ])
    func rejectsMalformedConfigurations(text: String, message: String) {
        #expect(throws: PatchError(message)) {
            try ServerSideApply.apply(json(text), to: nil, manager: "m", force: false, now: Self.now)
        }
    }

    @Test func fieldSetRoundTripsFieldsV1() throws {
        let text = #"""
            {"f:metadata":{"f:finalizers":{".":{},"v:\"x\"":{}},"f:labels":{".":{},"f:app":{}}},
             "f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}},"f:args":{"i:0":{}}}}
            """#
        let set = try FieldSet(fieldsV1: json(text))
        #expect(set.fieldsV1 == json(text))
        #expect(set.paths.contains([.field("spec"), .field("ports"), .key(["port": 80, "protocol": "TCP"])]))
        #expect(
            FieldSet.string([.field("spec"), .field("ports"), .key(["port": 80, "protocol": "TCP"]), .field("port")])
                == #".spec.ports[port=80,protocol="TCP"].port"#)
        let finalizer: [FieldSet.PathElement] = [.field("metadata"), .field("finalizers"), .value("x")]
        #expect(FieldSet.string(finalizer) == #".metadata.finalizers[="x"]"#)
        #expect(throws: PatchError.self) { try FieldSet(fieldsV1: json(#"{"x:y":{}}"#)) }
    }
}
