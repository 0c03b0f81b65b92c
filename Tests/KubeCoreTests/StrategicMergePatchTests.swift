import Testing

@testable import KubeCore

@Suite struct StrategicMergePatchTests {
    static let deployment = #"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","finalizers":["a","b"]},
         "spec":{"replicas":2,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}},
          "template":{"metadata":{"labels":{"app":"web"}},"spec":{
           "containers":[
            {"name":"web","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
             "ports":[{"containerPort":80,"name":"http"}],"args":["--a","--b"]},
            {"name":"sidecar","image":"envoy:1"}],
           "tolerations":[{"key":"gpu","operator":"Exists"}],
           "volumes":[{"name":"v1","emptyDir":{}},{"name":"v2","configMap":{"name":"cm"}}]}}}}
        """#

    /// Pod spec fragments: (name, document, patch, expected). Each runs for every kind that holds a pod spec,
    /// wrapped at that kind's pod spec location.
    static let podSpecCases: [(String, String, String, String)] = [
        (
            "containers merge by name; the other container stays (kubectl patch example)",
            #"{"containers":[{"name":"web","image":"nginx:1"},{"name":"s","image":"e"}]}"#,
            #"{"containers":[{"name":"web","image":"nginx:2"}]}"#,
            #"{"containers":[{"name":"web","image":"nginx:2"},{"name":"s","image":"e"}]}"#
        ),
        (
            "a new container is appended, without its nulls",
            #"{"containers":[{"name":"a"}]}"#,
            #"{"containers":[{"name":"b","image":"x","bad":null}]}"#,
            #"{"containers":[{"name":"a"},{"name":"b","image":"x"}]}"#
        ),
        (
            "$patch: delete removes one env entry",
            #"{"containers":[{"name":"c","env":[{"name":"A","value":"1"},{"name":"B"}]}]}"#,
            #"{"containers":[{"name":"c","env":[{"name":"A","$patch":"delete"}]}]}"#,
            #"{"containers":[{"name":"c","env":[{"name":"B"}]}]}"#
        ),
        (
            "env entries merge by name",
            #"{"containers":[{"name":"c","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}"#,
            #"{"containers":[{"name":"c","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}"#,
            #"{"containers":[{"name":"c","env":[{"name":"A","value":"1"},{"name":"B","value":"3"},"#
                + #"{"name":"C","value":"4"}]}]}"#
        ),
        (
            "container ports merge by containerPort",
            #"{"containers":[{"name":"c","ports":[{"containerPort":80},{"containerPort":9090}]}]}"#,
            #"{"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http"}]}]}"#,
            #"{"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http"},{"containerPort":9090}]}]}"#
        ),
        (
            "volumeMounts merge by mountPath",
            #"{"containers":[{"name":"c","volumeMounts":[{"mountPath":"/a","name":"x"}]}]}"#,
            #"{"containers":[{"name":"c","volumeMounts":[{"mountPath":"/b","name":"y"}]}]}"#,
            #"{"containers":[{"name":"c","volumeMounts":[{"mountPath":"/a","name":"x"},"#
                + #"{"mountPath":"/b","name":"y"}]}]}"#
        ),
        (
            "initContainers merge by name",
            #"{"initContainers":[{"name":"i","image":"a"},{"name":"j"}]}"#,
            #"{"initContainers":[{"name":"i","image":"b"}]}"#,
            #"{"initContainers":[{"name":"i","image":"b"},{"name":"j"}]}"#
        ),
        (
            "ephemeralContainers merge by name",
            #"{"ephemeralContainers":[{"name":"d","image":"a"}]}"#,
            #"{"ephemeralContainers":[{"name":"e","image":"b"}]}"#,
            #"{"ephemeralContainers":[{"name":"d","image":"a"},{"name":"e","image":"b"}]}"#
        ),
        (
            "volumes and imagePullSecrets merge by name",
            #"{"volumes":[{"name":"v1","emptyDir":{}}],"imagePullSecrets":[{"name":"r1"}]}"#,
            #"{"volumes":[{"name":"v2","emptyDir":{}}],"imagePullSecrets":[{"name":"r2"}]}"#,
            #"{"volumes":[{"name":"v1","emptyDir":{}},{"name":"v2","emptyDir":{}}],"#
                + #""imagePullSecrets":[{"name":"r1"},{"name":"r2"}]}"#
        ),
        (
            "tolerations are atomic",
            #"{"tolerations":[{"key":"a"},{"key":"b"}]}"#,
            #"{"tolerations":[{"key":"c"}]}"#,
            #"{"tolerations":[{"key":"c"}]}"#
        ),
        (
            "container args are atomic",
            #"{"containers":[{"name":"c","args":["a","b"]}]}"#,
            #"{"containers":[{"name":"c","args":["z"]}]}"#,
            #"{"containers":[{"name":"c","args":["z"]}]}"#
        ),
        (
            "$patch: replace inside a list replaces the list",
            #"{"volumes":[{"name":"a"},{"name":"b"}]}"#,
            #"{"volumes":[{"$patch":"replace"},{"name":"c","emptyDir":{}}]}"#,
            #"{"volumes":[{"name":"c","emptyDir":{}}]}"#
        ),
        (
            "$setElementOrder reorders merged containers; server-only items keep their slot",
            #"{"containers":[{"name":"a"},{"name":"server"},{"name":"b"}]}"#,
            #"{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"b","image":"x"}]}"#,
            #"{"containers":[{"name":"b","image":"x"},{"name":"server"},{"name":"a"}]}"#
        ),
        (
            "a container without its merge key is an error", #"{}"#, #"{"containers":[{"image":"x"}]}"#,
            #"error: map: {"image":"x"} does not contain declared merge key: name"#
        ),
    ]

    static let podSpecLocations: [(String, [String])] = [
        ("Pod", ["spec"]),
        ("Deployment", ["spec", "template", "spec"]),
        ("ReplicaSet", ["spec", "template", "spec"]),
        ("StatefulSet", ["spec", "template", "spec"]),
        ("DaemonSet", ["spec", "template", "spec"]),
        ("Job", ["spec", "template", "spec"]),
        ("CronJob", ["spec", "jobTemplate", "spec", "template", "spec"]),
        ("PodTemplate", ["template", "spec"]),
    ]

    static func wrap(_ fragment: String, at location: [String]) -> JSONValue {
        location.reversed().reduce(json(fragment)) { inner, key in .object([key: inner]) }
    }

    @Test(arguments: podSpecCases, podSpecLocations)
    func mergesPodSpecs(testCase: (String, String, String, String), workload: (String, [String])) throws {
        let (name, document, patch, expected) = testCase
        let (kind, location) = workload
        let (wrappedPatch, wrappedDocument) = (Self.wrap(patch, at: location), Self.wrap(document, at: location))
        let apply = { try StrategicMergePatch.apply(wrappedPatch, to: wrappedDocument, kind: kind) }
        if expected.hasPrefix("error: ") {
            #expect(throws: PatchError(String(expected.dropFirst("error: ".count))), "\(name)") { try apply() }
        } else {
            #expect(try apply() == Self.wrap(expected, at: location), "\(name) in a \(kind)")
        }
    }

    /// (name, kind, document, patch, expected)
    static let cases: [(String, String, String, String, String)] = [
        (
            "service ports merge by port", "Service",
            #"{"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}}"#,
            #"{"spec":{"ports":[{"port":80,"targetPort":9090}]}}"#,
            #"{"spec":{"ports":[{"port":80,"targetPort":9090},{"port":443}]}}"#
        ),
        (
            "conditions merge by type", "Deployment",
            #"{"status":{"conditions":[{"type":"Available","status":"False"},"#
                + #"{"type":"Progressing","status":"True"}]}}"#,
            #"{"status":{"conditions":[{"type":"Available","status":"True"}]}}"#,
            #"{"status":{"conditions":[{"type":"Available","status":"True"},"#
                + #"{"type":"Progressing","status":"True"}]}}"#
        ),
        (
            "ConfigMap data merges like a map; null deletes", "ConfigMap",
            #"{"data":{"a":"1","b":"2"},"metadata":{"labels":{"x":"y"}}}"#,
            #"{"data":{"a":"9","b":null}}"#,
            #"{"data":{"a":"9"},"metadata":{"labels":{"x":"y"}}}"#
        ),
        (
            "finalizers merge as a set", "ConfigMap",
            #"{"metadata":{"finalizers":["a","b"]}}"#,
            #"{"metadata":{"finalizers":["b","c"]}}"#,
            #"{"metadata":{"finalizers":["a","b","c"]}}"#
        ),
        (
            "$deleteFromPrimitiveList removes finalizers", "Secret",
            #"{"metadata":{"finalizers":["a","b","c"]}}"#,
            #"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a","c"]}}"#,
            #"{"metadata":{"finalizers":["b"]}}"#
        ),
        (
            "$patch: replace on a map", "Deployment",
            #"{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}"#,
            #"{"spec":{"strategy":{"$patch":"replace","type":"Recreate"}}}"#,
            #"{"spec":{"strategy":{"type":"Recreate"}}}"#
        ),
        (
            "$patch: delete on a map", "Deployment",
            #"{"spec":{"strategy":{"type":"RollingUpdate"},"replicas":1}}"#,
            #"{"spec":{"strategy":{"$patch":"delete"}}}"#,
            #"{"spec":{"replicas":1}}"#
        ),
        (
            "$patch: merge is the default", "ConfigMap",
            #"{"data":{"a":"1"}}"#,
            #"{"data":{"$patch":"merge","b":"2"}}"#,
            #"{"data":{"a":"1","b":"2"}}"#
        ),
        (
            "$retainKeys drops keys that are not listed", "Deployment",
            #"{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}"#,
            #"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#,
            #"{"spec":{"strategy":{"type":"Recreate"}}}"#
        ),
        (
            "$setElementOrder on a primitive list", "Pod",
            #"{"metadata":{"finalizers":["x","y"]}}"#,
            #"{"metadata":{"$setElementOrder/finalizers":["z","y","x"],"finalizers":["z"]}}"#,
            #"{"metadata":{"finalizers":["z","y","x"]}}"#
        ),
        (
            "unknown kinds merge like a JSON merge patch (lists replaced)", "Widget",
            #"{"spec":{"items":[{"name":"a"},{"name":"b"}],"model":"small","x":1}}"#,
            #"{"spec":{"items":[{"name":"c"}],"model":"m2","x":null}}"#,
            #"{"spec":{"items":[{"name":"c"}],"model":"m2"}}"#
        ),
        (
            "top-level $patch: delete empties the object", "ConfigMap",
            #"{"data":{"a":"1"}}"#, #"{"$patch":"delete"}"#, #"{}"#
        ),
        (
            "rollout restart annotation", "Deployment",
            #"{"spec":{"template":{"metadata":{"labels":{"app":"web"}}}}}"#,
            #"{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"t"}}}}}"#,
            #"{"spec":{"template":{"metadata":{"labels":{"app":"web"},"#
                + #""annotations":{"kubectl.kubernetes.io/restartedAt":"t"}}}}}"#
        ),
    ]

    @Test(arguments: cases)
    func applies(name: String, kind: String, document: String, patch: String, expected: String) throws {
        let result = try StrategicMergePatch.apply(json(patch), to: json(document), kind: kind)
        #expect(result == json(expected), "\(name)")
    }

    @Test func kubectlSetImageKeepsEverythingElse() throws {
        let patch = json(#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}"#)
        let result = try StrategicMergePatch.apply(patch, to: json(Self.deployment), kind: "Deployment")
        var expected = json(Self.deployment)
        let containers = expected[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
        var web = containers.first ?? .null
        web["image"] = "nginx:2"
        expected[path: ["spec", "template", "spec", "containers"]] = .array([web] + containers.dropFirst())
        #expect(result == expected)
        #expect(result[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.count == 2)
    }

    @Test(arguments: [
        (
            #"{"spec":{"containers":[{"image":"x"}]}}"#,
            #"map: {"image":"x"} does not contain declared merge key: name"#
        ),
        (#"{"spec":{"containers":["x"]}}"#,
         #"invalid list element at .spec.containers: expected an object with merge key "name", got string"#),
        (#"{"spec":{"$patch":"explode"}}"#, #"unknown patch type: "explode" in map: {}"#),
        (#"{"spec":{"$retainKeys":"a"}}"#, "invalid $retainKeys at .spec: must be a list of strings"),
        (#"{"$setElementOrder/x":1}"#, "invalid $setElementOrder/x at the root: must be a list"),
        (#"{"$deleteFromPrimitiveList/x":1}"#, "invalid $deleteFromPrimitiveList/x at the root: must be a list"),
        ("[1]", "strategic merge patch must be a JSON object, got array"),
    ])
    func rejects(patch: String, message: String) {
        #expect(throws: PatchError(message)) {
            try StrategicMergePatch.apply(json(patch), to: json(#"{"spec":{}}"#), kind: "Pod")
        }
    }

    @Test(arguments: [
        ("Deployment", ["spec", "template", "spec", "containers"], ListMergeStrategy.mergeByKey("name")),
        ("Deployment", ["spec", "template", "spec", "containers", "env"], .mergeByKey("name")),
        ("Pod", ["spec", "initContainers", "ports"], .mergeByKey("containerPort")),
        ("Pod", ["spec", "ephemeralContainers", "volumeMounts"], .mergeByKey("mountPath")),
        ("Job", ["spec", "template", "spec", "imagePullSecrets"], .mergeByKey("name")),
        ("Service", ["spec", "ports"], .mergeByKey("port")),
        ("Pod", ["spec", "ports"], .atomic),
        ("Pod", ["spec", "tolerations"], .atomic),
        ("ConfigMap", ["metadata", "finalizers"], .set),
        ("Deployment", ["spec", "template", "metadata", "finalizers"], .set),
        ("Widget", ["metadata", "finalizers"], .atomic),
    ])
    func mergeKeyTable(kind: String, path: [String], strategy: ListMergeStrategy) {
        #expect(PatchMergeKeys.strategy(kind: kind, path: path) == strategy)
    }
}
