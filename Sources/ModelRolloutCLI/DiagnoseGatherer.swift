import Foundation
import KubeClient
import KubeCore
import ModelRolloutController
import ModelRolloutCore

/// Reads the live signals of `modelrollout diagnose`: the HTTPRoutes of a namespace, the Deployments and pods
/// behind each backendRef, each serving pod's `/metrics`, ModelRollout load times, and optional probes.
/// I/O only; the judgement is `TTFTDiagnosis`.
struct DiagnoseGatherer {
    let kube: KubernetesClient
    let endpoints: PodEndpointClient
    let namespace: String
    let routeName: String?
    let probe: DiagnoseProbe?
    let now: Date

    /// A backend revision found behind a route rule, with its pods.
    struct Backend {
        var route: HTTPRoute
        var ruleIndex: Int
        var service: String
        var weight: Int
        var deployment: String
        var pods: [Pod]
        var port: Int
    }

    /// The revisions' signals and the warnings (unreadable pods or objects).
    func gather() async throws -> (revisions: [RevisionSignals], warnings: [String]) {
        var warnings: [String] = []
        let routes = try await readRoutes()
        let services = try await list { try await kube.resources(Service.self, namespace: namespace).list().items }
        let deployments = try await list {
            try await kube.resources(Deployment.self, namespace: namespace).list().items
        }
        let pods = try await list { try await kube.resources(Pod.self, namespace: namespace).list().items }
        let rollouts = await readRollouts(&warnings)
        let pools = await readPools(routes: routes, &warnings)

        var revisions: [RevisionSignals] = []
        var modelCache: [String: String] = [:]
        for route in routes {
            let routeName = route.metadata.name ?? ""
            let backends = self.backends(
                of: route, services: services, pools: pools, deployments: deployments, pods: pods,
                warnings: &warnings)
            let rollout = rollouts.first { $0.spec.route.name == routeName }
            var routeRevisions: [RevisionSignals] = []
            for backend in backends {
                let requestClass = RequestClass.name(
                    routeLabels: route.metadata.labels, ruleIndex: backend.ruleIndex, ruleCount: route.spec.rules.count)
                let servingPods = backend.pods.filter { $0.status?.isReady == true }
                var scrapes: [PrometheusScrape] = []
                for pod in servingPods {
                    let name = pod.metadata.name ?? ""
                    switch await endpoints.scrape(
                        namespace: namespace, pod: name, podIP: pod.status?.podIP, port: backend.port)
                    {
                    case .success(let scrape): scrapes.append(scrape)
                    case .failure(let error): warnings.append("pod \(name): \(error)")
                    }
                }
                var model = rollout?.spec.model ?? modelCache[backend.deployment]
                if model == nil, let pod = servingPods.first {
                    if case .listed(let ids) = await endpoints.models(
                        namespace: namespace, pod: pod.metadata.name ?? "", podIP: pod.status?.podIP,
                        port: backend.port), let id = ids.first
                    {
                        model = id
                        modelCache[backend.deployment] = id
                    }
                }
                routeRevisions.append(
                    RevisionSignals(
                        route: routeName, requestClass: requestClass, revision: backend.deployment,
                        service: backend.service, weight: backend.weight, model: model,
                        runtime: RuntimeSignals.from(scrapes: scrapes, model: model),
                        rollout: rolloutSignals(backend.pods, rollout: rollout)))
            }
            if let probe, !routeRevisions.isEmpty {
                routeRevisions = await probe.measure(route: route, revisions: routeRevisions, backends: backends)
            }
            revisions += routeRevisions
        }
        return (revisions, warnings)
    }

    // MARK: - Objects

    /// Lists, turning an unreachable API server into one clear line.
    func list<T>(_ operation: () async throws -> T) async throws -> T {
        do {
            return try await operation()
        } catch let error as KubeAPIError {
            if error.isUnauthorized || error.isForbidden {
                throw CLIError("the API server refused the request (\(error.httpStatus)): \(error.status.message)")
            }
            throw CLIError("the API server answered \(error.httpStatus): \(error.status.message)")
        } catch {
            throw CLIError("cannot reach the API server at \(kube.configuration.server): \(error)")
        }
    }

    func readRoutes() async throws -> [HTTPRoute] {
        let routes = try await list {
            try await kube.resources(HTTPRoute.self, namespace: namespace).list().items
        }
        if let routeName {
            guard let route = routes.first(where: { $0.metadata.name == routeName }) else {
                let known = routes.compactMap(\.metadata.name).sorted()
                throw CLIError(
                    "HTTPRoute \(routeName) not found in namespace \(namespace)"
                        + (known.isEmpty ? "" : " (routes: \(known.joined(separator: ", ")))"))
            }
            return [route]
        }
        guard !routes.isEmpty else {
            throw CLIError("no HTTPRoute in namespace \(namespace): nothing to diagnose (use --namespace)")
        }
        return routes.sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
    }

    /// InferencePools of the namespace, read only when a route names one; none when the Inference Extension's
    /// CRD is not installed (each pool backendRef then warns that its pool is not found).
    func readPools(routes: [HTTPRoute], _ warnings: inout [String]) async -> [InferencePool] {
        guard routes.contains(where: { $0.spec.rules.contains { $0.backendRefs.contains(where: \.isInferencePool) } })
        else { return [] }
        do {
            return try await kube.resources(InferencePool.self, namespace: namespace).list().items
        } catch let error as KubeAPIError where error.isNotFound {
            warnings.append("InferencePools not served by this cluster (the Gateway API Inference Extension CRDs are not installed)")
            return []
        } catch {
            warnings.append("InferencePools not readable: \(error)")
            return []
        }
    }

