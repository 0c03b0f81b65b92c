import Foundation
import KubeCore
import Logging

/// The Kubernetes API client: authentication, client-side rate limiting, retries on 429/5xx with Retry-After,
/// typed errors, and typed (`resources(_:namespace:)`) and dynamic (`dynamic(_:namespace:)`) APIs.
public final class KubernetesClient: Sendable {
    public let configuration: ClientConfiguration
    public let transport: any HTTPTransport
    /// The namespace used when neither the call nor the object names one.
    public var defaultNamespace: String { configuration.namespace }

    let credentials: (any CredentialProvider)?
    let rateLimiter: ClientRateLimiter
    let clock: any KubeClock
    let logger: Logger

    /// A client for `configuration`. Without `transport`, an `AsyncHTTPClientTransport` is created (call
    /// `shutdown()` when done). `credentials` overrides the provider derived from the configuration.
    public init(
        configuration: ClientConfiguration, transport: (any HTTPTransport)? = nil,
        credentials: (any CredentialProvider)? = nil, clock: any KubeClock = SystemClock(),
        logger: Logger = Logger(label: "kubeclient")
    ) throws {
        self.configuration = configuration
        self.transport = try transport ?? AsyncHTTPClientTransport(server: configuration.server, tls: configuration.tls)
        self.credentials = configuration.isSecure ? (credentials ?? configuration.makeCredentialProvider(clock: clock)) : nil
        self.rateLimiter = ClientRateLimiter(qps: configuration.qps, burst: configuration.burst, clock: clock)
        self.clock = clock
        self.logger = logger
    }

    /// A client from `$KUBECONFIG`, `~/.kube/config` or the in-cluster configuration.
    public static func fromEnvironment(context: String? = nil) throws -> KubernetesClient {
        try KubernetesClient(configuration: ClientConfiguration.load(context: context))
    }

    /// Shuts down the built-in transport (no-op for an injected one that is not an `AsyncHTTPClientTransport`).
    public func shutdown() async throws {
        if let ahc = transport as? AsyncHTTPClientTransport { try await ahc.shutdown() }
    }

    /// Typed access to one resource type. `namespace: nil` means: all namespaces for list/watch, and the
    /// object's (or the default) namespace for single objects.
    public func resources<R: KubernetesResource>(_ type: R.Type, namespace: String? = nil) -> ResourceClient<R> {
        ResourceClient(client: self, descriptor: R.resource, namespace: namespace)
    }

    /// Dynamic access to any resource type, e.g. a custom resource, on `DynamicObject`s.
    public func dynamic(_ resource: ResourceDescriptor, namespace: String? = nil) -> ResourceClient<DynamicObject> {
        ResourceClient(client: self, descriptor: resource, namespace: namespace)
    }

    // MARK: - Sending

    /// Sends a request with rate limiting, authentication, 401 credential refresh and retries; returns the
    /// response once its status is < 400 (the body not yet read). Errors: `KubeAPIError` for API statuses,
    /// `KubeTransportError` below that, `KubeCredentialError` when no credential could be obtained.
    public func send(_ request: APIRequest) async throws -> HTTPResponse {
        try await send(request, passErrorStatuses: false)
    }

    /// With `passErrorStatuses`, a response >= 400 is returned rather than thrown (after the 401 refresh).
    func send(_ request: APIRequest, passErrorStatuses: Bool) async throws -> HTTPResponse {
        var refreshedCredentials = false
        var attempt = 0
        while true {
            try Task.checkCancellation()
            try await rateLimiter.acquire()
            var outgoing = request
            outgoing.setHeader("User-Agent", configuration.userAgent)
            if let credentials, let value = try await credentials.authorization() {
                outgoing.setHeader("Authorization", value)
            }
            let timeout = request.isStreaming ? nil : configuration.requestTimeout
            let response = try await transport.send(outgoing, timeout: timeout)
            if response.status < 400 || (passErrorStatuses && response.status != 401) { return response }
            let error = await Self.apiError(from: response)
            if error.httpStatus == 401, let credentials, !refreshedCredentials {
                refreshedCredentials = true
                await credentials.invalidate()
                logger.debug("kube.request.unauthorized", metadata: ["kube.path": "\(request.path)"])
                continue
            }
            if passErrorStatuses { throw error }
            if let wait = retryWait(for: error), attempt < configuration.maxRetries {
                attempt += 1
                logger.debug(
                    "kube.request.retry",
                    metadata: [
                        "kube.path": "\(request.path)", "kube.status": "\(error.httpStatus)",
                        "retry.attempt": "\(attempt)", "retry.wait": "\(wait)",
                    ])
                try await clock.sleep(seconds: wait)
                continue
            }
            throw error
        }
    }

    /// Sends and reads the whole body.
    public func sendCollecting(_ request: APIRequest) async throws -> (status: Int, headers: [(String, String)], body: [UInt8]) {
        let response = try await send(request)
        return (response.status, response.headers, try await response.body.collect())
    }

    /// How long to wait before retrying, or `nil` when the error is not retried: 429 always (Retry-After, else
    /// `details.retryAfterSeconds`, else 1 s), 5xx only with a Retry-After header, as client-go does.
    func retryWait(for error: KubeAPIError) -> Double? {
        let seconds: Int
        if error.httpStatus == 429 {
            seconds = error.retryAfterSeconds ?? error.status.retryAfterSeconds ?? 1
        } else if error.httpStatus >= 500, let after = error.retryAfterSeconds {
            seconds = after
        } else {
            return nil
        }
        return min(Double(max(seconds, 0)), configuration.maxRetryWait)
    }

