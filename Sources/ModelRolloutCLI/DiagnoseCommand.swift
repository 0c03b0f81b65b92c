import ArgumentParser
import Foundation
import KubeClient
import KubeCore
import ModelRolloutController
import ModelRolloutCore

/// `modelrollout diagnose`: the runbook of a TTFT regression as one command — the layer table of DESIGN §1
/// filled with live signals of a namespace or one route, the most likely layer first with what to do.
struct DiagnoseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Name the layer most likely behind a TTFT regression (gateway, queue, prefill, decode, KV cache, "
            + "rollout), with live signals.",
        discussion: """
            Reads the HTTPRoutes of the namespace (or --route), the Deployments and pods behind their \
            backendRefs, scrapes every ready pod's /metrics (through the API server's pod proxy by default, or \
            at podIP:port with --pod-access direct) and the ModelRollout status (load times, phase). It fills \
            the decision table — gateway, queue / capacity, prefill / prompt length, decode / runtime speed, \
            KV cache, rollout / model loading — each with the measured signal, a verdict (likely, suspect, ok, \
            no data) and the action, most likely cause first. TTFT is split by route, request class (the \
            route label modelrollout.io/class, else the rule index) and revision.

            With --probe URL (the gateway's address) it also sends one-token streaming completions through the \
            gateway and straight to one ready pod per revision, to split gateway from runtime latency.

            Histograms are cumulative since each pod started. --json prints the report as JSON (schemaVersion 1).
            """
    )

    @Option(help: ArgumentHelp("Path of a kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster).",
        valueName: "file"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context to use (default: its current-context).", valueName: "name"))
    var context: String?

    @Option(help: ArgumentHelp("The namespace of the routes and serving pods.", valueName: "name"))
    var namespace: String = "llm-serving"

    @Option(help: ArgumentHelp("Diagnose only this HTTPRoute (default: every route of the namespace).",
        valueName: "name"))
    var route: String?

    @Option(help: ArgumentHelp("The gateway's base URL: probe TTFT through it and directly to a pod.",
        valueName: "url"))
    var probe: String?

    @Option(help: ArgumentHelp("Probe requests per target (the median counts).", valueName: "n"))
    var probeCount: Int = 3

    @Option(help: ArgumentHelp("How pods are reached: proxy (API server pod proxy) or direct (podIP:port).",
        valueName: "proxy|direct"))
    var podAccess: String = "proxy"

    @Option(help: ArgumentHelp("Seconds before a pod or probe request is given up.", valueName: "s"))
    var timeout: Double = 5

    @Flag(help: "Print the report as JSON (schemaVersion 1) instead of text.")
    var json = false

    func validate() throws {
        guard PodAccess(rawValue: podAccess) != nil else {
            throw ValidationError("--pod-access must be proxy or direct, not \(podAccess)")
        }
        guard !namespace.isEmpty else { throw ValidationError("--namespace must not be empty") }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be positive") }
        guard (1...20).contains(probeCount) else { throw ValidationError("--probe-count must be 1...20") }
        if let probe {
            guard let url = URL(string: probe), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError("--probe must be an http(s) URL such as http://gateway:80, not \(probe)")
            }
        }
    }

    func run() async throws {
        var configuration: ClientConfiguration = try .forCommand(kubeconfig: kubeconfig, context: context)
        // A one-shot command: fail within seconds rather than retrying for minutes.
        configuration.requestTimeout = max(timeout, 5)
        configuration.maxRetries = 2
        configuration.maxRetryWait = 2
        let kube = try KubernetesClient(configuration: configuration)
        let endpoints = PodEndpointClient(
            kube: kube, access: PodAccess(rawValue: podAccess) ?? .proxy, timeout: timeout)
        let gatherer = DiagnoseGatherer(
            kube: kube, endpoints: endpoints, namespace: namespace, routeName: route,
            probe: probe.map { DiagnoseProbe(gatewayURL: $0, attempts: probeCount, timeoutSeconds: timeout) },
            now: Date())
        let result: Result<(revisions: [RevisionSignals], warnings: [String]), any Error>
        do {
            result = .success(try await gatherer.gather())
        } catch {
            result = .failure(error)
        }
        await endpoints.shutdown()
        try? await kube.shutdown()
        let gathered = try result.get()
        let report = DiagnosisReport(
            namespace: namespace, route: route, generatedAt: Date(), revisions: gathered.revisions,
            warnings: gathered.warnings)
        Console.line(json ? report.json.serialized(pretty: true) : report.text)
    }
}
