import ClusterSim
import Foundation
import KubeCore
import ModelRolloutCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The fault suite (`make chaos`, not part of `make test`): the real controller binary against the emulated cluster
/// under load, with kill -9 at random moments (during steps, holds and rollbacks, some restarts with a 2 s Pod list),
/// leader failover, API error rates with watch drops and 410s, edits and deletions mid-rollout, hostile specs and a
/// busy port. After every trial it checks the invariants: no step skipped or repeated, no request to a loading pod
/// and no weight on a backend without a model-ready pod (the load generator sees both), the right terminal phase,
/// no crash (no `Fatal error` in any controller log), no rollback of a healthy candidate. A table of trials and
/// violations is printed at the end of each scenario. Seed: `MODELROLLOUT_CHAOS_SEED` (default 1).
@Suite(
    "chaos", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["MODELROLLOUT_CHAOS"] != nil, "set MODELROLLOUT_CHAOS=1"))
struct ChaosTests {
    static let report = ChaosReport()

    /// Random moments, replayable from the seed.
    struct Dice {
        var generator: SplitMix64
        init(_ seed: UInt64) { generator = SplitMix64(seed: seed) }
        mutating func next() -> UInt64 { generator.next() }
        mutating func seconds(_ range: ClosedRange<Double>) -> Double {
            range.lowerBound + generator.nextUnit() * (range.upperBound - range.lowerBound)
        }
    }

    static var seed: UInt64 {
        UInt64(ProcessInfo.processInfo.environment["MODELROLLOUT_CHAOS_SEED"] ?? "") ?? 1
    }

    /// Violations common to every trial: crashes, requests to loading pods, requests no model-ready pod took.
    static func baseViolations(_ harness: Harness, _ summary: LoadGenerator.Summary) -> [String] {
        var out: [String] = []
        let log = harness.controllerLog()
        if log.contains("Fatal error") { out.append("a controller crashed (Fatal error in its log)") }
        if summary.requestsToUnloadedPods > 0 { out.append("\(summary.requestsToUnloadedPods) requests to loading pods") }
        return out
    }

    /// Kill -9 at random moments of a healthy rollout until it is promoted; every other restart lists pods slowly.
    @Test("kill -9 at random moments of healthy rollouts (some restarts with a slow Pod list)")
    func killsDuringHealthyRollouts() async throws {
        var dice = Dice(Self.seed)
        var kills = 0
        for run in 1...10 {
            let harness = try await Harness()
            let load = try await RolloutEndToEndTests.steadyFleet(harness)
            try await harness.patchRollout(spec: ["deployment": "r2"])
            var violations: [String] = []
            let deadline = Date().addingTimeInterval(150)
            var killsThisRun = 0
            while try await harness.rollout().status?.phase != .promoted, Date() < deadline, killsThisRun < 6 {
                try await Task.sleep(for: .seconds(dice.seconds(0.2...3.5)))
                if try await harness.rollout().status?.phase == .promoted { break }
                harness.killController()
                kills += 1
                killsThisRun += 1
                let slow = dice.next() % 2 == 0
                if slow {
                    await harness.cluster.apiServer.setFaults(
                        FaultSpec(rules: [FaultRule(verb: "list", resource: "pods", latency: .seconds(2))]))
                }
                try harness.startController()
                if slow {
                    try await Task.sleep(for: .seconds(2.5))
                    await harness.cluster.apiServer.setFaults(FaultSpec())
                }
            }
            do {
                try await harness.waitUntil("promotion", seconds: max(10, deadline.timeIntervalSinceNow)) {
                    try await harness.rollout().status?.phase == .promoted
                }
            } catch {
                violations.append("run \(run): not promoted (\(try await harness.rollout().status?.message ?? ""))")
            }
            await load.stop()
            let status = try await harness.rollout().status ?? ModelRolloutStatus()
            let sequence = await harness.weights.sequence("r2")
            if sequence != [10, 50, 100] { violations.append("run \(run): r2 weights \(sequence), want [10, 50, 100]") }
            let rollbacks = status.decisions.filter { $0.kind == .rollback }.map(\.rule)
            if !rollbacks.isEmpty { violations.append("run \(run): a healthy candidate was rolled back: \(rollbacks)") }
            violations += Self.baseViolations(harness, await load.summary()).map { "run \(run): \($0)" }
            await Self.report.add("kill -9, healthy rollout (run \(run))", trials: killsThisRun, violations: violations)
            await harness.shutdown()
        }
        print("chaos: \(kills) kills during healthy rollouts")
        #expect(kills >= 38, "too few kill trials for the suite's 50 (with the rollback runs)")
        #expect(await Self.report.violations(prefix: "kill -9, healthy").isEmpty)
    }

