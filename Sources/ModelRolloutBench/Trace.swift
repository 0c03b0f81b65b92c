import Foundation

/// A recorded request trace: one entry per request, its arrival (seconds from the trace's first request) and its
/// prompt and output lengths in tokens. Read from the Azure LLM inference trace CSV or a JSONL file.
public struct Trace: Sendable, Hashable {
    /// The file's name without directory and extension (`azure-llm-inference-2023-conv`).
    public var name: String
    /// Arrival offsets, seconds, sorted, the first 0.
    public var arrivals: [Double]
    public var promptTokens: [Int32]
    public var outputTokens: [Int32]
    /// Malformed lines skipped (`skipBad`); 0 otherwise.
    public var skippedLines: Int

    public var count: Int { arrivals.count }
    /// Seconds from the first to the last request.
    public var duration: Double { arrivals.last ?? 0 }

    public init(name: String, arrivals: [Double], promptTokens: [Int32], outputTokens: [Int32], skippedLines: Int = 0) {
        self.name = name
        self.arrivals = arrivals
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.skippedLines = skippedLines
    }

    /// Mean prompt and output lengths.
    public var meanPromptTokens: Double { mean(promptTokens) }
    public var meanOutputTokens: Double { mean(outputTokens) }

    private func mean(_ values: [Int32]) -> Double {
        values.isEmpty ? 0 : Double(values.reduce(0) { $0 + Int($1) }) / Double(values.count)
    }

    /// The requests to replay: arrivals divided by `speed` (compressed in time), and the rate scaled by `scale`
    /// (each request kept with probability `scale` below 1; above 1 repeated ⌊scale⌋ times plus once more with
    /// the fractional probability), the draws from `seed`. Repeats arrive a microsecond apart.
    public func replay(speed: Double, scale: Double, seed: UInt64) -> Workload {
        var random = BenchRandom(seed: seed ^ 0x7ACE_5CA1_E000_0001)
        var workload = Workload(arrivals: [], promptTokens: [], outputTokens: [])
        let whole = Int(scale.rounded(.down))
        let fraction = scale - Double(whole)
        workload.arrivals.reserveCapacity(Int(Double(count) * max(scale, 0.1)) + 1)
        for index in arrivals.indices {
            var copies = whole
            if fraction > 0, random.unit() < fraction { copies += 1 }
            for copy in 0..<copies {
                workload.arrivals.append(arrivals[index] / speed + Double(copy) * 1e-6)
                workload.promptTokens.append(promptTokens[index])
                workload.outputTokens.append(outputTokens[index])
            }
        }
        return workload
    }
}

/// A trace line that cannot be read: the line number (1-based, the header is line 1 of a CSV) and why.
public struct TraceError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var reason: String

    public var description: String {
        if let line { return "\(file): line \(line): \(reason)" }
        return "\(file): \(reason)"
    }
}

/// The formats ``TraceReader`` reads.
public enum TraceFormat: String, Sendable, CaseIterable {
    /// `TIMESTAMP,ContextTokens,GeneratedTokens` with `YYYY-MM-DD HH:MM:SS.fffffff` stamps (Azure LLM inference
    /// trace 2023).
    case azureCSV = "azure-csv"
    /// One JSON object per line: `timestamp` (milliseconds from the start), `input_length`, `output_length`;
    /// other keys are ignored.
    case jsonl

    /// The format of a file: by extension (`.csv`, `.jsonl`/`.json`), else by its first character.
    public static func detect(path: String, text: Substring) -> TraceFormat {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return .azureCSV }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".json") || lower.hasSuffix(".ndjson") { return .jsonl }
        return text.first(where: { !$0.isWhitespace }) == "{" ? .jsonl : .azureCSV
    }
}

/// Reads request traces. A malformed line is an error naming the line, or, with `skipBad`, skipped and counted
/// in ``Trace/skippedLines``; a trace without any valid request is an error either way.
public enum TraceReader {
    /// Reads a trace file.
    public static func read(path: String, skipBad: Bool) throws -> Trace {
        let url = URL(fileURLWithPath: path)
        let name = url.deletingPathExtension().lastPathComponent
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TraceError(file: path, line: nil, reason: "cannot read the file (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TraceError(file: path, line: nil, reason: "not UTF-8 text")
        }
        return try parse(text, name: name, file: path, format: nil, skipBad: skipBad)
    }

