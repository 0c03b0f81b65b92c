import Foundation
import Testing

@testable import ModelRolloutController

@Suite struct PodLogPatternTests {
    @Test func remembersWhetherALineMatchedTheLoadedPattern() async throws {
        let source = FakePodLogSource()
        let follower = PodLogFollower(source: source, limitBytes: 64 * 1024)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        await source.append("INFO Loading weights took 12.3 seconds", at: t0)
        var result = await follower.poll(
            namespace: "ns", pod: "p", container: "vllm", restartCount: 0, loadedPattern: "warm-up done in [0-9]+ ms")
        #expect(result.linesFed == 1)
        #expect(await follower.patternMatched(namespace: "ns", pod: "p", container: "vllm") == false)
        await source.append("INFO custom warm-up done in 850 ms", at: t0.addingTimeInterval(2))
        result = await follower.poll(
            namespace: "ns", pod: "p", container: "vllm", restartCount: 0, loadedPattern: "warm-up done in [0-9]+ ms")
        #expect(result.linesFed == 1)
        #expect(await follower.patternMatched(namespace: "ns", pod: "p", container: "vllm") == true)
        // A restart is a new container instance: the match is forgotten.
        _ = await follower.poll(
            namespace: "ns", pod: "p", container: "vllm", restartCount: 1, loadedPattern: "warm-up done in [0-9]+ ms")
        await source.clear()
        _ = await follower.poll(
            namespace: "ns", pod: "p", container: "vllm", restartCount: 2, loadedPattern: "warm-up done in [0-9]+ ms")
        #expect(await follower.patternMatched(namespace: "ns", pod: "p", container: "vllm") == false)
        // A pattern that does not compile matches nothing (spec validation reports it).
        #expect(await follower.patternMatched(namespace: "ns", pod: "q", container: "vllm") == nil)
    }
}
