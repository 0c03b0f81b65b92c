import Foundation
import KubeCore
import Testing

@testable import KubeClient

@Suite("KubeClientTests.Config")
struct ConfigTests {
    static let caPEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    static var caB64: String { Data(caPEM.utf8).base64EncodedString() }

    static func kubeconfig(server: String = "https://127.0.0.1:6443", user: String, namespace: String = "team-a") -> String {
        """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: c1
          cluster:
            server: \(server)
            certificate-authority-data: \(caB64)
            tls-server-name: kube.local
        contexts:
        - name: dev
          context: {cluster: c1, user: u1, namespace: \(namespace)}
        users:
        - name: u1
          user:
        \(user)
        """
    }

    @Test func tokenUserAndContextNamespace() async throws {
        let dir = try TempDir()
        let path = try dir.write("config", Self.kubeconfig(user: "    token: abc"))
        let config = try ClientConfiguration.fromKubeconfig(paths: [path])
        #expect(config.server == "https://127.0.0.1:6443")
        #expect(config.namespace == "team-a")
        #expect(config.tls.certificateAuthorityPEM == Array(Self.caPEM.utf8))
        #expect(config.tls.serverName == "kube.local")
        #expect(config.credentials == .token("abc"))

        let t = ScriptedTransport().expect("GET /api/v1/namespaces/team-a/configmaps/x", respond: #"{"metadata":{"name":"x"}}"#) { r in
            #expect(r.header("Authorization") == "Bearer abc")
        }
        let client = try KubernetesClient(configuration: config, transport: t, clock: ManualClock(advancesOnSleep: true))
        _ = try await client.resources(ConfigMap.self).get("x")
    }

    @Test func credentialsAreNotSentOverHTTP() async throws {
        let dir = try TempDir()
        let path = try dir.write("config", Self.kubeconfig(server: "http://127.0.0.1:8080", user: "    token: abc"))
        let config = try ClientConfiguration.fromKubeconfig(paths: [path])
        #expect(config.credentials == .none)
        let t = ScriptedTransport().expect("GET /api/v1/namespaces/team-a/configmaps/x", respond: #"{"metadata":{"name":"x"}}"#) { r in
            #expect(r.header("Authorization") == nil)
        }
        let client = try KubernetesClient(
            configuration: config, transport: t, credentials: StaticCredentials(bearerToken: "zzz"),
            clock: ManualClock(advancesOnSleep: true))
        _ = try await client.resources(ConfigMap.self).get("x")
    }

    @Test func clientCertificateFilesAndData() throws {
        let dir = try TempDir()
        try dir.write("client.crt", "CERT")
        try dir.write("client.key", "KEY")
        try dir.write("ca.crt", "CA")
        let files = try dir.write(
            "files",
            """
            clusters:
            - name: c
              cluster: {server: "https://h:1", certificate-authority: ca.crt, insecure-skip-tls-verify: true}
            users:
            - name: u
              user: {client-certificate: client.crt, client-key: client.key}
            contexts:
            - name: x
              context: {cluster: c, user: u}
            current-context: x
            """)
        let a = try ClientConfiguration.fromKubeconfig(paths: [files])
        #expect(a.tls.certificateAuthorityPEM == Array("CA".utf8))
        #expect(a.tls.clientCertificatePEM == Array("CERT".utf8))
        #expect(a.tls.clientKeyPEM == Array("KEY".utf8))
        #expect(a.tls.insecureSkipTLSVerify)
        #expect(a.namespace == "default")

        let data = try dir.write(
            "data",
            Self.kubeconfig(
                user: "    client-certificate-data: \(Data("C2".utf8).base64EncodedString())\n"
                    + "    client-key-data: \(Data("K2".utf8).base64EncodedString())"))
        let b = try ClientConfiguration.fromKubeconfig(paths: [data])
        #expect(b.tls.clientCertificatePEM == Array("C2".utf8))
        #expect(b.tls.clientKeyPEM == Array("K2".utf8))
    }

    @Test func severalFilesMergeFirstWins() throws {
        let dir = try TempDir()
        let first = try dir.write(
            "a",
            """
            current-context: ctx-a
            clusters:
            - name: shared
              cluster: {server: "https://first:1"}
            users:
            - name: u
              user: {token: from-a}
            contexts:
            - name: ctx-a
              context: {cluster: shared, user: u, namespace: ns-a}
            """)
        let second = try dir.write(
            "b",
            """
            current-context: ctx-b
            clusters:
            - name: shared
              cluster: {server: "https://second:1"}
            - name: only-b
              cluster: {server: "https://b:1"}
            users:
            - name: u
              user: {token: from-b}
            contexts:
            - name: ctx-b
              context: {cluster: only-b, user: u}
            """)
        let env = ["KUBECONFIG": "\(first):\(dir.path)/missing:\(second)"]
        let a = try ClientConfiguration.load(environment: env)
        #expect(a.server == "https://first:1")
        #expect(a.credentials == .token("from-a"))
        #expect(a.namespace == "ns-a")
        let b = try ClientConfiguration.load(context: "ctx-b", environment: env)
        #expect(b.server == "https://b:1")
        #expect(b.credentials == .token("from-a"))
    }

