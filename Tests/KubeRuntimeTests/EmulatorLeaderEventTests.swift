import ClusterSim
import Foundation
import KubeClient
import KubeCore
import Testing

@testable import KubeRuntime

/// LeaderElector on real Leases (KubernetesLeaseStore) and EventRecorder through KubernetesEventSink, against the
/// emulated API server.
@Suite("KubeRuntimeTests.EmulatorLeaderEvents")
struct EmulatorLeaderEventTests {
    /// Whether `text` is an RFC 3339 MicroTime: UTC with exactly six fractional digits.
    static func isMicroTime(_ text: String?) -> Bool {
        guard let text else { return false }
        return text.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#, options: .regularExpression) != nil
    }

    static func configuration(_ identity: String, release: Bool) -> LeaderElectionConfiguration {
        LeaderElectionConfiguration(
            leaseName: "modelrollout-leader", identity: identity, leaseDuration: .seconds(2),
            renewDeadline: .milliseconds(1500), retryPeriod: .milliseconds(300), releaseOnCancel: release,
            random: { 0 })
    }

    static func rawLease(_ server: APIServer) async -> JSONValue? {
        await server.storage.get(.leases, namespace: "default", name: "modelrollout-leader")
    }

    @Test func shortTimingsAreValid() throws {
        try Self.configuration("a", release: false).validate()
        var bad = Self.configuration("a", release: false)
        bad.retryPeriod = .milliseconds(1300)  // 1.2 × 1.3 s ≥ renewDeadline
        #expect(throws: LeaderElectionConfigurationError.self) { try bad.validate() }
    }

    /// Runs a then b; stops a (releasing or not) and returns how long b took to lead afterwards.
    static func handOver(release: Bool) async throws -> (Duration, JSONValue?, JSONValue?) {
        try await EmulatorRuntimeTests.withServer { server, client in
            let store = KubernetesLeaseStore(client: client, namespace: "default")
            let a = try LeaderElector(configuration: Self.configuration("a", release: release), store: store)
            let b = try LeaderElector(configuration: Self.configuration("b", release: release), store: store)
            let runA = Task { try await a.run() }
            try await EmulatorRuntimeTests.eventually("a leads") { a.isLeader }
            let runB = Task { try await b.run() }
            defer { runB.cancel() }
            try await EmulatorRuntimeTests.eventually("b observes a") { b.observedLeader == "a" }
            // Let a renew a few times while b watches.
            try await Task.sleep(for: .milliseconds(700))
            #expect(a.isLeader)
            #expect(!b.isLeader)
            let before = await Self.rawLease(server)

            runA.cancel()
            _ = await runA.result
            let stopped = ContinuousClock.now
            #expect(!a.isLeader)
            try await EmulatorRuntimeTests.eventually("b takes over", seconds: 5) { b.isLeader }
            let elapsed = ContinuousClock.now - stopped
            let after = await Self.rawLease(server)
            runB.cancel()
            _ = await runB.result
            return (elapsed, before, after)
        }
    }

    @Test func takeoverAfterLeaseExpiryWithoutRelease() async throws {
        let (elapsed, before, after) = try await Self.handOver(release: false)
        // b takes over only once a's lease has gone unrenewed for leaseDuration (2 s) on b's clock (a's last renewal
        // may be up to a retry period old when a stops). The exact timing is tested on a manual clock
        // (LeaderElectorTests); here the upper bound only says b does take over, with slack for a loaded machine.
        #expect(elapsed >= .milliseconds(1000))
        #expect(elapsed <= .milliseconds(2300 + 5000))
        #expect(before?[path: ["spec", "holderIdentity"]] == "a")
        #expect(before?[path: ["spec", "leaseDurationSeconds"]] == .int(2))
        #expect(Self.isMicroTime(before?[path: ["spec", "renewTime"]]?.stringValue))
        #expect(Self.isMicroTime(before?[path: ["spec", "acquireTime"]]?.stringValue))
        #expect(after?[path: ["spec", "holderIdentity"]] == "b")
        #expect(after?[path: ["spec", "leaseTransitions"]] == .int(1))
        #expect(Self.isMicroTime(after?[path: ["spec", "renewTime"]]?.stringValue))
        #expect(Self.isMicroTime(after?[path: ["spec", "acquireTime"]]?.stringValue))
    }

    @Test func immediateTakeoverAfterRelease() async throws {
        let (elapsed, _, after) = try await Self.handOver(release: true)
        // Released (holder ""): b acquires on its next attempt without waiting for the lease to expire. The exact
        // timing (within one retryPeriod) is tested on a manual clock (LeaderElectorTests); wall-clock bounds here
        // leave slack for a loaded 2-core machine.
        #expect(elapsed <= .milliseconds(300 + 5000))
        #expect(after?[path: ["spec", "holderIdentity"]] == "b")
        #expect(Self.isMicroTime(after?[path: ["spec", "renewTime"]]?.stringValue))
    }

    @Test func repeatedEventBecomesOneEventWithSeries() async throws {
        try await EmulatorRuntimeTests.withServer { server, client in
            let recorder = EventRecorder(
                sink: KubernetesEventSink(client: client), reportingController: "modelrollout.example.com/controller",
                reportingInstance: "modelrollout-0")
            let regarding = ObjectReference(
                apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "default", uid: "u-1")
            for _ in 0..<2 {
                await recorder.record(
                    regarding: regarding, type: .normal, reason: "Scaled", action: "Scale", note: "scaled to 2")
            }
            let events = await server.storage.list(.events, namespace: "default")
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event[path: ["series", "count"]] == .int(2))
            #expect(Self.isMicroTime(event["eventTime"]?.stringValue))
            #expect(Self.isMicroTime(event[path: ["series", "lastObservedTime"]]?.stringValue))
            #expect(event["reason"] == "Scaled")
            #expect(event["type"] == "Normal")
            #expect(event[path: ["regarding", "name"]] == "web")
            #expect(event["reportingController"] == "modelrollout.example.com/controller")
            // Also readable through the typed client.
            let typed = try await client.resources(Event.self, namespace: "default").list()
            #expect(typed.items.first?.series?.count == 2)
        }
    }
}
