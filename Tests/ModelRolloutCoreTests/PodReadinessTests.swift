import Foundation
import KubeCore
import Testing

@testable import ModelRolloutCore

private let model = "meta-llama/Llama-3.1-8B-Instruct"

/// Judgements as the log judge reports them at each stage of a vLLM startup.
enum ReadinessLog: String, Sendable, CaseIterable {
    case none, silent, banner, loading, loaded, serving, failedAfterLoad

    var judgement: LogJudgement? {
        func judge(_ phase: LogJudgement.Phase, runtime: LogJudgement.Runtime = .vllm, loaded: Bool = false,
                   ready: Bool = false, failed: Bool = false) -> LogJudgement {
            LogJudgement(runtime: runtime, phase: phase, modelLoaded: loaded, loadSeconds: loaded ? 41.2 : nil,
                         serverReady: ready, failed: failed, failureReason: failed ? "CUDA out of memory" : nil,
                         evidence: [])
        }
        switch self {
        case .none: return nil
        case .silent: return judge(.unknown, runtime: .unknown)
        case .banner: return judge(.starting)
        case .loading: return judge(.loadingModel)
        case .loaded: return judge(.modelLoaded, loaded: true)
        case .serving: return judge(.serving, loaded: true, ready: true)
        case .failedAfterLoad: return judge(.failed, loaded: true, failed: true)
        }
    }
}

