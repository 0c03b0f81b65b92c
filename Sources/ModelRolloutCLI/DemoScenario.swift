import Foundation
import KubeCore

/// The shape of the demo's serving fleet and load: what both sides (ModelRollout and the naive rolling update)
/// run, so that only the rollout mechanism differs between them.
struct DemoScenario: Sendable {
    /// Replicas of the serving revision (and of the new one).
    var replicas: Int
    /// Open-loop arrivals per second (wall = simulated serving seconds).
    var rate: Double
    /// Prompt length in tokens; the latency model's prefill is 30 ms + 0.2 ms per token.
    var promptTokens: Int
    /// Output tokens per request.
    var maxTokens: Int
    /// `--max-num-seqs`: requests one replica decodes at once; more wait in its queue.
    var maxNumSeqs: Int
    /// Simulated model-load seconds of every pod.
    var loadSeconds: Double
    /// `tcp` (a chart's process-level probe: Ready while the model loads) or `health` (vLLM's `/health`).
    var probe: String
    /// Hold of each ModelRollout step before the next, in wall seconds.
    var holdSeconds: Double
    /// `service`: each revision behind a Service; `inferencepool`: behind an InferencePool (Gateway API Inference
    /// Extension), the route's backendRefs naming the pools.
    var backend: String = "service"

    var usesPools: Bool { backend == "inferencepool" }

    /// The route backend of a revision's Deployment: the Deployment's own name for a Service, `<name>-pool` for a
    /// pool (named apart from the Deployment, so the controller finds the revision through the pool's selector).
    func backendName(deployment: String) -> String { usesPools ? "\(deployment)-pool" : deployment }

    static let model = "meta-llama/Llama-3.1-8B-Instruct"
    static let image = "vllm/vllm-openai:v0.11.0"

    var readinessProbe: JSONValue {
        probe == "health"
            ? ["httpGet": ["path": "/health", "port": 8000], "periodSeconds": 2, "failureThreshold": 3]
            : ["tcpSocket": ["port": 8000], "periodSeconds": 2, "failureThreshold": 3]
    }

    /// A namespace object.
    static func namespace(_ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
    }

    /// The vLLM Deployment of `revision` (the shape of manifests/samples: one GPU per pod, the weights of the
    /// revision served under the public model id), selecting pods by `app` only when `selectRevision` is false
    /// (a Deployment whose template changes in place, as in a plain rolling update).
    func deployment(
        name: String, namespace: String, revision: String, replicas: Int, selectRevision: Bool = true
    ) -> JSONValue {
        let podLabels: JSONValue = ["app": "vllm-llama", "modelrollout.io/revision": .string(revision)]
        let selector: JSONValue =
            selectRevision ? podLabels : ["app": "vllm-llama"]
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": podLabels],
            "spec": [
                "replicas": .int(Int64(replicas)),
                "selector": ["matchLabels": selector],
                "template": podTemplate(revision: revision, labels: podLabels),
            ],
        ]
    }

    /// The pod template of one revision.
    func podTemplate(revision: String, labels: JSONValue) -> JSONValue {
        [
            "metadata": [
                "labels": labels,
                "annotations": [
                    "sim.modelrollout.io/load-seconds": .string(String(Int(loadSeconds.rounded()))),
                    "sim.modelrollout.io/max-concurrency": .string(String(maxNumSeqs)),
                ],
            ],
            "spec": [
                "terminationGracePeriodSeconds": 60,
                "containers": [
                    [
                        "name": "vllm", "image": .string(Self.image),
                        "args": [
                            "--model", .string("/models/llama-3.1-8b-instruct-\(revision)"),
                            "--served-model-name", .string(Self.model), "--port", "8000",
                            "--max-model-len", "8192", "--max-num-seqs", .string(String(maxNumSeqs)),
                        ],
                        "ports": [["name": "http", "containerPort": 8000, "protocol": "TCP"]],
                        "readinessProbe": readinessProbe,
                        "resources": [
                            "requests": ["cpu": "4", "memory": "24Gi", "nvidia.com/gpu": "1"],
                            "limits": ["memory": "32Gi", "nvidia.com/gpu": "1"],
                        ],
                    ]
                ],
            ],
        ]
    }

    /// A Service in front of the pods that `selector` matches.
    static func service(name: String, namespace: String, selector: JSONValue) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": [
                "selector": selector,
                "ports": [["name": "http", "port": 8000, "targetPort": 8000, "protocol": "TCP"]],
            ],
        ]
    }

    /// An InferencePool selecting the pods that `selector` matches on port 8000, with an endpoint picker named after
    /// it (the emulated gateway picks endpoints itself).
    static func inferencePool(name: String, namespace: String, selector: JSONValue) -> JSONValue {
        [
            "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": [
                "selector": ["matchLabels": selector], "targetPorts": [["number": 8000]],
                "endpointPickerRef": ["name": .string("\(name)-epp"), "port": ["number": 9002]],
            ],
        ]
    }

    /// The HTTPRoute `llm-chat` for `hostname`, all traffic to `backend` (a Service, or a pool with `pool`).
    static func route(namespace: String, hostname: String, backend: String, pool: Bool = false) -> JSONValue {
        let ref: JSONValue =
            pool
            ? [
                "group": "inference.networking.k8s.io", "kind": "InferencePool", "name": .string(backend),
                "weight": 100,
            ]
            : ["name": .string(backend), "port": 8000, "weight": 100]
        return [
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": ["name": "llm-chat", "namespace": .string(namespace)],
            "spec": [
                "parentRefs": [["name": "inference-gateway", "namespace": .string(namespace)]],
                "hostnames": [.string(hostname)],
                "rules": [
                    [
                        "matches": [["path": ["type": "PathPrefix", "value": "/v1"]]],
                        "backendRefs": [ref],
                    ]
                ],
            ],
        ]
    }

    /// The ModelRollout `chat`, adopting `deployment` as the revision serving today.
    func modelRollout(namespace: String, deployment: String) -> JSONValue {
        let hold = JSONValue.string("\(Int(holdSeconds.rounded()))s")
        var rollout: JSONValue = [
            "apiVersion": "modelrollout.io/v1alpha1", "kind": "ModelRollout",
            "metadata": ["name": "chat", "namespace": .string(namespace)],
            "spec": [
                "model": .string(Self.model), "deployment": .string(deployment), "route": ["name": "llm-chat"],
                "readinessTimeout": "2m",
                "steps": [["weight": 10, "hold": hold], ["weight": 50, "hold": hold], ["weight": 100]],
                "analysis": [
                    "interval": "1s", "minSamples": 8, "ttftP95": "5s", "ttftRatio": 1.5, "queueWaitP95": "2s",
                    "maxErrorRate": 0.01, "failureLimit": 2,
                ],
                "autoscaling": ["scaleDownDelay": "3s"],
            ],
        ]
        if usesPools { rollout[path: ["spec", "inferencePool"]] = .string(backendName(deployment: deployment)) }
        return rollout
    }

    /// The spec change that starts the revision to `deployment` (and its pool).
    func revisionPatch(to deployment: String) -> JSONValue {
        var spec: JSONValue = ["deployment": .string(deployment)]
        if usesPools { spec["inferencePool"] = .string(backendName(deployment: deployment)) }
        return ["spec": spec]
    }
}
