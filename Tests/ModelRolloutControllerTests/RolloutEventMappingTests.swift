import Foundation
import KubeCore
import KubeRuntime
import Testing

@testable import ModelRolloutController

/// Events of related objects wake only the ModelRollouts they concern (issue 15, item 1).
@Suite struct RolloutEventMappingTests {
    static func rollout(
        _ name: String, namespace: String = "llm", deployment: String, stable: String? = nil,
        candidate: String? = nil, retired: String? = nil, route: String = "chat", routeNamespace: String? = nil
    ) -> JSONValue {
        var routeRef: [String: JSONValue] = ["name": .string(route)]
        if let routeNamespace { routeRef["namespace"] = .string(routeNamespace) }
        var status: [String: JSONValue] = [:]
        if let stable { status["stableDeployment"] = .string(stable) }
        if let candidate { status["candidateDeployment"] = .string(candidate) }
        if let retired { status["retiredDeployment"] = .string(retired) }
        return [
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": ["deployment": .string(deployment), "route": .object(routeRef)], "status": .object(status),
        ]
    }

    static let rollouts = [
        rollout("chat", deployment: "chat-r2", stable: "chat-r1", candidate: "chat-r2", route: "chat"),
        rollout("code", deployment: "code-r1", stable: "code-r1", retired: "code-r0", route: "code"),
        rollout("other-ns", namespace: "team-b", deployment: "x", route: "chat", routeNamespace: "llm"),
    ]

    static func pod(replicaSet: String?, hash: String?) -> ObjectMeta {
        ObjectMeta(
            name: "p", namespace: "llm", labels: hash.map { ["pod-template-hash": $0, "app": "vllm"] },
            ownerReferences: replicaSet.map {
                [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: $0, uid: "u", controller: true)]
            })
    }

    @Test func aDeploymentWakesTheRolloutsThatNameIt() {
        #expect(RolloutEventMapping.rollouts(forDeployment: "chat-r1", in: Self.rollouts) == [
            ObjectKey(namespace: "llm", name: "chat")
        ])
        #expect(RolloutEventMapping.rollouts(forDeployment: "chat-r2", in: Self.rollouts).map(\.name) == ["chat"])
        #expect(RolloutEventMapping.rollouts(forDeployment: "code-r0", in: Self.rollouts).map(\.name) == ["code"])
        #expect(RolloutEventMapping.rollouts(forDeployment: "unrelated", in: Self.rollouts).isEmpty)
    }

    @Test func theIndexedRolloutCacheAnswersAsTheScans() {
        let stores = ["llm", "team-b"].reduce(into: [String: Store<DynamicObject>]()) { stores, namespace in
            stores[namespace] = Store(indexers: [
                RolloutEventMapping.deploymentIndex: { RolloutEventMapping.deploymentIndexValues($0.raw) },
                RolloutEventMapping.routeIndex: { RolloutEventMapping.routeIndexValues($0.raw) },
            ])
        }
        for rollout in Self.rollouts {
            let namespace = rollout[path: ["metadata", "namespace"]]?.stringValue ?? ""
            stores[namespace]?.apply(.apply(DynamicObject(raw: rollout)))
        }
        let llm = Self.rollouts.filter { $0[path: ["metadata", "namespace"]]?.stringValue == "llm" }
        for deployment in ["chat-r1", "chat-r2", "code-r0", "code-r1", "x", "unrelated"] {
            #expect(
                stores["llm"]?.byIndex(RolloutEventMapping.deploymentIndex, deployment).map(\.objectKey)
                    == RolloutEventMapping.rollouts(forDeployment: deployment, in: llm), "\(deployment)")
        }
        for route in ["chat", "code", "none"] {
            let indexed = stores.keys.sorted().flatMap {
                stores[$0]?.byIndex(RolloutEventMapping.routeIndex, "llm/\(route)").map(\.objectKey) ?? []
            }
            #expect(
                Set(indexed) == Set(RolloutEventMapping.rollouts(forRoute: route, namespace: "llm", in: Self.rollouts)),
                "\(route)")
        }
        // The raw key needs no decoding, and matches the decoded metadata.
        let object = DynamicObject(raw: Self.rollouts[2])
        #expect(object.objectKey == ObjectKey(namespace: object.metadata.namespace, name: object.metadata.name ?? ""))
    }

    @Test func aPodWakesItsDeploymentsRolloutOnly() {
        let chatPod = Self.pod(replicaSet: "chat-r1-5d9c7b8f6", hash: "5d9c7b8f6")
        #expect(RolloutEventMapping.deployment(ofPod: chatPod) == "chat-r1")
        #expect(RolloutEventMapping.targets(forPod: chatPod, in: Self.rollouts) == .rollouts([
            ObjectKey(namespace: "llm", name: "chat")
        ]))
        // A pod of a Deployment no ModelRollout names wakes nothing.
        let stranger = Self.pod(replicaSet: "web-7f6d5c4b3", hash: "7f6d5c4b3")
        #expect(RolloutEventMapping.targets(forPod: stranger, in: Self.rollouts) == .rollouts([]))
        // A pod owned by its Deployment directly (the emulated cluster's pods) is attributed too.
        let direct = ObjectMeta(
            name: "p", namespace: "llm",
            ownerReferences: [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: "chat-r1", uid: "u")])
        #expect(RolloutEventMapping.deployment(ofPod: direct) == "chat-r1")
        #expect(RolloutEventMapping.targets(forPod: direct, in: Self.rollouts) == .rollouts([
            ObjectKey(namespace: "llm", name: "chat")
        ]))
        // A bare pod is no revision's.
        #expect(RolloutEventMapping.targets(forPod: Self.pod(replicaSet: nil, hash: nil), in: Self.rollouts)
            == .rollouts([]))
        // An owner of an unexpected shape: every ModelRollout of the namespace, never fewer than needed.
        let odd = Self.pod(replicaSet: "chat-r1-abc", hash: "zzz")
        #expect(RolloutEventMapping.targets(forPod: odd, in: Self.rollouts) == .namespace)
    }

    @Test func aRouteWakesTheRolloutsThatNameItAcrossNamespaces() {
        let keys = RolloutEventMapping.rollouts(forRoute: "chat", namespace: "llm", in: Self.rollouts)
        #expect(Set(keys) == [ObjectKey(namespace: "llm", name: "chat"), ObjectKey(namespace: "team-b", name: "other-ns")])
        #expect(RolloutEventMapping.rollouts(forRoute: "chat", namespace: "team-b", in: Self.rollouts).isEmpty)
        #expect(RolloutEventMapping.rollouts(forRoute: "code", namespace: "llm", in: Self.rollouts).map(\.name) == [
            "code"
        ])
    }
}