@Suite struct PodReadinessTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var facts = PodFacts(name: "vllm-r2-abc", ready: true)
        var log = ReadinessLog.serving
        var models = ModelsProbeResult.listed([model])
        var runtime = RuntimeKind.vllm
        var pattern: Bool?
        /// The incarnation is in status.modelReadyPods (proved before a controller restart).
        var proven = false
        var phase: ModelPodPhase
        var reason: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "serving and listed", phase: .modelReady, reason: "ModelListed"),
        Case(name: "loaded (server line not needed) and listed", log: .loaded, phase: .modelReady,
             reason: "ModelListed"),
        Case(name: "listed but the readiness probe has not passed", facts: PodFacts(name: "p", ready: false),
             phase: .loadingModel, reason: "PodNotReady"),
        Case(name: "deleting wins over everything", facts: PodFacts(name: "p", deleting: true),
             phase: .terminating, reason: "Terminating"),
        Case(name: "unschedulable with a message",
             facts: PodFacts(name: "p", scheduled: false, schedulingMessage: "0/3 nodes are available",
                             podPhase: "Pending", containerStatusKnown: false, containerRunning: false),
             log: .none, models: .notProbed, phase: .scheduling, reason: "Unschedulable"),
        Case(name: "not scheduled yet",
             facts: PodFacts(name: "p", scheduled: false, podPhase: "Pending", containerStatusKnown: false,
                             containerRunning: false),
             log: .none, models: .notProbed, phase: .scheduling, reason: "Scheduling"),
        Case(name: "evicted pod", facts: PodFacts(name: "p", podPhase: "Failed", podReason: "Evicted"),
             phase: .failed, reason: "Evicted"),
        Case(name: "ContainerCreating", facts: waiting("ContainerCreating"), log: .none, models: .notProbed,
             phase: .pullingImage, reason: "ContainerCreating"),
        Case(name: "PodInitializing", facts: waiting("PodInitializing"), log: .none, models: .notProbed,
             phase: .pullingImage, reason: "PodInitializing"),
        Case(name: "ErrImagePull is retried", facts: waiting("ErrImagePull"), log: .none, models: .notProbed,
             phase: .pullingImage, reason: "ImagePull"),
        Case(name: "ImagePullBackOff is retried", facts: waiting("ImagePullBackOff"), log: .none,
             models: .notProbed, phase: .pullingImage, reason: "ImagePull"),
        Case(name: "InvalidImageName is persistent", facts: waiting("InvalidImageName"), log: .none,
             models: .notProbed, phase: .failed, reason: "InvalidImageName"),
        Case(name: "ErrImageNeverPull is persistent", facts: waiting("ErrImageNeverPull"), log: .none,
             models: .notProbed, phase: .failed, reason: "ErrImageNeverPull"),
        Case(name: "CreateContainerConfigError is persistent", facts: waiting("CreateContainerConfigError"),
             log: .none, models: .notProbed, phase: .failed, reason: "CreateContainerConfigError"),
        Case(name: "CrashLoopBackOff", facts: waiting("CrashLoopBackOff"), log: .loading, models: .notProbed,
             phase: .failed, reason: "CrashLoopBackOff"),
        Case(name: "CrashLoopBackOff the log explains", facts: waiting("CrashLoopBackOff"), log: .failedAfterLoad,
             models: .notProbed, phase: .failed, reason: "ModelLoadFailed"),
        Case(name: "terminated, the log explains", facts: terminated("Error", 1), log: .failedAfterLoad,
             models: .notProbed, phase: .failed, reason: "ModelLoadFailed"),
        Case(name: "other waiting reason", facts: waiting("RunContainerError"), log: .none, models: .notProbed,
             phase: .starting, reason: "RunContainerError"),
        Case(name: "terminated with exit 1", facts: terminated("Error", 1), log: .loading, models: .notProbed,
             phase: .failed, reason: "ContainerTerminated"),
        Case(name: "OOMKilled", facts: terminated("OOMKilled", 137), log: .loading, models: .notProbed,
             phase: .failed, reason: "OOMKilled"),
        Case(name: "exited 0 will restart", facts: terminated("Completed", 0), log: .serving,
             models: .unreachable("connection refused"), phase: .starting, reason: "ContainerExited"),
        Case(name: "fatal error after the load line even though listed", log: .failedAfterLoad,
             phase: .failed, reason: "ModelLoadFailed"),
        Case(name: "fatal error while not listed", log: .failedAfterLoad, models: .unreachable("refused"),
             phase: .failed, reason: "ModelLoadFailed"),
        Case(name: "listed but the log shows no load line", log: .loading, phase: .loadingModel,
             reason: "LoadLineNotSeen"),
        Case(name: "listed, only a banner (process up before load)", log: .banner, phase: .loadingModel,
             reason: "LoadLineNotSeen"),
        Case(name: "listed, log unavailable: the probe decides", log: .none, phase: .modelReady,
             reason: "ModelListedLogUnavailable"),
        Case(name: "generic runtime: the probe decides", log: .silent, runtime: .generic, phase: .modelReady,
             reason: "ModelListed"),
        Case(name: "loadedPattern not matched", pattern: false, phase: .loadingModel,
             reason: "LoadedPatternNotSeen"),
        Case(name: "loadedPattern matched", pattern: true, phase: .modelReady, reason: "ModelListed"),
        Case(name: "loadedPattern not matched, generic", log: .silent, runtime: .generic, pattern: false,
             phase: .loadingModel, reason: "LoadedPatternNotSeen"),
        Case(name: "wrong model listed", models: .listed(["meta-llama/Llama-3.1-8B"]), phase: .loadingModel,
             reason: "WrongModel"),
        Case(name: "expected id with padding is not an exact match", models: .listed([" \(model)"]),
             phase: .loadingModel, reason: "WrongModel"),
        Case(name: "listed, case differs", models: .listed([model.lowercased()]), phase: .loadingModel,
             reason: "WrongModel"),
        Case(name: "LoRA adapter listed alongside the base", models: .listed(["adapter", model]),
             phase: .modelReady, reason: "ModelListed"),
        Case(name: "wrong model while the log is silent", log: .silent, models: .listed(["other"]),
             phase: .starting, reason: "WrongModel"),
        Case(name: "empty list", log: .loaded, models: .listed([]), phase: .loadingModel,
             reason: "ModelNotListed"),
        Case(name: "loaded, endpoint unreachable", log: .loaded, models: .unreachable("refused"),
             phase: .loadingModel, reason: "Unreachable"),
        Case(name: "loaded, endpoint 503", log: .loaded, models: .httpError(503), phase: .loadingModel,
             reason: "ModelsHTTPError"),
        Case(name: "loaded, not probed yet", log: .loaded, models: .notProbed, phase: .loadingModel,
             reason: "NotProbed"),
        Case(name: "loading", log: .loading, models: .unreachable("refused"), phase: .loadingModel,
             reason: "ModelLoading"),
        Case(name: "banner only", log: .banner, models: .unreachable("refused"), phase: .starting,
             reason: "RuntimeStarting"),
        Case(name: "running, log silent", log: .silent, models: .unreachable("refused"), phase: .starting,
             reason: "NoRuntimeOutput"),
        Case(name: "running, log unavailable", log: .none, models: .unreachable("refused"),
             phase: .loadingModel, reason: "LogUnavailable"),
        Case(name: "generic runtime waiting for the model", log: .silent, models: .httpError(404),
             runtime: .generic, phase: .loadingModel, reason: "WaitingForModel"),
        Case(name: "no container status yet, pending",
             facts: PodFacts(name: "p", podPhase: "Pending", containerStatusKnown: false, containerRunning: false),
             log: .none, models: .notProbed, phase: .pullingImage, reason: "ContainerCreating"),
        Case(name: "no status for the named container but the pod runs and lists the model",
             facts: PodFacts(name: "p", ready: true, containerStatusKnown: false, containerRunning: false), log: .none,
             phase: .modelReady, reason: "ModelListedLogUnavailable"),
        Case(name: "recorded as proved, log not read again: listed and Ready", log: .none, proven: true,
             phase: .modelReady, reason: "ModelListed"),
        Case(name: "recorded as proved but not listed any more", log: .none, models: .unreachable("refused"),
             proven: true, phase: .loadingModel, reason: "LogUnavailable"),
        Case(name: "recorded as proved but the readiness probe fails", facts: PodFacts(name: "p", ready: false),
             log: .none, proven: true, phase: .loadingModel, reason: "PodNotReady"),
        Case(name: "recorded as proved, but a log read since shows a fatal error", log: .failedAfterLoad,
             proven: true, phase: .failed, reason: "ModelLoadFailed"),
        Case(name: "recorded as proved, wrong model listed", log: .none, models: .listed(["other"]), proven: true,
             phase: .loadingModel, reason: "WrongModel"),
    ]

    @Test(arguments: cases)
    func rules(_ c: Case) {
        let input = PodReadinessInput(facts: c.facts, judgement: c.log.judgement, models: c.models,
                                      expectedModel: model, runtime: c.runtime, loadedPatternMatched: c.pattern,
                                      provenEarlier: c.proven)
        let result = PodReadinessPolicy.evaluate(input)
        #expect(result.phase == c.phase)
        #expect(result.reason == c.reason)
        #expect(result.modelReady == (c.phase == .modelReady))
        #expect(!result.message.isEmpty)
    }

    @Test func messagesCarryTheDetails() {
        let failed = PodReadinessPolicy.evaluate(PodReadinessInput(
            facts: PodFacts(name: "p"), judgement: ReadinessLog.failedAfterLoad.judgement, models: .listed([model]),
            expectedModel: model))
        #expect(failed.message.contains("CUDA out of memory"))
        let wrong = PodReadinessPolicy.evaluate(PodReadinessInput(
            facts: PodFacts(name: "p"), judgement: ReadinessLog.serving.judgement, models: .listed(["a", "b"]),
            expectedModel: model))
        #expect(wrong.message.contains("\"a\", \"b\""))
        #expect(wrong.message.contains(model))
        var crashing = waiting("CrashLoopBackOff")
        crashing.restartCount = 4
        crashing.lastTerminatedReason = "Error"
        crashing.lastExitCode = 1
        let crash = PodReadinessPolicy.evaluate(PodReadinessInput(
            facts: crashing, judgement: nil, models: .notProbed, expectedModel: model))
        #expect(crash.message.contains("4 restarts"))
        #expect(crash.message.contains("exit code 1"))
        // With the crashed instance's log judged, its cause comes first and the kubelet's account after it.
        let explained = PodReadinessPolicy.evaluate(PodReadinessInput(
            facts: crashing, judgement: ReadinessLog.failedAfterLoad.judgement, models: .notProbed,
            expectedModel: model))
        #expect(explained.message.hasPrefix("the vllm log shows a fatal error: CUDA out of memory"))
        #expect(explained.message.contains("keeps crashing after 4 restarts"))
        let backOff = PodReadinessPolicy.evaluate(PodReadinessInput(
            facts: waiting("ImagePullBackOff"), judgement: nil, models: .notProbed, expectedModel: model))
        #expect(backOff.message.contains("ImagePullBackOff"))
        #expect(backOff.message.contains("backing off"))
    }

    @Test func realLogJudgementsDriveThePhase() {
        let loading = LogJudge.judge("""
            INFO 01-10 12:00:00 api_server.py:712] vLLM API server version 0.8.5
            INFO 01-10 12:00:05 gpu_model_runner.py:1329] Starting to load model \(model)...
            """)
        let input = PodReadinessInput(facts: PodFacts(name: "p"), judgement: loading,
                                      models: .unreachable("refused"), expectedModel: model)
        #expect(PodReadinessPolicy.evaluate(input).phase == .loadingModel)
        let loaded = LogJudge.judge("""
            INFO 01-10 12:00:00 api_server.py:712] vLLM API server version 0.8.5
            INFO 01-10 12:00:05 gpu_model_runner.py:1329] Starting to load model \(model)...
            INFO 01-10 12:00:47 gpu_model_runner.py:1345] Model loading took 14.99 GiB and 41.2 seconds
            """)
        #expect(loaded.modelLoaded)
        let ready = PodReadinessPolicy.evaluate(PodReadinessInput(
            facts: PodFacts(name: "p", ready: true), judgement: loaded, models: .listed([model]), expectedModel: model))
        #expect(ready.phase == .modelReady)
        #expect(ready.message.contains("41.2s"))
    }

    @Test func factsFromATypedPod() throws {
        let json = try JSONValue.parse("""
            {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "vllm-r2-abc", "namespace": "llm-serving",
                          "creationTimestamp": "2025-01-10T12:00:00Z"},
             "spec": {"nodeName": "gpu-1", "containers": [{"name": "proxy"}, {"name": "vllm"}]},
             "status": {"phase": "Running", "podIP": "10.1.2.3",
               "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}],
               "containerStatuses": [
                 {"name": "proxy", "ready": true, "restartCount": 0, "state": {"running": {}}},
                 {"name": "vllm", "ready": false, "restartCount": 3,
                  "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                  "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}
            """)
        let pod = try KubeJSON.fromJSONValue(Pod.self, json)
        let facts = PodFacts(pod: pod, container: "vllm")
        #expect(facts.name == "vllm-r2-abc")
        #expect(facts.createdAt == Date(timeIntervalSince1970: 1_736_510_400))
        #expect(!facts.deleting)
        #expect(facts.scheduled)
        #expect(facts.ready)
        #expect(facts.podIP == "10.1.2.3")
        #expect(facts.container == "vllm")
        #expect(facts.containerStatusKnown)
        #expect(facts.containerWaitingReason == "CrashLoopBackOff")
        #expect(facts.containerWaitingMessage == "back-off 40s")
        #expect(!facts.containerRunning)
        #expect(facts.restartCount == 3)
        #expect(facts.lastTerminatedReason == "Error")
        #expect(facts.lastExitCode == 1)
        let first = PodFacts(pod: pod, container: nil)
        #expect(first.container == "proxy")
        #expect(first.containerRunning)
        #expect(first.containerWaitingReason == nil)
    }

    @Test func factsOfAFreshPendingPod() throws {
        let json = try JSONValue.parse("""
            {"metadata": {"name": "p", "deletionTimestamp": "2025-01-10T12:00:00Z"},
             "spec": {"containers": [{"name": "vllm"}]},
             "status": {"phase": "Pending", "podIP": "",
               "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                               "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."}]}}
            """)
        let facts = PodFacts(pod: try KubeJSON.fromJSONValue(Pod.self, json), container: "vllm")
        #expect(facts.deleting)
        #expect(!facts.scheduled)
        #expect(facts.schedulingMessage == "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.")
        #expect(!facts.containerStatusKnown)
        #expect(!facts.containerRunning)
        #expect(facts.podIP == nil)
        var notDeleting = facts
        notDeleting.deleting = false
        let result = PodReadinessPolicy.evaluate(PodReadinessInput(
            facts: notDeleting, judgement: nil, models: .notProbed, expectedModel: model))
        #expect(result.phase == .scheduling)
        #expect(result.message.contains("nvidia.com/gpu"))
    }
}

