import AsyncHTTPClient
import ClusterSim
import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// What `modelrollout bench scale` runs.
struct ScaleBenchmarkSettings: Sendable, Codable {
    /// ModelRollouts of each run (each with a route and a Deployment of `replicas` pods).
    var rollouts: [Int] = [2, 20, 200]
    var replicas: Int = 10
    /// Wall seconds of the steady-state window.
    var steadySeconds: Double = 60
    /// Simultaneous rollouts measured in each run (those larger than the run's ModelRollouts are skipped).
    var simultaneous: [Int] = [1, 20, 100]
    /// Wall seconds a phase may take before the run gives up.
    var phaseTimeout: Double = 600
}

/// One simultaneous-rollouts measurement.
struct ScaleRolloutBatch: Sendable, Codable {
    var rollouts: Int
    /// From the spec change of all of them until every one is `Promoted`.
    var secondsUntilAllPromoted: Double?
    /// Reconcile duration quantiles over the batch (the controller's `controller_runtime_reconcile_time_seconds`).
    var reconcileP50: Double?
    var reconcileP99: Double?
    /// Gate latency p50/p95/max over the batch: for each ModelRollout, from the last candidate pod turning Ready
    /// (the `/health` probe is model-gated) before the route's candidate weight reached 100 until that write,
    /// both as the emulated API server stored them.
    var gateP50: Double?
    var gateP95: Double?
    var gateMax: Double?
}

/// When candidate pods turned Ready and routes reached their candidate's full weight, from the storage's change
/// streams (exact, in-process).
actor GateRecorder {
    private var podReady: [String: [Date]] = [:]
    private var routeDone: [String: Date] = [:]

    /// Records a pod change: the first time a pod of `revision` is Ready, under its `model` label.
    func pod(_ object: JSONValue, revision: String) {
        guard object[path: ["metadata", "labels", "revision"]]?.stringValue == revision,
            let model = object[path: ["metadata", "labels", "model"]]?.stringValue,
            object[path: ["status", "conditions"]]?.arrayValue?.contains(where: {
                $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
            }) == true
        else { return }
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        if seen.contains(name) { return }
        seen.insert(name)
        podReady[model, default: []].append(Date())
    }
    private var seen: Set<String> = []

    /// Records a route change: the first time its backendRef `candidate` has weight 100.
    func route(_ object: JSONValue, candidateSuffix: String) {
        guard let name = object[path: ["metadata", "name"]]?.stringValue, routeDone[name] == nil else { return }
        let refs = object[path: ["spec", "rules"]]?.arrayValue?.first?["backendRefs"]?.arrayValue ?? []
        if refs.contains(where: {
            $0["name"]?.stringValue == "\(name)-\(candidateSuffix)" && $0["weight"]?.intValue == 100
        }) {
            routeDone[name] = Date()
        }
    }

    /// Per model: route write minus the last Ready before it.
    func latencies() -> [Double] {
        routeDone.compactMap { model, done in
            guard let last = podReady[model]?.filter({ $0 <= done }).max() else { return nil }
            return done.timeIntervalSince(last)
        }.sorted()
    }
}

/// One run: `rollouts` ModelRollouts × `replicas` pods.
struct ScaleRun: Sendable, Codable {
    var rollouts: Int
    var pods: Int
    /// From the controller's `caches.synced` until every ModelRollout has been reconciled once (adopted its route).
    var firstPassSeconds: Double?
    /// After the first pass, until 10 s pass without a reconcile (the steady window starts then).
    var settleSeconds: Double?
    var rssMiB: Double?
    var cpuSecondsPerMinute: Double?
    var reconcilesPerMinute: Double?
    var apiRequestsPerMinute: Double?
    var apiRequestsPerMinutePerRollout: Double?
    /// Reconciles in the 5 s after one pod is deleted, minus what the steady rate predicts: its ReplicaSet replaces
    /// it, so this is one deletion plus a new pod's whole start (created, scheduled, started, loading — probed every
    /// `--loading-probe-interval` — and Ready), each a pod event.
    var reconcilesPerPodDeletion: Double?
    /// After a restart of the controller (SIGTERM, then a new process): from its `caches.synced` until its
    /// `modelrollout_replicas{state="ready"}` shows every pod of every ModelRollout model-ready again.
    var restartFirstPassSeconds: Double?
    /// `pods/log` reads of the restarted controller until then (the status's record stands in for the log).
    var restartPodLogReads: Int?
    var batches: [ScaleRolloutBatch] = []
}

