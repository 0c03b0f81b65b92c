import Foundation
import KubeCore

/// The table printers of kube-apiserver's built-in kinds (`pkg/printers/internalversion/printers.go`), reduced to
/// the kinds the emulator serves. The server always prints the wide form; kubectl hides `priority != 0` columns.
enum BuiltinPrinters {
    static func printer(for resource: ResourceDescriptor) -> TablePrinter {
        switch (resource.group, resource.resource) {
        case ("", "pods"): return pods
        case ("apps", "deployments"): return deployments
        case ("apps", "replicasets"): return replicaSets
        case ("", "services"): return services
        case ("", "namespaces"): return namespaces
        case ("", "configmaps"): return configMaps
        case ("", "secrets"): return secrets
        case ("", "serviceaccounts"): return serviceAccounts
        case ("", "nodes"): return nodes
        case ("apiextensions.k8s.io", "customresourcedefinitions"): return customResourceDefinitions
        case ("coordination.k8s.io", "leases"): return leases
        case ("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "clusterroles"): return roles
        case ("rbac.authorization.k8s.io", "rolebindings"), ("rbac.authorization.k8s.io", "clusterrolebindings"):
            return roleBindings
        case ("", "events"): return events(modern: false)
        case ("events.k8s.io", "events"): return events(modern: true)
        default: return generic
        }
    }

    // MARK: - Helpers

    static func name(_ o: JSONValue) -> JSONValue { .string(o[path: ["metadata", "name"]]?.stringValue ?? "") }

    /// `translateTimestampSince`: a human age, or `<unknown>` for a missing timestamp.
    static func since(_ timestamp: JSONValue?, _ now: Date) -> String {
        guard let s = timestamp?.stringValue, let date = KubeTime.parse(s) else { return "<unknown>" }
        return KubeTime.humanAge(now.timeIntervalSince(date))
    }

    static func age(_ o: JSONValue, _ now: Date) -> JSONValue {
        .string(since(o[path: ["metadata", "creationTimestamp"]], now))
    }

    static func string(_ v: JSONValue?) -> String { v?.stringValue ?? "" }
    static func int(_ v: JSONValue?) -> Int64 { v?.intValue ?? 0 }
    static func array(_ v: JSONValue?) -> [JSONValue] { v?.arrayValue ?? [] }
    static func orNone(_ s: String) -> String { s.isEmpty ? "<none>" : s }

    /// `labels.FormatLabels`: `a=1,b=2` sorted by key, `<none>` when empty.
    static func formatLabels(_ v: JSONValue?) -> String {
        guard let o = v?.objectValue, !o.isEmpty else { return "<none>" }
        return o.keys.sorted().map { "\($0)=\(o[$0]?.stringValue ?? "")" }.joined(separator: ",")
    }

    /// `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key.
    static func formatSelector(_ v: JSONValue?) -> String {
        guard let sel = v?.objectValue else { return "" }
        var parts: [(String, String)] = []
        for (k, value) in sel["matchLabels"]?.objectValue ?? [:] {
            parts.append((k, "\(k)=\(value.stringValue ?? "")"))
        }
        for expr in sel["matchExpressions"]?.arrayValue ?? [] {
            let key = string(expr["key"])
            let values = array(expr["values"]).compactMap(\.stringValue).sorted().joined(separator: ",")
            switch string(expr["operator"]) {
            case "In": parts.append((key, "\(key) in (\(values))"))
            case "NotIn": parts.append((key, "\(key) notin (\(values))"))
            case "Exists": parts.append((key, key))
            case "DoesNotExist": parts.append((key, "!\(key)"))
            default: continue
            }
        }
        return parts.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: ",")
    }

    static func containerCells(_ podSpec: JSONValue?) -> [JSONValue] {
        let containers = array(podSpec?["containers"])
        return [
            .string(containers.map { string($0["name"]) }.joined(separator: ",")),
            .string(containers.map { string($0["image"]) }.joined(separator: ",")),
        ]
    }