    @Test(
        "malformed kubeconfig messages",
        arguments: [
            (
                "users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: x}\n",
                "users[0].user.exec.interactiveMode: required for client.authentication.k8s.io/v1"
            ),
            (
                "users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v9, command: x, interactiveMode: Never}\n",
                "users[0].user.exec.apiVersion: unsupported exec apiVersion"
            ),
            ("clusters:\n- name: c\n  cluster: {server: x, certificate-authority-data: '%%%'}\n", "clusters[0].cluster.certificate-authority-data: invalid base64 data"),
            ("clusters: {a: b}\n", "clusters: expected a list, got a mapping"),
            ("contexts:\n- context: {cluster: c}\n", "contexts[0].name: required"),
            ("clusters:\n- name: c\n  cluster: {insecure-skip-tls-verify: maybe}\n", "clusters[0].cluster.insecure-skip-tls-verify: expected true or false"),
            ("- just\n- a list\n", "expected a mapping, got a list"),
            ("a: [b\n", "invalid YAML"),
        ] as [(String, String)])
    func malformed(yaml: String, expected: String) throws {
        let dir = try TempDir()
        let path = try dir.write("config", yaml)
        do {
            _ = try KubeConfig.load(paths: [path])
            Issue.record("no error")
        } catch let e as KubeConfigError {
            #expect(e.description.hasPrefix("kubeconfig \(path): "))
            #expect(e.description.contains(expected), "\(e)")
        }
    }

