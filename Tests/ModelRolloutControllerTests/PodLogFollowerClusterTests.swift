import ClusterSim
import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore
import Testing

@testable import ModelRolloutController

@Suite("Pod log follower against the emulated cluster")
struct PodLogFollowerClusterTests {
    @Test(.timeLimit(.minutes(1)))
    func followsALoadingPodToModelLoadedWithBoundedReads() async throws {
        try await GatherTestCluster.with(timeScale: 200) { cluster, kube in
            _ = try await kube.resources(Deployment.self).create(
                GatherTestCluster.vllmDeployment(
                    // 600 s at ×200 = 3 s of wall time: long enough to be seen loading on a loaded machine.
                    "chat-r2", model: "llama-r2", annotations: [SimAnnotations.loadSeconds: "600"]))
            let pod = try #require(try await GatherTestCluster.pod(kube, app: "chat-r2") { $0.gatherRunning })
            let limit = 2048
            let follower = PodLogFollower(source: kube, limitBytes: limit)
            var results: [LogPollResult] = []
            let loaded = await GatherTestCluster.eventually {
                let result = await follower.poll(
                    namespace: GatherTestCluster.namespace, pod: pod.gatherName, container: "vllm",
                    restartCount: pod.gatherRestarts)
                results.append(result)
                if result.judgement.modelLoaded && result.judgement.serverReady { return true }
                // Poll at a controller-like pace (it probes loading pods every 0.5 s), not every 20 ms.
                try? await Task.sleep(for: .milliseconds(200))
                return false
            }
            #expect(loaded, "last: \(String(describing: results.last))")
            #expect(results.allSatisfy { $0.error == nil && $0.bytesRead <= limit * PodLogFollower.maxBoost })
            #expect(results.filter { $0.bytesRead > limit }.count <= 3)
            #expect(results.contains { !$0.judgement.modelLoaded && $0.judgement.phase == .loadingModel })
            let judgement = try #require(results.last?.judgement)
            #expect(judgement.runtime == .vllm)
            #expect(judgement.loadSeconds != nil)

            // Every log line was fed at most once, and the reads did not re-read the whole log each time.
            let stats = try #require(
                await follower.statistics(
                    namespace: GatherTestCluster.namespace, pod: pod.gatherName, container: "vllm"))
            let lines = await cluster.workloads.logStore.lines(
                namespace: GatherTestCluster.namespace, pod: pod.gatherName, container: "vllm") ?? []
            #expect(stats.linesFed <= lines.count)
            #expect(stats.linesFed >= lines.count / 2)
            let logBytes = lines.reduce(0) { $0 + $1.text.utf8.count + 32 }
            #expect(stats.bytesRead <= 4 * logBytes + 4 * limit)

            // The later requests resumed from a timestamp.
            let requests = await cluster.apiServer.requestLog().filter { $0.path.hasSuffix("/\(pod.gatherName)/log") }
            #expect(requests.count == results.count)
            #expect(requests.first?.query.contains("sinceTime") == false)
            #expect(requests.dropFirst().contains { $0.query.contains("sinceTime=") })
            #expect(requests.allSatisfy { $0.query.contains("limitBytes=") && $0.query.contains("timestamps=true") })
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aFailingPodIsJudgedFailedAndErrorsKeepTheJudgement() async throws {
        try await GatherTestCluster.with(timeScale: 300) { _, kube in
            _ = try await kube.resources(Deployment.self).create(
                GatherTestCluster.vllmDeployment(
                    "oom", model: "m", annotations: [SimAnnotations.fail: "oom", SimAnnotations.loadSeconds: "20"]))
            let pod = try #require(try await GatherTestCluster.pod(kube, app: "oom") { $0.gatherRunning })
            let follower = PodLogFollower(kube: kube, options: ControllerOptions(logLimitBytes: 64 * 1024))
            var last: LogPollResult?
            let failed = await GatherTestCluster.eventually {
                last = await follower.poll(
                    namespace: GatherTestCluster.namespace, pod: pod.gatherName, container: "vllm", restartCount: 0)
                return last?.judgement.failed == true
            }
            #expect(failed, "last: \(String(describing: last))")
            let judgement = try #require(last?.judgement)

            // A container that does not exist: 400 from the API, the judgement is kept.
            let wrongContainer = await follower.poll(
                namespace: GatherTestCluster.namespace, pod: pod.gatherName, container: "sidecar", restartCount: 0)
            #expect(wrongContainer.errorStatus == 400)
            try await kube.resources(Pod.self).delete(pod.gatherName)
            let gone = await GatherTestCluster.eventually {
                let result = await follower.poll(
                    namespace: GatherTestCluster.namespace, pod: pod.gatherName, container: "vllm", restartCount: 0)
                return result.errorStatus == 404 && result.judgement == judgement
            }
            #expect(gone)
        }
    }
}
