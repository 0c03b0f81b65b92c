import Foundation
import KubeCore

/// Information handed to an exec plugin in `KUBERNETES_EXEC_INFO` when `provideClusterInfo` is set.
public struct ExecClusterInfo: Sendable, Hashable {
    public var server: String
    public var certificateAuthorityData: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    public var tlsServerName: String?

    public init(
        server: String, certificateAuthorityData: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false,
        tlsServerName: String? = nil
    ) {
        self.server = server
        self.certificateAuthorityData = certificateAuthorityData
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
    }
}

/// Where the bearer credential comes from.
public enum CredentialSource: Sendable, Hashable {
    case none
    /// A fixed bearer token.
    case token(String)
    /// A token file re-read at least every minute and after a 401; `initialToken` (kubeconfig `token`) is used
    /// first when both are set.
    case tokenFile(path: String, initialToken: String?)
    /// An exec credential plugin.
    case exec(KubeConfig.ExecConfig, cluster: ExecClusterInfo?)
    /// HTTP basic authentication.
    case basic(username: String, password: String)
}

/// Everything needed to talk to one API server: where, TLS, credentials, namespace and client behaviour.
public struct ClientConfiguration: Sendable {
    /// `https://host:port`, optionally with a path prefix.
    public var server: String
    /// The default namespace (context namespace, in-cluster namespace file, else `default`).
    public var namespace: String
    public var tls: TLSOptions
    public var credentials: CredentialSource
    /// Client-side rate limit: sustained requests per second.
    public var qps: Double
    public var burst: Int
    /// Timeout of a non-streaming request, in seconds.
    public var requestTimeout: Double
    /// Retries on 429 and on 5xx with Retry-After.
    public var maxRetries: Int
    /// The longest single wait between retries, in seconds (a larger Retry-After is capped).
    public var maxRetryWait: Double
    public var userAgent: String
    /// How often a token file is re-read, in seconds.
    public var tokenFileRefreshInterval: Double

    public init(
        server: String, namespace: String = "default", tls: TLSOptions = TLSOptions(),
        credentials: CredentialSource = .none, qps: Double = 50, burst: Int = 100, requestTimeout: Double = 30,
        maxRetries: Int = 10, maxRetryWait: Double = 30, userAgent: String = "modelrollout/0.1",
        tokenFileRefreshInterval: Double = 60
    ) {
        self.server = server
        self.namespace = namespace
        self.tls = tls
        self.credentials = credentials
        self.qps = qps
        self.burst = burst
        self.requestTimeout = requestTimeout
        self.maxRetries = maxRetries
        self.maxRetryWait = maxRetryWait
        self.userAgent = userAgent
        self.tokenFileRefreshInterval = tokenFileRefreshInterval
    }

    /// Whether the server URL is https: credentials are only sent then (as client-go does).
    public var isSecure: Bool { server.lowercased().hasPrefix("https://") }

