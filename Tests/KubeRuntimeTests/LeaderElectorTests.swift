import Foundation
import KubeCore
import Testing
@testable import KubeRuntime

/// An in-memory Lease store with optimistic concurrency, per-candidate partitions and a write log.
final class FakeLeaseStore: Sendable {
    private struct State {
        var leases: [String: StoredLease] = [:]
        var version = 0
        var partitioned: Set<String> = []
        var conflicts = 0
    }
    private let state = LockedValue(State())

    var conflicts: Int { state.withLock { $0.conflicts } }
    func lease(_ name: String) -> StoredLease? { state.withLock { $0.leases[name] } }
    func partition(_ identity: String, _ cut: Bool) {
        state.withLock { s in if cut { s.partitioned.insert(identity) } else { s.partitioned.remove(identity) } }
    }
    /// Writes as some other party would (bumps the resourceVersion).
    func overwrite(_ name: String, record: LeaseRecord) {
        state.withLock { s in
            s.version += 1
            s.leases[name] = StoredLease(record: record, resourceVersion: "\(s.version)")
        }
    }

    /// The store as the candidate `identity` reaches it.
    func view(for identity: String) -> View { View(store: self, identity: identity) }

    struct View: LeaseStore {
        let store: FakeLeaseStore
        let identity: String

        private func check() throws {
            if store.state.withLock({ $0.partitioned.contains(identity) }) {
                throw APIStatus.serviceUnavailable("partitioned")
            }
        }

        func get(name: String) async throws -> StoredLease? {
            try check()
            return store.lease(name)
        }

        func create(name: String, record: LeaseRecord) async throws -> String {
            try check()
            return try store.state.withLock { s in
                if s.leases[name] != nil { throw APIStatus.alreadyExists(.leases, name: name) }
                s.version += 1
                s.leases[name] = StoredLease(record: record, resourceVersion: "\(s.version)")
                return "\(s.version)"
            }
        }

        func update(name: String, record: LeaseRecord, resourceVersion: String) async throws -> String {
            try check()
            return try store.state.withLock { s in
                guard let current = s.leases[name] else { throw APIStatus.notFound(.leases, name: name) }
                guard current.resourceVersion == resourceVersion else {
                    s.conflicts += 1
                    throw APIStatus.conflict(.leases, name: name)
                }
                s.version += 1
                s.leases[name] = StoredLease(record: record, resourceVersion: "\(s.version)")
                return "\(s.version)"
            }
        }
    }
}

@Suite struct LeaderElectorTests {
    func elector(
        _ identity: String, _ store: FakeLeaseStore, _ clock: ManualClock, release: Bool = true
    ) throws -> LeaderElector {
        try LeaderElector(
            configuration: LeaderElectionConfiguration(
                leaseName: "mr-lock", identity: identity, releaseOnCancel: release, random: { 0 }),
            store: store.view(for: identity), clock: clock)
    }

    @Test func leaderThatStopsRenewingIsTakenOverWithinLeaseDurationPlusRetry() async throws {
        let clock = ManualClock()
        let store = FakeLeaseStore()
        let a = try elector("a", store, clock)
        let b = try elector("b", store, clock)
        let runA = Task { try await a.run() }
        defer { runA.cancel() }
        #expect(await clock.waitForSleepers(1))
        #expect(a.isLeader)
        #expect(store.lease("mr-lock")?.record.holderIdentity == "a")
        #expect(store.lease("mr-lock")?.record.leaseTransitions == 0)
        let runB = Task { try await b.run() }
        defer { runB.cancel() }
        #expect(await clock.waitForSleepers(2))
        #expect(!b.isLeader)
        #expect(b.observedLeader == "a")

        // A renews for a while; B keeps waiting.
        for _ in 0..<20 {
            clock.advance(by: .seconds(1))
            #expect(await clock.waitForSleepers(2))
            #expect(a.isLeader && !b.isLeader)
        }
        // A loses the API server: it cannot renew any more.
        store.partition("a", true)
        let lastRenew = try #require(store.lease("mr-lock")?.record.renewTime)
        var takeover: Date?
        for _ in 0..<40 {
            clock.advance(by: .seconds(1))
            #expect(await clock.waitForSleepers(2))
            #expect(!(a.isLeader && b.isLeader), "never two leaders")
            if b.isLeader, takeover == nil { takeover = clock.now() }
        }
        let takenOver = try #require(takeover)
        let elapsed = takenOver.timeIntervalSince(lastRenew)
        // Never before the lease expired; at most one retry after B saw it expire (B polls every retryPeriod).
        #expect(elapsed >= 15)
        #expect(elapsed <= 15 + 2 * 2)
        #expect(!a.isLeader)
        #expect(store.lease("mr-lock")?.record.holderIdentity == "b")
        #expect(store.lease("mr-lock")?.record.leaseTransitions == 1)
    }

