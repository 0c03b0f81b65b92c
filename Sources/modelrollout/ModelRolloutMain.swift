import ModelRolloutCLI

/// The `modelrollout` executable: argument parsing and dispatch live in ModelRolloutCLI.
@main
struct ModelRolloutMain {
    static func main() async {
        await ModelRolloutCommand.main(nil)
    }
}
