import Foundation
import KubeCore
import Testing

@testable import ClusterSim

/// Events stored once and served as core/v1 and events.k8s.io/v1 (`EventConversion`).
@Suite("EventConversion", .timeLimit(.minutes(1)))
struct EventConversionTests {
    static let fullEventsV1: JSONValue = [
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": ["name": "cm.1", "namespace": "default", "uid": "u-e", "resourceVersion": "7"],
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "series": ["count": 3, "lastObservedTime": "2026-01-01T00:01:00.000000Z"],
        "reportingController": "example.com/op", "reportingInstance": "op-0", "action": "Sync", "reason": "Synced",
        "regarding": [
            "apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "namespace": "default", "uid": "u-cm",
            "resourceVersion": "5", "fieldPath": "data",
        ],
        "related": ["kind": "Pod", "name": "p", "namespace": "default"],
        "note": "synced", "type": "Normal",
        "deprecatedSource": ["component": "legacy", "host": "node-1"],
        "deprecatedFirstTimestamp": "2026-01-01T00:00:00Z", "deprecatedLastTimestamp": "2026-01-01T00:02:00Z",
        "deprecatedCount": 4,
    ]

    struct Mapping: CustomTestStringConvertible, Sendable {
        var eventsField: String
        var coreField: String
        var testDescription: String { "\(eventsField) ↔ \(coreField)" }
    }

    static let mappings: [Mapping] = [
        .init(eventsField: "regarding", coreField: "involvedObject"),
        .init(eventsField: "note", coreField: "message"),
        .init(eventsField: "related", coreField: "related"),
        .init(eventsField: "reportingController", coreField: "reportingComponent"),
        .init(eventsField: "reportingInstance", coreField: "reportingInstance"),
        .init(eventsField: "deprecatedSource", coreField: "source"),
        .init(eventsField: "deprecatedFirstTimestamp", coreField: "firstTimestamp"),
        .init(eventsField: "deprecatedLastTimestamp", coreField: "lastTimestamp"),
        .init(eventsField: "deprecatedCount", coreField: "count"),
        .init(eventsField: "series", coreField: "series"),
        .init(eventsField: "eventTime", coreField: "eventTime"),
        .init(eventsField: "action", coreField: "action"),
        .init(eventsField: "reason", coreField: "reason"),
        .init(eventsField: "type", coreField: "type"),
        .init(eventsField: "metadata", coreField: "metadata"),
    ]

    @Test(arguments: mappings)
    func fieldMapsBothWays(_ m: Mapping) throws {
        let core = EventConversion.storageForm(Self.fullEventsV1, writtenAs: .events)
        #expect(core["apiVersion"] == "v1")
        let value = try #require(Self.fullEventsV1[m.eventsField])
        #expect(core[m.coreField] == value)
        let back = EventConversion.view(core, as: .events)
        #expect(back[m.eventsField] == value)
        let coreView = EventConversion.view(core, as: .coreEvents)
        #expect(coreView[m.coreField] == value)
    }

    @Test func roundTripIsLosslessAndIdempotent() {
        let core = EventConversion.storageForm(Self.fullEventsV1, writtenAs: .events)
        #expect(EventConversion.view(core, as: .events) == Self.fullEventsV1)
        #expect(EventConversion.view(Self.fullEventsV1, as: .events) == Self.fullEventsV1)
        let coreView = EventConversion.view(core, as: .coreEvents)
        #expect(EventConversion.view(coreView, as: .coreEvents) == coreView)
        #expect(EventConversion.storageForm(coreView, writtenAs: .coreEvents) == core)
        // Unknown fields of the other view do not leak into storage.
        var mixed = Self.fullEventsV1
        mixed["message"] = "not an events.k8s.io field"
        #expect(EventConversion.storageForm(mixed, writtenAs: .events)["message"] == "synced")
    }

    @Test func coreViewDerivesSourceWithoutStoringIt() {
        var event = Self.fullEventsV1
        for f in ["deprecatedSource", "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"] {
            event[f] = nil
        }
        let stored = EventConversion.storageForm(event, writtenAs: .events)
        #expect(stored["source"] == nil)
        let core = EventConversion.view(stored, as: .coreEvents)
        #expect(core["source"] == ["component": "example.com/op", "host": "op-0"])
        // Writing the core view back stores the same bytes (a no-op write).
        #expect(EventConversion.storageForm(core, writtenAs: .coreEvents).jsonBytes == stored.jsonBytes)
        #expect(EventConversion.view(stored, as: .events)["deprecatedSource"] == nil)
        // A legacy source that differs is kept.
        var legacy = core
        legacy["source"] = ["component": "kubelet", "host": "node-1"]
        let legacyStored = EventConversion.storageForm(legacy, writtenAs: .coreEvents)
        #expect(legacyStored["source"] == ["component": "kubelet", "host": "node-1"])
        #expect(EventConversion.view(legacyStored, as: .events)["deprecatedSource"] == legacyStored["source"])
    }

