import ArgumentParser
import Foundation
import ModelRolloutBench

/// Where the bench commands write their --json and --markdown files.
enum BenchOutput {
    /// Writes `text` to `path`; a failure is one clear CLI error.
    static func write(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError("cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// `modelrollout bench`: the policy benchmark (default) and performance measurements of our own components.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark autoscaling and rollout policies, or the emulated cluster and the Kubernetes client.",
        subcommands: [BenchPoliciesCommand.self, BenchAPICommand.self, BenchScaleCommand.self],
        defaultSubcommand: BenchPoliciesCommand.self
    )
}

/// `modelrollout bench policies` (the default of `modelrollout bench`): the deterministic policy simulation.
struct BenchPoliciesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policies",
        abstract: "Compare ModelRollout's cold-start-aware policy with HPA, KEDA, Knative KPA, an oracle and a static "
            + "fleet in a deterministic simulation.",
        discussion: """
            A discrete-event simulation in virtual time (hours in seconds) of a vLLM
            fleet (continuous batching, cold starts of 90 s to 10 min) under each
            scenario, with each policy's real control-plane timing. The
            `modelrollout` policy runs the controller's own pure code (Autoscaler,
            ArrivalEstimator, ThroughputEstimator, LoadTimeStatistics,
            RolloutPlanner). Every scenario runs with seeds 1...N; the results are
            means over seeds, and the same seeds give identical results.

            Scenarios: \(Scenario.all().map(\.name).joined(separator: ", ")).
            Policies:  \(PolicyName.allCases.map(\.rawValue).joined(separator: ", ")).

            Real traffic: --trace FILE replays a request trace instead of the
            synthetic scenarios (repeatable; add --scenario to run both): the Azure
            LLM inference trace CSV (TIMESTAMP,ContextTokens,GeneratedTokens) or
            JSONL with one {"timestamp": ms from start, "input_length": N,
            "output_length": N} per line (other keys ignored). The trace's prompt
            and output lengths drive prefill and decode; the fleet starts sized for
            its first 5 minutes. --trace-speed K compresses time K-fold
            (repeatable: one scenario per speed), --trace-scale K thins or
            duplicates arrivals (per seed). A malformed line is an error naming the
            line, or skipped and counted with --trace-skip-bad.

            Progress lines go to stderr, the tables and the acceptance relations of
            issue 4 to stdout. --json writes the results, --markdown the method and
            the tables (`make bench` pastes them into README.md), --plot one SVG
            chart per scenario (TTFT p95 and pods over time, one line per policy).
            """
    )

    @Option(
        name: .customLong("scenario"),
        help: ArgumentHelp("A scenario to run (repeatable; default: all).", valueName: "name"))
    var scenarios: [String] = []

    @Option(
        name: .customLong("policy"),
        help: ArgumentHelp("A policy to run (repeatable; default: all).", valueName: "name"))
    var policies: [String] = []

    @Option(help: ArgumentHelp("Seeds per scenario (1...N).", valueName: "n"))
    var seeds: Int = 5

    @Option(
        name: .customLong("trace"),
        help: ArgumentHelp("Replay this request trace (Azure CSV or JSONL; repeatable).", valueName: "file"))
    var traces: [String] = []

    @Option(
        name: .customLong("trace-speed"),
        help: ArgumentHelp("Compress the trace's time K-fold (repeatable; default 1: as recorded).", valueName: "K"))
    var traceSpeeds: [Double] = []

    @Option(
        name: .customLong("trace-scale"),
        help: ArgumentHelp(
            "Scale the trace's arrival rate by K (thinning below 1, duplicating above).", valueName: "K"))
    var traceScale: Double = 1

    @Flag(name: .customLong("trace-skip-bad"), help: "Skip and count malformed trace lines instead of failing.")
    var traceSkipBad = false

    @Option(help: ArgumentHelp("Write the results as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Write the method and tables as markdown to this file.", valueName: "file"))
    var markdown: String?

    @Option(help: ArgumentHelp("Write one SVG chart per scenario into this directory.", valueName: "dir"))
    var plot: String?

    func validate() throws {
        guard (1...100).contains(seeds) else { throw ValidationError("--seeds must be from 1 to 100") }
        let known = Set(Scenario.all().map(\.name))
        for name in scenarios where !known.contains(name) {
            throw ValidationError(
                "unknown scenario '\(name)'; known: \(Scenario.all().map(\.name).joined(separator: ", "))")
        }
        for speed in traceSpeeds where !(speed > 0 && speed <= 1000) {
            throw ValidationError("--trace-speed must be above 0 and at most 1000 (got \(speed))")
        }
        guard traceScale > 0, traceScale <= 100 else {
            throw ValidationError("--trace-scale must be above 0 and at most 100 (got \(traceScale))")
        }
        if traces.isEmpty, !traceSpeeds.isEmpty || traceScale != 1 || traceSkipBad {
            throw ValidationError("--trace-speed, --trace-scale and --trace-skip-bad need --trace FILE")
        }
        for name in policies where PolicyName(rawValue: name) == nil {
            throw ValidationError(
                "unknown policy '\(name)'; known: \(PolicyName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        var settings = BenchmarkSettings(seeds: seeds)
        if !scenarios.isEmpty || !traces.isEmpty {
            let wanted = Set(scenarios)
            settings.scenarios = settings.scenarios.filter { wanted.contains($0.name) }
        }
        for path in traces {
            let trace: Trace
            do {
                trace = try TraceReader.read(path: path, skipBad: traceSkipBad)
            } catch let error as TraceError {
                throw CLIError("cannot replay the trace: \(error)")
            }
            Console.error(
                "trace \(trace.name): \(trace.count) requests over \(Int(trace.duration)) s"
                    + (traceSkipBad ? ", \(trace.skippedLines) malformed lines skipped" : ""))
            for speed in traceSpeeds.isEmpty ? [1] : traceSpeeds {
                let replay = TraceReplay(trace: trace, speed: speed, scale: traceScale)
                settings.scenarios.append(Scenario.replaying(replay, engine: settings.engine))
            }
        }
        if !policies.isEmpty {
            let wanted = Set(policies)
            settings.policies = PolicyName.allCases.filter { wanted.contains($0.rawValue) }
        }
        Console.error(
            "modelrollout bench: \(settings.scenarios.count) scenarios × \(settings.policies.count) policies × "
                + "\(settings.seeds) seeds")
        let report = PolicyBenchmark.run(settings, progress: { Console.error($0) })
        Console.line(report.table())
        if let json { try write(report.json(), to: json) }
        if let markdown { try write(report.markdown(), to: markdown) }
        if let plot {
            do {
                try FileManager.default.createDirectory(atPath: plot, withIntermediateDirectories: true)
            } catch {
                throw CLIError("cannot create \(plot): \(error.localizedDescription)")
            }
            for result in report.scenarios {
                try write(
                    SVGPlot.chart(result), to: (plot as NSString).appendingPathComponent("\(result.scenario.name).svg"))
                if let replay = result.scenario.replay {
                    let chart = SVGPlot.capacityChart(
                        result, policies: [.modelrollout, .kedaQueue, .oracle],
                        throughput: result.scenario.engine(settings.engine).saturatedThroughput,
                        note: TraceAttribution.note(for: replay.trace))
                    try write(
                        chart,
                        to: (plot as NSString).appendingPathComponent("\(result.scenario.name)-capacity.svg"))
                }
            }
        }
    }

    private func write(_ text: String, to path: String) throws { try BenchOutput.write(text, to: path) }
}

/// `modelrollout bench api`: throughput, latency and memory of the emulated API server with our client.
struct BenchAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Benchmark the emulated API server together with the ModelRollout Kubernetes client.",
        discussion: """
            Starts the emulated API server in this process (no workloads) on
            127.0.0.1 with a free port, and measures the server and our client
            together over loopback HTTP:

              create     POST --objects ConfigMaps, 16 requests in flight
              list       the full list in one response; paged with limit=500
              patch      one merge patch per object, 16 in flight
              watch      one watch from the resourceVersion before those
                         patches (the server replays them), then --watchers
                         such watches at once (total events delivered/s)
              latency    p50/p99 of --iterations sequential merge patches, and
                         from sending a patch until a Reflector (Watcher over
                         ResourceListerWatcher) delivers its MODIFIED event
              memory     bytes per object of a Reflector's Store holding
                         --objects and 5 x --objects ConfigMaps: RSS from
                         /proc/self/statm (after malloc_trim) with the store
                         minus RSS once it is released, divided by the count
                         (Linux only; the server's copies exist throughout)

            Progress lines go to stderr, the table to stdout. --json and
            --markdown write the same results to files (`make bench` pastes
            the markdown into README.md). Numbers depend on the machine and
            the build: compare release builds (swift build -c release).
            """
    )

    @Option(help: ArgumentHelp("ConfigMaps to create, list and modify.", valueName: "n"))
    var objects: Int = 2000

    @Option(help: ArgumentHelp("Concurrent watches of the fan-out measurement.", valueName: "n"))
    var watchers: Int = 50

    @Option(help: ArgumentHelp("Sequential patches of each latency measurement.", valueName: "n"))
    var iterations: Int = 1000

    @Option(help: ArgumentHelp("Write the results as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Write the results as a markdown table to this file.", valueName: "file"))
    var markdown: String?

    func validate() throws {
        // The watch replay needs every patch event in the server's history (10,000 events).
        guard (1...5000).contains(objects) else { throw ValidationError("--objects must be from 1 to 5000") }
        guard (1...500).contains(watchers) else { throw ValidationError("--watchers must be from 1 to 500") }
        guard (1...100_000).contains(iterations) else {
            throw ValidationError("--iterations must be from 1 to 100000")
        }
    }

    func run() async throws {
        var settings = APIBenchmarkSettings()
        settings.objects = objects
        settings.watchers = watchers
        settings.iterations = iterations
        settings.memoryCounts = [objects, objects * 5]
        let benchmark = APIBenchmark(settings: settings, progress: { Console.error($0) })
        let report = try await benchmark.run()
        Console.line(BenchmarkFormat.table(report))
        if let json {
            try write(BenchmarkFormat.json(report), to: json)
        }
        if let markdown {
            try write(BenchmarkFormat.markdown(report), to: markdown)
        }
    }

    private func write(_ text: String, to path: String) throws { try BenchOutput.write(text, to: path) }
}

