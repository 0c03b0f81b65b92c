import AsyncHTTPClient
import Foundation
import KubeCore
import NIOCore
import NIOHTTP1

/// An open-loop load generator: Poisson arrivals at `rate` requests per second (changeable while running), each a
/// streaming `POST /v1/completions` through the gateway, recording TTFT, total time, status and where the request
/// went (`x-sim-revision`, `x-sim-pod`, `x-sim-model-loaded`). Arrivals beyond `maxInFlight` are shed (counted,
/// not sent). Times are wall-clock seconds (equal to simulated serving seconds at serving time scale 1).
public actor LoadGenerator {
    /// What to send and how much.
    public struct Configuration: Sendable {
        /// The gateway's base URL, e.g. `http://127.0.0.1:8080`.
        public var url: String
        /// Arrivals per second (0 pauses).
        public var rate: Double
        /// The `model` field of each request.
        public var model: String
        /// Prompt length in tokens (about 4 characters each).
        public var promptTokens: Int
        /// `max_tokens` of each request.
        public var maxTokens: Int
        /// Requests in flight at most; further arrivals are shed.
        public var maxInFlight: Int
        /// Records kept (the oldest are dropped first).
        public var maxRecords: Int
        /// Wall seconds `stop()` waits for in-flight requests before cancelling them.
        public var stopGraceSeconds: Double
        /// Wall seconds after which one request is abandoned.
        public var requestTimeoutSeconds: Double
        /// A seed for the arrival process (deterministic inter-arrival gaps); nil: random.
        public var seed: UInt64?
        /// The `Host` header (to match an HTTPRoute's `hostnames`); nil: the gateway's address.
        public var host: String?
        /// Retry a failed attempt (no response, 429 or 5xx, and no token streamed) until this many wall seconds
        /// have passed since the first attempt, as a client SDK with retries does; 0 (the default): never retry.
        /// TTFT and total time of a retried request count from its first attempt.
        public var retryDeadlineSeconds: Double = 0
        /// Wall seconds before the first retry; doubled after each retry up to `retryMaxBackoffSeconds`.
        public var retryBackoffSeconds: Double = 0.25
        public var retryMaxBackoffSeconds: Double = 2

        public init(
            url: String, rate: Double = 10, model: String = "model", promptTokens: Int = 128, maxTokens: Int = 16,
            maxInFlight: Int = 256, maxRecords: Int = 100_000, stopGraceSeconds: Double = 5,
            requestTimeoutSeconds: Double = 60, seed: UInt64? = nil, host: String? = nil
        ) {
            self.host = host
            self.url = url
            self.rate = rate
            self.model = model
            self.promptTokens = promptTokens
            self.maxTokens = maxTokens
            self.maxInFlight = maxInFlight
            self.maxRecords = maxRecords
            self.stopGraceSeconds = stopGraceSeconds
            self.requestTimeoutSeconds = requestTimeoutSeconds
            self.seed = seed
        }
    }

    /// One request's outcome.
    public struct Record: Sendable, Hashable {
        public var id: Int
        public var start: Date
        /// Seconds from sending to the first SSE data chunk carrying a token; nil when none arrived.
        public var ttftSeconds: Double?
        public var totalSeconds: Double
        /// The HTTP status (0 when no response arrived).
        public var status: Int
        public var revision: String?
        public var pod: String?
        /// `x-sim-model-loaded`: nil when the header was missing or not true/false.
        public var modelLoaded: Bool?
        public var tokens: Int
        public var error: String?
        /// Attempts made (more than 1 only with `retryDeadlineSeconds`); the other fields describe the last one.
        public var attempts: Int = 1
        /// Attempts the gateway dispatched to a pod whose model was not loaded (`x-sim-model-loaded: false`).
        public var attemptsToUnloadedPods: Int = 0

        /// A 200 response that streamed at least one token and no error.
        public var ok: Bool { status == 200 && error == nil && ttftSeconds != nil }
    }

    /// Aggregates over records.
    public struct Summary: Sendable, Hashable {
        public var count: Int
        public var ok: Int
        public var errors: Int
        /// Nearest-rank percentiles of the TTFTs of the records that have one.
        public var ttftP50: Double?
        public var ttftP95: Double?
        public var requestsToUnloadedPods: Int
        public var byRevision: [String: Int]
        /// Arrivals dropped because `maxInFlight` requests were running (over the generator's life).
        public var shed: Int
        /// Attempts (retries included) dispatched to pods whose model was not loaded; equals
        /// `requestsToUnloadedPods` when nothing is retried.
        public var attemptsToUnloadedPods: Int
        /// Attempts made in all (retries included).
        public var attempts: Int

        /// Summarises `records`; `shed` is passed through.
        public init(records: [Record], shed: Int = 0) {
            count = records.count
            ok = records.filter(\.ok).count
            errors = count - ok
            let ttfts = records.compactMap(\.ttftSeconds).sorted()
            ttftP50 = Percentile.nearestRank(sorted: ttfts, 0.50)
            ttftP95 = Percentile.nearestRank(sorted: ttfts, 0.95)
            requestsToUnloadedPods = records.filter { $0.modelLoaded == false }.count
            var revisions: [String: Int] = [:]
            for record in records { if let revision = record.revision { revisions[revision, default: 0] += 1 } }
            byRevision = revisions
            self.shed = shed
            attemptsToUnloadedPods = records.reduce(0) { $0 + $1.attemptsToUnloadedPods }
            attempts = records.reduce(0) { $0 + $1.attempts }
        }

    }

    public private(set) var configuration: Configuration
    private var records: [Record] = []
    private var nextID = 0
    private var inFlight: [Int: Task<Void, Never>] = [:]
    private var shedCount = 0
    private var arrivals: Task<Void, Never>?
    private var client: HTTPClient?
    private var random: SplitMix64

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.random = SplitMix64(seed: configuration.seed ?? UInt64.random(in: 1...UInt64.max))
    }

    /// Requests currently in flight.
    public var inFlightCount: Int { inFlight.count }
    /// Arrivals shed so far.
    public var shed: Int { shedCount }
    public var isRunning: Bool { arrivals != nil }

    /// Changes the arrival rate (requests per second; 0 pauses arrivals) while running.
    public func setRate(_ rate: Double) {
        configuration.rate = rate.isFinite ? max(0, rate) : 0
    }

    /// Starts the arrival process. Calling it while running does nothing.
    public func start() {
        guard arrivals == nil else { return }
        if client == nil {
            var clientConfiguration = HTTPClient.Configuration()
            clientConfiguration.connectionPool = .init(
                idleTimeout: .seconds(30),
                concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.maxInFlight))
            clientConfiguration.timeout = .init(connect: .seconds(2))
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        }
        arrivals = Task { await self.arrivalLoop() }
    }

    /// Stops arrivals, waits up to `stopGraceSeconds` for in-flight requests, then cancels the rest.
    public func stop() async {
        arrivals?.cancel()
        await arrivals?.value
        arrivals = nil
        let deadline = ContinuousClock.now + .milliseconds(Int64(max(0, configuration.stopGraceSeconds) * 1000))
        while !inFlight.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let remaining = Array(inFlight.values)
        for task in remaining { task.cancel() }
        for task in remaining { await task.value }
        try? await client?.shutdown()
        client = nil
    }

    /// Records of requests that started at or after `since` (all when nil), oldest first.
    public func snapshot(since: Date? = nil) -> [Record] {
        guard let since else { return records }
        return records.filter { $0.start >= since }
    }

    /// The summary of `snapshot(since:)`.
    public func summary(since: Date? = nil) -> Summary {
        Summary(records: snapshot(since: since), shed: shedCount)
    }

    /// Sends one request now (outside the arrival process) and returns its record; it is recorded too.
    @discardableResult
    public func sendOne() async -> Record {
        if client == nil {
            client = HTTPClient(eventLoopGroupProvider: .singleton)
        }
        let id = allocateID()
        let record = await Self.perform(
            id: id, client: client, configuration: configuration)
        append(record)
        return record
    }

    // MARK: Arrivals

    private func arrivalLoop() async {
        while !Task.isCancelled {
            let rate = configuration.rate
            guard rate > 0 else {
                do { try await Task.sleep(for: .milliseconds(20)) } catch { return }
                continue
            }
            // Exponential inter-arrival gap; u in (0, 1].
            let u = 1 - random.nextUnit()
            let gap = -log(u) / rate
            do { try await Task.sleep(for: .nanoseconds(Int64(min(gap, 3600) * 1e9))) } catch { return }
            if configuration.rate > 0 { launch() }  // paused while sleeping: no arrival
        }
    }

    private func allocateID() -> Int {
        nextID += 1
        return nextID
    }

    private func launch() {
        guard inFlight.count < max(1, configuration.maxInFlight) else {
            shedCount += 1
            return
        }
        let id = allocateID()
        let client = self.client
        let configuration = self.configuration
        inFlight[id] = Task {
            let record = await Self.perform(id: id, client: client, configuration: configuration)
            self.completed(record)
        }
    }

    private func completed(_ record: Record) {
        inFlight[record.id] = nil
        append(record)
    }

    private func append(_ record: Record) {
        records.append(record)
        let limit = max(1, configuration.maxRecords)
        if records.count > limit { records.removeFirst(records.count - limit) }
    }

    // MARK: One request

    static func prompt(tokens: Int) -> String {
        let words = ["lorem", "ipsu", "dolo", "sita", "amet", "cons", "ecte", "adip"]
        return (0..<max(1, tokens)).map { words[$0 % words.count] }.joined()
    }

    /// Whether a finished attempt may be retried: nothing streamed and no response, 429 or a 5xx.
    static func retryable(_ record: Record) -> Bool {
        record.error != nil && record.tokens == 0
            && (record.status == 0 || record.status == 429 || record.status >= 500)
    }

    static func perform(id: Int, client: HTTPClient?, configuration: Configuration) async -> Record {
        let start = Date()
        let began = ContinuousClock.now
        func seconds() -> Double {
            let elapsed = ContinuousClock.now - began
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        var record = await attempt(id: id, start: start, began: began, client: client, configuration: configuration)
        var attempts = 1
        var unloaded = record.modelLoaded == false ? 1 : 0
        let deadline = configuration.retryDeadlineSeconds.isFinite ? configuration.retryDeadlineSeconds : 0
        var backoff = max(0.001, configuration.retryBackoffSeconds.isFinite ? configuration.retryBackoffSeconds : 0.25)
        while client != nil, retryable(record), seconds() + backoff < deadline, !Task.isCancelled {
            do { try await Task.sleep(for: .nanoseconds(Int64(backoff * 1e9))) } catch { break }
            backoff = min(backoff * 2, max(backoff, configuration.retryMaxBackoffSeconds))
            record = await attempt(id: id, start: start, began: began, client: client, configuration: configuration)
            attempts += 1
            if record.modelLoaded == false { unloaded += 1 }
        }
        record.attempts = attempts
        record.attemptsToUnloadedPods = unloaded
        return record
    }

    /// One attempt; TTFT and total time count from `began` (the request's first attempt).
    static func attempt(
        id: Int, start: Date, began: ContinuousClock.Instant, client: HTTPClient?, configuration: Configuration
    ) async -> Record {
        func seconds() -> Double {
            let elapsed = ContinuousClock.now - began
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        var record = Record(
            id: id, start: start, ttftSeconds: nil, totalSeconds: 0, status: 0, revision: nil, pod: nil,
            modelLoaded: nil, tokens: 0, error: nil)
        guard let client else {
            record.error = "the load generator is stopped"
            return record
        }
        let base = configuration.url.hasSuffix("/") ? String(configuration.url.dropLast()) : configuration.url
        var request = HTTPClientRequest(url: base + "/v1/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let host = configuration.host, !host.isEmpty { request.headers.replaceOrAdd(name: "Host", value: host) }
        let body: JSONValue = [
            "model": .string(configuration.model), "prompt": .string(prompt(tokens: configuration.promptTokens)),
            "max_tokens": .int(Int64(max(1, configuration.maxTokens))), "stream": true,
        ]
        request.body = .bytes(ByteBuffer(bytes: body.jsonBytes))
        do {
            let timeout = TimeAmount.milliseconds(Int64(max(0.01, configuration.requestTimeoutSeconds) * 1000))
            let response = try await client.execute(request, timeout: timeout)
            record.status = Int(response.status.code)
            record.revision = response.headers.first(name: "x-sim-revision")
            record.pod = response.headers.first(name: "x-sim-pod")
            switch response.headers.first(name: "x-sim-model-loaded") {
            case "true": record.modelLoaded = true
            case "false": record.modelLoaded = false
            default: record.modelLoaded = nil
            }
            var parser = SSETokenParser()
            var errorText = ""
            for try await chunk in response.body {
                if record.status != 200 {
                    errorText += String(buffer: chunk)
                    continue
                }
                let tokens = parser.feed(Array(chunk.readableBytesView))
                if tokens > 0, record.ttftSeconds == nil { record.ttftSeconds = seconds() }
                record.tokens += tokens
            }
            if record.status != 200 {
                record.error = "HTTP \(record.status): \(String(errorText.prefix(200)))"
            } else if record.tokens == 0 {
                record.error = "no tokens streamed"
            }
        } catch {
            record.error = "\(error)"
        }
        record.totalSeconds = seconds()
        return record
    }
}

/// Counts tokens in an OpenAI SSE stream fed in arbitrary chunks: a `data:` event whose first choice has
/// non-empty `text` or `delta.content`.
struct SSETokenParser {
    private var pending: [UInt8] = []

    /// Feeds bytes; returns the number of token events completed by them.
    mutating func feed(_ bytes: [UInt8]) -> Int {
        pending += bytes
        var tokens = 0
        while let newline = pending.firstIndex(of: 10) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            guard line.hasPrefix("data:") else { continue }
            let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            guard payload != "[DONE]", let event = try? JSONValue.parse(Array(payload.utf8)),
                let choice = event["choices"]?.arrayValue?.first
            else { continue }
            let text = choice["text"]?.stringValue ?? choice[path: ["delta", "content"]]?.stringValue ?? ""
            if !text.isEmpty { tokens += 1 }
        }
        return tokens
    }
}
