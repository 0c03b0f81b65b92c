import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// A `host:port` the operator's HTTP endpoints listen on, parsed from a `--*-bind-address` flag.
public struct BindAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    /// 0 picks a free port.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `:port` (all interfaces) or `[v6]:port`. `""` and `"0"` mean disabled (nil), as in
    /// controller-runtime. Throws ``OperatorHTTPServerError`` for anything else.
    public static func parse(_ text: String) throws -> BindAddress? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text.isEmpty || text == "0" { return nil }
        guard let colon = text.lastIndex(of: ":") else {
            throw OperatorHTTPServerError("bind address \"\(text)\" must be host:port or :port (\"0\" disables it)")
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw OperatorHTTPServerError("bind address \"\(text)\" has no valid port (0-65535)")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return BindAddress(host: host.isEmpty ? "0.0.0.0" : host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why the operator's HTTP endpoints could not start.
public struct OperatorHTTPServerError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The operator's own HTTP endpoints: `/metrics` (Prometheus text format 0.0.4 from a
/// `PrometheusCollectorRegistry`) on the metrics address, `/healthz` (always 200 `ok` while the process serves)
/// and `/readyz` (200 when the readiness closure, e.g. "caches synced", says so, else 503 with a reason) on the
/// health address. Both may be the same `host:port` (one listener; two `:0` addresses get two free ports) or
/// disabled (nil).
public actor OperatorHTTPServer {
    public nonisolated let metricsAddress: String?
    public nonisolated let healthAddress: String?
    public nonisolated let registry: PrometheusCollectorRegistry
    private let ready: @Sendable () async -> Bool
    private let notReadyReason: String
    private let logger: Logger
    private var tasks: [Task<Void, any Error>] = []
    /// The bound ports (the real ones when 0 was asked for), while running.
    public private(set) var metricsPort: Int?
    public private(set) var healthPort: Int?

    /// - Parameters:
    ///   - metricsAddress: `host:port` of `/metrics`; nil, `""` or `"0"` disables it.
    ///   - healthAddress: `host:port` of `/healthz` and `/readyz`; nil, `""` or `"0"` disables them.
    ///   - ready: whether the operator is ready (e.g. its caches are synced).
    ///   - notReadyReason: the body of a 503 from `/readyz`.
    public init(
        metricsAddress: String?, healthAddress: String?, registry: PrometheusCollectorRegistry,
        ready: @escaping @Sendable () async -> Bool, notReadyReason: String = "caches not synced",
        logger: Logger = Logger(label: "modelrollout.http")
    ) {
        self.metricsAddress = metricsAddress
        self.healthAddress = healthAddress
        self.registry = registry
        self.ready = ready
        self.notReadyReason = notReadyReason
        var logger = logger
        logger.logLevel = max(logger.logLevel, .warning)
        self.logger = logger
    }

    /// Binds the listeners and starts serving; returns once the ports are bound. Throws when an address is
    /// invalid or cannot be bound (nothing keeps running then).
    public func start() async throws {
        guard tasks.isEmpty else { return }
        let metrics = try metricsAddress.flatMap(BindAddress.parse)
        let health = try healthAddress.flatMap(BindAddress.parse)
        do {
            if let metrics, let health, metrics == health, metrics.port != 0 {
                let port = try await listen(on: metrics, metrics: true, health: true)
                metricsPort = port
                healthPort = port
            } else {
                if let metrics { metricsPort = try await listen(on: metrics, metrics: true, health: false) }
                if let health { healthPort = try await listen(on: health, metrics: false, health: true) }
            }
        } catch {
            await stop()
            throw error
        }
    }

    /// Stops every listener.
    public func stop() async {
        let running = tasks
        tasks = []
        for task in running {
            task.cancel()
            _ = await task.result
        }
        metricsPort = nil
        healthPort = nil
    }

    /// Starts one listener with the chosen routes; returns its bound port.
    private func listen(on address: BindAddress, metrics: Bool, health: Bool) async throws -> Int {
        let router = Router()
        if metrics {
            let registry = self.registry
            router.get("/metrics") { _, _ -> Response in
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
                let bytes = registry.emitToBuffer()
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
        if health {
            let ready = self.ready
            let reason = notReadyReason
            router.get("/healthz") { _, _ -> Response in Self.text(.ok, "ok") }
            router.get("/readyz") { _, _ -> Response in
                await ready() ? Self.text(.ok, "ok") : Self.text(.serviceUnavailable, "not ready: \(reason)")
            }
        }
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        let task = Task {
            defer { portContinuation.finish() }
            try await app.run()
        }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            if case .failure(let error) = await task.result {
                throw OperatorHTTPServerError("cannot listen on \(address): \(error)")
            }
            throw OperatorHTTPServerError("cannot listen on \(address)")
        }
        tasks.append(task)
        return port
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
