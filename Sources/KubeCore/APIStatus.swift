/// The `Status` object the API server returns for failures (and for some successful deletes).
///
/// Both sides use it: the emulated API server builds error bodies with the constructors below, which follow
/// apimachinery's `pkg/api/errors` messages, and the client decodes it into `KubeAPIError`.
public struct APIStatus: Error, Sendable, Hashable, CustomStringConvertible {
    /// A machine-readable cause of a failure, e.g. one invalid field.
    public struct Cause: Sendable, Hashable {
        public var type: String
        public var message: String
        public var field: String
        public init(type: String, message: String, field: String) {
            self.type = type
            self.message = message
            self.field = field
        }
    }

    public var code: Int
    public var reason: String
    public var message: String
    public var status: String
    public var name: String?
    public var group: String?
    /// `details.kind`: the resource plural for most errors, the Kind for `Invalid`.
    public var kind: String?
    public var uid: String?
    public var causes: [Cause]
    public var retryAfterSeconds: Int?

    public init(
        code: Int, reason: String, message: String, status: String = "Failure", name: String? = nil,
        group: String? = nil, kind: String? = nil, uid: String? = nil, causes: [Cause] = [],
        retryAfterSeconds: Int? = nil
    ) {
        self.code = code
        self.reason = reason
        self.message = message
        self.status = status
        self.name = name
        self.group = group
        self.kind = kind
        self.uid = uid
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(reason) (\(code)): \(message)" }

    /// The Status as JSON, the body of an error response.
    public var json: JSONValue {
        var details: [String: JSONValue] = [:]
        if let name { details["name"] = .string(name) }
        if let group, !group.isEmpty { details["group"] = .string(group) }
        if let kind { details["kind"] = .string(kind) }
        if let uid { details["uid"] = .string(uid) }
        if !causes.isEmpty {
            details["causes"] = .array(
                causes.map { .object(["reason": .string($0.type), "message": .string($0.message), "field": .string($0.field)]) })
        }
        if let retryAfterSeconds { details["retryAfterSeconds"] = .int(Int64(retryAfterSeconds)) }
        var o: [String: JSONValue] = [
            "kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": .string(status),
            "code": .int(Int64(code)),
        ]
        if !message.isEmpty { o["message"] = .string(message) }
        if !reason.isEmpty { o["reason"] = .string(reason) }
        if !details.isEmpty { o["details"] = .object(details) }
        return .object(o)
    }

    /// Decodes a Status body; `nil` when the JSON is not a Status.
    public init?(json: JSONValue) {
        guard json["kind"]?.stringValue == "Status" else { return nil }
        self.code = Int(json["code"]?.intValue ?? 0)
        self.reason = json["reason"]?.stringValue ?? ""
        self.message = json["message"]?.stringValue ?? ""
        self.status = json["status"]?.stringValue ?? "Failure"
        let details = json["details"]
        self.name = details?["name"]?.stringValue
        self.group = details?["group"]?.stringValue
        self.kind = details?["kind"]?.stringValue
        self.uid = details?["uid"]?.stringValue
        self.retryAfterSeconds = (details?["retryAfterSeconds"]?.intValue).map { Int($0) }
        self.causes = (details?["causes"]?.arrayValue ?? []).map {
            Cause(
                type: $0["reason"]?.stringValue ?? "", message: $0["message"]?.stringValue ?? "",
                field: $0["field"]?.stringValue ?? "")
        }
    }
}

// MARK: - Constructors matching apimachinery's messages

extension APIStatus {
    public static func notFound(_ resource: ResourceDescriptor, name: String) -> APIStatus {
        notFound(group: resource.group, resource: resource.resource, name: name)
    }

    public static func notFound(group: String, resource: String, name: String) -> APIStatus {
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        return APIStatus(
            code: 404, reason: "NotFound", message: "\(qualified) \"\(name)\" not found", name: name, group: group,
            kind: resource)
    }

    public static func alreadyExists(_ resource: ResourceDescriptor, name: String) -> APIStatus {
        APIStatus(
            code: 409, reason: "AlreadyExists", message: "\(resource.qualifiedResource) \"\(name)\" already exists",
            name: name, group: resource.group, kind: resource.resource)
    }

    public static func conflict(_ resource: ResourceDescriptor, name: String) -> APIStatus {
        APIStatus(
            code: 409, reason: "Conflict",
            message:
                "Operation cannot be fulfilled on \(resource.qualifiedResource) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            name: name, group: resource.group, kind: resource.resource)
    }

    /// 422 Invalid: `<Kind>.<group> "<name>" is invalid: <field>: <message>, ...`.
    public static func invalid(_ resource: ResourceDescriptor, name: String, causes: [Cause]) -> APIStatus {
        let qualifiedKind = resource.group.isEmpty ? resource.kind : "\(resource.kind).\(resource.group)"
        let list = causes.map { $0.field.isEmpty ? $0.message : "\($0.field): \($0.message)" }
        let joined = list.count == 1 ? list[0] : "[" + list.joined(separator: ", ") + "]"
        return APIStatus(
            code: 422, reason: "Invalid", message: "\(qualifiedKind) \"\(name)\" is invalid: \(joined)", name: name,
            group: resource.group, kind: resource.kind, causes: causes)
    }

    public static func badRequest(_ message: String) -> APIStatus {
        APIStatus(code: 400, reason: "BadRequest", message: message)
    }

    public static func unauthorized(_ message: String = "Unauthorized") -> APIStatus {
        APIStatus(code: 401, reason: "Unauthorized", message: message)
    }

    public static func forbidden(_ resource: ResourceDescriptor, name: String, reason: String) -> APIStatus {
        let subject = name.isEmpty ? resource.qualifiedResource : "\(resource.qualifiedResource) \"\(name)\""
        return APIStatus(
            code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(reason)", name: name.isEmpty ? nil : name,
            group: resource.group, kind: resource.resource)
    }

    public static func methodNotAllowed(_ message: String = "the server does not allow this method on the requested resource") -> APIStatus {
        APIStatus(code: 405, reason: "MethodNotAllowed", message: message)
    }

    public static func gone(_ message: String) -> APIStatus {
        APIStatus(code: 410, reason: "Expired", message: message)
    }

    public static func unsupportedMediaType(_ message: String) -> APIStatus {
        APIStatus(code: 415, reason: "UnsupportedMediaType", message: message)
    }

    public static func tooManyRequests(retryAfterSeconds: Int, message: String = "Too many requests, please try again later.") -> APIStatus {
        APIStatus(code: 429, reason: "TooManyRequests", message: message, retryAfterSeconds: retryAfterSeconds)
    }

    public static func internalError(_ message: String) -> APIStatus {
        APIStatus(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    public static func serviceUnavailable(_ message: String) -> APIStatus {
        APIStatus(code: 503, reason: "ServiceUnavailable", message: message)
    }

    public static func timeout(_ message: String) -> APIStatus {
        APIStatus(code: 504, reason: "Timeout", message: message)
    }

    public var isNotFound: Bool { code == 404 && reason != "" ? reason == "NotFound" : code == 404 }
    public var isAlreadyExists: Bool { reason == "AlreadyExists" }
    public var isConflict: Bool { reason == "Conflict" || (code == 409 && reason != "AlreadyExists") }
    public var isGone: Bool { code == 410 }
    public var isInvalid: Bool { code == 422 }
    public var isTooManyRequests: Bool { code == 429 }
    public var isUnauthorized: Bool { code == 401 }
    public var isForbidden: Bool { code == 403 }
}
