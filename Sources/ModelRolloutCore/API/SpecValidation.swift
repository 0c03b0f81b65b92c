import Foundation
import KubeCore

/// One problem of a `ModelRollout` spec, worded like an apimachinery field error: `field` is the path
/// (`spec.steps[2].weight`), `message` the rest (`Invalid value: 40: must be greater than ...`).
public struct SpecProblem: Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// `spec.steps[2].weight: Invalid value: 40: must be greater than the previous step's weight (50)`.
    public var description: String { "\(field): \(message)" }

    static func required(_ field: String, _ detail: String? = nil) -> SpecProblem {
        SpecProblem(field: field, message: "Required value" + (detail.map { ": " + $0 } ?? ""))
    }

    static func invalid(_ field: String, _ value: String, _ detail: String) -> SpecProblem {
        SpecProblem(field: field, message: "Invalid value: \(value): \(detail)")
    }

    static func invalid(_ field: String, string value: String, _ detail: String) -> SpecProblem {
        invalid(field, quoted(value), detail)
    }

    static func invalid(_ field: String, number value: Double, _ detail: String) -> SpecProblem {
        let text = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        return invalid(field, text, detail)
    }

    /// Go's `%q` for the common cases: quotes and backslashes escaped.
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

// MARK: - Validation of what the CRD schema cannot catch

extension ModelRolloutSpec {
    /// The problems of this spec, in field order; empty when it is valid.
    ///
    /// Covers what the CRD schema cannot express (strictly increasing weights ending at 100, minReplicas ≤
    /// maxReplicas, a compiling `loadedPattern`, name rules) and repeats the schema's bounds, because a spec may
    /// reach the controller without having passed the schema (a cluster with an older CRD, a test).
    public func validate() -> [SpecProblem] {
        var problems: [SpecProblem] = []
        problems += validateNames()
        problems += validateRuntime()
        if readinessTimeout.seconds <= 0 {
            problems.append(
                .invalid("spec.readinessTimeout", string: readinessTimeout.description, "must be greater than zero"))
        }
        problems += validateDurationBounds()
        problems += validateSteps()
        problems += validateAnalysis()
        problems += validateAutoscaling()
        return problems
    }

    private func validateNames() -> [SpecProblem] {
        var problems: [SpecProblem] = []
        if model.trimmingCharacters(in: .whitespaces).isEmpty { problems.append(.required("spec.model")) }
        if deployment.isEmpty {
            problems.append(.required("spec.deployment"))
        } else if let problem = KubeNames.dnsSubdomainProblem(deployment) {
            problems.append(.invalid("spec.deployment", string: deployment, problem))
        }
        if let service, !service.isEmpty {
            if let problem = KubeNames.dns1035LabelProblem(service) {
                problems.append(.invalid("spec.service", string: service, problem))
            }
        } else if backendKind == .service, !deployment.isEmpty, KubeNames.dnsSubdomainProblem(deployment) == nil,
            KubeNames.dns1035LabelProblem(deployment) != nil
        {
            problems.append(
                .required(
                    "spec.service",
                    "the deployment name \(SpecProblem.quoted(deployment)) is not a valid Service name, "
                        + "so the Service must be named"))
        }
        if let inferencePool, !inferencePool.isEmpty {
            if let problem = KubeNames.dnsSubdomainProblem(inferencePool) {
                problems.append(.invalid("spec.inferencePool", string: inferencePool, problem))
            }
            if let service, !service.isEmpty {
                problems.append(
                    .invalid(
                        "spec.inferencePool", string: inferencePool,
                        "cannot be set together with spec.service: the route's backends are either Services or "
                            + "InferencePools"))
            }
        }
        if route.name.isEmpty {
            problems.append(.required("spec.route.name"))
        } else if let problem = KubeNames.dnsSubdomainProblem(route.name) {
            problems.append(.invalid("spec.route.name", string: route.name, problem))
        }
        if let namespace = route.namespace, !namespace.isEmpty, let problem = KubeNames.dns1123LabelProblem(namespace) {
            problems.append(.invalid("spec.route.namespace", string: namespace, problem))
        }
        return problems
    }