    struct SelectorCase: CustomTestStringConvertible, Sendable {
        var resource: ResourceDescriptor
        var label: String
        var value: String?
        var testDescription: String { "\(resource.group.isEmpty ? "core" : resource.group) \(label)" }
    }

    static let selectorCases: [SelectorCase] = [
        .init(resource: .coreEvents, label: "involvedObject.kind", value: "ConfigMap"),
        .init(resource: .coreEvents, label: "involvedObject.namespace", value: "default"),
        .init(resource: .coreEvents, label: "involvedObject.name", value: "cm"),
        .init(resource: .coreEvents, label: "involvedObject.uid", value: "u-cm"),
        .init(resource: .coreEvents, label: "involvedObject.apiVersion", value: "v1"),
        .init(resource: .coreEvents, label: "involvedObject.resourceVersion", value: "5"),
        .init(resource: .coreEvents, label: "involvedObject.fieldPath", value: "data"),
        .init(resource: .coreEvents, label: "reason", value: "Synced"),
        .init(resource: .coreEvents, label: "reportingComponent", value: "example.com/op"),
        .init(resource: .coreEvents, label: "source", value: "legacy"),
        .init(resource: .coreEvents, label: "type", value: "Normal"),
        .init(resource: .coreEvents, label: "metadata.name", value: "cm.1"),
        .init(resource: .coreEvents, label: "metadata.namespace", value: "default"),
        .init(resource: .coreEvents, label: "regarding.name", value: nil),
        .init(resource: .coreEvents, label: "message", value: nil),
        .init(resource: .events, label: "regarding.kind", value: "ConfigMap"),
        .init(resource: .events, label: "regarding.name", value: "cm"),
        .init(resource: .events, label: "regarding.uid", value: "u-cm"),
        .init(resource: .events, label: "regarding.fieldPath", value: "data"),
        .init(resource: .events, label: "reportingController", value: "example.com/op"),
        .init(resource: .events, label: "reason", value: "Synced"),
        .init(resource: .events, label: "type", value: "Normal"),
        .init(resource: .events, label: "involvedObject.name", value: "cm"),
    ]

    @Test(arguments: selectorCases)
    func selectorValues(_ c: SelectorCase) {
        let stored = EventConversion.storageForm(Self.fullEventsV1, writtenAs: .events)
        #expect(EventConversion.selectorValue(stored, label: c.label, servedAs: c.resource) == c.value)
        // The same answer from the served form.
        let served = EventConversion.view(stored, as: c.resource)
        #expect(EventConversion.selectorValue(served, label: c.label, servedAs: c.resource) == c.value)
    }

    @Test func sourceSelectorFallsBackToReportingComponent() {
        var event = Self.fullEventsV1
        event["deprecatedSource"] = nil
        let stored = EventConversion.storageForm(event, writtenAs: .events)
        #expect(EventConversion.selectorValue(stored, label: "source", servedAs: .coreEvents) == "example.com/op")
    }

    @Test func updateThroughEventsV1MayChangeOnlySeriesAndMetadata() {
        var changedSeries = Self.fullEventsV1
        changedSeries["series"] = ["count": 4, "lastObservedTime": "2026-01-01T00:05:00.000000Z"]
        changedSeries[path: ["metadata", "labels"]] = ["a": "b"]
        #expect(EventConversion.updateViolations(new: changedSeries, old: Self.fullEventsV1).isEmpty)
        var changedNote = Self.fullEventsV1
        changedNote["note"] = "other"
        changedNote["reportingController"] = "x.io/y"
        let causes = EventConversion.updateViolations(new: changedNote, old: Self.fullEventsV1)
        #expect(causes.map(\.field) == ["message", "reportingComponent"])
        // The old object may be given in stored (core) form.
        let stored = EventConversion.storageForm(Self.fullEventsV1, writtenAs: .events)
        #expect(EventConversion.updateViolations(new: changedSeries, old: stored).isEmpty)
    }

    // MARK: - Storage

    static func recorderEvent(_ name: String, regarding: JSONValue, namespace: String = "default") -> JSONValue {
        [
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "example.com/op",
            "reportingInstance": "op-0", "action": "Sync", "reason": "Synced", "regarding": regarding,
            "note": "synced it", "type": "Normal",
        ]
    }

