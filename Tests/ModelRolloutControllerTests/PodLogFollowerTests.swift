import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore
import Testing

@testable import ModelRolloutController

/// A pod log served the way `GET pods/NAME/log` does: `sinceTime` with whole-second precision (as it travels in
/// the query), RFC3339Nano stamps with `timestamps=true`, the head cut at `limitBytes`, and injectable errors.
actor FakePodLogSource: PodLogSource {
    struct Line {
        var time: Date
        var text: String
    }
    private(set) var lines: [Line] = []
    /// The previous container instance's lines (`previous=true`).
    private(set) var previousLines: [Line] = []
    private(set) var requests: [LogOptions] = []
    var error: (any Error)?

    func append(_ text: String, at time: Date) { lines.append(Line(time: time, text: text)) }

    /// Appends every line of `text` at `time` + i × `step`.
    func append(lines text: String, from time: Date, step: Double) {
        for (i, line) in text.split(separator: "\n").enumerated() {
            append(String(line), at: time.addingTimeInterval(Double(i) * step))
        }
    }

    func fail(with error: (any Error)?) { self.error = error }

    func clear() { lines = [] }

    /// A container restart: the current lines become the previous instance's.
    func restart() {
        previousLines = lines
        lines = []
    }

    func readLog(namespace: String, pod: String, options: LogOptions) async throws -> [UInt8] {
        requests.append(options)
        if let error { throw error }
        // The query carries `sinceTime` as RFC 3339 without fractions.
        let since = options.sinceTime.map { KubeTime.parse(KubeTime.format($0)) ?? $0 }
        var out: [UInt8] = []
        var source = options.previous ? previousLines : lines
        if let tail = options.tailLines { source = Array(source.suffix(max(0, tail))) }
        for line in source where since.map({ line.time >= $0 }) ?? true {
            if options.timestamps { out += Array((KubeTime.formatNano(line.time) + " ").utf8) }
            out += Array(line.text.utf8) + [0x0A]
        }
        if let limit = options.limitBytes, out.count > limit { out = Array(out.prefix(limit)) }
        return out
    }
}

private let t0 = Date(timeIntervalSince1970: 1_760_000_000)

private let loadingPart = """
    (APIServer pid=1) INFO 10-01 12:00:00 [api_server.py:1896] vLLM API server version 0.11.0
    (APIServer pid=1) INFO 10-01 12:00:00 [utils.py:233] non-default args: {'model': 'Qwen/Qwen3-8B'}
    (EngineCore_DP0 pid=200) INFO 10-01 12:00:20 [gpu_model_runner.py:2602] Starting to load model Qwen/Qwen3-8B...
    """

private let loadedPart = """
    (EngineCore_DP0 pid=200) INFO 10-01 12:00:40 [default_loader.py:267] Loading weights took 12.02 seconds
    (EngineCore_DP0 pid=200) INFO 10-01 12:00:41 [gpu_model_runner.py:2653] \
    Model loading took 15.2683 GiB and 19.310000 seconds
    (APIServer pid=1) INFO 10-01 12:01:30 [api_server.py:1971] Starting vLLM API server 0 on http://0.0.0.0:8000
    (APIServer pid=1) INFO 10-01 12:01:30 [launcher.py:34] Available routes are:
    (APIServer pid=1) INFO:     Started server process [1]
    (APIServer pid=1) INFO:     Waiting for application startup.
    (APIServer pid=1) INFO:     Application startup complete.
    """

private let oomPart = """
    (EngineCore_DP0 pid=200) ERROR 10-01 12:00:30 [core.py:708] EngineCore failed to start.
    (EngineCore_DP0 pid=200) ERROR 10-01 12:00:30 [core.py:708] torch.OutOfMemoryError: CUDA out of memory.
    """

