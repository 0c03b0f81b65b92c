import KubeCore

/// What a ModelRollout's route backends are: Services (`kind: Service`, the Gateway API default) or
/// InferencePools of the Gateway API Inference Extension (`group: inference.networking.k8s.io`,
/// `kind: InferencePool`, no port). One ModelRollout drives one kind.
public enum BackendKind: String, Sendable, Hashable, Codable, CaseIterable {
    case service = "Service"
    case inferencePool = "InferencePool"

    /// Whether `ref` is a backendRef of this kind.
    public func matches(_ ref: HTTPBackendRef) -> Bool {
        switch self {
        case .service: return ref.isService
        case .inferencePool: return ref.isInferencePool
        }
    }

    /// The kind of a backendRef, nil for any other kind (a ServiceImport, for example).
    public static func of(_ ref: HTTPBackendRef) -> BackendKind? { allCases.first { $0.matches(ref) } }

    /// A new backendRef of this kind (no port for a pool: its targetPorts apply).
    func reference(name: String, weight: Int32) -> HTTPBackendRef {
        switch self {
        case .service: return HTTPBackendRef(name: name, weight: weight)
        case .inferencePool:
            return HTTPBackendRef(name: name, weight: weight, group: InferencePool.group, kind: "InferencePool")
        }
    }

    /// "Service" / "InferencePool", and the plural for messages.
    public var noun: String { rawValue }
    public var plural: String { self == .service ? "services" : "InferencePools" }
}

/// What an HTTPRoute currently says about the managed Services: which rule carries them and with which weights.
public struct RouteObservation: Sendable, Equatable {
    /// Index in `spec.rules` of the first rule that references a managed Service; nil when none does.
    public var ruleIndex: Int?
    /// Effective weight (absent `weight` counts as 1) per managed Service present in that rule. A Service
    /// referenced twice in the rule gets the sum. Services absent from the rule are not in the map.
    public var weights: [String: Int]
    /// Names of the other (unmanaged) backends of that rule, in rule order.
    public var otherBackends: [String]

    public init(ruleIndex: Int?, weights: [String: Int], otherBackends: [String]) {
        self.ruleIndex = ruleIndex
        self.weights = weights
        self.otherBackends = otherBackends
    }

    /// Sum of the managed weights.
    public var totalManagedWeight: Int { weights.values.reduce(0, +) }
}

/// Why desired weights could not be applied to a route.
public enum RouteWeightError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No rule of the route references any of the managed Services.
    case noManagedRule(route: String, services: [String])
    /// A weight outside the Gateway API range 0...1,000,000.
    case invalidWeight(service: String, weight: Int)
    /// Removing the managed backends would leave the rule without any backend.
    case emptyRule(route: String, ruleIndex: Int)
    /// The managed rule also has backendRefs of the other kind (Services beside InferencePools or the reverse).
    case mixedBackends(route: String, ruleIndex: Int, managed: BackendKind, others: [String])

    public var description: String {
        switch self {
        case .noManagedRule(let route, let services):
            return "HTTPRoute \(route) has no rule with a backendRef to any of the services "
                + "[\(services.joined(separator: ", "))]; add the stable service's backendRef to the route"
        case .invalidWeight(let service, let weight):
            return "weight \(weight) for service \(service) is outside 0...\(RouteWeights.maxWeight)"
        case .emptyRule(let route, let ruleIndex):
            return "removing the managed backends would leave rule \(ruleIndex) of HTTPRoute \(route) without backends"
        case .mixedBackends(let route, let ruleIndex, let managed, let others):
            let other: BackendKind = managed == .service ? .inferencePool : .service
            return "rule \(ruleIndex) of HTTPRoute \(route) mixes \(managed.noun) and \(other.noun) backendRefs "
                + "(\(other.noun): \(others.joined(separator: ", "))); a ModelRollout drives one kind per rule: "
                + "move the \(other.noun) backends to a rule of their own"
                + (managed == .service ? " or set spec.inferencePool" : " or unset spec.inferencePool")
        }
    }
}

/// Reads and sets the weights of the HTTPRoute backendRefs that point at managed backends (Services, or
/// InferencePools with ``BackendKind/inferencePool``; the names are called "services" below either way). Pure.
///
/// A backendRef is managed when its `name` is one of the managed backends, it is of the managed kind (a Service:
/// `kind` absent or `Service` and `group` absent or empty; a pool: `group: inference.networking.k8s.io`,
/// `kind: InferencePool`), and its `namespace` is absent or the route's own. Only the first rule that
/// references a managed Service is read or changed; every other rule and every unmanaged backendRef is left
/// as it is (including unknown fields).
public enum RouteWeights {
    /// The Gateway API upper bound of a backendRef weight.
    public static let maxWeight = 1_000_000

    /// Weights of the named services in the rule that references any of them (first such rule); services
    /// absent → not in the map.
    public static func observe(_ route: HTTPRoute, services: Set<String>, kind: BackendKind = .service)
        -> RouteObservation
    {
        let namespace = route.metadata.namespace
        for (index, rule) in route.spec.rules.enumerated() {
            let refs = rule.backendRefs
            guard refs.contains(where: { isManaged($0, services: services, routeNamespace: namespace, kind: kind) })
            else {
                continue
            }
            var weights: [String: Int] = [:]
            var others: [String] = []
            for ref in refs {
                if isManaged(ref, services: services, routeNamespace: namespace, kind: kind) {
                    weights[ref.name, default: 0] += Int(ref.effectiveWeight)
                } else {
                    others.append(ref.name)
                }
            }
            return RouteObservation(ruleIndex: index, weights: weights, otherBackends: others)
        }
        return RouteObservation(ruleIndex: nil, weights: [:], otherBackends: [])
    }

