import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import KubeCore
import NIOCore

extension APIHandler {
    private enum WatchItem: Sendable {
        case event(StoredEvent)
        case bookmark
        case end
    }

    static func eventLine(_ type: String, _ object: JSONValue) -> ByteBuffer {
        var bytes = JSONValue.object(["type": .string(type), "object": object]).jsonBytes
        bytes.append(0x0A)
        return ByteBuffer(bytes: bytes)
    }

    static func expiredEvent(_ message: String) -> ByteBuffer {
        eventLine("ERROR", APIStatus.gone(message).json)
    }

    /// A watch: newline-delimited JSON events, flushed one by one (§2.3).
    func watch(_ rr: ResourceRequest, drop: Duration?, expire: Bool) async throws -> Response {
        let rvParam = rr.query["resourceVersion"] ?? ""
        let match = rr.query["resourceVersionMatch"] ?? ""
        let sendInitial = rr.query.bool("sendInitialEvents")
        if sendInitial == true, match != "NotOlderThan" {
            throw Self.listOptionsInvalid(
                "resourceVersionMatch",
                "Invalid value: \"\(match)\": sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                type: "FieldValueInvalid")
        }
        if !match.isEmpty, sendInitial == nil {
            throw Self.listOptionsInvalid(
                "resourceVersionMatch", "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
        }
        if !rvParam.isEmpty, Int64(rvParam) == nil {
            throw APIStatus.badRequest("invalid resource version \"\(rvParam)\"")
        }
        let filter = try ObjectFilter(rr)
        let bookmarks = rr.query.bool("allowWatchBookmarks") ?? false
        var requestedTimeout: Duration = .seconds(Int.random(in: 1800...3600))
        if let t = try rr.query.int("timeoutSeconds"), t > 0 { requestedTimeout = .seconds(t) }
        if let drop, drop < requestedTimeout { requestedTimeout = drop }
        let timeout = requestedTimeout
        let wantsTable = MediaNegotiation.wantsTable(rr.accept)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-cache, private"

        if expire {
            let current = await storage.resourceVersion
            let line = Self.expiredEvent("too old resource version: \(rvParam.isEmpty ? "0" : rvParam) (\(current))")
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: line))
        }
        let from: Int64? = (sendInitial == true || rvParam.isEmpty || rvParam == "0") ? nil : Int64(rvParam)
        let start: WatchStart
        do {
            start = try await storage.watch(key: rr.info.key, namespace: rr.namespace, from: from)
        } catch {
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: Self.expiredEvent(error.message)))
        }
        let storage = self.storage
        let info = rr.info
        let interval = configuration.bookmarkInterval
        let handler = self
        let initialEnd = sendInitial == true
        let body = ResponseBody { writer in
            let (merged, continuation) = AsyncStream<WatchItem>.makeStream()
            let forward = Task {
                for await event in start.events { continuation.yield(.event(event)) }
                continuation.yield(.end)
            }
            let ticker = Task {
                guard bookmarks else { return }
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { return }
                    continuation.yield(.bookmark)
                }
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                continuation.yield(.end)
            }
            defer {
                forward.cancel()
                ticker.cancel()
                timer.cancel()
                continuation.finish()
                Task { await storage.stopWatch(start.id) }
            }
            func render(_ object: JSONValue) -> JSONValue {
                let served = Self.served(object, info)
                if wantsTable {
                    let rv = object[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
                    return handler.table([served], rr, resourceVersion: rv)
                }
                return served
            }
            var lastRV = start.resourceVersion
            for object in start.initial ?? [] where filter.matches(object) {
                try await writer.write(Self.eventLine("ADDED", render(object)))
            }
            if initialEnd {
                let bookmark: JSONValue = [
                    "kind": .string(info.descriptor.kind), "apiVersion": .string(info.descriptor.apiVersion),
                    "metadata": [
                        "resourceVersion": .string(String(lastRV)),
                        "annotations": ["k8s.io/initial-events-end": "true"],
                    ],
                ]
                try await writer.write(Self.eventLine("BOOKMARK", bookmark))
            }
            loop: for await item in merged {
                switch item {
                case .end:
                    break loop
                case .bookmark:
                    let bookmark: JSONValue = [
                        "kind": .string(info.descriptor.kind), "apiVersion": .string(info.descriptor.apiVersion),
                        "metadata": ["resourceVersion": .string(String(lastRV))],
                    ]
                    try await writer.write(Self.eventLine("BOOKMARK", bookmark))
                case .event(let event):
                    lastRV = max(lastRV, event.resourceVersion)
                    let type: String
                    if filter.isEmpty {
                        type = event.type.rawValue
                    } else {
                        let now = filter.matches(event.object)
                        let before = event.old.map(filter.matches) ?? false
                        switch (event.type, before, now) {
                        case (.added, _, true): type = "ADDED"
                        case (.deleted, true, _): type = "DELETED"
                        case (.modified, true, true): type = "MODIFIED"
                        case (.modified, false, true): type = "ADDED"
                        case (.modified, true, false): type = "DELETED"
                        default: continue loop
                        }
                    }
                    try await writer.write(Self.eventLine(type, render(event.object)))
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
