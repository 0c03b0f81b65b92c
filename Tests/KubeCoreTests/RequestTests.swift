import Foundation
import Testing

@testable import KubeCore

@Suite("RequestTests")
struct RequestTests {
    static let widgets = ResourceDescriptor(
        group: "example.com", version: "v1", resource: "widgets", kind: "Widget", namespaced: true)

    @Test(
        "golden URLs",
        arguments: [
            (APIRequest.get(.deployments, namespace: "ns", name: "web"), "GET /apis/apps/v1/namespaces/ns/deployments/web"),
            (APIRequest.get(.namespaces, namespace: "ignored", name: "team-a"), "GET /api/v1/namespaces/team-a"),
            (
                APIRequest.get(.deployments, namespace: "ns", name: "web", subresource: "scale"),
                "GET /apis/apps/v1/namespaces/ns/deployments/web/scale"
            ),
            (APIRequest.list(.pods, namespace: nil), "GET /api/v1/pods"),
            (
                APIRequest.list(
                    .pods, namespace: "ns",
                    options: ListOptions(
                        labelSelector: "app=demo,tier in (a,b)", fieldSelector: "status.phase=Running", limit: 50,
                        continueToken: "tok/1=", resourceVersion: "0", resourceVersionMatch: .notOlderThan,
                        timeoutSeconds: 10)),
                "GET /api/v1/namespaces/ns/pods?continue=tok%2F1%3D&fieldSelector=status.phase%3DRunning"
                    + "&labelSelector=app%3Ddemo%2Ctier%20in%20%28a%2Cb%29&limit=50&resourceVersion=0"
                    + "&resourceVersionMatch=NotOlderThan&timeoutSeconds=10"
            ),
            (
                APIRequest.watch(
                    widgets, namespace: "ns", options: WatchOptions(resourceVersion: "42", timeoutSeconds: 300)),
                "GET /apis/example.com/v1/namespaces/ns/widgets?allowWatchBookmarks=true&resourceVersion=42"
                    + "&timeoutSeconds=300&watch=true"
            ),
            (
                APIRequest.watch(
                    .pods, namespace: nil,
                    options: WatchOptions(resourceVersionMatch: .notOlderThan, sendInitialEvents: true)),
                "GET /api/v1/pods?allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true"
                    + "&watch=true"
            ),
            (
                APIRequest.create(.configMaps, namespace: "ns", body: [], options: WriteOptions(fieldManager: "mr", dryRun: true)),
                "POST /api/v1/namespaces/ns/configmaps?dryRun=All&fieldManager=mr"
            ),
            (
                APIRequest.update(widgets, namespace: "ns", name: "w1", subresource: "status", body: []),
                "PUT /apis/example.com/v1/namespaces/ns/widgets/w1/status"
            ),
            (
                APIRequest.patch(
                    .deployments, namespace: "ns", name: "web", type: .apply(fieldManager: "modelrollout", force: true),
                    body: []),
                "PATCH /apis/apps/v1/namespaces/ns/deployments/web?fieldManager=modelrollout&force=true"
            ),
            (APIRequest.delete(.leases, namespace: "kube-system", name: "l"), "DELETE /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l"),
            (
                APIRequest.podLog(
                    namespace: "ns", pod: "p-1",
                    options: LogOptions(
                        container: "vllm", sinceTime: Date(timeIntervalSince1970: 1_700_000_000), sinceSeconds: 5,
                        tailLines: 10, limitBytes: 2048, timestamps: true, follow: true, previous: true)),
                "GET /api/v1/namespaces/ns/pods/p-1/log?container=vllm&follow=true&limitBytes=2048&previous=true"
                    + "&sinceSeconds=5&sinceTime=2023-11-14T22%3A13%3A20Z&tailLines=10&timestamps=true"
            ),
            (
                APIRequest.podProxy(namespace: "ns", pod: "p-1", port: 8000, path: "/v1/models"),
                "GET /api/v1/namespaces/ns/pods/p-1:8000/proxy/v1/models"
            ),
            (
                APIRequest.podProxy(namespace: "ns", pod: "p", scheme: "https", path: "metrics", query: [("a", "b c")]),
                "GET /api/v1/namespaces/ns/pods/https:p/proxy/metrics?a=b%20c"
            ),
            (APIRequest.get(.pods, namespace: "ns", name: "a b"), "GET /api/v1/namespaces/ns/pods/a%20b"),
        ] as [(APIRequest, String)])
    func goldenURL(request: APIRequest, expected: String) {
        #expect(request.description == expected)
    }

    @Test(
        "patch content types",
        arguments: [
            (PatchType.merge, "application/merge-patch+json"),
            (.json, "application/json-patch+json"),
            (.strategic, "application/strategic-merge-patch+json"),
            (.apply(fieldManager: "m", force: false), "application/apply-patch+yaml"),
        ] as [(PatchType, String)])
    func patchContentType(type: PatchType, expected: String) {
        let r = APIRequest.patch(.configMaps, namespace: "ns", name: "c", type: type, body: Array("{}".utf8))
        #expect(r.contentType == expected)
        #expect(r.method == .PATCH)
        #expect(r.bodyText == "{}")
        if case .apply = type {
            #expect(r.pathAndQuery == "/api/v1/namespaces/ns/configmaps/c?fieldManager=m")
        } else {
            #expect(r.query.isEmpty)
        }
    }

    @Test func deleteOptionsBody() throws {
        let plain = APIRequest.delete(.pods, namespace: "ns", name: "p")
        #expect(plain.body == nil)
        let r = APIRequest.delete(
            .pods, namespace: "ns", name: "p",
            options: DeleteOptions(
                propagationPolicy: .foreground, gracePeriodSeconds: 0, preconditionUID: "u1",
                preconditionResourceVersion: "7"))
        #expect(r.contentType == "application/json")
        #expect(
            r.bodyText
                == #"{"apiVersion":"v1","gracePeriodSeconds":0,"kind":"DeleteOptions","preconditions":{"resourceVersion":"7","uid":"u1"},"propagationPolicy":"Foreground"}"#
        )
    }

    @Test func createCarriesJSONBody() {
        let r = APIRequest.create(.configMaps, namespace: "ns", body: Array(#"{"a":1}"#.utf8))
        #expect(r.contentType == "application/json")
        #expect(r.header("accept") == "application/json")
        #expect(r.bodyText == #"{"a":1}"#)
        #expect(!r.isStreaming)
        #expect(APIRequest.watch(.pods, namespace: nil).isStreaming)
        #expect(APIRequest.podLog(namespace: "a", pod: "b", options: LogOptions(follow: true)).isStreaming)
    }

    @Test func labelSelectorSpecQuery() {
        let s = LabelSelectorSpec(
            matchLabels: ["b": "2", "a": "1"],
            matchExpressions: [
                .init(key: "env", operator: "In", values: ["prod", "dev"]), .init(key: "x", operator: "DoesNotExist"),
            ])
        #expect(s.queryString == "a=1,b=2,env in (dev,prod),!x")
    }
}
