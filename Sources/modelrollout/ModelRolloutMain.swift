import ModelRolloutCLI

/// The `modelrollout` executable: argument parsing and dispatch live in ModelRolloutCLI. Invoked as
/// `kubectl-modelrollout` (a symlink or copy on PATH, which `kubectl modelrollout …` runs), it is the kubectl plugin.
@main
struct ModelRolloutMain {
    static func main() async {
        let arguments = CommandLine.arguments
        if PluginDispatch.isPluginInvocation(arguments.first ?? "") {
            await KubectlModelRolloutCommand.main(PluginDispatch.normalise(Array(arguments.dropFirst())))
        } else if arguments.dropFirst().first == "plugin" {
            await ModelRolloutCommand.main(["plugin"] + PluginDispatch.normalise(Array(arguments.dropFirst(2))))
        } else {
            await ModelRolloutCommand.main(nil)
        }
    }
}
