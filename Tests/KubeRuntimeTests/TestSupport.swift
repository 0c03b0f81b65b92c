import Foundation
import KubeCore
@testable import KubeRuntime

/// A test object: key, resourceVersion and a payload.
struct Item: KeyedObject, Hashable {
    var name: String
    var rv: String
    var value: Int = 0
    var objectKey: ObjectKey { ObjectKey(namespace: "ns", name: name) }
    var resourceVersion: String? { rv }
}

/// What the scripted ListerWatcher was asked.
enum Call: Equatable {
    case list(continueToken: String?, limit: Int?)
    case watch(resourceVersion: String, timeout: Int?, bookmarks: Bool)
}

/// A ListerWatcher that replays scripted responses in order and records the calls.
final class ScriptedListerWatcher: ListerWatcher, Sendable {
    enum ListStep { case page(ListPage<Item>), fail(any Error) }
    enum WatchStep { case events([WatchEvent<Item>], endError: (any Error)? = nil), fail(any Error), hang }

    private struct State {
        var lists: [ListStep]
        var watches: [WatchStep]
        var calls: [Call] = []
    }

    private let state: LockedValue<State>

    init(lists: [ListStep], watches: [WatchStep]) {
        state = LockedValue(State(lists: lists, watches: watches))
    }

    var calls: [Call] { state.withLock { $0.calls } }

    func list(resourceVersion: String?, limit: Int?, continueToken: String?) async throws -> ListPage<Item> {
        let step = state.withLock { s -> ListStep? in
            s.calls.append(.list(continueToken: continueToken, limit: limit))
            return s.lists.isEmpty ? nil : s.lists.removeFirst()
        }
        switch step {
        case .page(let page): return page
        case .fail(let error): throw error
        case nil: throw APIStatus.internalError("script exhausted")
        }
    }

    func watch(
        resourceVersion: String, timeoutSeconds: Int?, allowBookmarks: Bool
    ) async throws -> AsyncThrowingStream<WatchEvent<Item>, Error> {
        let step = state.withLock { s -> WatchStep? in
            s.calls.append(.watch(resourceVersion: resourceVersion, timeout: timeoutSeconds, bookmarks: allowBookmarks))
            return s.watches.isEmpty ? nil : s.watches.removeFirst()
        }
        switch step {
        case .events(let events, let endError):
            return AsyncThrowingStream { continuation in
                for event in events { continuation.yield(event) }
                continuation.finish(throwing: endError)
            }
        case .fail(let error): throw error
        case .hang, nil:
            // Never yields: the watcher waits here until the consumer is cancelled.
            return AsyncThrowingStream { _ in }
        }
    }
}

/// Runs `body`, failing (returning nil) if it takes longer than a generous real-time bound. Only a safety net so
/// a broken test fails instead of hanging; passing tests never wait for it.
func withDeadline<T: Sendable>(
    _ seconds: Double = 5, _ body: @escaping @Sendable () async throws -> T
) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// A short description of a watcher element, for comparing sequences.
func describe(_ element: Result<WatcherEvent<Item>, WatcherError>) -> String {
    switch element {
    case .success(.initStarted): return "initStarted"
    case .success(.initApply(let o)): return "initApply(\(o.name))"
    case .success(.initDone): return "initDone"
    case .success(.apply(let o)): return "apply(\(o.name)@\(o.rv))"
    case .success(.delete(let o)): return "delete(\(o.name))"
    case .failure(let e): return "failure(\(e.stage))"
    }
}
