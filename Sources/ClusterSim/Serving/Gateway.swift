import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import KubeCore
import Logging
import NIOCore
import NIOHTTP1

/// The emulated cluster's Gateway: an HTTP server on a loopback address that routes each request by the
/// Gateway API HTTPRoutes in storage, proxying it and streaming the response back chunk by chunk.
///
/// The best matching rule's backendRefs are chosen by weight first (random per request). A Service backend then
/// sends to its Ready endpoints (least outstanding requests). An InferencePool backend
/// (`group: inference.networking.k8s.io`, `kind: InferencePool`, in the route's namespace unless the ref names
/// one) sends to the pool's Ready member pods on its first `targetPorts` number, never through a Service; the
/// gateway plays the pool's endpoint picker itself (`EndpointPicker`: fewest waiting, then fewest running
/// requests, by the `queueState` the gateway is given, else by its own in-flight count as running) and does not
/// call the pool's `endpointPickerRef`.
///
/// Answers like Envoy when it cannot: 404 `no route`, 500 when every backend has weight 0 or the chosen Service or
/// InferencePool does not exist, 503 `no healthy upstream` without Ready endpoints (members) or when the pod
/// refuses the connection.
///
/// Responses carry `x-sim-backend` (the Service or InferencePool as `namespace/name`), `x-sim-pod`,
/// `x-sim-revision` (the pod's Deployment) and `x-sim-model-loaded` (`true`/`false`: whether the pod's simulated
/// vLLM had loaded its model when the request was dispatched; `unknown` for pods the simulator does not run).
public actor Gateway {
    /// Where the gateway listens and which routes it serves.
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        /// Only HTTPRoutes in these namespaces are served; nil: all namespaces.
        public var namespaces: Set<String>?
        /// Wall seconds to wait for a pod to accept the connection.
        public var connectTimeoutSeconds: Double
        /// Largest request body accepted (bytes).
        public var maxRequestBodyBytes: Int
        /// Seeds the weighted backend choice and the endpoint tie-breaks, so the sequence of backend choices
        /// replays (the n-th request routed gets the n-th draw whatever the concurrency); nil: a random seed.
        public var randomSeed: UInt64?

        public init(
            host: String = "127.0.0.1", port: Int = 0, namespaces: Set<String>? = nil,
            connectTimeoutSeconds: Double = 1, maxRequestBodyBytes: Int = 8 << 20, randomSeed: UInt64? = nil
        ) {
            self.host = host
            self.port = port
            self.namespaces = namespaces
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.maxRequestBodyBytes = maxRequestBodyBytes
            self.randomSeed = randomSeed
        }

        /// Parses `HOST:PORT` (`127.0.0.1:8080`, `[::1]:0`); nil when malformed.
        public init?(address: String) {
            guard let colon = address.lastIndex(of: ":") else { return nil }
            let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            guard !host.isEmpty, let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port)
            else { return nil }
            self.init(host: host, port: port)
        }
    }

    /// Counters since the gateway was created.
    public struct Stats: Sendable, Hashable {
        /// Every request received, whatever its outcome.
        public var requests = 0
        /// Requests dispatched to a pod, by Service or InferencePool (`namespace/name`).
        public var byBackend: [String: Int] = [:]
        /// Requests dispatched to a pod, by the pod's Deployment.
        public var byRevision: [String: Int] = [:]
        /// Responses by HTTP status code.
        public var byStatus: [Int: Int] = [:]
        /// Requests dispatched to a pod whose model was not loaded (a Ready pod still loading, for example).
        public var requestsToUnloadedPods = 0
        /// Dispatched requests whose pod refused or dropped the connection before answering.
        public var upstreamFailures = 0

        public init() {}
    }

    /// Why the gateway failed to start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public nonisolated let configuration: Configuration
    private let cache: ServingObjectCache
    private let store: any ClusterObjectStore
    private let modelState: @Sendable (String, String) async -> PodModelState
    private let queueState: @Sendable (String, String) async -> PodQueueState?
    private var stats = Stats()
    private var outstanding: [String: Int] = [:]
    /// Draws only the weighted backend choices, so their sequence does not depend on how many endpoints tied.
    private var backendGenerator: SplitMix64
    private var endpointGenerator: SplitMix64
    private var runTask: Task<Void, any Error>?
    private var client: HTTPClient?
    private var boundPort: Int?

    /// - Parameters:
    ///   - store: the cluster storage (an `ObjectStorage` also tells whether the HTTPRoute resource exists).
    ///   - modelState: whether a pod (namespace, name) has its model loaded; defaults to `.unknown`.
    ///   - queueState: the waiting and running requests of a pod (namespace, name), which the InferencePool
    ///     endpoint pick scores; nil for a pod whose queue is unknown. Defaults to unknown for every pod: the pick
    ///     then counts only the requests this gateway has in flight to each member, as running.
    public init(
        store: any ClusterObjectStore, configuration: Configuration = Configuration(),
        modelState: @escaping @Sendable (String, String) async -> PodModelState = { _, _ in .unknown },
        queueState: @escaping @Sendable (String, String) async -> PodQueueState? = { _, _ in nil }
    ) {
        self.store = store
        self.configuration = configuration
        self.cache = ServingObjectCache(store: store)
        self.modelState = modelState
        self.queueState = queueState
        var seeder = SplitMix64(seed: configuration.randomSeed ?? UInt64.random(in: .min ... .max))
        backendGenerator = SplitMix64(seed: seeder.next())
        endpointGenerator = SplitMix64(seed: seeder.next())
    }

    /// The URL the gateway serves on (`http://127.0.0.1:PORT`), after `start()`.
    public var url: String? {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return boundPort.map { "http://\(host):\($0)" }
    }

    /// A copy of the counters.
    public func snapshot() -> Stats { stats }

    /// Starts watching the cluster and serving; returns the URL. Calling it again returns the same URL.
    public func start() async throws -> String {
        if let url { return url }
        await cache.start()
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout = .init(
            connect: .milliseconds(Int64(max(0.01, configuration.connectTimeoutSeconds) * 1000)), read: .seconds(600))
        clientConfiguration.connectionPool = .init(
            idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        self.client = client
        let proxy = GatewayProxy(gateway: self, client: client, maxBody: configuration.maxRequestBodyBytes)
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "clustersim.gateway")
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder { (request: Request, _: BasicRequestContext) in
                await proxy.respond(request)
            },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        let task = Task {
            defer { portContinuation.finish() }
            try await app.run()
        }
        runTask = task
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            let result = await task.result
            runTask = nil
            await cache.stop()
            try? await client.shutdown()
            self.client = nil
            if case .failure(let error) = result { throw error }
            throw StartError(description: "the gateway could not bind \(configuration.host):\(configuration.port)")
        }
        boundPort = port
        return url ?? ""
    }

    /// Stops serving (open streams end) and watching.
    public func stop() async {
        if let runTask {
            runTask.cancel()
            _ = await runTask.result
        }
        runTask = nil
        boundPort = nil
        await cache.stop()
        try? await client?.shutdown()
        client = nil
    }

    // MARK: Routing decisions (called by the proxy)

    /// Where one request goes, or the response the gateway answers itself.
    enum Decision: Sendable {
        case reply(status: Int, message: String)
        case forward(Dispatch)
    }

    /// A request dispatched to one endpoint.
    struct Dispatch: Sendable {
        var backend: String
        var endpoint: ServiceEndpoint
        var modelState: PodModelState

        var headers: [(String, String)] {
            let loaded: String
            switch modelState {
            case .loaded: loaded = "true"
            case .notLoaded: loaded = "false"
            case .unknown: loaded = "unknown"
            }
            return [
                ("x-sim-backend", backend), ("x-sim-pod", endpoint.pod), ("x-sim-revision", endpoint.revision),
                ("x-sim-model-loaded", loaded),
            ]
        }
    }

    func decide(_ request: RouteRequest) async -> Decision {
        stats.requests += 1
        if let storage = store as? ObjectStorage, await storage.registry.lookup(.httpRoutes) == nil {
            return .reply(status: 404, message: "no route")
        }
        let routes = await cache.routes(in: configuration.namespaces)
        guard let match = RouteMatcher.match(request, routes: routes) else {
            return .reply(status: 404, message: "no route")
        }
        guard let index = RouteMatcher.chooseBackend(match.backendRefs, using: &backendGenerator) else {
            return .reply(status: 500, message: "all backends have weight 0")
        }
        let ref = match.backendRefs[index]
        let namespace = ref.namespace ?? match.routeNamespace
        let backend = namespace + "/" + ref.name
        let chosen: ServiceEndpoint?
        if ref.isInferencePool {
            guard let pool = await cache.inferencePool(namespace: namespace, name: ref.name) else {
                return .reply(status: 500, message: "backend inferencepool \(backend) not found")
            }
            let members = EndpointResolver.endpoints(pool: pool, pods: await cache.pods(namespace: namespace))
            chosen = await pickMember(of: members)
        } else if ref.isService {
            guard let service = await cache.service(namespace: namespace, name: ref.name) else {
                return .reply(status: 500, message: "backend service \(backend) not found")
            }
            let pods = await cache.pods(namespace: namespace)
            guard case .success(let endpoints) = EndpointResolver.endpoints(
                service: service, port: ref.port.map(Int.init), pods: pods)
            else {
                return .reply(status: 503, message: "no healthy upstream")
            }
            let least = endpoints.map { outstanding[Self.key($0), default: 0] }.min() ?? 0
            let tied = endpoints.filter { outstanding[Self.key($0), default: 0] == least }
            chosen = tied.randomElement(using: &endpointGenerator)
        } else {
            return .reply(status: 500, message: "unsupported backend kind \(ref.kind ?? "")")
        }
        guard let endpoint = chosen else {
            return .reply(status: 503, message: "no healthy upstream")
        }
        outstanding[Self.key(endpoint), default: 0] += 1
        let state = await modelState(endpoint.namespace, endpoint.pod)
        stats.byBackend[backend, default: 0] += 1
        stats.byRevision[endpoint.revision, default: 0] += 1
        if state == .notLoaded { stats.requestsToUnloadedPods += 1 }
        return .forward(Dispatch(backend: backend, endpoint: endpoint, modelState: state))
    }

    /// The InferencePool member to send to (see `EndpointPicker`); nil when the pool has no Ready member.
    private func pickMember(of members: [ServiceEndpoint]) async -> ServiceEndpoint? {
        var candidates: [EndpointPicker.Candidate] = []
        for member in members {
            let queue = await queueState(member.namespace, member.pod)
            let inFlight = outstanding[Self.key(member), default: 0]
            candidates.append(EndpointPicker.Candidate(endpoint: member, queue: queue, inFlight: inFlight))
        }
        return EndpointPicker.pick(candidates, using: &endpointGenerator)
    }

    func responded(status: Int) {
        stats.byStatus[status, default: 0] += 1
    }

    func upstreamFailed() {
        stats.upstreamFailures += 1
    }

    func finished(_ endpoint: ServiceEndpoint) {
        let key = Self.key(endpoint)
        let left = (outstanding[key] ?? 1) - 1
        outstanding[key] = left > 0 ? left : nil
    }

    /// Requests in flight per pod (`namespace/pod`).
    func outstandingRequests() -> [String: Int] { outstanding }

    static func key(_ endpoint: ServiceEndpoint) -> String { endpoint.namespace + "/" + endpoint.pod }
}

