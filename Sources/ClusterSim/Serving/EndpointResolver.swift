import Foundation
import KubeCore

/// One Ready endpoint of a Service or an InferencePool: a pod address and the resolved target port.
public struct ServiceEndpoint: Sendable, Hashable {
    public var namespace: String
    public var pod: String
    public var ip: String
    public var port: Int
    /// The name of the Deployment that owns the pod ("" when it has no such owner).
    public var revision: String

    public init(namespace: String, pod: String, ip: String, port: Int, revision: String) {
        self.namespace = namespace
        self.pod = pod
        self.ip = ip
        self.port = port
        self.revision = revision
    }
}

/// Resolves a Service port to Ready pod endpoints the way the EndpointSlice controller does: pods of the Service's
/// namespace matching `spec.selector`, not terminating, with `Ready=True` and a pod IP; the target port from the
/// Service port's `targetPort` (a number, or a container port name looked up in each pod; default: the port).
public enum EndpointResolver {
    /// Why a Service port has no endpoints to offer.
    public enum Failure: Error, Sendable, Hashable {
        /// The Service has no port with this number (or no ports at all).
        case noSuchPort(Int?)
    }

    /// The Service port entry for `port` (the first port when nil).
    public static func servicePort(_ service: JSONValue, port: Int?) -> JSONValue? {
        let ports = service[path: ["spec", "ports"]]?.arrayValue ?? []
        guard let port else { return ports.first }
        return ports.first { $0["port"]?.intValue == Int64(port) }
    }

    /// The Ready endpoints of `service` on `port` (nil: its first port) among `pods` (any namespaces).
    public static func endpoints(
        service: JSONValue, port: Int?, pods: [JSONValue]
    ) -> Result<[ServiceEndpoint], Failure> {
        guard let entry = servicePort(service, port: port), let servicePort = entry["port"]?.intValue else {
            return .failure(.noSuchPort(port))
        }
        let namespace = service[path: ["metadata", "namespace"]]?.stringValue ?? "default"
        guard let selector = service[path: ["spec", "selector"]]?.objectValue, !selector.isEmpty else {
            return .success([])  // selector-less Services get no managed endpoints
        }
        var result: [ServiceEndpoint] = []
        for pod in pods where pod[path: ["metadata", "namespace"]]?.stringValue == namespace {
            let labels = pod[path: ["metadata", "labels"]]?.objectValue ?? [:]
            guard selector.allSatisfy({ labels[$0.key] == $0.value }), isReady(pod),
                let ip = pod[path: ["status", "podIP"]]?.stringValue, !ip.isEmpty,
                let target = targetPort(entry, servicePort: Int(servicePort), pod: pod)
            else { continue }
            result.append(
                ServiceEndpoint(
                    namespace: namespace, pod: pod[path: ["metadata", "name"]]?.stringValue ?? "", ip: ip,
                    port: target, revision: revision(of: pod)))
        }
        return .success(result.sorted { $0.pod < $1.pod })
    }

    /// The Ready member endpoints of an InferencePool among `pods` (any namespaces): pods of the pool's namespace
    /// whose labels match `spec.selector.matchLabels`, not terminating, with `Ready=True` and a pod IP. The port is
    /// the first of `spec.targetPorts`: upstream every `podIP:targetPort` is an endpoint of its own, but our
    /// simulated model servers serve one port, so the emulated gateway sends to one. No Service is involved.
    public static func endpoints(pool: JSONValue, pods: [JSONValue]) -> [ServiceEndpoint] {
        let namespace = pool[path: ["metadata", "namespace"]]?.stringValue ?? "default"
        let spec = InferencePoolSpec(raw: pool["spec"] ?? [:])
        guard let port = spec.targetPorts.first?.number, port > 0 else { return [] }
        var result: [ServiceEndpoint] = []
        for pod in pods where pod[path: ["metadata", "namespace"]]?.stringValue == namespace {
            let labels = (pod[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            guard spec.selects(labels: labels), isReady(pod),
                let ip = pod[path: ["status", "podIP"]]?.stringValue, !ip.isEmpty
            else { continue }
            result.append(
                ServiceEndpoint(
                    namespace: namespace, pod: pod[path: ["metadata", "name"]]?.stringValue ?? "", ip: ip,
                    port: Int(port), revision: revision(of: pod)))
        }
        return result.sorted { $0.pod < $1.pod }
    }

    /// Serving: not terminating, not finished, and condition `Ready=True`.
    public static func isReady(_ pod: JSONValue) -> Bool {
        if pod[path: ["metadata", "deletionTimestamp"]] != nil { return false }
        let phase = pod[path: ["status", "phase"]]?.stringValue
        if phase == "Succeeded" || phase == "Failed" { return false }
        let conditions = pod[path: ["status", "conditions"]]?.arrayValue ?? []
        return conditions.contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
    }

    /// The pod port a Service port sends to; nil when a named target port is not declared by the pod.
    public static func targetPort(_ servicePort: JSONValue, servicePort port: Int, pod: JSONValue) -> Int? {
        guard let target = servicePort["targetPort"] else { return port }
        if let number = target.intValue { return Int(number) }
        guard let name = target.stringValue else { return port }
        if let number = Int(name) { return number }
        for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            for declared in container["ports"]?.arrayValue ?? [] where declared["name"]?.stringValue == name {
                if let number = declared["containerPort"]?.intValue { return Int(number) }
            }
        }
        return nil
    }

    /// The owning Deployment's name: an owner of kind Deployment, or a ReplicaSet owner without its
    /// `-<pod-template-hash>` suffix; "" when the pod has neither.
    public static func revision(of pod: JSONValue) -> String {
        let owners = pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
        if let deployment = owners.first(where: { $0["kind"]?.stringValue == "Deployment" }) {
            return deployment["name"]?.stringValue ?? ""
        }
        if let replicaSet = owners.first(where: { $0["kind"]?.stringValue == "ReplicaSet" }),
            let name = replicaSet["name"]?.stringValue
        {
            if let hash = pod[path: ["metadata", "labels", "pod-template-hash"]]?.stringValue,
                name.hasSuffix("-" + hash)
            {
                return String(name.dropLast(hash.count + 1))
            }
            return name
        }
        return ""
    }
}

/// The queue of one model-server pod as its metrics report it (`vllm:num_requests_waiting`,
/// `vllm:num_requests_running`).
public struct PodQueueState: Sendable, Hashable {
    public var waiting: Int
    public var running: Int