    /// Kill -9 at random moments while a candidate that cannot load is rolled back.
    @Test("kill -9 at random moments during rollbacks")
    func killsDuringRollbacks() async throws {
        var dice = Dice(Self.seed &+ 7)
        for run in 1...3 {
            let harness = try await Harness()
            let load = try await RolloutEndToEndTests.steadyFleet(
                harness, candidateAnnotations: [SimAnnotations.fail: "oom"])
            try await harness.patchRollout(spec: ["deployment": "r2"])
            var violations: [String] = []
            var killsThisRun = 0
            for _ in 0..<4 {
                try await Task.sleep(for: .seconds(dice.seconds(0.2...2.5)))
                harness.killController()
                killsThisRun += 1
                try harness.startController()
            }
            do {
                try await harness.waitUntil("the rollback", seconds: 90) {
                    let phase = try await harness.rollout().status?.phase
                    let replicas = try await harness.replicas("r2")
                    return phase == .failed && replicas == 0
                }
            } catch {
                violations.append("run \(run): not rolled back (\(try await harness.rollout().status?.message ?? ""))")
            }
            await load.stop()
            let route = try await harness.routeWeights()
            if route != ["r1": 100] { violations.append("run \(run): route \(route), want r1=100") }
            violations += Self.baseViolations(harness, await load.summary()).map { "run \(run): \($0)" }
            await Self.report.add("kill -9 during rollback (run \(run))", trials: killsThisRun, violations: violations)
            await harness.shutdown()
        }
        #expect(await Self.report.violations(prefix: "kill -9 during rollback").isEmpty)
    }

