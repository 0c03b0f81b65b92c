import Foundation

/// One set of pods of one revision: a ReplicaSet (rolling updates) or a Deployment (a ModelRollout's stable or
/// candidate side).
struct RevisionSet {
    /// Pods of this revision not being deleted.
    var pods: [Int] = []
    /// Pods the Service routes to: model-ready ones, or process-ready ones when the readiness probe is
    /// process-level (`modelGated == false`).
    var endpoints: [Int] = []
    var desired: Int = 0
    /// Whether the readiness probe proves the model is loaded (e.g. `/v1/models`) or only that the process listens.
    var modelGated: Bool
    /// Pods created but not scheduled: no GPU free (``Scenario/gpuCapacity``); they start when one frees.
    var pending = 0
    /// Deleted pods still finishing their requests (they hold their GPU until then).
    var draining: [Int] = []
    var roundRobin = 0
    /// How the revision serves: 1 and 0 for a healthy one; a bad revision has slower prefill or fails requests.
    var prefillFactor = 1.0
    var errorRate = 0.0
}

/// How the gateway spreads requests over revisions.
enum Routing: Equatable {
    /// One Service over every revision's endpoints (a Deployment's rolling update).
    case service
    /// An HTTPRoute with a weight (percent) per revision.
    case weighted([Int])
}

/// The discrete-event simulation of one policy on one scenario with one seed, in virtual time.
///
/// Requests arrive from a pre-generated ``Workload`` (identical for every policy of a seed); the gateway routes
/// each to a revision and, within it, round robin to an endpoint; the replica queues or admits it (``Replica``).
/// Pods are created and deleted by ReplicaSet rules driven by the policy, and become process-ready and
/// model-ready after their cold start. Everything runs in one thread; the run is a pure function of its inputs.
final class Simulation {
    let scenario: Scenario
    let engine: EngineModel
    let coldStarts: ColdStartModel
    let workload: Workload
    let seed: UInt64
    /// A client gives up when no first token arrived after this many seconds.
    let timeout: Double
    /// Arrivals stop at `scenario.end`; the run continues this long for requests in flight to finish.
    var hardEnd: Double { scenario.end + timeout + 1 }

    private(set) var now: Double = 0
    private(set) var replicas: [Replica] = []
    private(set) var revisions: [RevisionSet] = []
    private(set) var routing: Routing = .service
    private var events = EventQueue()
    private var nextArrival = 0
    private var routingRandom: BenchRandom

    /// Time to first token per request (seconds); -1 for requests that never got one (timeout or error),
    /// NaN while unknown.
    private(set) var ttft: [Float]
    private(set) var routedToUnloaded: [Bool]
    /// Mean inter-token latency per completed request (seconds; NaN until it completes).
    private(set) var meanITL: [Float]
    /// Changes of a revision's desired replicas at or after the scenario's event.
    private(set) var scalingActions = 0
    private(set) var completedTotal = 0
    private(set) var peakReplicas = 0
    private(set) var activeReplicas = 0
    private(set) var capacityReachedAt: Double?
    /// Cold starts observed (pod name, seconds), in order, for policies that learn them.
    private(set) var observedColdStarts: [(pod: Int, seconds: Double)] = []

    /// Per-pod values of the last scrape (by pod id): mean running over the scrape window, waiting, running.
    private(set) var scrapedMeanRunning: [Double] = []
    private(set) var scrapedWaiting: [Int] = []
    private var scrapeIntegral: [Double] = []
    private(set) var lastScrapeTime: Double = 0
    static let scrapeInterval = 15.0
    static let sampleInterval = 10.0

    /// Samples every `sampleInterval`: time, pods (all, including loading and draining), model-ready pods.
    private(set) var samples: [(time: Double, pods: Int, modelReady: Int)] = []

    /// Revisions with a pending pod, in the order the pods were created (the scheduler's queue).
    private var pendingQueue: [Int] = []
    /// When the rollout was complete: every request goes to the new revision (nil: not yet, or no rollout).
    private(set) var rolloutCompletedAt: Double?

    /// Revisions from this index on were added for the scenario's rollout (nil before it).
    private(set) var rolloutRevisionStart: Int?
    /// Requests arriving after the rollout event, and how many of them the new revision got.
    private(set) var requestsAfterEvent = 0
    private(set) var requestsToNewRevision = 0
    /// Arrival time of the last request the new revision got.
    private(set) var lastNewRevisionRequestAt: Double?

    private let policy: BenchPolicy

