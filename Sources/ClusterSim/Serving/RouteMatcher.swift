import Foundation
import KubeCore

/// The parts of an HTTP request that Gateway API route matching looks at.
public struct RouteRequest: Sendable, Hashable {
    public var method: String
    /// The path without the query string.
    public var path: String
    public var query: [String: String]
    /// Header names lowercased.
    public var headers: [String: String]
    /// The Host header without port ("" when absent).
    public var host: String

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
        host: String = "")
    {
        self.method = method.uppercased()
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.host = Self.stripPort(host).lowercased()
    }

    /// Splits a request target (`/v1/completions?x=1`) into path and query parameters.
    public init(method: String, target: String, headers: [String: String] = [:], host: String = "") {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if parts.count > 1 {
            for item in parts[1].split(separator: "&") {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(pair[0]).removingPercentEncoding ?? String(pair[0])
                let value = pair.count > 1 ? (String(pair[1]).removingPercentEncoding ?? String(pair[1])) : ""
                if query[name] == nil { query[name] = value }
            }
        }
        self.init(method: method, path: String(parts.first ?? "/"), query: query, headers: headers, host: host)
    }

    static func stripPort(_ host: String) -> String {
        if host.hasPrefix("[") { return String(host.prefix { $0 != "]" }.dropFirst()) }
        if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon { return String(host[..<colon]) }
        return host
    }
}

/// The rule an HTTP request matched: which route, which rule, and its weighted backends.
public struct RouteMatch: Sendable, Hashable {
    public var routeNamespace: String
    public var routeName: String
    public var ruleIndex: Int
    public var backendRefs: [HTTPBackendRef]
}

/// Gateway API HTTPRoute matching (path `Exact`/`PathPrefix`/`RegularExpression`, default `PathPrefix /`; header,
/// query parameter and method matches; route `hostnames` against Host), with the specification's precedence
/// between matching rules: exact path, then longest prefix, method, most header matches, most query matches,
/// then the oldest route, then route namespace/name, then rule order.
public enum RouteMatcher {
    /// The best matching rule over `routes`, or nil.
    public static func match(_ request: RouteRequest, routes: [JSONValue]) -> RouteMatch? {
        struct Candidate {
            var rank: [Int]
            var created: String
            var id: String
            var rule: Int
            var match: RouteMatch
        }
        var best: Candidate?
        for route in routes {
            let spec = route["spec"] ?? [:]
            guard hostMatches(request.host, hostnames: spec["hostnames"]?.arrayValue?.compactMap(\.stringValue))
            else { continue }
            let namespace = route[path: ["metadata", "namespace"]]?.stringValue ?? ""
            let name = route[path: ["metadata", "name"]]?.stringValue ?? ""
            let created = route[path: ["metadata", "creationTimestamp"]]?.stringValue ?? ""
            for (ruleIndex, rule) in (spec["rules"]?.arrayValue ?? []).enumerated() {
                let matches = rule["matches"]?.arrayValue ?? []
                let conditions: [JSONValue] = matches.isEmpty ? [[:]] : matches
                for condition in conditions {
                    guard let rank = rank(condition, request) else { continue }
                    let refs = (rule["backendRefs"]?.arrayValue ?? []).map(HTTPBackendRef.init(raw:))
                    let candidate = Candidate(
                        rank: rank, created: created, id: namespace + "/" + name, rule: ruleIndex,
                        match: RouteMatch(
                            routeNamespace: namespace, routeName: name, ruleIndex: ruleIndex, backendRefs: refs))
                    if let current = best, !precedes(candidate, current) { continue }
                    best = candidate
                }
            }
        }
        return best?.match

        func precedes(_ a: Candidate, _ b: Candidate) -> Bool {
            if a.rank != b.rank { return a.rank.lexicographicallyPrecedes(b.rank, by: >) }
            if a.created != b.created { return a.created < b.created }
            if a.id != b.id { return a.id < b.id }
            return a.rule < b.rule
        }
    }

    /// nil when `condition` does not match; otherwise its specificity (compared lexicographically, larger wins).
    static func rank(_ condition: JSONValue, _ request: RouteRequest) -> [Int]? {
        let type = condition[path: ["path", "type"]]?.stringValue ?? "PathPrefix"
        let value = condition[path: ["path", "value"]]?.stringValue ?? "/"
        var exact = 0
        switch type {
        case "Exact":
            guard request.path == value else { return nil }
            exact = 1
        case "PathPrefix":
            guard prefixMatches(request.path, prefix: value) else { return nil }
        case "RegularExpression":
            guard let regex = try? Regex(value), (try? regex.wholeMatch(in: request.path)) != nil else { return nil }
        default:
            return nil
        }
        var methodRank = 0
        if let method = condition["method"]?.stringValue {
            guard method.uppercased() == request.method else { return nil }
            methodRank = 1
        }
        let headers = condition["headers"]?.arrayValue ?? []
        for header in headers {
            let name = (header["name"]?.stringValue ?? "").lowercased()
            guard let actual = request.headers[name],
                valueMatches(actual, header["value"]?.stringValue ?? "", type: header["type"]?.stringValue)
            else { return nil }
        }
        let queries = condition["queryParams"]?.arrayValue ?? []
        for query in queries {
            guard let actual = request.query[query["name"]?.stringValue ?? ""],
                valueMatches(actual, query["value"]?.stringValue ?? "", type: query["type"]?.stringValue)
            else { return nil }
        }
        return [exact, type == "PathPrefix" ? value.count : 0, methodRank, headers.count, queries.count]
    }

    /// Path-element prefix matching: `/v1` matches `/v1`, `/v1/`, `/v1/models`, not `/v10`.
    static func prefixMatches(_ path: String, prefix: String) -> Bool {
        var prefix = prefix
        while prefix.count > 1, prefix.hasSuffix("/") { prefix.removeLast() }
        if prefix == "/" || prefix.isEmpty { return true }
        guard path.hasPrefix(prefix) else { return false }
        let rest = path.dropFirst(prefix.count)
        return rest.isEmpty || rest.hasPrefix("/")
    }

    static func valueMatches(_ actual: String, _ expected: String, type: String?) -> Bool {
        if type == "RegularExpression" {
            guard let regex = try? Regex(expected) else { return false }
            return (try? regex.wholeMatch(in: actual)) != nil
        }
        return actual == expected
    }

    /// Route hostnames against the request host: none listed matches any; `*.example.com` matches subdomains.
    static func hostMatches(_ host: String, hostnames: [String]?) -> Bool {
        guard let hostnames, !hostnames.isEmpty else { return true }
        return hostnames.contains { pattern in
            let pattern = pattern.lowercased()
            if pattern.hasPrefix("*.") {
                let suffix = String(pattern.dropFirst(1))
                return host.hasSuffix(suffix) && host.count > suffix.count
            }
            return pattern == host
        }
    }

    /// Picks a backend index by weighted random over `weight` (default 1, 0 never chosen); nil when every
    /// weight is 0 or there are no backends.
    public static func chooseBackend<R: RandomNumberGenerator>(
        _ refs: [HTTPBackendRef], using generator: inout R
    ) -> Int? {
        let weights = refs.map { max(0, Int($0.effectiveWeight)) }
        let total = weights.reduce(0, +)
        guard total > 0 else { return nil }
        var pick = Int.random(in: 0..<total, using: &generator)
        for (index, weight) in weights.enumerated() {
            if pick < weight { return index }
            pick -= weight
        }
        return nil
    }
}