    @Test func storageServesBothViewsOfOneObject() async throws {
        let storage = ObjectStorage()
        let created = try await storage.create(
            .events, Self.recorderEvent("e1", regarding: ["kind": "ConfigMap", "name": "cm", "namespace": "default"]))
        #expect(created["apiVersion"] == "events.k8s.io/v1")
        #expect(created["note"] == "synced it")
        let core = try #require(await storage.get(.coreEvents, namespace: "default", name: "e1"))
        #expect(core["apiVersion"] == "v1")
        #expect(core["message"] == "synced it")
        #expect(core[path: ["involvedObject", "name"]] == "cm")
        #expect(core[path: ["metadata", "uid"]] == created[path: ["metadata", "uid"]])
        #expect(core[path: ["metadata", "resourceVersion"]] == created[path: ["metadata", "resourceVersion"]])
        #expect(await storage.list(.events, namespace: "default").map { $0["note"] } == ["synced it"])
        #expect(await storage.list(.coreEvents, namespace: nil).map { $0["message"] } == ["synced it"])
        // A no-op core write of the core view keeps the resourceVersion.
        let rv = await storage.resourceVersion
        let same = try await storage.update(.coreEvents, core, subresource: nil)
        #expect(same[path: ["metadata", "resourceVersion"]] == core[path: ["metadata", "resourceVersion"]])
        #expect(await storage.resourceVersion == rv)
        await #expect(throws: APIStatus.self) {
            try await storage.create(.coreEvents, EventConversion.view(created, as: .coreEvents))
        }
        try await storage.delete(.coreEvents, namespace: "default", name: "e1")
        #expect(await storage.get(.events, namespace: "default", name: "e1") == nil)
    }

    // MARK: - Over HTTP

    static let coreBase = "/api/v1/namespaces/default/events"
    static let eventsBase = "/apis/events.k8s.io/v1/namespaces/default/events"

    @Test func eventWrittenThroughEventsAPIIsListedByDescribeSelectors() async throws {
        try await TestCluster.with { c in
            let cm = try await c.json(.POST, "/api/v1/namespaces/default/configmaps", configMap("cm"))
            #expect(cm.status == 201)
            let uid = cm.json[path: ["metadata", "uid"]]?.stringValue ?? ""
            let regarding: JSONValue = [
                "apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "namespace": "default", "uid": .string(uid),
            ]
            let created = try await c.json(.POST, Self.eventsBase, Self.recorderEvent("cm.1", regarding: regarding))
            #expect(created.status == 201)
            _ = try await c.json(.POST, Self.eventsBase, Self.recorderEvent("other.1", regarding: [
                "kind": "ConfigMap", "name": "other", "namespace": "default",
            ]))
            // kubectl describe configmap cm
            let selector = "involvedObject.name%3Dcm,involvedObject.namespace%3Ddefault,"
                + "involvedObject.kind%3DConfigMap,involvedObject.uid%3D\(uid)"
            let described = try await c.request(.GET, Self.coreBase + "?fieldSelector=" + selector)
            #expect(described.status == 200)
            #expect(described.json["kind"] == "EventList")
            #expect(described.json["apiVersion"] == "v1")
            let items = described.json["items"]?.arrayValue ?? []
            #expect(items.map { $0[path: ["metadata", "name"]] } == ["cm.1"])
            #expect(items.first?["message"] == "synced it")
            #expect(items.first?["reportingComponent"] == "example.com/op")
            #expect(items.first?[path: ["source", "component"]] == "example.com/op")
            #expect(items.first?[path: ["metadata", "uid"]] == created.json[path: ["metadata", "uid"]])
            // kubectl get events: both, same list resourceVersion through either API
            let all = try await c.request(.GET, Self.coreBase)
            let allV1 = try await c.request(.GET, Self.eventsBase)
            #expect(all.json["items"]?.arrayValue?.count == 2)
            #expect(allV1.json["items"]?.arrayValue?.count == 2)
            let listRV = all.json[path: ["metadata", "resourceVersion"]]
            #expect(listRV != nil && listRV == allV1.json[path: ["metadata", "resourceVersion"]])
            // Selectors of the events.k8s.io view, and a non-matching uid.
            let v1Selected = try await c.request(.GET, Self.eventsBase + "?fieldSelector=regarding.name%3Dother")
            #expect(v1Selected.json["items"]?.arrayValue?.map { $0["note"] } == ["synced it"])
            let none = try await c.request(.GET, Self.coreBase + "?fieldSelector=involvedObject.uid%3Dnope")
            #expect(none.json["items"]?.arrayValue?.isEmpty == true)
            let notCm = try await c.request(
                .GET, Self.coreBase + "?fieldSelector=involvedObject.name!%3Dcm,reason%3DSynced,type%3DNormal")
            #expect(notCm.json["items"]?.arrayValue?.map { $0[path: ["metadata", "name"]] } == ["other.1"])
            // Labels of the other view are refused.
            let bad = try await c.request(.GET, Self.coreBase + "?fieldSelector=regarding.name%3Dcm")
            #expect(bad.status == 400)
            #expect(bad.json["message"] == "field label not supported: regarding.name")
            let bad2 = try await c.request(.GET, Self.eventsBase + "?fieldSelector=source%3Dx")
            #expect(bad2.status == 400)
            #expect(bad2.json["message"] == "field label not supported: source")
        }
    }

    @Test func writesThroughEitherAPIAreSeenByWatchesOnTheOther() async throws {
        try await TestCluster.with { c in
            let created = try await c.json(.POST, Self.eventsBase, Self.recorderEvent("w.1", regarding: [
                "kind": "ConfigMap", "name": "cm", "namespace": "default",
            ]))
            let rv = created.json[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
            // The EventRecorder's series update: merge patch through events.k8s.io/v1.
            let series: JSONValue = ["series": ["count": 2, "lastObservedTime": "2026-01-01T00:01:00.000000Z"]]
            let coreEvents = try await c.watch(
                Self.coreBase + "?watch=true&resourceVersion=\(rv)&fieldSelector=involvedObject.name%3Dcm", count: 2
            ) {
                let patched = try await c.json(
                    .PATCH, Self.eventsBase + "/w.1", series, contentType: "application/merge-patch+json")
                #expect(patched.status == 200)
                #expect(patched.json[path: ["series", "count"]] == 2)
                // kubectl edit-style core update: the message may change through core/v1.
                var core = try await c.request(.GET, Self.coreBase + "/w.1").json
                core["message"] = "edited"
                let put = try await c.json(.PUT, Self.coreBase + "/w.1", core)
                #expect(put.status == 200)
            }
            #expect(coreEvents.map { $0["type"] } == ["MODIFIED", "MODIFIED"])
            #expect(coreEvents.first?[path: ["object", "apiVersion"]] == "v1")
            #expect(coreEvents.first?[path: ["object", "series", "count"]] == 2)
            #expect(coreEvents.last?[path: ["object", "message"]] == "edited")
            let v1 = try await c.request(.GET, Self.eventsBase + "/w.1").json
            #expect(v1["note"] == "edited")
            // A no-op PUT through core keeps the resourceVersion.
            let core = try await c.request(.GET, Self.coreBase + "/w.1").json
            let again = try await c.json(.PUT, Self.coreBase + "/w.1", core)
            #expect(again.json[path: ["metadata", "resourceVersion"]] == core[path: ["metadata", "resourceVersion"]])
            #expect(again.json[path: ["metadata", "resourceVersion"]] == v1[path: ["metadata", "resourceVersion"]])
            // Watch on events.k8s.io sees a delete made through core/v1.
            let v1Events = try await c.watch(
                Self.eventsBase + "?watch=true&resourceVersion="
                    + (v1[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""), count: 1
            ) {
                let deleted = try await c.request(.DELETE, Self.coreBase + "/w.1")
                #expect(deleted.status == 200)
            }
            #expect(v1Events.map { $0["type"] } == ["DELETED"])
            #expect(v1Events.first?[path: ["object", "apiVersion"]] == "events.k8s.io/v1")
            #expect(v1Events.first?[path: ["object", "note"]] == "edited")
            #expect(try await c.request(.GET, Self.eventsBase + "/w.1").status == 404)
        }
    }

    @Test func eventsAPIUpdateOfImmutableFieldIsRefused() async throws {
        try await TestCluster.with { c in
            _ = try await c.json(.POST, Self.eventsBase, Self.recorderEvent("i.1", regarding: [
                "kind": "ConfigMap", "name": "cm", "namespace": "default",
            ]))
            var event = try await c.request(.GET, Self.eventsBase + "/i.1").json
            event["note"] = "changed"
            let put = try await c.json(.PUT, Self.eventsBase + "/i.1", event)
            #expect(put.status == 422)
            #expect(put.json["message"]?.stringValue?.contains("message: Invalid value") == true)
            let patch = try await c.json(
                .PATCH, Self.eventsBase + "/i.1", ["reason": "Other"], contentType: "application/merge-patch+json")
            #expect(patch.status == 422)
            // The core view of the same object, read as a Table by kubectl get events.
            let table = try await c.request(
                .GET, Self.coreBase, headers: [("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")])
            #expect(table.json["kind"] == "Table")
            #expect(table.json["rows"]?.arrayValue?.count == 1)
        }
    }
}