    init(
        scenario: Scenario, policy: BenchPolicy, workload: Workload, seed: UInt64, engine: EngineModel = EngineModel(),
        coldStarts: ColdStartModel = ColdStartModel(), timeout: Double = 60
    ) {
        self.scenario = scenario
        self.policy = policy
        self.workload = workload
        self.seed = seed
        self.engine = engine
        self.coldStarts = coldStarts
        self.timeout = timeout
        routingRandom = BenchRandom(seed: seed ^ 0x5EED_0F_2047)
        ttft = [Float](repeating: .nan, count: workload.count)
        routedToUnloaded = [Bool](repeating: false, count: workload.count)
        meanITL = [Float](repeating: .nan, count: workload.count)
    }

    // MARK: - Cold starts

    /// The cold start of the `index`-th pod created in this run: log-normal around the scenario's mean, drawn
    /// from a stream of its own so it does not depend on the policy (the oracle reads it in advance).
    func coldStart(ofPod index: Int) -> Double {
        var random = BenchRandom(seed: seed &* 0x9E37_79B9 ^ UInt64(index) &* 0xC2B2_AE3D_27D4_EB4F)
        let sigma = coldStarts.sigma
        var mean = scenario.coldStartSeconds
        if !scenario.coldStartPaths.isEmpty {
            // Which path this pod takes (a node with the image and weights cached, or a cold one).
            var pick = random.unit() * scenario.coldStartPaths.reduce(0) { $0 + $1.share }
            mean = scenario.coldStartPaths.last?.seconds ?? mean
            for path in scenario.coldStartPaths {
                if pick < path.share {
                    mean = path.seconds
                    break
                }
                pick -= path.share
            }
        }
        return random.logNormal(median: mean * exp(-sigma * sigma / 2), sigma: sigma)
    }

    /// The index the next created pod gets.
    var nextPodIndex: Int { replicas.count }

    // MARK: - Cluster actions (used by policies)

    /// Adds a revision (a new ReplicaSet or Deployment) and returns its index.
    @discardableResult
    func addRevision(modelGated: Bool) -> Int {
        var revision = RevisionSet(modelGated: modelGated)
        if rolloutRevisionStart != nil, let bad = scenario.badRevision {
            revision.prefillFactor = bad.prefillFactor
            revision.errorRate = bad.errorRate
        }
        revisions.append(revision)
        return revisions.count - 1
    }

    func setRouting(_ routing: Routing) { self.routing = routing }

    /// Pods of `revision` that exist at time 0 with the model loaded.
    func addLoadedPods(_ count: Int, revision: Int) {
        for _ in 0..<count {
            let id = replicas.count
            let cold = coldStart(ofPod: id)
            var pod = Replica(
                id: id, revision: revision, createdAt: -cold, coldStart: cold,
                processReadyAfter: coldStarts.processReady(total: cold))
            pod.modelLoaded = true
            pod.processReady = true
            pod.tokensTime = 0
            pod.integralTime = 0
            replicas.append(pod)
            revisions[revision].pods.append(id)
            revisions[revision].endpoints.append(id)
            revisions[revision].desired += 1
            activeReplicas += 1
        }
        peakReplicas = max(peakReplicas, activeReplicas)
        ensureScrapeArrays()
    }

    /// Sets a revision's desired replicas; pods are created or deleted at once (ReplicaSet rules).
    func setDesired(_ revision: Int, _ count: Int) {
        guard revisions.indices.contains(revision) else { return }
        if max(0, count) != revisions[revision].desired, now >= scenario.eventTime { scalingActions += 1 }
        revisions[revision].desired = max(0, count)
        while revisions[revision].pods.count + revisions[revision].pending < revisions[revision].desired {
            createPod(revision: revision)
        }
        while revisions[revision].pods.count + revisions[revision].pending > revisions[revision].desired {
            deleteOnePod(revision: revision)
        }
    }

    /// Whether a GPU is free for a new pod.
    private var gpuFree: Bool { scenario.gpuCapacity.map { activeReplicas < $0 } ?? true }

    private func createPod(revision: Int) {
        guard gpuFree else {
            // The scheduler: no node has a free GPU; the pod stays Pending (Unschedulable) until one frees.
            revisions[revision].pending += 1
            pendingQueue.append(revision)
            return
        }
        startPod(revision: revision)
    }

    /// Schedules pending pods, oldest first, while GPUs are free.
    private func schedulePending() {
        while gpuFree, !pendingQueue.isEmpty {
            let revision = pendingQueue.removeFirst()
            revisions[revision].pending -= 1
            startPod(revision: revision)
        }
    }

