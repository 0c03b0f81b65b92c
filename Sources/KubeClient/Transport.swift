import AsyncHTTPClient
import Foundation
import KubeCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// A response body read chunk by chunk on demand: nothing is read from the network before the consumer asks,
/// so a slow consumer slows the producer instead of filling memory.
public struct ResponseBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    private let pull: @Sendable () async throws -> [UInt8]?

    /// A body whose chunks come from `next` (which returns `nil` at the end).
    public init(next: @escaping @Sendable () async throws -> [UInt8]?) { pull = next }

    /// A body made of the given chunks.
    public static func chunks(_ chunks: [[UInt8]]) -> ResponseBody {
        let source = ChunkQueue(chunks)
        return ResponseBody { await source.next() }
    }

    /// A body of one buffer.
    public static func bytes(_ bytes: [UInt8]) -> ResponseBody { chunks(bytes.isEmpty ? [] : [bytes]) }

    public static let empty = ResponseBody.chunks([])

    /// Pull-based iterator.
    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let pull: @Sendable () async throws -> [UInt8]?
        public mutating func next() async throws -> [UInt8]? { try await pull() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pull: pull) }

    /// Reads the whole body; throws when it exceeds `maxBytes`.
    public func collect(maxBytes: Int = 64 * 1024 * 1024) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in self {
            out += chunk
            if out.count > maxBytes {
                throw KubeTransportError(.invalidResponse, "response body exceeds \(maxBytes) bytes")
            }
        }
        return out
    }
}

actor ChunkQueue {
    private var chunks: [[UInt8]]
    private var index = 0
    init(_ chunks: [[UInt8]]) { self.chunks = chunks }
    func next() -> [UInt8]? {
        guard index < chunks.count else { return nil }
        defer { index += 1 }
        return chunks[index]
    }
}

/// What a transport returns: the status line, headers and a streamed body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: ResponseBody

    public init(status: Int, headers: [(String, String)] = [], body: ResponseBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// Sends one `APIRequest` to the API server. The client adds authentication, rate limiting and retries on top.
public protocol HTTPTransport: Sendable {
    /// Sends the request. `timeout` bounds the time until the response head arrives (`nil`: no limit, for
    /// watches and followed logs). Transport failures throw `KubeTransportError`.
    func send(_ request: APIRequest, timeout: Double?) async throws -> HTTPResponse
}

/// TLS settings for the connection to the API server.
public struct TLSOptions: Sendable, Hashable {
    /// PEM bundle of trusted CAs; `nil` uses the system roots.
    public var certificateAuthorityPEM: [UInt8]?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    /// Name to verify the server certificate against instead of the host (`tls-server-name`).
    public var serverName: String?

    public init(
        certificateAuthorityPEM: [UInt8]? = nil, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false, serverName: String? = nil
    ) {
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.serverName = serverName
    }
}

/// `HTTPTransport` over AsyncHTTPClient, with the TLS settings of the configuration.
public final class AsyncHTTPClientTransport: HTTPTransport {
    private let client: HTTPClient
    private let baseURL: String

    /// - Parameter server: `https://host:port[/prefix]`.
    public init(server: String, tls: TLSOptions = TLSOptions()) throws {
        var base = server
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try Self.makeTLSConfiguration(tls)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.timeout = .init(connect: .seconds(10), read: nil)
        // Every open watch holds one HTTP/1.1 connection; AsyncHTTPClient's default of 8 per host would make the
        // 9th watch (or any request issued while 8 watches run) wait forever.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    static func makeTLSConfiguration(_ tls: TLSOptions) throws -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = tls.certificateAuthorityPEM {
                config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            }
            if let cert = tls.clientCertificatePEM, let key = tls.clientKeyPEM {
                config.certificateChain = try NIOSSLCertificate.fromPEMBytes(cert).map { .certificate($0) }
                config.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw KubeTransportError(.tls, "invalid certificate or key: \(error)")
        }
        if tls.insecureSkipTLSVerify {
            config.certificateVerification = .none
        } else if tls.serverName != nil {
            // The certificate is checked against the CA but not against the host name we dialled.
            config.certificateVerification = .noHostnameVerification
        }
        return config
    }

    /// Closes connections; call once when done with the transport.
    public func shutdown() async throws { try await client.shutdown() }

    public func send(_ request: APIRequest, timeout: Double?) async throws -> HTTPResponse {
        var http = HTTPClientRequest(url: baseURL + request.pathAndQuery)
        http.method = NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue)
        for (name, value) in request.headers { http.headers.add(name: name, value: value) }
        if let body = request.body { http.body = .bytes(ByteBuffer(bytes: body)) }
        let deadline: NIODeadline = timeout.map { .now() + .milliseconds(Int64($0 * 1000)) } ?? .distantFuture
        let response: HTTPClientResponse
        do {
            response = try await client.execute(http, deadline: deadline)
        } catch let error as HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                throw KubeTransportError(.timeout, "\(request.method.rawValue) \(request.path): \(error)")
            }
            if error == .cancelled { throw KubeTransportError(.cancelled, "\(error)") }
            throw KubeTransportError(.connection, "\(request.method.rawValue) \(request.path): \(error)")
        } catch is CancellationError {
            throw KubeTransportError(.cancelled, "request cancelled")
        } catch let error as NIOSSLError {
            throw KubeTransportError(.tls, "\(error)")
        } catch {
            throw KubeTransportError(.connection, "\(request.method.rawValue) \(request.path): \(error)")
        }
        let body = PulledBody.start(response.body)
        return HTTPResponse(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: body)
    }
}

