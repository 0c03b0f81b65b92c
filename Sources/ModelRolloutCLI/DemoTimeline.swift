import ClusterSim
import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore

/// The live timeline of one demo phase: a status line every `interval` wall seconds (route weights, pods per
/// revision and whether they serve or still load, queue depth scraped from the pods, p95 TTFT of the last window)
/// and, as they happen, the ModelRollout's decisions or — without a ModelRollout — the pod transitions a plain
/// rolling update makes. Used from one task only.
final class DemoTimeline {
    let cluster: EmulatedCluster
    let kube: KubernetesClient
    let namespace: String
    let rolloutName: String?
    let interval: Double
    var load: LoadGenerator?
    private let started = Date()
    private var lastLine = Date.distantPast
    private var seenDecisions: Set<String> = []
    private var podStates: [String: String] = [:]
    private var firstTick = true

    init(cluster: EmulatedCluster, kube: KubernetesClient, namespace: String, rolloutName: String?, interval: Double) {
        self.cluster = cluster
        self.kube = kube
        self.namespace = namespace
        self.rolloutName = rolloutName
        self.interval = interval
    }

    /// Wall seconds since the phase started.
    var elapsed: Double { Date().timeIntervalSince(started) }

    func stamp() -> String { String(format: "%7.1fs", elapsed) }

    /// Prints a note on the timeline.
    func note(_ text: String) { Console.line("\(stamp())  \(text)") }

    /// One observation of a pod.
    struct PodView {
        var name: String
        var revision: String
        var ready: Bool
        var serving: Bool
        var terminating: Bool
        var ip: String?
    }

    func pods() async -> [PodView] {
        var views: [PodView] = []
        for pod in await cluster.storage.list(.pods, namespace: namespace) {
            guard let name = pod[path: ["metadata", "name"]]?.stringValue else { continue }
            let revision = pod[path: ["metadata", "labels", "modelrollout.io/revision"]]?.stringValue ?? "?"
            let ready =
                pod[path: ["status", "conditions"]]?.arrayValue?.contains {
                    $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
                } ?? false
            let serving = await cluster.workloads.modelState(namespace: namespace, pod: name) == .loaded
            views.append(
                PodView(
                    name: name, revision: revision, ready: ready, serving: serving,
                    terminating: pod[path: ["metadata", "deletionTimestamp"]] != nil,
                    ip: pod[path: ["status", "podIP"]]?.stringValue))
        }
        return views.sorted { $0.name < $1.name }
    }

    /// Prints new decisions / pod transitions, and the status line when it is due.
    func tick() async {
        let views = await pods()
        if let rolloutName {
            await printDecisions(rolloutName)
        } else {
            printTransitions(views)
        }
        if firstTick || Date().timeIntervalSince(lastLine) >= interval {
            firstTick = false
            lastLine = Date()
            await statusLine(views)
        }
    }

    func printDecisions(_ name: String) async {
        guard let raw = await cluster.storage.get(ModelRollout.resource, namespace: namespace, name: name),
            case .success(let rollout) = ModelRollout.decode(raw), let status = rollout.status
        else { return }
        for decision in status.decisions {
            let key = [
                "\(decision.time.timeIntervalSince1970)", decision.kind.rawValue, decision.rule, decision.result,
            ].joined(separator: "|")
            guard seenDecisions.insert(key).inserted else { continue }
            let text = "\(decision.kind.rawValue) \(decision.rule): \(decision.message)"
            Console.line("\(stamp())  >> \(String(text.prefix(150)))")
        }
    }

    func printTransitions(_ views: [PodView]) {
        var current: [String: String] = [:]
        for pod in views {
            let state =
                pod.terminating ? "terminating"
                : pod.serving ? (pod.ready ? "serving" : "loaded, not Ready yet")
                : pod.ready ? "Ready while the model is still loading: the Service routes requests to it"
                : pod.ip == nil ? "scheduled" : "loading the model"
            current[pod.name] = state
            if podStates[pod.name] != state {
                Console.line("\(stamp())  >> pod \(pod.name) (\(pod.revision)): \(state)")
            }
        }
        for name in podStates.keys.sorted() where current[name] == nil {
            Console.line("\(stamp())  >> pod \(name): deleted")
        }
        podStates = current
    }

    func statusLine(_ views: [PodView]) async {
        var parts: [String] = []
        if let route = await cluster.storage.get(.httpRoutes, namespace: namespace, name: "llm-chat") {
            let refs = route[path: ["spec", "rules"]]?.arrayValue?.first?["backendRefs"]?.arrayValue ?? []
            let weights = refs.map { ref in
                let name = (ref["name"]?.stringValue ?? "?").replacingOccurrences(of: "vllm-llama-", with: "")
                return "\(name) \(ref["weight"]?.intValue ?? 1)"
            }
            parts.append("weights " + (weights.isEmpty ? "-" : weights.joined(separator: "/")))
        }
        let revisions = Array(Set(views.map(\.revision))).sorted()
        for revision in revisions {
            let pods = views.filter { $0.revision == revision && !$0.terminating }
            let serving = pods.filter(\.serving).count
            let loading = pods.count - serving
            let readyLoading = pods.filter { !$0.serving && $0.ready }.count
            var text = "\(revision) \(serving) serving"
            if loading > 0 { text += " \(loading) loading" + (readyLoading > 0 ? " (\(readyLoading) Ready)" : "") }
            parts.append(text)
        }
        if revisions.isEmpty { parts.append("no pods") }
        if let rolloutName,
            let raw = await cluster.storage.get(ModelRollout.resource, namespace: namespace, name: rolloutName),
            case .success(let rollout) = ModelRollout.decode(raw), let status = rollout.status, let phase = status.phase
        {
            var text = phase.rawValue
            if phase == .progressing, let step = status.currentStep {
                text += " step \(step + 1)/\(rollout.spec.steps.count)"
            }
            if phase == .progressing, let verdict = status.analysis?.lastVerdict {
                text += " analysis \(verdict.rawValue)"
            }
            parts.insert(text, at: 0)
        }
        var waiting = 0.0
        for pod in views where pod.serving && !pod.terminating {
            waiting += await queueDepth(pod: pod.name)
        }
        parts.append("queue \(Int(waiting))")
        if let load {
            let inFlight = await load.inFlightCount
            let since = Date().addingTimeInterval(-max(interval, 2.5))
            let window = await load.snapshot(since: Date().addingTimeInterval(-120)).filter {
                $0.start.addingTimeInterval($0.totalSeconds) >= since
            }
            let ttfts = window.compactMap(\.ttftSeconds).sorted()
            let failed = window.count - ttfts.count
            let p95 = Percentile.nearestRank(sorted: ttfts, 0.95).map { String(format: "%.2fs", $0) } ?? "-"
            parts.append("in flight \(inFlight)")
            parts.append("TTFT p95 \(p95) (n \(ttfts.count)\(failed > 0 ? ", \(failed) failed" : ""))")
        }
        Console.line("\(stamp())  " + parts.joined(separator: " | "))
    }

    /// `vllm:num_requests_waiting` of one pod (summed over engines), through the API server's pod proxy; 0 when
    /// the scrape fails.
    func queueDepth(pod: String) async -> Double {
        guard let answer = try? await kube.podProxy(namespace: namespace, pod: pod, port: 8000, path: "/metrics"),
            answer.status == 200
        else { return 0 }
        var total = 0.0
        for line in answer.text.split(separator: "\n") where line.hasPrefix("vllm:num_requests_waiting") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { total += value }
        }
        return total
    }
}
