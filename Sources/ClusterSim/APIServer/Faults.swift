import Foundation
import KubeCore

/// Fault injection for the emulated API server.
///
/// Spec syntax (rules separated by `;`, the first matching rule applies):
///
///     VERB:RESOURCE:KEY=VALUE[,KEY=VALUE...]
///
/// - `VERB`: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, or `*`.
/// - `RESOURCE`: a plural such as `pods` (also matches its subresources), `pods/status` (only that
///   subresource), `widgets.example.com` (group-qualified), or `*`.
/// - Keys:
///   - `error=P`        fail a fraction P (0…1) of matching requests (with `status`, default 500);
///   - `status=CODE`    the HTTP code of injected errors (429 → TooManyRequests, 500, 503, 504, 409, …);
///                      without `error` every matching request fails;
///   - `retryAfter=S`   seconds for the `Retry-After` header and `details.retryAfterSeconds` (429 default 1);
///   - `latency=D`      delay before answering (`50ms`, `1s`, `2m`, or plain seconds);
///   - `drop=D`         watches end (stream closed) after D — exercises client re-watch;
///   - `expire=P`       a fraction P of watches answer with the `ERROR` 410 "too old resource version" event.
///
/// Example: `list:pods:error=0.2,latency=50ms;patch:*:status=429,retryAfter=1;watch:*:drop=10s`
public struct FaultRule: Sendable, Hashable, CustomStringConvertible {
    public var verb: String
    public var resource: String
    public var errorRate: Double
    public var status: Int
    public var retryAfterSeconds: Int?
    public var latency: Duration?
    public var watchDrop: Duration?
    public var expireRate: Double

    public init(
        verb: String = "*", resource: String = "*", errorRate: Double = 0, status: Int = 500,
        retryAfterSeconds: Int? = nil, latency: Duration? = nil, watchDrop: Duration? = nil, expireRate: Double = 0
    ) {
        self.verb = verb
        self.resource = resource
        self.errorRate = errorRate
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
        self.latency = latency
        self.watchDrop = watchDrop
        self.expireRate = expireRate
    }

    /// Whether this rule applies to a request.
    public func matches(verb: String, group: String, resource: String, subresource: String?) -> Bool {
        guard self.verb == "*" || self.verb == verb else { return false }
        if self.resource == "*" { return true }
        var name = self.resource
        var wantedSub: String?
        if let slash = name.firstIndex(of: "/") {
            wantedSub = String(name[name.index(after: slash)...])
            name = String(name[..<slash])
        }
        if let wantedSub, wantedSub != subresource { return false }
        if let dot = name.firstIndex(of: ".") {
            return String(name[..<dot]) == resource && String(name[name.index(after: dot)...]) == group
        }
        return name == resource
    }

    /// The Status an injected error answers with.
    public func errorStatus() -> APIStatus {
        switch status {
        case 429:
            return APIStatus.tooManyRequests(retryAfterSeconds: retryAfterSeconds ?? 1)
        case 409:
            return APIStatus(code: 409, reason: "Conflict", message: "injected conflict")
        case 503:
            return APIStatus(
                code: 503, reason: "ServiceUnavailable", message: "injected fault: service unavailable",
                retryAfterSeconds: retryAfterSeconds)
        case 504:
            return APIStatus(code: 504, reason: "Timeout", message: "injected fault: timeout",
                retryAfterSeconds: retryAfterSeconds)
        case 500:
            return APIStatus(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault",
                retryAfterSeconds: retryAfterSeconds)
        default:
            return APIStatus(code: status, reason: "", message: "injected fault (\(status))",
                retryAfterSeconds: retryAfterSeconds)
        }
    }

    public var description: String {
        var keys: [String] = []
        if errorRate > 0 { keys.append("error=\(errorRate)") }
        if errorRate > 0 || status != 500 { keys.append("status=\(status)") }
        if let retryAfterSeconds { keys.append("retryAfter=\(retryAfterSeconds)") }
        if let latency { keys.append("latency=\(latency)") }
        if let watchDrop { keys.append("drop=\(watchDrop)") }
        if expireRate > 0 { keys.append("expire=\(expireRate)") }
        return "\(verb):\(resource):" + keys.joined(separator: ",")
    }
}

/// A malformed fault spec.
public struct FaultSpecError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A parsed set of fault rules. See `FaultRule` for the spec syntax.
public struct FaultSpec: Sendable, Hashable, CustomStringConvertible {
    public var rules: [FaultRule]

    /// The spec in its parseable text form (empty when there are no rules).
    public var description: String { rules.map(\.description).joined(separator: ";") }

    public init(rules: [FaultRule] = []) { self.rules = rules }

