import Foundation
import KubeCore
import ModelRolloutCore
import Testing

@testable import ModelRolloutController

/// The controller's caches keep what its decisions read and drop the rest (issue 15, item 6).
@Suite struct CacheTrimTests {
    static let created = "2026-12-07T10:00:00Z"

    /// A vLLM pod as the API server returns it: managed fields, the last-applied annotation, env, volumes, probes.
    static func pod(restarts: Int = 0) throws -> Pod {
        let managedField: JSONValue = [
            "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
            "time": .string(created), "fieldsType": "FieldsV1",
            "fieldsV1": ["f:metadata": ["f:labels": ["f:app": [:], "f:modelrollout.io/revision": [:]]]],
        ]
        let container: JSONValue = [
            "name": "vllm", "image": "vllm/vllm-openai:v0.11.0",
            "args": ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--port", "8000", "--max-model-len", "8192"],
            "env": [["name": "HF_TOKEN", "valueFrom": ["secretKeyRef": ["name": "hf-token", "key": "token"]]]],
            "ports": [["name": "http", "containerPort": 8000, "protocol": "TCP"]],
            "resources": ["limits": ["nvidia.com/gpu": "1", "memory": "32Gi"], "requests": ["cpu": "4"]],
            "readinessProbe": ["httpGet": ["path": "/health", "port": 8000], "periodSeconds": 5],
            "livenessProbe": ["httpGet": ["path": "/health", "port": 8000], "periodSeconds": 15],
            "volumeMounts": [["name": "dshm", "mountPath": "/dev/shm"], ["name": "hf-cache", "mountPath": "/root/.cache"]],
        ]
        let raw: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": "vllm-llama-r2-6f7d8c9b5-abcde", "namespace": "llm-serving", "uid": "u-1",
                "resourceVersion": "42", "creationTimestamp": .string(created),
                "labels": ["app": "vllm-llama", "modelrollout.io/revision": "r2", "pod-template-hash": "6f7d8c9b5"],
                "annotations": [.init(stringLiteral: CacheTrim.lastApplied): "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}"],
                "ownerReferences": [
                    ["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "vllm-llama-r2-6f7d8c9b5", "uid": "rs"]
                ],
                "managedFields": .array(Array(repeating: managedField, count: 3)),
            ],
            "spec": [
                "nodeName": "gpu-node-1", "containers": [container], "terminationGracePeriodSeconds": 60,
                "volumes": [["name": "dshm", "emptyDir": ["medium": "Memory"]], ["name": "hf-cache", "emptyDir": [:]]],
                "serviceAccountName": "default", "restartPolicy": "Always",
            ],
            "status": [
                "phase": "Running", "podIP": "10.0.0.7", "startTime": .string(created),
                "conditions": [
                    ["type": "PodScheduled", "status": "True"], ["type": "Ready", "status": "True"],
                    ["type": "ContainersReady", "status": "True"],
                ],
                "containerStatuses": [
                    [
                        "name": "vllm", "ready": true, "restartCount": .int(Int64(restarts)),
                        "state": ["running": ["startedAt": .string(created)]],
                    ]
                ],
            ],
        ]
        return try KubeJSON.fromJSONValue(Pod.self, raw)
    }

    static func bytes(_ value: some Encodable) throws -> Int { try KubeJSON.toJSONValue(value).serialized().utf8.count }

    @Test func aTrimmedPodKeepsWhatTheDecisionsRead() throws {
        for restarts in [0, 3] {
            let pod = try Self.pod(restarts: restarts)
            let trimmed = CacheTrim.pod(pod)
            #expect(PodFacts(pod: trimmed, container: nil) == PodFacts(pod: pod, container: nil))
            #expect(PodFacts(pod: trimmed, container: "vllm") == PodFacts(pod: pod, container: "vllm"))
            #expect(RevisionPods.ownerIndexValues(trimmed) == RevisionPods.ownerIndexValues(pod))
            #expect(trimmed.metadata.labels == pod.metadata.labels)
            #expect(trimmed.metadata.ownerReferences == pod.metadata.ownerReferences)
            #expect(trimmed.status == pod.status)
            #expect(trimmed.metadata.managedFields == nil && trimmed.metadata.annotations == nil)
            #expect(trimmed.spec.raw["volumes"] == nil)
            #expect(trimmed.spec.containers.map(\.name) == ["vllm"])
        }
        let before = try Self.bytes(try Self.pod())
        let after = try Self.bytes(CacheTrim.pod(try Self.pod()))
        print("cache trim: a vLLM pod \(before) JSON bytes -> \(after)")
        #expect(after * 2 < before, "\(before) -> \(after)")
    }

    @Test func aTrimmedDeploymentKeepsItsSelectorTemplateLabelsAndProbe() throws {
        let pod = try Self.pod()
        var template: JSONValue = [
            "metadata": ["labels": ["app": "vllm-llama", "modelrollout.io/revision": "r2"]],
            "spec": pod.spec.raw,
        ]
        template[path: ["spec", "nodeName"]] = nil
        let deployment = try KubeJSON.fromJSONValue(
            Deployment.self,
            [
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": [
                    "name": "vllm-llama-r2", "namespace": "llm-serving",
                    "managedFields": pod.metadata.managedFields ?? .null,
                ],
                "spec": [
                    "replicas": 3, "selector": ["matchLabels": ["app": "vllm-llama", "modelrollout.io/revision": "r2"]],
                    "template": template,
                ],
            ])
        let trimmed = CacheTrim.deployment(deployment)
        #expect(trimmed.spec.replicas == 3)
        #expect(trimmed.spec.selector == deployment.spec.selector)
        #expect(trimmed.spec.template.metadata?.labels == deployment.spec.template.metadata?.labels)
        let spec = RuntimeSpec()
        #expect(
            RolloutGatherer.readinessProbe(trimmed, runtime: spec) == RolloutGatherer.readinessProbe(deployment, runtime: spec))
        #expect(trimmed.metadata.managedFields == nil)
        #expect(trimmed.spec.template.raw[path: ["spec", "volumes"]] == nil)
        #expect(trimmed.spec.template.raw[path: ["spec", "containers"]]?.arrayValue?.first?["env"] == nil)
        #expect(try Self.bytes(trimmed) < Self.bytes(deployment))
    }
}