/// The HTTP side of the gateway: asks the actor for a decision, then proxies outside the actor.
struct GatewayProxy: Sendable {
    let gateway: Gateway
    let client: HTTPClient
    let maxBody: Int

    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-authenticate", "proxy-authorization", "content-length", "host",
    ]

    func respond(_ request: Request) async -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let host = request.head.authority ?? headers["host"] ?? ""
        let target = request.head.path ?? "/"
        let routeRequest = RouteRequest(
            method: request.method.rawValue, target: target, headers: headers, host: host)
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBody)
        } catch {
            await gateway.responded(status: 413)
            return Self.text(413, "request body too large")
        }
        switch await gateway.decide(routeRequest) {
        case .reply(let status, let message):
            await gateway.responded(status: status)
            return Self.text(status, message)
        case .forward(let dispatch):
            return await forward(request, target: target, body: body, dispatch: dispatch)
        }
    }

    private func forward(_ request: Request, target: String, body: ByteBuffer, dispatch: Gateway.Dispatch) async
        -> Response
    {
        let endpoint = dispatch.endpoint
        var upstream = HTTPClientRequest(url: "http://\(endpoint.ip):\(endpoint.port)\(target)")
        upstream.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            upstream.headers.add(name: field.name.rawName, value: field.value)
        }
        if body.readableBytes > 0 || request.method == .post || request.method == .put {
            upstream.body = .bytes(body)
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(upstream, timeout: .seconds(3600))
        } catch {
            await gateway.upstreamFailed()
            await gateway.finished(endpoint)
            await gateway.responded(status: 503)
            var reply = Self.text(
                503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure")
            Self.add(dispatch.headers, to: &reply.headers)
            return reply
        }
        var fields = HTTPFields()
        for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        Self.add(dispatch.headers, to: &fields)
        let status = Int(response.status.code)
        await gateway.responded(status: status)
        let gateway = self.gateway
        let upstreamBody = response.body
        let responseBody = ResponseBody { writer in
            defer { Task { await gateway.finished(endpoint) } }
            for try await chunk in upstreamBody {
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
        return Response(status: .init(code: status), headers: fields, body: responseBody)
    }

    static func add(_ headers: [(String, String)], to fields: inout HTTPFields) {
        for (name, value) in headers {
            if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
        }
    }

    static func text(_ status: Int, _ message: String) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "text/plain"],
            body: .init(byteBuffer: ByteBuffer(string: message)))
    }
}
