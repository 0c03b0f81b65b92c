import Foundation
import Testing

@testable import ClusterSim

/// Runs the real `kubectl` against the emulator; enabled with `CLUSTERSIM_KUBECTL=/path/to/kubectl`.
@Suite("APIServerKubectl", .enabled(if: ProcessInfo.processInfo.environment["CLUSTERSIM_KUBECTL"] != nil),
    .timeLimit(.minutes(2)))
struct APIServerKubectlTests {
    func kubectl(_ args: [String], kubeconfig: String, home: String, stdin: String? = nil) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["CLUSTERSIM_KUBECTL"] ?? "kubectl")
        p.arguments = ["--kubeconfig", kubeconfig] + args
        p.environment = ["HOME": home, "KUBECACHEDIR": home + "/cache", "PATH": "/usr/bin:/bin"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        let input = Pipe()
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func kubectlBasics() async throws {
        var config = APIServer.Configuration()
        config.tls = true
        config.tokens = ["tok"]
        let server = APIServer(configuration: config)
        _ = try await server.start()
        defer { Task { await server.stop() } }
        let home = NSTemporaryDirectory() + "kubectl-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let kc = home + "/config"
        try await server.kubeconfig().write(toFile: kc, atomically: true, encoding: .utf8)
        let crd = widgetCRD.serialized()
        let steps: [([String], String?)] = [
            (["get", "ns"], nil),
            (["apply", "-f", "-"], crd),
            (["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s"], nil),
            (["apply", "-f", "-"], widget("w1").serialized()),
            (["get", "widgets"], nil),
            (["patch", "widget", "w1", "--type=merge", "-p", "{\"spec\":{\"model\":\"m9\"}}"], nil),
            (["scale", "widget", "w1", "--replicas=3"], nil),
            (["apply", "-f", "-"], configMap("cm1").serialized()),
            (["apply", "-f", "-"], configMap("cm1", data: ["a": "2"]).serialized()),
            (["apply", "--server-side", "-f", "-"], configMap("cm2").serialized()),
            (["get", "cm", "-o", "wide"], nil),
            (["delete", "widget", "w1"], nil),
            (["wait", "--for=delete", "widget/w1", "--timeout=5s"], nil),
        ]
        for (args, stdin) in steps {
            let (rc, out) = try kubectl(args, kubeconfig: kc, home: home, stdin: stdin)
            print("$ kubectl \(args.joined(separator: " ")) -> \(rc)\n\(out)")
            #expect(rc == 0, "kubectl \(args.joined(separator: " ")): \(out)")
        }
    }
}
