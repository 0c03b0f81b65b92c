import ArgumentParser

/// The `modelrollout` command: subcommands for the operator, the emulated cluster and the tools around them.
public struct ModelRolloutCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "modelrollout",
        abstract: "Safe, fast model revisions for vLLM on Kubernetes.",
        subcommands: [ControllerCommand.self, SimCommand.self, DemoCommand.self, InspectCommand.self, BenchCommand.self,
            PluginCommand.self, DiagnoseCommand.self]
    )

    public init() {}
}
