import Foundation
import KubeCore
import Testing

@testable import KubeClient

/// A transport that checks each request against a script and answers with the scripted response.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    // Safety: all mutable state is guarded by `lock`.
    struct Step {
        var request: String
        var contentType: String?
        var body: String?
        var status: Int
        var headers: [(String, String)]
        var chunks: [[UInt8]]
        var check: (@Sendable (APIRequest) -> Void)?
    }

    private let lock = NSLock()
    private var steps: [Step] = []
    private(set) var requests: [APIRequest] = []

    @discardableResult
    func expect(
        _ request: String, contentType: String? = nil, body: String? = nil, status: Int = 200,
        headers: [(String, String)] = [], respond: String = "{}", chunks: [String]? = nil,
        check: (@Sendable (APIRequest) -> Void)? = nil
    ) -> Self {
        let c = chunks.map { $0.map { Array($0.utf8) } } ?? [Array(respond.utf8)]
        lock.withLock {
            steps.append(
                Step(
                    request: request, contentType: contentType, body: body, status: status, headers: headers, chunks: c,
                    check: check))
        }
        return self
    }

    var remaining: Int { lock.withLock { steps.count } }
    var sent: [APIRequest] { lock.withLock { requests } }

    func send(_ request: APIRequest, timeout: Double?) async throws -> HTTPResponse {
        let step: Step? = lock.withLock {
            requests.append(request)
            return steps.isEmpty ? nil : steps.removeFirst()
        }
        guard let step else {
            Issue.record("unexpected request \(request)")
            throw KubeTransportError(.connection, "no scripted response for \(request)")
        }
        #expect(request.description == step.request)
        if let ct = step.contentType { #expect(request.contentType == ct, "\(request)") }
        if let body = step.body { #expect(request.bodyText == body, "\(request)") }
        #expect((timeout == nil) == request.isStreaming)
        step.check?(request)
        return HTTPResponse(status: step.status, headers: step.headers, body: .chunks(step.chunks))
    }
}

/// A temporary directory removed at deinit.
final class TempDir: @unchecked Sendable {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "kubeclient-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let p = (path as NSString).appendingPathComponent(name)
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: p) }
        return p
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: (path as NSString).appendingPathComponent(name))
            .map { String(decoding: $0, as: UTF8.self) }
    }
}

func makeClient(
    _ transport: ScriptedTransport, server: String = "https://127.0.0.1:6443", credentials: CredentialSource = .none,
    namespace: String = "default", clock: ManualClock = ManualClock(advancesOnSleep: true), provider: (any CredentialProvider)? = nil,
    maxRetries: Int = 10
) throws -> KubernetesClient {
    var config = ClientConfiguration(server: server, namespace: namespace, credentials: credentials)
    config.maxRetries = maxRetries
    return try KubernetesClient(configuration: config, transport: transport, credentials: provider, clock: clock)
}
