import Foundation
import KubeCore
import Testing
@testable import KubeRuntime

/// An EventSink that records creates and series updates, and can be told to fail.
final class RecordingEventSink: EventSink {
    enum Write: Equatable {
        case create(name: String, reason: String, note: String)
        case series(name: String, count: Int, lastObservedTime: Date)
    }
    private let state = LockedValue<(writes: [Write], failCreates: Bool, missing: Set<String>)>(([], false, []))
    var writes: [Write] { state.withLock { $0.writes } }
    func failCreates(_ fail: Bool) { state.withLock { $0.failCreates = fail } }
    func delete(_ name: String) { state.withLock { _ = $0.missing.insert(name) } }

    func create(_ event: EventRecord) async throws -> String {
        try state.withLock { s in
            if s.failCreates { throw APIStatus.internalError("etcd down") }
            s.writes.append(.create(name: event.name, reason: event.reason, note: event.note))
        }
        return event.name
    }

    func updateSeries(name: String, namespace: String, count: Int, lastObservedTime: Date) async throws {
        try state.withLock { s in
            if s.missing.contains(name) {
                throw APIStatus.notFound(group: "events.k8s.io", resource: "events", name: name)
            }
            s.writes.append(.series(name: name, count: count, lastObservedTime: lastObservedTime))
        }
    }
}

@Suite struct EventRecorderTests {
    let pod = ObjectReference(apiVersion: "v1", kind: "Pod", name: "p1", namespace: "ns", uid: "u1")

    func recorder(_ sink: RecordingEventSink, _ clock: ManualClock) -> EventRecorder {
        EventRecorder(
            sink: sink, reportingController: "modelrollout.io/controller", reportingInstance: "pod-abc", clock: clock)
    }

    @Test func identicalEventsWithinTheWindowBecomeASeries() async throws {
        let clock = ManualClock()
        let sink = RecordingEventSink()
        let events = recorder(sink, clock)
        await events.record(regarding: pod, type: .normal, reason: "Scaled", action: "Scale", note: "to 3")
        clock.advance(by: .seconds(60))
        await events.record(regarding: pod, type: .normal, reason: "Scaled", action: "Scale", note: "to 3")
        clock.advance(by: .seconds(300))
        await events.record(regarding: pod, type: .normal, reason: "Scaled", action: "Scale", note: "to 3")
        // A different note is a different event.
        await events.record(regarding: pod, type: .normal, reason: "Scaled", action: "Scale", note: "to 4")
        let writes = sink.writes
        #expect(writes.count == 4)
        guard case .create(let name, _, _) = writes.first else {
            Issue.record("first write should be a create")
            return
        }
        #expect(writes[1] == .series(name: name, count: 2, lastObservedTime: clock.now().addingTimeInterval(-300)))
        #expect(writes[2] == .series(name: name, count: 3, lastObservedTime: clock.now()))
        if case .create(_, _, let note) = writes[3] { #expect(note == "to 4") } else { Issue.record("expected create") }
    }

    @Test func afterTheWindowANewEventIsCreated() async throws {
        let clock = ManualClock()
        let sink = RecordingEventSink()
        let events = recorder(sink, clock)
        await events.record(regarding: pod, type: .warning, reason: "Failed", action: "Probe", note: "x")
        clock.advance(by: .seconds(361))
        await events.record(regarding: pod, type: .warning, reason: "Failed", action: "Probe", note: "x")
        #expect(sink.writes.allSatisfy { if case .create = $0 { true } else { false } })
        #expect(sink.writes.count == 2)
    }

    @Test func failuresNeverThrowAndDeletedEventsAreRecreated() async throws {
        let clock = ManualClock()
        let sink = RecordingEventSink()
        let events = recorder(sink, clock)
        sink.failCreates(true)
        await events.record(regarding: pod, type: .normal, reason: "R", action: "A", note: "n")
        #expect(sink.writes.isEmpty)
        #expect(await events.cachedCount == 0)
        sink.failCreates(false)
        await events.record(regarding: pod, type: .normal, reason: "R", action: "A", note: "n")
        guard case .create(let name, _, _) = sink.writes.first else {
            Issue.record("expected create")
            return
        }
        sink.delete(name)
        clock.advance(by: .seconds(1))
        await events.record(regarding: pod, type: .normal, reason: "R", action: "A", note: "n")
        #expect(sink.writes.count == 2)
        if case .create = sink.writes.last {} else { Issue.record("expected a new event after the old one vanished") }
    }

    @Test func notesAreTruncatedAndTheBodyIsAnEventsV1Event() async throws {
        let clock = ManualClock()
        let sink = RecordingEventSink()
        let events = recorder(sink, clock)
        await events.record(
            regarding: pod, type: .warning, reason: "R", action: "A", note: String(repeating: "é", count: 600))
        guard case .create(_, _, let note) = sink.writes.first else {
            Issue.record("expected create")
            return
        }
        #expect(note.utf8.count == 1024)
        let record = EventRecord(
            name: "p1.abc", namespace: "ns", regarding: pod, reason: "R", action: "A", note: "n", type: .warning,
            reportingController: "c", reportingInstance: "i", eventTime: Date(timeIntervalSince1970: 0))
        let json = record.json
        #expect(json["apiVersion"] == "events.k8s.io/v1")
        #expect(json["eventTime"] == "1970-01-01T00:00:00.000000Z")
        #expect(json[path: ["regarding", "uid"]] == "u1")
        #expect(json["type"] == "Warning")
        #expect(json["series"] == nil)
    }

    @Test func eventsForClusterScopedObjectsGoToDefault() async {
        let clock = ManualClock()
        let captured = LockedValue<String?>(nil)
        struct Capture: EventSink {
            let captured: LockedValue<String?>
            func create(_ event: EventRecord) async throws -> String {
                captured.withLock { $0 = event.namespace }
                return event.name
            }
            func updateSeries(name: String, namespace: String, count: Int, lastObservedTime: Date) async throws {}
        }
        let events = EventRecorder(
            sink: Capture(captured: captured), reportingController: "c", reportingInstance: "i", clock: clock)
        await events.record(
            regarding: ObjectReference(apiVersion: "v1", kind: "Node", name: "n1"), type: .normal, reason: "R",
            action: "A", note: "")
        #expect(captured.withLock { $0 } == "default")
    }
}
