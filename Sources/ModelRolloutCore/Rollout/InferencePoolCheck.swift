import KubeCore

/// What the InferencePools behind a pool-based ModelRollout (``BackendKind/inferencePool``) allow. Pure: the
/// shell reads the pools and the namespace's Deployments; this decides.
///
/// - The candidate pool (`spec.inferencePool`) must exist, select `spec.deployment`'s pod template and list the
///   runtime port among its `targetPorts`.
/// - Every pool the rollout involves (the candidate pool, the pools named in the status, the route's pools that
///   carry weight) must select the pods of at most one Deployment: a pool that also selects another revision's
///   pods would send that pool's share to pods the operator never proved model-ready (a loading candidate).
/// - A pool the route gives weight to must exist, and when a new ModelRollout adopts the route, the stable pool
///   must select some Deployment's pods: that Deployment is the stable revision.
///
/// Each failure is one problem (the controller reports it as `InvalidSpec` and patches nothing).
public struct InferencePoolCheck: Sendable, Equatable {
    /// Why the rollout cannot proceed; empty when it can.
    public var problems: [String]
    /// Pool name → the Deployment whose pods it selects (for the pools that select exactly one).
    public var backendDeployments: [String: String]

    public init(problems: [String] = [], backendDeployments: [String: String] = [:]) {
        self.problems = problems
        self.backendDeployments = backendDeployments
    }

    /// The pool names a round involves: the candidate pool, those in the status, and the route's pools with
    /// weight (in the managed rule, else the first rule with pools).
    public static func involvedPools(spec: ModelRolloutSpec, status: ModelRolloutStatus, route: HTTPRoute?)
        -> [String]
    {
        var names: [String] = []
        func add(_ name: String?) {
            guard let name, !name.isEmpty, !names.contains(name) else { return }
            names.append(name)
        }
        add(spec.inferencePool)
        add(status.stableService)
        add(status.candidateService)
        if let route {
            for (name, weight) in routePools(spec: spec, status: status, route: route).sorted(by: { $0.key < $1.key })
            where weight > 0 {
                add(name)
            }
        }
        return names
    }

    /// The route's pool backends the rollout reads: the managed rule's, else the first rule's with pools.
    static func routePools(spec: ModelRolloutSpec, status: ModelRolloutStatus, route: HTTPRoute) -> [String: Int] {
        let known = Set(
            [spec.inferencePool, status.stableService, status.candidateService, status.retiredService].compactMap {
                $0
            })
        let observed = RouteWeights.observe(route, services: known, kind: .inferencePool)
        if observed.ruleIndex != nil { return observed.weights }
        return RouteWeights.firstRuleBackends(route, kind: .inferencePool)
    }

    /// Checks the pools (`pools`: the involved pools that exist, by name) against the namespace's Deployments.
    public static func evaluate(
        spec: ModelRolloutSpec, status: ModelRolloutStatus, route: HTTPRoute?, pools: [String: InferencePool],
        deployments: [Deployment], namespace: String
    ) -> InferencePoolCheck {
        guard spec.backendKind == .inferencePool, let candidatePool = spec.inferencePool else {
            return InferencePoolCheck()
        }
        var check = InferencePoolCheck()
        let weighted = route.map { routePools(spec: spec, status: status, route: $0) } ?? [:]
        var ambiguous: Set<String> = []

        for name in involvedPools(spec: spec, status: status, route: route) {
            guard let pool = pools[name] else {
                if name == candidatePool {
                    check.problems.append(
                        "InferencePool \(name) (spec.inferencePool) not found in namespace \(namespace): create the "
                            + "pool that selects the pods of Deployment \(spec.deployment)")
                } else if (weighted[name] ?? 0) > 0 {
                    check.problems.append(
                        "InferencePool \(name), a backend of HTTPRoute \(spec.route.name) with weight "
                            + "\(weighted[name] ?? 0), not found in namespace \(namespace)")
                }
                continue
            }
            let selected = deployments.filter { pool.selects(labels: templateLabels($0)) }
                .compactMap(\.metadata.name).sorted()
            if selected.count > 1 {
                ambiguous.insert(name)
                check.problems.append(
                    "InferencePool \(name) selects the pods of several Deployments (\(selected.joined(separator: ", "))) "
                        + "with \(describe(pool.spec.matchLabels)): each revision needs its own pool whose selector "
                        + "matches only its pods (add a revision label), or one pool's share reaches another "
                        + "revision's pods before they are model-ready")
            } else if let only = selected.first {
                check.backendDeployments[name] = only
            }
            if name == candidatePool {
                check.problems += candidateProblems(pool, spec: spec, deployments: deployments, selected: selected)
            }
        }

        // A new ModelRollout adopts the heaviest pool of the route as stable: it must select some Deployment.
        if status.stableDeployment?.isEmpty ?? true,
            let heaviest = weighted.filter({ $0.value > 0 }).sorted(by: {
                $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key
            }).first,
            heaviest.key != candidatePool, pools[heaviest.key] != nil, check.backendDeployments[heaviest.key] == nil,
            !ambiguous.contains(heaviest.key),
            !deployments.contains(where: { $0.metadata.name == heaviest.key })
        {
            check.problems.append(
                "InferencePool \(heaviest.key), the route's stable backend, selects the pods of no Deployment in "
                    + "namespace \(namespace) (selector \(describe(pools[heaviest.key]?.spec.matchLabels ?? [:]))): "
                    + "cannot tell which revision is stable")
        }
        return check
    }

    /// The candidate pool must select `spec.deployment`'s pods and target the runtime port.
    static func candidateProblems(
        _ pool: InferencePool, spec: ModelRolloutSpec, deployments: [Deployment], selected: [String]
    ) -> [String] {
        var problems: [String] = []
        let name = pool.metadata.name ?? spec.inferencePool ?? ""
        if let deployment = deployments.first(where: { $0.metadata.name == spec.deployment }),
            !selected.contains(spec.deployment)
        {
            problems.append(
                "InferencePool \(name) (spec.inferencePool) does not select the pods of Deployment \(spec.deployment): "
                    + "its selector \(describe(pool.spec.matchLabels)) does not match the pod template's labels "
                    + "\(describe(templateLabels(deployment)))")
        }
        let ports = pool.spec.targetPorts.map { Int($0.number) }
        if !ports.contains(spec.runtime.port) {
            problems.append(
                "InferencePool \(name) (spec.inferencePool) targets port"
                    + (ports.count == 1 ? " " : "s ") + (ports.isEmpty ? "none" : ports.map(String.init).joined(separator: ", "))
                    + ", not the runtime port \(spec.runtime.port) (spec.runtime.port): add it to spec.targetPorts")
        }
        return problems
    }

    static func templateLabels(_ deployment: Deployment) -> [String: String] {
        deployment.spec.template.metadata?.labels ?? [:]
    }

    static func describe(_ labels: [String: String]) -> String {
        "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "}"
    }
}