    static func apiError(from response: HTTPResponse) async -> KubeAPIError {
        let body = (try? await response.body.collect(maxBytes: 1 << 20)) ?? []
        let retryAfter = response.header("Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        if let json = try? JSONValue.parse(body), let status = APIStatus(json: json) {
            return KubeAPIError(status: status, httpStatus: response.status, retryAfterSeconds: retryAfter)
        }
        let text = String(decoding: body.prefix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let status = APIStatus(
            code: response.status, reason: reasonForCode(response.status),
            message: text.isEmpty ? "the server returned HTTP \(response.status)" : text,
            retryAfterSeconds: retryAfter)
        return KubeAPIError(status: status, httpStatus: response.status, retryAfterSeconds: retryAfter)
    }

    static func reasonForCode(_ code: Int) -> String {
        switch code {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        case 409: return "Conflict"
        case 410: return "Expired"
        case 415: return "UnsupportedMediaType"
        case 422: return "Invalid"
        case 429: return "TooManyRequests"
        case 503: return "ServiceUnavailable"
        case 504: return "Timeout"
        default: return code >= 500 ? "InternalError" : "Unknown"
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ request: APIRequest) throws -> T {
        do {
            return try KubeJSON.decode(type, from: bytes)
        } catch {
            throw KubeTransportError(.decoding, "\(request.description): cannot decode \(T.self): \(error)")
        }
    }

    func call<T: Decodable>(_ request: APIRequest, as type: T.Type) async throws -> T {
        let (_, _, body) = try await sendCollecting(request)
        return try decode(type, body, request)
    }

    // MARK: - Pods: logs and proxy

    /// The log of a pod's container as text.
    public func podLogs(namespace: String? = nil, pod: String, options: LogOptions = LogOptions()) async throws -> String {
        var options = options
        options.follow = false
        let request = APIRequest.podLog(namespace: namespace ?? defaultNamespace, pod: pod, options: options)
        let (_, _, body) = try await sendCollecting(request)
        return String(decoding: body, as: UTF8.self)
    }

    /// Follows a pod's log: one element per line (without the newline), read as the consumer asks.
    public func followPodLogs(
        namespace: String? = nil, pod: String, options: LogOptions = LogOptions()
    ) -> AsyncThrowingStream<String, Error> {
        var options = options
        options.follow = true
        let request = APIRequest.podLog(namespace: namespace ?? defaultNamespace, pod: pod, options: options)
        let state = LineStreamState(client: self, request: request)
        return AsyncThrowingStream(unfolding: { try await state.next() })
    }

    /// A request through the API server's pod proxy to `pod:port` (status and body of the pod's answer).
    public func podProxy(
        namespace: String? = nil, pod: String, port: Int? = nil, method: HTTPMethod = .GET, path: String,
        query: [(String, String)] = [], headers: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> ProxyResponse {
        let request = APIRequest.podProxy(
            namespace: namespace ?? defaultNamespace, pod: pod, port: port, method: method, path: path, query: query,
            headers: headers, body: body)
        let response = try await send(request, passErrorStatuses: true)
        return ProxyResponse(status: response.status, headers: response.headers, body: try await response.body.collect())
    }
}

/// The answer of a pod-proxy request.
public struct ProxyResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Re-runs `body` (which should re-read the object, modify it and write it) while it fails with 409 Conflict,
/// at most `maxAttempts` times in all; other errors and the last conflict are thrown.
public func retryOnConflict<T: Sendable>(
    maxAttempts: Int = 5, _ body: () async throws -> T
) async throws -> T {
    var attempt = 1
    while true {
        do {
            return try await body()
        } catch let error as KubeAPIError where error.isConflict && attempt < maxAttempts {
            attempt += 1
        }
    }
}

/// Pull-based line splitter over a followed log.
actor LineStreamState {
    let client: KubernetesClient
    let request: APIRequest
    var iterator: ResponseBody.AsyncIterator?
    var buffer: [UInt8] = []
    var lines: [String] = []
    var done = false
    let maxLine = 1 << 20

    init(client: KubernetesClient, request: APIRequest) {
        self.client = client
        self.request = request
    }

    func next() async throws -> String? {
        while true {
            if !lines.isEmpty { return lines.removeFirst() }
            if done { return nil }
            if iterator == nil { iterator = try await client.send(request).body.makeAsyncIterator() }
            guard var it = iterator else { return nil }
            let chunk = try await it.next()
            iterator = it
            guard let chunk else {
                done = true
                if !buffer.isEmpty { lines.append(String(decoding: buffer, as: UTF8.self)) }
                buffer = []
                continue
            }
            for byte in chunk {
                if byte == 0x0A {
                    lines.append(String(decoding: buffer, as: UTF8.self))
                    buffer.removeAll(keepingCapacity: true)
                } else {
                    buffer.append(byte)
                    if buffer.count >= maxLine {
                        lines.append(String(decoding: buffer, as: UTF8.self))
                        buffer.removeAll(keepingCapacity: true)
                    }
                }
            }
        }
    }
}