struct ScaleBenchmarkReport: Sendable, Codable {
    var build: String
    var cores: Int
    var date: String
    var settings: ScaleBenchmarkSettings
    var runs: [ScaleRun]
    var method: String
}

/// `modelrollout bench scale`: the real controller binary (this executable, as a subprocess) against the emulated
/// cluster in this process with N ModelRollouts, each owning a route and a Deployment of k pods. Measures the
/// controller process (`/proc/PID`), its own `/metrics` (reconciles) and the emulated API server's request log
/// (requests with the controller's user agent).
struct ScaleBenchmark {
    var settings: ScaleBenchmarkSettings
    var progress: @Sendable (String) -> Void

    static let namespace = "llm-serving"
    static let model = "meta-llama/Llama-3.1-8B-Instruct"
    static let controllerUserAgent = "modelrollout/0.1"

    static let method = """
        Each run starts the emulated cluster in the benchmark's process (compressed model loads: 30 s at ×30; \
        enough GPU nodes for two revisions of every model; no gateway, no traffic) and creates N Deployments of k \
        replicas, N HTTPRoutes and N ModelRollouts (steps: 100 %, scaleDownDelay 1 s, autoscaling off, keepStableFleet: the cluster has GPUs for both revisions, so the controller's work is measured rather than the GPU-budget ladder's cold starts) through \
        the API. Once every pod is Ready, it starts this executable's `controller` as a subprocess (default \
        flags, JSON logs) and measures: the first pass, from the controller's `caches.synced` log line until \
        every ModelRollout has adopted its route (polled every 0.25 s); then, once 10 s pass without a \
        reconcile (the first pass's follow-ups done; at most 3 minutes), the steady state over the window, CPU \
        seconds (utime + stime from /proc/PID/stat) and RSS (VmRSS of /proc/PID/status at the end), reconciles \
        (the controller's controller_runtime_reconcile_total) and API requests (the emulated API server's \
        request log, the controller's user agent; a watch counts once); a pod event, the reconciles in the 5 s \
        after one pod is deleted minus the steady rate's share; a restart (SIGTERM, a new controller process): \
        from its `caches.synced` until its modelrollout_replicas gauge shows every pod of every ModelRollout \
        model-ready again, with its pods/log reads until then; then batches of M simultaneous rollouts (new \
        Deployments at 0 replicas, spec.deployment patched on M ModelRollouts at once), timed until all are \
        Promoted, with the reconcile-duration quantiles of the controller's histogram over the batch and the \
        gate latency per ModelRollout (from the last candidate pod turning Ready before the write until the \
        route's candidate weight reached 100 %, both from the emulated API server's change streams). The \
        emulator and the controller share the machine's cores: at the largest sizes the emulator's own work \
        (2,000 simulated pods, their kubelet and API server) is part of what the controller waits for.
        """

    /// Runs every size; `completed` receives the report so far after each run (so a late failure keeps the
    /// earlier results).
    func run(completed: (ScaleBenchmarkReport) throws -> Void = { _ in }) async throws -> ScaleBenchmarkReport {
        var report = ScaleBenchmarkReport(
            build: APIBenchmark.buildConfiguration, cores: ProcessInfo.processInfo.activeProcessorCount,
            date: KubeTime.format(Date()), settings: settings, runs: [], method: Self.method)
        for count in settings.rollouts {
            report.runs.append(try await measure(rollouts: count))
            try completed(report)
        }
        return report
    }

    // MARK: - One run

