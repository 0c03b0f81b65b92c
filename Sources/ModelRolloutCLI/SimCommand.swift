import ArgumentParser
import ClusterSim
import Foundation
import KubeCore

/// `modelrollout sim`: runs the emulated cluster until SIGINT/SIGTERM.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the emulated Kubernetes cluster (API server, Deployment controller, kubelet, simulated vLLM).",
        discussion: """
            Serves the Kubernetes API on --listen and writes a kubeconfig for it, so kubectl, the Python \
            client and operators can use it like a real cluster. The namespace llm-serving \
            exists from the start. Pods of Deployments are simulated: each pod gets its own loopback address \
            (127.x.y.z), and containers whose image or arguments mention vllm run a simulated vLLM that \
            writes real-format logs while it "loads the model", then serves /health, /v1/models, /metrics \
            and OpenAI completions.

            Prints one line when ready, then runs until interrupted (Ctrl-C or SIGTERM).

            Fault spec (--faults): rules VERB:RESOURCE:KEY=VALUE[,KEY=VALUE...] separated by ';', the first \
            matching rule applies. VERB is get, list, watch, create, update, patch, delete, deletecollection \
            or *; RESOURCE a plural (pods), a subresource (pods/status), group-qualified (widgets.example.com) \
            or *. Keys: error=P (fail a fraction P), status=CODE (default 500), retryAfter=S (429 with \
            Retry-After), latency=D (50ms, 1s), drop=D (watches end after D), expire=P (a fraction of watches \
            get the 410 ERROR event). Example: 'list:pods:error=0.2,latency=50ms;patch:*:status=429,retryAfter=1'. \
            Faults can be changed while running: PUT the spec as the body of /_sim/faults.
            """
    )

    @OptionGroup var cluster: ClusterOptions

    @Option(help: ArgumentHelp("Write a kubeconfig for the emulated cluster to this file.", valueName: "file"))
    var kubeconfigOut: String?

    @Option(help: ArgumentHelp(
        "Serve the HTTPRoute gateway (weighted split to Ready Service endpoints) on this address; port 0 picks one.",
        valueName: "host:port"))
    var gatewayListen: String?

    @Option(help: ArgumentHelp(
        "Send open-loop streaming completions through the gateway at this rate (needs --gateway-listen); "
            + "a rollout's analysis needs traffic.", valueName: "req/s"))
    var load: Double = 0

    @Option(help: ArgumentHelp("The model id the load generator asks for.", valueName: "id"))
    var loadModel: String = "meta-llama/Llama-3.1-8B-Instruct"

    @Option(help: ArgumentHelp(
        "The Host header of the load (to match an HTTPRoute's hostnames, e.g. chat.llm.example.com).",
        valueName: "name"))
    var loadHost: String?

    func validate() throws {
        if load < 0 || !load.isFinite { throw ValidationError("--load must be a rate >= 0, got \(load)") }
        if load > 0, gatewayListen == nil { throw ValidationError("--load needs --gateway-listen") }
        if let gatewayListen, Gateway.Configuration(address: gatewayListen) == nil {
            throw ValidationError(
                "--gateway-listen must be host:port with a port from 0 to 65535, got '\(gatewayListen)'")
        }
    }

    func run() async throws {
        var configuration = try cluster.makeConfiguration()
        configuration.gatewayAddress = gatewayListen
        let emulated = EmulatedCluster(configuration: configuration)
        let address = try await emulated.start()
        if let kubeconfigOut {
            try cluster.writeKubeconfig(await emulated.kubeconfig(), to: kubeconfigOut)
        }
        let auth = cluster.token.isEmpty ? "no authentication" : "bearer tokens required"
        let kubeconfigNote = kubeconfigOut.map { ", kubeconfig \($0)" } ?? ""
        Console.line("modelrollout sim ready: \(address.url) (\(auth))\(kubeconfigNote); namespace llm-serving")
        if let gatewayURL = await emulated.gatewayURL() {
            Console.line("modelrollout sim gateway: \(gatewayURL) (routing by HTTPRoutes)")
        }
        var generator: LoadGenerator?
        if load > 0, let gatewayURL = await emulated.gatewayURL() {
            let started = LoadGenerator(
                configuration: .init(url: gatewayURL, rate: load, model: loadModel, promptTokens: 200, maxTokens: 16,
                    host: loadHost))
            await started.start()
            generator = started
            Console.line("modelrollout sim load: \(load) req/s of \(loadModel) through the gateway")
        }
        let signal = await TerminationSignal.wait()
        if let generator {
            await generator.stop()
            let summary = await generator.summary()
            Console.line(
                "modelrollout sim load: \(summary.count) requests, \(summary.ok) ok, "
                    + "\(summary.requestsToUnloadedPods) to pods whose model was not loaded")
        }
        Console.line("modelrollout sim: \(signal) received, shutting down")
        await emulated.stop()
    }
}