    /// Leader failover with a cold standby cache: the leader is killed at a random moment of the rollout.
    @Test("leader failover at random moments")
    func failover() async throws {
        var dice = Dice(Self.seed &+ 13)
        let election = [
            "--leader-elect", "--leader-election-lease-duration", "3", "--leader-election-renew-deadline", "2",
            "--leader-election-retry-period", "0.5",
        ]
        for trial in 1...5 {
            let harness = try await Harness()
            try await harness.createRevision("r1", replicas: 2)
            try await harness.createRevision("r2", replicas: 0)
            try await harness.createRoute(["r1": 100])
            try await harness.waitUntil("r1 serving", seconds: 60) { try await harness.readyPods("r1") == 2 }
            harness.startObservers(candidate: "r2")
            let load = LoadGenerator(
                configuration: .init(
                    url: harness.gatewayURL, rate: 40, model: Harness.model, promptTokens: 100, maxTokens: 8))
            await load.start()
            let first = try harness.startController(extraArguments: election + ["--identity", "first"])
            try await harness.waitUntil("a leader", seconds: 20) {
                try await harness.kube.resources(Lease.self, namespace: Harness.namespace)
                    .get("modelrollout-controller").spec.holderIdentity == "first"
            }
            // The standby starts late: its caches are cold when it wins the Lease.
            try await harness.createRollout(spec: ["deployment": "r1"])
            try await harness.patchRollout(spec: ["deployment": "r2"])
            try await Task.sleep(for: .seconds(dice.seconds(0.5...6)))
            try harness.startController(extraArguments: election + ["--identity", "second"], additional: true)
            harness.kill(first)
            var violations: [String] = []
            do {
                try await harness.waitUntil("promotion by the new leader", seconds: 90) {
                    try await harness.rollout().status?.phase == .promoted
                }
            } catch {
                violations.append("trial \(trial): not promoted")
            }
            await load.stop()
            let sequence = await harness.weights.sequence("r2")
            if sequence != [10, 50, 100] { violations.append("trial \(trial): r2 weights \(sequence)") }
            let rollbacks = try await harness.rollout().status?.decisions.filter { $0.kind == .rollback } ?? []
            if !rollbacks.isEmpty { violations.append("trial \(trial): healthy candidate rolled back") }
            violations += Self.baseViolations(harness, await load.summary()).map { "trial \(trial): \($0)" }
            // SIGTERM: the new leader stops taking work, finishes in-flight reconciles, releases the Lease, exits 0.
            harness.stopController()
            let second = harness.others.last
            if second?.terminationStatus != 0 {
                violations.append("trial \(trial): SIGTERM exit status \(second?.terminationStatus ?? -1)")
            }
            let lease = try await harness.kube.resources(Lease.self, namespace: Harness.namespace)
                .get("modelrollout-controller")
            if let holder = lease.spec.holderIdentity, !holder.isEmpty {
                violations.append("trial \(trial): the Lease was not released on SIGTERM (held by \(holder))")
            }
            await Self.report.add("leader failover (trial \(trial))", trials: 1, violations: violations)
            await harness.shutdown()
        }
        #expect(await Self.report.violations(prefix: "leader failover").isEmpty)
    }

    /// API errors (10 % of every request, 429s on writes), watch drops every 3 s and 410s on 20 % of watches.
    @Test("API error rates, 429s, watch drops and 410s during a rollout")
    func apiFaults() async throws {
        let harness = try await Harness()
        let load = try await RolloutEndToEndTests.steadyFleet(harness)
        let spec = try FaultSpec(parsing: "patch:*:error=0.1,status=429,retryAfter=1;update:*:error=0.1,status=429;"
            + "watch:*:drop=3s,expire=0.2;*:*:error=0.1,status=503")
        await harness.cluster.apiServer.setFaults(spec)
        try await harness.patchRollout(spec: ["deployment": "r2"])
        var violations: [String] = []
        do {
            try await harness.waitUntil("promotion", seconds: 120) { try await harness.rollout().status?.phase == .promoted }
        } catch {
            violations.append("not promoted under API faults")
        }
        await harness.cluster.apiServer.setFaults(FaultSpec())
        await load.stop()
        let sequence = await harness.weights.sequence("r2")
        if sequence != [10, 50, 100] { violations.append("r2 weights \(sequence)") }
        violations += Self.baseViolations(harness, await load.summary())
        await Self.report.add("API faults (10 % errors, 429, drops, 410)", trials: 1, violations: violations)
        await harness.shutdown()
        #expect(violations.isEmpty, "\(violations)")
    }

    /// One edit trial: a rollout under load reaches `weight` on r2, `edit` changes the world and returns what it
    /// found wrong; the common invariants are added and the trial is reported.
    static func editTrial(
        _ scenario: String, atWeight weight: Int, countLoadingPods: Bool = true,
        _ edit: (Harness) async throws -> [String]
    ) async throws {
        let harness = try await Harness()
        let load = try await RolloutEndToEndTests.steadyFleet(harness)
        try await harness.patchRollout(spec: ["deployment": "r2"])
        try await harness.waitUntil("r2 at \(weight) %", seconds: 60) { try await harness.routeWeights()["r2"] == weight }
        var violations = try await edit(harness)
        await load.stop()
        violations += Self.baseViolations(harness, await load.summary()).filter {
            countLoadingPods || !$0.contains("loading pods")
        }
        await Self.report.add(scenario, trials: 1, violations: violations)
        await harness.shutdown()
    }