    /// Returns the route with the managed backendRefs set to the desired weights: existing refs get their weight
    /// updated; a missing candidate ref is added to the same rule copying port/group/kind/namespace from an
    /// existing managed ref (the one with the highest weight, i.e. the stable one); services mapped to nil are
    /// removed. A service referenced twice keeps its first ref only. Unmanaged refs are left untouched. Fails if
    /// no rule references any managed service, a weight is out of range, or the rule would end up empty.
    public static func apply(_ desired: [String: Int?], to route: HTTPRoute, kind: BackendKind = .service)
        -> Result<HTTPRoute, RouteWeightError>
    {
        let routeName = route.metadata.name ?? ""
        for (service, weight) in desired.sorted(by: { $0.key < $1.key }) {
            if let weight, weight < 0 || weight > maxWeight {
                return .failure(.invalidWeight(service: service, weight: weight))
            }
        }
        let services = Set(desired.keys)
        let namespace = route.metadata.namespace
        guard let ruleIndex = observe(route, services: services, kind: kind).ruleIndex else {
            return .failure(.noManagedRule(route: routeName, services: services.sorted()))
        }
        if let mixed = mixedBackends(route, services: services, kind: kind) { return .failure(mixed) }
        var rules = route.spec.rules
        let original = rules[ruleIndex].backendRefs
        let managed = original.filter { isManaged($0, services: services, routeNamespace: namespace, kind: kind) }
        // The template for added refs: the existing managed ref carrying the most traffic (first on ties).
        let template = managed.reduce(into: HTTPBackendRef?.none) { best, ref in
            if best == nil || ref.effectiveWeight > (best?.effectiveWeight ?? 0) { best = ref }
        }

        var seen: Set<String> = []
        var refs: [HTTPBackendRef] = []
        for var ref in original {
            guard isManaged(ref, services: services, routeNamespace: namespace, kind: kind) else {
                refs.append(ref)
                continue
            }
            guard !seen.contains(ref.name) else { continue }
            seen.insert(ref.name)
            guard let entry = desired[ref.name], let weight = entry else { continue }
            ref.weight = Int32(weight)
            refs.append(ref)
        }
        for (service, entry) in desired.sorted(by: { $0.key < $1.key }) where !seen.contains(service) {
            guard let weight = entry else { continue }
            var ref = kind.reference(name: service, weight: Int32(weight))
            if let template {
                ref.group = template.group
                ref.kind = template.kind
                ref.namespace = template.namespace
                ref.port = template.port
            }
            refs.append(ref)
        }
        if refs.isEmpty { return .failure(.emptyRule(route: routeName, ruleIndex: ruleIndex)) }

        var updated = route
        var rule = rules[ruleIndex]
        rule.backendRefs = refs
        rules[ruleIndex] = rule
        updated.spec.rules = rules
        return .success(updated)
    }

    /// The refusal when the rule that carries the managed backends also has backendRefs of the other kind
    /// (Services beside InferencePools, or the reverse); nil when it does not, or no rule carries them.
    public static func mixedBackends(_ route: HTTPRoute, services: Set<String>, kind: BackendKind)
        -> RouteWeightError?
    {
        guard let ruleIndex = observe(route, services: services, kind: kind).ruleIndex else { return nil }
        let others = route.spec.rules[ruleIndex].backendRefs.filter {
            guard let refKind = BackendKind.of($0) else { return false }
            return refKind != kind
        }.map(\.name)
        guard !others.isEmpty else { return nil }
        return .mixedBackends(
            route: route.metadata.name ?? "", ruleIndex: ruleIndex, managed: kind, others: others)
    }

    /// The backends of `kind` in the route's first rule with any (name → effective weight): what a new
    /// ModelRollout adopts its stable backend from.
    public static func firstRuleBackends(_ route: HTTPRoute, kind: BackendKind) -> [String: Int] {
        let namespace = route.metadata.namespace
        for rule in route.spec.rules {
            var backends: [String: Int] = [:]
            for ref in rule.backendRefs where kind.matches(ref) && sameNamespace(ref, namespace) {
                backends[ref.name, default: 0] += Int(ref.effectiveWeight)
            }
            if !backends.isEmpty { return backends }
        }
        return [:]
    }

    static func sameNamespace(_ ref: HTTPBackendRef, _ routeNamespace: String?) -> Bool {
        guard let namespace = ref.namespace, !namespace.isEmpty, let routeNamespace else { return true }
        return namespace == routeNamespace
    }

    /// Whether `ref` points at one of the managed backends of the route's namespace.
    static func isManaged(
        _ ref: HTTPBackendRef, services: Set<String>, routeNamespace: String?, kind: BackendKind = .service
    ) -> Bool {
        guard services.contains(ref.name), kind.matches(ref) else { return false }
        if let namespace = ref.namespace, !namespace.isEmpty, let routeNamespace, namespace != routeNamespace {
            return false
        }
        return true
    }
}
