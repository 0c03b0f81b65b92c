import Foundation
import KubeCore
import Logging
import ServiceLifecycle

/// The spec of a coordination.k8s.io/v1 Lease as leader election uses it.
public struct LeaseRecord: Sendable, Hashable {
    public var holderIdentity: String
    public var leaseDurationSeconds: Int
    public var acquireTime: Date?
    public var renewTime: Date?
    public var leaseTransitions: Int

    public init(
        holderIdentity: String, leaseDurationSeconds: Int, acquireTime: Date?, renewTime: Date?, leaseTransitions: Int
    ) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }
}

/// A lease record as read, with the resourceVersion an update must be conditioned on.
public struct StoredLease: Sendable, Hashable {
    public var record: LeaseRecord
    public var resourceVersion: String

    public init(record: LeaseRecord, resourceVersion: String) {
        self.record = record
        self.resourceVersion = resourceVersion
    }
}

/// Reads and writes one Lease object; the application adapts its API client to this.
public protocol LeaseStore: Sendable {
    /// The lease, or nil when it does not exist (404).
    func get(name: String) async throws -> StoredLease?
    /// Creates the lease; returns its resourceVersion. Throws (409 AlreadyExists) when someone created it first.
    func create(name: String, record: LeaseRecord) async throws -> String
    /// Replaces the lease if its resourceVersion still is `resourceVersion`; returns the new one.
    /// Throws an `APIStatus` with code 409 on a conflict.
    func update(name: String, record: LeaseRecord, resourceVersion: String) async throws -> String
}

/// Timing and identity of a ``LeaderElector`` (controller-runtime's defaults: 15 s / 10 s / 2 s).
public struct LeaderElectionConfiguration: Sendable {
    public var leaseName: String
    public var identity: String
    /// How long a non-leader waits, from when it last saw the lease change, before taking over.
    public var leaseDuration: Duration
    /// How long the leader keeps retrying a failing renewal before giving up leadership.
    public var renewDeadline: Duration
    /// The interval between attempts.
    public var retryPeriod: Duration
    /// Hand the lease back (holder "", duration 1 s) when stopping while leading.
    public var releaseOnCancel: Bool
    /// A uniform random value in `[0, 1)` for the acquire jitter (client-go: up to 1.2 × retryPeriod extra).
    public var random: @Sendable () -> Double

    public init(
        leaseName: String, identity: String, leaseDuration: Duration = .seconds(15),
        renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2), releaseOnCancel: Bool = true,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.leaseName = leaseName
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
        self.releaseOnCancel = releaseOnCancel
        self.random = random
    }

    /// client-go's jitter factor for the acquire loop and the renewDeadline check.
    public static let jitterFactor = 1.2

    /// Checks client-go's constraints: leaseDuration > renewDeadline > 1.2 × retryPeriod > 0, names not empty.
    public func validate() throws(LeaderElectionConfigurationError) {
        if leaseName.isEmpty { throw LeaderElectionConfigurationError("leaseName must not be empty") }
        if identity.isEmpty { throw LeaderElectionConfigurationError("identity must not be empty") }
        if retryPeriod <= .zero { throw LeaderElectionConfigurationError("retryPeriod must be greater than zero") }
        if leaseDuration <= renewDeadline {
            throw LeaderElectionConfigurationError("leaseDuration must be greater than renewDeadline")
        }
        if renewDeadline.timeInterval <= Self.jitterFactor * retryPeriod.timeInterval {
            throw LeaderElectionConfigurationError("renewDeadline must be greater than retryPeriod*JitterFactor")
        }
        if leaseDuration < .seconds(1) { throw LeaderElectionConfigurationError("leaseDuration must be at least 1s") }
    }
}

/// An invalid ``LeaderElectionConfiguration``.
public struct LeaderElectionConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A change in leadership as one elector sees it.
public enum LeaderElectionEvent: Sendable, Hashable {
    /// We became the leader.
    case startedLeading
    /// We stopped being the leader (lost the lease or released it).
    case stoppedLeading
    /// The lease holder we observe changed to this identity ("" when released).
    case newLeader(String)
}

