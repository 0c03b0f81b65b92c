import AsyncHTTPClient
import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore
import NIOCore

/// The outcome of one HTTP GET towards a pod's runtime: the pod's answer, or why there was none.
public enum PodHTTPResult: Sendable, Equatable {
    /// The pod answered (any status; the body is capped at ``PodEndpointClient/maxBodyBytes``).
    case ok(status: Int, body: [UInt8])
    /// No answer from the pod: connection refused, timeout, no pod IP, proxy error, oversized body.
    case unreachable(String)
}

/// Why a `/metrics` scrape gave no samples to judge.
public enum ScrapeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No HTTP answer from the pod.
    case unreachable(String)
    /// The runtime answered with a non-2xx status.
    case httpError(Int)

    public var description: String {
        switch self {
        case .unreachable(let message): return "metrics endpoint unreachable: \(message)"
        case .httpError(let status): return "metrics endpoint answered HTTP \(status)"
        }
    }
}

/// Reaches the HTTP endpoints of a serving pod's runtime (`/v1/models`, `/metrics`), either directly at
/// `podIP:port` (in-cluster) or through the API server's pod proxy (controller outside the cluster).
///
/// Never throws: every failure becomes ``PodHTTPResult/unreachable(_:)`` with a short human message. Call
/// ``shutdown()`` when done (it closes the client used for direct access).
public final class PodEndpointClient: Sendable {
    /// Upper bound of a pod answer's body; larger answers are reported as unreachable rather than truncated.
    public static let maxBodyBytes = 4 * 1024 * 1024

    public let access: PodAccess
    /// Per-request timeout, in seconds.
    public let timeout: Double
    private let kube: KubernetesClient
    private let http: HTTPClient

    public init(kube: KubernetesClient, access: PodAccess, timeout: Double) {
        self.kube = kube
        self.access = access
        self.timeout = max(0.05, timeout)
        var configuration = HTTPClient.Configuration(
            timeout: .init(
                connect: .milliseconds(Int64(self.timeout * 1000)), read: .milliseconds(Int64(self.timeout * 1000))))
        // A pod that refuses connections is reported at once instead of being retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.idleTimeout = .seconds(30)
        configuration.redirectConfiguration = .disallow
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the HTTP client of direct access; further requests in direct mode fail as unreachable.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// GET `path` on the pod's runtime at `port`. `podIP` is needed for direct access only.
    public func get(namespace: String, pod: String, podIP: String?, port: Int, path: String) async -> PodHTTPResult {
        let path = path.hasPrefix("/") ? path : "/" + path
        switch access {
        case .direct:
            guard let podIP, !podIP.isEmpty else { return .unreachable("pod \(pod) has no IP address yet") }
            return await getDirect(host: podIP, port: port, path: path)
        case .proxy:
            return await getThroughProxy(namespace: namespace, pod: pod, port: port, path: path)
        }
    }

    /// Asks the runtime which models it serves (OpenAI `/v1/models`: the `data[].id` strings). A 2xx answer
    /// that is not such a list counts as listing nothing.
    public func models(
        namespace: String, pod: String, podIP: String?, port: Int, path: String = "/v1/models"
    ) async -> ModelsProbeResult {
        switch await get(namespace: namespace, pod: pod, podIP: podIP, port: port, path: path) {
        case .unreachable(let message):
            return .unreachable(message)
        case .ok(let status, let body):
            guard (200..<300).contains(status) else { return .httpError(status) }
            return .listed(Self.modelIDs(body))
        }
    }

    /// Scrapes the runtime's Prometheus endpoint and parses it.
    public func scrape(
        namespace: String, pod: String, podIP: String?, port: Int, path: String = "/metrics"
    ) async -> Result<PrometheusScrape, ScrapeError> {
        switch await get(namespace: namespace, pod: pod, podIP: podIP, port: port, path: path) {
        case .unreachable(let message):
            return .failure(.unreachable(message))
        case .ok(let status, let body):
            guard (200..<300).contains(status) else { return .failure(.httpError(status)) }
            return .success(PrometheusText.parse(String(decoding: body, as: UTF8.self)))
        }
    }

    /// The model ids of an OpenAI `/v1/models` body; empty when it is not one.
    public static func modelIDs(_ body: [UInt8]) -> [String] {
        guard let json = try? JSONValue.parse(body), let data = json["data"]?.arrayValue else { return [] }
        return data.compactMap { $0["id"]?.stringValue }
    }

    // MARK: - Transports

    private func getDirect(host: String, port: Int, path: String) async -> PodHTTPResult {
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        var request = HTTPClientRequest(url: "http://\(hostPart):\(port)\(path)")
        request.method = .GET
        request.headers.add(name: "Accept", value: "*/*")
        do {
            let response = try await http.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            var body: [UInt8] = []
            for try await chunk in response.body {
                body += chunk.readableBytesView
                if body.count > Self.maxBodyBytes {
                    return .unreachable("answer from \(host):\(port)\(path) exceeds \(Self.maxBodyBytes) bytes")
                }
            }
            return .ok(status: Int(response.status.code), body: body)
        } catch {
            return .unreachable("GET http://\(hostPart):\(port)\(path): \(Self.describe(error))")
        }
    }

    private func getThroughProxy(namespace: String, pod: String, port: Int, path: String) async -> PodHTTPResult {
        let kube = self.kube
        let outcome = await Self.withDeadline(seconds: timeout) {
            try await kube.podProxy(namespace: namespace, pod: pod, port: port, path: path)
        }
        switch outcome {
        case .none:
            return .unreachable("pod proxy \(namespace)/\(pod):\(port)\(path): timed out after \(timeout) s")
        case .some(.failure(let error)):
            return .unreachable("pod proxy \(namespace)/\(pod):\(port)\(path): \(Self.describe(error))")
        case .some(.success(let response)):
            if response.body.count > Self.maxBodyBytes {
                return .unreachable("answer from pod \(pod)\(path) exceeds \(Self.maxBodyBytes) bytes")
            }
            // The API server's own errors (pod gone, no IP, dial failure) come as a Status object; a runtime
            // never answers with one.
            if response.status >= 400, let status = Self.apiServerStatus(response.body) {
                return .unreachable("pod proxy: HTTP \(response.status): \(status.message)")
            }
            return .ok(status: response.status, body: response.body)
        }
    }

    /// A Kubernetes `Status` object in `body`, if that is what it is.
    static func apiServerStatus(_ body: [UInt8]) -> APIStatus? {
        guard body.first == UInt8(ascii: "{"), let json = try? JSONValue.parse(body), json["kind"] == "Status"
        else { return nil }
        return APIStatus(json: json)
    }

    /// Runs `operation` for at most `seconds`; nil when the time ran out (the operation is then cancelled).
    static func withDeadline<T: Sendable>(
        seconds: Double, _ operation: @escaping @Sendable () async throws -> T
    ) async -> Result<T, any Error>? {
        await withTaskGroup(of: Result<T, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await operation()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// A short, single-line description of a transport error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connect timeout"
            case .readTimeout, .deadlineExceeded: return "timed out"
            case .alreadyShutdown: return "client shut down"
            default: break
            }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }
}