    public init(waiting: Int, running: Int) {
        self.waiting = waiting
        self.running = running
    }
}

/// The emulated gateway's stand-in for an InferencePool's endpoint picker (EPP), reduced to its basic queue
/// scoring: the endpoint with the fewest waiting requests, then the fewest running, then the fewest requests the
/// gateway itself has in flight to it (which counts requests dispatched but not yet admitted by the server, so a
/// burst spreads instead of piling onto the pod whose metrics were best a moment ago); remaining ties are broken
/// at random. KV-cache, prefix and LoRA affinity scorers are not modelled.
public enum EndpointPicker {
    /// What the picker knows about one candidate.
    public struct Candidate: Sendable, Hashable {
        public var endpoint: ServiceEndpoint
        /// The server's queue; nil when unknown (then only `inFlight` counts, as running requests).
        public var queue: PodQueueState?
        /// Requests the gateway has dispatched to the endpoint and not yet seen finish.
        public var inFlight: Int

        public init(endpoint: ServiceEndpoint, queue: PodQueueState?, inFlight: Int) {
            self.endpoint = endpoint
            self.queue = queue
            self.inFlight = inFlight
        }

        /// Compared lexicographically, smaller is better: waiting, running, in flight.
        var score: [Int] {
            guard let queue else { return [0, inFlight, inFlight] }
            return [queue.waiting, queue.running, inFlight]
        }
    }

    /// The candidates that tie for the best score (in the given order); empty when there are none.
    public static func best(_ candidates: [Candidate]) -> [Candidate] {
        guard let top = candidates.map(\.score).min(by: { $0.lexicographicallyPrecedes($1) }) else { return [] }
        return candidates.filter { $0.score == top }
    }

    /// One of the best candidates, chosen with `generator`; nil when there are none.
    public static func pick<R: RandomNumberGenerator>(_ candidates: [Candidate], using generator: inout R)
        -> ServiceEndpoint?
    {
        best(candidates).randomElement(using: &generator)?.endpoint
    }
}

/// An in-memory copy of the objects the gateway routes by (pods, Services, HTTPRoutes, InferencePools), fed by the
/// storage's change streams so a change is visible as soon as it is written. A resource whose CRD is not installed
/// (HTTPRoute, InferencePool) simply has no objects; its stream starts delivering once the CRD is created.
actor ServingObjectCache {
    private let store: any ClusterObjectStore
    private var pods: [String: JSONValue] = [:]
    private var services: [String: JSONValue] = [:]
    private var routes: [String: JSONValue] = [:]
    private var pools: [String: JSONValue] = [:]
    private var tasks: [Task<Void, Never>] = []

    init(store: any ClusterObjectStore) {
        self.store = store
    }

    static func key(_ object: JSONValue) -> String {
        (object[path: ["metadata", "namespace"]]?.stringValue ?? "") + "/"
            + (object[path: ["metadata", "name"]]?.stringValue ?? "")
    }

    static func resourceVersion(_ object: JSONValue) -> Int64 {
        Int64(object[path: ["metadata", "resourceVersion"]]?.stringValue ?? "") ?? 0
    }

    /// Subscribes to changes, then lists (so nothing written in between is missed).
    func start() async {
        guard tasks.isEmpty else { return }
        for resource in [ResourceDescriptor.pods, .services, .httpRoutes, .inferencePools] {
            let changes = await store.changes(resource)
            for object in await store.list(resource, namespace: nil) { apply(resource, object, deleted: false) }
            tasks.append(
                Task {
                    for await change in changes {
                        if Task.isCancelled { return }
                        self.apply(resource, change.object, deleted: change.kind == .deleted)
                    }
                })
        }
    }

    func stop() {
        for task in tasks { task.cancel() }
        tasks = []
    }

    private func apply(_ resource: ResourceDescriptor, _ object: JSONValue, deleted: Bool) {
        let key = Self.key(object)
        func update(_ table: inout [String: JSONValue]) {
            if deleted {
                if let current = table[key], Self.resourceVersion(current) > Self.resourceVersion(object) { return }
                table[key] = nil
            } else {
                if let current = table[key], Self.resourceVersion(current) > Self.resourceVersion(object) { return }
                table[key] = object
            }
        }
        switch resource {
        case .pods: update(&pods)
        case .services: update(&services)
        case .inferencePools: update(&pools)
        default: update(&routes)
        }
    }

    func service(namespace: String, name: String) -> JSONValue? { services[namespace + "/" + name] }

    func inferencePool(namespace: String, name: String) -> JSONValue? { pools[namespace + "/" + name] }

    func pods(namespace: String) -> [JSONValue] {
        let prefix = namespace + "/"
        return pods.filter { $0.key.hasPrefix(prefix) }.map(\.value)
    }

    /// HTTPRoutes, optionally only in `namespaces`.
    func routes(in namespaces: Set<String>?) -> [JSONValue] {
        routes.values.filter { route in
            guard let namespaces else { return true }
            return namespaces.contains(route[path: ["metadata", "namespace"]]?.stringValue ?? "")
        }
    }
}
