import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import KubeCore
import Logging
import NIOCore

/// The emulated Kubernetes API server: a Hummingbird 2 application with one catch-all responder that serves
/// discovery, OpenAPI v3, the built-in resources, CRDs and their custom resources from an `ObjectStorage`.
///
/// ```swift
/// let server = APIServer(configuration: .init(port: 0))
/// let address = try await server.start()          // http://127.0.0.1:<port>
/// let kubeconfig = await server.kubeconfig()
/// await server.stop()
/// ```
public actor APIServer {
    /// How the server listens, authenticates and misbehaves.
    public struct Configuration: Sendable {
        /// Listen address (loopback by default).
        public var host: String
        /// Listen port; 0 picks an ephemeral port (see `start()`'s result).
        public var port: Int
        /// Serve HTTPS with a CA and certificate generated at start (see `caPEM`).
        public var tls: Bool
        /// Accepted bearer tokens. Empty = no authentication; otherwise every request except `/version`,
        /// `/healthz`, `/livez` and `/readyz` needs `Authorization: Bearer <token>` (401 otherwise).
        public var tokens: Set<String>
        /// Injected faults (see `FaultRule` for the spec syntax); changeable later with `setFaults`.
        public var faults: FaultSpec
        /// Seed of the fault injector's random source (deterministic runs).
        public var faultSeed: UInt64
        /// Where `pods/log` reads container logs; nil → logs answer "waiting to start".
        public var logSource: (any ContainerLogSource)?
        /// How often watches with `allowWatchBookmarks=true` get a BOOKMARK.
        public var bookmarkInterval: Duration
        /// Requests kept in the request log.
        public var requestLogLimit: Int
        /// `gitVersion` reported by `/version` (the minor version decides which kubectl the dispatcher runs).
        public var gitVersion: String
        /// Timeout of pod proxy requests.
        public var proxyTimeout: Duration

        public init(
            host: String = "127.0.0.1", port: Int = 0, tls: Bool = false, tokens: Set<String> = [],
            faults: FaultSpec = FaultSpec(), faultSeed: UInt64 = 0x5EED, logSource: (any ContainerLogSource)? = nil,
            bookmarkInterval: Duration = .seconds(5), requestLogLimit: Int = 10_000, gitVersion: String = "v1.32.4",
            proxyTimeout: Duration = .seconds(30)
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.tokens = tokens
            self.faults = faults
            self.faultSeed = faultSeed
            self.logSource = logSource
            self.bookmarkInterval = bookmarkInterval
            self.requestLogLimit = requestLogLimit
            self.gitVersion = gitVersion
            self.proxyTimeout = proxyTimeout
        }
    }

    /// Where the server listens once started.
    public struct BoundAddress: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var tls: Bool
        /// `http://127.0.0.1:PORT` or `https://…`.
        public var url: String { "\(tls ? "https" : "http")://\(host):\(port)" }
        public var description: String { url }
    }

    /// Errors starting the server.
    public struct StartError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public nonisolated let configuration: Configuration
    /// The storage behind the server (also usable in-process by simulated controllers).
    public nonisolated let storage: ObjectStorage
    let faults: FaultInjector
    let log: RequestLog
    /// Service-account tokens and other RBAC-governed users, and the log of RBAC refusals.
    public nonisolated let accessControl: RBACAccessControl
    private var runTask: Task<Void, Error>?
    private var bound: BoundAddress?
    private var tlsMaterial: TLSMaterial?
    private var httpClient: HTTPClient?

    public init(configuration: Configuration = Configuration(), storage: ObjectStorage = ObjectStorage()) {
        self.configuration = configuration
        self.storage = storage
        self.faults = FaultInjector(spec: configuration.faults, seed: configuration.faultSeed)
        self.log = RequestLog(limit: configuration.requestLogLimit)
        self.accessControl = RBACAccessControl()
    }

    /// The bound address, once started.
    public var address: BoundAddress? { bound }

    /// The PEM of the generated CA (TLS mode, after `start()`).
    public var caPEM: String? { tlsMaterial?.caPEM }

    /// Binds and starts serving; returns the bound address (the real port when `port` was 0).
    public func start() async throws -> BoundAddress {
        if let bound { return bound }
        var server: HTTPServerBuilder = .http1()
        if configuration.tls {
            let material = try TLSMaterial.generate(hosts: Array(Set([configuration.host, "127.0.0.1", "localhost"])))
            tlsMaterial = material
            server = try .tls(.http1(), tlsConfiguration: material.serverConfiguration())
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        httpClient = client
        let handler = APIHandler(
            storage: storage, configuration: configuration, faults: faults, log: log, httpClient: client,
            access: accessControl)
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "clustersim.apiserver")
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder { (request: Request, _: BasicRequestContext) in
                await handler.respond(request)
            },
            server: server,
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
            try? await client.shutdown()
            httpClient = nil
            if case .failure(let error) = result { throw error }
            throw StartError(message: "the API server could not bind \(configuration.host):\(configuration.port)")
        }
        let address = BoundAddress(host: configuration.host, port: port, tls: configuration.tls)
        bound = address
        return address
    }

    /// Stops serving: ends every watch, then shuts the listener and open connections down.
    public func stop() async {
        await storage.stopAllWatches()
        if let runTask {
            runTask.cancel()
            _ = await runTask.result
        }
        runTask = nil
        bound = nil
        try? await httpClient?.shutdown()
        httpClient = nil
    }

    /// Replaces the injected faults at run time.
    public func setFaults(_ spec: FaultSpec) async { await faults.set(spec) }

    /// The current fault spec.
    public func currentFaults() async -> FaultSpec { await faults.spec }

    /// The most recent requests, oldest first.
    public func requestLog() async -> [RequestLogEntry] { await log.all() }

    /// Empties the request log.
    public func clearRequestLog() async { await log.clear() }

    /// Mints a bearer token for the service account `namespace/name`: its requests are authorized by RBAC (the
    /// stored Roles, ClusterRoles and bindings), unlike the configured tokens, which are cluster administrators.
    /// Credentials are only sent over https, so use it with `tls: true`.
    public func serviceAccountToken(namespace: String, name: String) async -> String {
        await accessControl.mintServiceAccountToken(namespace: namespace, name: name)
    }

    /// Requests refused by RBAC, oldest first.
    public func rbacDenials() async -> [RBACDenial] { await accessControl.recentDenials() }

    /// Forgets the watch history so watches from older resourceVersions get 410 Expired.
    public func compact() async { await storage.compact() }

    /// A kubeconfig for this server (after `start()`): `https` with `certificate-authority-data` in TLS mode,
    /// plus `token` when given (or the first configured token).
    public func kubeconfig(
        token: String? = nil, namespace: String = "default", contextName: String = "clustersim"
    ) -> String {
        let server = bound?.url ?? "http://\(configuration.host):\(configuration.port)"
        var cluster = "    server: \(server)\n"
        if let ca = tlsMaterial?.caPEM {
            cluster += "    certificate-authority-data: \(Data(ca.utf8).base64EncodedString())\n"
        }
        var user = "  user: {}\n"
        if let token = token ?? configuration.tokens.sorted().first {
            user = "  user:\n    token: \"\(token)\"\n"
        }
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: \(contextName)
              cluster:
            \(cluster)users:
            - name: \(contextName)
            \(user)contexts:
            - name: \(contextName)
              context:
                cluster: \(contextName)
                user: \(contextName)
                namespace: \(namespace)
            current-context: \(contextName)
            preferences: {}

            """
    }
}
