import Foundation
import KubeCore
import Logging

/// A swift-log handler writing one JSON object per line (stderr by default), in the shape controller-runtime's
/// zap logger produces: `ts` (RFC 3339, microseconds, UTC), `level`, `logger`, `msg`, `caller` (`file:line`),
/// then the metadata — `controller`, `controllerKind`, `k8s.namespace`, `k8s.name`, `reconcileID`, ... — with
/// nested metadata kept as JSON objects and arrays.
///
/// Metadata precedence: the handler's < the metadata provider's < the call's. A metadata key that would
/// overwrite one of the fixed keys is written as `meta.<key>` instead.
public struct JSONLogHandler: LogHandler {
    /// The fixed keys every record has.
    public static let fixedKeys: Set<String> = ["ts", "level", "logger", "msg", "caller"]

    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let clock: @Sendable () -> Date
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - clock: the time of a record (injectable for tests).
    ///   - write: receives each record as one line, newline included; defaults to stderr.
    public init(
        label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
        clock: @escaping @Sendable () -> Date = { Date() },
        write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.clock = clock
        self.write = write
    }

    /// Writes a line to stderr in one call (lines of concurrent loggers do not interleave).
    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var explicit = event.metadata
        if let error = event.error {
            explicit = (explicit ?? [:]).merging(["error": "\(error)"], uniquingKeysWith: { current, _ in current })
        }
        write(level: event.level, message: event.message, explicit: explicit, file: event.file, line: event.line)
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        write(level: level, message: message, explicit: explicit, file: file, line: line)
    }

    private func write(
        level: Logger.Level, message: Logger.Message, explicit: Logger.Metadata?, file: String, line: UInt
    ) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided, uniquingKeysWith: { $1 }) }
        if let explicit { merged.merge(explicit, uniquingKeysWith: { $1 }) }
        let record = Self.record(
            time: clock(), level: level, logger: label, message: message.description, metadata: merged,
            file: file, line: line)
        write(record.serialized() + "\n")
    }

    /// The JSON object of one record.
    public static func record(
        time: Date, level: Logger.Level, logger: String, message: String, metadata: Logger.Metadata,
        file: String, line: UInt
    ) -> JSONValue {
        var object: [String: JSONValue] = [
            "ts": .string(KubeTime.formatMicro(time)), "level": .string(level.rawValue), "logger": .string(logger),
            "msg": .string(message), "caller": .string("\(Self.shortFile(file)):\(line)"),
        ]
        for (key, value) in metadata {
            object[fixedKeys.contains(key) ? "meta.\(key)" : key] = json(value)
        }
        return .object(object)
    }

    /// A metadata value as JSON: strings and string-convertibles as strings, dictionaries as objects, arrays as
    /// arrays.
    public static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .dictionary(let dictionary): return .object(dictionary.mapValues(json))
        case .array(let array): return .array(array.map(json))
        }
    }

    /// `Module/Dir/File.swift` → `Dir/File.swift` (the last two path components, as zap's short caller).
    static func shortFile(_ file: String) -> String {
        let parts = file.split(separator: "/")
        return parts.suffix(2).joined(separator: "/")
    }
}
