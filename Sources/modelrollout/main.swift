import ModelRolloutCLI

await ModelRolloutCommand.main()
