import ArgumentParser
import Foundation

/// `modelrollout bench`: performance measurements of our own components.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the performance of the emulated cluster and the Kubernetes client.",
        subcommands: [BenchAPICommand.self]
    )
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

    private func write(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError("cannot write \(path): \(error.localizedDescription)")
        }
    }
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