    @Test(
        "unresolvable contexts",
        arguments: [
            ("current-context: nope\n", "contexts: context \"nope\" not found"),
            ("contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n", "contexts[0].context.cluster: cluster \"c\" not found"),
            (
                "clusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
                "clusters[0].cluster.server: required"
            ),
        ] as [(String, String)])
    func unresolvable(yaml: String, expected: String) throws {
        let dir = try TempDir()
        let path = try dir.write("config", yaml)
        #expect(throws: KubeConfigError.self) { try ClientConfiguration.fromKubeconfig(paths: [path]) }
        do {
            _ = try ClientConfiguration.fromKubeconfig(paths: [path])
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test func inClusterFromDirectory() throws {
        let dir = try TempDir()
        try dir.write("token", "sa-token\n")
        try dir.write("ca.crt", "CA")
        try dir.write("namespace", "operators\n")
        let env = ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"]
        let c = try ClientConfiguration.inCluster(environment: env, serviceAccountDirectory: dir.path)
        #expect(c.server == "https://[fd00::1]:443")
        #expect(c.namespace == "operators")
        #expect(c.tls.certificateAuthorityPEM == Array("CA".utf8))
        #expect(c.credentials == .tokenFile(path: dir.path + "/token", initialToken: nil))
        #expect(throws: KubeConfigError.self) { try ClientConfiguration.inCluster(environment: [:], serviceAccountDirectory: dir.path) }
    }

    @Test func tokenFileRotationPeriodicAndOn401() async throws {
        let dir = try TempDir()
        let tokenPath = try dir.write("token", "t1")
        let clock = ManualClock(advancesOnSleep: true)
        let t = ScriptedTransport()
        func expectToken(_ token: String, status: Int = 200) {
            t.expect("GET /api/v1/namespaces/default/pods/p", status: status, respond: status == 200 ? "{}" : "Unauthorized") { r in
                #expect(r.header("Authorization") == "Bearer \(token)")
            }
        }
        expectToken("t1")
        expectToken("t1")  // changed on disk, but within the minute
        expectToken("t2")  // after a minute: re-read
        expectToken("t2", status: 401)  // rotated again; the 401 makes the client re-read at once
        expectToken("t3")
        let client = try makeClient(t, credentials: .tokenFile(path: tokenPath, initialToken: nil), clock: clock)
        let pods = client.resources(Pod.self)
        _ = try await pods.get("p")
        try dir.write("token", "t2")
        clock.advance(by: 30)
        _ = try await pods.get("p")
        clock.advance(by: 31)
        _ = try await pods.get("p")
        try dir.write("token", "t3")
        _ = try await pods.get("p")
        #expect(t.remaining == 0)
    }

    @Test func initialTokenWinsThenFileIsUsed() async throws {
        let dir = try TempDir()
        let tokenPath = try dir.write("token", "from-file")
        let clock = ManualClock(advancesOnSleep: true)
        let provider = TokenFileCredentials(path: tokenPath, initialToken: "inline", refreshInterval: 60, clock: clock)
        #expect(try await provider.authorization() == "Bearer inline")
        clock.advance(by: 61)
        #expect(try await provider.authorization() == "Bearer from-file")
    }

    /// A plugin that counts its runs; the first credential expires at `firstExpiry`, later ones in 2030.
    @discardableResult
    static func execScript(_ dir: TempDir, firstExpiry: String) throws -> String {
        try dir.write(
            "plugin.sh",
            """
            #!/bin/sh
            n=$(cat "\(dir.path)/count" 2>/dev/null || echo 0)
            n=$((n+1))
            echo $n > "\(dir.path)/count"
            printf '%s' "$KUBERNETES_EXEC_INFO" > "\(dir.path)/info"
            printf '%s' "$PLUGIN_ARG1 $1" > "\(dir.path)/args"
            exp=2030-01-01T00:00:00Z
            if [ $n = 1 ]; then exp=\(firstExpiry); fi
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-'$n'","expirationTimestamp":"'$exp'"}}'
            """, executable: true)
    }

    @Test func execPluginCachesUntilExpiryAndRerunsOn401() async throws {
        let dir = try TempDir()
        try Self.execScript(dir, firstExpiry: "2027-01-15T09:00:00Z")
        let path = try dir.write(
            "config",
            Self.kubeconfig(
                user: """
                        exec:
                          apiVersion: client.authentication.k8s.io/v1
                          command: ./plugin.sh
                          args: [hello]
                          env: [{name: PLUGIN_ARG1, value: from-env}]
                          interactiveMode: Never
                          provideClusterInfo: true
                    """))
        let config = try ClientConfiguration.fromKubeconfig(paths: [path])
        // 2027-01-15T08:00:00Z: an hour before expiry.
        let clock = ManualClock(advancesOnSleep: true)
        let t = ScriptedTransport()
        for (token, status) in [("tok-1", 200), ("tok-1", 200), ("tok-2", 200), ("tok-2", 401), ("tok-3", 200)] {
            t.expect("GET /api/v1/namespaces/team-a/pods/p", status: status, respond: status == 200 ? "{}" : "Unauthorized") { r in
                #expect(r.header("Authorization") == "Bearer \(token)")
            }
        }
        let client = try KubernetesClient(configuration: config, transport: t, clock: clock)
        let pods = client.resources(Pod.self)
        _ = try await pods.get("p")
        _ = try await pods.get("p")
        #expect(dir.read("count")?.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        clock.advance(by: 3601)  // past expirationTimestamp
        _ = try await pods.get("p")
        _ = try await pods.get("p")  // 401 -> re-run -> tok-3
        #expect(dir.read("count")?.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
        #expect(dir.read("args") == "from-env hello")
        let info = try JSONValue.parse(dir.read("info") ?? "")
        #expect(info["kind"] == "ExecCredential")
        #expect(info[path: ["spec", "interactive"]] == false)
        #expect(info[path: ["spec", "cluster", "server"]] == "https://127.0.0.1:6443")
        #expect(info[path: ["spec", "cluster", "certificate-authority-data"]]?.stringValue == Self.caB64)
        #expect(t.remaining == 0)
    }

    @Test func execPluginFailuresAreClear() async throws {
        let dir = try TempDir()
        let bad = try dir.write("bad.sh", "#!/bin/sh\necho oops >&2\nexit 3\n", executable: true)
        let cfg = KubeConfig.ExecConfig(
            apiVersion: "client.authentication.k8s.io/v1", command: bad, args: [], env: [], provideClusterInfo: false,
            interactiveMode: "Never", installHint: nil)
        let p = ExecCredentials(config: cfg, cluster: nil, clock: ManualClock(advancesOnSleep: true))
        do {
            _ = try await p.authorization()
            Issue.record("no error")
        } catch let e as KubeCredentialError {
            #expect(e.message.contains("exited with status 3: oops"))
        }
        let garbage = try dir.write("garbage.sh", "#!/bin/sh\necho '{\"kind\":\"Other\"}'\n", executable: true)
        var cfg2 = cfg
        cfg2.command = garbage
        let p2 = ExecCredentials(config: cfg2, cluster: nil, clock: ManualClock(advancesOnSleep: true))
        await #expect(throws: KubeCredentialError.self) { _ = try await p2.authorization() }
    }
}
