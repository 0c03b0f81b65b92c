import Foundation
import KubeCore
import Testing

@testable import ClusterSim

@Suite("SchemaJSONPath")
struct SchemaJSONPathTests {
    static let object = SchemaFixtures.json(
        """
        {"metadata":{"name":"w1","labels":{"app":"demo","app.kubernetes.io/name":"web"}},
         "spec":{"replicas":3,"items":[{"name":"a","n":1},{"name":"b","n":5},{"name":"c","n":9}]},
         "status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Progressing","status":"False"}]}}
        """)

    struct Case: Sendable, CustomTestStringConvertible {
        let path: String
        /// The expected values as a JSON array, or nil for "nothing selected".
        let expected: String?
        var testDescription: String { path }
    }

    static let cases: [Case] = [
        Case(path: ".spec.replicas", expected: "[3]"),
        Case(path: "{.spec.replicas}", expected: "[3]"),
        Case(path: "$.spec.replicas", expected: "[3]"),
        Case(path: ".metadata.labels.app", expected: #"["demo"]"#),
        Case(path: #".metadata.labels.app\.kubernetes\.io/name"#, expected: #"["web"]"#),
        Case(path: ".metadata.labels['app.kubernetes.io/name']", expected: #"["web"]"#),
        Case(path: #".status.conditions[?(@.type=="Ready")].status"#, expected: #"["True"]"#),
        Case(path: #".status.conditions[?(@.type!="Ready")].type"#, expected: #"["Progressing"]"#),
        Case(path: ".spec.items[?(@.n > 4)].name", expected: #"["b","c"]"#),
        Case(path: ".spec.items[0].name", expected: #"["a"]"#),
        Case(path: ".spec.items[-1].name", expected: #"["c"]"#),
        Case(path: ".spec.items[*].name", expected: #"["a","b","c"]"#),
        Case(path: ".spec.items[0:2].n", expected: "[1,5]"),
        Case(path: "..type", expected: #"["Ready","Progressing"]"#),
        Case(path: ".spec.missing", expected: nil),
        Case(path: ".spec.items[7].name", expected: nil),
        Case(path: ".spec.replicas.deeper", expected: nil),
    ]

    @Test(arguments: cases)
    func evaluates(_ c: Case) {
        let result = JSONPath.values(c.path, in: Self.object)
        #expect(result.map { JSONValue.array($0) } == c.expected.map(SchemaFixtures.json))
    }

    @Test(arguments: ["[", ".spec[abc]", #".a[?(@.x=="y")"#, ".spec.items[?(@.n ~ 3)]"])
    func rejectsInvalidPaths(_ path: String) {
        #expect(throws: JSONPathError.self) { try JSONPath(path) }
        #expect(JSONPath.values(path, in: Self.object) == nil)
    }

    @Test func simpleFieldPaths() throws {
        #expect(try JSONPath(".spec.replicas").fieldNames == ["spec", "replicas"])
        #expect(try JSONPath(".spec.items[0]").fieldNames == nil)
    }

    @Test func setValueWritesSimplePaths() {
        var obj = Self.object
        #expect(JSONPath.setValue(7, at: ".spec.replicas", in: &obj))
        #expect(obj[path: ["spec", "replicas"]] == 7)
        #expect(JSONPath.setValue(2, at: ".status.scale.replicas", in: &obj))
        #expect(obj[path: ["status", "scale", "replicas"]] == 2)
        #expect(obj[path: ["status", "conditions"]] == Self.object[path: ["status", "conditions"]])
        // Not a simple path, or crossing a scalar: refused, object untouched.
        let before = obj
        #expect(!JSONPath.setValue(1, at: ".spec.items[0].n", in: &obj))
        #expect(!JSONPath.setValue(1, at: ".spec.replicas.x", in: &obj))
        #expect(obj == before)
    }
}
