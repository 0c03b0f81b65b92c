import Testing

@testable import KubeCore

@Suite struct LabelSelectorTests {
    /// (selector text, canonical description)
    @Test(arguments: [
        ("", ""),
        ("   ", ""),
        ("app=web", "app=web"),
        ("app==web", "app==web"),
        ("app!=web", "app!=web"),
        ("tier in (b,a)", "tier in (a,b)"),
        ("tier notin (a, b,a)", "tier notin (a,b)"),
        ("canary", "canary"),
        ("!canary", "!canary"),
        ("gen>3", "gen>3"),
        ("gen<10", "gen<10"),
        (" z = 1 , a in ( x ) ,!m ", "a in (x),!m,z=1"),
        ("app=", "app="),
        ("x in ()", "x in ()"),
        ("x in (,a)", "x in (,a)"),
        ("x in (a,)", "x in (,a)"),
        ("in=notin", "in=notin"),
        ("x in (in,notin)", "x in (in,notin)"),
        ("app.kubernetes.io/name=web", "app.kubernetes.io/name=web"),
        ("a=b,a=c", "a=b,a=c"),
    ])
    func parsesToCanonicalForm(text: String, canonical: String) throws {
        let selector = try LabelSelector(parsing: text)
        #expect(selector.description == canonical)
        #expect(try LabelSelector(parsing: canonical) == selector)
    }

    /// (selector, labels, matches)
    @Test(arguments: [
        ("", [:], true),
        ("", ["a": "b"], true),
        ("app=web", ["app": "web"], true),
        ("app=web", ["app": "db"], false),
        ("app=web", [:], false),
        ("app==web", ["app": "web"], true),
        ("app!=web", ["app": "db"], true),
        ("app!=web", [:], true),
        ("app!=web", ["app": "web"], false),
        ("tier in (a,b)", ["tier": "b"], true),
        ("tier in (a,b)", ["tier": "c"], false),
        ("tier in (a,b)", [:], false),
        ("tier notin (a,b)", ["tier": "c"], true),
        ("tier notin (a,b)", [:], true),
        ("tier notin (a,b)", ["tier": "a"], false),
        ("canary", ["canary": ""], true),
        ("canary", [:], false),
        ("!canary", [:], true),
        ("!canary", ["canary": "true"], false),
        ("gen>3", ["gen": "4"], true),
        ("gen>3", ["gen": "3"], false),
        ("gen>3", ["gen": "x"], false),
        ("gen>3", [:], false),
        ("gen<3", ["gen": "-1"], true),
        ("app=", ["app": ""], true),
        ("app=", [:], false),
        ("x in ()", ["x": ""], true),
        ("app=web,tier in (a,b),!canary", ["app": "web", "tier": "a"], true),
        ("app=web,tier in (a,b),!canary", ["app": "web", "tier": "a", "canary": "1"], false),
    ] as [(String, [String: String], Bool)])
    func matches(text: String, labels: [String: String], expected: Bool) throws {
        #expect(try LabelSelector(parsing: text).matches(labels) == expected)
    }

    static let nameHelp =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        + "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        + "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let valueHelp =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
        + "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
        + "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    static let longKey = String(repeating: "k", count: 64)
    static let longValue = String(repeating: "v", count: 64)
    static let dnsHelp: String =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        + "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let qualifiedHelp: String =
        "a qualified name " + nameHelp + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
    static let gtHelp = "for 'Gt', 'Lt' operators, the value must be an integer"
    static let requirement = "unable to parse requirement: "

