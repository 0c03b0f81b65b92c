import ClusterSim
import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore
import Testing

/// The least-privilege claim of `manifests/`: the real controller binary, authenticated as the
/// `modelrollout-controller` ServiceAccount and authorized only by `manifests/rbac`, completes a rollout with
/// leader election on and is never refused; requests outside those rules are refused with 403.
@Suite("RBAC end to end", .serialized)
struct RBACEndToEndTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let systemNamespace = "modelrollout-system"
    static let account = "modelrollout-controller"
    static var user: String { "system:serviceaccount:\(systemNamespace):\(account)" }

    /// The namespace, ServiceAccount and RBAC objects of `manifests/` (the files `kubectl apply -k` installs; the
    /// CRD is the bundled one and the controller runs here as a process, not as the Deployment).
    static func applyManifestRBAC(_ cluster: EmulatedCluster) async throws -> [String] {
        let files = [
            "namespace.yaml", "rbac/service_account.yaml", "rbac/role.yaml", "rbac/role_binding.yaml",
            "rbac/leader_election_role.yaml", "rbac/leader_election_role_binding.yaml",
        ]
        var objects: [JSONValue] = []
        for file in files {
            let text = try String(contentsOf: root.appendingPathComponent("manifests/\(file)"), encoding: .utf8)
            objects += try ClusterManifests.parse(yaml: text)
        }
        return try await ClusterManifests.apply(objects, to: cluster.storage)
    }

    /// Runs `body` and returns the API error it threw (nil when it succeeded or threw something else).
    static func apiError(_ body: () async throws -> Void) async -> KubeAPIError? {
        do {
            try await body()
            return nil
        } catch let error as KubeAPIError {
            return error
        } catch {
            return nil
        }
    }

    @Test("the controller completes a rollout with exactly manifests/rbac; requests outside it get 403")
    func leastPrivilegeRollout() async throws {
        let harness = try await Harness(tls: true)
        defer { Task { await harness.shutdown() } }
        let written = try await Self.applyManifestRBAC(harness.cluster)
        #expect(written.count == 6)
        let kubeconfig = harness.logDirectory.appendingPathComponent("sa.kubeconfig").path
        try await harness.cluster.serviceAccountKubeconfig(
            serviceAccountNamespace: Self.systemNamespace, serviceAccount: Self.account, namespace: Harness.namespace
        ).write(toFile: kubeconfig, atomically: true, encoding: .utf8)

        try await harness.createRevision("r1", replicas: 2)
        try await harness.createRevision("r2", replicas: 0)
        try await harness.createRoute(["r1": 100])
        try await harness.waitUntil("r1 serving", seconds: 60) { try await harness.readyPods("r1") == 2 }
        let load = LoadGenerator(
            configuration: .init(
                url: harness.gatewayURL, rate: 20, model: Harness.model, promptTokens: 100, maxTokens: 8, seed: 7))
        await load.start()
        try harness.startController(
            extraArguments: ["--leader-elect", "--leader-election-namespace", Self.systemNamespace],
            kubeconfig: kubeconfig)
        try await harness.createRollout(spec: [
            "deployment": "r1", "steps": [["weight": 50, "hold": "2s"], ["weight": 100]],
        ])
        try await harness.waitUntil("the rollout to adopt r1") {
            let rollout = try await harness.rollout()
            return rollout.status?.stableDeployment == "r1" && rollout.status?.observedGeneration == 1
        }
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("promotion", seconds: 90) {
            try await harness.rollout().status?.phase == .promoted
        }
        try await harness.waitUntil("r1 retired", seconds: 30) {
            let weights = try await harness.routeWeights()
            let replicas = try await harness.replicas("r1")
            return weights["r1"] == nil && replicas == 0
        }
        await load.stop()
        let summary = await load.summary()
        #expect(summary.requestsToUnloadedPods == 0)
        #expect((summary.byRevision["r2"] ?? 0) > 0)

        // It led through its Lease in its own namespace, wrote Events, and was never refused.
        let lease = await harness.cluster.storage.get(
            .leases, namespace: Self.systemNamespace, name: "modelrollout-controller")
        #expect(lease?[path: ["spec", "holderIdentity"]]?.stringValue?.isEmpty == false)
        let reasons = try await harness.events().compactMap { $0["reason"]?.stringValue }
        #expect(reasons.contains("Promoted"))
        let refused = await harness.cluster.apiServer.rbacDenials().filter { $0.user == Self.user }
        #expect(refused.isEmpty, "the controller was refused: \(refused.map(\.message))")

        // The same identity outside its rules.
        let sa = try KubernetesClient(configuration: ClientConfiguration.fromKubeconfig(paths: [kubeconfig]))
        defer { Task { try? await sa.shutdown() } }
        let secrets = await Self.apiError {
            _ = try await sa.resources(Secret.self, namespace: Harness.namespace).list()
        }
        #expect(secrets?.isForbidden == true)
        #expect(
            secrets?.status.message
                == "secrets is forbidden: User \"\(Self.user)\" cannot list resource \"secrets\" in API group \"\" "
                + "in the namespace \"llm-serving\"")
        let deletion = await Self.apiError {
            try await sa.resources(Deployment.self, namespace: Harness.namespace).delete("r2")
        }
        #expect(deletion?.isForbidden == true)
        #expect(
            deletion?.status.message
                == "deployments.apps \"r2\" is forbidden: User \"\(Self.user)\" cannot delete resource "
                + "\"deployments\" in API group \"apps\" in the namespace \"llm-serving\"")
        let podName = try #require(
            await harness.cluster.storage.list(.pods, namespace: Harness.namespace).first?[path: ["metadata", "name"]]?
                .stringValue)
        let podPatch = await Self.apiError {
            _ = try await sa.resources(Pod.self, namespace: Harness.namespace).patch(
                podName, type: .merge, patch: ["metadata": ["labels": ["x": "y"]]])
        }
        #expect(podPatch?.isForbidden == true)
        let routeDelete = await Self.apiError {
            try await sa.resources(HTTPRoute.self, namespace: Harness.namespace).delete("llm-chat")
        }
        #expect(routeDelete?.isForbidden == true)
        let leaseElsewhere = await Self.apiError {
            _ = try await sa.resources(Lease.self, namespace: Harness.namespace).list()
        }
        #expect(leaseElsewhere?.isForbidden == true)
        // And what it may do still works with that identity.
        #expect(try await sa.resources(Deployment.self, namespace: Harness.namespace).list().items.count == 2)
    }
}