    // MARK: - Loading

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// `$KUBECONFIG` (several files separated by `:`), else `~/.kube/config`, else in-cluster configuration.
    public static func load(
        context: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ClientConfiguration {
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return try fromKubeconfig(paths: list.split(separator: ":").map(String.init), context: context)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let defaultPath = "\(home)/.kube/config"
        if FileManager.default.fileExists(atPath: defaultPath) {
            return try fromKubeconfig(paths: [defaultPath], context: context)
        }
        return try inCluster(environment: environment)
    }

    /// Loads and merges kubeconfig files and resolves one context (default: `current-context`).
    public static func fromKubeconfig(paths: [String], context: String? = nil) throws -> ClientConfiguration {
        try fromKubeconfig(KubeConfig.load(paths: paths), context: context)
    }

    /// Resolves one context of a parsed kubeconfig.
    public static func fromKubeconfig(_ config: KubeConfig, context: String? = nil) throws -> ClientConfiguration {
        let file = config.files.first
        guard let contextName = context ?? config.currentContext, !contextName.isEmpty else {
            throw KubeConfigError(file: file, field: "current-context", message: "not set and no context given")
        }
        guard let ctx = config.contexts[contextName] else {
            throw KubeConfigError(file: file, field: "contexts", message: "context \"\(contextName)\" not found")
        }
        let ctxField = "contexts[\(ctx.index)].context"
        guard let cluster = config.clusters[ctx.cluster] else {
            throw KubeConfigError(
                file: ctx.file, field: "\(ctxField).cluster", message: "cluster \"\(ctx.cluster)\" not found")
        }
        let clusterField = "clusters[\(cluster.index)].cluster"
        guard let server = cluster.server, !server.isEmpty else {
            throw KubeConfigError(file: cluster.file, field: "\(clusterField).server", message: "required")
        }
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw KubeConfigError(
                file: cluster.file, field: "\(clusterField).server", message: "must be an http(s) URL, got \"\(server)\"")
        }
        var tls = TLSOptions(insecureSkipTLSVerify: cluster.insecureSkipTLSVerify, serverName: cluster.tlsServerName)
        if let data = cluster.certificateAuthorityData {
            tls.certificateAuthorityPEM = data
        } else if let path = cluster.certificateAuthority {
            tls.certificateAuthorityPEM = try readFile(
                path, file: cluster.file, field: "\(clusterField).certificate-authority")
        }
        var credentials = CredentialSource.none
        if let userName = ctx.user, !userName.isEmpty {
            guard let user = config.users[userName] else {
                throw KubeConfigError(file: ctx.file, field: "\(ctxField).user", message: "user \"\(userName)\" not found")
            }
            let userField = "users[\(user.index)].user"
            if let data = user.clientCertificateData {
                tls.clientCertificatePEM = data
            } else if let path = user.clientCertificate {
                tls.clientCertificatePEM = try readFile(path, file: user.file, field: "\(userField).client-certificate")
            }
            if let data = user.clientKeyData {
                tls.clientKeyPEM = data
            } else if let path = user.clientKey {
                tls.clientKeyPEM = try readFile(path, file: user.file, field: "\(userField).client-key")
            }
            if (tls.clientCertificatePEM == nil) != (tls.clientKeyPEM == nil) {
                throw KubeConfigError(
                    file: user.file, field: userField,
                    message: "client-certificate and client-key must be given together")
            }
            if let exec = user.exec {
                let info = ExecClusterInfo(
                    server: server, certificateAuthorityData: tls.certificateAuthorityPEM,
                    insecureSkipTLSVerify: cluster.insecureSkipTLSVerify, tlsServerName: cluster.tlsServerName)
                credentials = .exec(exec, cluster: exec.provideClusterInfo ? info : nil)
            } else if let tokenFile = user.tokenFile {
                credentials = .tokenFile(path: tokenFile, initialToken: user.token)
            } else if let token = user.token, !token.isEmpty {
                credentials = .token(token)
            } else if let username = user.username, let password = user.password {
                credentials = .basic(username: username, password: password)
            }
        }
        // Credentials are only used over https, like client-go.
        if !server.lowercased().hasPrefix("https://") {
            credentials = .none
            tls.clientCertificatePEM = nil
            tls.clientKeyPEM = nil
        }
        let namespace = (ctx.namespace?.isEmpty ?? true) ? "default" : ctx.namespace ?? "default"
        return ClientConfiguration(server: server, namespace: namespace, tls: tls, credentials: credentials)
    }

    /// The in-cluster configuration: `KUBERNETES_SERVICE_HOST`/`PORT` and the service-account directory
    /// (`token`, `ca.crt`, `namespace`). The token file is re-read at least every minute.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = ClientConfiguration.serviceAccountDirectory
    ) throws -> ClientConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw KubeConfigError(
                file: nil, field: nil,
                message: "no kubeconfig found and not in a cluster (KUBERNETES_SERVICE_HOST/PORT unset)")
        }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let tokenPath = (serviceAccountDirectory as NSString).appendingPathComponent("token")
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeConfigError(file: tokenPath, field: nil, message: "service-account token not readable")
        }
        var tls = TLSOptions()
        let caPath = (serviceAccountDirectory as NSString).appendingPathComponent("ca.crt")
        if let ca = FileManager.default.contents(atPath: caPath) { tls.certificateAuthorityPEM = Array(ca) }
        let nsPath = (serviceAccountDirectory as NSString).appendingPathComponent("namespace")
        var namespace = "default"
        if let data = FileManager.default.contents(atPath: nsPath) {
            let ns = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !ns.isEmpty { namespace = ns }
        }
        return ClientConfiguration(
            server: "https://\(hostPart):\(port)", namespace: namespace, tls: tls,
            credentials: .tokenFile(path: tokenPath, initialToken: nil))
    }

    static func readFile(_ path: String, file: String, field: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeConfigError(file: file, field: field, message: "cannot read \(path)")
        }
        return Array(data)
    }
}