    private func validateRuntime() -> [SpecProblem] {
        var problems: [SpecProblem] = []
        if !(1...65535).contains(runtime.port) {
            problems.append(.invalid("spec.runtime.port", "\(runtime.port)", "must be between 1 and 65535, inclusive"))
        }
        if let container = runtime.container, !container.isEmpty,
            let problem = KubeNames.dns1123LabelProblem(container)
        {
            problems.append(.invalid("spec.runtime.container", string: container, problem))
        }
        for (field, path) in [("modelsPath", runtime.modelsPath), ("metricsPath", runtime.metricsPath)]
        where !path.hasPrefix("/") {
            problems.append(.invalid("spec.runtime.\(field)", string: path, "must be an absolute path (start with /)"))
        }
        if let pattern = runtime.loadedPattern, !pattern.isEmpty {
            do {
                _ = try NSRegularExpression(pattern: pattern)
            } catch {
                problems.append(
                    .invalid("spec.runtime.loadedPattern", string: pattern, "must be a valid regular expression"))
            }
        }
        return problems
    }

    /// The longest duration a spec may set (365 days): the planner turns durations into dates (holds, timeouts,
    /// `retireAt`), which must stay representable in the status.
    public static let maximumDuration = KubeDuration(seconds: 365 * 24 * 3600)

    private func validateDurationBounds() -> [SpecProblem] {
        var durations: [(String, KubeDuration?)] = [
            ("spec.readinessTimeout", readinessTimeout), ("spec.analysis.interval", analysis.interval),
            ("spec.analysis.ttftP95", analysis.ttftP95), ("spec.analysis.queueWaitP95", analysis.queueWaitP95),
            ("spec.autoscaling.scaleDownDelay", autoscaling.scaleDownDelay),
            ("spec.autoscaling.coldStart.fallback", autoscaling.coldStart.fallback),
        ]
        for (index, step) in steps.enumerated() { durations.append(("spec.steps[\(index)].hold", step.hold)) }
        return durations.compactMap { field, duration in
            guard let duration, duration > Self.maximumDuration else { return nil }
            return .invalid(field, string: duration.description, "must be at most \(Self.maximumDuration)")
        }
    }

    private func validateSteps() -> [SpecProblem] {
        guard !steps.isEmpty else { return [.required("spec.steps", "at least one step is required")] }
        var problems: [SpecProblem] = []
        if steps.count > 20 {
            problems.append(
                SpecProblem(field: "spec.steps", message: "Too many: \(steps.count): must have at most 20 items"))
        }
        var previous: Int?
        for (index, step) in steps.enumerated() {
            let field = "spec.steps[\(index)].weight"
            if !(1...100).contains(step.weight) {
                problems.append(.invalid(field, "\(step.weight)", "must be between 1 and 100, inclusive"))
            } else if let previous, step.weight <= previous {
                problems.append(
                    .invalid(field, "\(step.weight)", "must be greater than the previous step's weight (\(previous))"))
            }
            if (1...100).contains(step.weight) { previous = max(previous ?? 0, step.weight) }
        }
        if let last = steps.last, last.weight != 100, (1...100).contains(last.weight) {
            problems.append(
                .invalid(
                    "spec.steps[\(steps.count - 1)].weight", "\(last.weight)", "the last step's weight must be 100"))
        }
        return problems
    }

    private func validateAnalysis() -> [SpecProblem] {
        var problems: [SpecProblem] = []
        if analysis.interval.seconds <= 0 {
            problems.append(
                .invalid("spec.analysis.interval", string: analysis.interval.description, "must be greater than zero"))
        }
        if analysis.minSamples < 1 {
            problems.append(
                .invalid("spec.analysis.minSamples", "\(analysis.minSamples)", "must be greater than or equal to 1"))
        }
        if analysis.failureLimit < 1 {
            problems.append(
                .invalid(
                    "spec.analysis.failureLimit", "\(analysis.failureLimit)", "must be greater than or equal to 1"))
        }
        if let ratio = analysis.ttftRatio, !(ratio >= 1) {
            problems.append(.invalid("spec.analysis.ttftRatio", number: ratio, "must be greater than or equal to 1"))
        }
        if let rate = analysis.maxErrorRate, !(0...1).contains(rate) {
            problems.append(.invalid("spec.analysis.maxErrorRate", number: rate, "must be between 0 and 1, inclusive"))
        }
        return problems
    }

