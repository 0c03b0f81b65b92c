import Foundation
import KubeCore
import Logging

/// Process-wide logging for the operator: text (swift-log's stderr format) or JSON lines on stderr.
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

/// One JSON object per line on stderr: `ts`, `level`, `logger`, `msg`, then the metadata (`k8s.namespace`,
/// `k8s.modelrollout`, `k8s.pod`, ...) as string members.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        var object: [String: JSONValue] = [
            "ts": .string(KubeTime.formatMicro(Date())), "level": .string(level.rawValue),
            "logger": .string(label), "msg": .string(message.description),
        ]
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = .string("\(value)")
        }
        let line = JSONValue.object(object).serialized() + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
