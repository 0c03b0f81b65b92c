import Foundation

/// What a simulated vLLM process is told on its command line: the model, the served name, tensor parallelism and
/// the port, read from a container's `command` + `args` the way `vllm serve` and
/// `python -m vllm.entrypoints.openai.api_server` read them.
public struct VLLMLaunchOptions: Sendable, Hashable {
    /// The `--model` value or the positional model of `vllm serve MODEL`.
    public var model: String
    /// `--served-model-name` (first name), or nil.
    public var servedModelName: String?
    public var tensorParallelSize: Int
    public var port: Int?
    public var maxModelLen: Int?

    /// The id `/v1/models` reports.
    public var servedModelID: String { servedModelName ?? model }

    public init(
        model: String, servedModelName: String? = nil, tensorParallelSize: Int = 1, port: Int? = nil,
        maxModelLen: Int? = nil
    ) {
        self.model = model
        self.servedModelName = servedModelName
        self.tensorParallelSize = max(1, tensorParallelSize)
        self.port = port
        self.maxModelLen = maxModelLen
    }

    /// The default model when the command line names none (vLLM's own default).
    public static let defaultModel = "Qwen/Qwen3-0.6B"

    /// Parses `command + args`. Accepts `--flag value` and `--flag=value`; a shell wrapper (`sh -c "vllm serve
    /// X ..."`) is split on whitespace.
    public static func parse(command: [String], args: [String]) -> VLLMLaunchOptions {
        var words: [String] = []
        for word in command + args {
            if word.contains(" ") {
                words += word.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
            } else {
                words.append(word)
            }
        }
        var model: String?
        var served: String?
        var tp = 1
        var port: Int?
        var maxLen: Int?
        var index = 0
        var sawServe = false
        func value(_ flag: String, _ i: inout Int) -> String? {
            let word = words[i]
            if word.hasPrefix(flag + "=") { return String(word.dropFirst(flag.count + 1)) }
            if word == flag, i + 1 < words.count {
                i += 1
                return words[i]
            }
            return nil
        }
        while index < words.count {
            let word = words[index]
            if word == "serve" {
                sawServe = true
                if index + 1 < words.count, !words[index + 1].hasPrefix("-") {
                    model = words[index + 1]
                    index += 1
                }
            } else if word.hasPrefix("--model"), !word.hasPrefix("--model-"), let v = value("--model", &index) {
                model = v
            } else if word.hasPrefix("--model-path"), let v = value("--model-path", &index) {
                model = v  // SGLang
            } else if word.hasPrefix("--model-id"), let v = value("--model-id", &index) {
                model = v  // TGI
            } else if word.hasPrefix("--served-model-name"), let v = value("--served-model-name", &index) {
                served = v
            } else if word.hasPrefix("--tp-size"), let v = value("--tp-size", &index) {
                tp = Int(v) ?? 1  // SGLang
            } else if word.hasPrefix("--num-shard"), let v = value("--num-shard", &index) {
                tp = Int(v) ?? 1  // TGI
            } else if word.hasPrefix("--tensor-parallel-size"), let v = value("--tensor-parallel-size", &index) {
                tp = Int(v) ?? 1
            } else if word == "-tp" || word.hasPrefix("-tp="), let v = value("-tp", &index) {
                tp = Int(v) ?? 1
            } else if word.hasPrefix("--port"), let v = value("--port", &index) {
                port = Int(v)
            } else if word.hasPrefix("--max-model-len"), let v = value("--max-model-len", &index) {
                maxLen = Int(v)
            }
            index += 1
        }
        _ = sawServe
        return VLLMLaunchOptions(
            model: model ?? defaultModel, servedModelName: served, tensorParallelSize: tp, port: port,
            maxModelLen: maxLen)
    }
}

/// A vLLM release as far as its log and metrics formats go; parsed from strings like `0.11.0` or `0.6.3.post1`.
public struct VLLMVersion: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int
    /// The full version text printed in the banner.
    public var text: String

    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).drop(while: { $0 == "v" })
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        self.major = major
        self.minor = minor
        self.patch = parts.count > 2 ? Int(parts[2].prefix(while: { $0.isNumber })) ?? 0 : 0
        self.text = String(trimmed)
    }

    /// The default: a modern V1 engine release.
    public static let modern = VLLMVersion("0.11.0")!
    /// A V0-era release (0.6.x) with the old log formats.
    public static let legacy = VLLMVersion("0.6.3.post1")!

    public var description: String { text }

    /// V1 engine with process tags on every line (`(APIServer pid=N)`): 0.10 and later.
    public var tagsEveryProcess: Bool { major > 0 || minor >= 10 }
    /// The source location is bracketed (`[loader.py:458] `) from 0.8.
    public var bracketedSourceLocation: Bool { major > 0 || minor >= 8 }
    /// `Model loading took X GiB and Y seconds` exists from 0.8; before only `Loading model weights took X GB`.
    public var reportsLoadDuration: Bool { major > 0 || minor >= 8 }
    func atLeast(_ minor: Int) -> Bool { major > 0 || self.minor >= minor }
}
