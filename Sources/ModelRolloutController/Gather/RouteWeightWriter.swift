import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore

/// What a route write did.
public enum RouteWriteOutcome: Sendable, Equatable {
    /// The route already had the desired weights; nothing was written.
    case unchanged(HTTPRoute)
    /// The route was replaced; `attempts` counts the PUTs (more than one after conflicts).
    case updated(HTTPRoute, attempts: Int)

    /// The route as it is now.
    public var route: HTTPRoute {
        switch self {
        case .unchanged(let route), .updated(let route, _): return route
        }
    }
}

/// Why a route write failed.
public struct RouteWriteError: Error, Sendable, CustomStringConvertible {
    /// The kinds of failure.
    public enum Reason: Sendable, Equatable {
        /// The HTTPRoute does not exist.
        case routeNotFound
        /// The desired weights cannot be applied to the route (see ``RouteWeightError``).
        case weights(RouteWeightError)
        /// Still conflicting after the last attempt.
        case conflict(attempts: Int)
        /// Any other API or transport error.
        case api(String)
    }

    public var route: ObjectKey
    public var reason: Reason

    public init(route: ObjectKey, reason: Reason) {
        self.route = route
        self.reason = reason
    }

    public var description: String {
        let name = "HTTPRoute \(route.namespace.map { "\($0)/" } ?? "")\(route.name)"
        switch reason {
        case .routeNotFound: return "\(name) not found"
        case .weights(let error): return "\(name): \(error)"
        case .conflict(let attempts): return "\(name): still conflicting after \(attempts) attempts"
        case .api(let message): return "\(name): \(message)"
        }
    }
}

/// Writes the weights of the managed backendRefs of an HTTPRoute with optimistic concurrency: read, apply
/// ``RouteWeights/apply(_:to:)``, PUT with the read resourceVersion, and on 409 Conflict read and apply again.
public struct RouteWeightWriter: Sendable {
    public let kube: KubernetesClient
    /// PUT attempts in all before giving up on conflicts.
    public let maxAttempts: Int

    public init(kube: KubernetesClient, maxAttempts: Int = 5) {
        self.kube = kube
        self.maxAttempts = max(1, maxAttempts)
    }

    /// Sets the managed weights of backends of `kind` (`nil` removes the backend's backendRef). Throws
    /// ``RouteWriteError``.
    public func write(route key: ObjectKey, desired: [String: Int?], kind: BackendKind = .service) async throws
        -> RouteWriteOutcome
    {
        let routes = kube.resources(HTTPRoute.self, namespace: key.namespace)
        var attempts = 0
        while true {
            let current: HTTPRoute
            do {
                guard let found = try await routes.getIfExists(key.name, namespace: key.namespace) else {
                    throw RouteWriteError(route: key, reason: .routeNotFound)
                }
                current = found
            } catch let error as RouteWriteError {
                throw error
            } catch {
                throw RouteWriteError(route: key, reason: .api(Self.describe(error)))
            }
            let desiredRoute: HTTPRoute
            switch RouteWeights.apply(desired, to: current, kind: kind) {
            case .failure(let error): throw RouteWriteError(route: key, reason: .weights(error))
            case .success(let route): desiredRoute = route
            }
            if desiredRoute.spec == current.spec { return .unchanged(current) }
            attempts += 1
            do {
                let written = try await routes.update(desiredRoute)
                return .updated(written, attempts: attempts)
            } catch let error as KubeAPIError where error.isConflict {
                if attempts >= maxAttempts { throw RouteWriteError(route: key, reason: .conflict(attempts: attempts)) }
            } catch let error as KubeAPIError where error.isNotFound {
                throw RouteWriteError(route: key, reason: .routeNotFound)
            } catch {
                throw RouteWriteError(route: key, reason: .api(Self.describe(error)))
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        if let api = error as? KubeAPIError { return "\(api.status.reason) (\(api.httpStatus)): \(api.status.message)" }
        return String(describing: error)
    }
}
