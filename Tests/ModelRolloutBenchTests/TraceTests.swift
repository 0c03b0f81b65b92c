import Foundation
import Testing

@testable import ModelRolloutBench

/// Lines shaped like the Azure LLM inference trace 2023 (`TIMESTAMP,ContextTokens,GeneratedTokens`), written for
/// the test (the real traces stay in ../shared/traces).
private let azureCSV = """
    TIMESTAMP,ContextTokens,GeneratedTokens
    2023-11-16 18:15:46.6805900,374,44
    2023-11-16 18:15:50.9951690,396,109
    2023-11-16 18:15:51.2224670,879,55
    2023-11-16 18:16:51.2224670,91,16
    """

private let jsonl = """
    {"timestamp": 0, "input_length": 100, "output_length": 20, "hash_ids": [1, 2]}
    {"timestamp": 1500, "input_length": 2000, "output_length": 5}

    {"timestamp": 500.5, "input_length": 300, "output_length": 30, "model": "x"}
    """

@Suite struct TraceTests {
    @Test func readsTheAzureCSV() throws {
        let trace = try TraceReader.parse(azureCSV, name: "conv", file: "conv.csv", format: nil, skipBad: false)
        #expect(trace.count == 4)
        #expect(trace.arrivals.first == 0)
        #expect(abs(trace.arrivals[1] - 4.314579) < 1e-6)
        #expect(abs(trace.duration - 64.541877) < 1e-6)
        #expect(trace.promptTokens == [374, 396, 879, 91])
        #expect(trace.outputTokens == [44, 109, 55, 16])
        #expect(trace.skippedLines == 0)
    }

    @Test func readsJSONLInAnyOrderIgnoringOtherKeys() throws {
        let trace = try TraceReader.parse(jsonl, name: "t", file: "t.jsonl", format: nil, skipBad: false)
        #expect(trace.arrivals == [0, 0.5005, 1.5])
        #expect(trace.promptTokens == [100, 300, 2000])
        #expect(trace.outputTokens == [20, 30, 5])
    }

