import Foundation
import KubeCore
import Testing

@testable import ClusterSim

@Suite("TableRenderer")
struct TableRendererTests {
    static let now = KubeTime.parse("2026-11-25T10:00:00Z") ?? Date(timeIntervalSince1970: 0)
    /// Five minutes before `now`.
    static let created = "2026-11-25T09:55:00Z"

    static func render(
        _ resource: ResourceDescriptor, _ objects: [JSONValue], columns: JSONValue? = nil, include: String = "Metadata"
    ) -> JSONValue {
        TableRenderer.table(
            resource: resource, printerColumns: columns, objects: objects, resourceVersion: "105",
            includeObject: include, now: now)
    }

    static func columnNames(_ table: JSONValue) -> [String] {
        (table["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    static func cells(_ table: JSONValue, row: Int = 0) -> JSONValue? {
        table["rows"]?.arrayValue?[row]["cells"]
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let resource: ResourceDescriptor
        let object: String
        let columns: [String]
        let cells: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "running pod", resource: .pods,
            object: """
                {"metadata":{"name":"web-1","creationTimestamp":"\(created)"},
                 "spec":{"containers":[{"name":"main"},{"name":"side"}],"nodeName":"gpu-0"},
                 "status":{"phase":"Running","podIP":"10.0.0.5","containerStatuses":[
                   {"name":"main","ready":true,"restartCount":2,"state":{"running":{}},
                    "lastState":{"terminated":{"finishedAt":"2026-11-25T09:58:00Z"}}},
                   {"name":"side","ready":false,"restartCount":0,"state":{"running":{}}}]}}
                """,
            columns: ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"],
            cells: #"["web-1","1/2","Running","2 (2m ago)","5m","10.0.0.5","gpu-0","<none>","<none>"]"#),
        Case(
            name: "creating pod", resource: .pods,
            object: """
                {"metadata":{"name":"p","creationTimestamp":"\(created)"},"spec":{"containers":[{"name":"c"}],
                 "readinessGates":[{"conditionType":"x/ready"}]},
                 "status":{"phase":"Pending","conditions":[{"type":"x/ready","status":"False"}],
                   "containerStatuses":[{"name":"c","ready":false,"restartCount":0,
                   "state":{"waiting":{"reason":"ContainerCreating"}}}]}}
                """,
            columns: ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"],
            cells: #"["p","0/1","ContainerCreating","0","5m","<none>","<none>","<none>","0/1"]"#),
        Case(
            name: "terminating pod", resource: .pods,
            object: """
                {"metadata":{"name":"p","creationTimestamp":"\(created)","deletionTimestamp":"2026-11-25T09:59:00Z"},
                 "spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running",
                 "containerStatuses":[{"name":"c","ready":true,"restartCount":0,"state":{"running":{}}}]}}
                """,
            columns: ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"],
            cells: #"["p","1/1","Terminating","0","5m","<none>","<none>","<none>","<none>"]"#),
        Case(
            name: "deployment", resource: .deployments,
            object: """
                {"metadata":{"name":"web","creationTimestamp":"\(created)"},
                 "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web","tier":"a"}},
                   "template":{"spec":{"containers":[{"name":"vllm","image":"vllm:1"},{"name":"proxy","image":"envoy"}]}}},
                 "status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}}
                """,
            columns: ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"],
            cells: #"["web","2/3",3,2,"5m","vllm,proxy","vllm:1,envoy","app=web,tier=a"]"#),
        Case(
            name: "service", resource: .services,
            object: """
                {"metadata":{"name":"svc","creationTimestamp":"\(created)"},
                 "spec":{"clusterIP":"10.96.0.10","ports":[{"port":8000,"protocol":"TCP"},{"port":9000}],
                   "selector":{"app":"web"}}}
                """,
            columns: ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"],
            cells: #"["svc","ClusterIP","10.96.0.10","<none>","8000/TCP,9000/TCP","5m","app=web"]"#),
        Case(
            name: "namespace", resource: .namespaces,
            object: #"{"metadata":{"name":"team-a","creationTimestamp":"\#(created)"},"status":{"phase":"Active"}}"#,
            columns: ["Name", "Status", "Age"], cells: #"["team-a","Active","5m"]"#),
        Case(
            name: "configmap", resource: .configMaps,
            object: #"{"metadata":{"name":"cm","creationTimestamp":"\#(created)"},"data":{"a":"1","b":"2"}}"#,
            columns: ["Name", "Data", "Age"], cells: #"["cm",2,"5m"]"#),
        Case(
            name: "secret", resource: .secrets,
            object: #"{"metadata":{"name":"s","creationTimestamp":"\#(created)"},"type":"Opaque","data":{"k":"dg=="}}"#,
            columns: ["Name", "Type", "Data", "Age"], cells: #"["s","Opaque",1,"5m"]"#),
        Case(
            name: "crd", resource: .customResourceDefinitions,
            object: #"{"metadata":{"name":"widgets.example.com","creationTimestamp":"\#(created)"}}"#,
            columns: ["Name", "Created At"], cells: #"["widgets.example.com","2026-11-25T09:55:00Z"]"#),
        Case(
            name: "lease", resource: .leases,
            object: #"{"metadata":{"name":"op","creationTimestamp":"\#(created)"},"spec":{"holderIdentity":"pod-a"}}"#,
            columns: ["Name", "Holder", "Age"], cells: #"["op","pod-a","5m"]"#),
        Case(
            name: "core event", resource: .coreEvents,
            object: """
                {"metadata":{"name":"web.1"},"type":"Normal","reason":"Scaled","message":" scaled up ",
                 "involvedObject":{"kind":"Deployment","name":"web"},"source":{"component":"deployment-controller"},
                 "firstTimestamp":"2026-11-25T09:50:00Z","lastTimestamp":"\(created)","count":3}
                """,
            columns: [
                "Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count",
                "Name",
            ],
            cells: #"["5m","Normal","Scaled","deployment/web","","deployment-controller","scaled up","10m",3,"web.1"]"#),
        Case(
            name: "events.k8s.io event", resource: .events,
            object: """
                {"metadata":{"name":"e"},"type":"Warning","reason":"Failed","note":"boom","eventTime":"2026-11-25T09:59:30.000000Z",
                 "regarding":{"kind":"Pod","name":"p"},"reportingController":"example.com/op","reportingInstance":"op-1"}
                """,
            columns: [
                "Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count",
                "Name",
            ],
            cells: #"["30s","Warning","Failed","pod/p","","example.com/op, op-1","boom","30s",1,"e"]"#),
        Case(
            name: "other kinds", resource: .endpoints,
            object: #"{"metadata":{"name":"x","creationTimestamp":"\#(created)"}}"#,
            columns: ["Name", "Age"], cells: #"["x","5m"]"#),
    ]

    @Test(arguments: cases)
    func builtinColumnsAndCells(_ c: Case) {
        let table = Self.render(c.resource, [SchemaFixtures.json(c.object)])
        #expect(table["kind"] == "Table")
        #expect(table["apiVersion"] == "meta.k8s.io/v1")
        #expect(table[path: ["metadata", "resourceVersion"]] == "105")
        #expect(Self.columnNames(table) == c.columns)
        #expect(Self.cells(table) == SchemaFixtures.json(c.cells))
    }

    @Test func widePodColumnsHavePriorityOne() {
        let defs = Self.render(.pods, [])["columnDefinitions"]?.arrayValue ?? []
        #expect(defs.map { $0["priority"]?.intValue ?? -1 } == [0, 0, 0, 0, 0, 1, 1, 1, 1])
        #expect(
            defs.first == [
                "name": "Name", "type": "string", "format": "name", "description": .string(TableColumn.nameDoc),
                "priority": 0,
            ])
    }

    @Test func includeObjectModes() {
        let object = SchemaFixtures.json(
            #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"ns","labels":{"a":"b"}},"data":{}}"#
        )
        let metadata = Self.render(.configMaps, [object])["rows"]?.arrayValue?.first?["object"]
        #expect(
            metadata
                == [
                    "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                    "metadata": object["metadata"] ?? .null,
                ])
        #expect(Self.render(.configMaps, [object], include: "Object")["rows"]?.arrayValue?.first?["object"] == object)
        #expect(Self.render(.configMaps, [object], include: "None")["rows"]?.arrayValue?.first?["object"] == nil)
    }

    static let widgetColumns = SchemaFixtures.json(
        """
        [{"name":"Replicas","type":"integer","jsonPath":".spec.replicas"},
         {"name":"Ratio","type":"number","jsonPath":".spec.ratio","priority":1,"description":"r"},
         {"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\\"Ready\\")].status"},
         {"name":"Paused","type":"boolean","jsonPath":".spec.paused"},
         {"name":"Missing","type":"string","jsonPath":".status.nothing"},
         {"name":"Count","type":"string","jsonPath":".spec.replicas"},
         {"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}]
        """)

    @Test func customResourcePrinterColumns() {
        let widget = SchemaFixtures.json(
            """
            {"metadata":{"name":"w1","creationTimestamp":"\(Self.created)"},
             "spec":{"replicas":2.0,"ratio":1,"paused":false},
             "status":{"conditions":[{"type":"Ready","status":"True"}]}}
            """)
        let table = Self.render(
            ResourceDescriptor(
                group: "example.com", version: "v1", resource: "widgets", kind: "Widget", namespaced: true), [widget],
            columns: Self.widgetColumns)
        #expect(Self.columnNames(table) == ["Name", "Replicas", "Ratio", "Ready", "Paused", "Missing", "Count", "Age"])
        #expect(Self.cells(table) == .array(["w1", .int(2), .double(1), "True", false, nil, "2", "5m"]))
        let ratio = table["columnDefinitions"]?.arrayValue?[2]
        #expect(ratio == ["name": "Ratio", "type": "number", "format": "", "description": "r", "priority": 1])
    }

    @Test func customResourceWithoutColumnsGetsAge() {
        let widget = SchemaFixtures.json(#"{"metadata":{"name":"w1","creationTimestamp":"\#(Self.created)"}}"#)
        let table = Self.render(
            ResourceDescriptor(
                group: "example.com", version: "v1", resource: "widgets", kind: "Widget", namespaced: true), [widget],
            columns: [])
        #expect(Self.columnNames(table) == ["Name", "Age"])
        #expect(table["columnDefinitions"]?.arrayValue?[1]["type"] == "date")
        #expect(Self.cells(table) == ["w1", "5m"])
    }

    @Test func dateCells() {
        #expect(TableRenderer.cell(type: "date", value: "not a time", now: Self.now) == "<invalid>")
        #expect(TableRenderer.cell(type: "date", value: "2026-11-24T10:00:00Z", now: Self.now) == "24h")
        #expect(TableRenderer.cell(type: "integer", value: "3", now: Self.now) == .null)
    }
}
