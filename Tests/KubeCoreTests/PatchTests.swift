import Testing

@testable import KubeCore

/// Parses JSON test fixtures; a malformed fixture fails the test at the call site rather than crashing.
func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue {
    do {
        return try JSONValue.parse(text)
    } catch {
        Issue.record("bad fixture \(text): \(error)", sourceLocation: sourceLocation)
        return .null
    }
}

// MARK: - JSON Pointer

@Suite struct JSONPointerTests {
    @Test(arguments: [
        ("", [String]()),
        ("/", [""]),
        ("/spec/x", ["spec", "x"]),
        ("/a~1b/m~0n", ["a/b", "m~n"]),
        ("/~01", ["~1"]),
        ("/metadata/labels/app.kubernetes.io~1name", ["metadata", "labels", "app.kubernetes.io/name"]),
    ])
    func parses(text: String, tokens: [String]) throws {
        let pointer = try JSONPointer(parsing: text)
        #expect(pointer.tokens == tokens)
        #expect(pointer.description == text)
    }

    @Test(arguments: ["spec", "/a~2", "/a~"])
    func rejects(text: String) {
        #expect(throws: PatchError.self) { try JSONPointer(parsing: text) }
    }

    @Test(arguments: [
        ("/foo", #"["bar","baz"]"#),
        ("/foo/0", #""bar""#),
        ("/", "0"),
        ("/a~1b", "1"),
        ("/m~0n", "8"),
        ("/foo/01", nil),
        ("/foo/2", nil),
        ("/nope", nil),
    ] as [(String, String?)])
    func resolvesRFC6901Examples(text: String, expected: String?) throws {
        let doc = json(#"{"foo":["bar","baz"],"":0,"a/b":1,"m~n":8}"#)
        let value = try JSONPointer(parsing: text).resolve(in: doc)
        #expect(value == expected.map { json($0) })
    }
}

// MARK: - RFC 6902

@Suite struct JSONPatchTests {
    /// RFC 6902 appendix A (A.1–A.10, A.14, A.16) plus Kubernetes-shaped cases.
    @Test(arguments: [
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux"}]"#, #"{"baz":"qux","foo":"bar"}"#),
        (#"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/1","value":"qux"}]"#, #"{"foo":["bar","qux","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"remove","path":"/baz"}]"#, #"{"foo":"bar"}"#),
        (#"{"foo":["bar","qux","baz"]}"#, #"[{"op":"remove","path":"/foo/1"}]"#, #"{"foo":["bar","baz"]}"#),
        (
            #"{"baz":"qux","foo":"bar"}"#, #"[{"op":"replace","path":"/baz","value":"boo"}]"#,
            #"{"baz":"boo","foo":"bar"}"#
        ),
        (
            #"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#,
            #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
            #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#
        ),
        (
            #"{"foo":["all","grass","cows","eat"]}"#, #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#,
            #"{"foo":["all","cows","eat","grass"]}"#
        ),
        (
            #"{"baz":"qux","foo":["a",2,"c"]}"#,
            #"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#,
            #"{"baz":"qux","foo":["a",2,"c"]}"#
        ),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#,
         #"{"foo":"bar","child":{"grandchild":{}}}"#),
        (#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":10}]"#, #"{"/":9,"~1":10}"#),
        (#"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#,
         #"{"foo":["bar",["abc","def"]]}"#),
        // Copy, add at the end by index, whole-document replace, test with 1 == 1.0.
        (#"{"a":{"b":1}}"#, #"[{"op":"copy","from":"/a","path":"/c"}]"#, #"{"a":{"b":1},"c":{"b":1}}"#),
        (#"{"l":[1,2]}"#, #"[{"op":"add","path":"/l/2","value":3}]"#, #"{"l":[1,2,3]}"#),
        (#"{"a":1}"#, #"[{"op":"replace","path":"","value":{"b":2}}]"#, #"{"b":2}"#),
        (#"{"a":1}"#, #"[{"op":"test","path":"/a","value":1.0}]"#, #"{"a":1}"#),
        (#"{"a":1}"#, #"[]"#, #"{"a":1}"#),
        (
            #"{"spec":{"model":"small","replicas":2}}"#, #"[{"op":"replace","path":"/spec/model","value":"m3"}]"#,
            #"{"spec":{"model":"m3","replicas":2}}"#
        ),
        (
            #"{"metadata":{"labels":{}}}"#,
            #"[{"op":"add","path":"/metadata/labels/app.kubernetes.io~1name","value":"web"}]"#,
            #"{"metadata":{"labels":{"app.kubernetes.io/name":"web"}}}"#
        ),
        (#"{"a":{"b":{}}}"#, #"[{"op":"move","from":"/a/b","path":"/a/b"}]"#, #"{"a":{"b":{}}}"#),
    ])
    func applies(document: String, patch: String, expected: String) throws {
        let result = try JSONPatch.apply(json(patch), to: json(document))
        #expect(result == json(expected))
    }

    /// RFC 6902 appendix A error cases (A.9, A.12, A.13 is a parse matter, A.15) plus bounds and shape errors.
    @Test(arguments: [
        (#"{"baz":"qux"}"#, #"[{"op":"test","path":"/baz","value":"bar"}]"#, "testing value /baz failed: test failed"),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz/bat","value":"qux"}]"#,
         "add operation does not apply: doc is missing path: /baz/bat"),
        (#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":"10"}]"#, "testing value /~01 failed: test failed"),
        (#"{"spec":{}}"#, #"[{"op":"replace","path":"/spec/x","value":1}]"#,
         "replace operation does not apply: doc is missing path: /spec/x"),
        (#"{"spec":{}}"#, #"[{"op":"remove","path":"/spec/x"}]"#,
         "remove operation does not apply: doc is missing path: /spec/x"),
        (#"{"l":[1]}"#, #"[{"op":"remove","path":"/l/1"}]"#,
         "remove operation does not apply: doc is missing path: /l/1"),
        (#"{"l":[1]}"#, #"[{"op":"add","path":"/l/3","value":2}]"#,
         "add operation does not apply: index 3 out of bounds (length 1) in path: /l/3"),
        (#"{"l":[1]}"#, #"[{"op":"add","path":"/l/x","value":2}]"#,
         "add operation does not apply: invalid array index \"x\" in path: /l/x"),
        (#"{"l":[1]}"#, #"[{"op":"add","path":"/l/01","value":2}]"#,
         "add operation does not apply: invalid array index \"01\" in path: /l/01"),
        (#"{"a":1}"#, #"[{"op":"add","path":"/b"}]"#, "add operation is missing \"value\""),
        (#"{"a":1}"#, #"[{"op":"move","path":"/b"}]"#, "move operation is missing a string \"from\""),
        (#"{"a":1}"#, #"[{"op":"copy","from":"/x","path":"/b"}]"#,
         "copy operation does not apply: doc is missing from path: /x"),
        (#"{"a":{"b":1}}"#, #"[{"op":"move","from":"/a","path":"/a/c"}]"#,
         "move operation does not apply: \"from\" /a is a prefix of path /a/c"),
        (#"{"a":1}"#, #"[{"op":"frobnicate","path":"/a"}]"#, "Unexpected kind: frobnicate"),
        (#"{"a":1}"#, #"[{"path":"/a"}]"#, "json patch operation 0 is missing a string \"op\""),
        (#"{"a":1}"#, #"[{"op":"remove"}]"#, "remove operation is missing a string \"path\""),
        (#"{"a":1}"#, #"[{"op":"remove","path":"a"}]"#, "invalid JSON pointer \"a\": must be empty or start with '/'"),
        (#"{"a":1}"#, #"{"op":"remove","path":"/a"}"#, "json patch must be an array of operations, got object"),
        (#"{"a":1}"#, #"[1]"#, "json patch operation 0 must be an object, got integer"),
        (#"{"a":"x"}"#, #"[{"op":"add","path":"/a/b","value":1}]"#,
         "add operation does not apply: doc is missing path: /a/b"),
        (#"{"a":1}"#, #"[{"op":"remove","path":""}]"#,
         "remove operation does not apply: cannot remove the whole document"),
    ])
    func rejects(document: String, patch: String, message: String) {
        #expect(throws: PatchError(message)) { try JSONPatch.apply(json(patch), to: json(document)) }
    }

    @Test func failedOperationLeavesNoPartialResult() throws {
        let doc = json(#"{"a":1}"#)
        let patch = json(#"[{"op":"add","path":"/b","value":2},{"op":"test","path":"/a","value":5}]"#)
        #expect(throws: PatchError.self) { try JSONPatch.apply(patch, to: doc) }
        #expect(doc == json(#"{"a":1}"#))
    }
}

// MARK: - RFC 7386

@Suite struct MergePatchTests {
    /// RFC 7386 appendix A plus Kubernetes-shaped cases.
    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, "null", "null"),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
        (
            #"{"metadata":{"labels":{"app":"demo","tier":"x"}},"spec":{"model":"small"}}"#,
            #"{"metadata":{"labels":{"tier":null}},"spec":{"model":"m2"}}"#,
            #"{"metadata":{"labels":{"app":"demo"}},"spec":{"model":"m2"}}"#
        ),
    ])
    func applies(document: String, patch: String, expected: String) {
        #expect(MergePatch.apply(json(patch), to: json(document)) == json(expected))
    }

    @Test(arguments: [
        (#"{"a":1,"b":2}"#, #"{"a":1,"b":2}"#, #"{}"#),
        (#"{"a":1,"b":2}"#, #"{"a":1}"#, #"{"b":null}"#),
        (#"{"a":1}"#, #"{"a":1.0}"#, #"{}"#),
        (#"{"a":{"x":1,"y":2}}"#, #"{"a":{"x":1,"y":3}}"#, #"{"a":{"y":3}}"#),
        (#"{"a":{"x":1}}"#, #"{"a":"s"}"#, #"{"a":"s"}"#),
        (#"{"l":[1,2]}"#, #"{"l":[1]}"#, #"{"l":[1]}"#),
        (#"{}"#, #"{"n":{"m":1}}"#, #"{"n":{"m":1}}"#),
        (#"{"spec":{"replicas":2,"model":"a"}}"#, #"{"spec":{"replicas":4,"model":"a"}}"#,
         #"{"spec":{"replicas":4}}"#),
        ("[1]", "[2]", "[2]"),
    ])
    func createsMinimalPatch(original: String, modified: String, expected: String) {
        let patch = MergePatch.create(from: json(original), to: json(modified))
        #expect(patch == json(expected))
        #expect(MergePatch.apply(patch, to: json(original)).semanticallyEquals(json(modified)))
    }
}
