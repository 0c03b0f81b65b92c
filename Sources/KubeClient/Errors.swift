import KubeCore

/// An error status returned by the Kubernetes API server (any response with code >= 400).
///
/// `status` is the decoded `Status` body, or one synthesised from the HTTP code and body text when the server
/// sent something else (e.g. the plain-text APF 429).
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    public var status: APIStatus
    /// The HTTP status code of the response.
    public var httpStatus: Int
    /// `Retry-After` in seconds, when the response carried one.
    public var retryAfterSeconds: Int?

    public init(status: APIStatus, httpStatus: Int, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.httpStatus = httpStatus
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var isNotFound: Bool { httpStatus == 404 || status.isNotFound }
    public var isConflict: Bool { httpStatus == 409 && status.reason != "AlreadyExists" }
    public var isAlreadyExists: Bool { status.isAlreadyExists }
    public var isGone: Bool { httpStatus == 410 || status.isGone }
    public var isInvalid: Bool { httpStatus == 422 || status.isInvalid }
    public var isTooManyRequests: Bool { httpStatus == 429 }
    public var isUnauthorized: Bool { httpStatus == 401 }
    public var isForbidden: Bool { httpStatus == 403 }
    public var isServerError: Bool { httpStatus >= 500 }

    public var description: String { "Kubernetes API error \(httpStatus): \(status.reason): \(status.message)" }
}

/// A failure below the API: connecting, TLS, a timeout, or a response that could not be read or decoded.
public struct KubeTransportError: Error, Sendable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: String, Sendable {
        case connection
        case timeout
        case tls
        case invalidResponse
        case decoding
        case cancelled
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "Kubernetes transport error (\(kind.rawValue)): \(message)" }
}

/// A credential could not be obtained (token file unreadable, exec plugin failed or printed nonsense).
public struct KubeCredentialError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "Kubernetes credentials: \(message)" }
}

/// A kubeconfig or in-cluster configuration problem, naming the file and the field.
public struct KubeConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The file, or `nil` when the problem is not in one file (e.g. no configuration at all).
    public var file: String?
    /// The field path, e.g. `users[0].user.exec.interactiveMode`.
    public var field: String?
    public var message: String

    public init(file: String?, field: String?, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        var s = file.map { "kubeconfig \($0): " } ?? "kubeconfig: "
        if let field { s += "\(field): " }
        return s + message
    }
}

extension Error {
    /// The API error, when this is one.
    public var kubeAPIError: KubeAPIError? { self as? KubeAPIError }
    /// Whether this is an API 404.
    public var isKubeNotFound: Bool { kubeAPIError?.isNotFound ?? false }
    /// Whether this is an API 409 Conflict (not AlreadyExists).
    public var isKubeConflict: Bool { kubeAPIError?.isConflict ?? false }
}