    static func promoted(_ harness: Harness, seconds: Double, else violation: String) async -> [String] {
        do {
            try await harness.waitUntil("promotion", seconds: seconds) {
                try await harness.rollout().status?.phase == .promoted
            }
            return []
        } catch {
            return [violation]
        }
    }

    /// Route re-created, candidate Deployment deleted, steps changed and the ModelRollout deleted mid-rollout.
    @Test("edits and deletions mid-rollout")
    func editsMidRollout() async throws {
        // The route deleted and re-created as it was before the rollout: the step comes back, the rollout ends.
        try await Self.editTrial("route deleted and re-created", atWeight: 10, countLoadingPods: false) { harness in
            try await harness.kube.resources(HTTPRoute.self, namespace: Harness.namespace).delete("llm-chat")
            try await Task.sleep(for: .seconds(1))
            let missing = try await harness.rollout().status
            try await harness.createRoute(["r1": 100])
            var violations: [String] = []
            if missing?.condition("TrafficShifted")?.reason != "RouteNotFound" {
                violations.append(
                    "TrafficShifted while the route was missing: \(missing?.condition("TrafficShifted")?.reason ?? "-")")
            }
            violations += await Self.promoted(harness, seconds: 90, else: "not promoted after the route came back")
            if !(try await harness.rollout().status?.decisions.contains { $0.rule == "route-edited" } ?? false) {
                violations.append("the re-created route was not named (route-edited)")
            }
            return violations
        }
        // The candidate Deployment deleted while it carries weight: traffic goes back to the stable revision.
        try await Self.editTrial("candidate Deployment deleted", atWeight: 10) { harness in
            try await harness.kube.resources(Deployment.self, namespace: Harness.namespace).delete("r2")
            do {
                try await harness.waitUntil("traffic back on r1", seconds: 10) {
                    try await harness.routeWeights() == ["r1": 100]
                }
                return []
            } catch {
                return ["weight stayed on the deleted candidate"]
            }
        }
        // spec.steps shrunk at step 2: re-mapped, promoted, no crash loop.
        try await Self.editTrial("spec.steps shrunk mid-rollout", atWeight: 50) { harness in
            try await harness.patchRollout(spec: ["steps": [["weight": 100]]])
            var violations = await Self.promoted(harness, seconds: 60, else: "not promoted after the steps shrank")
            if harness.controller?.isRunning != true { violations.append("the controller exited") }
            return violations
        }
        // The ModelRollout deleted mid-rollout: the controller keeps running and touches nothing more (documented).
        try await Self.editTrial("ModelRollout deleted mid-rollout", atWeight: 10) { harness in
            try await harness.kube.dynamic(.modelRollouts, namespace: Harness.namespace).delete("chat")
            try await Task.sleep(for: .seconds(3))
            return harness.controller?.isRunning == true ? [] : ["the controller exited"]
        }
        for prefix in ["route deleted", "candidate Deployment", "spec.steps", "ModelRollout deleted"] {
            #expect(await Self.report.violations(prefix: prefix).isEmpty, "\(prefix)")
        }
    }

