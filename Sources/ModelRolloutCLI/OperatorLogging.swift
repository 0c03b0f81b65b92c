import Foundation
import Logging
import ModelRolloutController

/// Process-wide logging for the operator: text (swift-log's stderr format) or JSON lines on stderr
/// (``JSONLogHandler``: `ts`, `level`, `logger`, `msg`, `caller`, then `k8s.*`, `controller`, `reconcileID`, ...).
enum OperatorLogging {
    private static let once = OnceToken()

    /// Bootstraps swift-log once per process.
    static func bootstrap(format: String, level: Logger.Level) {
        guard once.claim() else { return }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// A flag that can be claimed once, from any thread.
final class OnceToken: @unchecked Sendable {
    // Safe: guarded by `lock`.
    private let lock = NSLock()
    private var claimed = false

    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if claimed { return false }
        claimed = true
        return true
    }
}