/// Leader election over a Lease, following client-go's `leaderelection` algorithm.
///
/// While not leading it tries every retryPeriod (with jitter) to acquire the lease: it takes over only when the
/// lease is free or the holder has not changed the record for leaseDuration *as observed on the local clock*
/// (never trusting the other side's renewTime). While leading it renews every retryPeriod (fast path: update from the
/// cached record); if renewals keep failing for renewDeadline it stops leading and goes back to acquiring. On graceful
/// shutdown or cancellation it releases the lease. Runs as a ServiceLifecycle `Service`; leadership changes are
/// reported through ``events`` and the optional callbacks.
public final class LeaderElector: ServiceLifecycle.Service, Sendable {
    private struct Observation {
        var record: LeaseRecord?
        var resourceVersion: String?
        /// The local time the record last changed.
        var observedTime: Date?
        var isLeader = false
        var reportedLeader: String?
    }

    public let configuration: LeaderElectionConfiguration
    private let store: any LeaseStore
    private let clock: any KubeClock
    private let logger: Logger
    private let observation = LockedValue(Observation())
    private let continuation: AsyncStream<LeaderElectionEvent>.Continuation
    private let onEvent: (@Sendable (LeaderElectionEvent) -> Void)?

    /// Leadership changes, buffered up to the 64 newest.
    public let events: AsyncStream<LeaderElectionEvent>

    public init(
        configuration: LeaderElectionConfiguration, store: any LeaseStore, clock: any KubeClock = SystemClock(),
        logger: Logger = Logger(label: "kube-runtime.leader-election"),
        onEvent: (@Sendable (LeaderElectionEvent) -> Void)? = nil
    ) throws(LeaderElectionConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.store = store
        self.clock = clock
        var logger = logger
        logger[metadataKey: "lease.name"] = "\(configuration.leaseName)"
        logger[metadataKey: "lease.identity"] = "\(configuration.identity)"
        self.logger = logger
        self.onEvent = onEvent
        (events, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(64))
    }

    /// Whether we hold the lease (as of our last successful acquire or renew).
    public var isLeader: Bool { observation.withLock { $0.isLeader } }

    /// The holder of the lease as last observed ("" when free, nil before the first read).
    public var observedLeader: String? { observation.withLock { $0.record?.holderIdentity } }

