import KubeCore

/// Builds `APIStatus.Cause`s the way apimachinery's `field.Error` renders them
/// (`<Type>: <value>: <detail>`), so 422 bodies read like a real API server's.
enum FieldErrors {
    static func required(_ path: String, _ detail: String = "") -> APIStatus.Cause {
        cause("FieldValueRequired", "Required value", nil, detail, path)
    }

    static func invalid(_ path: String, _ value: JSONValue, _ detail: String) -> APIStatus.Cause {
        cause("FieldValueInvalid", "Invalid value", value, detail, path)
    }

    /// A value of the wrong JSON type (`field.TypeInvalid`); it still prints as "Invalid value".
    static func typeInvalid(_ path: String, _ value: JSONValue, _ detail: String) -> APIStatus.Cause {
        cause("FieldValueTypeInvalid", "Invalid value", value, detail, path)
    }

    static func notSupported(_ path: String, _ value: JSONValue, _ supported: [String]) -> APIStatus.Cause {
        let detail = supported.isEmpty ? "" : "supported values: " + supported.map(goQuote).joined(separator: ", ")
        return cause("FieldValueNotSupported", "Unsupported value", value, detail, path)
    }

    static func forbidden(_ path: String, _ detail: String) -> APIStatus.Cause {
        cause("FieldValueForbidden", "Forbidden", nil, detail, path)
    }

    static func tooLong(_ path: String, max: Int) -> APIStatus.Cause {
        cause("FieldValueTooLong", "Too long", nil, "may not be more than \(max) \(max == 1 ? "byte" : "bytes")", path)
    }

    static func tooMany(_ path: String, actual: Int, max: Int) -> APIStatus.Cause {
        cause(
            "FieldValueTooMany", "Too many", .int(Int64(actual)),
            "must have at most \(max) \(max == 1 ? "item" : "items")", path)
    }

    /// `field.Duplicate`; `rendered` is the Go rendering of the duplicated value or key.
    static func duplicate(_ path: String, rendered: String) -> APIStatus.Cause {
        APIStatus.Cause(type: "FieldValueDuplicate", message: "Duplicate value: \(rendered)", field: path)
    }

    private static func cause(
        _ type: String, _ title: String, _ value: JSONValue?, _ detail: String, _ path: String
    ) -> APIStatus.Cause {
        var message = title
        if let value { message += ": " + goValue(value) }
        if !detail.isEmpty { message += ": " + detail }
        return APIStatus.Cause(type: type, message: message, field: path)
    }

    // MARK: - Go value rendering

    /// How `field.Error` prints a bad value: `%q` for strings, `%v` for numbers and booleans, `%#v` otherwise.
    static func goValue(_ value: JSONValue) -> String {
        switch value {
        case .null: return "\"null\""
        case .string(let s): return goQuote(s)
        case .int(let i): return String(i)
        case .double(let d): return goFloat(d)
        case .bool(let b): return b ? "true" : "false"
        case .array, .object: return goSyntax(value)
        }
    }

    /// Go's `%#v` of a decoded JSON value (`map[string]interface {}{"a":1}`).
    static func goSyntax(_ value: JSONValue) -> String {
        switch value {
        case .null: return "interface {}(nil)"
        case .string(let s): return goQuote(s)
        case .int(let i): return String(i)
        case .double(let d): return goFloat(d)
        case .bool(let b): return b ? "true" : "false"
        case .array(let a): return "[]interface {}{" + a.map(goSyntax).joined(separator: ", ") + "}"
        case .object(let o):
            let body = o.keys.sorted().map { "\(goQuote($0)):\(goSyntax(o[$0] ?? .null))" }
            return "map[string]interface {}{" + body.joined(separator: ", ") + "}"
        }
    }

    /// `strconv.Quote`.
    static func goQuote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): `1`, `0.5`, `1e+06`, `1e-05`.
    static func goFloat(_ d: Double) -> String {
        guard d.isFinite else { return d.isNaN ? "NaN" : (d < 0 ? "-Inf" : "+Inf") }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        // Shortest round-trip digits and the decimal exponent, taken from Swift's own shortest rendering.
        let text = "\(abs(d))"
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = String(parts[0])
        var exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(pieces[0])
        let fracPart = pieces.count > 1 ? String(pieces[1]) : ""
        var digits = intPart + fracPart
        exponent += intPart.count - 1
        // Normalise: strip leading zeros (adjusting the exponent) and trailing zeros.
        while digits.hasPrefix("0"), digits.count > 1 {
            digits.removeFirst()
            exponent -= 1
        }
        while digits.hasSuffix("0"), digits.count > 1 { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        if exponent < -4 || exponent >= 6 { return sign + scientific(digits, exponent) }
        if exponent < 0 {
            return sign + "0." + String(repeating: "0", count: -exponent - 1) + digits
        }
        if digits.count <= exponent + 1 {
            return sign + digits + String(repeating: "0", count: exponent + 1 - digits.count)
        }
        let split = digits.index(digits.startIndex, offsetBy: exponent + 1)
        return sign + digits[..<split] + "." + digits[split...]
    }

    private static func scientific(_ digits: String, _ exponent: Int) -> String {
        var m = String(digits.prefix(1))
        if digits.count > 1 { m += "." + digits.dropFirst() }
        let e = abs(exponent)
        return m + "e" + (exponent < 0 ? "-" : "+") + (e < 10 ? "0\(e)" : "\(e)")
    }
}
