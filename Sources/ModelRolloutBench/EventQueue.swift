import HeapModule

/// A scheduled occurrence in virtual time, ordered by time, then by scheduling order.
struct SimEvent: Comparable {
    enum Kind: UInt8 {
        /// The next running sequence of pod `a` finishes (valid while the pod's version is `b`).
        case completion
        /// Pod `a` passes a process-level readiness probe.
        case processReady
        /// Pod `a` has loaded the model and serves it.
        case modelReady
        /// The policy evaluates.
        case policyTick
        /// Metrics are scraped (every 15 s, as Prometheus and metrics-server do).
        case scrape
        /// A time-series sample (every 10 s).
        case sample
        /// The Deployment controller reconciles rolling updates (every second).
        case deploymentSync
        /// The scenario's event.
        case scenarioEvent
    }

    var time: Double
    var seq: UInt64
    var kind: Kind
    var a: Int32 = 0
    var b: UInt32 = 0

    static func < (a: SimEvent, b: SimEvent) -> Bool { a.time < b.time || (a.time == b.time && a.seq < b.seq) }
    static func == (a: SimEvent, b: SimEvent) -> Bool { a.seq == b.seq }
}

/// The pending events, earliest first, then by scheduling order (so equal times are deterministic).
struct EventQueue {
    private var heap = Heap<SimEvent>()
    private var seq: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var nextTime: Double { heap.min?.time ?? .infinity }

    mutating func schedule(_ kind: SimEvent.Kind, at time: Double, a: Int32 = 0, b: UInt32 = 0) {
        seq &+= 1
        heap.insert(SimEvent(time: time, seq: seq, kind: kind, a: a, b: b))
    }

    mutating func pop() -> SimEvent? { heap.popMin() }
}
