import ArgumentParser
import Foundation
import KubeClient
import KubeCore
import ModelRolloutCore

/// `modelrollout plugin …`: the kubectl plugin's commands under the main binary.
struct PluginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract: "The kubectl plugin: status, why, promote, abort, pause and resume a ModelRollout.",
        discussion: PluginDispatch.discussion,
        subcommands: PluginDispatch.subcommands
    )
}

/// `kubectl-modelrollout` (the same binary under that name, found by kubectl on PATH): `kubectl modelrollout …`.
public struct KubectlModelRolloutCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kubectl-modelrollout",
        abstract: "kubectl plugin for ModelRollouts: status, why, promote, abort, pause, resume.",
        discussion: PluginDispatch.discussion,
        subcommands: PluginDispatch.subcommands
    )

    public init() {}
}

/// How the binary decides it runs as the kubectl plugin, and how plugin arguments are normalised.
public enum PluginDispatch {
    /// The executable name kubectl looks for on PATH (`kubectl modelrollout` runs `kubectl-modelrollout`).
    public static let executableName = "kubectl-modelrollout"

    static let subcommands: [any ParsableCommand.Type] = [
        PluginStatusCommand.self, PluginWhyCommand.self, PluginPromoteCommand.self, PluginAbortCommand.self,
        PluginPauseCommand.self, PluginResumeCommand.self,
    ]

    static let discussion = """
        Install: put the modelrollout binary on PATH under the name kubectl-modelrollout (a symlink or a copy), \
        then run `kubectl modelrollout status NAME`. Global flags as in kubectl: --kubeconfig, --context, \
        -n/--namespace (default: the namespace of the kubeconfig context).
        """

    /// Whether `argv[0]` names the plugin executable (any directory; a symlink counts by its own name).
    public static func isPluginInvocation(_ argv0: String) -> Bool {
        let name = (argv0 as NSString).lastPathComponent
        return name == executableName || name == executableName + ".exe"
    }

    /// The global flags (`--kubeconfig`, `--context`, `-n`/`--namespace`, in any of their `=`/attached forms)
    /// that kubectl users put before the subcommand are moved after it, where each subcommand declares them.
    public static func normalise(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if ["--kubeconfig", "--context", "--namespace", "-n"].contains(argument) {
                leading.append(argument)
                if index + 1 < arguments.count { leading.append(arguments[index + 1]) }
                index += 2
            } else if argument.hasPrefix("--kubeconfig=") || argument.hasPrefix("--context=")
                || argument.hasPrefix("--namespace=")
            {
                leading.append(argument)
                index += 1
            } else if argument.hasPrefix("-n"), argument.count > 2, !argument.hasPrefix("--") {
                let value = String(argument.dropFirst(2))
                leading += ["-n", value.hasPrefix("=") ? String(value.dropFirst()) : value]
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty, index < arguments.count else { return arguments }
        return [arguments[index]] + leading + arguments[(index + 1)...]
    }
}

/// `--kubeconfig`, `--context`, `-n/--namespace`: like kubectl's global flags.
struct PluginConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Path of a kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster).",
        valueName: "file"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context to use (default: its current-context).", valueName: "name"))
    var context: String?

    @Option(name: [.short, .long], help: ArgumentHelp(
        "Namespace of the ModelRollout (default: the kubeconfig context's namespace).", valueName: "name"))
    var namespace: String?

    /// Connects and runs `body` with a session; the client is shut down afterwards, also on error.
    func withSession<T: Sendable>(_ body: (PluginSession) async throws -> T) async throws -> T {
        let configuration: ClientConfiguration = try .forCommand(kubeconfig: kubeconfig, context: context)
        var tuned = configuration
        tuned.maxRetries = min(tuned.maxRetries, 2)
        tuned.requestTimeout = min(tuned.requestTimeout, 30)
        let kube: KubernetesClient
        do {
            kube = try KubernetesClient(configuration: tuned)
        } catch {
            throw CLIError("cannot create the Kubernetes client: \(error)")
        }
        let ns = namespace.flatMap { $0.isEmpty ? nil : $0 } ?? configuration.namespace
        let session = PluginSession(kube: kube, namespace: ns)
        do {
            let result = try await body(session)
            try? await kube.shutdown()
            return result
        } catch {
            try? await kube.shutdown()
            throw error
        }
    }
}

/// One connection to the cluster and the namespace the command works in.
struct PluginSession: Sendable {
    let kube: KubernetesClient
    let namespace: String

    var rollouts: ResourceClient<DynamicObject> { kube.dynamic(.modelRollouts, namespace: namespace) }

    /// The ModelRollout as raw JSON and decoded.
    func get(_ name: String) async throws -> (raw: JSONValue, rollout: ModelRollout) {
        let object: DynamicObject
        do {
            object = try await rollouts.get(name)
        } catch {
            throw explain(error, verb: "get", name: name)
        }
        switch ModelRollout.decode(object.raw) {
        case .success(let rollout): return (object.raw, rollout)
        case .failure(let error):
            throw CLIError("modelrollout \"\(name)\" in namespace \"\(namespace)\" cannot be read: \(error)")
        }
    }

    /// A merge patch of the object (or of its status subresource).
    func mergePatch(_ name: String, _ patch: JSONValue, status: Bool = false) async throws {
        do {
            if status {
                _ = try await rollouts.patchStatus(name, type: .merge, patch: patch)
            } else {
                _ = try await rollouts.patch(name, type: .merge, patch: patch)
            }
        } catch {
            throw explain(error, verb: "patch", name: name, subresource: status ? "status" : nil)
        }
    }

    /// One clear line for an API failure: NotFound, Forbidden, Unauthorized, Conflict, Invalid, unreachable.
    func explain(_ error: any Error, verb: String, name: String, subresource: String? = nil) -> CLIError {
        let resource = "modelrollouts.modelrollout.io" + (subresource.map { "/\($0)" } ?? "")
        if let api = error as? KubeAPIError {
            if api.isNotFound {
                return CLIError(
                    "modelrollout \"\(name)\" not found in namespace \"\(namespace)\" "
                        + "(list them with `kubectl get modelrollouts -n \(namespace)`)")
            }
            if api.isForbidden {
                return CLIError(
                    "forbidden: your credentials may not \(verb) \(resource) \"\(name)\" in namespace "
                        + "\"\(namespace)\": \(api.status.message)")
            }
            if api.isUnauthorized {
                return CLIError("unauthorized: the API server rejected the credentials of the kubeconfig context")
            }
            if api.isConflict {
                return CLIError("conflict: modelrollout \"\(name)\" changed meanwhile; run the command again")
            }
            if api.isInvalid {
                return CLIError("the API server rejected the change to \"\(name)\": \(api.status.message)")
            }
            return CLIError("cannot \(verb) \(resource) \"\(name)\": \(api.status.message) (HTTP \(api.httpStatus))")
        }
        if error is CLIError, let cli = error as? CLIError { return cli }
        return CLIError("cannot \(verb) \(resource) \"\(name)\": \(error)")
    }
}
