/// One sample of a Prometheus text exposition: a metric name, its labels, a value and an optional timestamp.
public struct PrometheusSample: Sendable, Equatable {
    /// The full sample name, including suffixes such as `_bucket`, `_sum`, `_count`, `_total`, `_created`.
    public var name: String
    /// The label set (label values unescaped).
    public var labels: [String: String]
    /// The value; may be NaN or ±Inf.
    public var value: Double
    /// The optional timestamp as written (milliseconds in the Prometheus text format).
    public var timestamp: Double?

    /// Creates a sample.
    public init(name: String, labels: [String: String] = [:], value: Double, timestamp: Double? = nil) {
        self.name = name
        self.labels = labels
        self.value = value
        self.timestamp = timestamp
    }

    /// True for the `_created` samples that client libraries add to counters, histograms and summaries.
    /// They are kept in the scrape but are timestamps, not values.
    public var isCreated: Bool { name.hasSuffix("_created") }
}

/// The `# TYPE` of a metric family.
public enum PrometheusMetricType: String, Sendable, Equatable, CaseIterable {
    case counter, gauge, histogram, summary, untyped
    case gaugehistogram, info, stateset, unknown
}

/// A parsed Prometheus text exposition. Parsing never fails; lines it cannot read are counted.
public struct PrometheusScrape: Sendable, Equatable {
    /// The samples, in the order they appeared.
    public var samples: [PrometheusSample] = []
    /// `# TYPE` per family name.
    public var types: [String: PrometheusMetricType] = [:]
    /// `# HELP` text per family name.
    public var help: [String: String] = [:]
    /// The number of malformed lines skipped.
    public var skippedLines: Int = 0
    /// The reasons of the first few skipped lines (at most `PrometheusText.maxSkipReasons`).
    public var skipReasons: [String] = []

    /// Creates a scrape.
    public init(samples: [PrometheusSample] = [], types: [String: PrometheusMetricType] = [:],
                help: [String: String] = [:], skippedLines: Int = 0, skipReasons: [String] = []) {
        self.samples = samples
        self.types = types
        self.help = help
        self.skippedLines = skippedLines
        self.skipReasons = skipReasons
    }

    /// Family names that were declared by `# HELP` or `# TYPE`, whether or not they have samples.
    public var familyNames: Set<String> { Set(types.keys).union(help.keys) }

    /// The samples with exactly this name.
    public func samples(named name: String) -> [PrometheusSample] {
        samples.filter { $0.name == name }
    }
}

/// The Prometheus text exposition format (version 0.0.4, also tolerating OpenMetrics `# EOF` and exemplars).
public enum PrometheusText {
    /// How many skip reasons a scrape keeps.
    public static let maxSkipReasons = 5

