/// A failure reported to the user as one line on stderr with a non-zero exit status (never a stack trace).
struct CLIError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
