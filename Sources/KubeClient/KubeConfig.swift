import Foundation
import KubeCore
import Yams

/// A parsed kubeconfig (`~/.kube/config`), possibly merged from several files as `$KUBECONFIG` lists them.
///
/// Paths inside (certificate-authority, client-certificate/-key, tokenFile, a relative exec command) are made
/// absolute against the directory of the file that defines them, as client-go does.
public struct KubeConfig: Sendable, Hashable {
    /// `clusters[].cluster`.
    public struct Cluster: Sendable, Hashable {
        public var name: String
        public var server: String?
        public var certificateAuthority: String?
        public var certificateAuthorityData: [UInt8]?
        public var insecureSkipTLSVerify: Bool
        public var tlsServerName: String?
        /// Where it was defined, for error messages (`clusters[1]` in `file`).
        public var file: String
        public var index: Int
    }

    /// `users[].user.exec`: a client.authentication.k8s.io credential plugin.
    public struct ExecConfig: Sendable, Hashable {
        public var apiVersion: String
        public var command: String
        public var args: [String]
        public var env: [EnvVar]
        public var provideClusterInfo: Bool
        /// `Never`, `IfAvailable` or `Always`.
        public var interactiveMode: String?
        public var installHint: String?

        /// One `env` entry.
        public struct EnvVar: Sendable, Hashable {
            public var name: String
            public var value: String
        }
    }

    /// `users[].user`.
    public struct User: Sendable, Hashable {
        public var name: String
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: [UInt8]?
        public var clientKey: String?
        public var clientKeyData: [UInt8]?
        public var exec: ExecConfig?
        public var username: String?
        public var password: String?
        public var file: String
        public var index: Int
    }

    /// `contexts[].context`.
    public struct Context: Sendable, Hashable {
        public var name: String
        public var cluster: String
        public var user: String?
        public var namespace: String?
        public var file: String
        public var index: Int
    }

    public var clusters: [String: Cluster] = [:]
    public var users: [String: User] = [:]
    public var contexts: [String: Context] = [:]
    public var currentContext: String?
    /// The files read, in order.
    public var files: [String] = []

    public init() {}

