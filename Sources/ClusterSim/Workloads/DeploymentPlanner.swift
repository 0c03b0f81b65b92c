import Foundation
import KubeCore

/// What the Deployment controller needs to know about one pod.
public struct DeploymentPodView: Sendable, Hashable {
    public var name: String
    public var created: Date
    public var scheduled: Bool
    public var ready: Bool
    /// Ready for at least `minReadySeconds`.
    public var available: Bool

    public init(name: String, created: Date, scheduled: Bool, ready: Bool, available: Bool) {
        self.name = name
        self.created = created
        self.scheduled = scheduled
        self.ready = ready
        self.available = available
    }
}

/// The pure decisions of the simulated Deployment controller: template hash, pod names, scale and rolling-update
/// steps, status and conditions. No I/O; time is passed in.
public enum DeploymentPlanner {
    /// The deployment strategy with resolved absolute numbers.
    public enum Strategy: Sendable, Hashable {
        case recreate
        case rollingUpdate(maxSurge: Int, maxUnavailable: Int)
    }

    /// Pods to create and pods (by name) to delete in one reconcile.
    public struct Plan: Sendable, Hashable {
        public var create: Int
        public var delete: [String]
        public init(create: Int = 0, delete: [String] = []) {
            self.create = create
            self.delete = delete
        }
    }

