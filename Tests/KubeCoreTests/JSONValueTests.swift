import Foundation
import Testing

@testable import KubeCore

@Suite struct JSONValueTests {
    @Test(arguments: [
        #"{"a":1,"b":[true,false,null],"c":"x\"y","d":2.5}"#,
        #"[]"#, #"{}"#, #""\u00e9\n""#, #"-0.5e3"#,
    ])
    func roundTrips(text: String) throws {
        // Whole floating-point values are written like Go writes float64 (`-500`), so they come back as integers:
        // equal in meaning, which is what validation and no-op detection compare.
        let v = try JSONValue.parse(text)
        #expect(try JSONValue.parse(v.serialized()).semanticallyEquals(v))
        #expect(try JSONValue.parse(v.serialized(pretty: true)).semanticallyEquals(v))
    }

    @Test func keepsIntegersAndDoublesApart() throws {
        let v = try JSONValue.parse(#"{"i":2,"d":2.0,"big":9007199254740993}"#)
        #expect(v["i"] == .int(2))
        #expect(v["d"] == .double(2.0))
        #expect(v["big"] == .int(9_007_199_254_740_993))
        #expect(v["i"]!.semanticallyEquals(v["d"]!))
    }

    @Test(arguments: ["{", "[1,]", #"{"a" 1}"#, "tru", "01", "1.", #""\x""#, "{} x"])
    func rejectsMalformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func sortedKeysGiveStableBytes() throws {
        let a = try JSONValue.parse(#"{"b":1,"a":{"d":1,"c":2}}"#)
        #expect(a.serialized() == #"{"a":{"c":2,"d":1},"b":1}"#)
    }

    @Test func detectsDuplicateKeysWhenAsked() {
        #expect(throws: JSONParseError.self) {
            try JSONValue.parse(Array(#"{"a":1,"a":2}"#.utf8), rejectDuplicateKeys: true)
        }
    }

    @Test func pathSubscriptCreatesIntermediateObjects() {
        var v: JSONValue = [:]
        v[path: ["metadata", "labels", "app"]] = "x"
        #expect(v[path: ["metadata", "labels", "app"]] == "x")
    }

    @Test func microTimeHasExactlySixDigits() {
        let d = Date(timeIntervalSince1970: 1_764_064_006.5)
        #expect(KubeTime.formatMicro(d) == "2025-11-25T09:46:46.500000Z")
        #expect(KubeTime.format(d) == "2025-11-25T09:46:46Z")
        #expect(KubeTime.parse("2025-11-25T09:46:46.500000Z") == d)
        #expect(KubeTime.parse("2025-11-25T10:46:46.5+01:00") == d)
        #expect(KubeTime.parse("2025-11-25") == nil)
    }
}
