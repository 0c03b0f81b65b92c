import KubeClient

/// A failure reported to the user as one line on stderr with a non-zero exit status (never a stack trace).
struct CLIError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension ClientConfiguration {
    /// The cluster configuration of a command's `--kubeconfig`/`--context` flags: the named file, else
    /// `$KUBECONFIG`, `~/.kube/config` or in-cluster (``ClientConfiguration/load(context:environment:)``). A failure
    /// is one ``CLIError`` line.
    static func forCommand(kubeconfig: String?, context: String?) throws -> ClientConfiguration {
        do {
            if let kubeconfig { return try fromKubeconfig(paths: [kubeconfig], context: context) }
            return try load(context: context)
        } catch {
            throw CLIError("cannot load the cluster configuration: \(error)")
        }
    }
}
