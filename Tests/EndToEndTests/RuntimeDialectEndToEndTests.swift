import ClusterSim
import Foundation
import KubeCore
import ModelRolloutCore
import Testing

/// Rollouts on fleets of simulated SGLang and TGI servers: the log judge proves their model readiness from their
/// own log lines, and analysis reads their own metric names.
@Suite("Rollouts on SGLang and TGI end to end", .serialized)
struct RuntimeDialectEndToEndTests {
    /// Polls the rollout until it reaches `phase`, collecting every analysis state seen on the way.
    static func follow(_ harness: Harness, until phase: RolloutPhase, seconds: Double = 90) async throws
        -> [AnalysisStatus]
    {
        let seen = LockedValue<[AnalysisStatus]>([])
        try await harness.waitUntil("phase \(phase.rawValue)", seconds: seconds) {
            let status = try await harness.rollout().status
            if let analysis = status?.analysis, analysis.lastVerdict != nil { seen.withLock { $0.append(analysis) } }
            return status?.phase == phase
        }
        return seen.withLock { $0 }
    }

    /// The distinct analysis states, in order, for the test log.
    static func distinct(_ analyses: [AnalysisStatus]) -> [String] {
        var out: [String] = []
        for text in analyses.map({ "\($0.lastVerdict?.rawValue ?? "-"): \($0.message ?? "")" }) where out.last != text {
            out.append(text)
        }
        return out
    }

    static func spec(_ kind: String) -> [String: JSONValue] {
        [
            "runtime": ["kind": .string(kind)],
            "steps": [["weight": 50, "hold": "4s"], ["weight": 100]],
            "analysis": ["interval": "1s", "minSamples": 10, "ttftRatio": 2.0, "ttftP95": "2s", "queueWaitP95": "1s"],
        ]
    }

    @Test("(l) SGLang: a rollout reaches Promoted with analysis passing on SGLang's own metrics")
    func sglangPromotes() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await RolloutEndToEndTests.steadyFleet(
            harness, fleetAnnotations: [SimAnnotations.runtime: "sglang"], spec: Self.spec("sglang"))
        try await harness.patchRollout(spec: ["deployment": "r2"])
        let analyses = try await Self.follow(harness, until: .promoted)
        await load.stop()
        let summary = await load.summary()
        let passes = analyses.filter { $0.lastVerdict == .pass }
        print("e2e(l): analyses \(Self.distinct(analyses))")
        #expect(!passes.isEmpty)
        #expect(passes.allSatisfy { !($0.message ?? "").contains("unavailable") })
        #expect(summary.requestsToUnloadedPods == 0)
        #expect((summary.byRevision["r2"] ?? 0) > 0)
        let status = try #require(try await harness.rollout().status)
        #expect(status.loadTime?.samples ?? 0 >= 1)
        #expect(Harness.followsSteps(await harness.weights.sequence("r2"), [50, 100]))
    }

    @Test("(m) TGI: a rollout reaches Promoted; analysis decides on queue wait and errors, TTFT said unavailable")
    func tgiPromotes() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        let load = try await RolloutEndToEndTests.steadyFleet(
            harness, fleetAnnotations: [SimAnnotations.runtime: "tgi"], spec: Self.spec("tgi"))
        try await harness.patchRollout(spec: ["deployment": "r2"])
        let analyses = try await Self.follow(harness, until: .promoted)
        await load.stop()
        let summary = await load.summary()
        let passes = analyses.filter { $0.lastVerdict == .pass }
        print("e2e(m): analyses \(Self.distinct(analyses))")
        #expect(!passes.isEmpty)
        #expect(passes.allSatisfy { ($0.message ?? "").contains("candidate TTFT unavailable") })
        #expect(summary.requestsToUnloadedPods == 0)
        #expect((summary.byRevision["r2"] ?? 0) > 0)
        #expect(Harness.followsSteps(await harness.weights.sequence("r2"), [50, 100]))
    }

    @Test("(n) SGLang: an 8x slower candidate fails the TTFT analysis and is rolled back")
    func slowSGLangRollsBack() async throws {
        let harness = try await Harness()
        defer { Task { await harness.shutdown() } }
        var spec = Self.spec("sglang")
        spec["steps"] = [["weight": 50, "hold": "6s"], ["weight": 100]]
        spec["analysis"] = ["interval": "1s", "minSamples": 15, "ttftRatio": 1.5, "failureLimit": 2]
        let load = try await RolloutEndToEndTests.steadyFleet(
            harness, candidateAnnotations: [SimAnnotations.slowdown: "8"],
            fleetAnnotations: [SimAnnotations.runtime: "sglang"], spec: spec)
        try await harness.patchRollout(spec: ["deployment": "r2"])
        _ = try await Self.follow(harness, until: .rolledBack, seconds: 60)
        await load.stop()
        let status = try #require(try await harness.rollout().status)
        let failed = status.decisions.filter { $0.rule == "analysis-failed" }
        print("e2e(n): analysis decisions \(failed.map { $0.inputs })")
        #expect(failed.contains { $0.kind == .rollback })
        #expect(failed.contains { $0.message.contains("TTFT p95 ratio") })
        #expect(!(await harness.weights.sequence("r2").contains(100)))
        #expect(try await harness.routeWeights() == ["r1": 100])
        #expect(await load.summary().requestsToUnloadedPods == 0)
    }
}

