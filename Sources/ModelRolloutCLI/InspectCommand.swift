import ArgumentParser
import Foundation
import KubeCore
import ModelRolloutCore

/// `modelrollout inspect`: judge a runtime log or summarise a `/metrics` scrape, for people and for scripts.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Judge a runtime log or summarise a runtime /metrics scrape.",
        discussion: """
            Reads a file, or standard input with '-' (the default), so it composes with kubectl: \
            `kubectl logs POD -c vllm | modelrollout inspect log -` or \
            `kubectl get --raw /api/v1/namespaces/NS/pods/POD:8000/proxy/metrics | modelrollout inspect metrics -`.
            """,
        subcommands: [InspectLogCommand.self, InspectMetricsCommand.self]
    )
}

/// Reads FILE or standard input ('-').
struct InputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The file to read; '-' reads standard input.", valueName: "file"))
    var file: String = "-"

    @Flag(help: "Print JSON for scripts instead of text for people.")
    var json = false

    func read() throws -> String {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw CLIError("cannot read \(file): no such file or not readable")
            }
            data = contents
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension JSONValue {
    init(_ value: Double?) { self = value.map { $0.isFinite ? .double($0) : .null } ?? .null }
    init(_ value: String?) { self = value.map { .string($0) } ?? .null }
}

struct InspectLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Decide from a pod log whether the model is loaded and the server is serving.",
        discussion: """
            Understands vLLM from 0.4 to the newest (V0 and V1 engines, tensor-parallel ranks, process tags, \
            ANSI colours, CRLF continuations, kubectl --timestamps, CI and journald prefixes), plus SGLang and \
            TGI basics. Excerpts that start after the banner (kubectl logs --tail/--since, rotation) are \
            recognised by vLLM's process tags and engine lines; vLLM 0.2/0.3, which print no load line, are \
            ready once the ASGI server's startup line follows the engine banner. A fatal error (EngineCore failed \
            to start, a traceback, CUDA OOM, a 401 from the model hub, Application startup failed, an engine \
            or worker process that died while serving) is a failure, reported with the line that proves it; \
            a route listing alone does not prove readiness; a server that shut down is Stopped. \
            With --json the fields are runtime, phase, modelLoaded, loadSeconds, serverReady, failed, \
            failureReason, failureLine and evidence.
            """
    )

    @OptionGroup var input: InputOptions

    func run() async throws {
        let judgement = LogJudge.judge(try input.read())
        if input.json {
            let object: JSONValue = [
                "runtime": .string(judgement.runtime.rawValue), "phase": .string(judgement.phase.rawValue),
                "modelLoaded": .bool(judgement.modelLoaded), "loadSeconds": JSONValue(judgement.loadSeconds),
                "serverReady": .bool(judgement.serverReady), "failed": .bool(judgement.failed),
                "failureReason": JSONValue(judgement.failureReason),
                "failureLine": JSONValue(judgement.failureLine),
                "evidence": .array(judgement.evidence.map { .string($0) }),
            ]
            Console.line(object.serialized(pretty: true))
        } else {
            Console.line("runtime:       \(judgement.runtime.rawValue)")
            Console.line("phase:         \(judgement.phase.rawValue)")
            Console.line("model loaded:  \(judgement.modelLoaded ? "yes" : "no")"
                + (judgement.loadSeconds.map { String(format: " (the runtime states %.1f s)", $0) } ?? ""))
            Console.line("server ready:  \(judgement.serverReady ? "yes" : "no")")
            if judgement.failed {
                Console.line("failed:        \(judgement.failureReason ?? "yes")")
                if let line = judgement.failureLine { Console.line("failure line:  \(line)") }
            }
            if !judgement.evidence.isEmpty {
                Console.line("evidence:")
                for line in judgement.evidence { Console.line("  \(line)") }
            }
        }
    }
}

struct InspectMetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Summarise a runtime /metrics scrape per model: queue, running, KV cache, TTFT, queue time, ITL.",
        discussion: """
            Parses the Prometheus text format as real scrapes contain it, recognises vLLM (V0 and V1 names, \
            series aggregated per model_name over engines), SGLang (sglang:, model_name or name) and TGI (tgi_, \
            one unnamed model, no TTFT histogram), and computes p50/p95 from histogram buckets the way \
            Prometheus' histogram_quantile does. A scrape without samples is reported as no data, never as zeros.
            """
    )

    @OptionGroup var input: InputOptions

    func run() async throws {
        let scrape = PrometheusText.parse(try input.read())
        let summary = RuntimeMetrics.summarise(scrape)
        func histogram(_ h: HistogramSummary) -> JSONValue {
            ["count": JSONValue(h.count), "sum": JSONValue(h.sum), "p50": JSONValue(h.p50), "p95": JSONValue(h.p95)]
        }
        if input.json {
            let object: JSONValue = [
                "runtime": .string(summary.runtime), "noData": .bool(summary.noData),
                "models": .array(summary.models.map { m in
                    [
                        "model": .string(m.model), "engines": .int(Int64(m.engines)), "waiting": JSONValue(m.waiting),
                        "running": JSONValue(m.running), "kvCacheUsage": JSONValue(m.kvCacheUsage),
                        "ttft": histogram(m.ttft), "queueTime": histogram(m.queueTime),
                        "interTokenLatency": histogram(m.interTokenLatency),
                    ]
                }),
            ]
            Console.line(object.serialized(pretty: true))
            return
        }
        Console.line("runtime: \(summary.runtime)")
        if summary.noData {
            Console.line("no data: the scrape has no samples")
            return
        }
        func fmt(_ v: Double?, _ unit: String = "") -> String { v.map { String(format: "%.3g", $0) + unit } ?? "-" }
        for m in summary.models {
            Console.line("\(m.model) (\(m.engines) engine\(m.engines == 1 ? "" : "s"))")
            Console.line("  waiting \(fmt(m.waiting))  running \(fmt(m.running))  KV cache \(fmt(m.kvCacheUsage.map { $0 * 100 }, "%"))")
            for (name, h) in [("TTFT", m.ttft), ("queue time", m.queueTime), ("inter-token latency", m.interTokenLatency)] {
                Console.line("  \(name): p50 \(fmt(h.p50, " s"))  p95 \(fmt(h.p95, " s"))  count \(fmt(h.count))")
            }
        }
    }
}