    func measure(rollouts count: Int) async throws -> ScaleRun {
        let pods = count * settings.replicas
        progress("bench scale: \(count) ModelRollouts × \(settings.replicas) pods")
        let gpusPerNode = 8
        var configuration = EmulatedCluster.Configuration(
            api: APIServer.Configuration(requestLogLimit: 2_000_000), timeScale: 30,
            gpuNodes: max(1, (2 * pods + gpusPerNode - 1) / gpusPerNode + 1), gpusPerNode: gpusPerNode,
            defaultLoadSeconds: 30, defaultPullSeconds: 0)
        configuration.gatewayAddress = nil
        let cluster = EmulatedCluster(configuration: configuration)
        let address = try await cluster.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mr-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let kubeconfigPath = directory.appendingPathComponent("kubeconfig").path
        try await cluster.kubeconfig().write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
        var clientConfiguration = try ClientConfiguration.fromKubeconfig(paths: [kubeconfigPath])
        clientConfiguration.userAgent = "modelrollout-scale-bench"
        clientConfiguration.qps = 1e9
        clientConfiguration.burst = 1_000_000
        let kube = try KubernetesClient(configuration: clientConfiguration)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var controller: Process?
        defer {
            if ProcessInfo.processInfo.environment["MR_SCALE_KEEP_LOGS"] == nil {
                try? FileManager.default.removeItem(at: directory)
            } else {
                progress("bench scale: logs kept in \(directory.path)")
            }
        }
        do {
            progress("bench scale: creating \(count) Deployments, routes and ModelRollouts on \(address.url)")
            try await createFleet(kube, count: count)
            try await waitUntil("\(pods) pods Ready", cluster) { await readyPods(cluster) >= pods }

            let log = directory.appendingPathComponent("controller.log")
            let process = try startController(kubeconfig: kubeconfigPath, log: log)
            controller = process
            let pid = process.processIdentifier
            let synced = try await cachesSynced(process, log: log, cluster)
            try await waitUntil("every ModelRollout reconciled once", cluster) {
                await adopted(cluster, count: count, generation: 1) >= count
            }
            var run = ScaleRun(rollouts: count, pods: pods)
            run.firstPassSeconds = Date().timeIntervalSince(synced)
            progress("bench scale: first pass \(Self.format(run.firstPassSeconds)) s; steady window \(Int(settings.steadySeconds)) s")
            guard let port = Self.metricsPort(log) else { throw CLIError("the controller logged no metrics port") }
            // Settle: the first pass's follow-ups (status writes waking their own ModelRollout, first loads
            // measured) end before the steady window: until 10 s pass without a reconcile (at most 3 minutes).
            let settleStart = Date()
            var last = try await reconciles(http, port: port).total
            var quietSince = Date()
            while Date().timeIntervalSince(quietSince) < 10, Date().timeIntervalSince(settleStart) < 180 {
                try await Task.sleep(for: .seconds(1))
                let current = try await reconciles(http, port: port).total
                if current != last { quietSince = Date() }
                last = current
            }
            run.settleSeconds = Date().timeIntervalSince(settleStart)

            // Steady state.
            let cpu0 = Self.cpuSeconds(pid), reconciles0 = try await reconciles(http, port: port), t0 = Date()
            try await Task.sleep(for: .seconds(settings.steadySeconds))
            let cpu1 = Self.cpuSeconds(pid), reconciles1 = try await reconciles(http, port: port), t1 = Date()
            let minutes = t1.timeIntervalSince(t0) / 60
            let requests = await controllerRequests(cluster, from: t0, to: t1)
            run.rssMiB = Self.rssMiB(pid)
            if let cpu0, let cpu1 { run.cpuSecondsPerMinute = (cpu1 - cpu0) / minutes }
            run.reconcilesPerMinute = (reconciles1.total - reconciles0.total) / minutes
            run.apiRequestsPerMinute = Double(requests) / minutes
            run.apiRequestsPerMinutePerRollout = Double(requests) / minutes / Double(count)

            // One pod event (a deletion, and the ReplicaSet's replacement).
            let before = try await reconciles(http, port: port)
            let victim = await cluster.storage.list(.pods, namespace: Self.namespace).first {
                $0[path: ["metadata", "labels", "model"]]?.stringValue == "m0"
            }
            if let name = victim?[path: ["metadata", "name"]]?.stringValue {
                _ = try await kube.resources(Pod.self, namespace: Self.namespace).delete(name)
                try await Task.sleep(for: .seconds(5))
                let after = try await reconciles(http, port: port)
                run.reconcilesPerPodDeletion = max(
                    0, after.total - before.total - (run.reconcilesPerMinute ?? 0) * 5 / 60)
            }

            // A restart: the new process re-proves the fleet from the status's record (no pod traffic).
            process.terminate()
            process.waitUntilExit()
            let restartLog = directory.appendingPathComponent("controller-restart.log")
            let restarted = try startController(kubeconfig: kubeconfigPath, log: restartLog)
            controller = restarted
            let restartSynced = try await cachesSynced(restarted, log: restartLog, cluster)
            guard let restartPort = Self.metricsPort(restartLog) else {
                throw CLIError("the restarted controller logged no metrics port")
            }
            try await waitUntil("the restarted controller to see every pod model-ready", cluster) {
                try await modelReadyRollouts(http, port: restartPort, replicas: settings.replicas) >= count
            }
            run.restartFirstPassSeconds = Date().timeIntervalSince(restartSynced)
            run.restartPodLogReads = await cluster.apiServer.requestLog().filter {
                $0.date >= restartSynced && $0.path.hasSuffix("/log")
                    && ($0.userAgent ?? "").hasPrefix(Self.controllerUserAgent)
            }.count
            progress(
                "bench scale: after a restart, every pod model-ready again in \(Self.format(run.restartFirstPassSeconds)) s "
                    + "(\(run.restartPodLogReads ?? 0) pod log reads)")

            // Simultaneous rollouts.
            var generation = 1
            var next = 2
            for batch in settings.simultaneous where batch <= count {
                generation += 1
                run.batches.append(
                    try await rollOut(
                        batch, revision: next, generation: generation, kube: kube, cluster: cluster, http: http,
                        port: restartPort))
                next += 1
            }
            restarted.terminate()
            restarted.waitUntilExit()
            controller = nil
            try? await http.shutdown()
            try? await kube.shutdown()
            await cluster.stop()
            return run
        } catch {
            controller?.terminate()
            try? await http.shutdown()
            try? await kube.shutdown()
            await cluster.stop()
            throw error
        }
    }