    private func startPod(revision: Int) {
        let id = replicas.count
        let cold = coldStart(ofPod: id)
        let pod = Replica(
            id: id, revision: revision, createdAt: now, coldStart: cold,
            processReadyAfter: coldStarts.processReady(total: cold))
        replicas.append(pod)
        revisions[revision].pods.append(id)
        activeReplicas += 1
        peakReplicas = max(peakReplicas, activeReplicas)
        events.schedule(.processReady, at: pod.processReadyAt, a: Int32(id))
        events.schedule(.modelReady, at: pod.modelReadyAt, a: Int32(id))
        ensureScrapeArrays()
    }

    /// Deletes the pod a ReplicaSet deletes first: a not-ready one before a ready one, the newest first.
    private func deleteOnePod(revision: Int) {
        if revisions[revision].pending > 0 {
            // A Deployment deletes an unscheduled pod first.
            revisions[revision].pending -= 1
            if let index = pendingQueue.lastIndex(of: revision) { pendingQueue.remove(at: index) }
            return
        }
        let set = revisions[revision]
        let endpoints = Set(set.endpoints)
        guard
            let victim = set.pods.max(by: { a, b in
                let readyA = endpoints.contains(a)
                let readyB = endpoints.contains(b)
                if readyA != readyB { return readyA }  // not-ready ranks higher (deleted first)
                return replicas[a].createdAt < replicas[b].createdAt
            })
        else { return }
        revisions[revision].pods.removeAll { $0 == victim }
        revisions[revision].endpoints.removeAll { $0 == victim }
        revisions[revision].draining.append(victim)
        replicas[victim].terminating = true
        if !replicas[victim].modelLoaded {
            // Killed while loading: requests queued on it (process-level readiness) fail.
            while let request = replicas[victim].dequeue() { fail(request) }
            endPod(victim)
        } else if replicas[victim].inFlight == 0 {
            endPod(victim)
        }
    }

    private func endPod(_ id: Int) {
        guard replicas[id].endedAt == nil else { return }
        replicas[id].endedAt = now
        revisions[replicas[id].revision].draining.removeAll { $0 == id }
        activeReplicas -= 1
        schedulePending()
    }

    private func ensureScrapeArrays() {
        while scrapedMeanRunning.count < replicas.count {
            scrapedMeanRunning.append(0)
            scrapedWaiting.append(0)
            scrapeIntegral.append(0)
        }
    }

    // MARK: - Observations (used by policies)

    /// Running plus waiting requests over all pods now.
    func inFlight() -> Int {
        var total = 0
        for set in revisions { for id in set.pods { total += replicas[id].inFlight } }
        return total
    }

    func modelReadyCount(revision: Int) -> Int {
        revisions[revision].pods.reduce(0) { $0 + (replicas[$1].modelLoaded ? 1 : 0) }
    }

    func loadingCount(revision: Int) -> Int {
        revisions[revision].pods.count - modelReadyCount(revision: revision)
    }

    /// Completed requests of the pods of `revision` (live counters; deleted pods' counters are gone).
    func completed(revision: Int) -> Int {
        revisions[revision].pods.reduce(0) { $0 + replicas[$1].completed }
    }

    // MARK: - Running

    /// Runs the simulation to the end.
    func run() {
        policy.setUp(self)
        events.schedule(.scenarioEvent, at: scenario.eventTime)
        events.schedule(.policyTick, at: policy.firstEvaluation)
        events.schedule(.scrape, at: Self.scrapeInterval)
        events.schedule(.sample, at: 0)
        if policy.usesDeploymentSync { events.schedule(.deploymentSync, at: 1) }
        let arrivals = workload.arrivals
        while true {
            var arrival = nextArrival < arrivals.count ? arrivals[nextArrival] : .infinity
            if arrival >= scenario.end { arrival = .infinity }
            let eventTime = events.nextTime
            if arrival <= eventTime, arrival.isFinite {
                now = arrival
                route(Int32(nextArrival))
                nextArrival += 1
                continue
            }
            guard eventTime <= hardEnd, let event = events.pop() else { break }
            now = event.time
            handle(event)
        }
        now = hardEnd
        for id in replicas.indices where replicas[id].active {
            while let request = replicas[id].dequeue() { fail(request) }
        }
    }