    /// Reads and merges the files; for each cluster, user and context name (and `current-context`) the first
    /// file that defines it wins. Missing files are skipped, like client-go; at least one must exist.
    public static func load(paths: [String]) throws -> KubeConfig {
        var merged = KubeConfig()
        for path in paths where !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KubeConfigError(file: path, field: nil, message: "cannot read the file")
            }
            let one = try parse(yaml: String(decoding: data, as: UTF8.self), file: path)
            merged.files.append(path)
            if merged.currentContext == nil || merged.currentContext == "" { merged.currentContext = one.currentContext }
            for (k, v) in one.clusters where merged.clusters[k] == nil { merged.clusters[k] = v }
            for (k, v) in one.users where merged.users[k] == nil { merged.users[k] = v }
            for (k, v) in one.contexts where merged.contexts[k] == nil { merged.contexts[k] = v }
        }
        if merged.files.isEmpty {
            throw KubeConfigError(
                file: paths.joined(separator: ":"), field: nil, message: "no kubeconfig file found")
        }
        return merged
    }

    /// Parses one kubeconfig document; errors name `file` and the field.
    public static func parse(yaml: String, file: String) throws -> KubeConfig {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: yaml)
        } catch {
            throw KubeConfigError(file: file, field: nil, message: "invalid YAML: \(error)")
        }
        var config = KubeConfig()
        config.files = [file]
        guard let loaded, !(loaded is NSNull) else { return config }
        let baseDir = (file as NSString).deletingLastPathComponent
        let r = Reader(file: file, baseDir: baseDir)
        let top = try r.mapping(loaded, "")
        config.currentContext = try r.string(top["current-context"], "current-context")
        for (i, item) in try r.list(top["clusters"], "clusters").enumerated() {
            let path = "clusters[\(i)]"
            let entry = try r.mapping(item, path)
            let name = try r.requiredString(entry["name"], "\(path).name")
            let c = try r.mapping(entry["cluster"] ?? [String: Any](), "\(path).cluster")
            let cluster = Cluster(
                name: name, server: try r.string(c["server"], "\(path).cluster.server"),
                certificateAuthority: try r.path(c["certificate-authority"], "\(path).cluster.certificate-authority"),
                certificateAuthorityData: try r.base64(
                    c["certificate-authority-data"], "\(path).cluster.certificate-authority-data"),
                insecureSkipTLSVerify: try r.bool(
                    c["insecure-skip-tls-verify"], "\(path).cluster.insecure-skip-tls-verify") ?? false,
                tlsServerName: try r.string(c["tls-server-name"], "\(path).cluster.tls-server-name"), file: file,
                index: i)
            if config.clusters[name] == nil { config.clusters[name] = cluster }
        }
        for (i, item) in try r.list(top["users"], "users").enumerated() {
            let path = "users[\(i)]"
            let entry = try r.mapping(item, path)
            let name = try r.requiredString(entry["name"], "\(path).name")
            let u = try r.mapping(entry["user"] ?? [String: Any](), "\(path).user")
            var exec: ExecConfig?
            if let e = u["exec"], !(e is NSNull) {
                exec = try r.exec(e, "\(path).user.exec")
            }
            let user = User(
                name: name, token: try r.string(u["token"], "\(path).user.token"),
                tokenFile: try r.path(u["tokenFile"], "\(path).user.tokenFile"),
                clientCertificate: try r.path(u["client-certificate"], "\(path).user.client-certificate"),
                clientCertificateData: try r.base64(u["client-certificate-data"], "\(path).user.client-certificate-data"),
                clientKey: try r.path(u["client-key"], "\(path).user.client-key"),
                clientKeyData: try r.base64(u["client-key-data"], "\(path).user.client-key-data"), exec: exec,
                username: try r.string(u["username"], "\(path).user.username"),
                password: try r.string(u["password"], "\(path).user.password"), file: file, index: i)
            if config.users[name] == nil { config.users[name] = user }
        }
        for (i, item) in try r.list(top["contexts"], "contexts").enumerated() {
            let path = "contexts[\(i)]"
            let entry = try r.mapping(item, path)
            let name = try r.requiredString(entry["name"], "\(path).name")
            let c = try r.mapping(entry["context"] ?? [String: Any](), "\(path).context")
            let context = Context(
                name: name, cluster: try r.requiredString(c["cluster"], "\(path).context.cluster"),
                user: try r.string(c["user"], "\(path).context.user"),
                namespace: try r.string(c["namespace"], "\(path).context.namespace"), file: file, index: i)
            if config.contexts[name] == nil { config.contexts[name] = context }
        }
        return config
    }
}

/// Typed access to the loosely typed YAML tree, producing `KubeConfigError`s that name the field.
private struct Reader {
    let file: String
    let baseDir: String

    func fail(_ field: String, _ message: String) -> KubeConfigError {
        KubeConfigError(file: file, field: field.isEmpty ? nil : field, message: message)
    }

    func typeName(_ v: Any) -> String {
        switch v {
        case is [String: Any], is [AnyHashable: Any]: return "a mapping"
        case is [Any]: return "a list"
        case is String: return "a string"
        case is Bool: return "a boolean"
        case is Int, is Double: return "a number"
        default: return "\(type(of: v))"
        }
    }

    func mapping(_ v: Any, _ field: String) throws -> [String: Any] {
        if let m = v as? [String: Any] { return m }
        if let m = v as? [AnyHashable: Any] {
            var out: [String: Any] = [:]
            for (k, value) in m { out["\(k)"] = value }
            return out
        }
        throw fail(field, "expected a mapping, got \(typeName(v))")
    }

