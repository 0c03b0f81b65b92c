import ArgumentParser
import ClusterSim
import Foundation
import KubeClient
import KubeCore
import Logging
import ModelRolloutController
import ModelRolloutCore

/// `modelrollout demo`: the seed story in one process — the emulated cluster, the ModelRollout controller and an
/// open-loop load through the gateway; a model revision rolled out by the operator, then the same revision as a
/// plain Deployment rolling update, with a live timeline and a summary comparing the two.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Roll a model revision out under load with ModelRollout, then the naive way, and compare.",
        discussion: """
            Everything runs in this process; nothing is installed. The emulated cluster (API server, GPU nodes, \
            simulated vLLM pods, a Gateway API gateway), the ModelRollout controller and a load generator that \
            streams completions through the gateway.

            Phase 1, ModelRollout: namespace llm-serving, Deployment vllm-llama-r1 (--replicas pods of vLLM \
            serving meta-llama/Llama-3.1-8B-Instruct) behind the HTTPRoute llm-chat, a steady open-loop load \
            (--rate requests/s, --prompt-tokens prompt tokens each) and the ModelRollout chat. The simulated \
            vLLM's TTFT is the wait for a batch slot (--max-num-seqs per pod) plus the prefill (30 ms + 0.2 ms per \
            prompt token: 1.53 s for 7500 tokens), so the defaults give a baseline p95 TTFT near 2 s. Then a \
            new revision vllm-llama-r2 (new weights, same model id) is created at 0 replicas and spec.deployment \
            is set to it: the operator scales it up, moves the route's weight 10 -> 50 -> 100 % only when r2's \
            pods have loaded the model, analyses TTFT, queue wait and errors between steps, and promotes it.

            Phase 2, naive (--compare naive, the default; --compare none skips it): the same fleet and load in \
            namespace llm-naive, and the same revision as a plain Deployment rolling update. The pods have a TCP \
            readiness probe, as many charts do (--probe tcp, used by both phases): Kubernetes marks a new pod \
            Ready while vLLM still loads the weights, retires an old pod, and the gateway sends requests to \
            pods that cannot answer.

            The timeline prints every ~2.5 s: wall seconds since the phase started, route weights, pods per \
            revision (serving / loading, and how many of the loading ones are Ready), the queue depth \
            (vllm:num_requests_waiting summed over the pods), requests in flight, and the p95 TTFT of the \
            requests that finished in the last window; the operator's decisions (>>) as they happen; in the \
            naive phase the pod transitions instead.

            The summary compares, for the requests that started during the revision: p95 TTFT, requests sent to \
            pods still loading their model (counted by the gateway), requests retried and failed, and the time \
            to complete (Promoted; for naive: the update done and every new pod serving). Clients retry a failed \
            request (503 or a refused connection) with back-off for up to 30 s, as SDKs with retries do; TTFT \
            counts from the first attempt, so it is what a user waits. A request that never got a token counts \
            with the time its client waited before giving up.

            Units: model loads and image pulls run --time-scale times faster than real time (at 30, a \
            3-minute load takes 6 s); requests are served in real time, so TTFTs are seconds as a client \
            measures them, and an outage caused by a loading pod lasts the compressed load time here (minutes \
            in a real cluster). Both phases take about 1.5 minutes together.

            --backend inferencepool plays phase 1 through InferencePools of the Gateway API Inference Extension: \
            each revision behind a pool of its own (vllm-llama-r1-pool, vllm-llama-r2-pool), the route's \
            backendRefs naming the pools, the gateway picking within a pool the Ready member with the fewest \
            waiting then running requests, and spec.inferencePool naming the candidate's pool. Phase 2 is the same \
            either way (a rolling update behind one backend).

            --json FILE writes {"baselineTtftP95", "modelrollout": {"ttftP95DuringRevision", \
            "requestsToLoadingPods", "requests", "completedSeconds", ...}, "naive": {...}} (seconds). \
            --kubeconfig-out lets you kubectl into the cluster while it runs; --keep-running keeps it (and the \
            controller) up after the summary until Ctrl-C.
            """
    )

    @OptionGroup var cluster: ClusterOptions

    @Option(help: ArgumentHelp("Compare with a plain rolling update (naive) or not (none).", valueName: "naive|none"))
    var compare: String = "naive"

    @Option(help: ArgumentHelp("Write the summary as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Where to write the kubeconfig of the demo cluster.", valueName: "file"))
    var kubeconfigOut: String = FileManager.default.temporaryDirectory
        .appendingPathComponent("modelrollout-demo.kubeconfig").path

    @Flag(help: "Keep the cluster and the controller running after the summary, until Ctrl-C.")
    var keepRunning = false

    @Option(help: ArgumentHelp("Replicas of each revision.", valueName: "n"))
    var replicas: Int = 3

    @Option(help: ArgumentHelp("Arrivals per second of the open-loop load.", valueName: "req/s"))
    var rate: Double = 12

    @Option(help: ArgumentHelp("Prompt tokens per request (prefill 30 ms + 0.2 ms per token).", valueName: "n"))
    var promptTokens: Int = 7500

    @Option(help: ArgumentHelp("Output tokens per request.", valueName: "n"))
    var maxTokens: Int = 16

    @Option(help: ArgumentHelp("vLLM --max-num-seqs of each pod (requests decoded at once; more queue).",
        valueName: "n"))
    var maxNumSeqs: Int = 9

    @Option(help: ArgumentHelp("Simulated model-load seconds of every pod.", valueName: "seconds"))
    var loadSeconds: Double = 180

    @Option(help: ArgumentHelp("Readiness probe of the vLLM pods: tcp (a chart's default) or health.",
        valueName: "tcp|health"))
    var probe: String = "tcp"

    @Option(help: ArgumentHelp("Wall seconds of steady load measured as the baseline.", valueName: "seconds"))
    var baselineSeconds: Double = 8

    @Option(help: ArgumentHelp("Wall seconds each phase may take before the demo gives up.", valueName: "seconds"))
    var phaseTimeout: Double = 120

    @Option(
        help: ArgumentHelp(
            "What the route's backendRefs name in phase 1: a Service per revision (service) or an InferencePool "
                + "per revision, as behind llm-d or an inference gateway (inferencepool).",
            valueName: "service|inferencepool"))
    var backend: String = "service"

    func validate() throws {
        guard ["naive", "none"].contains(compare) else {
            throw ValidationError("--compare must be naive or none, not \(compare)")
        }
        guard ["tcp", "health"].contains(probe) else { throw ValidationError("--probe must be tcp or health") }
        guard ["service", "inferencepool"].contains(backend) else {
            throw ValidationError("--backend must be service or inferencepool, not \(backend)")
        }
        guard (1...16).contains(replicas) else { throw ValidationError("--replicas must be 1...16") }
        guard rate > 0, rate <= 200, rate.isFinite else { throw ValidationError("--rate must be in (0, 200]") }
        guard (1...100_000).contains(promptTokens), (1...4096).contains(maxTokens), (1...1024).contains(maxNumSeqs)
        else { throw ValidationError("--prompt-tokens, --max-tokens and --max-num-seqs must be positive") }
        guard loadSeconds >= 0, loadSeconds.isFinite else { throw ValidationError("--load-seconds must be >= 0") }
        guard baselineSeconds > 0, baselineSeconds.isFinite, phaseTimeout > 0, phaseTimeout.isFinite else {
            throw ValidationError("--baseline-seconds and --phase-timeout must be positive")
        }
    }

    var scenario: DemoScenario {
        DemoScenario(
            replicas: replicas, rate: rate, promptTokens: promptTokens, maxTokens: maxTokens, maxNumSeqs: maxNumSeqs,
            loadSeconds: loadSeconds, probe: probe, holdSeconds: 4, backend: backend)
    }

    static let namespace = "llm-serving"
    static let naiveNamespace = "llm-naive"

    func run() async throws {
        let began = Date()
        var configuration = try cluster.makeConfiguration()
        configuration.gatewayAddress = "127.0.0.1:0"
        configuration.defaultLoadSeconds = loadSeconds
        configuration.servingTimeScale = 1
        let emulated = EmulatedCluster(configuration: configuration)
        let address = try await emulated.start()
        var kube: KubernetesClient?
        var controller: DemoController?
        do {
            try cluster.writeKubeconfig(await emulated.kubeconfig(), to: kubeconfigOut)
            guard let gateway = await emulated.gatewayURL() else { throw CLIError("the demo gateway did not start") }
            Console.line(
                "Emulated cluster at \(address.url), gateway \(gateway); kubeconfig \(kubeconfigOut) "
                    + "(export KUBECONFIG=\(kubeconfigOut) to watch with kubectl)")
            Console.line(
                "Model loads run x\(Self.format(cluster.timeScale)) (\(Int(loadSeconds)) s load = "
                    + "\(Self.format(loadSeconds / cluster.timeScale)) s wall); requests are served in real time. "
                    + "TTFT in seconds.")
            let client = try KubernetesClient(configuration: ClientConfiguration.fromKubeconfig(paths: [kubeconfigOut]))
            kube = client
            let story = DemoStory(
                cluster: emulated, kube: client, scenario: scenario, gatewayURL: gateway, phaseTimeout: phaseTimeout,
                baselineSeconds: baselineSeconds, kubeconfigPath: kubeconfigOut)
            let ours = try await story.runModelRollout()
            controller = ours.controller
            var naive: DemoSideResult?
            if compare == "naive" {
                naive = try await story.runNaive()
            }
            let report = DemoReport(
                scenario: scenario, timeScale: cluster.timeScale, baselineTtftP95: ours.result.baselineTtftP95,
                modelRollout: ours.result, naive: naive, wallSeconds: Date().timeIntervalSince(began))
            printSummary(report)
            if let json {
                do {
                    try (report.json.serialized() + "\n").write(toFile: json, atomically: true, encoding: .utf8)
                    Console.line("Summary written to \(json)")
                } catch {
                    throw CLIError("cannot write the summary to \(json): \(error.localizedDescription)")
                }
            }
            let failed = [ours.result] + (naive.map { [$0] } ?? [])
            if let side = failed.first(where: { !$0.completed }) {
                throw CLIError("the \(side.name) phase did not complete within \(Int(phaseTimeout)) s: \(side.outcome)")
            }
            if keepRunning {
                Console.line(
                    """

                    The cluster and the controller keep running; press Ctrl-C to stop. Try:
                      export KUBECONFIG=\(kubeconfigOut)
                      kubectl get modelrollouts,deployments,pods -n \(Self.namespace)
                      kubectl get modelrollout chat -n \(Self.namespace) -o jsonpath='{.status.decisions}'
                      kubectl get events -n \(Self.namespace)\(naiveHint)
                    """)
                let signal = await TerminationSignal.wait()
                Console.line("\(signal) received, stopping the demo cluster")
            }
        } catch {
            controller?.cancel()
            try? await kube?.shutdown()
            await emulated.stop()
            throw error
        }
        controller?.cancel()
        await controller?.wait()
        try? await kube?.shutdown()
        await emulated.stop()
    }

    func printSummary(_ report: DemoReport) {
        Console.line("")
        Console.line(
            "Summary (TTFT in seconds as clients measure them; model loads x\(Self.format(cluster.timeScale)))")
        Console.line(report.table)
        Console.line("")
        let ours = report.modelRollout
        if let naive = report.naive {
            let p95 = { (side: DemoSideResult) in
                side.ttftP95DuringRevision.map { String(format: "%.2f s", $0) } ?? "n/a"
            }
            Console.line(
                "ModelRollout sent \(ours.requestsToLoadingPods) requests to loading pods and kept p95 TTFT at "
                    + "\(p95(ours)) during the revision; the rolling update sent \(naive.requestsToLoadingPods) "
                    + "and p95 TTFT rose to \(p95(naive)) (baseline "
                    + "\(report.baselineTtftP95.map { String(format: "%.2f s", $0) } ?? "n/a")).")
        }
        Console.line(String(format: "Whole run: %.1f s wall.", report.wallSeconds))
    }

    var naiveHint: String { compare == "naive" ? "\n  kubectl get pods -n \(Self.naiveNamespace)" : "" }

    static func format(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(format: "%.1f", value)
    }
}