    /// Parses trace text; `format` nil detects it from `file` and the text.
    public static func parse(
        _ text: String, name: String, file: String, format: TraceFormat?, skipBad: Bool
    ) throws -> Trace {
        let body = text.hasPrefix("\u{FEFF}") ? text.dropFirst() : text[...]
        let format = format ?? TraceFormat.detect(path: file, text: body)
        var rows: [(time: Double, prompt: Int32, output: Int32)] = []
        var skipped = 0
        var lineNumber = 0
        var sawHeader = false
        // `\r\n` is one Character in Swift: split on every newline character, CRLF included.
        for line in body.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            if line.allSatisfy(\.isWhitespace) { continue }
            if format == .azureCSV, !sawHeader {
                sawHeader = true
                let header = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                guard header == ["timestamp", "contexttokens", "generatedtokens"] else {
                    throw TraceError(
                        file: file, line: lineNumber,
                        reason: "expected the header TIMESTAMP,ContextTokens,GeneratedTokens, found "
                            + "\"\(line.prefix(80))\"")
                }
                continue
            }
            let parsed = format == .azureCSV ? csvRow(line) : jsonRow(line)
            switch parsed {
            case .success(let row): rows.append(row)
            case .failure(let reason):
                if skipBad {
                    skipped += 1
                } else {
                    throw TraceError(
                        file: file, line: lineNumber, reason: reason.message + " (--trace-skip-bad skips it)")
                }
            }
        }
        guard !rows.isEmpty else {
            throw TraceError(
                file: file, line: nil,
                reason: "no valid request" + (skipped > 0 ? " (\(skipped) malformed lines skipped)" : ""))
        }
        rows.sort { $0.time < $1.time }
        let start = rows[0].time
        return Trace(
            name: name, arrivals: rows.map { $0.time - start }, promptTokens: rows.map(\.prompt),
            outputTokens: rows.map(\.output), skippedLines: skipped)
    }

    struct LineProblem: Error {
        var message: String
    }

    static let maxTokens = 10_000_000

    static func tokens(_ text: Substring, _ what: String) -> Result<Int32, LineProblem> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let value = Int(trimmed), value >= 0, value <= maxTokens else {
            return .failure(
                LineProblem(message: "\(what) \"\(trimmed.prefix(40))\" is not a token count (0…\(maxTokens))"))
        }
        return .success(Int32(value))
    }

    static func csvRow(_ line: Substring) -> Result<(time: Double, prompt: Int32, output: Int32), LineProblem> {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 3 else {
            return .failure(LineProblem(message: "expected 3 comma-separated fields, found \(fields.count)"))
        }
        guard let time = azureTimestamp(fields[0].trimmingCharacters(in: .whitespaces)) else {
            return .failure(
                LineProblem(message: "TIMESTAMP \"\(fields[0].prefix(40))\" is not YYYY-MM-DD HH:MM:SS[.fffffff]"))
        }
        return tokens(fields[1], "ContextTokens").flatMap { prompt in
            tokens(fields[2], "GeneratedTokens").map { (time, prompt, $0) }
        }
    }

    /// The keys of a JSONL record (other keys are ignored).
    struct JSONRecord: Decodable {
        var timestamp: Double?
        var inputLength: Double?
        var outputLength: Double?

        enum CodingKeys: String, CodingKey {
            case timestamp
            case inputLength = "input_length"
            case outputLength = "output_length"
        }
    }

    static func jsonRow(_ line: Substring) -> Result<(time: Double, prompt: Int32, output: Int32), LineProblem> {
        guard line.first(where: { !$0.isWhitespace }) == "{",
            let record = try? JSONDecoder().decode(JSONRecord.self, from: Data(line.utf8))
        else {
            return .failure(
                LineProblem(message: "not a JSON object with numeric timestamp, input_length, output_length"))
        }
        guard let ms = record.timestamp, ms.isFinite, ms >= 0 else {
            return .failure(
                LineProblem(message: "\"timestamp\" (milliseconds from the start, ≥ 0) is missing or invalid"))
        }
        var lengths: [Int32] = []
        for (key, value) in [("input_length", record.inputLength), ("output_length", record.outputLength)] {
            guard let value, value >= 0, value <= Double(maxTokens), value.rounded() == value else {
                return .failure(LineProblem(message: "\"\(key)\" (a token count) is missing or invalid"))
            }
            lengths.append(Int32(value))
        }
        return .success((ms / 1000, lengths[0], lengths[1]))
    }

    /// `2023-11-16 18:17:03.9799600` as seconds since 1970 (UTC; only differences matter).
    static func azureTimestamp(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 2 else { return nil }
        let date = parts[0].split(separator: "-").compactMap { Int($0) }
        let timeParts = parts[1].split(separator: ".", maxSplits: 1)
        let clock = timeParts[0].split(separator: ":").compactMap { Int($0) }
        guard date.count == 3, clock.count == 3, (1...12).contains(date[1]), (1...31).contains(date[2]),
            (0...23).contains(clock[0]), (0...59).contains(clock[1]), (0...60).contains(clock[2])
        else { return nil }
        var fraction = 0.0
        if timeParts.count == 2 {
            let digits = timeParts[1]
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isNumber), let value = Double("0." + digits)
            else { return nil }
            fraction = value
        }
        // Days from the civil date (proleptic Gregorian), then seconds.
        let y = date[1] <= 2 ? date[0] - 1 : date[0]
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = date[1]
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + date[2] - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400 + clock[0] * 3600 + clock[1] * 60 + clock[2]) + fraction
    }
}

/// Where a replayed trace comes from, for every figure made from it.
public enum TraceAttribution {
    /// The attribution of the Azure LLM inference traces (CC BY 4.0), or a generic source line.
    public static func note(for trace: Trace) -> String {
        if trace.name.lowercased().contains("azure") {
            return "Trace: Azure LLM inference trace 2023 (Azure/AzurePublicDataset, CC BY 4.0); Patel et al., "
                + "\"Splitwise: Efficient generative LLM inference using phase splitting\", ISCA 2024."
        }
        return "Trace: \(trace.name) (\(trace.count) requests)."
    }
}
