import Foundation

/// Encoding and decoding of typed resources to and from JSON bytes and `JSONValue`.
///
/// Typed resources encode their own timestamps as RFC 3339 strings (MicroTime with six fractional digits), so any
/// `JSONEncoder` works; these helpers add sorted keys and the `JSONValue` bridge the client uses.
public enum KubeJSON {
    /// A JSON encoder with sorted keys and no slash escaping.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Encodes a value as compact JSON bytes.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try makeEncoder().encode(value))
    }

    /// Decodes a value from JSON bytes.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// Converts an encodable value to a `JSONValue`.
    public static func toJSONValue<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        return try JSONValue.parse(encode(value))
    }

    /// Decodes a typed value from a `JSONValue`.
    public static func fromJSONValue<T: Decodable>(_ type: T.Type, _ json: JSONValue) throws -> T {
        if let same = json as? T { return same }
        return try decode(type, from: json.jsonBytes)
    }
}

/// A coding key for arbitrary member names.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

// MARK: - Timestamps that do not depend on the encoder's date strategy

extension KeyedDecodingContainer {
    /// Decodes an optional RFC 3339 timestamp; a malformed one is a decoding error.
    func decodeTime(forKey key: Key) throws -> Date? {
        guard let text = try decodeIfPresent(String.self, forKey: key), !text.isEmpty else { return nil }
        guard let date = KubeTime.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "invalid RFC 3339 time \"\(text)\"")
        }
        return date
    }
}

extension KeyedEncodingContainer {
    /// Encodes `metav1.Time` (whole seconds) when present.
    mutating func encodeTime(_ date: Date?, forKey key: Key) throws {
        if let date { try encode(KubeTime.format(date), forKey: key) }
    }

    /// Encodes `metav1.MicroTime` (exactly six fractional digits) when present.
    mutating func encodeMicroTime(_ date: Date?, forKey key: Key) throws {
        if let date { try encode(KubeTime.formatMicro(date), forKey: key) }
    }
}

// MARK: - JSON-backed objects

/// A value convertible to and from a JSON member, for the typed accessors of `JSONBackedObject`s.
public protocol JSONFieldValue {
    init?(json: JSONValue)
    var json: JSONValue { get }
}

extension String: JSONFieldValue {
    public init?(json: JSONValue) {
        guard let s = json.stringValue else { return nil }
        self = s
    }
    public var json: JSONValue { .string(self) }
}

extension Bool: JSONFieldValue {
    public init?(json: JSONValue) {
        guard let b = json.boolValue else { return nil }
        self = b
    }
    public var json: JSONValue { .bool(self) }
}

extension Int: JSONFieldValue {
    public init?(json: JSONValue) {
        guard let i = json.intValue, let v = Int(exactly: i) else { return nil }
        self = v
    }
    public var json: JSONValue { .int(Int64(self)) }
}

extension Int32: JSONFieldValue {
    public init?(json: JSONValue) {
        guard let i = json.intValue, let v = Int32(exactly: i) else { return nil }
        self = v
    }
    public var json: JSONValue { .int(Int64(self)) }
}

extension Int64: JSONFieldValue {
    public init?(json: JSONValue) {
        guard let i = json.intValue else { return nil }
        self = i
    }
    public var json: JSONValue { .int(self) }
}

extension Double: JSONFieldValue {
    public init?(json: JSONValue) {
        guard let d = json.doubleValue else { return nil }
        self = d
    }
    public var json: JSONValue { .double(self) }
}

extension JSONValue: JSONFieldValue {
    public init?(json: JSONValue) { self = json }
    public var json: JSONValue { self }
}

extension Date: JSONFieldValue {
    /// Parses RFC 3339; encodes as `metav1.Time` (whole seconds).
    public init?(json: JSONValue) {
        guard let s = json.stringValue, let d = KubeTime.parse(s) else { return nil }
        self = d
    }
    public var json: JSONValue { .string(KubeTime.format(self)) }
}

extension Array: JSONFieldValue where Element: JSONFieldValue {
    /// Elements that do not convert are skipped.
    public init?(json: JSONValue) {
        guard let a = json.arrayValue else { return nil }
        self = a.compactMap { Element(json: $0) }
    }
    public var json: JSONValue { .array(map(\.json)) }
}

extension Dictionary: JSONFieldValue where Key == String, Value: JSONFieldValue {
    /// Members that do not convert are skipped.
    public init?(json: JSONValue) {
        guard let o = json.objectValue else { return nil }
        self = o.compactMapValues { Value(json: $0) }
    }
    public var json: JSONValue { .object(mapValues(\.json)) }
}

/// A Kubernetes object part stored as its JSON, with typed accessors for the fields we use.
///
/// Keeping the JSON means fields this package does not model survive a read-modify-write (`update()`), which a
/// plain `Codable` struct would silently drop.
public protocol JSONBackedObject: Codable, Sendable, Hashable, JSONFieldValue {
    /// The complete JSON object.
    var raw: JSONValue { get set }
    init(raw: JSONValue)
}

extension JSONBackedObject {
    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        guard value.objectValue != nil || value.isNull else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "expected an object, got \(value.typeName)"))
        }
        self.init(raw: value.isNull ? .object([:]) : value)
    }

    public func encode(to encoder: any Encoder) throws { try raw.encode(to: encoder) }

    public init?(json: JSONValue) {
        guard json.objectValue != nil else { return nil }
        self.init(raw: json)
    }

    public var json: JSONValue { raw }

    /// A typed member; setting `nil` removes it.
    public subscript<T: JSONFieldValue>(field key: String) -> T? {
        get { raw[key].flatMap { T(json: $0) } }
        set {
            if raw.objectValue == nil { raw = .object([:]) }
            raw[key] = newValue?.json
        }
    }
}
