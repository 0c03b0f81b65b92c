import Foundation
import Hummingbird
import KubeCore
import Logging
import NIOCore

/// One simulated vLLM server process: it writes real-format startup logs on the simulated clock, refuses
/// connections while the model loads, then serves `/health`, `/v1/models`, `/metrics`, `/version` and OpenAI
/// completions (streaming and not) on its own loopback address until stopped or until an injected failure makes
/// it exit.
public actor SimulatedVLLM {
    /// How a simulated vLLM server is launched and behaves.
    public struct Configuration: Sendable {
        /// The address to listen on (the pod IP, e.g. `127.1.0.2`).
        public var host: String
        public var port: Int
        public var options: VLLMLaunchOptions
        public var version: VLLMVersion
        /// Simulated seconds from `Starting to load model` to `Model loading took` (the slowest rank).
        public var loadSeconds: Double
        /// The part of `loadSeconds` spent downloading (logged by 0.8+ as `Time spent downloading weights`).
        public var downloadSeconds: Double
        /// Simulated seconds of profiling, KV-cache allocation and warm-up after the weights are loaded.
        public var engineInitSeconds: Double
        /// Weights in GiB over all ranks (each rank logs its share).
        public var weightsGiB: Double
        public var failure: VLLMFailure?
        /// Requests processed at once; more wait (`vllm:num_requests_waiting`).
        public var maxConcurrency: Int
        /// The pid printed in `(APIServer pid=N)`; the engine and workers get following numbers.
        public var pid: Int
        /// Multiplies prefill and inter-token latency (a slower revision); 1 is the nominal speed.
        public var slowdown: Double
        /// Simulated serving seconds per wall second for request latencies; nil: follow the process clock.
        public var servingTimeScale: Double?
        /// The runtime imitated in logs and metrics.
        public var runtime: SimRuntime

        public init(
            host: String, port: Int = 8000, options: VLLMLaunchOptions, version: VLLMVersion = .modern,
            loadSeconds: Double = 60, downloadSeconds: Double? = nil, engineInitSeconds: Double? = nil,
            weightsGiB: Double = 15.2683, failure: VLLMFailure? = nil, maxConcurrency: Int = 256, pid: Int = 1,
            slowdown: Double = 1, servingTimeScale: Double? = nil, runtime: SimRuntime = .vllm
        ) {
            self.host = host
            self.port = port
            self.options = options
            self.version = version
            self.loadSeconds = max(0, loadSeconds)
            self.downloadSeconds = downloadSeconds ?? self.loadSeconds * 0.5
            self.engineInitSeconds = engineInitSeconds ?? min(30, max(2, self.loadSeconds * 0.1))
            self.weightsGiB = weightsGiB
            self.failure = failure
            self.maxConcurrency = maxConcurrency
            self.pid = pid
            self.slowdown = slowdown.isFinite ? max(0, slowdown) : 1
            self.servingTimeScale = servingTimeScale
            self.runtime = runtime
        }
    }

    /// Where the process is in its life.
    public enum Phase: Sendable, Hashable {
        case notStarted
        /// Started, not yet listening (loading the model, initialising the engine).
        case loading
        /// Listening and answering requests.
        case serving
        /// The process ended by itself (an injected failure, or the port was taken).
        case exited(code: Int32)
        /// Stopped from outside (`stop()`).
        case stopped
    }

    public let configuration: Configuration
    private let clock: any WorkloadClock
    private let servingClock: any WorkloadClock
    private let log: @Sendable (String) async -> Void
    private let formatter: VLLMLogFormatter
    private let metrics: VLLMMetrics
    public private(set) var phase: Phase = .notStarted
    private var startupTask: Task<Void, Never>?
    private var serverTask: Task<Void, Never>?
    private var waiters: [CheckedContinuation<Phase, Never>] = []

    /// - Parameters:
    ///   - log: receives every log line (without newline), in order; the kubelet appends them to the pod's log.
    public init(configuration: Configuration, clock: any WorkloadClock, log: @escaping @Sendable (String) async -> Void)
    {
        self.configuration = configuration
        self.clock = clock
        self.servingClock =
            configuration.servingTimeScale.map { SimClock(timeScale: $0, origin: clock.now()) } ?? clock
        self.log = log
        self.formatter = VLLMLogFormatter(
            version: configuration.version, apiServerPID: configuration.pid, engineCorePID: configuration.pid + 200,
            workerPIDBase: configuration.pid + 300, tensorParallelSize: configuration.options.tensorParallelSize,
            runtime: configuration.runtime)
        self.metrics = VLLMMetrics(
            modelName: configuration.options.servedModelID, version: configuration.version,
            maxConcurrency: configuration.maxConcurrency, kvCacheTokens: 489_744, createdAt: clock.now(),
            runtime: configuration.runtime)
    }

    /// Starts the process: the startup script runs in the background. Calling it again does nothing.
    public func start() {
        guard phase == .notStarted else { return }
        setPhase(.loading)
        let steps = VLLMStartupScript(
            options: configuration.options, version: configuration.version, loadSeconds: configuration.loadSeconds,
            downloadSeconds: configuration.downloadSeconds, engineInitSeconds: configuration.engineInitSeconds,
            weightsGiB: configuration.weightsGiB, port: configuration.port, failure: configuration.failure,
            runtime: configuration.runtime
        ).steps()
        startupTask = Task { await self.run(steps) }
    }

    /// Waits until the server serves (`true`) or the process ended without serving (`false`).
    public func waitUntilServing() async -> Bool {
        while true {
            switch phase {
            case .serving: return true
            case .exited, .stopped: return false
            case .notStarted, .loading: _ = await nextPhase()
            }
        }
    }

    /// Waits until the process ends and returns its exit code (0 after `stop()`).
    public func waitForExit() async -> Int32 {
        while true {
            switch phase {
            case .exited(let code): return code
            case .stopped: return 0
            default: _ = await nextPhase()
            }
        }
    }

    /// Stops the process: the startup ends, the socket closes. Idempotent.
    public func stop() async {
        switch phase {
        case .stopped, .exited: return
        default: break
        }
        startupTask?.cancel()
        serverTask?.cancel()
        setPhase(.stopped)
        await serverTask?.value
    }

    /// Requests waiting for a batch slot and requests in the batch now (`num_requests_waiting` / `_running`).
    public func queueState() async -> PodQueueState {
        PodQueueState(waiting: await metrics.waiting, running: await metrics.running)
    }

    /// The current `/metrics` text.
    public func metricsText() async -> String { await metrics.render() }

    /// `true` while the model is loaded and the server answers requests.
    public var isServing: Bool { phase == .serving }

    // MARK: Startup

    private func run(_ steps: [VLLMStartupStep]) async {
        for step in steps {
            guard phase == .loading, !Task.isCancelled else { return }
            switch step {
            case .log(let records):
                let now = clock.now()
                for record in records { await log(formatter.format(record, at: now)) }
            case .wait(let seconds):
                do { try await clock.sleep(simulatedSeconds: seconds) } catch { return }
            case .listen:
                if let failure = await listen() {
                    guard phase == .loading else { return }
                    let now = clock.now()
                    // uvicorn's words for a port in use; any other failure to start the server is logged as it is.
                    let inUse = failure.localizedCaseInsensitiveContains("in use")
                    let record = VLLMLogRecord(
                        process: .apiServer, level: "ERROR", file: "", line: 0,
                        message: (inUse ? "[Errno 98] " : "")
                            + "error while attempting to bind on address ('\(configuration.host)', "
                            + "\(configuration.port)): \(inUse ? "address already in use" : failure)", uvicorn: true)
                    await log(formatter.format(record, at: now))
                    setPhase(.exited(code: 1))
                    return
                }
                guard phase == .loading else { return }
                setPhase(.serving)
            case .exit(let code):
                setPhase(.exited(code: code))
                return
            }
        }
    }

    private func nextPhase() async -> Phase {
        await withCheckedContinuation { waiters.append($0) }
    }

    private func setPhase(_ new: Phase) {
        phase = new
        let pending = waiters
        waiters = []
        for waiter in pending { waiter.resume(returning: new) }
        if case .exited = new { serverTask?.cancel() }
    }

    /// Binds and starts the HTTP server; nil once it runs, else why it did not start.
    private func listen() async -> String? {
        let router = Router(context: VLLMRequestContext.self)
        let handler = VLLMRequestHandler(
            configuration: configuration, clock: clock, servingClock: servingClock, metrics: metrics,
            formatter: formatter, log: log)
        // TGI's router writes no access log; vLLM and SGLang log through uvicorn.
        if configuration.runtime != .tgi {
            router.add(middleware: AccessLogMiddleware(formatter: formatter, clock: clock, log: log))
        }
        handler.register(on: router)
        let (events, continuation) = AsyncStream<String?>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil,
                reuseAddress: false),
            onServerRunning: { _ in continuation.yield(nil) },
            logger: Logger(label: "sim.vllm", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        serverTask = Task {
            var failure = "the server stopped"
            do { try await app.run() } catch { failure = "\(error)" }
            continuation.yield(failure)
            continuation.finish()
        }
        for await outcome in events { return outcome }
        return "the server did not start"
    }
}

/// The request context of the simulated server: Hummingbird's basics plus the peer address for access logs.
struct VLLMRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// Writes uvicorn-style access log lines: `INFO:     127.0.0.1:PORT - "GET /v1/models HTTP/1.1" 200 OK`.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = VLLMRequestContext
    let formatter: VLLMLogFormatter
    let clock: any WorkloadClock
    let log: @Sendable (String) async -> Void

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            await write(request, context, Int(error.status.code), error.status.reasonPhrase)
            throw error
        }
        await write(request, context, Int(response.status.code), response.status.reasonPhrase)
        return response
    }

    private func write(_ request: Request, _ context: Context, _ code: Int, _ reason: String) async {
        let peer = "\(context.remoteAddress?.ipAddress ?? "127.0.0.1"):\(context.remoteAddress?.port ?? 0)"
        let record = VLLMLogRecord(
            process: .apiServer, file: "", line: 0,
            message: "\(peer) - \"\(request.method.rawValue) \(request.uri.path) HTTP/1.1\" \(code) \(reason)",
            uvicorn: true)
        await log(formatter.format(record, at: clock.now()))
    }
}
