import Foundation
import KubeCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `modelrollout demo` end to end: the built binary plays both phases (ModelRollout, then the naive rolling update)
/// and writes its summary with `--json`; the summary must tell the seed story.
@Suite("modelrollout demo end to end", .serialized)
struct DemoEndToEndTests {
    /// Runs the binary with `arguments`, killing it after `seconds`; returns (exit status, output).
    static func run(_ arguments: [String], seconds: Double) throws -> (status: Int32, output: String) {
        let binary = Harness.binary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw HarnessError("the modelrollout binary is missing at \(binary.path); run `swift build` first")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mr-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let log = directory.appendingPathComponent("demo.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        try? handle.close()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: directory)
        return (process.terminationStatus, output)
    }

    /// Two temporary paths (the summary JSON and the kubeconfig), removed after `body`.
    static func withTemporaryFiles<T>(_ body: (URL, URL) throws -> T) rethrows -> T {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("mr-demo-\(UUID().uuidString).json")
        let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mr-demo-\(UUID().uuidString).kc")
        defer {
            try? FileManager.default.removeItem(at: json)
            try? FileManager.default.removeItem(at: kubeconfig)
        }
        return try body(json, kubeconfig)
    }

    @Test("the demo's summary: no request to a loading pod with ModelRollout, many with the rolling update")
    func demoTellsTheStory() throws {
        try Self.withTemporaryFiles { json, kubeconfig in try Self.checkStory(json: json, kubeconfig: kubeconfig) }
    }

    static func checkStory(json: URL, kubeconfig: URL) throws {
        let started = Date()
        let (status, output) = try Self.run(
            ["demo", "--json", json.path, "--kubeconfig-out", kubeconfig.path], seconds: 240)
        let wall = Date().timeIntervalSince(started)
        print("demo e2e: exit \(status) after \(String(format: "%.1f", wall)) s\n"
            + output.split(separator: "\n").suffix(16).joined(separator: "\n"))
        #expect(status == 0, "demo output:\n\(output.suffix(3000))")
        let data = try Data(contentsOf: json)
        let summary = try JSONValue.parse(Array(data))

        let baseline = try #require(summary["baselineTtftP95"]?.doubleValue)
        #expect(baseline > 0.5 && baseline < 4)
        let ours = try #require(summary["modelrollout"])
        let naive = try #require(summary["naive"])
        for side in [ours, naive] {
            for field in [
                "ttftP95DuringRevision", "requestsToLoadingPods", "requests", "completedSeconds", "completed",
                "failedRequests", "retriedRequests", "baselineTtftP95", "outcome",
            ] {
                #expect(side[field] != nil, "missing \(field) in \(side.serialized())")
            }
            #expect(side["completed"]?.boolValue == true)
            #expect((side["completedSeconds"]?.doubleValue ?? 0) > 0)
            #expect((side["requests"]?.intValue ?? 0) > 20)
        }
        #expect(ours["outcome"]?.stringValue == "Promoted")
        #expect(ours["requestsToLoadingPods"]?.intValue == 0)
        #expect(ours["failedRequests"]?.intValue == 0)
        #expect((naive["requestsToLoadingPods"]?.intValue ?? 0) > 0)
        // Requests that never got a token count with the time their client waited: the p95 is always a number.
        let ourP95 = try #require(ours["ttftP95DuringRevision"]?.doubleValue)
        let naiveP95 = try #require(naive["ttftP95DuringRevision"]?.doubleValue)
        #expect(naiveP95 > ourP95)
        #expect(output.contains(">> Weight capacity-ready"))
        #expect(output.contains("Ready while the model is still loading"))
    }

    @Test("demo --backend inferencepool: the seed story through InferencePools promotes without a loading pod")
    func demoThroughPools() throws {
        try Self.withTemporaryFiles { json, kubeconfig in try Self.checkPools(json: json, kubeconfig: kubeconfig) }
    }

    static func checkPools(json: URL, kubeconfig: URL) throws {
        let (status, output) = try Self.run(
            [
                "demo", "--backend", "inferencepool", "--compare", "none", "--json", json.path, "--kubeconfig-out",
                kubeconfig.path,
            ], seconds: 180)
        print("demo (pools) e2e: exit \(status)\n" + output.split(separator: "\n").suffix(10).joined(separator: "\n"))
        #expect(status == 0, "demo output:\n\(output.suffix(3000))")
        let summary = try JSONValue.parse(Array(try Data(contentsOf: json)))
        let ours = try #require(summary["modelrollout"])
        #expect(ours["outcome"]?.stringValue == "Promoted")
        #expect(ours["requestsToLoadingPods"]?.intValue == 0)
        #expect(ours["failedRequests"]?.intValue == 0)
        #expect(output.contains("their InferencePools, HTTPRoute llm-chat -> InferencePool vllm-llama-r1-pool"))
        #expect(output.contains("spec.inferencePool to vllm-llama-r2-pool"))
    }

    @Test("a bad option is one clear line and a non-zero exit")
    func badOption() throws {
        let (status, output) = try Self.run(["demo", "--compare", "sideways"], seconds: 30)
        #expect(status != 0)
        #expect(output.contains("--compare must be naive or none"))
        let (backendStatus, backendOutput) = try Self.run(["demo", "--backend", "istio"], seconds: 30)
        #expect(backendStatus != 0)
        #expect(backendOutput.contains("--backend must be service or inferencepool, not istio"))
    }
}
