import ArgumentParser
import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore

/// `status NAME`: phase, step and hold remaining, weights, replicas per revision, load times, conditions, age.
struct PluginStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show where a ModelRollout is: phase, step, weights, replicas, load times.")

    @OptionGroup var connection: PluginConnectionOptions

    @Argument(help: "Name of the ModelRollout.")
    var name: String

    @Flag(help: "Print the object's status as JSON.")
    var json = false

    func run() async throws {
        let (raw, rollout) = try await connection.withSession { try await $0.get(name) }
        if json {
            Console.line((raw["status"] ?? .object([:])).serialized(pretty: true))
        } else {
            for line in PluginFormat.status(rollout, now: Date()) { Console.line(line) }
        }
    }
}

/// `why NAME`: the recent decisions (newest first) with their inputs, rule and result, and the conditions.
struct PluginWhyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why", abstract: "Explain a ModelRollout: recent decisions with their inputs, and conditions.")

    @OptionGroup var connection: PluginConnectionOptions

    @Argument(help: "Name of the ModelRollout.")
    var name: String

    @Option(help: ArgumentHelp("Show at most this many decisions.", valueName: "n"))
    var limit = ModelRolloutStatus.decisionLimit

    @Flag(help: "Print {name, namespace, phase, message, decisions (newest first), conditions} as JSON.")
    var json = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        let (raw, rollout) = try await connection.withSession { try await $0.get(name) }
        if json {
            Console.line(PluginFormat.whyJSON(raw: raw, limit: limit).serialized(pretty: true))
        } else {
            for line in PluginFormat.why(rollout, now: Date(), limit: limit) { Console.line(line) }
        }
    }
}

/// `promote NAME [--full]`: asks the controller to end the current step's hold (or skip to 100 %).
struct PluginPromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "End the current step's hold and move to the next step (--full: skip to 100 % and promote).",
        discussion: """
            Writes status.promote {mode, requestedAt, step} with a merge patch of the status subresource. The \
            controller honours it only while the rollout is Progressing at that step and moves weight only onto \
            model-ready capacity: the request stays pending until the candidate's model-ready replicas carry the \
            next share. Otherwise the controller clears it and records why (see `why NAME`).
            """)

    @OptionGroup var connection: PluginConnectionOptions

    @Argument(help: "Name of the ModelRollout.")
    var name: String

    @Flag(help: "Skip the remaining steps: 100 % to the candidate and promotion (still capacity-gated).")
    var full = false

    func run() async throws {
        let name = self.name
        let full = self.full
        let lines: [String] = try await connection.withSession { session in
            let (_, rollout) = try await session.get(name)
            let status = rollout.status ?? ModelRolloutStatus()
            let steps = rollout.spec.steps
            let label = "modelrollout \"\(name)\""
            let step = status.currentStep
            let mode: PromoteMode = full ? .full : .step
            let destination: ManualPromotion.Target
            switch ManualPromotion.evaluate(
                mode: mode, requestedStep: step, status: status, paused: rollout.spec.paused, stepCount: steps.count)
            {
            case .success(let target): destination = target
            case .failure(let refusal):
                switch refusal {
                case .paused:
                    throw CLIError("\(label) is Paused: resume it first (`kubectl modelrollout resume \(name)`)")
                case .notInProgress:
                    throw CLIError("\(label): \(refusal); change spec.deployment to start one")
                case .noCandidate:
                    throw CLIError("\(label): \(refusal); try again in a moment")
                case .noStepYet:
                    throw CLIError(
                        "\(label) has not applied its first step yet (it waits for "
                            + "\(status.candidateDeployment ?? "the candidate")'s model-ready capacity); "
                            + "`promote --full` goes straight to 100 % once capacity allows")
                case .rollingBack, .stale:
                    throw CLIError("\(label): \(refusal)")
                }
            }
            let candidate = status.candidateDeployment ?? ""
            let request = try KubeJSON.toJSONValue(PromoteRequest(mode: mode, requestedAt: Date(), step: step))
            try await session.mergePatch(name, ["status": ["promote": request]], status: true)
            func describe(_ index: Int?) -> String {
                guard let index, index >= 0, index < steps.count else { return "before the first step" }
                return "step \(index + 1)/\(steps.count) (\(steps[index].weight)%)"
            }
            var lines: [String] = []
            if let previous = status.promote {
                lines.append("replaced a pending \(previous.mode.rawValue) promotion")
            }
            let target: String
            switch destination {
            case .step(let index) where index < steps.count - 1:
                target = describe(index) + " without waiting for the hold"
            default:
                target = "100% on \(candidate) and promotion"
            }
            lines.append("\(label) (namespace \(session.namespace)): promotion requested")
            lines.append("  changed: status.promote = \(request.serialized())")
            lines.append("  \(describe(step)) -> \(target)")
            lines.append(
                "  the controller moves weight once \(candidate)'s model-ready replicas carry it; "
                    + "`kubectl modelrollout why \(name)` shows the result")
            return lines
        }
        for line in lines { Console.line(line) }
    }
}

