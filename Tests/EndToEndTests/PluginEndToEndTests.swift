import ClusterSim
import Foundation
import KubeCore
import ModelRolloutCore
import Testing

/// The kubectl plugin (`kubectl-modelrollout`, the same binary) against the emulated cluster and the real controller:
/// status, why, promote (Step and Full, before the hold would end), pause, resume, abort, and clear refusals.
@Suite("kubectl plugin end to end", .serialized)
struct PluginEndToEndTests {
    struct Run {
        var code: Int32
        var stdout: String
        var stderr: String
        var all: String { stdout + stderr }
    }

    /// Runs `executable` with arguments and an optional PATH prefix; bounded by `seconds`.
    static func run(
        _ executable: URL, _ arguments: [String], pathPrefix: String? = nil, seconds: Double = 60
    ) async throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        if let pathPrefix { environment["PATH"] = pathPrefix + ":" + (environment["PATH"] ?? "/usr/bin:/bin") }
        environment.removeValue(forKey: "KUBECONFIG")
        process.environment = environment
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mr-plugin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let err = directory.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out)
        let errHandle = try FileHandle(forWritingTo: err)
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw HarnessError("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) timed out")
        }
        try outHandle.close()
        try errHandle.close()
        return Run(
            code: process.terminationStatus,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// `modelrollout plugin <arguments> --kubeconfig … -n llm-serving`.
    static func plugin(_ harness: Harness, _ arguments: [String]) async throws -> Run {
        try await run(
            Harness.binary, ["plugin"] + arguments + ["--kubeconfig", harness.kubeconfigPath, "-n", Harness.namespace])
    }

    static func decisionRules(_ harness: Harness) async throws -> [String] {
        try await harness.rollout().status?.decisions.map(\.rule) ?? []
    }

    @Test("promote ends a long hold at once, --full goes to 100 and Promoted; pause/resume; status and why")
    func promoteStepAndFull() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let longHold: JSONValue = [["weight": 10, "hold": "10m"], ["weight": 50, "hold": "10m"], ["weight": 100]]
        let load = try await RolloutEndToEndTests.steadyFleet(harness, spec: ["steps": longHold], rate: 10)
        defer { Task { await load.stop() } }

        // No rollout yet: promote and abort refuse clearly.
        var result = try await Self.plugin(harness, ["promote", "chat"])
        #expect(result.code != 0)
        #expect(result.stderr.contains("no rollout is in progress"), "\(result.all)")
        result = try await Self.plugin(harness, ["abort", "chat"])
        #expect(result.code != 0)
        #expect(result.stderr.contains("no rollout in progress"), "\(result.all)")
        result = try await Self.plugin(harness, ["status", "nosuch"])
        #expect(result.code != 0)
        #expect(
            result.stderr.contains("modelrollout \"nosuch\" not found in namespace \"llm-serving\""), "\(result.all)")

        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("step 1 (10 %)", seconds: 60) {
            try await harness.rollout().status?.currentStep == 0
        }

        // status (global flags before the subcommand, like kubectl), through the kubectl-modelrollout name.
        let links = harness.logDirectory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: links, withIntermediateDirectories: true)
        let link = links.appendingPathComponent(PluginDispatchName.value)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: Harness.binary)
        result = try await Self.run(
            link, ["-n", Harness.namespace, "--kubeconfig", harness.kubeconfigPath, "status", "chat"])
        #expect(result.code == 0, "\(result.all)")
        #expect(result.stdout.contains("Phase:       Progressing"), "\(result.stdout)")
        #expect(result.stdout.contains("Step:        1/3 (10%), hold "), "\(result.stdout)")
        #expect(result.stdout.contains("remaining of 10m"), "\(result.stdout)")
        let rows = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.contains { $0.starts(with: ["r2", "candidate", "10%", "1", "1", "0"]) }, "\(result.stdout)")
        #expect(rows.contains { $0.starts(with: ["r1", "stable", "90%", "2", "2", "0"]) }, "\(result.stdout)")
        #expect(result.stdout.contains("Load times:"), "\(result.stdout)")
        #expect(result.stdout.contains("TrafficShifted"), "\(result.stdout)")

        // The real kubectl finds the plugin on PATH.
        if let kubectl = Self.kubectl() {
            result = try await Self.run(
                kubectl,
                ["modelrollout", "status", "chat", "-n", Harness.namespace, "--kubeconfig", harness.kubeconfigPath],
                pathPrefix: links.path)
            #expect(result.code == 0, "\(result.all)")
            #expect(result.stdout.contains("Phase:       Progressing"), "\(result.all)")
        } else {
            print("plugin e2e: kubectl not found; skipping `kubectl modelrollout status`")
        }

        // promote: step 2 long before the 10 m hold ends.
        let promoted = Date()
        result = try await Self.run(
            link, ["promote", "chat", "--kubeconfig", harness.kubeconfigPath, "--namespace", Harness.namespace])
        #expect(result.code == 0, "\(result.all)")
        #expect(result.stdout.contains("changed: status.promote"), "\(result.stdout)")
        #expect(result.stdout.contains("step 1/3 (10%) -> step 2/3 (50%)"), "\(result.stdout)")
        try await harness.waitUntil("step 2 after promote", seconds: 45) {
            let status = try await harness.rollout().status
            return status?.currentStep == 1 && status?.promote == nil
        }
        #expect(Date().timeIntervalSince(promoted) < 60)
        #expect(try await harness.routeWeights()["r2"] == 50)
        #expect(try await Self.decisionRules(harness).contains("manual-promote-step"))

        // why --json: newest first, the manual promotion with its inputs.
        result = try await Self.plugin(harness, ["why", "chat", "--json"])
        #expect(result.code == 0, "\(result.all)")
        let why = try JSONValue.parse(Array(result.stdout.utf8))
        let decisions = why["decisions"]?.arrayValue ?? []
        let times = decisions.compactMap { $0["time"]?.stringValue.flatMap(KubeTime.parse) }
        #expect(times == times.sorted(by: >))
        let manual = decisions.first { $0["rule"]?.stringValue == "manual-promote-step" }
        #expect(manual?["kind"]?.stringValue == "Promote")
        #expect(manual?["inputs"]?["mode"]?.stringValue == "Step")
        #expect(manual?["inputs"]?["holdRemaining"] != nil)
        #expect((why["conditions"]?.arrayValue ?? []).contains { $0["type"]?.stringValue == "Progressing" })
        result = try await Self.plugin(harness, ["why", "chat"])
        #expect(result.code == 0)
        #expect(result.stdout.contains("Decisions (newest first"), "\(result.stdout)")
        #expect(result.stdout.contains("rule=manual-promote-step"), "\(result.stdout)")
        #expect(result.stdout.contains("inputs: "), "\(result.stdout)")

        // pause: promote refuses; resume.
        result = try await Self.plugin(harness, ["pause", "chat"])
        #expect(result.code == 0, "\(result.all)")
        #expect(result.stdout.contains("changed: spec.paused false -> true"), "\(result.stdout)")
        try await harness.waitUntil("Paused") { try await harness.rollout().status?.phase == .paused }
        result = try await Self.plugin(harness, ["promote", "chat", "--full"])
        #expect(result.code != 0)
        #expect(result.stderr.contains("is Paused: resume it first"), "\(result.all)")
        result = try await Self.plugin(harness, ["pause", "chat"])
        #expect(result.code == 0)
        #expect(result.stdout.contains("already paused"), "\(result.stdout)")
        result = try await Self.plugin(harness, ["resume", "chat"])
        #expect(result.code == 0, "\(result.all)")
        #expect(result.stdout.contains("changed: spec.paused true -> false"), "\(result.stdout)")
        try await harness.waitUntil("Progressing again") { try await harness.rollout().status?.phase == .progressing }
        #expect(try await harness.rollout().status?.currentStep == 1)

        // promote --full: 100 % and Promoted (capacity-gated: the candidate scales to the full fleet first).
        result = try await Self.plugin(harness, ["promote", "chat", "--full"])
        #expect(result.code == 0, "\(result.all)")
        #expect(result.stdout.contains("100% on r2 and promotion"), "\(result.stdout)")
        try await harness.waitUntil("Promoted after promote --full", seconds: 60) {
            try await harness.rollout().status?.phase == .promoted
        }
        let status = try #require(try await harness.rollout().status)
        #expect(status.stableDeployment == "r2")
        #expect(status.promote == nil)
        #expect(status.decisions.contains { $0.rule == "manual-promote-full" })
        #expect(try await harness.routeWeights()["r2"] == 100)
        let sequence = await harness.weights.sequence("r2")
        #expect(Harness.followsSteps(sequence, [10, 50, 100]), "\(sequence)")
        result = try await Self.plugin(harness, ["promote", "chat"])
        #expect(result.code != 0)
        #expect(result.stderr.contains("no rollout is in progress (phase Promoted)"), "\(result.all)")
    }

    @Test("abort sets spec.deployment back to stable and the controller moves traffic back; a stale promote is ignored")
    func abortAndIgnoredPromotion() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let longHold: JSONValue = [["weight": 10, "hold": "10m"], ["weight": 50, "hold": "10m"], ["weight": 100]]
        let load = try await RolloutEndToEndTests.steadyFleet(harness, spec: ["steps": longHold], rate: 10)
        defer { Task { await load.stop() } }
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("step 1 (10 %)", seconds: 60) {
            try await harness.rollout().status?.currentStep == 0
        }
        // A request for a step the rollout is not at is cleared with a decision saying why.
        _ = try await harness.kube.dynamic(.modelRollouts, namespace: Harness.namespace).patchStatus(
            "chat", type: .merge, patch: ["status": ["promote": ["mode": "Step", "step": 1]]])
        try await harness.waitUntil("the stale promotion to be ignored", seconds: 30) {
            let status = try await harness.rollout().status
            return status?.promote == nil && status?.decisions.contains { $0.rule == "promote-ignored" } == true
        }
        let ignored = try #require(try await harness.rollout().status?.decisions.last { $0.rule == "promote-ignored" })
        #expect(ignored.message.contains("requested at step 2 but the rollout is now at step 1"), "\(ignored.message)")
        #expect(try await harness.rollout().status?.currentStep == 0)

        let result = try await Self.plugin(harness, ["abort", "chat"])
        #expect(result.code == 0, "\(result.all)")
        #expect(result.stdout.contains("changed: spec.deployment r2 -> r1"), "\(result.stdout)")
        #expect(try await harness.rollout().spec.deployment == "r1")
        try await harness.waitUntil("abort complete", seconds: 60) {
            let status = try await harness.rollout().status
            let weights = try await harness.routeWeights()
            return status?.phase == .steady && weights["r2"] == nil && weights["r1"] == 100
        }
        try await harness.waitUntil("r2 scaled to zero", seconds: 30) { try await harness.replicas("r2") == 0 }
        #expect(try await Self.decisionRules(harness).contains("abort-complete"))
        let again = try await Self.plugin(harness, ["abort", "chat"])
        #expect(again.code != 0)
        #expect(again.stderr.contains("no rollout in progress"), "\(again.all)")
    }

    /// `status.waitingSince` must survive the API server's pruning (it is in the CRD's status schema): a candidate
    /// that loads for an hour is rolled back after `readinessTimeout`, and `status`/`why` say so.
    @Test("a candidate that never becomes model-ready is rolled back after readinessTimeout; status and why show it")
    func readinessTimeoutSurvivesTheStatusRoundTrip() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await RolloutEndToEndTests.steadyFleet(
            harness, candidateAnnotations: [SimAnnotations.loadSeconds: "3600"], spec: ["readinessTimeout": "4s"],
            rate: 10)
        defer { Task { await load.stop() } }
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("the readiness-timeout rollback", seconds: 45) {
            try await harness.rollout().status?.phase == .rolledBack
        }
        #expect(try await Self.decisionRules(harness).contains("readiness-timeout"))
        var result = try await Self.plugin(harness, ["status", "chat"])
        #expect(result.code == 0, "\(result.all)")
        #expect(result.stdout.contains("Phase:       RolledBack"), "\(result.stdout)")
        #expect(result.stdout.contains("Failed:      r2"), "\(result.stdout)")
        result = try await Self.plugin(harness, ["why", "chat", "--limit", "5"])
        #expect(result.code == 0, "\(result.all)")
        #expect(result.stdout.contains("rule=readiness-timeout"), "\(result.stdout)")
    }

    /// The real kubectl, if installed (`CLUSTERSIM_KUBECTL` or PATH).
    static func kubectl() -> URL? {
        if let path = ProcessInfo.processInfo.environment["CLUSTERSIM_KUBECTL"],
            FileManager.default.isExecutableFile(atPath: path)
        {
            return URL(fileURLWithPath: path)
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/kubectl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        return nil
    }
}

/// The plugin's executable name (kept here: the test target does not link the CLI module).
enum PluginDispatchName {
    static let value = "kubectl-modelrollout"
}
