import ClusterSim
import Foundation
import KubeCore
import Testing

@testable import KubeClient

/// The real client over HTTPS with bearer tokens against the emulated API server.
@Suite("KubeClientTests.EmulatorAuth")
struct EmulatorAuthTests {
    /// Starts a TLS server accepting `tokens`, runs `body`, stops it.
    static func withTLSServer<T: Sendable>(
        tokens: Set<String>, _ body: (APIServer, APIServer.BoundAddress) async throws -> T
    ) async throws -> T {
        let server = APIServer(configuration: APIServer.Configuration(tls: true, tokens: tokens))
        let address = try await server.start()
        do {
            let result = try await withTimeout(seconds: 20) { try await body(server, address) }
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// A client from the kubeconfig the server writes, loaded from a file through the kubeconfig loader.
    static func clientFromKubeconfig(_ server: APIServer, token: String) async throws -> KubernetesClient {
        let path = Emulator.temporaryPath("kubeconfig")
        try await server.kubeconfig(token: token, namespace: "llm-serving").write(
            toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try ClientConfiguration.fromKubeconfig(paths: [path])
        #expect(configuration.isSecure)
        #expect(configuration.namespace == "llm-serving")
        #expect(configuration.tls.certificateAuthorityPEM != nil)
        #expect(configuration.credentials == .token(token))
        return try KubernetesClient(configuration: configuration)
    }

    @Test func httpsWithKubeconfigTokenWorks() async throws {
        try await Self.withTLSServer(tokens: ["s3cret"]) { server, address in
            #expect(address.url.hasPrefix("https://127.0.0.1:"))
            let client = try await Self.clientFromKubeconfig(server, token: "s3cret")
            defer { Task { try? await client.shutdown() } }
            let api = client.resources(ConfigMap.self)
            let created = try await api.create(ConfigMap(metadata: ObjectMeta(name: "tls"), data: ["x": "y"]))
            #expect(created.metadata.namespace == "llm-serving")
            #expect(try await api.get("tls").data == ["x": "y"])
            let log = await server.requestLog()
            #expect(log.allSatisfy { $0.status < 400 })
        }
    }

    @Test func wrongTokenIsUnauthorized() async throws {
        try await Self.withTLSServer(tokens: ["s3cret"]) { server, _ in
            let client = try await Self.clientFromKubeconfig(server, token: "wrong")
            defer { Task { try? await client.shutdown() } }
            do {
                _ = try await client.resources(ConfigMap.self).list()
                Issue.record("listed with a wrong token")
            } catch let error as KubeAPIError {
                #expect(error.isUnauthorized)
                #expect(error.status.reason == "Unauthorized")
            }
            // One refresh attempt after the 401 (a static token cannot change), then the error.
            #expect(await server.requestLog().map(\.status) == [401, 401])
        }
    }

    @Test func plainClientWithoutCAFailsTLSVerification() async throws {
        try await Self.withTLSServer(tokens: ["s3cret"]) { _, address in
            let client = try KubernetesClient(
                configuration: ClientConfiguration(server: address.url, credentials: .token("s3cret"), requestTimeout: 1))
            defer { Task { try? await client.shutdown() } }
            do {
                _ = try await client.resources(ConfigMap.self).list()
                Issue.record("a server certificate from an unknown CA was accepted")
            } catch let error as KubeTransportError {
                #expect(error.kind == .tls || error.kind == .connection)
            }
        }
    }

    /// The server only accepts "new". The client first caches "old" from its token file (its requests fail even
    /// after one re-read); then the file is rotated to "new" while the cache still holds "old" (refresh interval
    /// 60 s): the next request is sent with "old", gets 401, re-reads the file and succeeds with "new".
    @Test func tokenFileIsReReadAfter401() async throws {
        try await Self.withTLSServer(tokens: ["new"]) { server, address in
            let tokenPath = Emulator.temporaryPath("token")
            try "old\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: tokenPath) }
            var tls = TLSOptions()
            tls.certificateAuthorityPEM = Array(try #require(await server.caPEM).utf8)
            let configuration = ClientConfiguration(
                server: address.url, tls: tls, credentials: .tokenFile(path: tokenPath, initialToken: nil),
                requestTimeout: 5, tokenFileRefreshInterval: 60)
            let client = try KubernetesClient(configuration: configuration)
            defer { Task { try? await client.shutdown() } }
            let api = client.resources(ConfigMap.self, namespace: "default")

            do {
                _ = try await api.list()
                Issue.record("the old token was accepted")
            } catch let error as KubeAPIError {
                #expect(error.isUnauthorized)
            }
            #expect(await server.requestLog().map(\.status) == [401, 401])

            try "new\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
            await server.clearRequestLog()
            let list = try await api.list()
            #expect(list.metadata.resourceVersion != nil)
            // First attempt still with the cached "old" (401), then the re-read "new" (200).
            #expect(await server.requestLog().map(\.status) == [401, 200])
            // From now on "new" is cached: one request, no 401.
            await server.clearRequestLog()
            _ = try await api.list()
            #expect(await server.requestLog().map(\.status) == [200])
        }
    }
}
