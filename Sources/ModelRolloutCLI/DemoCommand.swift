import ArgumentParser
import ClusterSim
import Foundation
import KubeClient
import KubeCore

/// `modelrollout demo`: the emulated cluster with two simulated vLLM Deployments that show why pod readiness is
/// not model readiness, followed live through the Kubernetes API with our client.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start the emulated cluster with simulated vLLM Deployments and follow them becoming ready.",
        discussion: """
            Starts the emulated cluster (as `modelrollout sim` does) and creates two Deployments of a simulated \
            vLLM serving meta-llama/Llama-3.1-8B-Instruct in the namespace llm-serving:

              vllm-llama-r1      readiness probe on /v1/models: Ready only once the model is loaded
              vllm-llama-tcp     readiness probe on the TCP port, as many charts do: Ready while still loading

            A timeline follows every pod through the Kubernetes API (phase, Ready condition, whether the \
            runtime's /v1/models answers through the pod proxy, and the last line of the vLLM log) until both \
            serve the model, and shows for how long the TCP-probed pod was Ready without being able to answer. \
            Then it prints kubectl commands to try against the cluster and keeps running until Ctrl-C \
            (or exits at once with --exit-when-ready).

            Simulated time runs --time-scale times faster than the wall clock: at the default 30, a 4-minute \
            model load takes 8 seconds.
            """
    )

    @OptionGroup var cluster: ClusterOptions

    @Option(help: ArgumentHelp("Where to write the kubeconfig of the demo cluster.", valueName: "file"))
    var kubeconfigOut: String = FileManager.default.temporaryDirectory
        .appendingPathComponent("modelrollout-demo.kubeconfig").path

    @Option(help: ArgumentHelp("Simulated model-load seconds of the demo pods.", valueName: "seconds"))
    var loadSeconds: Double = 240

    @Option(help: ArgumentHelp("Give up when the pods do not serve within this many wall-clock seconds.",
        valueName: "seconds"))
    var timeout: Double = 120

    @Flag(help: "Exit once both Deployments serve the model instead of waiting for Ctrl-C.")
    var exitWhenReady = false

    static let namespace = "llm-serving"
    static let model = "meta-llama/Llama-3.1-8B-Instruct"

    func validate() throws {
        guard loadSeconds >= 0, loadSeconds.isFinite else { throw ValidationError("--load-seconds must be >= 0") }
        guard timeout > 0 else { throw ValidationError("--timeout must be > 0") }
    }

    func run() async throws {
        let emulated = try cluster.makeCluster()
        let address = try await emulated.start()
        try cluster.writeKubeconfig(await emulated.kubeconfig(), to: kubeconfigOut)
        Console.line("Emulated cluster at \(address.url) (time x\(Int(cluster.timeScale))), kubeconfig \(kubeconfigOut)")

        let client: KubernetesClient
        do {
            client = try KubernetesClient(configuration: ClientConfiguration.fromKubeconfig(paths: [kubeconfigOut]))
        } catch {
            await emulated.stop()
            throw CLIError("cannot use the demo kubeconfig: \(error)")
        }
        do {
            try await runStory(client: client, clock: emulated.workloads.clock)
        } catch {
            try? await client.shutdown()
            await emulated.stop()
            throw error
        }
        try? await client.shutdown()
        if !exitWhenReady {
            Console.line("\nThe cluster keeps running; press Ctrl-C to stop it.")
            _ = await TerminationSignal.wait()
        }
        await emulated.stop()
    }

    /// One observation of a demo pod.
    struct PodView: Equatable {
        var name: String
        var deployment: String
        var phase: String
        var ready: Bool
        var serving: Bool
        var lastLog: String
    }

    func runStory(client: KubernetesClient, clock: any WorkloadClock) async throws {
        let deployments = client.dynamic(.deployments, namespace: Self.namespace)
        for (name, probe) in [("vllm-llama-r1", Self.modelsProbe), ("vllm-llama-tcp", Self.tcpProbe)] {
            _ = try await deployments.create(DynamicObject(raw: Self.deployment(name: name, probe: probe,
                loadSeconds: loadSeconds)))
            Console.line("created deployment/\(name) (readiness probe: \(probe["httpGet"] != nil ? "GET /v1/models" : "TCP port 8000"))")
        }
        Console.line("")
        Console.line(Self.row("t(sim)", "POD", "PHASE", "READY", "MODEL", "LAST vLLM LOG LINE"))

        let start = clock.now()
        let deadline = ContinuousClock.now + .seconds(timeout)
        var last: [String: PodView] = [:]
        var readyAt: [String: TimeInterval] = [:]
        var servingAt: [String: TimeInterval] = [:]
        while true {
            let pods = try await client.dynamic(.pods, namespace: Self.namespace).list(
                ListOptions(labelSelector: "app=vllm-llama")).items
            let elapsed = clock.now().timeIntervalSince(start)
            for pod in pods.map(\.raw) {
                let view = await observe(pod, client: client)
                if view.ready, readyAt[view.deployment] == nil { readyAt[view.deployment] = elapsed }
                if view.serving, servingAt[view.deployment] == nil { servingAt[view.deployment] = elapsed }
                if last[view.name] != view {
                    last[view.name] = view
                    Console.line(Self.row(
                        Self.duration(elapsed), view.name, view.phase, view.ready ? "True" : "False",
                        view.serving ? "loaded" : "-", String(view.lastLog.prefix(90))))
                }
            }
            if servingAt.count == 2, readyAt.count == 2 { break }
            if ContinuousClock.now > deadline {
                throw CLIError("the demo pods did not serve the model within \(Int(timeout)) s; try a larger --timeout")
            }
            try await Task.sleep(for: .milliseconds(250))
        }

        Console.line("")
        for name in ["vllm-llama-r1", "vllm-llama-tcp"] {
            let ready = readyAt[name] ?? 0
            let serving = servingAt[name] ?? 0
            let gap = max(0, serving - ready)
            if gap > 1 {
                Console.line("\(name): Ready at \(Self.duration(ready)), model served at \(Self.duration(serving)) — "
                    + "\(Self.duration(gap)) Ready without being able to answer: requests routed there fail or queue.")
            } else {
                Console.line("\(name): Ready at \(Self.duration(ready)), model served at \(Self.duration(serving)) — "
                    + "readiness matched model readiness.")
            }
        }
        printTryCommands(pods: last.values.map(\.name).sorted())
    }

    func observe(_ pod: JSONValue, client: KubernetesClient) async -> PodView {
        let name = pod[path: ["metadata", "name"]]?.stringValue ?? "?"
        let deployment = pod[path: ["metadata", "labels", "deployment"]]?.stringValue ?? "?"
        var phase = pod[path: ["status", "phase"]]?.stringValue ?? "Pending"
        if phase == "Pending",
            let waiting = pod[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "waiting", "reason"]]?
                .stringValue
        {
            phase = waiting
        }
        let ready = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
        var serving = false
        var lastLog = ""
        if pod[path: ["status", "podIP"]]?.stringValue != nil, phase == "Running" {
            if let answer = try? await client.podProxy(namespace: Self.namespace, pod: name, port: 8000, path: "/v1/models"),
                answer.status == 200, answer.text.contains(Self.model)
            {
                serving = true
            }
            if let log = try? await client.podLogs(
                namespace: Self.namespace, pod: name, options: LogOptions(container: "vllm", tailLines: 1))
            {
                lastLog = log.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return PodView(name: name, deployment: deployment, phase: phase, ready: ready, serving: serving, lastLog: lastLog)
    }

    func printTryCommands(pods: [String]) {
        let pod = pods.first ?? "POD"
        Console.line("""

            Try it with kubectl (1.32 or newer):
              export KUBECONFIG=\(kubeconfigOut)
              kubectl get deployments,pods -n \(Self.namespace) -o wide
              kubectl logs -n \(Self.namespace) \(pod) -c vllm --tail=15
              kubectl get --raw /api/v1/namespaces/\(Self.namespace)/pods/\(pod):8000/proxy/v1/models
              kubectl get --raw /api/v1/namespaces/\(Self.namespace)/pods/\(pod):8000/proxy/metrics | grep num_requests
              kubectl scale deployment vllm-llama-r1 -n \(Self.namespace) --replicas=2
              kubectl get pods -n \(Self.namespace) -w
            """)
    }

    /// One timeline row with fixed column widths.
    static func row(_ cells: String...) -> String {
        let widths = [8, 32, 18, 6, 7]
        return cells.enumerated().map { index, cell in
            index < widths.count ? cell.padding(toLength: max(widths[index], cell.count) + 1, withPad: " ", startingAt: 0)
                : cell
        }.joined()
    }

    static func duration(_ seconds: TimeInterval) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }

    static let modelsProbe: JSONValue = ["httpGet": ["path": "/v1/models", "port": 8000], "periodSeconds": 5]
    static let tcpProbe: JSONValue = ["tcpSocket": ["port": 8000], "periodSeconds": 5]

    /// A vLLM Deployment as a platform team writes it (one GPU, the model as argument, a sidecar-free pod).
    static func deployment(name: String, probe: JSONValue, loadSeconds: Double) -> JSONValue {
        let labels: JSONValue = ["app": "vllm-llama", "deployment": .string(name)]
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": labels],
            "spec": [
                "replicas": 1,
                "selector": ["matchLabels": labels],
                "template": [
                    "metadata": [
                        "labels": labels,
                        "annotations": [SimAnnotations.loadSeconds: .string(String(Int(loadSeconds)))],
                    ],
                    "spec": [
                        "containers": [
                            [
                                "name": "vllm", "image": "vllm/vllm-openai:v0.11.0",
                                "args": ["--model", .string(model), "--port", "8000"],
                                "ports": [["containerPort": 8000, "name": "http"]],
                                "readinessProbe": probe,
                                "resources": ["limits": ["nvidia.com/gpu": "1"]],
                            ]
                        ]
                    ],
                ],
            ],
        ]
    }
}