/// A candidate that cannot be scheduled for lack of GPUs (issue 10, "see and say the shortage").
@Suite("GPU shortage end to end", .serialized)
struct GPUShortageEndToEndTests {
    @Test("(o) an unschedulable candidate pod is named with the scheduler's message, never rolled back for it")
    func unschedulableCandidate() async throws {
        // One node with 3 GPUs: r1 holds 2, the 50 % step's candidate pod the third; the 100 % step's second
        // candidate pod cannot be placed.
        let harness = try await Harness(gpuNodes: 1, gpusPerNode: 3)
        defer { Task { await harness.shutdown() } }
        let load = try await RolloutEndToEndTests.steadyFleet(
            harness,
            spec: [
                "steps": [["weight": 50, "hold": "2s"], ["weight": 100]], "readinessTimeout": "4s",
                "analysis": ["interval": "1s", "minSamples": 5, "ttftRatio": 3.0],
                // The whole stable fleet is kept, so the shortage lasts (the ladder would retire a stable pod).
                "strategy": ["keepStableFleet": true],
            ], rate: 10)
        defer { Task { await load.stop() } }
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("the shortage is reported", seconds: 60) {
            try await harness.rollout().status?.condition("Progressing")?.reason == "InsufficientCapacity"
        }
        let status = try #require(try await harness.rollout().status)
        print("e2e(o): \(status.message ?? "")")
        #expect(status.message?.contains("Insufficient nvidia.com/gpu") == true)
        #expect(status.condition("Progressing")?.message?.contains("cannot be scheduled") == true)
        let warnings = try await harness.events().filter {
            $0["reason"]?.stringValue == "InsufficientCapacity" && $0["type"]?.stringValue == "Warning"
        }
        #expect(warnings.count == 1)
        let why = try await PluginEndToEndTests.plugin(harness, ["why", "chat", "--limit", "2"])
        #expect(why.stdout.contains("InsufficientCapacity"), "\(why.stdout)")
        // Well past readinessTimeout (4 s): no rollback merely because a pod has no node.
        try await Task.sleep(for: .seconds(8))
        let later = try #require(try await harness.rollout().status)
        #expect(later.phase == .progressing)
        #expect(!later.decisions.contains { $0.kind == .rollback })
        // A GPU frees (r1 scaled down by hand): the pending pod is scheduled at once, loads, and the rollout ends.
        _ = try await harness.kube.dynamic(.deployments, namespace: Harness.namespace).patch(
            "r1", type: .merge, patch: ["spec": ["replicas": 1]])
        try await harness.waitUntil("promotion after the GPU freed", seconds: 60) {
            try await harness.rollout().status?.phase == .promoted
        }
        #expect(await load.summary().requestsToUnloadedPods == 0)
    }
}