    private func handle(_ event: SimEvent) {
        switch event.kind {
        case .completion:
            let id = Int(event.a)
            guard replicas[id].version == event.b, replicas[id].active else { return }
            complete(pod: id)
        case .processReady:
            let id = Int(event.a)
            guard replicas[id].active, !replicas[id].terminating else { return }
            replicas[id].processReady = true
            let revision = replicas[id].revision
            if !revisions[revision].modelGated { revisions[revision].endpoints.append(id) }
        case .modelReady:
            let id = Int(event.a)
            guard replicas[id].active, !replicas[id].terminating else { return }
            replicas[id].modelLoaded = true
            observedColdStarts.append((id, replicas[id].coldStart))
            let revision = replicas[id].revision
            if revisions[revision].modelGated { revisions[revision].endpoints.append(id) }
            replicas[id].advance(to: now, engine: engine)
            admitFromQueue(pod: id)
            reschedule(pod: id)
            checkCapacity()
            policy.podModelReady(self, pod: id)
        case .policyTick:
            policy.evaluate(self)
            checkRolloutComplete()
            if now + policy.period <= hardEnd { events.schedule(.policyTick, at: now + policy.period) }
        case .scrape:
            scrape()
            if now + Self.scrapeInterval <= hardEnd { events.schedule(.scrape, at: now + Self.scrapeInterval) }
        case .sample:
            var ready = 0
            for set in revisions { for id in set.pods where replicas[id].modelLoaded { ready += 1 } }
            samples.append((now, activeReplicas, ready))
            if now + Self.sampleInterval <= scenario.end { events.schedule(.sample, at: now + Self.sampleInterval) }
        case .deploymentSync:
            policy.deploymentSync(self)
            checkRolloutComplete()
            if now + 1 <= hardEnd { events.schedule(.deploymentSync, at: now + 1) }
        case .scenarioEvent:
            if scenario.event == .rollout {
                rolloutRevisionStart = revisions.count
                policy.rolloutStarted(self)
            }
            checkCapacity()
        }
    }

    /// Replicas needed to carry the demand after the event at saturation.
    var replicasNeededAfterEvent: Int {
        Int((scenario.demandAfterEvent / engine.saturatedThroughput - 1e-9).rounded(.up))
    }

    /// Records when every request goes to the new revision: the route weighs only it, or (one Service over every
    /// revision) only its pods are endpoints — and the old revisions have no pods left that the route could use.
    private func checkRolloutComplete() {
        guard rolloutCompletedAt == nil, let first = rolloutRevisionStart else { return }
        let old = 0..<min(first, revisions.count)
        var complete: Bool
        switch routing {
        case .service:
            complete = old.allSatisfy { revisions[$0].endpoints.isEmpty && revisions[$0].pods.isEmpty }
        case .weighted(let weights):
            complete = old.allSatisfy { $0 >= weights.count || weights[$0] == 0 }
        }
        let fresh = first..<revisions.count
        complete = complete && fresh.contains { !revisions[$0].endpoints.isEmpty }
        if complete { rolloutCompletedAt = now }
    }

    private func checkCapacity() {
        guard capacityReachedAt == nil, now >= scenario.eventTime else { return }
        let first = scenario.event == .rollout ? 1 : 0
        guard first < revisions.count else { return }
        var ready = 0
        for revision in first..<revisions.count { ready += modelReadyCount(revision: revision) }
        if ready >= replicasNeededAfterEvent { capacityReachedAt = now }
    }

    private func scrape() {
        let window = max(now - lastScrapeTime, 1e-9)
        for id in replicas.indices where replicas[id].active {
            purgeExpired(pod: id)
            replicas[id].advance(to: now, engine: engine)
            scrapedMeanRunning[id] = (replicas[id].runningIntegral - scrapeIntegral[id]) / window
            scrapeIntegral[id] = replicas[id].runningIntegral
            scrapedWaiting[id] = replicas[id].waiting
        }
        lastScrapeTime = now
    }

    // MARK: - Requests

    private func route(_ request: Int32) {
        let afterEvent = now >= scenario.eventTime
        if afterEvent { requestsAfterEvent += 1 }
        guard let pod = pickEndpoint() else {
            fail(request)
            return
        }
        if afterEvent, let start = rolloutRevisionStart, replicas[pod].revision >= start {
            requestsToNewRevision += 1
            lastNewRevisionRequestAt = now
        }
        if !replicas[pod].modelLoaded { routedToUnloaded[Int(request)] = true }
        if replicas[pod].modelLoaded, replicas[pod].running < engine.concurrencyLimit, replicas[pod].waiting == 0 {
            replicas[pod].advance(to: now, engine: engine)
            admit(request, pod: pod)
            reschedule(pod: pod)
        } else {
            replicas[pod].enqueue(request)
        }
    }

