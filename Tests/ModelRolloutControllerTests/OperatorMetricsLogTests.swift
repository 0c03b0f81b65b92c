import Foundation
import KubeCore
import Logging
import Testing

@testable import ModelRolloutController

/// Lines a ``JSONLogHandler`` wrote.
///
/// `@unchecked Sendable` is safe: `lines` is only read and written under `lock`.
final class JSONLineSink: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func write(_ line: String) { lock.withLock { stored.append(line) } }
}

@Suite("Operator JSON logs")
struct OperatorMetricsLogTests {
    static let time = Date(timeIntervalSince1970: 1_764_063_906.5)

    static func logger(_ sink: JSONLineSink, provider: Logger.MetadataProvider? = nil) -> Logger {
        Logger(label: "modelrollout.controller") { label in
            var handler = JSONLogHandler(
                label: label, metadataProvider: provider, clock: { OperatorMetricsLogTests.time },
                write: { sink.write($0) })
            handler.logLevel = .info
            return handler
        }
    }

    @Test func aReconcileRecordHasControllerRuntimeKeys() throws {
        let sink = JSONLineSink()
        var log = Self.logger(sink)
        log[metadataKey: "controller"] = "modelrollout"
        log[metadataKey: "controllerKind"] = "ModelRollout"
        log[metadataKey: "k8s.namespace"] = "llm"
        log[metadataKey: "k8s.name"] = "chat"
        log[metadataKey: "reconcileID"] = "0c7e4d6a"
        log.info("decision", metadata: ["decision.kind": "Weight", "replicas": .stringConvertible(3)])
        log.debug("not written at info")
        #expect(sink.lines.count == 1)
        let line = try #require(sink.lines.first)
        #expect(line.hasSuffix("\n"))
        #expect(!line.dropLast().contains("\n"))
        let record = try JSONValue.parse(String(line.dropLast()))
        let expected: [String: String] = [
            "ts": "2025-11-25T09:45:06.500000Z", "level": "info", "logger": "modelrollout.controller",
            "msg": "decision", "controller": "modelrollout", "controllerKind": "ModelRollout",
            "k8s.namespace": "llm", "k8s.name": "chat", "reconcileID": "0c7e4d6a", "decision.kind": "Weight",
            "replicas": "3",
        ]
        for (key, value) in expected {
            #expect(record[key]?.stringValue == value, "\(key)")
        }
        let caller = try #require(record["caller"]?.stringValue)
        #expect(caller.hasPrefix("ModelRolloutControllerTests/OperatorMetricsLogTests.swift:"))
    }

    @Test(arguments: [
        (Logger.Metadata.Value.string("x"), JSONValue.string("x")),
        (.stringConvertible(2.5), .string("2.5")),
        (.array(["a", .stringConvertible(1)]), .array([.string("a"), .string("1")])),
        (.dictionary(["pod": "p-1", "ns": "llm"]), .object(["pod": .string("p-1"), "ns": .string("llm")])),
        (.dictionary(["outer": .array([.dictionary(["k": "v"])])]),
         .object(["outer": .array([.object(["k": .string("v")])])])),
    ])
    func metadataValuesBecomeJSON(value: Logger.Metadata.Value, expected: JSONValue) {
        #expect(JSONLogHandler.json(value) == expected)
    }

    @Test func fixedKeysCannotBeOverwrittenAndTheCallWins() throws {
        let record = JSONLogHandler.record(
            time: Self.time, level: .warning, logger: "l", message: "real", metadata: ["msg": "fake", "ts": "0"],
            file: "/a/b/Sources/X/File.swift", line: 12)
        #expect(record["msg"]?.stringValue == "real")
        #expect(record["meta.msg"]?.stringValue == "fake")
        #expect(record["meta.ts"]?.stringValue == "0")
        #expect(record["level"]?.stringValue == "warning")
        #expect(record["caller"]?.stringValue == "X/File.swift:12")

        let sink = JSONLineSink()
        let provider = Logger.MetadataProvider { ["k8s.namespace": "from-provider", "trace": "t1"] }
        var log = Self.logger(sink, provider: provider)
        log[metadataKey: "k8s.namespace"] = "from-handler"
        log[metadataKey: "k8s.name"] = "from-handler"
        log.error("e", metadata: ["k8s.name": "from-call"])
        let parsed = try JSONValue.parse(String(try #require(sink.lines.first).dropLast()))
        #expect(parsed["k8s.namespace"]?.stringValue == "from-provider")
        #expect(parsed["k8s.name"]?.stringValue == "from-call")
        #expect(parsed["trace"]?.stringValue == "t1")
        #expect(parsed["level"]?.stringValue == "error")
    }
}