    @Test(arguments: [
        ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,374,44\n2023-11-16 25:00:00,1,1\n", "csv",
            "line 3: TIMESTAMP"),
        ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,374\n", "csv", "line 2: expected 3"),
        ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,-5,4\n", "csv", "line 2: ContextTokens"),
        ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,5,x\n", "csv", "line 2: GeneratedTokens"),
        ("when,prompt,output\n", "csv", "line 1: expected the header"),
        ("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n{\"timestamp\": 1}\n", "jsonl",
            "line 2: \"input_length\""),
        ("{\"timestamp\": -1, \"input_length\": 1, \"output_length\": 1}\n", "jsonl", "line 1: \"timestamp\""),
        ("{\"timestamp\": 0, \"input_length\": 1.5, \"output_length\": 1}\n", "jsonl", "line 1: \"input_length\""),
        ("not json\n", "jsonl", "line 1: not a JSON object"),
        ("{\"timestamp\": true, \"input_length\": 1, \"output_length\": 1}\n", "jsonl", "line 1: not a JSON object"),
    ])
    func aMalformedLineIsAnErrorNamingTheLine(_ text: String, _ ext: String, _ expected: String) {
        #expect {
            _ = try TraceReader.parse(text, name: "t", file: "t.\(ext)", format: nil, skipBad: false)
        } throws: { error in
            "\(error)".contains("t.\(ext): \(expected)")
        }
    }

    @Test func skipBadCountsTheSkippedLines() throws {
        let csv = azureCSV + "\r\n2023-11-16 18:17:00,oops,1\r\n2023-11-16 18:17:01,1\n"
        let trace = try TraceReader.parse(csv, name: "t", file: "t.csv", format: nil, skipBad: true)
        #expect(trace.count == 4)
        #expect(trace.skippedLines == 2)
        let lines = jsonl + "\n{\"timestamp\": \"soon\"}\n[1, 2]\n"
        let json = try TraceReader.parse(lines, name: "t", file: "t.jsonl", format: nil, skipBad: true)
        #expect(json.count == 3)
        #expect(json.skippedLines == 2)
        // Nothing valid is an error even when skipping: never a silent empty run.
        #expect(throws: TraceError.self) {
            _ = try TraceReader.parse("garbage\nmore\n", name: "t", file: "t.jsonl", format: nil, skipBad: true)
        }
        #expect(throws: TraceError.self) {
            _ = try TraceReader.parse("TIMESTAMP,ContextTokens,GeneratedTokens\n", name: "t", file: "t.csv",
                format: nil, skipBad: false)
        }
    }

    @Test func aMissingFileIsAClearError() {
        #expect {
            _ = try TraceReader.read(path: "/nonexistent/trace.csv", skipBad: false)
        } throws: { error in
            "\(error)".hasPrefix("/nonexistent/trace.csv: cannot read the file")
        }
    }

    @Test func replayCompressesAndScalesDeterministically() throws {
        let trace = try TraceReader.parse(azureCSV, name: "t", file: "t.csv", format: nil, skipBad: false)
        let fast = trace.replay(speed: 4, scale: 1, seed: 1)
        #expect(fast.arrivals.map { ($0 * 1e6).rounded() } == trace.arrivals.map { ($0 / 4 * 1e6).rounded() })
        #expect(fast.promptTokens == trace.promptTokens)
        let doubled = trace.replay(speed: 1, scale: 2, seed: 1)
        #expect(doubled.count == 8)
        #expect(doubled.arrivals == doubled.arrivals.sorted())
        // Thinning keeps about the given share, the same for the same seed.
        var many = "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        for i in 0..<2000 { many += String(format: "2023-11-16 18:%02d:%02d.0,100,10\n", i / 60 % 60, i % 60) }
        let big = try TraceReader.parse(many, name: "t", file: "t.csv", format: nil, skipBad: false)
        let half = big.replay(speed: 1, scale: 0.5, seed: 7)
        #expect(abs(Double(half.count) - 1000) < 100)
        #expect(half.arrivals == big.replay(speed: 1, scale: 0.5, seed: 7).arrivals)
        #expect(half.arrivals != big.replay(speed: 1, scale: 0.5, seed: 8).arrivals)
    }

    @Test func aReplayScenarioStartsSizedForItsFirstMinutesAndUsesTheTracesLengths() throws {
        var csv = "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        // 20 req/s for 10 minutes, 1,000-token prompts and 200-token outputs.
        for i in 0..<12_000 {
            let t = Double(i) / 20
            csv += String(format: "2023-11-16 18:%02d:%09.6f,1000,200\n", Int(t) / 60, t.truncatingRemainder(dividingBy: 60))
        }
        let trace = try TraceReader.parse(csv, name: "flat", file: "flat.csv", format: nil, skipBad: false)
        let scenario = Scenario.replaying(TraceReplay(trace: trace, speed: 1, scale: 1))
        let engine = scenario.engine(EngineModel())
        #expect(engine.meanPromptTokens == 1000)
        #expect(engine.meanOutputTokens == 200)
        let expected = Int((20 / (0.8 * engine.saturatedThroughput)).rounded(.up))
        #expect(scenario.initialReplicas == expected)
        #expect(scenario.eventTime == min(300, trace.duration / 4))
        #expect(scenario.name == "trace-flat")
        let workload = scenario.workload(engine: engine, seed: 1)
        #expect(workload.count == 12_000)
        #expect(Scenario.replaying(TraceReplay(trace: trace, speed: 4, scale: 1)).name == "trace-flat-x4")
    }

    /// The real traces, when ../shared/traces is there (CI clones may not have it).
    static let sharedTraces = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/traces").standardizedFileURL

    @Test(.enabled(if: FileManager.default.fileExists(atPath: sharedTraces.path)))
    func readsBothRealAzureTraces() throws {
        let code = try TraceReader.read(
            path: Self.sharedTraces.appendingPathComponent("azure-llm-inference-2023-code.csv").path, skipBad: false)
        let conv = try TraceReader.read(
            path: Self.sharedTraces.appendingPathComponent("azure-llm-inference-2023-conv.csv").path, skipBad: false)
        #expect(code.count == 8819)
        #expect(conv.count == 19366)
        #expect(code.duration > 50 * 60 && code.duration < 60 * 60)
        #expect(conv.duration > 55 * 60 && conv.duration < 61 * 60)
    }
}
