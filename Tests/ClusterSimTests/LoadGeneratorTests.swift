import Foundation
import KubeCore
import Testing

@testable import ClusterSim

@Suite("Load generator")
struct LoadGeneratorUnitTests {
    @Test func sseTokensAcrossChunkBoundaries() {
        var parser = SSETokenParser()
        let stream =
            "data: {\"choices\":[{\"text\":\" The\"}]}\n\n"
            + "data: {\"choices\":[{\"text\":\"\",\"finish_reason\":\"length\"}]}\n\n"
            + "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n"
        let bytes = Array(stream.utf8)
        var tokens = 0
        for start in stride(from: 0, to: bytes.count, by: 7) {
            tokens += parser.feed(Array(bytes[start..<min(bytes.count, start + 7)]))
        }
        #expect(tokens == 2)
    }

    @Test func seededArrivalsAreReproducible() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        let first = (0..<5).map { _ in a.nextUnit() }
        #expect(first == (0..<5).map { _ in b.nextUnit() })
        #expect(first.allSatisfy { $0 >= 0 && $0 < 1 })
    }
}

@Suite("Load generator through the gateway", .serialized)
struct LoadGeneratorTests {
    @Test(.timeLimit(.minutes(1)))
    func recordsAndSummaryAreConsistent() async throws {
        let fixture = try await GatewayFixture.start()
        try await fixture.revision("rev-a")
        try await fixture.revision("rev-b", annotations: [SimAnnotations.slowdown: "4"])
        #expect(
            await eventually {
                let a = await fixture.readyPods("rev-a")
                let b = await fixture.readyPods("rev-b")
                return a == 1 && b == 1
            })
        try await fixture.route([("rev-a", 1), ("rev-b", 1)])
        #expect(await eventually { (try? await fixture.get("/v1/models").status) == 200 })

        let generator = LoadGenerator(
            configuration: .init(
                url: fixture.gatewayURL, rate: 150, model: "m", promptTokens: 40, maxTokens: 4, seed: 3))
        let started = Date()
        await generator.start()
        // 150 req/s gives ~90 arrivals in 0.6 s; on a loaded CI machine wait (bounded) until 30 have completed.
        let deadline = Date().addingTimeInterval(15)
        try await Task.sleep(for: .milliseconds(600))
        while await generator.snapshot(since: started).count < 30, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        await generator.stop()
        #expect(await generator.inFlightCount == 0)
        let records = await generator.snapshot(since: started)
        let summary = await generator.summary()
        #expect(records.count >= 30)
        #expect(summary.count == records.count)
        #expect(summary.ok == records.count)
        #expect(summary.errors == 0)
        #expect(summary.shed == 0)
        #expect(summary.requestsToUnloadedPods == 0)
        #expect((summary.byRevision["rev-a"] ?? 0) + (summary.byRevision["rev-b"] ?? 0) == records.count)
        #expect((summary.byRevision["rev-b"] ?? 0) > 0 && (summary.byRevision["rev-a"] ?? 0) > 0)
        let p50 = try #require(summary.ttftP50)
        let p95 = try #require(summary.ttftP95)
        #expect(p50 <= p95)
        for record in records {
            let ttft = try #require(record.ttftSeconds)
            #expect(ttft >= 0.038)  // prefill of 40 tokens: 38 ms
            #expect(ttft < record.totalSeconds)
            #expect(record.tokens == 4)
            #expect(record.modelLoaded == true)
            #expect(record.status == 200)
        }
        // The 4× slower revision has the slower first tokens: 152 ms vs 38 ms of prefill.
        let slowest = records.filter { $0.revision == "rev-b" }.compactMap(\.ttftSeconds).min() ?? 0
        #expect(slowest >= 0.152)
        let stats = try #require(await fixture.cluster.gateway?.snapshot())
        #expect(stats.byRevision.values.reduce(0, +) >= records.count)
        await fixture.shutdown()
    }

    @Test(.timeLimit(.minutes(1)))
    func arrivalsBeyondTheInFlightLimitAreShed() async throws {
        let fixture = try await GatewayFixture.start()
        try await fixture.revision("only")
        #expect(await eventually { await fixture.readyPods("only") == 1 })
        try await fixture.route([("only", 1)])
        #expect(await eventually { (try? await fixture.get("/v1/models").status) == 200 })
        let generator = LoadGenerator(
            configuration: .init(
                url: fixture.gatewayURL, rate: 300, model: "m", promptTokens: 4, maxTokens: 30, maxInFlight: 1,
                seed: 9))
        await generator.start()
        // One request takes about 30 + 29 × 12 ms, so nearly every arrival (300/s) finds the slot taken. Wait for
        // arrivals rather than a fixed time: a loaded machine runs the arrival loop late.
        var maxInFlight = 0
        let waited = await eventually {
            maxInFlight = max(maxInFlight, await generator.inFlightCount)
            return await generator.shed > 20
        }
        #expect(waited)
        #expect(maxInFlight <= 1)
        await generator.setRate(0)
        let shed = await generator.shed
        await generator.stop()
        let summary = await generator.summary()
        // Served requests are few next to the shed ones: arrivals were dropped, not queued.
        #expect(summary.count < shed)
        #expect(summary.shed == shed)
        await fixture.shutdown()
    }
}