/// `modelrollout bench scale`: the controller's cost with many ModelRollouts.
struct BenchScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Measure the controller with N ModelRollouts × k pods: idle cost, a pod event, simultaneous rollouts.",
        discussion: """
            For each N of --rollouts: the emulated cluster in this process with N Deployments of --replicas \
            pods, N HTTPRoutes and N ModelRollouts; the real controller (this executable's `controller`, default \
            flags) as a subprocess. Reported per N: the first pass (caches synced until every ModelRollout was \
            reconciled once), the controller's RSS, CPU seconds, reconciles and API requests per minute over \
            --steady-seconds with nothing to do, the reconciles one pod deletion causes, and for each M of \
            --simultaneous (≤ N) the time until M rollouts started at once are all Promoted, with the reconcile \
            duration p50/p99 over that batch.

            Progress goes to stderr, the table to stdout; --json and --markdown write files (`make bench` pastes \
            the markdown into README.md). Linux only (/proc). Compare release builds.
            """
    )

    @Option(help: ArgumentHelp("ModelRollouts of each run, comma-separated.", valueName: "n,n,..."))
    var rollouts: String = "2,20,200"

    @Option(help: ArgumentHelp("Pods of each ModelRollout's Deployment.", valueName: "k"))
    var replicas: Int = 10

    @Option(help: ArgumentHelp("Wall seconds of the steady-state window.", valueName: "s"))
    var steadySeconds: Double = 60

    @Option(help: ArgumentHelp("Simultaneous rollouts to time, comma-separated (those above N are skipped).",
                               valueName: "m,m,..."))
    var simultaneous: String = "1,20,100"

    @Option(help: ArgumentHelp("Write the results as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Write the results as a markdown table to this file.", valueName: "file"))
    var markdown: String?

    static func counts(_ text: String, _ option: String, range: ClosedRange<Int>) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0.map(range.contains) ?? false }) else {
            throw ValidationError("\(option) must be comma-separated integers from \(range.lowerBound) to \(range.upperBound)")
        }
        return values.compactMap { $0 }
    }

    func validate() throws {
        _ = try Self.counts(rollouts, "--rollouts", range: 1...1000)
        _ = try Self.counts(simultaneous, "--simultaneous", range: 1...1000)
        guard (1...50).contains(replicas) else { throw ValidationError("--replicas must be from 1 to 50") }
        guard steadySeconds >= 5, steadySeconds <= 3600 else {
            throw ValidationError("--steady-seconds must be from 5 to 3600")
        }
    }

    func run() async throws {
        var settings = ScaleBenchmarkSettings()
        settings.rollouts = try Self.counts(rollouts, "--rollouts", range: 1...1000)
        settings.simultaneous = try Self.counts(simultaneous, "--simultaneous", range: 1...1000)
        settings.replicas = replicas
        settings.steadySeconds = steadySeconds
        let report = try await ScaleBenchmark(settings: settings, progress: { Console.error($0) }).run {
            partial in try save(partial)
        }
        Console.line(ScaleBenchmark.markdown(report))
    }

    /// Writes --json and --markdown (after every run, so a failure in a later run keeps the earlier ones).
    private func save(_ report: ScaleBenchmarkReport) throws {
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try write(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n", to: json)
        }
        if let markdown { try write(ScaleBenchmark.markdown(report), to: markdown) }
    }

    private func write(_ text: String, to path: String) throws { try BenchOutput.write(text, to: path) }
}

