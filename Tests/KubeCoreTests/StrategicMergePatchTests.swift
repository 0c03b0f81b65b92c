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

    /// (name, kind, document, patch, expected)
    static let cases: [(String, String, String, String, String)] = [
        (
            "kubectl patch example: containers merge by name, the other container stays", "Deployment",
            #"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1"},{"name":"s","image":"e"}]}}}}"#,
            #"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}"#,
            #"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"},{"name":"s","image":"e"}]}}}}"#
        ),
        (
            "new container is appended", "Deployment",
            #"{"spec":{"template":{"spec":{"containers":[{"name":"a"}]}}}}"#,
            #"{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"x","bad":null}]}}}}"#,
            #"{"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b","image":"x"}]}}}}"#
        ),
        (
            "$patch: delete removes one env entry", "Deployment",
            #"{"spec":{"template":{"spec":{"containers":[{"name":"c","env":[{"name":"A","value":"1"},{"name":"B"}]}]}}}}"#,
            #"{"spec":{"template":{"spec":{"containers":[{"name":"c","env":[{"name":"A","$patch":"delete"}]}]}}}}"#,
            #"{"spec":{"template":{"spec":{"containers":[{"name":"c","env":[{"name":"B"}]}]}}}}"#
        ),
        (
            "env entry merged by name", "Pod",
            #"{"spec":{"containers":[{"name":"c","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}"#,
            #"{"spec":{"containers":[{"name":"c","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}"#,
            #"{"spec":{"containers":[{"name":"c","env":[{"name":"A","value":"1"},{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}"#
        ),
        (
            "container ports merge by containerPort", "Pod",
            #"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80},{"containerPort":9090}]}]}}"#,
            #"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http"}]}]}}"#,
            #"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http"},{"containerPort":9090}]}]}}"#
        ),
        (
            "volumeMounts merge by mountPath", "StatefulSet",
            #"{"spec":{"template":{"spec":{"containers":[{"name":"c","volumeMounts":[{"mountPath":"/a","name":"x"}]}]}}}}"#,
            #"{"spec":{"template":{"spec":{"containers":[{"name":"c","volumeMounts":[{"mountPath":"/b","name":"y"}]}]}}}}"#,
            #"{"spec":{"template":{"spec":{"containers":[{"name":"c","volumeMounts":[{"mountPath":"/a","name":"x"},{"mountPath":"/b","name":"y"}]}]}}}}"#
        ),
        (
            "initContainers of a CronJob merge by name", "CronJob",
            #"{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"initContainers":[{"name":"i","image":"a"},{"name":"j"}]}}}}}}"#,
            #"{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"initContainers":[{"name":"i","image":"b"}]}}}}}}"#,
            #"{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"initContainers":[{"name":"i","image":"b"},{"name":"j"}]}}}}}}"#
        ),
        (
            "service ports merge by port", "Service",
            #"{"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}}"#,
            #"{"spec":{"ports":[{"port":80,"targetPort":9090}]}}"#,
            #"{"spec":{"ports":[{"port":80,"targetPort":9090},{"port":443}]}}"#
        ),
        (
            "tolerations are atomic", "Deployment",
            #"{"spec":{"template":{"spec":{"tolerations":[{"key":"a"},{"key":"b"}]}}}}"#,
            #"{"spec":{"template":{"spec":{"tolerations":[{"key":"c"}]}}}}"#,
            #"{"spec":{"template":{"spec":{"tolerations":[{"key":"c"}]}}}}"#
        ),
        (
            "container args are atomic", "Pod",
            #"{"spec":{"containers":[{"name":"c","args":["a","b"]}]}}"#,
            #"{"spec":{"containers":[{"name":"c","args":["z"]}]}}"#,
            #"{"spec":{"containers":[{"name":"c","args":["z"]}]}}"#
        ),
        (
            "conditions merge by type", "Deployment",
            #"{"status":{"conditions":[{"type":"Available","status":"False"},{"type":"Progressing","status":"True"}]}}"#,
            #"{"status":{"conditions":[{"type":"Available","status":"True"}]}}"#,
            #"{"status":{"conditions":[{"type":"Available","status":"True"},{"type":"Progressing","status":"True"}]}}"#
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
            "$patch: replace inside a list replaces the list", "Pod",
            #"{"spec":{"volumes":[{"name":"a"},{"name":"b"}]}}"#,
            #"{"spec":{"volumes":[{"$patch":"replace"},{"name":"c","emptyDir":{}}]}}"#,
            #"{"spec":{"volumes":[{"name":"c","emptyDir":{}}]}}"#
        ),
        (
            "$retainKeys drops keys that are not listed", "Deployment",
            #"{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}"#,
            #"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#,
            #"{"spec":{"strategy":{"type":"Recreate"}}}"#
        ),
        (
            "$setElementOrder reorders merged containers; server-only items keep their slot", "Pod",
            #"{"spec":{"containers":[{"name":"a"},{"name":"server"},{"name":"b"}]}}"#,
            #"{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"b","image":"x"}]}}"#,
            #"{"spec":{"containers":[{"name":"b","image":"x"},{"name":"server"},{"name":"a"}]}}"#
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
            #"{"spec":{"template":{"metadata":{"labels":{"app":"web"},"annotations":{"kubectl.kubernetes.io/restartedAt":"t"}}}}}"#
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