    /// Moves the first `batch` ModelRollouts to revision `r<revision>` at once; times until all are Promoted.
    func rollOut(
        _ batch: Int, revision: Int, generation: Int, kube: KubernetesClient, cluster: EmulatedCluster,
        http: HTTPClient, port: Int
    ) async throws -> ScaleRolloutBatch {
        progress("bench scale: \(batch) simultaneous rollouts")
        let deployments = kube.resources(Deployment.self, namespace: Self.namespace)
        for i in 0..<batch {
            _ = try await deployments.create(
                KubeJSON.fromJSONValue(Deployment.self, Self.deployment(i, revision: revision, replicas: 0)))
        }
        let before = try await reconciles(http, port: port)
        let gates = GateRecorder()
        let podChanges = await cluster.storage.changes(.pods)
        let routeChanges = await cluster.storage.changes(.httpRoutes)
        let watchers = [
            Task { for await change in podChanges { await gates.pod(change.object, revision: "r\(revision)") } },
            Task {
                for await change in routeChanges { await gates.route(change.object, candidateSuffix: "r\(revision)") }
            },
        ]
        defer { for watcher in watchers { watcher.cancel() } }
        let started = Date()
        let rollouts = kube.dynamic(.modelRollouts, namespace: Self.namespace)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<batch {
                group.addTask {
                    _ = try await rollouts.patch(
                        "m\(i)", type: .merge, patch: ["spec": ["deployment": .string("m\(i)-r\(revision)")]])
                }
            }
            try await group.waitForAll()
        }
        var result = ScaleRolloutBatch(rollouts: batch)
        try await waitUntil("\(batch) rollouts promoted", cluster) {
            if let failed = await rolledBack(cluster, batch: batch, revision: revision) {
                throw CLIError("bench scale: \(failed); the batch cannot complete (see the emulator's pod log)")
            }
            return await promoted(cluster, batch: batch, revision: revision, generation: generation) >= batch
        }
        result.secondsUntilAllPromoted = Date().timeIntervalSince(started)
        let after = try await reconciles(http, port: port)
        let buckets = zip(after.buckets, before.buckets).map {
            HistogramBucket(upperBound: $0.0.upperBound, cumulativeCount: $0.0.cumulativeCount - $0.1.cumulativeCount)
        }
        if after.buckets.count == before.buckets.count, !buckets.isEmpty {
            result.reconcileP50 = histogramQuantile(0.5, buckets: buckets)
            result.reconcileP99 = histogramQuantile(0.99, buckets: buckets)
        }
        let latencies = await gates.latencies()
        if !latencies.isEmpty {
            result.gateP50 = Percentile.nearestRank(latencies, 0.5)
            result.gateP95 = Percentile.nearestRank(latencies, 0.95)
            result.gateMax = latencies.last
        }
        progress(
            "bench scale: \(batch) rollouts promoted after \(Self.format(result.secondsUntilAllPromoted)) s "
                + "(reconcile p50 \(Self.format(result.reconcileP50)) s, p99 \(Self.format(result.reconcileP99)) s; "
                + "gate p50 \(Self.format(result.gateP50)) s, p95 \(Self.format(result.gateP95)) s)")
        return result
    }

    // MARK: - Objects

    static func deployment(_ i: Int, revision: Int, replicas: Int) -> JSONValue {
        let labels: JSONValue = ["model": .string("m\(i)"), "revision": .string("r\(revision)")]
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string("m\(i)-r\(revision)"), "namespace": .string(namespace)],
            "spec": [
                "replicas": .int(Int64(replicas)), "selector": ["matchLabels": labels],
                "template": [
                    "metadata": ["labels": labels],
                    "spec": [
                        "containers": [
                            [
                                "name": "vllm", "image": "vllm/vllm-openai:v0.11.0",
                                "args": ["--model", .string(model), "--port", "8000"],
                                "ports": [["containerPort": 8000, "name": "http"]],
                                "readinessProbe": ["httpGet": ["path": "/health", "port": 8000], "periodSeconds": 2],
                                "resources": ["limits": ["nvidia.com/gpu": 1]],
                            ]
                        ]
                    ],
                ],
            ],
        ]
    }

    func createFleet(_ kube: KubernetesClient, count: Int) async throws {
        let deployments = kube.resources(Deployment.self, namespace: Self.namespace)
        let routes = kube.resources(HTTPRoute.self, namespace: Self.namespace)
        let rollouts = kube.dynamic(.modelRollouts, namespace: Self.namespace)
        let replicas = settings.replicas
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<count {
                group.addTask {
                    _ = try await deployments.create(
                        KubeJSON.fromJSONValue(Deployment.self, Self.deployment(i, revision: 1, replicas: replicas)))
                    let route: JSONValue = [
                        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                        "metadata": ["name": .string("m\(i)"), "namespace": .string(Self.namespace)],
                        "spec": [
                            "parentRefs": [["name": "inference-gateway"]],
                            "rules": [["backendRefs": [["name": .string("m\(i)-r1"), "port": 8000, "weight": 100]]]],
                        ],
                    ]
                    _ = try await routes.create(KubeJSON.fromJSONValue(HTTPRoute.self, route))
                    let rollout: JSONValue = [
                        "apiVersion": "modelrollout.io/v1alpha1", "kind": "ModelRollout",
                        "metadata": ["name": .string("m\(i)"), "namespace": .string(Self.namespace)],
                        "spec": [
                            "model": .string(Self.model), "deployment": .string("m\(i)-r1"),
                            "route": ["name": .string("m\(i)")], "steps": [["weight": 100]],
                            "readinessTimeout": "10m", "autoscaling": ["scaleDownDelay": "1s"],
                            // The cluster has GPUs for both revisions: the controller's work is measured, not the
                            // GPU-budget ladder's cold starts.
                            "strategy": ["keepStableFleet": true],
                        ],
                    ]
                    _ = try await rollouts.create(DynamicObject(raw: rollout))
                }
                if i % 16 == 15 { try await group.waitForAll() }
            }
            try await group.waitForAll()
        }
    }

    // MARK: - Observation

    func readyPods(_ cluster: EmulatedCluster) async -> Int {
        await cluster.storage.list(.pods, namespace: Self.namespace).filter { pod in
            pod[path: ["status", "conditions"]]?.arrayValue?.contains {
                $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
            } ?? false
        }.count
    }

    /// ModelRollouts whose status shows the generation and a stable revision.
    func adopted(_ cluster: EmulatedCluster, count: Int, generation: Int) async -> Int {
        await cluster.storage.list(.modelRollouts, namespace: Self.namespace).filter {
            ($0[path: ["status", "observedGeneration"]]?.intValue ?? 0) >= generation
                && !($0[path: ["status", "stableDeployment"]]?.stringValue ?? "").isEmpty
        }.count
    }

    func promoted(_ cluster: EmulatedCluster, batch: Int, revision: Int, generation: Int) async -> Int {
        let wanted = Set((0..<batch).map { "m\($0)" })
        return await cluster.storage.list(.modelRollouts, namespace: Self.namespace).filter {
            guard let name = $0[path: ["metadata", "name"]]?.stringValue, wanted.contains(name) else { return false }
            return $0[path: ["status", "phase"]]?.stringValue == RolloutPhase.promoted.rawValue
                && $0[path: ["status", "stableDeployment"]]?.stringValue == "\(name)-r\(revision)"
        }.count
    }

    /// The first ModelRollout of the batch that rolled its new revision back, with the controller's reason.
    func rolledBack(_ cluster: EmulatedCluster, batch: Int, revision: Int) async -> String? {
        let wanted = Set((0..<batch).map { "m\($0)" })
        for object in await cluster.storage.list(.modelRollouts, namespace: Self.namespace) {
            guard let name = object[path: ["metadata", "name"]]?.stringValue, wanted.contains(name),
                object[path: ["status", "failedDeployment"]]?.stringValue == "\(name)-r\(revision)"
            else { continue }
            let message = object[path: ["status", "failureMessage"]]?.stringValue ?? "no message"
            return "\(name) rolled \(name)-r\(revision) back: \(message)"
        }
        return nil
    }

    func controllerRequests(_ cluster: EmulatedCluster, from: Date, to: Date) async -> Int {
        await cluster.apiServer.requestLog().filter {
            $0.date >= from && $0.date <= to && ($0.userAgent ?? "").hasPrefix(Self.controllerUserAgent)
        }.count
    }

    /// The controller's `caches.synced` log line, by the controller's own timestamp (the poll is coarser).
    func cachesSynced(_ process: Process, log: URL, _ cluster: EmulatedCluster) async throws -> Date {
        var synced: Date?
        try await waitUntil("the controller's caches to sync", cluster) {
            if !process.isRunning { throw CLIError("the controller exited: \(Self.tail(log))") }
            synced = Self.logLine(log, "caches.synced").map { $0["ts"]?.stringValue.flatMap(KubeTime.parse) ?? Date() }
            return synced != nil
        }
        return synced ?? Date()
    }

    /// The controller's own `/metrics`, parsed.
    func metrics(_ http: HTTPClient, port: Int) async throws -> PrometheusScrape {
        let response = try await http.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(30))
        return PrometheusText.parse(String(buffer: try await response.body.collect(upTo: 64 << 20)))
    }

    /// The controller's reconcile count and reconcile-duration buckets.
    func reconciles(_ http: HTTPClient, port: Int) async throws -> (total: Double, buckets: [HistogramBucket]) {
        let scrape = try await metrics(http, port: port)
        let total = scrape.samples(named: "controller_runtime_reconcile_total").map(\.value).reduce(0, +)
        let buckets = scrape.samples(named: "controller_runtime_reconcile_time_seconds_bucket").compactMap {
            sample -> HistogramBucket? in
            guard let le = sample.labels["le"].flatMap(PrometheusText.parseValue) else { return nil }
            return HistogramBucket(upperBound: le, cumulativeCount: sample.value)
        }
        return (total, PrometheusHistogram.normalised(buckets))
    }

    /// ModelRollouts whose `modelrollout_replicas{state="ready"}` of one revision shows all `replicas` pods.
    func modelReadyRollouts(_ http: HTTPClient, port: Int, replicas: Int) async throws -> Int {
        let full = try await metrics(http, port: port).samples(named: "modelrollout_replicas").filter {
            $0.labels["state"] == "ready" && $0.value >= Double(replicas)
        }
        return Set(full.compactMap { $0.labels["modelrollout"] }).count
    }

    func waitUntil(_ what: String, _ cluster: EmulatedCluster, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(settings.phaseTimeout)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw CLIError("bench scale: timed out after \(Int(settings.phaseTimeout)) s waiting for \(what)")
    }

    // MARK: - The controller process

    func startController(kubeconfig: String, log: URL) throws -> Process {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "controller", "--kubeconfig", kubeconfig, "--namespace", Self.namespace, "--metrics-bind-address",
            "127.0.0.1:0", "--health-probe-bind-address", "", "--log-format", "json", "--log-level", ProcessInfo.processInfo.environment["MR_SCALE_LOG_LEVEL"] ?? "info",
        ]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    static func logLine(_ log: URL, _ message: String) -> JSONValue? {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            if let json = try? JSONValue.parse(Array(line.utf8)), json["msg"]?.stringValue == message { return json }
        }
        return nil
    }

    static func metricsPort(_ log: URL) -> Int? {
        logLine(log, "operator.metrics")?["port"]?.stringValue.flatMap(Int.init)
    }

    static func tail(_ log: URL) -> String {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(5).joined(separator: "\n")
    }

    /// utime + stime of a process in seconds (`/proc/PID/stat` fields 14 and 15).
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After "pid (comm)": field 3 is at index 0, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// VmRSS of `/proc/PID/status`, MiB.
    static func rssMiB(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kib = Double(parts[1]) { return kib / 1024 }
        }
        return nil
    }

    static func format(_ value: Double?) -> String {
        guard let value else { return "-" }
        return value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value)
            : String(format: "%.2f", value)
    }

    // MARK: - Report

    static func markdown(_ report: ScaleBenchmarkReport) -> String {
        let batchSizes = report.settings.simultaneous
        var header = "| ModelRollouts × pods | first pass (s) | settled after (s) | RSS (MiB) | CPU s/min | reconciles/min | API req/min (per MR) | reconciles per pod replacement | after a restart: all model-ready (s), pod log reads |"
        var rule = "|---|---|---|---|---|---|---|---|---|"
        for size in batchSizes {
            header += " \(size) rollouts: all promoted (s), reconcile p50/p99, gate p50/p95 (s) |"
            rule += "---|"
        }
        var lines = [header, rule]
        for run in report.runs {
            var line =
                "| \(run.rollouts) × \(run.pods / max(1, run.rollouts)) | \(format(run.firstPassSeconds)) | "
                + "\(format(run.settleSeconds)) | "
                + "\(format(run.rssMiB)) | \(format(run.cpuSecondsPerMinute)) | \(format(run.reconcilesPerMinute)) | "
                + "\(format(run.apiRequestsPerMinute)) (\(format(run.apiRequestsPerMinutePerRollout))) | "
                + "\(format(run.reconcilesPerPodDeletion)) | "
                + "\(format(run.restartFirstPassSeconds)), \(run.restartPodLogReads.map(String.init) ?? "-") |"
            for size in batchSizes {
                if let batch = run.batches.first(where: { $0.rollouts == size }) {
                    line +=
                        " \(format(batch.secondsUntilAllPromoted)), \(format(batch.reconcileP50))/"
                        + "\(format(batch.reconcileP99)), \(format(batch.gateP50))/\(format(batch.gateP95)) |"
                } else {
                    line += " - |"
                }
            }
            lines.append(line)
        }
        lines.append("")
        lines.append(
            "Measured \(report.date) (\(report.build) build, \(report.cores) cores), steady window "
                + "\(Int(report.settings.steadySeconds)) s. Method: \(report.method)")
        return lines.joined(separator: "\n") + "\n"
    }
}