private func waiting(_ reason: String) -> PodFacts {
    PodFacts(name: "p", podPhase: "Pending", containerWaitingReason: reason, containerRunning: false)
}

private func terminated(_ reason: String, _ code: Int) -> PodFacts {
    PodFacts(name: "p", containerRunning: false, containerTerminatedReason: reason, containerExitCode: code)
}

@Suite struct ReadinessProbeClassificationTests {
    static let cases: [(String, JSONValue?, Bool)] = [
        ("httpGet /health", ["httpGet": ["path": "/health", "port": 8000]], true),
        ("httpGet /v1/models", ["httpGet": ["path": "/v1/models", "port": 8000]], true),
        ("httpGet below the models path", ["httpGet": ["path": "/v1/models/x", "port": 8000]], true),
        ("httpGet / (process up)", ["httpGet": ["path": "/", "port": 8000]], false),
        ("tcpSocket", ["tcpSocket": ["port": 8000]], false),
        ("exec", ["exec": ["command": ["true"]]], false),
        ("no probe", nil, false),
    ]

    @Test(arguments: cases)
    func classifiesProbes(_ c: (String, JSONValue?, Bool)) {
        #expect(PodReadinessPolicy.probeProvesModelLoaded(c.1, runtime: RuntimeSpec()) == c.2, "\(c.0)")
    }
}