    /// ModelRollouts of the namespace; none when the CRD is not installed.
    func readRollouts(_ warnings: inout [String]) async -> [ModelRollout] {
        do {
            let items = try await kube.dynamic(.modelRollouts, namespace: namespace).list().items
            return items.compactMap { try? ModelRollout.decode($0.raw).get() }
        } catch let error as KubeAPIError where error.isNotFound {
            return []
        } catch {
            warnings.append("ModelRollouts not readable: \(error)")
            return []
        }
    }

    /// The backends of every rule: each Service or InferencePool backendRef in this namespace, resolved to the
    /// Deployments whose pod template its selector matches (the revisions) and their pods (the backend's pods that
    /// ``RevisionPods/select(_:from:)`` gives the revision, as the controller counts them). A pool's pods are
    /// those its `matchLabels` select, on its first target port.
    func backends(
        of route: HTTPRoute, services: [Service], pools: [InferencePool] = [], deployments: [Deployment], pods: [Pod],
        warnings: inout [String]
    ) -> [Backend] {
        var out: [Backend] = []
        let routeName = route.metadata.name ?? ""
        for (index, rule) in route.spec.rules.enumerated() {
            for ref in rule.backendRefs {
                guard ref.isService || ref.isInferencePool, ref.namespace == nil || ref.namespace == namespace else {
                    warnings.append(
                        "route \(routeName): backend \(ref.name) is not a Service or an InferencePool in \(namespace)")
                    continue
                }
                let selector: [String: String]
                let port: Int
                if ref.isInferencePool {
                    guard let pool = pools.first(where: { $0.metadata.name == ref.name }) else {
                        warnings.append("route \(routeName): InferencePool \(ref.name) not found")
                        continue
                    }
                    selector = pool.spec.matchLabels
                    port = Int(pool.spec.targetPorts.first?.number ?? 8000)
                } else {
                    guard let service = services.first(where: { $0.metadata.name == ref.name }) else {
                        warnings.append("route \(routeName): Service \(ref.name) not found")
                        continue
                    }
                    selector = service.spec.selector ?? [:]
                    port = targetPort(ref: ref, service: service, pods: Self.selected(pods, by: selector))
                }
                let backendPods = Self.selected(pods, by: selector)
                let matched = deployments.filter { deployment in
                    let labels = deployment.spec.template.metadata?.labels ?? [:]
                    return !selector.isEmpty && selector.allSatisfy { labels[$0.key] == $0.value }
                }
                if matched.isEmpty {
                    out.append(Backend(route: route, ruleIndex: index, service: ref.name,
                                       weight: Int(ref.effectiveWeight), deployment: ref.name, pods: backendPods,
                                       port: port))
                }
                for deployment in matched {
                    let owned = RevisionPods.select(deployment, from: backendPods)
                    out.append(Backend(route: route, ruleIndex: index, service: ref.name,
                                       weight: Int(ref.effectiveWeight), deployment: deployment.metadata.name ?? "",
                                       pods: owned, port: port))
                }
            }
        }
        return out
    }

    /// The live pods a label selector selects (an empty selector selects none).
    static func selected(_ pods: [Pod], by selector: [String: String]) -> [Pod] {
        guard !selector.isEmpty else { return [] }
        return pods.filter { pod in
            let labels = pod.metadata.labels ?? [:]
            return selector.allSatisfy { labels[$0.key] == $0.value } && pod.metadata.deletionTimestamp == nil
        }
    }

    /// The pod port behind the backendRef: the Service port's numeric targetPort, else the named container
    /// port, else the backendRef port, else 8000 (vLLM's default).
    func targetPort(ref: HTTPBackendRef, service: Service, pods: [Pod]) -> Int {
        let ports = service.spec.ports
        let servicePort = ports.first { ref.port == nil || $0.port == ref.port } ?? ports.first
        if let target = servicePort?.targetPort {
            if let number = target.intValue { return Int(number) }
            if let name = target.stringValue {
                for pod in pods {
                    for container in pod.spec.containers {
                        if let port = container.ports?.first(where: { $0.name == name }) {
                            return Int(port.containerPort)
                        }
                    }
                }
            }
        }
        if let port = servicePort?.port { return Int(port) }
        return Int(ref.port ?? 8000)
    }

    /// Pod states, readiness delays and the ModelRollout's recent load times.
    func rolloutSignals(_ pods: [Pod], rollout: ModelRollout?) -> RolloutSignals {
        var signals = RolloutSignals(pods: pods.count)
        for pod in pods {
            let created = pod.metadata.creationTimestamp
            if pod.status?.isReady == true {
                signals.ready += 1
                let readyAt = pod.status?.conditions?.first { $0.type == "Ready" }?.lastTransitionTime
                if let created, let readyAt, readyAt >= created {
                    signals.readinessDelaySeconds.append(readyAt.timeIntervalSince(created))
                }
            } else if !["Failed", "Succeeded"].contains(pod.status?.phase ?? "") {
                signals.loading += 1
                if let created {
                    let age = max(0, now.timeIntervalSince(created))
                    signals.oldestLoadingSeconds = max(signals.oldestLoadingSeconds ?? 0, age)
                }
            }
        }
        if let status = rollout?.status {
            signals.recentLoadSeconds = status.loadTime?.recentSeconds ?? []
            signals.rolloutPhase = status.phase?.rawValue
        }
        return signals
    }
}
