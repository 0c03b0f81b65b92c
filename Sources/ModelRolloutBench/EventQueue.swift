/// A scheduled occurrence in virtual time.
struct SimEvent {
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

    @inline(__always)
    func before(_ other: SimEvent) -> Bool {
        time < other.time || (time == other.time && seq < other.seq)
    }
}

/// A binary min-heap of events ordered by time, then by scheduling order (so equal times are deterministic).
struct EventQueue {
    private var heap: [SimEvent] = []
    private var seq: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var nextTime: Double { heap.first?.time ?? .infinity }

    mutating func schedule(_ kind: SimEvent.Kind, at time: Double, a: Int32 = 0, b: UInt32 = 0) {
        seq &+= 1
        heap.append(SimEvent(time: time, seq: seq, kind: kind, a: a, b: b))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !heap[child].before(heap[parent]) { break }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> SimEvent? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                if left >= count { break }
                let right = left + 1
                var smallest = left
                if right < count, heap[right].before(heap[left]) { smallest = right }
                if !heap[smallest].before(heap[parent]) { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
