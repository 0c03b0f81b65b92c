import AsyncHTTPClient
import Foundation
import KubeCore
import Logging

/// Annotations that tune one simulated pod.
public enum SimAnnotations {
    /// Simulated seconds of model weight loading (vLLM), e.g. `"300"`.
    public static let loadSeconds = "sim.modelrollout.io/load-seconds"
    /// Simulated seconds of image pull on a node that does not have the image yet.
    public static let pullSeconds = "sim.modelrollout.io/pull-seconds"
    /// An injected vLLM failure: `oom` (CUDA OOM after the load line) or `unauthorized` (Hub 401).
    public static let fail = "sim.modelrollout.io/fail"
    /// The vLLM release whose log/metrics formats to imitate, e.g. `0.11.0` or `0.6.3.post1`.
    public static let vllmVersion = "sim.modelrollout.io/vllm-version"
    /// Simulated seconds of engine initialisation after the weights (profiling, KV cache, warm-up).
    public static let engineInitSeconds = "sim.modelrollout.io/engine-init-seconds"
    /// Multiplies the simulated vLLM's prefill and inter-token latency, e.g. `"4"` for a 4× slower revision.
    public static let slowdown = "sim.modelrollout.io/slowdown"
    /// Requests the simulated vLLM decodes at once (more wait in its queue), e.g. `"8"`; default 256.
    public static let maxConcurrency = "sim.modelrollout.io/max-concurrency"
    /// The runtime the simulated server imitates: `vllm` (default), `sglang` or `tgi` (log lines, metric names).
    public static let runtime = "sim.modelrollout.io/runtime"
}

/// Settings of the simulated node pool and kubelet.
public struct KubeletConfiguration: Sendable {
    public var nodeCount: Int
    public var gpusPerNode: Int
    /// The first pod gets this address + 2 (e.g. `127.1.0.0` → `127.1.0.2`, `127.1.0.3`, ...).
    /// Linux routes all of 127.0.0.0/8 to `lo`, so every pod listens on its own address at its container port
    /// (verified: binding 127.1.0.2:8000 works without root or aliases). macOS only has 127.0.0.1 unless aliases
    /// are added (`ifconfig lo0 alias 127.1.0.2`); there a vLLM bind fails and the container crash-loops.
    public var baseAddress: String
    /// Simulated seconds of an image pull on a node without the image; with the image it takes 1 s.
    public var defaultPullSeconds: Double
    /// Simulated seconds of vLLM model loading.
    public var defaultLoadSeconds: Double
    public var defaultVLLMVersion: VLLMVersion
    public var resyncSeconds: Double
    /// Simulated serving seconds per wall second for vLLM request latencies (independent of the clock's scale).
    public var servingTimeScale: Double

    public init(
        nodeCount: Int = 2, gpusPerNode: Int = 8, baseAddress: String = "127.1.0.0", defaultPullSeconds: Double = 20,
        defaultLoadSeconds: Double = 120, defaultVLLMVersion: VLLMVersion = .modern, resyncSeconds: Double = 10,
        servingTimeScale: Double = 1
    ) {
        self.nodeCount = max(1, nodeCount)
        self.gpusPerNode = max(0, gpusPerNode)
        self.baseAddress = baseAddress
        self.defaultPullSeconds = defaultPullSeconds
        self.defaultLoadSeconds = defaultLoadSeconds
        self.defaultVLLMVersion = defaultVLLMVersion
        self.resyncSeconds = resyncSeconds
        self.servingTimeScale = servingTimeScale > 0 && servingTimeScale.isFinite ? servingTimeScale : 1
    }
}

