import Foundation

/// How a list or watch interprets `resourceVersion`.
public enum ResourceVersionMatch: String, Sendable, Hashable {
    case notOlderThan = "NotOlderThan"
    case exact = "Exact"
}

/// Query parameters of a list request.
public struct ListOptions: Sendable, Hashable {
    public var labelSelector: String?
    public var fieldSelector: String?
    public var limit: Int?
    /// The `continue` token of the previous page.
    public var continueToken: String?
    public var resourceVersion: String?
    public var resourceVersionMatch: ResourceVersionMatch?
    public var timeoutSeconds: Int?

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continueToken: String? = nil,
        resourceVersion: String? = nil, resourceVersionMatch: ResourceVersionMatch? = nil, timeoutSeconds: Int? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
        self.resourceVersionMatch = resourceVersionMatch
        self.timeoutSeconds = timeoutSeconds
    }

    public var queryItems: [(String, String)] {
        var q: [(String, String)] = []
        if let continueToken, !continueToken.isEmpty { q.append(("continue", continueToken)) }
        if let fieldSelector, !fieldSelector.isEmpty { q.append(("fieldSelector", fieldSelector)) }
        if let labelSelector, !labelSelector.isEmpty { q.append(("labelSelector", labelSelector)) }
        if let limit, limit > 0 { q.append(("limit", String(limit))) }
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        if let resourceVersionMatch { q.append(("resourceVersionMatch", resourceVersionMatch.rawValue)) }
        if let timeoutSeconds { q.append(("timeoutSeconds", String(timeoutSeconds))) }
        return q
    }
}

/// Query parameters of a watch request.
public struct WatchOptions: Sendable, Hashable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Where to start: unset or `"0"` sends synthetic ADDED events first; a specific RV streams changes after it.
    public var resourceVersion: String?
    public var resourceVersionMatch: ResourceVersionMatch?
    /// The server ends the watch after this many seconds.
    public var timeoutSeconds: Int?
    public var allowWatchBookmarks: Bool
    /// WatchList: initial ADDED events then a BOOKMARK marked `k8s.io/initial-events-end`.
    public var sendInitialEvents: Bool?

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil,
        resourceVersionMatch: ResourceVersionMatch? = nil, timeoutSeconds: Int? = nil,
        allowWatchBookmarks: Bool = true, sendInitialEvents: Bool? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.resourceVersionMatch = resourceVersionMatch
        self.timeoutSeconds = timeoutSeconds
        self.allowWatchBookmarks = allowWatchBookmarks
        self.sendInitialEvents = sendInitialEvents
    }

    public var queryItems: [(String, String)] {
        var q: [(String, String)] = []
        if allowWatchBookmarks { q.append(("allowWatchBookmarks", "true")) }
        if let fieldSelector, !fieldSelector.isEmpty { q.append(("fieldSelector", fieldSelector)) }
        if let labelSelector, !labelSelector.isEmpty { q.append(("labelSelector", labelSelector)) }
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        if let resourceVersionMatch { q.append(("resourceVersionMatch", resourceVersionMatch.rawValue)) }
        if let sendInitialEvents { q.append(("sendInitialEvents", sendInitialEvents ? "true" : "false")) }
        if let timeoutSeconds { q.append(("timeoutSeconds", String(timeoutSeconds))) }
        q.append(("watch", "true"))
        return q
    }
}

/// Parameters common to create, update and patch.
public struct WriteOptions: Sendable, Hashable {
    /// The manager name recorded in managedFields.
    public var fieldManager: String?
    /// `dryRun=All`: validate without persisting.
    public var dryRun: Bool
    /// `Strict`, `Warn` or `Ignore`.
    public var fieldValidation: String?

    public init(fieldManager: String? = nil, dryRun: Bool = false, fieldValidation: String? = nil) {
        self.fieldManager = fieldManager
        self.dryRun = dryRun
        self.fieldValidation = fieldValidation
    }

