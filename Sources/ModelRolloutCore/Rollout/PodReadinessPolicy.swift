import Foundation
import KubeCore

/// Decides a pod's model readiness from its Kubernetes status, its log judgement and `/v1/models`. Pure.
///
/// The rules, first match wins:
/// 1. `deletionTimestamp` set → `Terminating`.
/// 2. Pod phase `Failed` (e.g. evicted) or `Succeeded` → `Failed`.
/// 3. Not scheduled → `Scheduling` (`Unschedulable` when the scheduler said why).
/// 4. Runtime container waiting with `InvalidImageName`, `ErrImageNeverPull` or `CreateContainerConfigError`
///    (they do not heal by retrying) → `Failed`; `CrashLoopBackOff` → `Failed`; `ErrImagePull` /
///    `ImagePullBackOff` → `PullingImage` (reason `ImagePull`, the message says the kubelet is backing off);
///    `ContainerCreating` / `PodInitializing` → `PullingImage`; any other waiting reason → `Starting`.
/// 5. Container terminated with a non-zero exit code → `Failed` (`OOMKilled` or `ContainerTerminated`);
///    with exit code 0 → `Starting` (`ContainerExited`, it will be restarted).
/// 6. The log judgement says failed → `Failed` (`ModelLoadFailed`), even when `/v1/models` lists the model.
/// 7. No container status yet and the pod is not `Running` → `PullingImage` (`ContainerCreating`).
/// 8. `/v1/models` lists `expectedModel` (exact id match) → `ModelReady` when the pod is Ready (else
///    `LoadingModel`, `PodNotReady`: its Service would not route to it yet), the configured `loadedPattern`
///    did not fail to match and either the runtime is `generic`, the log shows the model loaded
///    (`ModelListed`), or there is no judgement because the log is unavailable (`ModelListedLogUnavailable`:
///    only the probe decided) or was not read again because this incarnation's load was proved before the
///    controller restarted (`provenEarlier`: `ModelListed`). Otherwise `LoadingModel` (`LoadedPatternNotSeen` /
///    `LoadLineNotSeen`).
/// 9. `/v1/models` lists only other ids → not ready, reason `WrongModel` (the ids in the message); the phase
///    follows rule 10.
/// 10. The container is running: `Starting` while the log shows no sign of the runtime (`NoRuntimeOutput`) or
///    only its start banner (`RuntimeStarting`); `LoadingModel` while loading (`ModelLoading`), when the log
///    is unavailable (`LogUnavailable`), for a generic runtime (`WaitingForModel`), or once the log shows the
///    model loaded but the endpoint does not list it yet (`ModelNotListed`, `Unreachable`, `ModelsHTTPError`,
///    `NotProbed`).
public enum PodReadinessPolicy {
    /// Waiting reasons that retrying does not heal.
    public static let persistentWaitingReasons: Set<String> = [
        "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError",
    ]
    /// Waiting reasons of an image pull that the kubelet keeps retrying.
    public static let imagePullWaitingReasons: Set<String> = ["ErrImagePull", "ImagePullBackOff"]
    /// Waiting reasons of a container being set up.
    public static let creatingWaitingReasons: Set<String> = ["ContainerCreating", "PodInitializing"]

    /// Whether a readiness probe proves the model is loaded, so a Service only ever holds model-ready pods:
    /// an `httpGet` on the runtime's models path, `/health` or `/ready` (vLLM answers them only once the engine
    /// is up). A TCP or exec probe, or none, passes while the model loads: such pods receive traffic early.
    public static func probeProvesModelLoaded(_ probe: JSONValue?, runtime: RuntimeSpec) -> Bool {
        guard let path = probe?[path: ["httpGet", "path"]]?.stringValue else { return false }
        let gatedPaths: Set<String> = [runtime.modelsPath, "/health", "/v1/models", "/ready"]
        return gatedPaths.contains(path) || path.hasPrefix(runtime.modelsPath)
    }