/// The simulated kubelet and scheduler of a GPU node pool: it binds pods to nodes with finite `nvidia.com/gpu`
/// capacity, gives each pod its own loopback IP, pulls images (faster when the node has them), starts a simulated
/// vLLM (or a generic process) per container, runs readiness probes and writes pod status through `/status`.
///
/// Readiness: an `httpGet` readiness probe is really sent to the pod IP, so a `/health` or `/v1/models` probe passes
/// only once vLLM serves; a `tcpSocket`/`exec` probe or no probe makes the container ready as soon as it started —
/// the "process ready while the model loads" case.
public actor Kubelet {
    struct Node {
        var name: String
        var address: String
        var gpuCapacity: Int
        var gpusUsed = 0
        var images: Set<String> = []
    }

    enum ContainerState: Equatable {
        case waiting(reason: String, message: String?)
        case running(startedAt: Date)
        case terminated(exitCode: Int32, reason: String, startedAt: Date, finishedAt: Date)
    }

    struct ContainerRuntime {
        var name: String
        var image: String
        var state: ContainerState = .waiting(reason: "ContainerCreating", message: nil)
        var lastState: ContainerState?
        var ready = false
        var started = false
        var restartCount = 0
        var containerID = ""
        var process: (any SimulatedProcess)?
    }

    struct PodRuntime {
        var uid: String
        var namespace: String
        var name: String
        var node: String
        var ip: String
        var gpus: Int
        var startTime: Date
        var containers: [ContainerRuntime]
        var conditionTimes: [String: (Bool, Date)] = [:]
        var task: Task<Void, Never>?
    }

    struct PodKey: Hashable {
        var namespace: String
        var name: String
    }

    private let store: any ClusterObjectStore
    private let clock: any WorkloadClock
    private let logs: ContainerLogStore
    public let configuration: KubeletConfiguration
    private let logger: Logger
    private var nodes: [Node]
    private var pods: [PodKey: PodRuntime] = [:]
    private var unschedulable: [PodKey: Date] = [:]
    private var nextAddress: UInt32
    private var nextPID = 1
    private var tasks: [Task<Void, Never>] = []
    /// Set by ``stop()``: freed GPUs no longer schedule waiting pods.
    private var stopping = false
    /// Deleted pods whose servers are finishing their requests (``terminateGracefully(_:)``).
    private var drains: [PodKey: Task<Void, Never>] = [:]
    /// Simulated seconds a deleted pod's server gets to finish its requests (a pod's default
    /// `terminationGracePeriodSeconds`).
    static let gracefulDrainSeconds = 30.0

    public init(
        store: any ClusterObjectStore, clock: any WorkloadClock, logs: ContainerLogStore,
        configuration: KubeletConfiguration = KubeletConfiguration(),
        logger: Logger = Logger(label: "clustersim.kubelet", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.store = store
        self.clock = clock
        self.logs = logs
        self.configuration = configuration
        self.logger = logger
        let base = Self.parseIPv4(configuration.baseAddress) ?? Self.parseIPv4("127.1.0.0") ?? 0x7F01_0000
        self.nextAddress = base &+ 2
        self.nodes = (1...configuration.nodeCount).map {
            Node(name: "gpu-node-\($0)", address: "127.0.0.1", gpuCapacity: configuration.gpusPerNode)
        }
    }

    static func parseIPv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".").compactMap { UInt32($0) }
        guard parts.count == 4, parts.allSatisfy({ $0 < 256 }) else { return nil }
        return parts.reduce(0) { $0 << 8 | $1 }
    }

    static func formatIPv4(_ value: UInt32) -> String {
        "\(value >> 24).\((value >> 16) & 255).\((value >> 8) & 255).\(value & 255)"
    }

    /// Starts watching pods (and registers the nodes, best effort). Calling it twice does nothing.
    public func start() async {
        guard tasks.isEmpty else { return }
        await registerNodes()
        let changes = await store.changes(.pods)
        for pod in await store.list(.pods, namespace: nil) { await handle(pod, deleted: false) }
        tasks.append(
            Task {
                for await change in changes {
                    if Task.isCancelled { return }
                    await self.handle(change.object, deleted: change.kind == .deleted)
                }
            })
        let clock = self.clock
        let resync = max(0.1, configuration.resyncSeconds)
        tasks.append(
            Task {
                while !Task.isCancelled {
                    do { try await clock.sleep(simulatedSeconds: resync) } catch { return }
                    await self.resync()
                }
            })
    }

    /// Stops watching and stops every process (pods keep their last written status).
    public func stop() async {
        stopping = true
        for task in tasks { task.cancel() }
        tasks = []
        // Readiness probes end first (cancelling a pod's task cancels its probe loops) and get a moment to finish
        // what they sent: a probe connecting to a server that is closing races the server's teardown in NIO.
        for runtime in pods.values { runtime.task?.cancel() }
        try? await Task.sleep(for: .milliseconds(100))
        for key in Array(pods.keys) { await terminate(key) }
        let draining = Array(drains.values)
        for task in draining { task.cancel() }
        for task in draining { await task.value }
    }

    /// Which node a pod runs on and its IP (nil when not scheduled by this kubelet).
    public func placement(namespace: String, name: String) -> (node: String, ip: String)? {
        pods[PodKey(namespace: namespace, name: name)].map { ($0.node, $0.ip) }
    }

    /// The simulated processes of a pod's containers in order (nil for a container not running), or nil when
    /// this kubelet does not run the pod.
    func processes(namespace: String, name: String) -> [(any SimulatedProcess)?]? {
        pods[PodKey(namespace: namespace, name: name)]?.containers.map(\.process)
    }

    /// GPUs in use per node name.
    public func gpuUsage() -> [String: Int] {
        Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0.gpusUsed) })
    }

    private func registerNodes() async {
        for node in nodes {
            let object: JSONValue = [
                "apiVersion": "v1", "kind": "Node",
                "metadata": [
                    "name": .string(node.name),
                    "labels": [
                        "kubernetes.io/hostname": .string(node.name), "nvidia.com/gpu.present": "true",
                        "node.kubernetes.io/instance-type": "sim-gpu",
                    ],
                ],
                "spec": [:],
                "status": [
                    "capacity": ["nvidia.com/gpu": .string("\(node.gpuCapacity)"), "cpu": "96", "pods": "110"],
                    "allocatable": ["nvidia.com/gpu": .string("\(node.gpuCapacity)"), "cpu": "96", "pods": "110"],
                    "addresses": [["type": "InternalIP", "address": .string(node.address)]],
                    "conditions": [
                        [
                            "type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastTransitionTime": .string(KubeTime.format(clock.now())),
                            "lastHeartbeatTime": .string(KubeTime.format(clock.now())),
                        ]
                    ],
                ],
            ]
            _ = try? await store.create(.nodes, object)
        }
    }

    private func resync() async {
        for pod in await store.list(.pods, namespace: nil) {
            let key = Self.key(pod)
            if pods[key] == nil || pod[path: ["metadata", "deletionTimestamp"]] != nil {
                await handle(pod, deleted: false)
            }
        }
    }

    static func key(_ pod: JSONValue) -> PodKey {
        PodKey(
            namespace: pod[path: ["metadata", "namespace"]]?.stringValue ?? "default",
            name: pod[path: ["metadata", "name"]]?.stringValue ?? "")
    }

    // MARK: Pod events

    private func handle(_ pod: JSONValue, deleted: Bool) async {
        let key = Self.key(pod)
        let uid = pod[path: ["metadata", "uid"]]?.stringValue ?? ""
        if deleted {
            if let runtime = pods[key], runtime.uid == uid || uid.isEmpty { await terminateGracefully(key) }
            unschedulable[key] = nil
            await logs.removePod(namespace: key.namespace, pod: key.name)
            return
        }
        if pod[path: ["metadata", "deletionTimestamp"]] != nil {
            await terminate(key)
            unschedulable[key] = nil
            do {
                try await store.delete(.pods, namespace: key.namespace, name: key.name)
            } catch {}
            return
        }
        if let runtime = pods[key] {
            if runtime.uid == uid { return }
            await terminate(key)  // a new pod with the same name
        }
        let phase = pod[path: ["status", "phase"]]?.stringValue
        if phase == "Succeeded" || phase == "Failed" { return }
        await schedule(pod, key: key, uid: uid)
    }

    static func gpuRequest(_ pod: JSONValue) -> Int {
        var total = 0
        for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            let value =
                container[path: ["resources", "limits", "nvidia.com/gpu"]]
                ?? container[path: ["resources", "requests", "nvidia.com/gpu"]]
            if let i = value?.intValue {
                total += Int(i)
            } else if let s = value?.stringValue, let i = Int(s) {
                total += i
            }
        }
        return max(0, total)
    }

    private func schedule(_ pod: JSONValue, key: PodKey, uid: String) async {
        // Once only: the watch and the retry of unschedulable pods (after GPUs are freed) can both reach a pod
        // across a suspension; a second runtime would start a second server on the pod's address.
        guard pods[key] == nil else { return }
        let gpus = Self.gpuRequest(pod)
        let requested = pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
        let candidates = nodes.indices.filter { requested.isEmpty || nodes[$0].name == requested }
        // Most-allocated first keeps whole nodes free for large pods.
        let fitting = candidates.filter { nodes[$0].gpuCapacity - nodes[$0].gpusUsed >= gpus }
            .sorted { nodes[$0].gpusUsed > nodes[$1].gpusUsed }
        guard let index = fitting.first else {
            await markUnschedulable(key: key, uid: uid, gpus: gpus)
            return
        }
        nodes[index].gpusUsed += gpus
        unschedulable[key] = nil
        let ip = Self.formatIPv4(allocateAddress())
        let containers = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).map {
            ContainerRuntime(name: $0["name"]?.stringValue ?? "main", image: $0["image"]?.stringValue ?? "")
        }
        var runtime = PodRuntime(
            uid: uid, namespace: key.namespace, name: key.name, node: nodes[index].name, ip: ip, gpus: gpus,
            startTime: clock.now(), containers: containers)
        runtime.task = Task { await self.run(key: key, pod: pod) }
        pods[key] = runtime
        if requested.isEmpty { await bind(key: key, uid: uid, node: nodes[index].name) }
    }

    private func allocateAddress() -> UInt32 {
        while true {
            let address = nextAddress
            nextAddress &+= 1
            let last = address & 255
            if last != 0 && last != 255 && last != 1 { return address }
        }
    }

    /// Sets `spec.nodeName` (what the scheduler's binding does).
    private func bind(key: PodKey, uid: String, node: String) async {
        for _ in 0..<5 {
            guard var pod = await store.get(.pods, namespace: key.namespace, name: key.name),
                pod[path: ["metadata", "uid"]]?.stringValue == uid
            else { return }
            if pod[path: ["spec", "nodeName"]]?.stringValue == node { return }
            pod[path: ["spec", "nodeName"]] = .string(node)
            do {
                _ = try await store.update(.pods, pod, subresource: nil)
                return
            } catch let error as APIStatus where error.isConflict {
                continue
            } catch {
                logger.debug("kubelet.bind.failed", metadata: ["k8s.name": "\(key.name)", "error": "\(error)"])
                return
            }
        }
    }

    private func markUnschedulable(key: PodKey, uid: String, gpus: Int) async {
        let since = unschedulable[key] ?? clock.now()
        unschedulable[key] = since
        let free = nodes.map { $0.gpuCapacity - $0.gpusUsed }
        let short = free.filter { $0 < gpus }.count
        let message =
            "0/\(nodes.count) nodes are available: \(short) Insufficient nvidia.com/gpu. preemption: 0/\(nodes.count) "
            + "nodes are available: \(nodes.count) No preemption victims found for incoming pod."
        let status: JSONValue = [
            "phase": "Pending", "qosClass": "BestEffort",
            "conditions": [
                [
                    "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message),
                    "lastProbeTime": nil, "lastTransitionTime": .string(KubeTime.format(since)),
                ]
            ],
        ]
        await write(status: status, key: key, uid: uid)
    }

    // MARK: Running a pod

    private func run(key: PodKey, pod: JSONValue) async {
        await writeStatus(key)
        let annotations = pod[path: ["metadata", "annotations"]]?.objectValue ?? [:]
        let specs = pod[path: ["spec", "containers"]]?.arrayValue ?? []
        let pullSeconds =
            annotations[SimAnnotations.pullSeconds]?.stringValue.flatMap(Double.init)
            ?? configuration.defaultPullSeconds
        for (index, spec) in specs.enumerated() {
            let image = spec["image"]?.stringValue ?? ""
            guard let nodeName = pods[key]?.node, let nodeIndex = nodes.firstIndex(where: { $0.name == nodeName })
            else { return }
            let cached = nodes[nodeIndex].images.contains(image)
            let policy = spec["imagePullPolicy"]?.stringValue
            let pull = (cached && policy != "Always") ? min(1, pullSeconds) : pullSeconds
            do { try await clock.sleep(simulatedSeconds: pull) } catch { return }
            nodes[nodeIndex].images.insert(image)
            _ = index
        }
        guard !Task.isCancelled else { return }
        let restartPolicy = pod[path: ["spec", "restartPolicy"]]?.stringValue ?? "Always"
        await withTaskGroup(of: Void.self) { group in
            for (index, spec) in specs.enumerated() {
                group.addTask {
                    await self.supervise(
                        key: key, index: index, spec: spec, annotations: annotations, restartPolicy: restartPolicy)
                }
            }
        }
    }

    /// Runs one container: start, probe, and restart with back-off when it exits.
    private func supervise(
        key: PodKey, index: Int, spec: JSONValue, annotations: [String: JSONValue], restartPolicy: String
    ) async {
        var backoff = 10.0
        while !Task.isCancelled {
            guard let process = await launch(key: key, index: index, spec: spec, annotations: annotations) else {
                return
            }
            let probe = Task { await self.probeLoop(key: key, index: index, spec: spec) }
            let code = await withTaskCancellationHandler {
                await process.waitForExit()
            } onCancel: {
                probe.cancel()
            }
            probe.cancel()
            guard !Task.isCancelled, pods[key] != nil else { return }
            await exited(key: key, index: index, code: code)
            let restart = restartPolicy == "Always" || (restartPolicy == "OnFailure" && code != 0)
            guard restart else { return }
            setContainer(key, index) {
                $0.state = .waiting(
                    reason: "CrashLoopBackOff",
                    message: "back-off \(Int(backoff))s restarting failed container=\($0.name) pod=\(key.name)")
            }
            await writeStatus(key)
            do { try await clock.sleep(simulatedSeconds: backoff) } catch { return }
            backoff = min(300, backoff * 2)
        }
    }

    /// The runtime a container runs, when the simulator serves it: the `sim.modelrollout.io/runtime` annotation,
    /// else SGLang or TGI recognised by image or command, else vLLM recognised the same way; `nil` for any other
    /// container (it runs as a generic process).
    static func simulatedRuntime(_ spec: JSONValue, _ annotations: [String: JSONValue]) -> SimRuntime? {
        if let value = annotations[SimAnnotations.runtime]?.stringValue, let runtime = SimRuntime(rawValue: value) {
            return runtime
        }
        let words = [spec["image"]?.stringValue ?? ""]
            + ((spec["command"]?.arrayValue ?? []) + (spec["args"]?.arrayValue ?? [])).compactMap(\.stringValue)
        let text = words.joined(separator: " ").lowercased()
        if text.contains("sglang") { return .sglang }
        if text.contains("text-generation-inference") || text.contains("text-generation-launcher") { return .tgi }
        return isVLLM(spec) ? .vllm : nil
    }

    static func isVLLM(_ spec: JSONValue) -> Bool {
        if (spec["image"]?.stringValue ?? "").lowercased().contains("vllm") { return true }
        let words = (spec["command"]?.arrayValue ?? []) + (spec["args"]?.arrayValue ?? [])
        return words.contains { ($0.stringValue ?? "").lowercased().contains("vllm") }
    }

    private func launch(
        key: PodKey, index: Int, spec: JSONValue, annotations: [String: JSONValue]
    ) async -> (any SimulatedProcess)? {
        guard let runtime = pods[key], index < runtime.containers.count else { return nil }
        let container = runtime.containers[index].name
        let logs = self.logs
        await logs.containerStarted(namespace: key.namespace, pod: key.name, container: container)
        let log: @Sendable (String) async -> Void = { line in
            await logs.append(namespace: key.namespace, pod: key.name, container: container, line: line)
        }
        let process: any SimulatedProcess
        if let runtimeKind = Self.simulatedRuntime(spec, annotations) {
            let options = VLLMLaunchOptions.parse(
                command: (spec["command"]?.arrayValue ?? []).compactMap(\.stringValue),
                args: (spec["args"]?.arrayValue ?? []).compactMap(\.stringValue))
            let port =
                options.port
                ?? (spec["ports"]?.arrayValue?.first?["containerPort"]?.intValue).map { Int($0) } ?? 8000
            let version =
                annotations[SimAnnotations.vllmVersion]?.stringValue.flatMap(VLLMVersion.init)
                ?? configuration.defaultVLLMVersion
            let load =
                annotations[SimAnnotations.loadSeconds]?.stringValue.flatMap(Double.init)
                ?? configuration.defaultLoadSeconds
            let engineInit = annotations[SimAnnotations.engineInitSeconds]?.stringValue.flatMap(Double.init)
            let failure = annotations[SimAnnotations.fail]?.stringValue.flatMap(VLLMFailure.init(annotation:))
            let slowdown = annotations[SimAnnotations.slowdown]?.stringValue.flatMap(Double.init) ?? 1
            let concurrency = annotations[SimAnnotations.maxConcurrency]?.stringValue.flatMap(Int.init) ?? 256
            process = SimulatedVLLM(
                configuration: .init(
                    host: runtime.ip, port: port, options: options, version: version, loadSeconds: load,
                    engineInitSeconds: engineInit, failure: failure, maxConcurrency: max(1, concurrency),
                    pid: nextPID, slowdown: slowdown, servingTimeScale: configuration.servingTimeScale,
                    runtime: runtimeKind),
                clock: clock, log: log)
        } else {
            process = GenericProcess(image: runtime.containers[index].image, log: log)
        }
        nextPID = 1 + (nextPID % 50)
        let now = clock.now()
        let probe = spec["readinessProbe"]
        let readyAtStart = probe?["httpGet"] == nil
        setContainer(key, index) {
            $0.process = process
            $0.state = .running(startedAt: now)
            $0.started = true
            $0.ready = readyAtStart
            $0.containerID =
                "containerd://"
                + (0..<64).map { _ in "0123456789abcdef".randomElement().map(String.init) ?? "0" }.joined()
        }
        await process.start()
        await writeStatus(key)
        return process
    }

    private func exited(key: PodKey, index: Int, code: Int32) async {
        let now = clock.now()
        await logs.containerStopped(
            namespace: key.namespace, pod: key.name, container: pods[key]?.containers[index].name ?? "")
        setContainer(key, index) {
            var startedAt = now
            if case .running(let s) = $0.state { startedAt = s }
            let terminated = ContainerState.terminated(
                exitCode: code, reason: code == 0 ? "Completed" : "Error", startedAt: startedAt, finishedAt: now)
            $0.state = terminated
            $0.lastState = terminated
            $0.ready = false
            $0.started = false
            $0.restartCount += 1
            $0.process = nil
        }
        await writeStatus(key)
    }

    private func setContainer(_ key: PodKey, _ index: Int, _ change: (inout ContainerRuntime) -> Void) {
        guard var runtime = pods[key], index < runtime.containers.count else { return }
        change(&runtime.containers[index])
        pods[key] = runtime
    }

    /// Runs the readiness probe of an `httpGet` container until cancelled.
    private func probeLoop(key: PodKey, index: Int, spec: JSONValue) async {
        guard let probe = spec["readinessProbe"], let http = probe["httpGet"] else { return }
        let initialDelay = Double(probe["initialDelaySeconds"]?.intValue ?? 0)
        let period = Double(max(1, probe["periodSeconds"]?.intValue ?? 10))
        let timeout = Double(max(1, probe["timeoutSeconds"]?.intValue ?? 1))
        let successThreshold = Int(max(1, probe["successThreshold"]?.intValue ?? 1))
        let failureThreshold = Int(max(1, probe["failureThreshold"]?.intValue ?? 3))
        let path = http["path"]?.stringValue ?? "/"
        var port = http["port"]?.intValue.map(Int.init) ?? 0
        if let named = http["port"]?.stringValue {
            port =
                (spec["ports"]?.arrayValue ?? []).first { $0["name"]?.stringValue == named }?["containerPort"]?
                .intValue.map(Int.init) ?? Int(named) ?? 0
        }
        var successes = 0
        var failures = 0
        do { try await clock.sleep(simulatedSeconds: initialDelay) } catch { return }
        while !Task.isCancelled {
            guard let ip = pods[key]?.ip else { return }
            let ok = await Self.httpProbe(host: ip, port: port, path: path, timeoutSeconds: timeout)
            if Task.isCancelled { return }
            if ok {
                successes += 1
                failures = 0
            } else {
                failures += 1
                successes = 0
            }
            let ready = pods[key]?.containers[index].ready ?? false
            if !ready && successes >= successThreshold {
                setContainer(key, index) { $0.ready = true }
                await writeStatus(key)
            } else if ready && failures >= failureThreshold {
                setContainer(key, index) { $0.ready = false }
                await writeStatus(key)
            }
            do { try await clock.sleep(simulatedSeconds: period) } catch { return }
        }
    }

    /// A real HTTP GET against the pod's address: success is a status in 200..<400 (kubelet's rule).
    static func httpProbe(host: String, port: Int, path: String, timeoutSeconds: Double) async -> Bool {
        let request = HTTPClientRequest(url: "http://\(host):\(port)\(path.hasPrefix("/") ? path : "/" + path)")
        do {
            let response = try await HTTPClient.shared.execute(
                request, timeout: .milliseconds(Int64(timeoutSeconds * 1000)))
            _ = try? await response.body.collect(upTo: 1 << 20)
            return (200..<400).contains(Int(response.status.code))
        } catch {
            return false
        }
    }

    /// Stops a pod's processes and forgets it (its GPUs become free).
    private func terminate(_ key: PodKey) async {
        guard let runtime = pods.removeValue(forKey: key) else { return }
        runtime.task?.cancel()
        await finishTermination(runtime, key: key)
    }

    /// A deleted pod is out of every endpoint already (it is gone from the store); as vLLM's server does on
    /// SIGTERM, its servers finish the requests they have — for at most ``gracefulDrainSeconds`` of simulated
    /// time — and then stop. Its GPUs are free after that, as on a real node.
    private func terminateGracefully(_ key: PodKey) async {
        guard !stopping, let runtime = pods.removeValue(forKey: key) else {
            await terminate(key)
            return
        }
        runtime.task?.cancel()
        let servers = runtime.containers.compactMap { $0.process as? SimulatedVLLM }
        let clock = self.clock
        drains[key] = Task {
            let deadline = clock.now().addingTimeInterval(Self.gracefulDrainSeconds)
            while !Task.isCancelled, clock.now() < deadline {
                var busy = false
                for server in servers {
                    let queue = await server.queueState()
                    if queue.waiting + queue.running > 0 { busy = true }
                }
                if !busy { break }
                do { try await clock.sleep(simulatedSeconds: 0.25) } catch { break }
            }
            await self.finishTermination(runtime, key: key)
        }
    }

    private func finishTermination(_ runtime: PodRuntime, key: PodKey) async {
        drains[key] = nil
        for container in runtime.containers {
            await container.process?.stop()
            await logs.containerStopped(namespace: key.namespace, pod: key.name, container: container.name)
        }
        if let index = nodes.firstIndex(where: { $0.name == runtime.node }) {
            nodes[index].gpusUsed = max(0, nodes[index].gpusUsed - runtime.gpus)
        }
        if runtime.gpus > 0, !stopping { await retryUnschedulable() }
    }

    /// GPUs were freed: pods waiting for them are scheduled again, the longest-waiting first (as the scheduler
    /// moves unschedulable pods back to its active queue when a pod is deleted).
    private func retryUnschedulable() async {
        for (key, _) in unschedulable.sorted(by: { $0.value < $1.value }) {
            guard unschedulable[key] != nil, pods[key] == nil,
                let pod = await store.get(.pods, namespace: key.namespace, name: key.name),
                pod[path: ["metadata", "deletionTimestamp"]] == nil,
                (pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty
            else {
                if pods[key] != nil { unschedulable[key] = nil }
                continue
            }
            await schedule(pod, key: key, uid: pod[path: ["metadata", "uid"]]?.stringValue ?? "")
        }
    }

    // MARK: Status

    static func stateJSON(_ state: ContainerState) -> JSONValue {
        switch state {
        case .waiting(let reason, let message):
            var w: [String: JSONValue] = ["reason": .string(reason)]
            if let message { w["message"] = .string(message) }
            return ["waiting": .object(w)]
        case .running(let startedAt):
            return ["running": ["startedAt": .string(KubeTime.format(startedAt))]]
        case .terminated(let code, let reason, let startedAt, let finishedAt):
            return [
                "terminated": [
                    "exitCode": .int(Int64(code)), "reason": .string(reason),
                    "startedAt": .string(KubeTime.format(startedAt)),
                    "finishedAt": .string(KubeTime.format(finishedAt)),
                ]
            ]
        }
    }

    private func condition(_ key: PodKey, _ type: String, _ status: Bool, reason: String? = nil, message: String? = nil)
        -> JSONValue
    {
        let now = clock.now()
        var since = now
        if let (previous, time) = pods[key]?.conditionTimes[type], previous == status {
            since = time
        } else {
            pods[key]?.conditionTimes[type] = (status, now)
        }
        var c: [String: JSONValue] = [
            "type": .string(type), "status": .string(status ? "True" : "False"), "lastProbeTime": nil,
            "lastTransitionTime": .string(KubeTime.format(since)),
        ]
        if let reason { c["reason"] = .string(reason) }
        if let message { c["message"] = .string(message) }
        return .object(c)
    }

    private func buildStatus(_ key: PodKey) -> JSONValue? {
        guard let runtime = pods[key] else { return nil }
        let allStarted = runtime.containers.allSatisfy { $0.restartCount > 0 || $0.started }
        let allReady = !runtime.containers.isEmpty && runtime.containers.allSatisfy(\.ready)
        let unready = runtime.containers.filter { !$0.ready }.map(\.name).joined(separator: " ")
        let notReadyMessage = "containers with unready status: [\(unready)]"
        let sandboxReady = runtime.containers.contains { $0.started || $0.restartCount > 0 }
        let conditions: [JSONValue] = [
            condition(key, "PodReadyToStartContainers", sandboxReady),
            condition(key, "Initialized", true),
            allReady
                ? condition(key, "Ready", true)
                : condition(key, "Ready", false, reason: "ContainersNotReady", message: notReadyMessage),
            allReady
                ? condition(key, "ContainersReady", true)
                : condition(key, "ContainersReady", false, reason: "ContainersNotReady", message: notReadyMessage),
            condition(key, "PodScheduled", true),
        ]
        let statuses: [JSONValue] = runtime.containers.map { c in
            var s: [String: JSONValue] = [
                "name": .string(c.name), "image": .string(c.image),
                "imageID": .string(c.image.isEmpty ? "" : "\(c.image)@sha256:0"),
                "ready": .bool(c.ready), "started": .bool(c.started), "restartCount": .int(Int64(c.restartCount)),
                "state": Self.stateJSON(c.state), "lastState": c.lastState.map(Self.stateJSON) ?? [:],
            ]
            if !c.containerID.isEmpty { s["containerID"] = .string(c.containerID) }
            return .object(s)
        }
        let node = nodes.first { $0.name == runtime.node }
        return [
            "phase": .string(allStarted ? "Running" : "Pending"), "conditions": .array(conditions),
            "containerStatuses": .array(statuses), "hostIP": .string(node?.address ?? "127.0.0.1"),
            "hostIPs": [["ip": .string(node?.address ?? "127.0.0.1")]], "podIP": .string(runtime.ip),
            "podIPs": [["ip": .string(runtime.ip)]], "startTime": .string(KubeTime.format(runtime.startTime)),
            "qosClass": "BestEffort",
        ]
    }

    private func writeStatus(_ key: PodKey) async {
        guard let uid = pods[key]?.uid else { return }
        for _ in 0..<5 {
            guard let status = buildStatus(key) else { return }
            if await tryWrite(status: status, key: key, uid: uid) { return }
        }
    }

    private func write(status: JSONValue, key: PodKey, uid: String) async {
        for _ in 0..<5 where await !tryWrite(status: status, key: key, uid: uid) {}
    }

    /// `true` when written or nothing to write; `false` on a conflict (retry with a fresh read).
    private func tryWrite(status: JSONValue, key: PodKey, uid: String) async -> Bool {
        guard var pod = await store.get(.pods, namespace: key.namespace, name: key.name),
            pod[path: ["metadata", "uid"]]?.stringValue == uid
        else { return true }
        if let current = pod["status"], current.semanticallyEquals(status) { return true }
        pod["status"] = status
        do {
            _ = try await store.update(.pods, pod, subresource: "status")
            return true
        } catch let error as APIStatus where error.isConflict {
            return false
        } catch {
            logger.debug("kubelet.status.write-failed", metadata: ["k8s.name": "\(key.name)", "error": "\(error)"])
            return true
        }
    }
}