    private func validateAutoscaling() -> [SpecProblem] {
        let a = autoscaling
        var problems: [SpecProblem] = []
        if a.minReplicas < 0 {
            problems.append(
                .invalid("spec.autoscaling.minReplicas", "\(a.minReplicas)", "must be greater than or equal to 0"))
        }
        if a.maxReplicas < 1 {
            problems.append(
                .invalid("spec.autoscaling.maxReplicas", "\(a.maxReplicas)", "must be greater than or equal to 1"))
        }
        if a.minReplicas >= 0, a.maxReplicas >= 1, a.minReplicas > a.maxReplicas {
            problems.append(
                .invalid(
                    "spec.autoscaling.minReplicas", "\(a.minReplicas)",
                    "must be less than or equal to spec.autoscaling.maxReplicas (\(a.maxReplicas))"))
        }
        if !(a.targetWaitingPerReplica > 0) {
            problems.append(
                .invalid(
                    "spec.autoscaling.targetWaitingPerReplica", number: a.targetWaitingPerReplica,
                    "must be greater than 0"))
        }
        if !(a.targetUtilization > 0 && a.targetUtilization <= 1) {
            problems.append(
                .invalid(
                    "spec.autoscaling.targetUtilization", number: a.targetUtilization,
                    "must be greater than 0 and at most 1"))
        }
        if let throughput = a.replicaThroughput, !(throughput > 0) {
            problems.append(
                .invalid("spec.autoscaling.replicaThroughput", number: throughput, "must be greater than 0"))
        }
        let strategy = self.strategy
        switch strategy.maxSurge {
        case .replicas(let n) where !(0...10_000).contains(n):
            problems.append(.invalid("spec.strategy.maxSurge", "\(n)", "must be between 0 and 10000 pods, inclusive"))
        case .percent(let n) where !(0...1000).contains(n):
            problems.append(
                .invalid("spec.strategy.maxSurge", string: "\(n)%", "must be between 0% and 1000%, inclusive"))
        default: break
        }
        if !(strategy.maxUtilization > 0 && strategy.maxUtilization <= 1) {
            problems.append(
                .invalid(
                    "spec.strategy.maxUtilization", number: strategy.maxUtilization,
                    "must be greater than 0 and at most 1"))
        }
        if !(1...100).contains(a.coldStart.percentile) {
            problems.append(
                .invalid(
                    "spec.autoscaling.coldStart.percentile", "\(a.coldStart.percentile)",
                    "must be between 1 and 100, inclusive"))
        }
        return problems
    }
}

// MARK: - Kubernetes name rules

/// The name rules of `k8s.io/apimachinery/pkg/util/validation`, with its wording.
enum KubeNames {
    static let dns1123LabelHelp =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
        + "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1035LabelHelp =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        + "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
        + "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

    private static func isLowerAlnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) }
    private static func isLower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    static func isLabel(_ s: Substring) -> Bool {
        let bytes = Array(s.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else {
            return false
        }
        return bytes.allSatisfy { isLowerAlnum($0) || $0 == 0x2D }
    }

    /// Why `s` is not a DNS-1123 subdomain (object names such as Deployments and HTTPRoutes), or nil.
    static func dnsSubdomainProblem(_ s: String) -> String? {
        if s.utf8.count > 253 { return "must be no more than 253 characters" }
        let ok = s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isLabel)
        return ok ? nil : LabelSelector.dnsSubdomainHelp
    }

    /// Why `s` is not a DNS-1123 label (namespaces, container names), or nil.
    static func dns1123LabelProblem(_ s: String) -> String? {
        if s.utf8.count > 63 { return "must be no more than 63 characters" }
        return isLabel(Substring(s)) ? nil : dns1123LabelHelp
    }

    /// Why `s` is not a DNS-1035 label (Service names), or nil.
    static func dns1035LabelProblem(_ s: String) -> String? {
        if s.utf8.count > 63 { return "must be no more than 63 characters" }
        guard let first = s.utf8.first, isLower(first), isLabel(Substring(s)) else { return dns1035LabelHelp }
        return nil
    }
}

// MARK: - Decoding with one clear message

/// Why a `ModelRollout` could not be decoded: the field (`spec.steps[1].hold`) and what is wrong with it.
public struct SpecDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// `spec.readinessTimeout: Invalid value: "soon": invalid duration ...`.
    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

extension ModelRollout {
    /// Decodes a `ModelRollout` from its JSON; a failure names the field and the offending value.
    public static func decode(_ json: JSONValue) -> Result<ModelRollout, SpecDecodeError> {
        guard json.objectValue != nil else {
            return .failure(SpecDecodeError(field: "", message: "expected a JSON object, got \(json.typeName)"))
        }
        do {
            return .success(try KubeJSON.fromJSONValue(ModelRollout.self, json))
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
                let fractional = Self.firstFractionalInteger(in: json)
            {
                // Foundation on Linux reports a fraction in an integer field without its coding path.
                return .failure(fractional)
            }
            return .failure(Self.describe(error, in: json))
        } catch {
            return .failure(SpecDecodeError(field: "", message: "\(error)"))
        }
    }