    func list(_ v: Any?, _ field: String) throws -> [Any] {
        guard let v, !(v is NSNull) else { return [] }
        guard let l = v as? [Any] else { throw fail(field, "expected a list, got \(typeName(v))") }
        return l
    }

    func string(_ v: Any?, _ field: String) throws -> String? {
        guard let v, !(v is NSNull) else { return nil }
        switch v {
        case let s as String: return s
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return String(i)
        case let d as Double: return String(d)
        default: throw fail(field, "expected a string, got \(typeName(v))")
        }
    }

    func requiredString(_ v: Any?, _ field: String) throws -> String {
        guard let s = try string(v, field), !s.isEmpty else { throw fail(field, "required") }
        return s
    }

    func bool(_ v: Any?, _ field: String) throws -> Bool? {
        guard let v, !(v is NSNull) else { return nil }
        if let b = v as? Bool { return b }
        if let s = v as? String {
            switch s.lowercased() {
            case "true", "yes", "1": return true
            case "false", "no", "0": return false
            default: break
            }
        }
        throw fail(field, "expected true or false, got \(typeName(v))")
    }

    func path(_ v: Any?, _ field: String) throws -> String? {
        guard let s = try string(v, field), !s.isEmpty else { return nil }
        if s.hasPrefix("/") || baseDir.isEmpty { return s }
        if s.hasPrefix("~/") { return NSHomeDirectory() + String(s.dropFirst(1)) }
        return (baseDir as NSString).appendingPathComponent(s)
    }

    func base64(_ v: Any?, _ field: String) throws -> [UInt8]? {
        guard let s = try string(v, field), !s.isEmpty else { return nil }
        let cleaned = s.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: cleaned) else { throw fail(field, "invalid base64 data") }
        return Array(data)
    }

    static let execVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]

    func exec(_ v: Any, _ path: String) throws -> KubeConfig.ExecConfig {
        let e = try mapping(v, path)
        let apiVersion = try requiredString(e["apiVersion"], "\(path).apiVersion")
        guard Self.execVersions.contains(apiVersion) else {
            throw fail(
                "\(path).apiVersion",
                "unsupported exec apiVersion \"\(apiVersion)\" (want one of \(Self.execVersions.joined(separator: ", ")))")
        }
        var command = try requiredString(e["command"], "\(path).command")
        if command.contains("/"), !command.hasPrefix("/"), !baseDir.isEmpty {
            command = (baseDir as NSString).appendingPathComponent(command)
        }
        var args: [String] = []
        for (i, a) in try list(e["args"], "\(path).args").enumerated() {
            args.append(try string(a, "\(path).args[\(i)]") ?? "")
        }
        var env: [KubeConfig.ExecConfig.EnvVar] = []
        for (i, item) in try list(e["env"], "\(path).env").enumerated() {
            let m = try mapping(item, "\(path).env[\(i)]")
            env.append(
                .init(
                    name: try requiredString(m["name"], "\(path).env[\(i)].name"),
                    value: try string(m["value"], "\(path).env[\(i)].value") ?? ""))
        }
        let mode = try string(e["interactiveMode"], "\(path).interactiveMode")
        if let mode, !["Never", "IfAvailable", "Always"].contains(mode) {
            throw fail("\(path).interactiveMode", "invalid value \"\(mode)\" (want Never, IfAvailable or Always)")
        }
        if apiVersion == "client.authentication.k8s.io/v1", mode == nil || mode == "" {
            throw fail("\(path).interactiveMode", "required for client.authentication.k8s.io/v1")
        }
        return KubeConfig.ExecConfig(
            apiVersion: apiVersion, command: command, args: args, env: env,
            provideClusterInfo: try bool(e["provideClusterInfo"], "\(path).provideClusterInfo") ?? false,
            interactiveMode: mode, installHint: try string(e["installHint"], "\(path).installHint"))
    }
}