    static let parseErrors: [(String, String)] = [
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        ("a=b,", "found '', expected: identifier after ','"),
        ("a=b,,c", "found ',', expected: identifier after ','"),
        ("a b", requirement + "found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("a in b", requirement + "found 'b' expected: '('"),
        ("a in (b c)", requirement + "found 'c', expected: ',' or ')'"),
        ("a in (b", requirement + "found '', expected: ',' or ')'"),
        ("a in (=)", requirement + "found '=', expected: ',', ')' or identifier"),
        ("a==(", requirement + "found '(', expected: identifier"),
        ("!=x", "found '!=', expected: !, identifier, or 'end of string'"),
        ("!,a", requirement + "found ',', expected: identifier"),
        ("a>x", requirement + "values[0]: Invalid value: \"x\": " + gtHelp),
        ("Bad_=x", requirement + "Invalid value: \"Bad_\": name part " + nameHelp),
        ("a=-x", requirement + "values[0][a]: Invalid value: \"-x\": " + valueHelp),
        ("/a=x", requirement + "Invalid value: \"/a\": prefix part must be non-empty"),
        ("a/=x", requirement + "Invalid value: \"a/\": name part must be non-empty; name part " + nameHelp),
        ("Ex.com/a=x", requirement + "Invalid value: \"Ex.com/a\": prefix part " + dnsHelp),
        ("a/b/c", requirement + "Invalid value: \"a/b/c\": " + qualifiedHelp),
        (longKey, requirement + "Invalid value: \"" + longKey + "\": name part must be no more than 63 bytes"),
        (
            "a=" + longValue,
            requirement + "values[0][a]: Invalid value: \"" + longValue + "\": must be no more than 63 bytes"
        ),
    ]

    @Test(arguments: parseErrors)
    func rejects(text: String, message: String) {
        #expect(throws: SelectorError(message)) { try LabelSelector(parsing: text) }
    }

    /// (metav1.LabelSelector JSON, canonical description)
    @Test(arguments: [
        (#"{}"#, ""),
        (#"{"matchLabels":{"b":"2","a":"1"}}"#, "a=1,b=2"),
        (
            #"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["y","x"]},"#
                + #"{"key":"env","operator":"NotIn","values":["dev"]},{"key":"gpu","operator":"Exists"},"#
                + #"{"key":"spot","operator":"DoesNotExist"}]}"#,
            "app=web,env notin (dev),gpu,!spot,tier in (x,y)"
        ),
        (#"{"matchLabels":null,"matchExpressions":null}"#, ""),
    ])
    func fromJSON(text: String, canonical: String) throws {
        let selector = try LabelSelector(json: json(text))
        #expect(selector.description == canonical)
        #expect(selector.isEmpty == canonical.isEmpty)
    }

    @Test(arguments: [
        (#"{"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]}"#,
         #""Gt" is not a valid label selector operator"#),
        (#"{"matchExpressions":[{"key":"a","operator":"In","values":[]}]}"#,
         "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"),
        (#"{"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]}"#,
         "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist"),
        (#"{"matchLabels":{"a":"-"}}"#, "values[0][a]: Invalid value: \"-\": " + valueHelp),
        (#"{"matchLabels":{"a":1}}"#, "matchLabels[a] must be a string"),
        (#"{"matchExpressions":{}}"#, "matchExpressions must be a list, got object"),
        ("[]", "a label selector must be an object, got array"),
    ])
    func rejectsJSON(text: String, message: String) {
        #expect(throws: SelectorError(message)) { try LabelSelector(json: json(text)) }
    }

    @Test func nullSelectorSelectsNothingAndEmptySelectsEverything() throws {
        let none = try LabelSelector(json: .null)
        #expect(!none.matches([:]))
        #expect(!none.isEmpty)
        #expect(LabelSelector().matches(["a": "b"]))
        #expect(LabelSelector().isEmpty)
    }

    @Test func matchLabelsInitializer() {
        let selector = LabelSelector(matchLabels: ["app": "web", "track": "canary"])
        #expect(selector.description == "app=web,track=canary")
        #expect(selector.matches(["app": "web", "track": "canary", "x": "y"]))
        #expect(!selector.matches(["app": "web"]))
        #expect(selector.requirements.map(\.key) == ["app", "track"])
    }
}

@Suite struct FieldSelectorTests {
    /// (text, canonical description)
    @Test(arguments: [
        ("", ""),
        ("metadata.name=web", "metadata.name=web"),
        ("metadata.name==web", "metadata.name=web"),
        ("status.phase!=Running", "status.phase!=Running"),
        ("spec.nodeName=,metadata.name=a", "metadata.name=a,spec.nodeName="),
        ("metadata.name=a\\,b\\=c\\\\d", "metadata.name=a\\,b\\=c\\\\d"),
        ("a=b,,c=d", "a=b,c=d"),
    ])
    func parses(text: String, canonical: String) throws {
        let selector = try FieldSelector(parsing: text)
        #expect(selector.description == canonical)
    }

    @Test func unescapesValues() throws {
        let selector = try FieldSelector(parsing: "metadata.name=a\\,b\\=c\\\\d")
        let expected = FieldSelector.Requirement(field: "metadata.name", value: "a,b=c\\d", equals: true)
        #expect(selector.requirements == [expected])
        #expect(FieldSelector.escape("a,b=c\\d") == "a\\,b\\=c\\\\d")
    }

    @Test(arguments: [
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        ("a=b=c", "invalid field selector: unescaped character in value: ="),
        ("a=b\\x", "invalid field selector: invalid escape sequence: \\x"),
        ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
    ])
    func rejects(text: String, message: String) {
        #expect(throws: SelectorError(message)) { try FieldSelector(parsing: text) }
    }

    static let pod = #"""
        {"metadata":{"name":"web-1","namespace":"default"},"spec":{"nodeName":"gpu-1","hostNetwork":false,
         "priority":5,"ratio":0.5},"status":{"phase":"Running"}}
        """#

    @Test(arguments: [
        ("metadata.name", "web-1"),
        ("metadata.namespace", "default"),
        ("spec.nodeName", "gpu-1"),
        ("spec.hostNetwork", "false"),
        ("spec.priority", "5"),
        ("spec.ratio", "0.5"),
        ("status.phase", "Running"),
        ("status.podIP", nil),
        ("spec", nil),
        ("metadata.name.x", nil),
    ] as [(String, String?)])
    func resolvesValues(path: String, expected: String?) {
        #expect(FieldSelector.value(at: path, in: json(Self.pod)) == expected)
    }

    @Test(arguments: [
        ("", true),
        ("metadata.name=web-1", true),
        ("metadata.name==web-1,status.phase=Running", true),
        ("metadata.name=web-2", false),
        ("status.phase!=Running", false),
        ("status.podIP=", true),
        ("status.podIP!=10.0.0.1", true),
        ("status.podIP=10.0.0.1", false),
        ("spec.hostNetwork=false", true),
    ])
    func matchesObjects(text: String, expected: Bool) throws {
        let selector = try FieldSelector(parsing: text)
        #expect(selector.matches(object: json(Self.pod)) == expected)
        #expect(selector.matches { FieldSelector.value(at: $0, in: json(Self.pod)) } == expected)
    }
}