    public var queryItems: [(String, String)] {
        var q: [(String, String)] = []
        if dryRun { q.append(("dryRun", "All")) }
        if let fieldManager, !fieldManager.isEmpty { q.append(("fieldManager", fieldManager)) }
        if let fieldValidation, !fieldValidation.isEmpty { q.append(("fieldValidation", fieldValidation)) }
        return q
    }
}

/// The kind of a PATCH request, which decides its Content-Type.
public enum PatchType: Sendable, Hashable {
    /// RFC 7386 JSON merge patch.
    case merge
    /// RFC 6902 JSON patch (a list of operations).
    case json
    /// Strategic merge patch (built-in types only; CRs answer 415).
    case strategic
    /// Server-side apply with a required field manager.
    case apply(fieldManager: String, force: Bool)

    public var contentType: String {
        switch self {
        case .merge: return "application/merge-patch+json"
        case .json: return "application/json-patch+json"
        case .strategic: return "application/strategic-merge-patch+json"
        case .apply: return "application/apply-patch+yaml"
        }
    }
}

/// How dependents are deleted.
public enum PropagationPolicy: String, Sendable, Hashable {
    case foreground = "Foreground"
    case background = "Background"
    case orphan = "Orphan"
}

/// The body of a DELETE request (`meta/v1 DeleteOptions`).
public struct DeleteOptions: Sendable, Hashable {
    public var propagationPolicy: PropagationPolicy?
    public var gracePeriodSeconds: Int?
    /// Delete only if the object still has this uid.
    public var preconditionUID: String?
    /// Delete only if the object still has this resourceVersion.
    public var preconditionResourceVersion: String?
    public var dryRun: Bool

    public init(
        propagationPolicy: PropagationPolicy? = nil, gracePeriodSeconds: Int? = nil, preconditionUID: String? = nil,
        preconditionResourceVersion: String? = nil, dryRun: Bool = false
    ) {
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.dryRun = dryRun
    }

    /// Whether every field is unset, so no body needs to be sent.
    public var isEmpty: Bool { self == DeleteOptions() }

    /// `{"kind":"DeleteOptions","apiVersion":"v1",...}`.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let propagationPolicy { o["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        if let gracePeriodSeconds { o["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
        var pre: [String: JSONValue] = [:]
        if let preconditionUID { pre["uid"] = .string(preconditionUID) }
        if let preconditionResourceVersion { pre["resourceVersion"] = .string(preconditionResourceVersion) }
        if !pre.isEmpty { o["preconditions"] = .object(pre) }
        if dryRun { o["dryRun"] = ["All"] }
        return .object(o)
    }
}

/// Query parameters of a `pods/log` request.
public struct LogOptions: Sendable, Hashable {
    public var container: String?
    public var sinceTime: Date?
    public var sinceSeconds: Int?
    public var tailLines: Int?
    public var limitBytes: Int?
    public var timestamps: Bool
    public var follow: Bool
    public var previous: Bool

    public init(
        container: String? = nil, sinceTime: Date? = nil, sinceSeconds: Int? = nil, tailLines: Int? = nil,
        limitBytes: Int? = nil, timestamps: Bool = false, follow: Bool = false, previous: Bool = false
    ) {
        self.container = container
        self.sinceTime = sinceTime
        self.sinceSeconds = sinceSeconds
        self.tailLines = tailLines
        self.limitBytes = limitBytes
        self.timestamps = timestamps
        self.follow = follow
        self.previous = previous
    }

    public var queryItems: [(String, String)] {
        var q: [(String, String)] = []
        if let container, !container.isEmpty { q.append(("container", container)) }
        if follow { q.append(("follow", "true")) }
        if let limitBytes { q.append(("limitBytes", String(limitBytes))) }
        if previous { q.append(("previous", "true")) }
        if let sinceSeconds { q.append(("sinceSeconds", String(sinceSeconds))) }
        if let sinceTime { q.append(("sinceTime", KubeTime.format(sinceTime))) }
        if let tailLines { q.append(("tailLines", String(tailLines))) }
        if timestamps { q.append(("timestamps", "true")) }
        return q
    }
}