    /// Acquires, leads, renews, and re-acquires after a loss, until cancelled or gracefully shut down; then releases
    /// the lease if leading.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.electionLoop() }
        if isLeader {
            // A fresh task, so the release still goes out when this one was cancelled.
            await Task { await self.stopLeading(release: self.configuration.releaseOnCancel) }.value
        }
        continuation.finish()
    }

    private func electionLoop() async {
        while !Task.isCancelled {
            guard await acquire() else { return }
            await renewUntilLost()
            if Task.isCancelled { return }
            await stopLeading(release: false)
        }
    }

    /// Retries every retryPeriod (+ up to 1.2 × retryPeriod of jitter) until the lease is ours; false if cancelled.
    private func acquire() async -> Bool {
        while !Task.isCancelled {
            if await tryAcquireOrRenew() {
                setLeader(true)
                logger.info("leaderelection.acquired")
                return true
            }
            let jitter = configuration.retryPeriod.timeInterval * LeaderElectionConfiguration.jitterFactor
                * min(max(configuration.random(), 0), 1)
            do {
                try await clock.sleep(for: configuration.retryPeriod + .interval(jitter))
            } catch {
                return false
            }
        }
        return false
    }

    /// Renews every retryPeriod; returns when a renewal could not succeed within renewDeadline, or when cancelled.
    private func renewUntilLost() async {
        while !Task.isCancelled {
            do { try await clock.sleep(for: configuration.retryPeriod) } catch { return }
            let deadline = clock.now().adding(configuration.renewDeadline)
            var renewed = false
            while !Task.isCancelled {
                if await tryAcquireOrRenew() {
                    renewed = true
                    break
                }
                let next = clock.now().adding(configuration.retryPeriod)
                if next >= deadline { break }
                do { try await clock.sleep(until: next) } catch { return }
            }
            if !renewed {
                logger.info("leaderelection.lost")
                return
            }
        }
    }

    private func stopLeading(release: Bool) async {
        if release { await self.release() }
        setLeader(false)
    }

    private func setLeader(_ leading: Bool) {
        let changed = observation.withLock { o -> Bool in
            defer { o.isLeader = leading }
            return o.isLeader != leading
        }
        if changed { emit(leading ? .startedLeading : .stoppedLeading) }
    }

    private func emit(_ event: LeaderElectionEvent) {
        continuation.yield(event)
        onEvent?(event)
    }

    /// One round of client-go's `tryAcquireOrRenew`. True when we hold the lease afterwards.
    func tryAcquireOrRenew() async -> Bool {
        let now = clock.now()
        let name = configuration.leaseName
        let identity = configuration.identity
        var desired = LeaseRecord(
            holderIdentity: identity, leaseDurationSeconds: Int(configuration.leaseDuration.timeInterval.rounded(.up)),
            acquireTime: now, renewTime: now, leaseTransitions: 0)

        // 1. Fast path: we lead and our view of the lease is still valid; update from the cache.
        let cached = observation.withLock { $0 }
        if let record = cached.record, let rv = cached.resourceVersion, record.holderIdentity == identity,
            isValid(cached, now: now)
        {
            desired.acquireTime = record.acquireTime
            desired.leaseTransitions = record.leaseTransitions
            do {
                let newRV = try await store.update(name: name, record: desired, resourceVersion: rv)
                observe(desired, resourceVersion: newRV, now: now)
                return true
            } catch {
                logger.debug("leaderelection.fast_renew_failed", metadata: ["error": "\(error)"])
            }
        }

        // 2. Read the lease; create it when missing.
        let current: StoredLease?
        do {
            current = try await store.get(name: name)
        } catch {
            logger.info("leaderelection.get_failed", metadata: ["error": "\(error)"])
            return false
        }
        guard let current else {
            do {
                let rv = try await store.create(name: name, record: desired)
                observe(desired, resourceVersion: rv, now: now)
                return true
            } catch {
                logger.info("leaderelection.create_failed", metadata: ["error": "\(error)"])
                return false
            }
        }

        // 3. Record when the lease last changed, on our clock.
        let observed = observe(current.record, resourceVersion: current.resourceVersion, now: now)
        let holder = current.record.holderIdentity
        if !holder.isEmpty, holder != identity, isValid(observed, now: now) {
            return false
        }

        // 4. Take over (or renew through the slow path).
        if holder == identity {
            desired.acquireTime = current.record.acquireTime
            desired.leaseTransitions = current.record.leaseTransitions
        } else {
            desired.leaseTransitions = current.record.leaseTransitions + 1
        }
        do {
            let rv = try await store.update(name: name, record: desired, resourceVersion: current.resourceVersion)
            observe(desired, resourceVersion: rv, now: now)
            return true
        } catch {
            logger.info("leaderelection.update_failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func isValid(_ o: Observation, now: Date) -> Bool {
        guard let record = o.record, let time = o.observedTime else { return false }
        return time.addingTimeInterval(TimeInterval(record.leaseDurationSeconds)) > now
    }

    /// Stores what we read or wrote; observedTime moves only when the record changed.
    @discardableResult
    private func observe(_ record: LeaseRecord, resourceVersion: String, now: Date) -> Observation {
        let (snapshot, newLeader) = observation.withLock { o -> (Observation, String?) in
            if o.record != record {
                o.record = record
                o.observedTime = now
            }
            o.resourceVersion = resourceVersion
            var newLeader: String?
            if o.reportedLeader != record.holderIdentity {
                o.reportedLeader = record.holderIdentity
                newLeader = record.holderIdentity
            }
            return (o, newLeader)
        }
        if let newLeader { emit(.newLeader(newLeader)) }
        return snapshot
    }

    /// Hands the lease back so another candidate can take over at once.
    private func release() async {
        let cached = observation.withLock { $0 }
        guard let record = cached.record, let rv = cached.resourceVersion,
            record.holderIdentity == configuration.identity
        else { return }
        let now = clock.now()
        let released = LeaseRecord(
            holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now,
            leaseTransitions: record.leaseTransitions)
        do {
            let newRV = try await store.update(name: configuration.leaseName, record: released, resourceVersion: rv)
            observe(released, resourceVersion: newRV, now: now)
            logger.info("leaderelection.released")
        } catch {
            logger.info("leaderelection.release_failed", metadata: ["error": "\(error)"])
        }
    }
}