    /// Evaluates the rules above.
    public static func evaluate(_ input: PodReadinessInput) -> PodReadiness {
        if let decided = kubernetesState(input.facts) {
            // A crash the log explains: the runtime's cause first (CUDA OOM, a 401 from the model hub), the
            // kubelet's account after it.
            if decided.phase == .failed, let judgement = input.judgement, judgement.failed {
                return PodReadiness(
                    phase: .failed, reason: "ModelLoadFailed", message: failureText(judgement, decided.message))
            }
            return decided
        }
        if let judgement = input.judgement, judgement.failed {
            return PodReadiness(phase: .failed, reason: "ModelLoadFailed", message: failureText(judgement, nil))
        }
        let facts = input.facts
        if !facts.containerStatusKnown, facts.podPhase != "Running" {
            return PodReadiness(
                phase: .pullingImage, reason: "ContainerCreating",
                message: "container \(facts.container ?? "?") has no status yet")
        }
        if case .listed(let ids) = input.models {
            if ids.contains(input.expectedModel) { return listed(input) }
            if !ids.isEmpty {
                let progress = runningProgress(input)
                let shown = ids.prefix(5).map { "\"\($0)\"" }.joined(separator: ", ")
                return PodReadiness(
                    phase: progress.phase, reason: "WrongModel",
                    message: "/v1/models lists \(shown)\(ids.count > 5 ? ", ..." : "") but not "
                        + "\"\(input.expectedModel)\"")
            }
        }
        return runningProgress(input)
    }

    /// Rules 1–5: what the pod and container status alone decide.
    static func kubernetesState(_ facts: PodFacts) -> PodReadiness? {
        if facts.deleting {
            return PodReadiness(phase: .terminating, reason: "Terminating", message: "the pod is being deleted")
        }
        if facts.podPhase == "Failed" {
            return PodReadiness(
                phase: .failed, reason: facts.podReason ?? "PodFailed",
                message: facts.podMessage ?? "the pod failed")
        }
        if facts.podPhase == "Succeeded" {
            return PodReadiness(
                phase: .failed, reason: "PodSucceeded", message: "the pod's containers exited and will not restart")
        }
        if !facts.scheduled {
            if let message = facts.schedulingMessage {
                return PodReadiness(phase: .scheduling, reason: "Unschedulable", message: message)
            }
            return PodReadiness(phase: .scheduling, reason: "Scheduling", message: "waiting for a node")
        }
        let container = facts.container ?? "?"
        if let waiting = facts.containerWaitingReason {
            return waitingState(waiting, facts: facts, container: container)
        }
        if facts.containerTerminated, !facts.containerRunning {
            let code = facts.containerExitCode
            let detail = "\(facts.containerTerminatedReason ?? "terminated")"
                + (code.map { " (exit code \($0))" } ?? "")
            if code == 0 {
                return PodReadiness(
                    phase: .starting, reason: "ContainerExited", message: "container \(container) exited: \(detail)")
            }
            let reason = facts.containerTerminatedReason == "OOMKilled" ? "OOMKilled" : "ContainerTerminated"
            return PodReadiness(
                phase: .failed, reason: reason, message: "container \(container) terminated: \(detail)")
        }
        return nil
    }

    private static func waitingState(_ waiting: String, facts: PodFacts, container: String) -> PodReadiness {
        let detail = facts.containerWaitingMessage.map { ": \($0)" } ?? ""
        if persistentWaitingReasons.contains(waiting) {
            return PodReadiness(
                phase: .failed, reason: waiting, message: "container \(container) cannot start (\(waiting))\(detail)")
        }
        if waiting == "CrashLoopBackOff" {
            var last = ""
            if facts.lastTerminatedReason != nil || facts.lastExitCode != nil {
                last = "; last exit: \(facts.lastTerminatedReason ?? "terminated")"
                    + (facts.lastExitCode.map { " (exit code \($0))" } ?? "")
            }
            return PodReadiness(
                phase: .failed, reason: "CrashLoopBackOff",
                message: "container \(container) keeps crashing after \(facts.restartCount) restarts\(last)")
        }
        if imagePullWaitingReasons.contains(waiting) {
            let retrying = waiting == "ImagePullBackOff" ? "backing off between retries" : "retrying"
            return PodReadiness(
                phase: .pullingImage, reason: "ImagePull",
                message: "image pull failing (\(waiting)), the kubelet is \(retrying)\(detail)")
        }
        if creatingWaitingReasons.contains(waiting) {
            return PodReadiness(
                phase: .pullingImage, reason: waiting, message: "container \(container) is being created\(detail)")
        }
        return PodReadiness(
            phase: .starting, reason: waiting, message: "container \(container) is waiting (\(waiting))\(detail)")
    }