    @Test func fastPathConflictFallsBackAndYieldsToTheNewHolder() async throws {
        let clock = ManualClock()
        let store = FakeLeaseStore()
        let a = try elector("a", store, clock)
        #expect(await a.tryAcquireOrRenew())
        // Someone else writes the lease behind A's back.
        store.overwrite(
            "mr-lock",
            record: LeaseRecord(
                holderIdentity: "c", leaseDurationSeconds: 15, acquireTime: clock.now(), renewTime: clock.now(),
                leaseTransitions: 1))
        clock.advance(by: .seconds(2))
        #expect(await !a.tryAcquireOrRenew())
        #expect(store.conflicts == 1)
        #expect(a.observedLeader == "c")
        #expect(store.lease("mr-lock")?.record.holderIdentity == "c")
    }

    @Test func racingCandidatesProduceExactlyOneLeader() async throws {
        let clock = ManualClock()
        let store = FakeLeaseStore()
        let a = try elector("a", store, clock)
        let b = try elector("b", store, clock)
        let c = try elector("c", store, clock)
        #expect(await a.tryAcquireOrRenew())
        #expect(await !b.tryAcquireOrRenew())
        #expect(await !c.tryAcquireOrRenew())
        clock.advance(by: .seconds(16))
        async let wonB = b.tryAcquireOrRenew()
        async let wonC = c.tryAcquireOrRenew()
        let winners = [await wonB, await wonC].filter { $0 }
        #expect(winners.count == 1)
        #expect(store.lease("mr-lock")?.record.leaseTransitions == 1)
    }

    @Test func releaseOnCancelLetsTheNextCandidateTakeOverAtOnce() async throws {
        let clock = ManualClock()
        let store = FakeLeaseStore()
        let a = try elector("a", store, clock)
        let events = LockedValue<[LeaderElectionEvent]>([])
        let collector = Task { for await event in a.events { events.withLock { $0.append(event) } } }
        let runA = Task { try await a.run() }
        #expect(await clock.waitForSleepers(1))
        #expect(a.isLeader)
        runA.cancel()
        _ = try await withDeadline { try await runA.value }
        _ = try await withDeadline { await collector.value }
        let released = try #require(store.lease("mr-lock")?.record)
        #expect(released.holderIdentity == "")
        #expect(released.leaseDurationSeconds == 1)
        #expect(!a.isLeader)
        #expect(events.withLock { $0 } == [.newLeader("a"), .startedLeading, .newLeader(""), .stoppedLeading])

        let b = try elector("b", store, clock)
        #expect(await b.tryAcquireOrRenew())
        #expect(store.lease("mr-lock")?.record.holderIdentity == "b")
        #expect(store.lease("mr-lock")?.record.leaseTransitions == 1)
    }

    @Test(arguments: [
        (15, 10, 2, true), (15, 10, 9, false), (10, 10, 2, false), (15, 2.4, 2, false), (15, 2.5, 2, true),
        (15, 10, 0, false),
    ])
    func configurationValidation(lease: Double, renew: Double, retry: Double, valid: Bool) {
        let configuration = LeaderElectionConfiguration(
            leaseName: "l", identity: "me", leaseDuration: .interval(lease), renewDeadline: .interval(renew),
            retryPeriod: .interval(retry))
        let isValid = (try? configuration.validate()) != nil
        #expect(isValid == valid)
    }
}