@Suite("Pod log follower")
struct PodLogFollowerTests {
    @Test func aCrashIsExplainedByReadingTheCrashedInstanceOncePerRestart() async throws {
        let source = FakePodLogSource()
        let follower = PodLogFollower(source: source, limitBytes: 64 * 1024)
        // Hundreds of lines before the fatal error: the tail read still finds it, without the banner.
        await source.append(lines: loadingPart, from: t0, step: 0.1)
        for i in 0..<1500 { await source.append("(EngineCore_DP0 pid=200) INFO 10-01 12:00:2\(i % 10) noise", at: t0) }
        await source.append(lines: oomPart, from: t0.addingTimeInterval(30), step: 0.1)
        let crash = try #require(
            await follower.crashJudgement(namespace: "ns", pod: "p", container: "vllm", restartCount: 1))
        #expect(crash.failureReason == "CUDA out of memory")
        #expect(crash.failureLine?.contains("torch.OutOfMemoryError") == true)
        #expect(await source.requests.last?.tailLines == PodLogFollower.crashTailLines)
        // Cached for this restart count: no second request.
        let before = await source.requests.count
        _ = await follower.crashJudgement(namespace: "ns", pod: "p", container: "vllm", restartCount: 1)
        #expect(await source.requests.count == before)
        // The next instance started and logs normally: the crashed one is read with previous=true.
        await source.restart()
        await source.append(lines: loadingPart, from: t0.addingTimeInterval(60), step: 0.1)
        let again = await follower.crashJudgement(namespace: "ns", pod: "p", container: "vllm", restartCount: 2)
        #expect(again?.failureReason == "CUDA out of memory")
        #expect(await source.requests.suffix(2).map(\.previous) == [false, true])
        // Neither instance shows a fatal error: nil (the kubelet's account stands), cached as well.
        await source.clear()
        await source.restart()
        #expect(await follower.crashJudgement(namespace: "ns", pod: "p", container: "vllm", restartCount: 3) == nil)
        await follower.forget(namespace: "ns", pod: "p")
        let count = await source.requests.count
        _ = await follower.crashJudgement(namespace: "ns", pod: "p", container: "vllm", restartCount: 3)
        #expect(await source.requests.count == count + 2, "forget drops the cache")
    }

    @Test func feedsEachLineOnceAcrossPollsWithinTheSameSecond() async throws {
        let source = FakePodLogSource()
        let follower = PodLogFollower(source: source, limitBytes: 64 * 1024)
        // Several lines per second, and polls that land inside a second.
        await source.append(lines: loadingPart, from: t0.addingTimeInterval(0.1), step: 0.2)
        let first = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
        #expect(first.error == nil)
        #expect(first.linesFed == 3)
        #expect(first.judgement.phase == .loadingModel)
        #expect(!first.judgement.modelLoaded)

        await source.append(lines: loadedPart, from: t0.addingTimeInterval(0.7), step: 0.1)
        let second = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
        #expect(second.linesFed == 7)
        #expect(second.judgement.modelLoaded)
        #expect(second.judgement.serverReady)
        #expect(second.judgement.loadSeconds == 19.31)

        let idle = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
        #expect(idle.linesFed == 0)
        #expect(!idle.moreAvailable && !idle.truncated)

        // Same judgement as judging the whole log at once, every line fed once.
        let whole = LogJudge.judge(loadingPart + "\n" + loadedPart)
        #expect(idle.judgement == whole)
        let stats = try #require(await follower.statistics(namespace: "ns", pod: "p", container: "vllm"))
        #expect(stats.linesFed == 10)

        // The requests: timestamps, byte limit, container; sinceTime only after the first poll, at the last line.
        let requests = await source.requests
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.timestamps && $0.limitBytes == 64 * 1024 && $0.container == "vllm" })
        #expect(requests[0].sinceTime == nil)
        #expect(requests[1].sinceTime.map(KubeTime.format) == KubeTime.format(t0.addingTimeInterval(0.5)))
        #expect(requests[2].sinceTime.map(KubeTime.format) == KubeTime.format(t0.addingTimeInterval(1.3)))
    }

    @Test func identicalTimestampsAreCountedNotLost() async {
        let source = FakePodLogSource()
        let follower = PodLogFollower(source: source, limitBytes: 64 * 1024)
        await source.append("INFO line a", at: t0)
        await source.append("INFO line b", at: t0)
        #expect(await follower.poll(namespace: "ns", pod: "p", container: "c", restartCount: 0).linesFed == 2)
        // A third line with exactly the same stamp arrives later: it is new, the first two are not.
        await source.append("INFO line c", at: t0)
        #expect(await follower.poll(namespace: "ns", pod: "p", container: "c", restartCount: 0).linesFed == 1)
        #expect(await follower.poll(namespace: "ns", pod: "p", container: "c", restartCount: 0).linesFed == 0)
    }

    @Test func largeLogIsReadInBoundedPollsWithoutLosingLines() async throws {
        let source = FakePodLogSource()
        let limit = 4096
        let follower = PodLogFollower(source: source, limitBytes: limit)
        // ~40 KiB of filler over 400 seconds, then the load and ready lines.
        for i in 0..<400 {
            await source.append(
                "INFO 10-01 12:00:00 [filler.py:1] progress \(i) " + String(repeating: "x", count: 60),
                at: t0.addingTimeInterval(Double(i)))
        }
        await source.append(lines: loadingPart + "\n" + loadedPart, from: t0.addingTimeInterval(400), step: 0.25)
        var polls = 0
        var last = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
        #expect(last.moreAvailable)
        #expect(last.bytesRead <= limit)
        #expect(!last.judgement.modelLoaded)
        while last.moreAvailable && polls < 100 {
            polls += 1
            last = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
            #expect(last.bytesRead <= limit)
        }
        #expect(polls > 5)
        #expect(last.judgement.modelLoaded && last.judgement.serverReady)
        #expect(!last.truncated)
        let stats = try #require(await follower.statistics(namespace: "ns", pod: "p", container: "vllm"))
        #expect(stats.linesFed == 410)
    }

    /// Polls until nothing more is waiting (at most 50 polls); returns the last result and the poll count.
    func drain(_ follower: PodLogFollower) async -> (LogPollResult, Int) {
        var result = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
        var polls = 1
        while result.moreAvailable && polls < 50 {
            result = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
            polls += 1
        }
        return (result, polls)
    }

    @Test(arguments: [
        // burst lines in one second, whether they fit 8 × the limit
        (30, false), (120, false), (400, true),
    ])
    func aBusySecondGetsALargerLimitThenIsSkipped(burst: Int, truncated: Bool) async throws {
        let source = FakePodLogSource()
        let follower = PodLogFollower(source: source, limitBytes: 1024)
        await source.append(lines: loadingPart, from: t0.addingTimeInterval(-5), step: 1)
        for i in 0..<burst {
            await source.append("INFO burst \(i) " + String(repeating: "y", count: 20), at: t0.addingTimeInterval(0.5))
        }
        await source.append(lines: loadedPart, from: t0.addingTimeInterval(2), step: 0.1)
        let (result, polls) = await drain(follower)
        #expect(polls < 50)
        #expect(result.truncated == truncated)
        #expect(result.judgement.modelLoaded && result.judgement.serverReady)
        let stats = try #require(await follower.statistics(namespace: "ns", pod: "p", container: "vllm"))
        if truncated {
            #expect(stats.linesFed < 10 + burst)
        } else {
            #expect(stats.linesFed == 10 + burst)
        }
        // The limit grows only while stuck, and is back to normal afterwards.
        _ = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
        let limits = await source.requests.compactMap(\.limitBytes)
        #expect(limits.allSatisfy { $0 <= 1024 * PodLogFollower.maxBoost })
        #expect(limits.contains { $0 > 1024 })
        #expect(limits.last == 1024)
    }

    @Test(arguments: [(5000, false), (20000, true)])
    func aLongLineDoesNotStall(length: Int, truncated: Bool) async {
        let source = FakePodLogSource()
        let follower = PodLogFollower(source: source, limitBytes: 1024)
        await source.append("INFO " + String(repeating: "z", count: length), at: t0)
        await source.append(lines: loadingPart + "\n" + loadedPart, from: t0.addingTimeInterval(1), step: 0.1)
        let (result, polls) = await drain(follower)
        #expect(polls < 50)
        #expect(result.judgement.modelLoaded)
        #expect(result.truncated == truncated)
        #expect(await follower.statistics(namespace: "ns", pod: "p", container: "vllm")?.linesFed == 11)
    }

    @Test func restartStartsAFreshJudgement() async {
        let source = FakePodLogSource()
        let follower = PodLogFollower(source: source, limitBytes: 64 * 1024)
        await source.append(lines: loadingPart + "\n" + oomPart, from: t0, step: 0.1)
        let failed = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
        #expect(failed.judgement.failed)
        // The container restarted: the API now serves the new instance's log, which is loading again.
        await source.clear()
        await source.append(lines: loadingPart, from: t0.addingTimeInterval(30), step: 0.1)
        let again = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 1)
        #expect(again.linesFed == 3)
        #expect(!again.judgement.failed)
        #expect(again.judgement.phase == .loadingModel)
        #expect(await source.requests.last?.sinceTime == nil)
        let stats = await follower.statistics(namespace: "ns", pod: "p", container: "vllm")
        #expect(stats?.restartCount == 1)
        #expect(stats?.linesFed == 3)
        #expect(await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 1).linesFed == 0)
    }

    @Test(arguments: [
        (400, "container \"vllm\" in pod \"p\" is waiting to start: ContainerCreating"),
        (404, "pods \"p\" not found"),
    ])
    func apiErrorsKeepThePreviousJudgement(status: Int, message: String) async {
        let source = FakePodLogSource()
        let follower = PodLogFollower(source: source, limitBytes: 64 * 1024)
        await source.append(lines: loadingPart, from: t0, step: 0.1)
        let before = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
        await source.fail(
            with: KubeAPIError(
                status: APIStatus(code: status, reason: status == 404 ? "NotFound" : "BadRequest", message: message),
                httpStatus: status))
        let failed = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
        #expect(failed.error == "pod log: \(message)")
        #expect(failed.errorStatus == status)
        #expect(failed.judgement == before.judgement)
        #expect(failed.bytesRead == 0)
        #expect(await follower.judgement(namespace: "ns", pod: "p", container: "vllm") == before.judgement)
    }

    @Test func networkErrorsAreReportedNotThrown() async {
        struct Down: Error, CustomStringConvertible { var description: String { "connection reset by peer" } }
        let source = FakePodLogSource()
        await source.fail(with: Down())
        let follower = PodLogFollower(source: source, limitBytes: 64 * 1024)
        let result = await follower.poll(namespace: "ns", pod: "p", container: "vllm", restartCount: 0)
        #expect(result.error == "pod log: connection reset by peer")
        #expect(result.errorStatus == nil)
        #expect(result.judgement.phase == LogJudgeState().judgement.phase)
    }

    @Test func forgetAndRetainOnlyDropState() async {
        let source = FakePodLogSource()
        let follower = PodLogFollower(source: source, limitBytes: 64 * 1024)
        await source.append(lines: loadingPart, from: t0, step: 0.1)
        for pod in ["a", "b", "c"] {
            _ = await follower.poll(namespace: "ns", pod: pod, container: "vllm", restartCount: 0)
        }
        _ = await follower.poll(namespace: "other", pod: "a", container: "vllm", restartCount: 0)
        await follower.forget(namespace: "ns", pod: "a")
        #expect(await follower.judgement(namespace: "ns", pod: "a", container: "vllm") == nil)
        await follower.retainOnly(namespace: "ns", pods: ["b"])
        let keys = await follower.followedKeys
        #expect(
            keys == [
                PodLogKey(namespace: "ns", pod: "b", container: "vllm"),
                PodLogKey(namespace: "other", pod: "a", container: "vllm"),
            ])
    }

    @Test(arguments: [
        ("2025-10-09T08:53:20.123456789Z INFO hello", "INFO hello", true),
        ("2025-10-09T08:53:20Z  two spaces", " two spaces", true),
        ("2025-10-09T08:53:20.5Z", "", true),
        ("no stamp here", "no stamp here", false),
        ("2025-13-99Tnope text", "2025-13-99Tnope text", false),
    ])
    func timestampPrefix(line: String, text: String, stamped: Bool) {
        let (date, rest) = PodLogFollower.splitTimestamp(ArraySlice(Array(line.utf8)))
        #expect(rest == text)
        #expect((date != nil) == stamped)
    }
}
