import Foundation
import KubeCore
import Logging
import ServiceLifecycle
import Testing
@testable import KubeRuntime

/// A gate a test opens to let a blocked reconcile finish.
actor Gate {
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func wait() async {
        if open { return }
        await withCheckedContinuation { waiters.append($0) }
    }
    func release() {
        open = true
        for w in waiters { w.resume() }
        waiters = []
    }
}

/// Records reconcile calls and answers from a script (the last answer repeats).
final class ScriptedReconciler: Reconciler {
    enum Answer { case action(ReconcileAction), fail }
    private let state: LockedValue<(answers: [Answer], calls: [ObjectKey])>
    init(_ answers: [Answer]) { state = LockedValue((answers, [])) }
    var calls: [ObjectKey] { state.withLock { $0.calls } }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileAction {
        let answer = state.withLock { s -> Answer in
            s.calls.append(key)
            return s.answers.count > 1 ? s.answers.removeFirst() : s.answers[0]
        }
        switch answer {
        case .action(let action): return action
        case .fail: throw APIStatus.internalError("reconcile failed")
        }
    }
}

@Suite struct ControllerTests {
    let key = ObjectKey(namespace: "ns", name: "r1")

    func waitForCalls(_ reconciler: ScriptedReconciler, _ count: Int) async throws {
        _ = try await withDeadline { while reconciler.calls.count < count { await Task.yield() } }
        #expect(reconciler.calls.count == count)
    }

    func makeController(_ reconciler: ScriptedReconciler, clock: ManualClock) -> Controller {
        let queue = WorkQueue<ObjectKey>(
            name: "test", clock: clock, rateLimiter: ItemExponentialFailureRateLimiter(base: .seconds(1)))
        return Controller(name: "test", workers: 2, reconciler: reconciler, queue: queue, clock: clock)
    }

    @Test func successForgetsAndWaitsForChange() async throws {
        let clock = ManualClock()
        let reconciler = ScriptedReconciler([.action(.awaitChange)])
        let controller = makeController(reconciler, clock: clock)
        let run = Task { try await controller.run() }
        defer { run.cancel() }
        await controller.enqueue(key)
        try await waitForCalls(reconciler, 1)
        _ = try await withDeadline { while await controller.queue.processingCount > 0 { await Task.yield() } }
        #expect(await controller.queue.numRequeues(key) == 0)
        #expect(await controller.queue.delayedCount == 0)
        #expect(clock.sleeperCount == 0)
    }

    @Test func errorsRequeueWithBackoffAndSuccessForgets() async throws {
        let clock = ManualClock()
        let reconciler = ScriptedReconciler([.fail, .fail, .action(.awaitChange)])
        let controller = makeController(reconciler, clock: clock)
        let run = Task { try await controller.run() }
        defer { run.cancel() }
        await controller.enqueue(key)
        try await waitForCalls(reconciler, 1)
        #expect(await clock.waitForSleepers(1))
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(1))
        clock.advance(by: .seconds(1))
        try await waitForCalls(reconciler, 2)
        #expect(await clock.waitForSleepers(1))
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(2))
        #expect(await controller.queue.numRequeues(key) == 2)
        clock.advance(by: .seconds(2))
        try await waitForCalls(reconciler, 3)
        _ = try await withDeadline { while await controller.queue.numRequeues(self.key) > 0 { await Task.yield() } }
        #expect(await controller.queue.numRequeues(key) == 0)
    }

    @Test func requeueAfterSchedulesTheKeyAgain() async throws {
        let clock = ManualClock()
        let reconciler = ScriptedReconciler([.action(.requeue(after: .seconds(30))), .action(.awaitChange)])
        let controller = makeController(reconciler, clock: clock)
        let run = Task { try await controller.run() }
        defer { run.cancel() }
        await controller.enqueue(key)
        try await waitForCalls(reconciler, 1)
        #expect(await clock.waitForSleepers(1))
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(30))
        #expect(await controller.queue.numRequeues(key) == 0)
        clock.advance(by: .seconds(30))
        try await waitForCalls(reconciler, 2)
    }

    @Test func gracefulShutdownFinishesInFlightAndTakesNoNewWork() async throws {
        let gate = Gate()
        let started = LockedValue<[String]>([])
        let controller = Controller(name: "drain", workers: 1, clock: ManualClock()) { key in
            started.withLock { $0.append(key.name) }
            await gate.wait()
            return .awaitChange
        }
        let group = ServiceGroup(services: [controller], logger: Logger(label: "test"))
        let run = Task { try await group.run() }
        await controller.enqueue(ObjectKey(namespace: "ns", name: "first"))
        await controller.enqueue(ObjectKey(namespace: "ns", name: "second"))
        _ = try await withDeadline { while started.withLock({ $0.count }) < 1 { await Task.yield() } }
        await group.triggerGracefulShutdown()
        for _ in 0..<20 { await Task.yield() }
        await gate.release()
        let finished: Void? = try await withDeadline { try await run.value }
        #expect(finished != nil)
        #expect(started.withLock { $0 } == ["first"])
        #expect(await controller.queue.processingCount == 0)
    }

    @Test func ownerMappingFindsOwnersOfKind() throws {
        let pod = try JSONValue.parse(
            #"""
            {"metadata":{"name":"p","namespace":"ns","ownerReferences":[
              {"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs1","controller":true},
              {"apiVersion":"modelrollout.io/v1alpha1","kind":"ModelRollout","name":"mr1"}]}}
            """#)
        #expect(ObjectMappers.ownerKeys(of: pod, kind: "ModelRollout") == [ObjectKey(namespace: "ns", name: "mr1")])
        #expect(ObjectMappers.ownerKeys(of: pod, kind: "ReplicaSet", apiGroup: "apps") == [
            ObjectKey(namespace: "ns", name: "rs1")
        ])
        #expect(ObjectMappers.ownerKeys(of: pod, kind: "ReplicaSet", apiGroup: "") == [])
        #expect(ObjectMappers.controllerKey(of: pod, kind: "ReplicaSet") == ObjectKey(namespace: "ns", name: "rs1"))
        #expect(ObjectMappers.controllerKey(of: pod, kind: "ModelRollout") == nil)
    }

    @Test func enqueueFromWatcherEventsUsesTheMapping() async throws {
        let controller = Controller(name: "map", clock: ManualClock()) { _ in .awaitChange }
        await controller.enqueue(for: WatcherEvent<Item>.initStarted) { [$0.objectKey] }
        await controller.enqueueSelf(for: WatcherEvent<Item>.apply(Item(name: "a", rv: "1")))
        await controller.enqueueSelf(for: WatcherEvent<Item>.initApply(Item(name: "a", rv: "1")))
        #expect(await controller.queue.len == 1)
    }
}
