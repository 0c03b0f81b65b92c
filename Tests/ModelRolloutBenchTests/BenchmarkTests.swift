import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@testable import ModelRolloutBench

/// A short rollout scenario so report tests run in a moment.
func shortRollout() -> Scenario {
    var s = scenario("seed-revision")
    s.name = "short"
    s.eventTime = 300
    s.end = 300 + 900
    return s
}

@Suite struct BenchmarkTests {
    @Test func theSameSeedsGiveIdenticalJSONSerialOrParallel() {
        let settings = BenchmarkSettings(
            scenarios: [shortRollout()], policies: [.naive, .kpa, .modelrollout, .oracle], seeds: 2, parallel: false)
        var parallel = settings
        parallel.parallel = true
        let a = PolicyBenchmark.run(settings).json()
        let b = PolicyBenchmark.run(parallel).json()
        #expect(a == b)
        var other = settings
        other.policies = [.modelrollout]
        other.seeds = 1
        let c = PolicyBenchmark.run(other)
        #expect(c.scenarios[0].policies.count == 1)
        #expect(c.json() != a)
    }

    @Test func jsonHasExactlyTheFieldsOfIssues4And12() throws {
        let report = PolicyBenchmark.run(
            BenchmarkSettings(scenarios: [shortRollout()], policies: [.naive, .modelrollout], seeds: 1))
        let data = Data(report.json().utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(root.keys) == ["scenarios"])
        let scenarios = try #require(root["scenarios"] as? [[String: Any]])
        #expect(Set(scenarios[0].keys) == ["name", "coldStartSeconds", "baselineTtftP95", "policies"])
        #expect(scenarios[0]["name"] as? String == "short")
        let policies = try #require(scenarios[0]["policies"] as? [[String: Any]])
        #expect(policies.map { $0["name"] as? String } == ["naive", "modelrollout"])
        #expect(
            Set(policies[0].keys) == [
                "name", "seeds", "ttftP50", "ttftP95", "ttftP99", "sloAttainment", "gpuMinutes",
                "requestsToUnloadedPods", "timeouts", "peakReplicas", "timeToCapacitySeconds", "goodput",
                "goodputPerGpuHour", "scalingActions",
            ])
        #expect(policies[1]["requestsToUnloadedPods"] as? Double == 0)
        // Goodput is at most the SLO share of the arrivals, and per GPU-hour consistent with the GPU-minutes.
        for policy in policies {
            let goodput = policy["goodput"] as? Double ?? -1
            let perGpuHour = policy["goodputPerGpuHour"] as? Double ?? -1
            let gpuMinutes = policy["gpuMinutes"] as? Double ?? 0
            #expect(goodput > 0)
            #expect(perGpuHour > 0)
            let window = report.scenarios[0].scenario.end - report.scenarios[0].scenario.eventTime
            #expect(abs(goodput * window / (gpuMinutes / 60) - perGpuHour) / perGpuHour < 0.02)
        }
        #expect((policies[0]["requestsToUnloadedPods"] as? Double ?? 0) > 0)
    }

    @Test func markdownCarriesTheMethodAndATablePerScenario() {
        let report = PolicyBenchmark.run(
            BenchmarkSettings(scenarios: [shortRollout()], policies: [.naive, .modelrollout], seeds: 1))
        let markdown = report.markdown()
        #expect(markdown.contains("**Method.**"))
        #expect(markdown.contains("concurrency limit 64"))
        #expect(markdown.contains("| naive |"))
        #expect(markdown.contains("| modelrollout |"))
        let table = report.table()
        #expect(table.contains("short"))
    }

    @Test func theChartIsWellFormedSVGWithALinePerPolicyAndPanel() throws {
        let report = PolicyBenchmark.run(
            BenchmarkSettings(scenarios: [shortRollout()], policies: [.naive, .modelrollout, .oracle], seeds: 1))
        let svg = SVGPlot.chart(report.scenarios[0])
        #expect(svg.hasPrefix("<?xml"))
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(svg.components(separatedBy: "<polyline").count - 1 >= 6)
        for name in ["naive", "modelrollout", "oracle", "TTFT p95", "pods"] { #expect(svg.contains(name)) }
    }
}