/// `abort NAME`: sets spec.deployment (and spec.service or spec.inferencePool) back to the stable revision.
struct PluginAbortCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort",
        abstract:
            "Abort the rollout in progress: spec.deployment (and spec.service or spec.inferencePool) back to the "
            + "stable revision.")

    @OptionGroup var connection: PluginConnectionOptions

    @Argument(help: "Name of the ModelRollout.")
    var name: String

    func run() async throws {
        let name = self.name
        let lines: [String] = try await connection.withSession { session in
            let (raw, rollout) = try await session.get(name)
            let status = rollout.status ?? ModelRolloutStatus()
            let spec = rollout.spec
            let label = "modelrollout \"\(name)\""
            guard let stable = status.stableDeployment, !stable.isEmpty else {
                throw CLIError("\(label) has no stable revision yet (the controller has not adopted the route)")
            }
            guard spec.deployment != stable else {
                throw CLIError(
                    "\(label) has no rollout in progress: spec.deployment is already the stable revision \(stable)")
            }
            if status.phase == .rolledBack || status.phase == .failed, status.failedDeployment == spec.deployment {
                throw CLIError(
                    "\(label) has no rollout in progress: \(spec.deployment) was already rolled back; set "
                        + "spec.deployment to the revision you want")
            }
            var patch: [String: JSONValue] = ["deployment": .string(stable)]
            var changes = ["spec.deployment \(spec.deployment) -> \(stable)"]
            // The candidate's backend (spec.service or spec.inferencePool) goes back to the stable one too.
            for field in ["service", "inferencePool"] {
                guard let current = raw[path: ["spec", field]]?.stringValue, !current.isEmpty else { continue }
                let stableBackend = status.stableService ?? stable
                if current != stableBackend {
                    patch[field] = .string(stableBackend)
                    changes.append("spec.\(field) \(current) -> \(stableBackend)")
                }
            }
            try await session.mergePatch(name, ["spec": .object(patch)])
            return [
                "\(label) (namespace \(session.namespace)): rollout of \(spec.deployment) aborted",
                "  changed: " + changes.joined(separator: ", "),
                "  the controller moves traffic back to \(stable) as its capacity allows and scales "
                    + "\(spec.deployment) to zero",
            ]
        }
        for line in lines { Console.line(line) }
    }
}

/// `pause NAME`: spec.paused = true.
struct PluginPauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Pause a ModelRollout (spec.paused: true): nothing is patched until resumed.")

    @OptionGroup var connection: PluginConnectionOptions

    @Argument(help: "Name of the ModelRollout.")
    var name: String

    func run() async throws {
        try await PluginPaused.set(true, name: name, connection: connection)
    }
}

/// `resume NAME`: spec.paused = false.
struct PluginResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Resume a paused ModelRollout (spec.paused: false).")

    @OptionGroup var connection: PluginConnectionOptions

    @Argument(help: "Name of the ModelRollout.")
    var name: String

    func run() async throws {
        try await PluginPaused.set(false, name: name, connection: connection)
    }
}

enum PluginPaused {
    static func set(_ paused: Bool, name: String, connection: PluginConnectionOptions) async throws {
        let lines: [String] = try await connection.withSession { session in
            let (_, rollout) = try await session.get(name)
            let label = "modelrollout \"\(name)\" (namespace \(session.namespace))"
            let phase = rollout.status?.phase?.rawValue ?? "not reconciled yet"
            if rollout.spec.paused == paused {
                let state = paused ? "paused" : "running"
                return ["\(label) is already \(state) (spec.paused: \(paused)); nothing changed"]
            }
            try await session.mergePatch(name, ["spec": ["paused": .bool(paused)]])
            return [
                "\(label) \(paused ? "paused" : "resumed") (phase \(phase))",
                "  changed: spec.paused \(!paused) -> \(paused)",
            ]
        }
        for line in lines { Console.line(line) }
    }
}
