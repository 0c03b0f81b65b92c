import Foundation

/// A duration written the way Kubernetes APIs and Go's `time.ParseDuration` write them: `90s`, `5m`, `1h30m`,
/// `2.5s`, `500ms`. Encoded as its canonical string.
public struct KubeDuration: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in seconds (never negative, at most ``maximumSeconds``).
    public var seconds: Double

    /// The longest duration Go's `time.ParseDuration` (and so Kubernetes) accepts: 2^63 − 1 ns, about 292 years.
    /// Longer text does not parse; a longer number is clamped.
    public static let maximumSeconds = 9_223_372_036.854_775

    public init(seconds: Double) {
        self.seconds = min(Self.maximumSeconds, max(0, seconds.isFinite ? seconds : 0))
    }

    /// Parses `90s`, `5m`, `1h30m`, `1.5h`, `250ms`, `0`; nil for anything else (negative, missing unit, or longer
    /// than ``maximumSeconds``, as Go says "invalid duration").
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "0" {
            seconds = 0
            return
        }
        var total = 0.0
        var index = trimmed.startIndex
        var parsedAny = false
        let units: [(String, Double)] = [
            ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
        ]
        while index < trimmed.endIndex {
            let numberStart = index
            while index < trimmed.endIndex, trimmed[index].isNumber || trimmed[index] == "." {
                index = trimmed.index(after: index)
            }
            guard numberStart < index, let value = Double(trimmed[numberStart..<index]) else { return nil }
            let rest = trimmed[index...]
            guard let (unit, factor) = units.sorted(by: { $0.0.count > $1.0.count }).first(where: {
                rest.hasPrefix($0.0)
            }) else { return nil }
            total += value * factor
            index = trimmed.index(index, offsetBy: unit.count)
            parsedAny = true
        }
        guard parsedAny, total.isFinite, total <= Self.maximumSeconds else { return nil }
        seconds = total
    }

    /// The canonical short form: `0s`, `500ms`, `90s`, `5m`, `1h30m`, `2.5s`.
    public var description: String {
        if seconds == 0 { return "0s" }
        if seconds < 1 { return "\(Self.trim(seconds * 1000))ms" }
        let whole = seconds.rounded(.down)
        if whole != seconds { return "\(Self.trim(seconds))s" }
        var rest = Int(min(whole, Self.maximumSeconds))
        var text = ""
        if rest >= 3600 {
            text += "\(rest / 3600)h"
            rest %= 3600
        }
        if rest >= 60 {
            text += "\(rest / 60)m"
            rest %= 60
        }
        if rest > 0 || text.isEmpty { text += "\(rest)s" }
        return text
    }

    static func trim(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        var text = String(format: "%.3f", rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    public static func < (lhs: KubeDuration, rhs: KubeDuration) -> Bool { lhs.seconds < rhs.seconds }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self.init(seconds: number)
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = KubeDuration(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "invalid duration \"\(text)\" (use e.g. 90s, 5m, 1h30m)")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