    /// Specs that pass the schema but not the controller, and ones the schema refuses: nothing is patched.
    @Test("hostile specs and a busy port")
    func hostileSpecsAndABusyPort() async throws {
        let harness = try await Harness()
        try await harness.createRevision("r1", replicas: 1)
        try await harness.createRevision("r2", replicas: 0)
        try await harness.createRoute(["r1": 100])
        try harness.startController()
        let before = try await harness.kube.resources(HTTPRoute.self, namespace: Harness.namespace).get("llm-chat")
        let hostile: [(String, [String: JSONValue])] = [
            ("huge-delay", ["deployment": "r2", "autoscaling": ["scaleDownDelay": "9999999999999999999999h"]]),
            ("year-delay", ["deployment": "r2", "autoscaling": ["scaleDownDelay": "9000h"]]),
            ("huge-hold", ["deployment": "r2", "steps": [["weight": 10, "hold": "2600000000000h"], ["weight": 100]]]),
            ("decreasing", ["deployment": "r2", "steps": [["weight": 50], ["weight": 10], ["weight": 100]]]),
            ("not-100", ["deployment": "r2", "steps": [["weight": 10], ["weight": 60]]]),
            ("bad-regex", ["deployment": "r2", "runtime": ["loadedPattern": "(unclosed"]]),
            ("min-over-max", ["deployment": "r2", "autoscaling": ["minReplicas": 5, "maxReplicas": 2]]),
            ("bad-name", ["deployment": "R2_bad"]),
        ]
        var violations: [String] = []
        var trials = 0
        for (name, spec) in hostile {
            trials += 1
            do {
                try await harness.createRollout(name, spec: spec)
            } catch {
                continue  // refused by the schema
            }
            do {
                // Read raw: a spec the controller cannot decode cannot be decoded here either.
                try await harness.waitUntil("\(name) InvalidSpec", seconds: 20) {
                    let object = try await harness.kube.dynamic(.modelRollouts, namespace: Harness.namespace).get(name)
                    return object.raw[path: ["status", "conditions"]]?.arrayValue?.contains {
                        $0["type"]?.stringValue == "InvalidSpec" && $0["status"]?.stringValue == "True"
                    } ?? false
                }
            } catch {
                violations.append("\(name): not reported as InvalidSpec")
            }
        }
        let after = try await harness.kube.resources(HTTPRoute.self, namespace: Harness.namespace).get("llm-chat")
        if after.metadata.resourceVersion != before.metadata.resourceVersion { violations.append("the route was patched") }
        if try await harness.replicas("r2") != 0 { violations.append("r2 was scaled") }
        if harness.controller?.isRunning != true || harness.controllerLog().contains("Fatal error") {
            violations.append("the controller crashed")
        }
        // A second controller whose metrics address is taken: one clear line and a non-zero exit, no crash.
        let port = try #require(harness.controllerPort("operator.metrics"))
        trials += 1
        let busy = try harness.startController(
            extraArguments: ["--metrics-bind-address", "127.0.0.1:\(port)"], additional: true)
        busy.waitUntilExit()
        let log = harness.controllerLog(run: harness.controllerRuns)
        if busy.terminationStatus == 0 || busy.terminationStatus == 132 || log.contains("Fatal error") {
            violations.append("busy port: exit \(busy.terminationStatus): \(log.suffix(300))")
        }
        if !log.contains("cannot listen on 127.0.0.1:\(port)") { violations.append("busy port: no clear message") }
        await Self.report.add("hostile specs and a busy port", trials: trials, violations: violations)
        await harness.shutdown()
        #expect(violations.isEmpty, "\(violations)")
        await Self.report.print()
    }
}

/// Trials and violations of the chaos scenarios, printed as a table.
actor ChaosReport {
    private var rows: [(scenario: String, trials: Int, violations: [String])] = []

    func add(_ scenario: String, trials: Int, violations: [String]) {
        rows.append((scenario, trials, violations))
        Swift.print("chaos: \(scenario): \(trials) trials, \(violations.count) violations \(violations)")
    }

    func violations(prefix: String) -> [String] {
        rows.filter { $0.scenario.hasPrefix(prefix) }.flatMap(\.violations)
    }

    func print() {
        Swift.print("chaos summary | scenario | trials | violations")
        for row in rows {
            Swift.print("chaos summary | \(row.scenario) | \(row.trials) | \(row.violations.count)")
        }
        let trials = rows.reduce(0) { $0 + $1.trials }
        let violations = rows.reduce(0) { $0 + $1.violations.count }
        Swift.print("chaos summary | total | \(trials) | \(violations)")
    }
}
