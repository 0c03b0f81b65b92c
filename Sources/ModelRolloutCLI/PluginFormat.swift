import Foundation
import KubeCore
import ModelRolloutCore

/// Text rendering of a ModelRollout for `status` and `why` (pure: the object and the current time in, lines out).
enum PluginFormat {
    /// Left-aligned columns separated by two spaces, like kubectl's tables.
    static func table(_ rows: [[String]], indent: String = "  ") -> [String] {
        guard let columns = rows.map(\.count).max(), columns > 0 else { return [] }
        var widths = Array(repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                let last = index == row.count - 1
                line += last ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }
            return indent + line
        }
    }

    /// `step 2/3 (50%), hold 1m20s remaining` and the like; nil when no rollout runs.
    static func stepText(_ rollout: ModelRollout, now: Date) -> String? {
        let spec = rollout.spec
        guard let status = rollout.status, status.candidateDeployment != nil else { return nil }
        let total = spec.steps.count
        guard let step = status.currentStep, step >= 0, step < total else {
            let first = spec.steps.first.map { " (\($0.weight)%)" } ?? ""
            return "0/\(total): waiting for candidate model-ready capacity for step 1\(first)"
        }
        var text = "\(step + 1)/\(total) (\(spec.steps[step].weight)%)"
        if let hold = spec.steps[step].hold, hold.seconds > 0 {
            if let started = status.stepStartedAt {
                let remaining = hold.seconds - now.timeIntervalSince(started)
                text +=
                    remaining > 0
                    ? ", hold \(KubeDuration(seconds: remaining.rounded(.up))) remaining of \(hold)"
                    : ", hold of \(hold) over (waiting for a passing analysis or capacity)"
            } else {
                text += ", hold \(hold)"
            }
        } else {
            text += step == total - 1 ? ", last step" : ", no hold"
        }
        return text
    }

    static func age(_ date: Date?, now: Date) -> String {
        guard let date else { return "<unknown>" }
        return KubeTime.humanAge(max(0, now.timeIntervalSince(date)))
    }

    static func conditionRows(_ conditions: [Condition], now: Date) -> [String] {
        guard !conditions.isEmpty else { return ["  <none>"] }
        var rows = [["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"]]
        for condition in conditions {
            rows.append([
                condition.type, condition.status, condition.reason ?? "", age(condition.lastTransitionTime, now: now),
                condition.message ?? "",
            ])
        }
        return table(rows)
    }

    /// The `status NAME` report.
    static func status(_ rollout: ModelRollout, now: Date) -> [String] {
        let spec = rollout.spec
        let status = rollout.status ?? ModelRolloutStatus()
        var lines: [String] = []
        func field(_ name: String, _ value: String) {
            lines.append((name + ":").padding(toLength: 13, withPad: " ", startingAt: 0) + value)
        }
        field("Name", rollout.metadata.name ?? "")
        field("Namespace", rollout.metadata.namespace ?? "")
        field("Model", spec.model)
        field("Route", spec.route.name)
        if let stableBackend = status.stableService, !stableBackend.isEmpty {
            var backends = ["\(stableBackend) (stable)"]
            if let candidate = status.candidateService, !candidate.isEmpty, candidate != stableBackend {
                backends.append("\(candidate) (candidate)")
            }
            field("Backends", "\(spec.backendKind.noun) " + backends.joined(separator: ", "))
        }
        var phase = status.phase?.rawValue ?? "<not reconciled yet>"
        if spec.paused, status.phase != .paused { phase += " (spec.paused is true)" }
        if spec.mode == .observe { phase += " (mode Observe: nothing is patched)" }
        field("Phase", phase)
        field("Step", stepText(rollout, now: now) ?? "- (no rollout in progress)")
        if let message = status.message, !message.isEmpty { field("Message", message) }
        field("Desired", spec.deployment)
        let stable = status.stableDeployment ?? "<none yet>"
        let weights = status.weights
        if let candidate = status.candidateDeployment {
            field("Weights", "\(stable) \(weights?.stable ?? 0)%, \(candidate) \(weights?.candidate ?? 0)%")
        } else {
            field("Weights", "\(stable) \(weights?.stable ?? 0)%")
        }
        var rows = [["REVISION", "ROLE", "WEIGHT", "DESIRED", "MODEL-READY", "LOADING"]]
        if let replicas = status.replicas {
            rows.append(row(stable, "stable", weights?.stable, replicas.stable))
            if let candidate = status.candidateDeployment, let counts = replicas.candidate {
                rows.append(row(candidate, "candidate", weights?.candidate, counts))
            }
        }
        lines.append("Replicas:")
        lines += rows.count > 1 ? table(rows) : ["  <not observed yet>"]
        if let retired = status.retiredDeployment {
            field("Retiring", "\(retired) scales to zero at \(status.retireAt.map(KubeTime.format) ?? "?")")
        }
        if let failed = status.failedDeployment {
            field("Failed", "\(failed) (not retried until spec.deployment changes)")
        }
        if let why = status.failureMessage, status.phase == .failed || status.phase == .rolledBack
            || status.phase == .rollingBack
        {
            field("Cause", (status.failureReason.map { "\($0): " } ?? "") + why)
        }
        if let load = status.loadTime, load.samples > 0 {
            let parts = [
                load.p50.map { "p50 \($0)" }, load.p90.map { "p90 \($0)" }, load.last.map { "last \($0)" },
            ].compactMap { $0 }
            let samples = "\(load.samples) sample\(load.samples == 1 ? "" : "s")"
            field("Load times", parts.joined(separator: ", ") + " (\(samples))")
        } else {
            field("Load times", "no samples yet")
        }
        if let analysis = status.analysis, let verdict = analysis.lastVerdict {
            var text = "\(verdict.rawValue) at step \(analysis.step + 1), \(analysis.failures) failures"
            if let message = analysis.message, !message.isEmpty { text += ": \(message)" }
            field("Analysis", text)
        }
        if let promote = status.promote {
            let at = promote.step.map { "step \($0 + 1)" } ?? "before the first step"
            field("Promotion", "\(promote.mode.rawValue) requested at \(at), pending")
        }
        field("Age", age(rollout.metadata.creationTimestamp, now: now))
        lines.append("Conditions:")
        lines += conditionRows(status.conditions, now: now)
        return lines
    }

    static func row(_ name: String, _ role: String, _ weight: Int?, _ counts: RevisionReplicas) -> [String] {
        [name, role, weight.map { "\($0)%" } ?? "-", "\(counts.desired)", "\(counts.modelReady)", "\(counts.loading)"]
    }

    /// The `why NAME` report: decisions newest first with inputs, rule and result, then the conditions.
    static func why(_ rollout: ModelRollout, now: Date, limit: Int) -> [String] {
        let status = rollout.status ?? ModelRolloutStatus()
        var lines = [
            "modelrollout \(rollout.metadata.name ?? "") (namespace \(rollout.metadata.namespace ?? "")): "
                + "phase \(status.phase?.rawValue ?? "<not reconciled yet>")"
        ]
        if let message = status.message, !message.isEmpty { lines.append("  \(message)") }
        if let why = status.failureMessage, status.phase == .failed || status.phase == .rolledBack
            || status.phase == .rollingBack
        {
            lines.append("  cause (\(status.failureReason ?? "rollback")): \(why)")
        }
        let decisions = Array(status.decisions.reversed().prefix(limit))
        lines.append("Decisions (newest first, \(decisions.count) of \(status.decisions.count)):")
        if decisions.isEmpty { lines.append("  <none>") }
        for decision in decisions {
            lines.append(
                "  \(KubeTime.format(decision.time)) (\(age(decision.time, now: now)) ago)  \(decision.kind.rawValue)  "
                    + "rule=\(decision.rule)  result=\(decision.result)")
            if !decision.message.isEmpty { lines.append("      \(decision.message)") }
            if !decision.inputs.isEmpty {
                let inputs = decision.inputs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                lines.append("      inputs: " + inputs.joined(separator: ", "))
            }
        }
        lines.append("Conditions:")
        lines += conditionRows(status.conditions, now: now)
        return lines
    }

    /// `why --json`: the decisions newest first and the conditions, as the API stores them.
    static func whyJSON(raw: JSONValue, limit: Int) -> JSONValue {
        let decisions = raw[path: ["status", "decisions"]]?.arrayValue ?? []
        return [
            "name": raw[path: ["metadata", "name"]] ?? .null,
            "namespace": raw[path: ["metadata", "namespace"]] ?? .null,
            "phase": raw[path: ["status", "phase"]] ?? .null,
            "message": raw[path: ["status", "message"]] ?? .null,
            "decisions": .array(Array(decisions.reversed().prefix(limit))),
            "conditions": raw[path: ["status", "conditions"]] ?? .array([]),
        ]
    }
}