/// Options shared by the commands that start an emulated cluster.
struct ClusterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Address to serve the API on; port 0 picks a free port.", valueName: "host:port"))
    var listen: String = "127.0.0.1:0"

    @Flag(help: "Serve HTTPS with a self-signed certificate generated at start (its CA goes into the kubeconfig).")
    var tls = false

    @Option(help: ArgumentHelp(
        "A bearer token the API server accepts (repeatable). With tokens set, requests without a valid token get 401.",
        valueName: "token"))
    var token: [String] = []

    @Option(help: ArgumentHelp("Fault injection rules (see the discussion above).", valueName: "spec"))
    var faults: String = ""

    @Option(help: ArgumentHelp(
        "Simulated seconds per wall-clock second: at 100 a 5-minute model load takes 3 s.", valueName: "factor"))
    var timeScale: Double = 30

    @Option(help: ArgumentHelp("Number of simulated GPU nodes.", valueName: "n"))
    var gpuNodes: Int = 4

    @Option(help: ArgumentHelp("GPUs per simulated node.", valueName: "n"))
    var gpusPerNode: Int = 8

    func validate() throws {
        guard parseListen() != nil else {
            throw ValidationError("--listen must be host:port with a port from 0 to 65535, got '\(listen)'")
        }
        guard timeScale > 0, timeScale.isFinite else { throw ValidationError("--time-scale must be greater than 0") }
        guard gpuNodes >= 0, gpusPerNode >= 0 else { throw ValidationError("--gpu-nodes and --gpus-per-node must be >= 0") }
        if !faults.isEmpty {
            do { _ = try FaultSpec(parsing: faults) } catch { throw ValidationError("--faults: \(error)") }
        }
        if tls == false, !token.isEmpty {
            // Real clients never send credentials over http://, so tokens without TLS would lock everyone out.
            throw ValidationError("--token needs --tls: kubectl and client-go send credentials only over https")
        }
    }

    func parseListen() -> (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":") else { return nil }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty, let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        return (host, port)
    }

    func makeCluster() throws -> EmulatedCluster {
        EmulatedCluster(configuration: try makeConfiguration())
    }

    func makeConfiguration() throws -> EmulatedCluster.Configuration {
        guard let (host, port) = parseListen() else { throw CLIError("invalid --listen '\(listen)'") }
        let faultSpec = try FaultSpec(parsing: faults)
        var configuration = EmulatedCluster.Configuration()
        configuration.api.host = host
        configuration.api.port = port
        configuration.api.tls = tls
        configuration.api.tokens = Set(token)
        configuration.api.faults = faultSpec
        configuration.timeScale = timeScale
        configuration.gpuNodes = gpuNodes
        configuration.gpusPerNode = gpusPerNode
        return configuration
    }

    func writeKubeconfig(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError("cannot write the kubeconfig to \(path): \(error.localizedDescription)")
        }
    }
}
