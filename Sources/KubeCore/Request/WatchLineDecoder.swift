/// Why one line of a watch stream could not be decoded.
public struct WatchDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: String, Sendable, Hashable {
        case malformedJSON
        case missingField
        case unknownEventType
        case lineTooLong
    }

    public var kind: Kind
    public var message: String
    /// The 1-based line number in the stream.
    public var line: Int

    public init(kind: Kind, message: String, line: Int) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    public var description: String { "watch stream line \(line): \(message)" }
}

/// Splits a watch response body (newline-delimited `{"type","object"}` JSON) into events.
///
/// Chunks may split anywhere, including inside multi-byte UTF-8 sequences, since lines are cut on bytes.
/// Malformed lines become `.failure` results and decoding continues with the next line. Lines longer than
/// `maxLineBytes` are reported once and skipped up to their newline, so memory stays bounded.
public struct WatchLineDecoder: Sendable {
    public static let defaultMaxLineBytes = 16 * 1024 * 1024

    public let maxLineBytes: Int
    private var buffer: [UInt8] = []
    /// Set while discarding the rest of an over-long line.
    private var skipping = false
    private var lineNumber = 0

    public init(maxLineBytes: Int = WatchLineDecoder.defaultMaxLineBytes) {
        self.maxLineBytes = max(1, maxLineBytes)
    }

    /// Bytes held for an incomplete line.
    public var bufferedByteCount: Int { buffer.count }

    /// Feeds the next chunk; returns the events of every line completed by it.
    public mutating func feed<Bytes: Sequence>(_ chunk: Bytes) -> [Result<WatchEvent<JSONValue>, WatchDecodingError>]
    where Bytes.Element == UInt8 {
        var results: [Result<WatchEvent<JSONValue>, WatchDecodingError>] = []
        for byte in chunk {
            if byte == 0x0A {
                if skipping {
                    skipping = false
                } else {
                    lineNumber += 1
                    if let r = decodeLine(buffer) { results.append(r) }
                }
                buffer.removeAll(keepingCapacity: true)
                continue
            }
            if skipping { continue }
            buffer.append(byte)
            if buffer.count > maxLineBytes {
                lineNumber += 1
                results.append(
                    .failure(
                        WatchDecodingError(
                            kind: .lineTooLong,
                            message: "event exceeds the maximum line size of \(maxLineBytes) bytes",
                            line: lineNumber)))
                buffer = []
                skipping = true
            }
        }
        return results
    }

    /// Ends the stream: a final line without a trailing newline is decoded too.
    public mutating func finish() -> [Result<WatchEvent<JSONValue>, WatchDecodingError>] {
        defer {
            buffer = []
            skipping = false
        }
        guard !skipping, !buffer.isEmpty else { return [] }
        lineNumber += 1
        return decodeLine(buffer).map { [$0] } ?? []
    }

    private func decodeLine(_ line: [UInt8]) -> Result<WatchEvent<JSONValue>, WatchDecodingError>? {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        let json: JSONValue
        do {
            json = try JSONValue.parse(line)
        } catch {
            return .failure(WatchDecodingError(kind: .malformedJSON, message: "\(error)", line: lineNumber))
        }
        return Self.decodeEvent(json).mapError {
            WatchDecodingError(kind: $0.kind, message: $0.message, line: lineNumber)
        }
    }

    /// Decodes one parsed `{"type","object"}` event.
    public static func decodeEvent(_ json: JSONValue) -> Result<WatchEvent<JSONValue>, WatchDecodingError> {
        guard let type = json["type"]?.stringValue else {
            return .failure(WatchDecodingError(kind: .missingField, message: "event has no \"type\"", line: 0))
        }
        guard let object = json["object"], object.objectValue != nil else {
            return .failure(
                WatchDecodingError(kind: .missingField, message: "\(type) event has no \"object\"", line: 0))
        }
        switch type {
        case "ADDED": return .success(.added(object))
        case "MODIFIED": return .success(.modified(object))
        case "DELETED": return .success(.deleted(object))
        case "BOOKMARK":
            let rv = object[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
            let end = object[path: ["metadata", "annotations", "k8s.io/initial-events-end"]]?.stringValue == "true"
            return .success(.bookmark(resourceVersion: rv, initialEventsEnd: end))
        case "ERROR":
            let status =
                APIStatus(json: object)
                ?? APIStatus(code: 500, reason: "InternalError", message: "watch error: \(object.serialized())")
            return .success(.error(status))
        default:
            return .failure(
                WatchDecodingError(kind: .unknownEventType, message: "unknown watch event type \"\(type)\"", line: 0))
        }
    }
}
