import Foundation
import KubeCore

/// One request the RBAC authorizer refused (for assertions: "the controller was never refused").
public struct RBACDenial: Sendable, Hashable {
    public var user: String
    public var attributes: RBACRequestAttributes
    /// The Status message sent with the 403.
    public var message: String
    public var date: Date
}

/// Authentication and authorization state of the emulated API server beyond the configured admin tokens:
/// tokens of service accounts and other non-admin users, whose requests are authorized by RBAC against the
/// stored Roles, ClusterRoles and their bindings; plus a bounded log of refusals.
///
/// The configured `APIServer.Configuration.tokens` and the no-token mode stay cluster administrators
/// (`system:masters`), so RBAC only applies to users registered here.
public actor RBACAccessControl {
    private var users: [String: RBACUser] = [:]
    private var denials: [RBACDenial] = []
    private let denialLimit: Int

    public init(denialLimit: Int = 1000) {
        self.denialLimit = max(1, denialLimit)
    }

    /// Registers a bearer token for `user` (replacing an earlier registration of the same token).
    public func register(token: String, user: RBACUser) {
        users[token] = user
    }

    /// Mints a new opaque bearer token for the service account `namespace/name`. Requests with it authenticate
    /// as `system:serviceaccount:NAMESPACE:NAME` while that ServiceAccount object exists (401 otherwise).
    public func mintServiceAccountToken(namespace: String, name: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let random = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let token = "sa.\(namespace).\(name).\(random)"
        users[token] = .serviceAccount(namespace: namespace, name: name)
        return token
    }

    /// The user of a registered token, or nil.
    public func user(forToken token: String) -> RBACUser? { users[token] }

    /// Refusals, oldest first (at most `denialLimit`).
    public func recentDenials() -> [RBACDenial] { denials }

    /// Forgets the recorded refusals.
    public func clearDenials() { denials.removeAll() }

    func record(_ denial: RBACDenial) {
        denials.append(denial)
        if denials.count > denialLimit { denials.removeFirst(denials.count - denialLimit) }
    }
}

extension APIHandler {
    /// Resolves the request's user: a registered token's user; otherwise the administrator when the token is one
    /// of the configured tokens or when no tokens are configured. Nil → 401.
    func authenticate(bearer token: String) async -> RBACUser? {
        if !token.isEmpty, let user = await access.user(forToken: token) {
            if let account = user.serviceAccount,
                await storage.get(.serviceAccounts, namespace: account.namespace, name: account.name) == nil
            {
                return nil
            }
            return user
        }
        if configuration.tokens.isEmpty { return .admin }
        return configuration.tokens.contains(token) ? .admin : nil
    }

    /// Nil when `user` may make the request; otherwise the 403 Status (and the refusal is logged).
    func authorize(_ request: RBACRequestAttributes, user: RBACUser) async -> APIStatus? {
        if user.isSuperUser { return nil }
        let policy = RBACPolicy(
            roles: request.namespace.isEmpty ? [] : await storage.list(.roles, namespace: request.namespace),
            clusterRoles: await storage.list(.clusterRoles, namespace: nil),
            roleBindings: request.namespace.isEmpty
                ? [] : await storage.list(.roleBindings, namespace: request.namespace),
            clusterRoleBindings: await storage.list(.clusterRoleBindings, namespace: nil))
        switch RBACAuthorizer.authorize(request, user: user, policy: policy) {
        case .allow:
            return nil
        case .deny(let reason):
            let status = RBACAuthorizer.forbidden(request, user: user, reason: reason)
            await access.record(RBACDenial(user: user.name, attributes: request, message: status.message, date: Date()))
            return status
        }
    }
}
