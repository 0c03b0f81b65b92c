import Foundation
import KubeCore
import Testing

@testable import ClusterSim

/// RBAC over HTTP: service-account tokens are authorized against the stored RBAC objects (here the operator's own
/// `manifests/rbac`); the no-token mode and configured tokens stay administrators.
@Suite("RBAC in the API server")
struct RBACAPIServerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let controllerUser = "system:serviceaccount:modelrollout-system:modelrollout-controller"

    /// The namespace, ServiceAccount and RBAC of `manifests/`, installed into `storage`.
    static func installOperatorRBAC(_ storage: ObjectStorage) async throws {
        var yaml = try String(contentsOf: root.appendingPathComponent("manifests/namespace.yaml"), encoding: .utf8)
        for file in [
            "service_account", "role", "role_binding", "leader_election_role", "leader_election_role_binding",
        ] {
            yaml += "\n---\n"
            yaml += try String(contentsOf: root.appendingPathComponent("manifests/rbac/\(file).yaml"), encoding: .utf8)
        }
        let written = try await ClusterManifests.apply(try ClusterManifests.parse(yaml: yaml), to: storage)
        #expect(written.contains("clusterroles.rbac.authorization.k8s.io/modelrollout-controller"))
        #expect(written.contains("rolebindings.rbac.authorization.k8s.io/modelrollout-leader-election"))
    }

    static let deployment: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": ["name": "r1", "namespace": "llm-serving"],
        "spec": [
            "replicas": 1, "selector": ["matchLabels": ["app": "a"]],
            "template": ["metadata": ["labels": ["app": "a"]], "spec": ["containers": [["name": "c", "image": "i"]]]],
        ],
    ]

    @Test("a service-account token gets exactly its rules: 403 Forbidden with the real message outside them")
    func serviceAccountAuthorization() async throws {
        try await TestCluster.with { cluster in
            try await Self.installOperatorRBAC(cluster.server.storage)
            _ = try await cluster.server.storage.create(.deployments, Self.deployment)
            let token = await cluster.server.serviceAccountToken(
                namespace: "modelrollout-system", name: "modelrollout-controller")
            let auth = [("Authorization", "Bearer \(token)")]

            let secrets = try await cluster.request(.GET, "/api/v1/namespaces/llm-serving/secrets", headers: auth)
            #expect(secrets.status == 403)
            #expect(secrets.json["reason"]?.stringValue == "Forbidden")
            #expect(secrets.json["kind"]?.stringValue == "Status")
            #expect(
                secrets.json["message"]?.stringValue
                    == "secrets is forbidden: User \"\(Self.controllerUser)\" cannot list resource \"secrets\" in API "
                    + "group \"\" in the namespace \"llm-serving\"")
            #expect(secrets.json[path: ["details", "kind"]]?.stringValue == "secrets")

            let delete = try await cluster.request(
                .DELETE, "/apis/apps/v1/namespaces/llm-serving/deployments/r1", headers: auth)
            #expect(delete.status == 403)
            #expect(
                delete.json["message"]?.stringValue
                    == "deployments.apps \"r1\" is forbidden: User \"\(Self.controllerUser)\" cannot delete resource "
                    + "\"deployments\" in API group \"apps\" in the namespace \"llm-serving\"")
            #expect(delete.json[path: ["details", "name"]]?.stringValue == "r1")
            #expect(await cluster.server.storage.get(.deployments, namespace: "llm-serving", name: "r1") != nil)

            let updateScale = try await cluster.json(
                .PUT, "/apis/apps/v1/namespaces/llm-serving/deployments/r1/scale",
                ["apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": ["name": "r1"], "spec": ["replicas": 3]],
                headers: auth)
            #expect(updateScale.status == 403)
            let updateMessage = updateScale.json["message"]?.stringValue ?? ""
            #expect(updateMessage.contains("cannot update resource \"deployments/scale\""))

            // Allowed: list/watch Deployments, patch their scale, Events, its Lease namespace.
            let list = try await cluster.request(
                .GET, "/apis/apps/v1/namespaces/llm-serving/deployments", headers: auth)
            #expect(list.status == 200)
            let scale = try await cluster.json(
                .PATCH, "/apis/apps/v1/namespaces/llm-serving/deployments/r1/scale", ["spec": ["replicas": 2]],
                contentType: "application/merge-patch+json", headers: auth)
            #expect(scale.status == 200)
            #expect(scale.json[path: ["spec", "replicas"]]?.intValue == 2)
            let getDeployment = try await cluster.request(
                .GET, "/apis/apps/v1/namespaces/llm-serving/deployments/r1", headers: auth)
            #expect(getDeployment.status == 403)
            let lease: JSONValue = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": ["name": "l", "namespace": "modelrollout-system"], "spec": ["holderIdentity": "me"],
            ]
            let created = try await cluster.json(
                .POST, "/apis/coordination.k8s.io/v1/namespaces/modelrollout-system/leases", lease, headers: auth)
            #expect(created.status == 201)
            let elsewhere = try await cluster.json(
                .POST, "/apis/coordination.k8s.io/v1/namespaces/llm-serving/leases", lease, headers: auth)
            #expect(elsewhere.status == 403)
            let deleteLease = try await cluster.request(
                .DELETE, "/apis/coordination.k8s.io/v1/namespaces/modelrollout-system/leases/l", headers: auth)
            #expect(deleteLease.status == 403)

            // Discovery and OpenAPI for any authenticated user; the simulator's admin endpoint is not.
            #expect(try await cluster.request(.GET, "/apis", headers: auth).status == 200)
            #expect(try await cluster.request(.GET, "/api/v1", headers: auth).status == 200)
            #expect(try await cluster.request(.GET, "/openapi/v3", headers: auth).status == 200)
            let faults = try await cluster.request(.PUT, "/_sim/faults", body: "", headers: auth)
            #expect(faults.status == 403)
            #expect(
                faults.json["message"]?.stringValue
                    == "forbidden: User \"\(Self.controllerUser)\" cannot put path \"/_sim/faults\"")

            let denials = await cluster.server.rbacDenials()
            #expect(denials.contains { $0.attributes.resource == "secrets" && $0.attributes.verb == "list" })
            #expect(denials.allSatisfy { $0.user == Self.controllerUser })

            // No token: the administrator, as before RBAC existed.
            #expect(try await cluster.request(.GET, "/api/v1/namespaces/llm-serving/secrets").status == 200)
        }
    }

    @Test("a minted token stops working when its ServiceAccount is deleted; unknown SA tokens are not admins")
    func tokenNeedsServiceAccount() async throws {
        try await TestCluster.with(APIServer.Configuration(tokens: ["admin-token"])) { cluster in
            try await Self.installOperatorRBAC(cluster.server.storage)
            let token = await cluster.server.serviceAccountToken(
                namespace: "modelrollout-system", name: "modelrollout-controller")
            let auth = [("Authorization", "Bearer \(token)")]
            #expect(try await cluster.request(.GET, "/api/v1/namespaces/llm-serving/pods", headers: auth).status == 200)
            let admin = [("Authorization", "Bearer admin-token")]
            let adminSecrets = try await cluster.request(
                .GET, "/api/v1/namespaces/llm-serving/secrets", headers: admin)
            #expect(adminSecrets.status == 200)
            #expect(try await cluster.request(.GET, "/api/v1/namespaces/llm-serving/secrets").status == 401)
            try await cluster.server.storage.delete(
                .serviceAccounts, namespace: "modelrollout-system", name: "modelrollout-controller")
            #expect(try await cluster.request(.GET, "/api/v1/namespaces/llm-serving/pods", headers: auth).status == 401)
            // A token for an account that never existed.
            let ghost = await cluster.server.serviceAccountToken(namespace: "llm-serving", name: "ghost")
            let ghostAuth = [("Authorization", "Bearer \(ghost)")]
            #expect(try await cluster.request(.GET, "/apis", headers: ghostAuth).status == 401)
        }
    }

    @Test("RBAC objects are served: create, list, and kubectl's table columns")
    func rbacResourcesServed() async throws {
        try await TestCluster.with { cluster in
            try await Self.installOperatorRBAC(cluster.server.storage)
            let discovery = try await cluster.request(.GET, "/apis/rbac.authorization.k8s.io/v1")
            #expect(discovery.status == 200)
            let names = (discovery.json["resources"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(Set(names).isSuperset(of: ["roles", "rolebindings", "clusterroles", "clusterrolebindings"]))
            let list = try await cluster.request(.GET, "/apis/rbac.authorization.k8s.io/v1/clusterroles")
            #expect(list.json["kind"]?.stringValue == "ClusterRoleList")
            let table = try await cluster.request(
                .GET, "/apis/rbac.authorization.k8s.io/v1/namespaces/modelrollout-system/rolebindings",
                headers: [("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")])
            let columns = (table.json["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(columns == ["Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"])
            let cells = table.json[path: ["rows"]]?.arrayValue?.first?["cells"]?.arrayValue ?? []
            #expect(cells.count == 6)
            #expect(cells.first?.stringValue == "modelrollout-leader-election")
            #expect(cells.dropFirst().first?.stringValue == "Role/modelrollout-leader-election")
            #expect(cells.last?.stringValue == "modelrollout-system:modelrollout-controller")
        }
    }
}

/// `manifests/`: the CRD copy equals `crds/`, every file parses, and the Deployment is hardened as documented.
@Suite("RBAC install manifests")
struct RBACManifestTests {
    static let root = RBACAPIServerTests.root

    @Test("manifests/crd/ equals crds/ (run scripts/sync-manifest-crds.sh after editing the CRD)")
    func crdCopyInSync() throws {
        let original = try Data(contentsOf: Self.root.appendingPathComponent("crds/modelrollout.io_modelrollouts.yaml"))
        let copy = try Data(
            contentsOf: Self.root.appendingPathComponent("manifests/crd/modelrollout.io_modelrollouts.yaml"))
        #expect(original == copy)
    }

    @Test("every resource of the kustomization parses; the controller Deployment is hardened")
    func manifestsParse() throws {
        let kustomization = try String(
            contentsOf: Self.root.appendingPathComponent("manifests/kustomization.yaml"), encoding: .utf8)
        let k = try ClusterManifests.parse(yaml: kustomization)
        let resources = (k.first?["resources"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(resources.count == 9)
        var kinds: [String] = []
        var objects: [JSONValue] = []
        for resource in resources {
            let url = Self.root.appendingPathComponent("manifests/\(resource)")
            let text = try String(contentsOf: url, encoding: .utf8)
            let parsed = try ClusterManifests.parse(yaml: text)
            objects += parsed
            kinds += parsed.compactMap { $0["kind"]?.stringValue }
        }
        #expect(
            Set(kinds) == [
                "Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
                "RoleBinding", "Deployment", "Service",
            ])
        let deployment = try #require(objects.first { $0["kind"]?.stringValue == "Deployment" })
        let pod = try #require(deployment[path: ["spec", "template", "spec"]])
        #expect(pod["serviceAccountName"]?.stringValue == "modelrollout-controller")
        #expect(pod[path: ["securityContext", "runAsNonRoot"]]?.boolValue == true)
        #expect(pod[path: ["securityContext", "seccompProfile", "type"]]?.stringValue == "RuntimeDefault")
        let container = try #require(pod["containers"]?.arrayValue?.first)
        let args = (container["args"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(args.first == "controller")
        #expect(args.contains("--leader-elect"))
        #expect(args.contains("--leader-election-namespace=modelrollout-system"))
        #expect(container[path: ["securityContext", "readOnlyRootFilesystem"]]?.boolValue == true)
        #expect(container[path: ["securityContext", "allowPrivilegeEscalation"]]?.boolValue == false)
        #expect(container[path: ["securityContext", "capabilities", "drop"]] == ["ALL"])
        #expect(container[path: ["livenessProbe", "httpGet", "path"]]?.stringValue == "/healthz")
        #expect(container[path: ["readinessProbe", "httpGet", "path"]]?.stringValue == "/readyz")
        #expect(container[path: ["resources", "requests", "memory"]] != nil)
        #expect(container[path: ["resources", "limits", "memory"]] != nil)
    }

    @Test("a multi-document YAML with blank documents and a List flattens; bad input is an error")
    func parseDocuments() throws {
        let objects = try ClusterManifests.parse(
            yaml: "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: List\n"
                + "items:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n")
        #expect(objects.compactMap { $0[path: ["metadata", "name"]]?.stringValue } == ["a", "b"])
        #expect(throws: ManifestError.self) { try ClusterManifests.parse(yaml: "- a\n- b\n") }
        #expect(throws: ManifestError.self) { try ClusterManifests.parse(yaml: "a: [\n") }
    }
}