    static func describe(_ error: DecodingError, in json: JSONValue) -> SpecDecodeError {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce(into: "") { text, key in
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
        }
        func value(at keys: [any CodingKey]) -> JSONValue? {
            var current: JSONValue? = json
            for key in keys {
                if let index = key.intValue {
                    guard let array = current?.arrayValue, array.indices.contains(index) else { return nil }
                    current = array[index]
                } else {
                    current = current?[key.stringValue]
                }
            }
            return current
        }
        func rendered(_ v: JSONValue?) -> String {
            guard let v else { return "null" }
            if let s = v.stringValue { return SpecProblem.quoted(s) }
            return v.serialized()
        }
        switch error {
        case .typeMismatch(let type, let context):
            let actual = value(at: context.codingPath)
            return SpecDecodeError(
                field: path(context.codingPath),
                message: "Invalid value: \(rendered(actual)): must be of type \(Self.jsonTypeName(type)), "
                    + "not \(actual?.typeName ?? "null")")
        case .valueNotFound(let type, let context):
            return SpecDecodeError(
                field: path(context.codingPath),
                message: "Required value: must be of type \(Self.jsonTypeName(type)), not null")
        case .keyNotFound(let key, let context):
            return SpecDecodeError(field: path(context.codingPath + [key]), message: "Required value")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            guard !context.codingPath.isEmpty else {
                return SpecDecodeError(field: "", message: context.debugDescription)
            }
            let actual = value(at: context.codingPath)
            if context.debugDescription.hasPrefix("Cannot initialize") {
                let supported = Self.supportedValues(field).map(SpecProblem.quoted).joined(separator: ", ")
                return SpecDecodeError(
                    field: field,
                    message: "Unsupported value: \(rendered(actual))"
                        + (supported.isEmpty ? "" : ": supported values: \(supported)"))
            }
            return SpecDecodeError(
                field: field, message: "Invalid value: \(rendered(actual)): \(context.debugDescription)")
        @unknown default:
            return SpecDecodeError(field: "", message: "\(error)")
        }
    }

    /// The integer-typed fields of a ModelRollout (`[]` stands for every element of an array).
    static let integerFields: [[String]] = [
        ["spec", "runtime", "port"], ["spec", "steps", "[]", "weight"], ["spec", "analysis", "minSamples"],
        ["spec", "analysis", "failureLimit"], ["spec", "autoscaling", "minReplicas"],
        ["spec", "autoscaling", "maxReplicas"], ["spec", "autoscaling", "coldStart", "percentile"],
        ["status", "observedGeneration"], ["status", "currentStep"], ["status", "stableReplicasAtStart"],
        ["status", "weights", "stable"], ["status", "weights", "candidate"], ["status", "loadTime", "samples"],
        ["status", "analysis", "step"], ["status", "analysis", "failures"],
    ]
        + ["stable", "candidate"].flatMap { side in
            ["desired", "modelReady", "loading"].map { ["status", "replicas", side, $0] }
        }

    /// The first integer field holding a number with a fraction, as a decoding error.
    static func firstFractionalInteger(in json: JSONValue) -> SpecDecodeError? {
        func visit(_ value: JSONValue, _ rest: ArraySlice<String>, _ field: String) -> SpecDecodeError? {
            guard let key = rest.first else {
                if case .double = value, value.intValue == nil {
                    return SpecDecodeError(
                        field: field,
                        message: "Invalid value: \(value.serialized()): must be of type integer, not number")
                }
                return nil
            }
            if key == "[]" {
                for (index, element) in (value.arrayValue ?? []).enumerated() {
                    if let found = visit(element, rest.dropFirst(), field + "[\(index)]") { return found }
                }
                return nil
            }
            guard let child = value[key] else { return nil }
            return visit(child, rest.dropFirst(), field.isEmpty ? key : field + "." + key)
        }
        for path in integerFields {
            if let found = visit(json, path[...], "") { return found }
        }
        return nil
    }

    /// The allowed values of the enum-typed fields, for "Unsupported value" messages.
    static func supportedValues(_ field: String) -> [String] {
        switch field {
        case "spec.runtime.kind": return RuntimeKind.allCases.map(\.rawValue)
        case "spec.mode": return RolloutMode.allCases.map(\.rawValue)
        case "status.phase": return RolloutPhase.allCases.map(\.rawValue)
        default: return []
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is KubeDuration.Type: return "string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "integer"
        case is Double.Type: return "number"
        case is Bool.Type: return "boolean"
        case is [Any].Type: return "array"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array<") { return "array" }
            if name.hasPrefix("Dictionary<") { return "object" }
            return "object"
        }
    }
}