    // MARK: - Generic and CRDs

    static let generic = TablePrinter(columns: [TableColumn.name, TableColumn.age]) { o, now in
        [name(o), age(o, now)]
    }

    static let customResourceDefinitions = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Created At", type: "date", description: TableColumn.creationTimestampDoc),
        ]
    ) { o, _ in
        let created = o[path: ["metadata", "creationTimestamp"]]?.stringValue.flatMap(KubeTime.parse)
        return [name(o), .string(created.map(KubeTime.format) ?? "0001-01-01T00:00:00Z")]
    }

    // MARK: - Pods

    static let pods = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Ready", description: "The aggregate readiness state of this pod for accepting traffic."),
            TableColumn("Status", description: "The aggregate status of the containers in this pod."),
            TableColumn(
                "Restarts",
                description: "The number of times the containers in this pod have been restarted and when the last "
                    + "container in this pod has restarted."),
            TableColumn.age,
            TableColumn(
                "IP", priority: 1,
                description: "podIP address allocated to the pod. Routable at least within the cluster. Empty if "
                    + "not yet allocated."),
            TableColumn(
                "Node", priority: 1,
                description: "NodeName indicates in which node this pod is scheduled. If empty, this pod is a "
                    + "candidate for scheduling by the scheduler defined in schedulerName."),
            TableColumn(
                "Nominated Node", priority: 1,
                description: "nominatedNodeName is set only when this pod preempts other pods on the node, but it "
                    + "cannot be scheduled right away as preemption victims receive their graceful termination "
                    + "periods."),
            TableColumn(
                "Readiness Gates", priority: 1,
                description: "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready "
                    + "when all its containers are ready AND all conditions specified in the readiness gates have "
                    + "status equal to \"True\""),
        ],
        cells: podCells)

    static func podCells(_ pod: JSONValue, _ now: Date) -> [JSONValue] {
        let spec = pod["spec"]
        let status = pod["status"]
        let totalContainers = array(spec?["containers"]).count
        var readyContainers = 0
        var restarts: Int64 = 0
        var lastRestart: Date?
        let phase = string(status?["phase"])
        var reason = string(status?["reason"]).isEmpty ? phase : string(status?["reason"])

        let initStatuses = array(status?["initContainerStatuses"])
        let initCount = array(spec?["initContainers"]).count
        var initializing = false
        for (i, c) in initStatuses.enumerated() {
            restarts += int(c["restartCount"])
            let state = c["state"]
            if let t = state?["terminated"], int(t["exitCode"]) == 0 { continue }
            if state?["running"] != nil, c["started"]?.boolValue == true,
                array(spec?["initContainers"]).first(where: { string($0["name"]) == string(c["name"]) })?[
                    "restartPolicy"]?.stringValue == "Always"
            {
                continue  // a started sidecar
            }
            if let t = state?["terminated"] {
                let r = string(t["reason"])
                if !r.isEmpty {
                    reason = "Init:" + r
                } else if int(t["signal"]) != 0 {
                    reason = "Init:Signal:\(int(t["signal"]))"
                } else {
                    reason = "Init:ExitCode:\(int(t["exitCode"]))"
                }
            } else if let w = state?["waiting"], !string(w["reason"]).isEmpty, string(w["reason"]) != "PodInitializing"
            {
                reason = "Init:" + string(w["reason"])
            } else {
                reason = "Init:\(i)/\(initCount)"
            }
            initializing = true
            break
        }
        let conditions = array(status?["conditions"])
        func conditionTrue(_ type: String) -> Bool {
            conditions.contains { string($0["type"]) == type && string($0["status"]) == "True" }
        }
        if !initializing || conditionTrue("Initialized") {
            restarts = 0
            var hasRunning = false
            for c in array(status?["containerStatuses"]).reversed() {
                restarts += int(c["restartCount"])
                if let finished = c[path: ["lastState", "terminated", "finishedAt"]]?.stringValue.flatMap(
                    KubeTime.parse)
                {
                    lastRestart = max(lastRestart ?? finished, finished)
                }
                let state = c["state"]
                if let w = state?["waiting"], !string(w["reason"]).isEmpty {
                    reason = string(w["reason"])
                } else if let t = state?["terminated"], !string(t["reason"]).isEmpty {
                    reason = string(t["reason"])
                } else if let t = state?["terminated"] {
                    reason = int(t["signal"]) != 0 ? "Signal:\(int(t["signal"]))" : "ExitCode:\(int(t["exitCode"]))"
                } else if c["ready"]?.boolValue == true, state?["running"] != nil {
                    hasRunning = true
                    readyContainers += 1
                }
            }
            if reason == "Completed" && hasRunning {
                reason = conditionTrue("Ready") ? "Running" : "NotReady"
            }
        }
        if pod[path: ["metadata", "deletionTimestamp"]] != nil {
            if string(status?["reason"]) == "NodeLost" {
                reason = "Unknown"
            } else if phase != "Succeeded" && phase != "Failed" {
                reason = "Terminating"
            }
        }
        var restartsText = String(restarts)
        if let lastRestart, restarts > 0 {
            restartsText += " (\(KubeTime.humanAge(now.timeIntervalSince(lastRestart))) ago)"
        }

        var podIP = string(array(status?["podIPs"]).first?["ip"])
        if podIP.isEmpty { podIP = string(status?["podIP"]) }
        let gates = array(spec?["readinessGates"])
        var gatesText = "<none>"
        if !gates.isEmpty {
            let trueCount = gates.filter { gate in
                conditions.first { string($0["type"]) == string(gate["conditionType"]) }.map {
                    string($0["status"]) == "True"
                } ?? false
            }.count
            gatesText = "\(trueCount)/\(gates.count)"
        }
        return [
            name(pod), .string("\(readyContainers)/\(totalContainers)"), .string(reason), .string(restartsText),
            age(pod, now), .string(orNone(podIP)), .string(orNone(string(spec?["nodeName"]))),
            .string(orNone(string(status?["nominatedNodeName"]))), .string(gatesText),
        ]
    }

    // MARK: - Workloads

    static let deployments = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Ready", description: "Number of the pod with ready state"),
            TableColumn(
                "Up-to-date",
                description: "Total number of non-terminated pods targeted by this deployment that have the desired "
                    + "template spec."),
            TableColumn(
                "Available",
                description: "Total number of available pods (ready for at least minReadySeconds) targeted by this "
                    + "deployment."),
            TableColumn.age,
            TableColumn("Containers", priority: 1, description: "Names of each container in the template."),
            TableColumn("Images", priority: 1, description: "Images referenced by each container in the template."),
            TableColumn(
                "Selector", priority: 1,
                description: "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be "
                    + "the ones affected by this deployment."),
        ]
    ) { d, now in
        let desired = d[path: ["spec", "replicas"]]?.intValue ?? 1
        let status = d["status"]
        return [
            name(d), .string("\(int(status?["readyReplicas"]))/\(desired)"), .int(int(status?["updatedReplicas"])),
            .int(int(status?["availableReplicas"])), age(d, now),
        ] + containerCells(d[path: ["spec", "template", "spec"]]) + [
            .string(formatSelector(d[path: ["spec", "selector"]]))
        ]
    }

    static let replicaSets = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Desired", description: "Number of desired pods."),
            TableColumn("Current", description: "Replicas is the most recently observed number of replicas."),
            TableColumn(
                "Ready",
                description: "readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition."),
            TableColumn.age,
            TableColumn("Containers", priority: 1, description: "Names of each container in the template."),
            TableColumn("Images", priority: 1, description: "Images referenced by each container in the template."),
            TableColumn("Selector", priority: 1, description: "Label selector for pods."),
        ]
    ) { rs, now in
        [
            name(rs), .int(rs[path: ["spec", "replicas"]]?.intValue ?? 1), .int(int(rs[path: ["status", "replicas"]])),
            .int(int(rs[path: ["status", "readyReplicas"]])), age(rs, now),
        ] + containerCells(rs[path: ["spec", "template", "spec"]])
            + [.string(formatSelector(rs[path: ["spec", "selector"]]))]
    }

    // MARK: - Core kinds

    static let services = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Type", description: "type determines how the Service is exposed."),
            TableColumn(
                "Cluster-IP",
                description: "clusterIP is the IP address of the service and is usually assigned randomly."),
            TableColumn(
                "External-IP",
                description: "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
                    + "traffic for this service."),
            TableColumn("Port(s)", description: "The list of ports that are exposed by this service."),
            TableColumn.age,
            TableColumn(
                "Selector", priority: 1,
                description: "Route service traffic to pods with label keys and values matching this selector."),
        ]
    ) { svc, now in
        let spec = svc["spec"]
        let type = string(spec?["type"]).isEmpty ? "ClusterIP" : string(spec?["type"])
        var clusterIP = string(array(spec?["clusterIPs"]).first)
        if clusterIP.isEmpty { clusterIP = string(spec?["clusterIP"]) }
        let externalIPs = array(spec?["externalIPs"]).compactMap(\.stringValue)
        let external: String
        switch type {
        case "ClusterIP", "NodePort":
            external = externalIPs.isEmpty ? "<none>" : externalIPs.joined(separator: ",")
        case "LoadBalancer":
            let ingress = array(svc[path: ["status", "loadBalancer", "ingress"]]).map {
                string($0["ip"]).isEmpty ? string($0["hostname"]) : string($0["ip"])
            }.filter { !$0.isEmpty }
            let all = ingress + externalIPs
            external = all.isEmpty ? "<pending>" : all.joined(separator: ",")
        case "ExternalName":
            external = string(spec?["externalName"])
        default:
            external = "<unknown>"
        }
        let ports = array(spec?["ports"]).map { p -> String in
            let proto = string(p["protocol"]).isEmpty ? "TCP" : string(p["protocol"])
            let nodePort = int(p["nodePort"])
            return nodePort > 0 ? "\(int(p["port"])):\(nodePort)/\(proto)" : "\(int(p["port"]))/\(proto)"
        }.joined(separator: ",")
        return [
            name(svc), .string(type), .string(orNone(clusterIP)), .string(external), .string(orNone(ports)),
            age(svc, now), .string(formatLabels(spec?["selector"])),
        ]
    }

    static let namespaces = TablePrinter(
        columns: [TableColumn.name, TableColumn("Status", description: "The status of the namespace"), TableColumn.age]
    ) { ns, now in
        [name(ns), .string(string(ns[path: ["status", "phase"]])), age(ns, now)]
    }

    static let configMaps = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Data", description: "Data contains the configuration data."),
            TableColumn.age,
        ]
    ) { cm, now in
        let count = (cm["data"]?.objectValue?.count ?? 0) + (cm["binaryData"]?.objectValue?.count ?? 0)
        return [name(cm), .int(Int64(count)), age(cm, now)]
    }

    static let secrets = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Type", description: "Used to facilitate programmatic handling of secret data."),
            TableColumn("Data", description: "Data contains the secret data."),
            TableColumn.age,
        ]
    ) { s, now in
        let keys = Set((s["data"]?.objectValue ?? [:]).keys).union((s["stringData"]?.objectValue ?? [:]).keys)
        let type = string(s["type"]).isEmpty ? "Opaque" : string(s["type"])
        return [name(s), .string(type), .int(Int64(keys.count)), age(s, now)]
    }

    static let serviceAccounts = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Secrets", description: "Secrets is a list of the secrets in the same namespace."),
            TableColumn.age,
        ]
    ) { sa, now in
        [name(sa), .int(Int64(array(sa["secrets"]).count)), age(sa, now)]
    }

    static let nodes = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Status", description: "The status of the node"),
            TableColumn("Roles", description: "The roles of the node"),
            TableColumn.age,
            TableColumn("Version", description: "Kubelet Version reported by the node."),
            TableColumn("Internal-IP", priority: 1, description: "List of addresses reachable to the node."),
            TableColumn("External-IP", priority: 1, description: "List of addresses reachable to the node."),
            TableColumn("OS-Image", priority: 1, description: "OS Image reported by the node."),
            TableColumn("Kernel-Version", priority: 1, description: "Kernel Version reported by the node."),
            TableColumn(
                "Container-Runtime", priority: 1, description: "Container Runtime Version reported by the node."),
        ]
    ) { node, now in
        let ready = array(node[path: ["status", "conditions"]]).first { string($0["type"]) == "Ready" }
        var status: String
        switch string(ready?["status"]) {
        case "True": status = "Ready"
        case "": status = "Unknown"
        case "Unknown": status = "NotReady"
        default: status = "NotReady"
        }
        if node[path: ["spec", "unschedulable"]]?.boolValue == true { status += ",SchedulingDisabled" }
        let roles = (node[path: ["metadata", "labels"]]?.objectValue ?? [:]).keys.compactMap { key -> String? in
            let prefix = "node-role.kubernetes.io/"
            guard key.hasPrefix(prefix) else { return nil }
            let role = String(key.dropFirst(prefix.count))
            return role.isEmpty ? nil : role
        }.sorted()
        let addresses = array(node[path: ["status", "addresses"]])
        func address(_ type: String) -> String {
            orNone(string(addresses.first { string($0["type"]) == type }?["address"]))
        }
        let info = node[path: ["status", "nodeInfo"]]
        return [
            name(node), .string(status), .string(roles.isEmpty ? "<none>" : roles.joined(separator: ",")),
            age(node, now), .string(string(info?["kubeletVersion"])), .string(address("InternalIP")),
            .string(address("ExternalIP")), .string(orNone(string(info?["osImage"]))),
            .string(orNone(string(info?["kernelVersion"]))), .string(orNone(string(info?["containerRuntimeVersion"]))),
        ]
    }

    static let leases = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn(
                "Holder", description: "holderIdentity contains the identity of the holder of a current lease."),
            TableColumn.age,
        ]
    ) { lease, now in
        [name(lease), .string(string(lease[path: ["spec", "holderIdentity"]])), age(lease, now)]
    }

    // MARK: - RBAC

    /// Role and ClusterRole: `NAME  CREATED AT`.
    static let roles = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Created At", type: "date", description: TableColumn.creationTimestampDoc),
        ]
    ) { role, _ in
        [name(role), .string(string(role[path: ["metadata", "creationTimestamp"]]))]
    }

    /// RoleBinding and ClusterRoleBinding: `NAME  ROLE  AGE` plus wide `USERS  GROUPS  SERVICEACCOUNTS`.
    static let roleBindings = TablePrinter(
        columns: [
            TableColumn.name,
            TableColumn("Role", description: "RoleRef is the reference to the role the binding grants."),
            TableColumn.age,
            TableColumn("Users", priority: 1, description: "Users in the binding"),
            TableColumn("Groups", priority: 1, description: "Groups in the binding"),
            TableColumn("ServiceAccounts", priority: 1, description: "ServiceAccounts in the binding"),
        ]
    ) { binding, now in
        let subjects = array(binding["subjects"])
        func names(_ kind: String) -> JSONValue {
            .string(subjects.filter { string($0["kind"]) == kind }.map { subject in
                kind == "ServiceAccount" ? "\(string(subject["namespace"])):\(string(subject["name"]))"
                    : string(subject["name"])
            }.joined(separator: ", "))
        }
        let role = "\(string(binding[path: ["roleRef", "kind"]]))/\(string(binding[path: ["roleRef", "name"]]))"
        return [name(binding), .string(role), age(binding, now), names("User"), names("Group"), names("ServiceAccount")]
    }

    // MARK: - Events

    /// Core `Event` columns; `events.k8s.io/v1` objects are mapped onto the core fields first.
    static func events(modern: Bool) -> TablePrinter {
        TablePrinter(
            columns: [
                TableColumn(
                    "Last Seen",
                    description: "The time at which the most recent occurrence of this event was recorded."),
                TableColumn(
                    "Type",
                    description: "Type of this event (Normal, Warning), new types could be added in the future"),
                TableColumn(
                    "Reason",
                    description: "This should be a short, machine understandable string that gives the reason for the "
                        + "transition into the object's current status."),
                TableColumn("Object", description: "The object that this event is about."),
                TableColumn(
                    "Subobject", priority: 1,
                    description: "If referring to a piece of an object instead of an entire object, this string "
                        + "should contain a valid JSON/Go field access statement, such as "
                        + "desiredState.manifest.containers[2]."),
                TableColumn(
                    "Source", priority: 1,
                    description:
                        "The component reporting this event. Should be a short machine understandable string."),
                TableColumn("Message", description: "A human-readable description of the status of this operation."),
                TableColumn(
                    "First Seen", priority: 1,
                    description:
                        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
                TableColumn("Count", priority: 1, description: "The number of times this event has occurred."),
                TableColumn("Name", format: "name", priority: 1, description: TableColumn.nameDoc),
            ]
        ) { e, now in
            eventCells(modern ? coreEvent(fromModern: e) : e, now)
        }
    }

    /// Maps `events.k8s.io/v1` field names onto the core `Event` names the printer reads.
    static func coreEvent(fromModern e: JSONValue) -> JSONValue {
        var core = e
        core["message"] = e["note"]
        core["involvedObject"] = e["regarding"]
        core["source"] = e["deprecatedSource"]
        core["firstTimestamp"] = e["deprecatedFirstTimestamp"]
        core["lastTimestamp"] = e["deprecatedLastTimestamp"]
        core["count"] = e["deprecatedCount"]
        return core
    }

    static func eventCells(_ e: JSONValue, _ now: Date) -> [JSONValue] {
        var first = since(e["firstTimestamp"], now)
        if e["firstTimestamp"]?.stringValue.flatMap(KubeTime.parse) == nil { first = since(e["eventTime"], now) }
        var last = since(e["lastTimestamp"], now)
        if e["lastTimestamp"]?.stringValue.flatMap(KubeTime.parse) == nil { last = first }
        var count = int(e["count"])
        if let series = e["series"]?.objectValue {
            last = since(series["lastObservedTime"], now)
            count = int(series["count"])
        } else if count == 0 {
            count = 1
        }
        let involved = e["involvedObject"]
        let kind = string(involved?["kind"]).lowercased()
        let target = string(involved?["name"]).isEmpty ? kind : "\(kind)/\(string(involved?["name"]))"
        let component =
            string(e[path: ["source", "component"]]).isEmpty
            ? string(e["reportingController"]) : string(e[path: ["source", "component"]])
        let host =
            string(e[path: ["source", "host"]]).isEmpty
            ? string(e["reportingInstance"]) : string(e[path: ["source", "host"]])
        let source = host.isEmpty ? component : "\(component), \(host)"
        return [
            .string(last), .string(string(e["type"])), .string(string(e["reason"])), .string(target),
            .string(string(involved?["fieldPath"])), .string(source),
            .string(string(e["message"]).trimmingCharacters(in: .whitespacesAndNewlines)), .string(first),
            .int(count), name(e),
        ]
    }
}