    /// Parses an exposition. Never throws: malformed lines are counted in `skippedLines`.
    /// Blank lines, comments other than HELP/TYPE, `# EOF` and `...` lines (edited dumps) are skipped silently.
    public static func parse(_ text: String) -> PrometheusScrape {
        var scrape = PrometheusScrape()
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = Substring(rawLine)
            while let last = line.last, last == "\r" || last == " " || last == "\t" { line.removeLast() }
            while let first = line.first, first == " " || first == "\t" { line.removeFirst() }
            if line.isEmpty || line.hasPrefix("...") || line == "…" { continue }
            if line.hasPrefix("#") {
                parseComment(line, into: &scrape)
                continue
            }
            switch parseSample(Array(line.utf8)) {
            case .success(let sample):
                scrape.samples.append(sample)
            case .failure(let reason):
                scrape.skippedLines += 1
                if scrape.skipReasons.count < maxSkipReasons {
                    scrape.skipReasons.append("line \(lineNumber): \(reason.message)")
                }
            }
        }
        return scrape
    }

    /// Parses a sample value: a decimal or `NaN`, `+Inf`, `-Inf`, `Inf` (case-insensitive).
    public static func parseValue(_ text: some StringProtocol) -> Double? {
        switch text.lowercased() {
        case "nan": return .nan
        case "+inf", "inf", "+infinity", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default:
            guard let first = text.first, first.isNumber || first == "-" || first == "+" || first == "." else {
                return nil
            }
            return Double(String(text))
        }
    }

    private static func parseComment(_ line: Substring, into scrape: inout PrometheusScrape) {
        let parts = line.dropFirst().split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2 else { return }
        let keyword = parts[0]
        let family = String(parts[1])
        let rest = parts.count > 2 ? String(parts[2]) : ""
        if keyword == "HELP" {
            scrape.help[family] = unescapeHelp(rest)
        } else if keyword == "TYPE" {
            scrape.types[family] = PrometheusMetricType(rawValue: rest.lowercased()) ?? .unknown
        }
    }

    private static func unescapeHelp(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var out = ""
        var escaping = false
        for ch in text {
            if escaping {
                out.append(ch == "n" ? "\n" : ch)
                escaping = false
            } else if ch == "\\" {
                escaping = true
            } else {
                out.append(ch)
            }
        }
        if escaping { out.append("\\") }
        return out
    }

    struct ParseFailure: Error {
        var message: String
    }

    private static func isNameStart(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F || b == 0x3A
    }

    private static func isNameChar(_ b: UInt8) -> Bool {
        isNameStart(b) || (b >= 0x30 && b <= 0x39)
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    static func parseSample(_ bytes: [UInt8]) -> Result<PrometheusSample, ParseFailure> {
        var i = 0
        let n = bytes.count
        guard i < n, isNameStart(bytes[i]) else { return .failure(ParseFailure(message: "invalid metric name")) }
        while i < n, isNameChar(bytes[i]) { i += 1 }
        let name = String(decoding: bytes[0..<i], as: UTF8.self)
        var labels: [String: String] = [:]
        while i < n, isSpace(bytes[i]) { i += 1 }
        if i < n, bytes[i] == UInt8(ascii: "{") {
            i += 1
            switch parseLabels(bytes, &i) {
            case .success(let parsed): labels = parsed
            case .failure(let failure): return .failure(failure)
            }
        }
        guard i > 0, i < n, isSpace(bytes[i]) || isSpace(bytes[i - 1]) || bytes[i - 1] == UInt8(ascii: "}") else {
            return .failure(ParseFailure(message: "missing value"))
        }
        let fields = bytes[i...].split(whereSeparator: isSpace)
        guard let valueField = fields.first else { return .failure(ParseFailure(message: "missing value")) }
        let valueText = String(decoding: valueField, as: UTF8.self)
        guard let value = parseValue(valueText) else {
            return .failure(ParseFailure(message: "invalid value \"\(valueText.prefix(40))\""))
        }
        var timestamp: Double?
        if fields.count > 1 {
            let second = String(decoding: fields[1], as: UTF8.self)
            if second != "#" {
                guard let ts = Double(second), ts.isFinite else {
                    return .failure(ParseFailure(message: "invalid timestamp \"\(second.prefix(40))\""))
                }
                timestamp = ts
                if fields.count > 2, fields[2].first != UInt8(ascii: "#") {
                    return .failure(ParseFailure(message: "unexpected text after timestamp"))
                }
            }
        }
        return .success(PrometheusSample(name: name, labels: labels, value: value, timestamp: timestamp))
    }

    private static func parseLabels(_ bytes: [UInt8], _ i: inout Int) -> Result<[String: String], ParseFailure> {
        let n = bytes.count
        var labels: [String: String] = [:]
        while true {
            while i < n, isSpace(bytes[i]) { i += 1 }
            guard i < n else { return .failure(ParseFailure(message: "unterminated label set")) }
            if bytes[i] == UInt8(ascii: "}") {
                i += 1
                return .success(labels)
            }
            let start = i
            guard isNameStart(bytes[i]), bytes[i] != UInt8(ascii: ":") else {
                return .failure(ParseFailure(message: "invalid label name"))
            }
            while i < n, isNameChar(bytes[i]), bytes[i] != UInt8(ascii: ":") { i += 1 }
            let labelName = String(decoding: bytes[start..<i], as: UTF8.self)
            while i < n, isSpace(bytes[i]) { i += 1 }
            guard i < n, bytes[i] == UInt8(ascii: "=") else {
                return .failure(ParseFailure(message: "expected '=' after label \(labelName)"))
            }
            i += 1
            while i < n, isSpace(bytes[i]) { i += 1 }
            guard i < n, bytes[i] == UInt8(ascii: "\"") else {
                return .failure(ParseFailure(message: "expected '\"' for label \(labelName)"))
            }
            i += 1
            var value: [UInt8] = []
            var closed = false
            while i < n {
                let b = bytes[i]
                if b == UInt8(ascii: "\\") {
                    guard i + 1 < n else { break }
                    let next = bytes[i + 1]
                    switch next {
                    case UInt8(ascii: "n"): value.append(0x0A)
                    case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(next)
                    default: value.append(b); value.append(next)
                    }
                    i += 2
                } else if b == UInt8(ascii: "\"") {
                    i += 1
                    closed = true
                    break
                } else {
                    value.append(b)
                    i += 1
                }
            }
            guard closed else { return .failure(ParseFailure(message: "unterminated label value")) }
            guard labels[labelName] == nil else {
                return .failure(ParseFailure(message: "duplicate label \(labelName)"))
            }
            labels[labelName] = String(decoding: value, as: UTF8.self)
            while i < n, isSpace(bytes[i]) { i += 1 }
            guard i < n else { return .failure(ParseFailure(message: "unterminated label set")) }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
            } else if bytes[i] != UInt8(ascii: "}") {
                return .failure(ParseFailure(message: "expected ',' or '}' in label set"))
            }
        }
    }
}