/// The reconciler reads the ModelRollout and its route from the caches only once they show its own last write.
@Suite struct WrittenVersionsTests {
    @Test func theCacheIsReadOnceItShowsOurLastWrite() {
        let written = WrittenVersions()
        let key = ObjectKey(namespace: "llm", name: "chat")
        #expect(written.isCurrent("modelrollout", key, resourceVersion: "7"), "nothing written: the cache is current")
        written.wrote("modelrollout", key, resourceVersion: "9")
        #expect(!written.isCurrent("modelrollout", key, resourceVersion: "7"), "the cache lags behind our write")
        #expect(!written.isCurrent("modelrollout", key, resourceVersion: nil))
        #expect(written.isCurrent("httproute", key, resourceVersion: "7"), "kinds are separate")
        #expect(written.isCurrent("modelrollout", key, resourceVersion: "9"))
        #expect(written.isCurrent("modelrollout", key, resourceVersion: "12"), "caught up once: later versions too")
    }
}

/// Pods are gathered and scraped concurrently, at most `podFanOut` at a time, in the input's order.
@Suite struct BoundedFanOutTests {
    actor Gauge {
        var current = 0
        var most = 0
        func enter() {
            current += 1
            most = max(most, current)
        }
        func leave() { current -= 1 }
    }

    @Test func keepsOrderAndBound() async {
        let gauge = Gauge()
        let inputs = Array(0..<50)
        let outputs = await RolloutGatherer.concurrently(inputs) { value -> Int in
            await gauge.enter()
            await Task.yield()
            try? await Task.sleep(for: .milliseconds(1 + (value * 7) % 5))
            await gauge.leave()
            return value * 2
        }
        #expect(outputs == inputs.map { $0 * 2 })
        let most = await gauge.most
        #expect(most <= RolloutGatherer.podFanOut)
        #expect(most > 1, "the work ran concurrently")
        #expect(await RolloutGatherer.concurrently([Int]()) { $0 }.isEmpty)
        #expect(await RolloutGatherer.concurrently([7]) { $0 + 1 } == [8])
    }
}
