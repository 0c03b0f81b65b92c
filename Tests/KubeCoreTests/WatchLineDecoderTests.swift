import Testing

@testable import KubeCore

@Suite("WatchLineDecoderTests")
struct WatchLineDecoderTests {
    static let stream = """
        {"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"caf\u{e9}-\u{1F680}","resourceVersion":"5"}}}
        {"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"b","resourceVersion":"6"}}}

        {"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"7","annotations":{"k8s.io/initial-events-end":"true"}}}}
        {"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"b","resourceVersion":"8"}}}
        {"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (100)","reason":"Expired","code":410}}

        """

    static func summary(_ results: [Result<WatchEvent<JSONValue>, WatchDecodingError>]) -> [String] {
        results.map { r in
            switch r {
            case .success(.added(let o)), .success(.modified(let o)), .success(.deleted(let o)):
                return "\(try! r.get().typeName) \(o[path: ["metadata", "name"]]?.stringValue ?? "?")"
            case .success(.bookmark(let rv, let end)): return "BOOKMARK \(rv) \(end)"
            case .success(.error(let s)): return "ERROR \(s.code) \(s.reason)"
            case .failure(let e): return "FAIL \(e.kind.rawValue) line \(e.line)"
            }
        }
    }

    static let expected = [
        "ADDED caf\u{e9}-\u{1F680}", "MODIFIED b", "BOOKMARK 7 true", "DELETED b", "ERROR 410 Expired",
    ]

    @Test("any chunk size, including splits inside UTF-8 sequences", arguments: [1, 2, 3, 5, 7, 64, 100_000])
    func chunked(size: Int) {
        let bytes = Array(Self.stream.utf8)
        var decoder = WatchLineDecoder()
        var results: [Result<WatchEvent<JSONValue>, WatchDecodingError>] = []
        var i = 0
        while i < bytes.count {
            results += decoder.feed(bytes[i..<min(i + size, bytes.count)])
            i += size
        }
        results += decoder.finish()
        #expect(Self.summary(results) == Self.expected)
    }

    @Test func finalLineWithoutNewlineIsDecodedAtEnd() {
        var decoder = WatchLineDecoder()
        let line = #"{"type":"ADDED","object":{"metadata":{"name":"x"}}}"#
        #expect(decoder.feed(Array(line.utf8)).isEmpty)
        #expect(decoder.bufferedByteCount == line.utf8.count)
        #expect(Self.summary(decoder.finish()) == ["ADDED x"])
        #expect(decoder.finish().isEmpty)
    }

    @Test func malformedLinesAreErrorsNotTheEnd() {
        var decoder = WatchLineDecoder()
        let input = """
            {"type":"ADDED","object":{"metadata":{"name":"a"}}}
            {not json
            {"type":"WHAT","object":{}}
            {"object":{}}
            {"type":"ADDED"}
            {"type":"ADDED","object":{"metadata":{"name":"b"}}}

            """
        #expect(
            Self.summary(decoder.feed(Array(input.utf8)))
                == [
                    "ADDED a", "FAIL malformedJSON line 2", "FAIL unknownEventType line 3", "FAIL missingField line 4",
                    "FAIL missingField line 5", "ADDED b",
                ])
    }

    @Test func overlongLineIsReportedAndSkipped() {
        var decoder = WatchLineDecoder(maxLineBytes: 64)
        let long = #"{"type":"ADDED","object":{"metadata":{"name":""# + String(repeating: "x", count: 200) + "\"}}}\n"
        let ok = #"{"type":"ADDED","object":{"metadata":{"name":"ok"}}}"# + "\n"
        var results = decoder.feed(Array(long.utf8).prefix(100))
        #expect(decoder.bufferedByteCount <= 64)
        results += decoder.feed(Array(long.utf8).dropFirst(100))
        results += decoder.feed(Array(ok.utf8))
        #expect(Self.summary(results) == ["FAIL lineTooLong line 1", "ADDED ok"])
        if case .failure(let e) = results[0] {
            #expect(e.description.contains("maximum line size of 64 bytes"))
        }
    }

    @Test func bookmarkWithoutInitialEventsEnd() {
        var decoder = WatchLineDecoder()
        let r = decoder.feed(Array(#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}"#.utf8) + [10])
        #expect(Self.summary(r) == ["BOOKMARK 9 false"])
    }
}