    /// Rule 8: `/v1/models` lists the expected id.
    private static func listed(_ input: PodReadinessInput) -> PodReadiness {
        let model = "\"\(input.expectedModel)\""
        if !input.facts.ready {
            return PodReadiness(
                phase: .loadingModel, reason: "PodNotReady",
                message: "/v1/models lists \(model) but the pod is not Ready yet (its readiness probe has not passed), "
                    + "so its Service does not route to it")
        }
        if input.loadedPatternMatched == false {
            return PodReadiness(
                phase: .loadingModel, reason: "LoadedPatternNotSeen",
                message: "/v1/models lists \(model) but the log has not matched loadedPattern yet")
        }
        if input.runtime == .generic {
            return PodReadiness(phase: .modelReady, reason: "ModelListed", message: "/v1/models lists \(model)")
        }
        guard let judgement = input.judgement else {
            if input.provenEarlier {
                return PodReadiness(
                    phase: .modelReady, reason: "ModelListed",
                    message: "/v1/models lists \(model) and the log showed the model loaded (proved before the "
                        + "controller restarted, recorded in status.modelReadyPods)")
            }
            return PodReadiness(
                phase: .modelReady, reason: "ModelListedLogUnavailable",
                message: "/v1/models lists \(model); the log is unavailable, so only the probe decided")
        }
        if judgement.phase == .stopped { return runningProgress(input) }
        if judgement.modelLoaded {
            let took = judgement.loadSeconds.map { " in \(AnalysisFormat.seconds($0))" } ?? ""
            return PodReadiness(
                phase: .modelReady, reason: "ModelListed",
                message: "/v1/models lists \(model) and the log shows the model loaded\(took)")
        }
        return PodReadiness(
            phase: .loadingModel, reason: "LoadLineNotSeen",
            message: "/v1/models lists \(model) but the log shows no model-load line yet")
    }

    /// The log judge's cause first, then the line that proves it and the kubelet's account:
    /// `the vllm log shows a fatal error: CUDA out of memory (line: "ERROR … torch.OutOfMemoryError: …";
    /// container vllm terminated: Error (exit code 1))`. Bounded by the judge's line cap.
    static func failureText(_ judgement: LogJudgement, _ kubelet: String?) -> String {
        var details: [String] = []
        if let line = judgement.failureLine { details.append("line: \"\(line)\"") }
        if let kubelet { details.append(kubelet) }
        return "the \(judgement.runtime.rawValue) log shows a fatal error: "
            + (judgement.failureReason ?? "startup failed")
            + (details.isEmpty ? "" : " (" + details.joined(separator: "; ") + ")")
    }

    /// Rule 10: a running container that is not (yet) serving the expected model.
    private static func runningProgress(_ input: PodReadinessInput) -> PodReadiness {
        let facts = input.facts
        let container = facts.container ?? "?"
        if facts.containerStatusKnown, !facts.containerRunning {
            return PodReadiness(
                phase: .starting, reason: "ContainerNotRunning", message: "container \(container) is not running")
        }
        if input.runtime == .generic {
            return PodReadiness(
                phase: .loadingModel, reason: "WaitingForModel",
                message: "waiting for /v1/models to list \"\(input.expectedModel)\" (\(probeText(input.models)))")
        }
        guard let judgement = input.judgement else {
            return PodReadiness(
                phase: .loadingModel, reason: "LogUnavailable",
                message: "the log is unavailable; waiting for /v1/models to list \"\(input.expectedModel)\"")
        }
        switch judgement.phase {
        case .unknown:
            return PodReadiness(
                phase: .starting, reason: "NoRuntimeOutput",
                message: "container \(container) is running; the log shows no sign of the runtime yet")
        case .starting:
            return PodReadiness(
                phase: .starting, reason: "RuntimeStarting",
                message: "the \(judgement.runtime.rawValue) runtime is starting")
        case .loadingModel:
            return PodReadiness(
                phase: .loadingModel, reason: "ModelLoading", message: "the log shows the model loading")
        case .stopped:
            return PodReadiness(
                phase: .starting, reason: "ServerStopped",
                message: "the \(judgement.runtime.rawValue) HTTP server shut down after serving")
        case .modelLoaded, .serving, .failed:
            let reason: String
            switch input.models {
            case .notProbed: reason = "NotProbed"
            case .unreachable: reason = "Unreachable"
            case .httpError: reason = "ModelsHTTPError"
            case .listed: reason = "ModelNotListed"
            }
            return PodReadiness(
                phase: .loadingModel, reason: reason,
                message: "the log shows the model loaded; /v1/models: \(probeText(input.models))")
        }
    }

    private static func probeText(_ result: ModelsProbeResult) -> String {
        switch result {
        case .notProbed: return "not probed yet"
        case .unreachable(let why): return "unreachable (\(why))"
        case .httpError(let code): return "HTTP \(code)"
        case .listed(let ids): return ids.isEmpty ? "lists no models" : "lists \(ids.joined(separator: ", "))"
        }
    }
}