/// Renders a benchmark report as a console table, JSON or markdown.
enum BenchmarkFormat {
    static func value(_ metric: BenchmarkMetric) -> String {
        guard metric.value.isFinite else { return "n/a" }
        let number: String
        switch metric.unit {
        case "ms": number = String(format: metric.value < 10 ? "%.3f" : "%.1f", metric.value)
        default:
            number = metric.value >= 100 ? grouped(Int(metric.value.rounded())) : String(format: "%.1f", metric.value)
        }
        return "\(number) \(metric.unit)"
    }

    /// An integer with thousands separators (1,234,567), independent of the locale.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func header(_ report: APIBenchmarkReport) -> String {
        let s = report.settings
        return "modelrollout bench api: \(report.build) build, \(report.cores) cores, \(s.objects) objects, "
            + "\(s.watchers) watchers, \(s.iterations) iterations; \(String(format: "%.1f", report.durationSeconds)) s"
    }

    static func table(_ report: APIBenchmarkReport) -> String {
        let names = report.metrics.map(\.name)
        let values = report.metrics.map(value)
        let nameWidth = max(names.map(\.count).max() ?? 0, "metric".count)
        let valueWidth = max(values.map(\.count).max() ?? 0, "value".count)
        func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
        func padLeft(_ s: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - s.count)) + s
        }
        var lines = [header(report), ""]
        lines.append("\(pad("metric", nameWidth))  \(padLeft("value", valueWidth))  method")
        lines.append(String(repeating: "-", count: nameWidth + valueWidth + 12))
        for (i, metric) in report.metrics.enumerated() {
            lines.append("\(pad(names[i], nameWidth))  \(padLeft(values[i], valueWidth))  \(metric.method)")
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ report: APIBenchmarkReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    static func markdown(_ report: APIBenchmarkReport) -> String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var lines = [
            "Measured by `modelrollout bench api` (\(report.build) build, \(report.cores) cores, \(report.date)): "
                + "the emulated API server and our client in one process over loopback HTTP.",
            "",
            "| Metric | Value | Method |",
            "| --- | ---: | --- |",
        ]
        for metric in report.metrics {
            lines.append("| \(cell(metric.name)) | \(cell(value(metric))) | \(cell(metric.method)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