    private func pickEndpoint() -> Int? {
        switch routing {
        case .service:
            let total = revisions.reduce(0) { $0 + $1.endpoints.count }
            guard total > 0 else { return nil }
            var index = revisions[0].roundRobin % total
            revisions[0].roundRobin = index + 1
            for set in revisions {
                if index < set.endpoints.count { return set.endpoints[index] }
                index -= set.endpoints.count
            }
            return nil
        case .weighted(let weights):
            let total = weights.reduce(0) { $0 + max(0, $1) }
            guard total > 0 else { return nil }
            var pick = Int(routingRandom.next() % UInt64(total))
            for (revision, weight) in weights.enumerated() where weight > 0 {
                if pick < weight {
                    guard revisions.indices.contains(revision) else { return nil }
                    let endpoints = revisions[revision].endpoints
                    guard !endpoints.isEmpty else { return nil }
                    let index = revisions[revision].roundRobin % endpoints.count
                    revisions[revision].roundRobin = index + 1
                    return endpoints[index]
                }
                pick -= weight
            }
            return nil
        }
    }

    private func fail(_ request: Int32) {
        ttft[Int(request)] = -1
    }

    /// Admits a request on a loaded pod with a free slot (the caller advanced the pod to `now`).
    private func admit(_ request: Int32, pod: Int) {
        let r = Int(request)
        let wait = now - workload.arrivals[r]
        let revision = revisions[replicas[pod].revision]
        if revision.errorRate > 0, failsOnBadRevision(r, rate: revision.errorRate) {
            // The engine fails the request before its first token (vLLM's `finished_reason="abort"`).
            fail(request)
            replicas[pod].aborted += 1
            return
        }
        let prefill =
            engine.prefillSeconds(promptTokens: Int(workload.promptTokens[r])) * revision.prefillFactor
        // A client whose first token would come after its timeout has gone by then (vLLM aborts the request).
        ttft[r] = wait + prefill > timeout ? -1 : Float(wait + prefill)
        guard wait + prefill <= timeout else {
            replicas[pod].aborted += 1
            return
        }
        replicas[pod].observeAdmission(wait: wait, ttft: wait + prefill)
        replicas[pod].running += 1
        let itl = engine.interTokenLatency(batch: replicas[pod].running)
        let target = replicas[pod].tokens + Double(workload.outputTokens[r]) + prefill / itl
        replicas[pod].pushDecode(DecodeEntry(target: target, request: request))
    }

    /// Whether a bad revision fails this request: a draw of its own per request and seed, the same for every policy.
    private func failsOnBadRevision(_ request: Int, rate: Double) -> Bool {
        var random = BenchRandom(seed: seed &* 0x2545_F491_4F6C_DD1D ^ UInt64(request) &* 0x9E37_79B9_7F4A_7C15)
        return random.unit() < rate
    }

    /// Drops queued requests whose client gave up (they are a prefix of the FIFO queue).
    private func purgeExpired(pod: Int) {
        while let head = replicas[pod].peekQueue(), now - workload.arrivals[Int(head)] > timeout {
            _ = replicas[pod].dequeue()
            replicas[pod].aborted += 1
            fail(head)
        }
    }

    private func admitFromQueue(pod: Int) {
        guard replicas[pod].modelLoaded else { return }
        purgeExpired(pod: pod)
        while replicas[pod].running < engine.concurrencyLimit, let request = replicas[pod].dequeue() {
            admit(request, pod: pod)
        }
    }

    private func complete(pod: Int) {
        replicas[pod].advance(to: now, engine: engine)
        if let entry = replicas[pod].popDecode() {
            let r = Int(entry.request)
            let firstToken = workload.arrivals[r] + Double(ttft[r])
            let gaps = max(1, Int(workload.outputTokens[r]) - 1)
            meanITL[r] = workload.outputTokens[r] > 1 ? Float(max(0, now - firstToken) / Double(gaps)) : 0
        }
        replicas[pod].running -= 1
        replicas[pod].completed += 1
        completedTotal += 1
        admitFromQueue(pod: pod)
        if replicas[pod].terminating, replicas[pod].inFlight == 0 {
            endPod(pod)
            return
        }
        reschedule(pod: pod)
    }

    private func reschedule(pod: Int) {
        replicas[pod].version &+= 1
        if let next = replicas[pod].nextCompletion(engine: engine) {
            events.schedule(.completion, at: max(next, now), a: Int32(pod), b: replicas[pod].version)
        }
    }
}