    /// Parses `VERB:RESOURCE:KEY=VALUE,...;...` (see `FaultRule`). Empty text → no faults.
    public init(parsing text: String) throws(FaultSpecError) {
        var rules: [FaultRule] = []
        for raw in text.split(separator: ";") {
            let ruleText = raw.trimmingCharacters(in: .whitespaces)
            if ruleText.isEmpty { continue }
            let parts = ruleText.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else {
                throw FaultSpecError("fault rule \"\(ruleText)\": expected VERB:RESOURCE:KEY=VALUE[,...]")
            }
            let verbs = ["*", "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
            guard verbs.contains(parts[0]) else {
                throw FaultSpecError("fault rule \"\(ruleText)\": unknown verb \"\(parts[0])\"")
            }
            guard !parts[1].isEmpty else { throw FaultSpecError("fault rule \"\(ruleText)\": empty resource") }
            var rule = FaultRule(verb: parts[0], resource: parts[1])
            var statusGiven = false
            for kv in parts[2].split(separator: ",") {
                let pair = kv.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { throw FaultSpecError("fault rule \"\(ruleText)\": expected KEY=VALUE") }
                let (key, value) = (pair[0], pair[1])
                switch key {
                case "error":
                    guard let p = Double(value), p >= 0, p <= 1 else {
                        throw FaultSpecError("fault rule \"\(ruleText)\": error must be a rate in 0...1")
                    }
                    rule.errorRate = p
                case "status":
                    guard let c = Int(value), (400...599).contains(c) else {
                        throw FaultSpecError("fault rule \"\(ruleText)\": status must be an HTTP error code")
                    }
                    rule.status = c
                    statusGiven = true
                case "retryAfter":
                    guard let s = Int(value), s >= 0 else {
                        throw FaultSpecError("fault rule \"\(ruleText)\": retryAfter must be whole seconds")
                    }
                    rule.retryAfterSeconds = s
                case "latency": rule.latency = try Self.duration(value, rule: ruleText)
                case "drop": rule.watchDrop = try Self.duration(value, rule: ruleText)
                case "expire":
                    guard let p = Double(value), p >= 0, p <= 1 else {
                        throw FaultSpecError("fault rule \"\(ruleText)\": expire must be a rate in 0...1")
                    }
                    rule.expireRate = p
                default:
                    throw FaultSpecError("fault rule \"\(ruleText)\": unknown key \"\(key)\"")
                }
            }
            if statusGiven && rule.errorRate == 0 && !parts[2].contains("error=") { rule.errorRate = 1 }
            rules.append(rule)
        }
        self.rules = rules
    }

    /// `50ms`, `2s`, `1m`, `1.5s` or a plain number of seconds.
    static func duration(_ text: String, rule: String) throws(FaultSpecError) -> Duration {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let v = Double(text.dropLast(suffix.count)), v >= 0 { return .milliseconds(Int64(v * scale * 1000)) }
        }
        if let v = Double(text), v >= 0 { return .milliseconds(Int64(v * 1000)) }
        throw FaultSpecError("fault rule \"\(rule)\": invalid duration \"\(text)\"")
    }

    /// The first rule matching a request.
    public func rule(verb: String, group: String, resource: String, subresource: String?) -> FaultRule? {
        rules.first { $0.matches(verb: verb, group: group, resource: resource, subresource: subresource) }
    }
}

/// The run-time fault state: the current spec and a seeded random source (deterministic in tests).
actor FaultInjector {
    private(set) var spec: FaultSpec
    private var generator: SplitMix64

    init(spec: FaultSpec, seed: UInt64) {
        self.spec = spec
        generator = SplitMix64(seed: seed)
    }

    func set(_ spec: FaultSpec) { self.spec = spec }

    /// A uniformly distributed number in [0, 1).
    func random() -> Double { generator.nextUnit() }

    /// The rule for a request and whether it should fail / expire this time.
    func decide(verb: String, group: String, resource: String, subresource: String?)
        -> (rule: FaultRule?, fail: Bool, expire: Bool)
    {
        guard let rule = spec.rule(verb: verb, group: group, resource: resource, subresource: subresource) else {
            return (nil, false, false)
        }
        let fail = rule.errorRate > 0 && (rule.errorRate >= 1 || random() < rule.errorRate)
        let expire = rule.expireRate > 0 && (rule.expireRate >= 1 || random() < rule.expireRate)
        return (rule, fail, expire)
    }
}

/// One served request, as recorded in the server's bounded request log.
public struct RequestLogEntry: Sendable, Hashable {
    public var method: String
    public var path: String
    public var query: String
    public var contentType: String?
    public var accept: String?
    public var userAgent: String?
    public var status: Int
    /// Time until the response head was produced (streams continue afterwards).
    public var duration: Duration
    public var date: Date
}

/// A bounded in-memory log of served requests (oldest dropped first).
actor RequestLog {
    private var entries: [RequestLogEntry] = []
    private let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    func append(_ entry: RequestLogEntry) {
        entries.append(entry)
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
    }

    func all() -> [RequestLogEntry] { entries }

    func clear() { entries.removeAll() }
}
