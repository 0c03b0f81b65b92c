import Testing

@testable import ModelRolloutCore

/// One parsing case: a single line and the sample it must yield, or nil when it must be skipped.
struct SampleLineCase: Sendable, CustomStringConvertible {
    var line: String
    var name: String?
    var labels: [String: String] = [:]
    var value: Double = 0
    var timestamp: Double?
    var description: String { line }
}

private let sampleLineCases: [SampleLineCase] = [
    SampleLineCase(line: "vllm:num_requests_running 3", name: "vllm:num_requests_running", value: 3),
    SampleLineCase(line: #"vllm:num_requests_waiting{engine="0",model_name="m"} 2.0"#,
                   name: "vllm:num_requests_waiting", labels: ["engine": "0", "model_name": "m"], value: 2),
    SampleLineCase(line: #"x{a="b",} 1e-3 1712345678901"#, name: "x", labels: ["a": "b"], value: 0.001,
                   timestamp: 1_712_345_678_901),
    SampleLineCase(line: #"x { a = "1" , b="2" } -4.5"#, name: "x", labels: ["a": "1", "b": "2"], value: -4.5),
    SampleLineCase(line: #"x{path="C:\\dir",q="say \"hi\"",nl="a\nb"} 1"#, name: "x",
                   labels: ["path": #"C:\dir"#, "q": #"say "hi""#, "nl": "a\nb"], value: 1),
    SampleLineCase(line: #"x{a="{},=# "} 7"#, name: "x", labels: ["a": "{},=# "], value: 7),
    SampleLineCase(line: "x{} +Inf", name: "x", value: .infinity),
    SampleLineCase(line: "x -Inf", name: "x", value: -.infinity),
    SampleLineCase(line: "x 1.5 # {trace_id=\"abc\"} 1.0", name: "x", value: 1.5),
    SampleLineCase(line: "x\t42\t100", name: "x", value: 42, timestamp: 100),
    SampleLineCase(line: "x", name: nil),
    SampleLineCase(line: "x abc", name: nil),
    SampleLineCase(line: "9x 1", name: nil),
    SampleLineCase(line: #"x{a="b" 1"#, name: nil),
    SampleLineCase(line: #"x{a="b} 1"#, name: nil),
    SampleLineCase(line: #"x{a=b} 1"#, name: nil),
    SampleLineCase(line: #"x{a="1",a="2"} 1"#, name: nil),
    SampleLineCase(line: "x 1 notatime", name: nil),
    SampleLineCase(line: "x 1 2 3", name: nil),
    SampleLineCase(line: "<html><body>502 Bad Gateway</body></html>", name: nil),
]

@Suite struct PrometheusTextTests {
    @Test(arguments: sampleLineCases)
    func parsesOrSkipsSampleLine(_ testCase: SampleLineCase) {
        let scrape = PrometheusText.parse(testCase.line)
        guard let name = testCase.name else {
            #expect(scrape.samples.isEmpty)
            #expect(scrape.skippedLines == 1)
            #expect(scrape.skipReasons.count == 1)
            return
        }
        #expect(scrape.skippedLines == 0, "\(scrape.skipReasons)")
        #expect(scrape.samples.count == 1)
        guard let sample = scrape.samples.first else { return }
        #expect(sample.name == name)
        #expect(sample.labels == testCase.labels)
        #expect(sample.value == testCase.value)
        #expect(sample.timestamp == testCase.timestamp)
    }

    @Test func parsesNaN() {
        let scrape = PrometheusText.parse("x NaN\ny{a=\"b\"} nan\n")
        #expect(scrape.samples.count == 2)
        #expect(scrape.samples.allSatisfy { $0.value.isNaN })
    }

    @Test func parsesHelpTypeCreatedBlankCRLFAndEllipsis() {
        let text = [
            "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.",
            "# TYPE vllm:prompt_tokens_total counter",
            "vllm:prompt_tokens_total{engine=\"0\",model_name=\"m\"} 1234.0",
            "vllm:prompt_tokens_created{engine=\"0\",model_name=\"m\"} 1.7123456789e+09",
            "",
            "   ",
            "...",
            "# HELP a_b Line one\\nline two with \\\\ backslash",
            "# TYPE a_b gauge",
            "# TYPE weird strange",
            "# just a comment",
            "# EOF",
        ].joined(separator: "\r\n")
        let scrape = PrometheusText.parse(text)
        #expect(scrape.skippedLines == 0, "\(scrape.skipReasons)")
        #expect(scrape.samples.map(\.name) == ["vllm:prompt_tokens_total", "vllm:prompt_tokens_created"])
        #expect(scrape.samples.map(\.isCreated) == [false, true])
        #expect(scrape.types["vllm:prompt_tokens_total"] == .counter)
        #expect(scrape.types["a_b"] == .gauge)
        #expect(scrape.types["weird"] == .unknown)
        #expect(scrape.help["vllm:prompt_tokens_total"] == "Number of prefill tokens processed.")
        #expect(scrape.help["a_b"] == "Line one\nline two with \\ backslash")
        #expect(scrape.familyNames == ["vllm:prompt_tokens_total", "a_b", "weird"])
    }

    @Test func countsGarbageAndKeepsFirstReasons() {
        let garbage = (1...8).map { "garbage line \($0)" }
        let text = (["ok 1"] + garbage + ["ok 2"]).joined(separator: "\n")
        let scrape = PrometheusText.parse(text)
        #expect(scrape.samples.map(\.value) == [1, 2])
        #expect(scrape.skippedLines == 8)
        #expect(scrape.skipReasons.count == PrometheusText.maxSkipReasons)
        #expect(scrape.skipReasons.first?.hasPrefix("line 2:") == true)
    }

    @Test func emptyInputYieldsEmptyScrape() {
        #expect(PrometheusText.parse("") == PrometheusScrape())
        #expect(PrometheusText.parse("\n\r\n\n") == PrometheusScrape())
    }
}