/// Reads an AsyncHTTPClient body in a producer task that fetches one chunk per consumer demand, so the
/// network is read no faster than the consumer asks. Dropping the body cancels the producer.
final class PulledBody: Sendable {
    let channel: DemandChannel
    let producer: Task<Void, Never>

    private init(channel: DemandChannel, producer: Task<Void, Never>) {
        self.channel = channel
        self.producer = producer
    }

    deinit {
        producer.cancel()
        let channel = self.channel
        Task { await channel.cancel() }
    }

    static func start(_ body: HTTPClientResponse.Body) -> ResponseBody {
        let channel = DemandChannel()
        let producer = Task {
            var iterator = body.makeAsyncIterator()
            while await channel.awaitDemand() {
                do {
                    let chunk = try await iterator.next()
                    await channel.deliver(.success(chunk.map { Array($0.readableBytesView) }))
                    if chunk == nil { return }
                } catch {
                    await channel.deliver(.failure(KubeTransportError(.connection, "reading response body: \(error)")))
                    return
                }
            }
        }
        let handle = PulledBody(channel: channel, producer: producer)
        return ResponseBody { try await handle.next() }
    }

    func next() async throws -> [UInt8]? {
        let channel = self.channel
        return try await withTaskCancellationHandler {
            try await channel.next()
        } onCancel: {
            Task { await channel.cancel() }
        }
    }
}

/// Hands chunks from one producer to one consumer, one per request.
actor DemandChannel {
    private var demandWaiter: CheckedContinuation<Bool, Never>?
    private var pendingDemand = 0
    private var consumer: CheckedContinuation<[UInt8]?, Error>?
    private var terminal: Result<[UInt8]?, Error>?

    func next() async throws -> [UInt8]? {
        if let terminal { return try terminal.get() }
        return try await withCheckedThrowingContinuation { c in
            consumer = c
            if let waiter = demandWaiter {
                demandWaiter = nil
                waiter.resume(returning: true)
            } else {
                pendingDemand += 1
            }
        }
    }

    func awaitDemand() async -> Bool {
        if terminal != nil { return false }
        if pendingDemand > 0 {
            pendingDemand -= 1
            return true
        }
        return await withCheckedContinuation { demandWaiter = $0 }
    }

    func deliver(_ result: Result<[UInt8]?, Error>) {
        switch result {
        case .success(nil): terminal = .success(nil)
        case .failure: terminal = result
        case .success: break
        }
        consumer?.resume(with: result)
        consumer = nil
    }

    func cancel() {
        if terminal == nil { terminal = .failure(CancellationError()) }
        consumer?.resume(throwing: CancellationError())
        consumer = nil
        demandWaiter?.resume(returning: false)
        demandWaiter = nil
    }
}
