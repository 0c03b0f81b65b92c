import Foundation
import KubeCore

/// Supplies the `Authorization` header value and refreshes it after a 401.
public protocol CredentialProvider: Sendable {
    /// The header value (`Bearer …`), or `nil` for none.
    func authorization() async throws -> String?
    /// Called after a 401: the next `authorization()` must fetch a fresh credential.
    func invalidate() async
}

/// A fixed header value.
public struct StaticCredentials: CredentialProvider {
    let value: String?
    public init(bearerToken: String) { value = "Bearer \(bearerToken)" }
    public init(username: String, password: String) {
        value = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
    public func authorization() async throws -> String? { value }
    public func invalidate() async {}
}

/// A bearer token read from a file, re-read every `refreshInterval` seconds and after a 401 (projected
/// service-account tokens rotate).
public actor TokenFileCredentials: CredentialProvider {
    public let path: String
    private let refreshInterval: Double
    private let clock: any KubeClock
    private var token: String?
    private var readAt: Date?

    public init(path: String, initialToken: String? = nil, refreshInterval: Double = 60, clock: any KubeClock) {
        self.path = path
        self.refreshInterval = refreshInterval
        self.clock = clock
        if let initialToken, !initialToken.isEmpty {
            token = initialToken
            readAt = clock.now()
        }
    }

    public func authorization() async throws -> String? {
        let now = clock.now()
        if let token, let readAt, now.timeIntervalSince(readAt) < refreshInterval { return "Bearer \(token)" }
        guard let data = FileManager.default.contents(atPath: path) else {
            // Keep using the old token if the file is briefly missing during rotation.
            if let token { return "Bearer \(token)" }
            throw KubeCredentialError("cannot read token file \(path)")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            if let token { return "Bearer \(token)" }
            throw KubeCredentialError("token file \(path) is empty")
        }
        token = text
        readAt = now
        return "Bearer \(text)"
    }

    public func invalidate() async { readAt = nil }
}

/// Runs an exec credential plugin (client.authentication.k8s.io/v1 or v1beta1) and caches its token until
/// `expirationTimestamp` or a 401.
public actor ExecCredentials: CredentialProvider {
    public let config: KubeConfig.ExecConfig
    private let cluster: ExecClusterInfo?
    private let clock: any KubeClock
    private var token: String?
    private var expiry: Date?

    public init(config: KubeConfig.ExecConfig, cluster: ExecClusterInfo?, clock: any KubeClock) {
        self.config = config
        self.cluster = cluster
        self.clock = clock
    }

    public func authorization() async throws -> String? {
        if let token, expiry.map({ clock.now() < $0 }) ?? true { return "Bearer \(token)" }
        let output = try await runPlugin()
        let (newToken, newExpiry) = try parse(output)
        token = newToken
        expiry = newExpiry
        return "Bearer \(newToken)"
    }

    public func invalidate() async {
        token = nil
        expiry = nil
    }

    /// The `KUBERNETES_EXEC_INFO` document.
    var execInfo: String {
        var spec: [String: JSONValue] = ["interactive": false]
        if let cluster {
            var c: [String: JSONValue] = ["server": .string(cluster.server), "config": .null]
            if let ca = cluster.certificateAuthorityData {
                c["certificate-authority-data"] = .string(Data(ca).base64EncodedString())
            }
            if cluster.insecureSkipTLSVerify { c["insecure-skip-tls-verify"] = true }
            if let name = cluster.tlsServerName { c["tls-server-name"] = .string(name) }
            spec["cluster"] = .object(c)
        }
        let doc: JSONValue = [
            "kind": "ExecCredential", "apiVersion": .string(config.apiVersion), "spec": .object(spec),
        ]
        return doc.serialized()
    }

    func parse(_ output: [UInt8]) throws -> (String, Date?) {
        let what = "exec plugin \(config.command)"
        guard let json = try? JSONValue.parse(output) else {
            throw KubeCredentialError("\(what) printed invalid JSON")
        }
        guard json["kind"]?.stringValue == "ExecCredential" else {
            throw KubeCredentialError("\(what) printed kind \(json["kind"]?.description ?? "none"), want ExecCredential")
        }
        if let v = json["apiVersion"]?.stringValue, v != config.apiVersion {
            throw KubeCredentialError("\(what) printed apiVersion \(v), want \(config.apiVersion)")
        }
        guard let status = json["status"] else { throw KubeCredentialError("\(what) printed no status") }
        var expiry: Date?
        if let text = status["expirationTimestamp"]?.stringValue {
            guard let date = KubeTime.parse(text) else {
                throw KubeCredentialError("\(what) printed an invalid expirationTimestamp \"\(text)\"")
            }
            expiry = date
        }
        if let token = status["token"]?.stringValue, !token.isEmpty { return (token, expiry) }
        if status["clientCertificateData"] != nil {
            throw KubeCredentialError("\(what) returned a client certificate; only tokens are supported")
        }
        throw KubeCredentialError("\(what) printed no status.token")
    }

    func runPlugin() async throws -> [UInt8] {
        var environment = ProcessInfo.processInfo.environment
        for e in config.env { environment[e.name] = e.value }
        environment["KUBERNETES_EXEC_INFO"] = execInfo
        let processEnvironment = environment
        let command = config.command
        let args = config.args
        let hint = config.installHint
        return try await withCheckedThrowingContinuation { continuation in
            // Blocking reads happen off the cooperative pool.
            DispatchQueue.global().async {
                let process = Process()
                if command.contains("/") {
                    process.executableURL = URL(fileURLWithPath: command)
                    process.arguments = args
                } else {
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                    process.arguments = [command] + args
                }
                process.environment = processEnvironment
                let stdout = Pipe()
                let stderr = Pipe()
                process.standardOutput = stdout
                process.standardError = stderr
                process.standardInput = FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    let message = "exec plugin \(command) could not be started: \(error)" + (hint.map { ". \($0)" } ?? "")
                    continuation.resume(throwing: KubeCredentialError(message))
                    return
                }
                let out = stdout.fileHandleForReading.readDataToEndOfFile()
                let err = stderr.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                if process.terminationStatus != 0 {
                    let text = String(decoding: err.prefix(2048), as: UTF8.self)
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                    continuation.resume(
                        throwing: KubeCredentialError(
                            "exec plugin \(command) exited with status \(process.terminationStatus): \(text)"))
                    return
                }
                continuation.resume(returning: Array(out))
            }
        }
    }
}

extension ClientConfiguration {
    /// The provider for this configuration's credentials (`nil` when none or when the server is not https).
    public func makeCredentialProvider(clock: any KubeClock = SystemClock()) -> (any CredentialProvider)? {
        guard isSecure else { return nil }
        switch credentials {
        case .none: return nil
        case .token(let t): return StaticCredentials(bearerToken: t)
        case .basic(let u, let p): return StaticCredentials(username: u, password: p)
        case .tokenFile(let path, let initial):
            return TokenFileCredentials(
                path: path, initialToken: initial, refreshInterval: tokenFileRefreshInterval, clock: clock)
        case .exec(let exec, let cluster): return ExecCredentials(config: exec, cluster: cluster, clock: clock)
        }
    }
}