    /// Kubernetes' "safe" alphabet (no vowels, no confusable characters) used for hashes and name suffixes.
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// A stable 10-character `[a-z0-9]` hash of a pod template (its canonical JSON, without `pod-template-hash`).
    public static func podTemplateHash(_ template: JSONValue) -> String {
        var t = template
        if var labels = t[path: ["metadata", "labels"]]?.objectValue {
            labels["pod-template-hash"] = nil
            t[path: ["metadata", "labels"]] = .object(labels)
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in t.serialized().utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        var out = ""
        for _ in 0..<10 {
            out.append(alphabet[Int(hash % UInt64(alphabet.count))])
            hash /= UInt64(alphabet.count)
        }
        return out
    }

    /// Five random characters for a pod name suffix.
    public static func randomSuffix<G: RandomNumberGenerator>(using generator: inout G) -> String {
        String((0..<5).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// Resolves an int-or-percent (`1`, `"25%"`) against `total`, rounding up or down; `nil`/invalid gives the
    /// default.
    public static func resolve(_ value: JSONValue?, total: Int, roundUp: Bool, default fallback: String = "25%") -> Int
    {
        let v = value ?? .string(fallback)
        if let i = v.intValue { return max(0, Int(i)) }
        if let s = v.stringValue, s.hasSuffix("%"), let p = Double(s.dropLast()) {
            let exact = Double(total) * p / 100
            return max(0, Int(roundUp ? exact.rounded(.up) : exact.rounded(.down)))
        }
        if let s = v.stringValue, let i = Int(s) { return max(0, i) }
        return resolve(.string(fallback), total: total, roundUp: roundUp)
    }

    /// The strategy of a Deployment spec, with percentages resolved against `desired`.
    public static func strategy(_ spec: JSONValue?, desired: Int) -> Strategy {
        if spec?[path: ["strategy", "type"]]?.stringValue == "Recreate" { return .recreate }
        let rolling = spec?[path: ["strategy", "rollingUpdate"]]
        let surge = resolve(rolling?["maxSurge"], total: desired, roundUp: true)
        var unavailable = resolve(rolling?["maxUnavailable"], total: desired, roundUp: false)
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return .rollingUpdate(maxSurge: surge, maxUnavailable: unavailable)
    }

    /// Deletion order: unscheduled, then not ready, then not available, then newest first.
    static func deletionOrder(_ pods: [DeploymentPodView]) -> [DeploymentPodView] {
        pods.sorted { a, b in
            if a.scheduled != b.scheduled { return !a.scheduled }
            if a.ready != b.ready { return !a.ready }
            if a.available != b.available { return !a.available }
            if a.created != b.created { return a.created > b.created }
            return a.name > b.name
        }
    }

    /// One reconcile step towards `desired` pods of the current template.
    /// - Parameters:
    ///   - new: live pods of the current template; `old`: live pods of earlier templates.
    ///   - terminatingOld: old pods still shutting down (Recreate waits for them).
    public static func plan(
        desired: Int, strategy: Strategy, new: [DeploymentPodView], old: [DeploymentPodView], terminatingOld: Int = 0
    ) -> Plan {
        let desired = max(0, desired)
        func scaleNew() -> Plan {
            if new.count < desired { return Plan(create: desired - new.count) }
            return Plan(delete: deletionOrder(new).prefix(new.count - desired).map(\.name))
        }
        switch strategy {
        case .recreate:
            if !old.isEmpty { return Plan(delete: old.map(\.name)) }
            if terminatingOld > 0 { return Plan() }
            return scaleNew()
        case .rollingUpdate(let maxSurge, let maxUnavailable):
            if old.isEmpty { return scaleNew() }
            var plan = Plan()
            let total = new.count + old.count
            if new.count < desired {
                plan.create = max(0, min(desired + maxSurge - total, desired - new.count))
            } else if new.count > desired {
                plan.delete += deletionOrder(new).prefix(new.count - desired).map(\.name)
            }
            let minAvailable = desired - maxUnavailable
            let newUnavailable = new.filter { !$0.available }.count
            let maxScaledDown = total - minAvailable - newUnavailable
            guard maxScaledDown > 0 else { return plan }
            let unhealthyOld = deletionOrder(old.filter { !$0.available })
            let cleanup = unhealthyOld.prefix(maxScaledDown).map(\.name)
            plan.delete += cleanup
            let available = (new + old).filter(\.available).count
            let healthyOld = deletionOrder(old.filter(\.available))
            let scaleDown = min(maxScaledDown - cleanup.count, available - minAvailable, healthyOld.count)
            if scaleDown > 0 { plan.delete += healthyOld.prefix(scaleDown).map(\.name) }
            return plan
        }
    }

    /// The counts a Deployment status reports.
    public struct Counts: Sendable, Hashable {
        public var desired: Int
        public var replicas: Int
        public var updated: Int
        public var ready: Int
        public var available: Int
        public var oldReplicas: Int
        public init(desired: Int, replicas: Int, updated: Int, ready: Int, available: Int, oldReplicas: Int) {
            self.desired = desired
            self.replicas = replicas
            self.updated = updated
            self.ready = ready
            self.available = available
            self.oldReplicas = oldReplicas
        }
    }

    /// The Deployment status for `counts`, keeping condition times from `previous` where nothing changed.
    public static func status(
        counts c: Counts, generation: Int64, maxUnavailable: Int, replicaSetName: String,
        progressDeadlineSeconds: Int, previous: JSONValue?, now: Date
    ) -> JSONValue {
        let stamp = JSONValue.string(KubeTime.format(now))
        let previousConditions = previous?["conditions"]?.arrayValue ?? []
        func previousCondition(_ type: String) -> JSONValue? {
            previousConditions.first { $0["type"]?.stringValue == type }
        }
        let progressed =
            previous.map {
                ($0["updatedReplicas"]?.intValue ?? 0) != Int64(c.updated)
                    || ($0["readyReplicas"]?.intValue ?? 0) != Int64(c.ready)
                    || ($0["availableReplicas"]?.intValue ?? 0) != Int64(c.available)
                    || ($0["replicas"]?.intValue ?? 0) != Int64(c.replicas)
            } ?? true
        func condition(_ type: String, _ status: Bool, _ reason: String, _ message: String, touch: Bool) -> JSONValue {
            let old = previousCondition(type)
            let statusText = status ? "True" : "False"
            let sameStatus = old?["status"]?.stringValue == statusText
            let same = sameStatus && old?["reason"]?.stringValue == reason && old?["message"]?.stringValue == message
            return [
                "type": .string(type), "status": .string(statusText), "reason": .string(reason),
                "message": .string(message),
                "lastUpdateTime": (same && !touch) ? (old?["lastUpdateTime"] ?? stamp) : stamp,
                "lastTransitionTime": sameStatus ? (old?["lastTransitionTime"] ?? stamp) : stamp,
            ]
        }
        let minAvailable = c.desired - maxUnavailable
        let available =
            c.available >= minAvailable
            ? condition(
                "Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability.", touch: false)
            : condition(
                "Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.",
                touch: false)
        let complete =
            c.updated == c.desired && c.replicas == c.desired && c.available == c.desired && c.oldReplicas == 0
        let progressing: JSONValue
        if complete {
            progressing = condition(
                "Progressing", true, "NewReplicaSetAvailable",
                "ReplicaSet \"\(replicaSetName)\" has successfully progressed.", touch: false)
        } else {
            let old = previousCondition("Progressing")
            let lastUpdate = old?["lastUpdateTime"]?.stringValue.flatMap(KubeTime.parse)
            let stalled =
                !progressed && old?["reason"]?.stringValue != "NewReplicaSetAvailable"
                && lastUpdate.map { now.timeIntervalSince($0) > Double(progressDeadlineSeconds) } ?? false
            if stalled || old?["reason"]?.stringValue == "ProgressDeadlineExceeded" && !progressed {
                progressing = condition(
                    "Progressing", false, "ProgressDeadlineExceeded",
                    "ReplicaSet \"\(replicaSetName)\" has timed out progressing.", touch: false)
            } else {
                progressing = condition(
                    "Progressing", true, "ReplicaSetUpdated", "ReplicaSet \"\(replicaSetName)\" is progressing.",
                    touch: progressed)
            }
        }
        var status: [String: JSONValue] = [
            "observedGeneration": .int(generation), "conditions": [available, progressing],
        ]
        // Zero counts are omitted, as the real API (omitempty) does.
        let fields: [(String, Int)] = [
            ("replicas", c.replicas), ("updatedReplicas", c.updated), ("readyReplicas", c.ready),
            ("availableReplicas", c.available), ("unavailableReplicas", max(0, c.desired - c.available)),
        ]
        for (key, value) in fields where value > 0 { status[key] = .int(Int64(value)) }
        return .object(status)
    }
}
